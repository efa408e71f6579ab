// SPDX-License-Identifier: GPL-2.0
/*
 * hotpagectl heatmap (user/cmd/heatmap.c) draws a real hot-set map: the test
 * pins a map of hotpaged's type (hp_hot_map_open) and republishes a
 * moving set of pages while the heat map samples it, then checks the PNG
 * byte by byte: signature, IHDR width and height, every chunk's CRC, IDAT
 * and IEND. And the errors: no map, a map of another type, no gnuplot, a
 * bad size; each with its message, exit status and no file left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "hot_pages_map.h"
#include "hp_listing.h"
#include "hp_test.h"

#define WIDTH 640
#define HEIGHT 480
#define NR_PAGES 512
#define BASE_PFN 0x40000ULL

static char pin_dir[128], pin[160], other_pin[160], png[128], log_path[128];
static struct hp_hot_map *map;

static void cleanup(void)
{
	hp_hot_map_close(map);
	map = NULL;
	unlink(other_pin);
	rmdir(pin_dir);
	unlink(png);
	unlink(log_path);
}

/* Pages BASE_PFN.. with a hot band that moves up by 32 pages each step. */
static void publish(unsigned int step)
{
	static struct hp_hot_page pages[NR_PAGES];

	for (unsigned int i = 0; i < NR_PAGES; i++) {
		unsigned int band = (step * 32) % NR_PAGES;

		pages[i] = (struct hp_hot_page){
			.pfn = BASE_PFN + i * 4,
			.tgid = 1,
			.heat = (i >= band && i < band + 64) ? 8 : 1 + i % 3,
			.page_node = 0,
			.access_node = 0,
		};
	}
	hp_check(hp_hot_map_publish(map, pages, NR_PAGES) == 0, "publishing the hot set: %s",
		 strerror(errno));
}

/* Run `hotpagectl heatmap` with @args (NULL-terminated, after the name); stdout+stderr to log_path. */
static pid_t spawn_heatmap(const char *const *args, const char *path_env)
{
	char bin[600];
	const char *argv[16];
	int n = 0;
	pid_t pid;

	listing_bin_path("hotpagectl", bin, sizeof(bin));
	argv[n++] = bin;
	argv[n++] = "heatmap";
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	pid = fork();
	hp_check(pid >= 0, "fork: %s", strerror(errno));
	if (!pid) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0)
			_exit(126);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (path_env)
			setenv("PATH", path_env, 1);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static int wait_exit(pid_t pid)
{
	int status;

	hp_check(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	hp_check(WIFEXITED(status), "hotpagectl heatmap died (status %#x)", (unsigned int)status);
	return WEXITSTATUS(status);
}

static void read_log(char *buf, size_t len)
{
	FILE *f = fopen(log_path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* An error case: exit status @want, @message in the output, no PNG left. */
static void expect_error(const char *const *args, const char *path_env, int want,
			 const char *message)
{
	char out[4096];
	int rc = wait_exit(spawn_heatmap(args, path_env));

	read_log(out, sizeof(out));
	printf("| %s", out);
	hp_check(rc == want, "%s %s: exit %d, want %d", args[0], args[1] ? args[1] : "", rc, want);
	hp_check(strstr(out, message), "no '%s' in: %s", message, out);
	hp_check(access(png, F_OK) != 0, "%s left behind after an error", png);
}

static __u32 crc_table[256];

static __u32 crc32_png(const unsigned char *p, size_t n)
{
	__u32 c = 0xffffffffu;

	if (!crc_table[1]) {
		for (__u32 i = 0; i < 256; i++) {
			__u32 v = i;

			for (int k = 0; k < 8; k++)
				v = (v & 1) ? 0xedb88320u ^ (v >> 1) : v >> 1;
			crc_table[i] = v;
		}
	}
	for (size_t i = 0; i < n; i++)
		c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static __u32 be32(const unsigned char *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/* The PNG is well-formed and @width x @height; returns its number of chunks. */
static int check_png(const char *path, __u32 width, __u32 height)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char *buf;
	struct stat st;
	size_t pos = 8, len;
	int chunks = 0, idat = 0;
	bool iend = false;
	FILE *f = fopen(path, "rb");

	hp_check(f, "%s: %s", path, strerror(errno));
	hp_check(fstat(fileno(f), &st) == 0 && st.st_size > 8, "%s: empty", path);
	len = (size_t)st.st_size;
	buf = malloc(len);
	hp_check(buf && fread(buf, 1, len, f) == len, "reading %s", path);
	fclose(f);
	hp_check(!memcmp(buf, sig, 8), "%s: no PNG signature", path);
	while (pos < len) {
		__u32 n, crc;
		char type[5];

		hp_check(len - pos >= 12, "%s: chunk header cut at byte %zu", path, pos);
		n = be32(buf + pos);
		hp_check(n <= len - pos - 12, "%s: chunk length %u runs past the end", path, n);
		memcpy(type, buf + pos + 4, 4);
		type[4] = '\0';
		crc = be32(buf + pos + 8 + n);
		hp_check(crc == crc32_png(buf + pos + 4, n + 4), "%s: chunk %d (%s): bad CRC", path,
			 chunks, type);
		if (chunks == 0) {
			hp_check(!strcmp(type, "IHDR") && n == 13, "%s: first chunk %s (%u bytes)",
				 path, type, n);
			hp_check(be32(buf + pos + 8) == width && be32(buf + pos + 12) == height,
				 "%s: %u x %u, want %u x %u", path, be32(buf + pos + 8),
				 be32(buf + pos + 12), width, height);
		}
		hp_check(!iend, "%s: chunk %s after IEND", path, type);
		idat += !strcmp(type, "IDAT");
		iend = !strcmp(type, "IEND");
		chunks++;
		pos += 12 + n;
	}
	hp_check(iend, "%s: no IEND", path);
	hp_check(idat > 0, "%s: no IDAT", path);
	free(buf);
	return chunks;
}

int main(void)
{
	char err[256], out[4096], width[16], height[16];
	const char *const good[] = { "--png",	 png,	 "--seconds", "3", "--width", width,
				     "--height", height, "--pin",     pin, NULL };
	struct timespec t0, t1;
	unsigned int step = 0;
	int status = 0, chunks, fd;
	pid_t pid;

	hp_require_root();
	if (system("command -v gnuplot >/dev/null") != 0)
		hp_skip("gnuplot is not installed (make deps installs gnuplot-nox)");
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/hp-heatmap-test-%d", getpid());
	snprintf(pin, sizeof(pin), "%s/hot_pages", pin_dir);
	snprintf(other_pin, sizeof(other_pin), "%s/not_hot_pages", pin_dir);
	snprintf(png, sizeof(png), "/tmp/hp-heatmap-test-%d.png", getpid());
	snprintf(log_path, sizeof(log_path), "/tmp/hp-heatmap-test-%d.log", getpid());
	snprintf(width, sizeof(width), "%d", WIDTH);
	snprintf(height, sizeof(height), "%d", HEIGHT);
	atexit(cleanup);

	{
		const char *const args[] = { "--png", png, "--seconds", "1", "--pin", pin, NULL };

		expect_error(args, NULL, 1, "heatmap: no hot-page map at");
	}
	hp_check(hp_hot_map_open(pin, NR_PAGES, &map, err, sizeof(err)) == 0, "%s", err);
	publish(step++);

	/* Sample while the hot band moves, as a daemon's refreshes would. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = spawn_heatmap(good, NULL);
	for (;;) {
		pid_t done = waitpid(pid, &status, WNOHANG);

		hp_check(done >= 0, "waitpid: %s", strerror(errno));
		if (done == pid)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 60) {
			kill(pid, SIGKILL);
			hp_fail("hotpagectl heatmap --seconds 3 still running after 60 s");
		}
		publish(step++);
		usleep(200 * 1000);
	}
	read_log(out, sizeof(out));
	printf("| %s", out);
	hp_check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "hotpagectl heatmap failed (status %#x)", (unsigned int)status);
	hp_check(strstr(out, "3 samples"), "no '3 samples' in: %s", out);
	chunks = check_png(png, WIDTH, HEIGHT);
	printf("heatmap: %s is a valid %d x %d PNG, %d chunks, CRCs good, %u refreshes\n", png,
	       WIDTH, HEIGHT, chunks, step);
	unlink(png);

	/* Default size. */
	{
		const char *const args[] = { "--png", png, "--seconds", "1", "--pin", pin, NULL };

		hp_check(wait_exit(spawn_heatmap(args, NULL)) == 0, "default size run failed");
		check_png(png, 800, 600);
		unlink(png);
	}
	/* Errors, found before any sampling. */
	{
		const char *const args[] = { "--png", png, "--seconds", "1", "--pin", pin, NULL };

		expect_error(args, "/nonexistent", 1, "gnuplot not found in PATH");
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "hp_not_hot", 4, 8, 1, NULL);
	hp_check(fd >= 0, "bpf_map_create: %s", strerror(errno));
	hp_check(bpf_obj_pin(fd, other_pin) == 0, "pin %s: %s", other_pin, strerror(errno));
	close(fd);
	{
		const char *const args[] = { "--png", png, "--pin", other_pin, NULL };

		expect_error(args, NULL, 1, "is not hotpaged's hot-page map");
	}
	{
		const char *const args[] = { "--png", png, "--width", "5", "--pin", pin, NULL };

		expect_error(args, NULL, 2, "--width 5: pixels");
	}
	{
		const char *const args[] = { "--seconds", "2", NULL };

		expect_error(args, NULL, 2, "Usage: heatmap --png FILE");
	}
	{
		const char *const args[] = { "--png", "/nonexistent-dir/x.png", "--pin", pin,
					     NULL };

		expect_error(args, NULL, 1, "/nonexistent-dir/x.png: No such file or directory");
	}
	printf("ok: heatmap PNG and its errors\n");
	return 0;
}
