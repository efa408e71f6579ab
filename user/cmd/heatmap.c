// SPDX-License-Identifier: GPL-2.0
/*
 * heatmap (heatmap.h): sample the pinned hot set once a second, bin the
 * pages' decayed access counts by PFN range, and have gnuplot draw the
 * grid. gnuplot gets the script and the data on its stdin and writes the
 * PNG to its stdout, which is the output file: no temporary files and no
 * file name inside the script to quote.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "clock.h"
#include "cli.h"
#include "heatmap.h"
#include "hotpage/hot_pages.h"

extern char **environ;

#define GNUPLOT "gnuplot"
#define SAMPLE_MS 1000
#define ROWS_MAX 128
#define SIZE_MIN 200
#define SIZE_MAX_PX 8192
#define SECONDS_MAX 3600

static const char usage[] =
	"Usage: heatmap --png FILE [--seconds S] [--width W] [--height H] [--pin PATH]\n"
	"\n"
	"Samples the hot set hotpaged publishes (" HP_HOT_PAGES_PIN ") once a\n"
	"second for S seconds (10) and draws access heat over PFN ranges and time\n"
	"into a W x H PNG (800 x 600), with gnuplot (Debian: gnuplot-nox).\n";

struct sample {
	__u32 col;
	__u32 heat;
	__u64 pfn;
};

struct samples {
	struct sample *v;
	size_t n, cap;
};

static int push(struct samples *s, __u32 col, __u64 pfn, __u32 heat)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4096;
		struct sample *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct sample){ .col = col, .heat = heat, .pfn = pfn };
	return 0;
}

/* Is gnuplot where posix_spawnp will look for it? */
static bool have_gnuplot(void)
{
	const char *path = getenv("PATH");
	char *dirs, *save = NULL;
	bool found = false;

	dirs = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	if (!dirs)
		return false;
	for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char file[4096];

		snprintf(file, sizeof(file), "%s/%s", d, GNUPLOT);
		found = access(file, X_OK) == 0;
	}
	free(dirs);
	return found;
}

/* The pinned hot-set map, checked to be one: a hash of PFN -> struct hp_hot_entry. */
static int open_map(const char *pin)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(pin);

	if (fd < 0) {
		int err = errno;

		fprintf(stderr, "heatmap: no hot-page map at %s: %s%s\n", pin, strerror(err),
			err == ENOENT ? " (is hotpaged running?)" : "");
		return -err;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_MAP_TYPE_HASH ||
	    info.key_size != sizeof(__u64) || info.value_size != sizeof(struct hp_hot_entry)) {
		fprintf(stderr,
			"heatmap: %s is not hotpaged's hot-page map (type %u, key %u, value %u bytes)\n",
			pin, info.type, info.key_size, info.value_size);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static int sample_map(int fd, __u32 col, struct samples *s)
{
	__u64 key, next;
	struct hp_hot_entry entry;
	const __u64 *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		/* A key removed between the two calls: the next refresh dropped it. */
		if (bpf_map_lookup_elem(fd, &key, &entry))
			continue;
		if (entry.heat && push(s, col, key, entry.heat))
			return -ENOMEM;
	}
	return errno == ENOENT ? 0 : -errno;
}

static void sleep_until(__u64 deadline_ms)
{
	__u64 now = hp_monotonic_ms();
	struct timespec ts;

	if (now >= deadline_ms)
		return;
	ts.tv_sec = (time_t)((deadline_ms - now) / 1000);
	ts.tv_nsec = (long)((deadline_ms - now) % 1000) * 1000000;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * The script and the grid: one row per PFN range, one column per sample;
 * a cell is the sum of the counts of the pages in its range (NaN when it
 * has none: left white).
 */
static int write_plot(FILE *out, const struct samples *s, __u32 cols, int width, int height,
		      const char *pin)
{
	__u64 lo = UINT64_MAX, hi = 0, span;
	__u32 rows;
	double *grid;

	for (size_t i = 0; i < s->n; i++) {
		lo = s->v[i].pfn < lo ? s->v[i].pfn : lo;
		hi = s->v[i].pfn > hi ? s->v[i].pfn : hi;
	}
	if (!s->n)
		lo = hi = 0;
	span = hi - lo + 1;
	rows = span < ROWS_MAX ? (__u32)span : ROWS_MAX;
	if (!cols)
		return -EINVAL;
	grid = calloc((size_t)rows * cols, sizeof(*grid));
	if (!grid)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		__u32 row = (__u32)((double)(s->v[i].pfn - lo) / (double)span * rows);

		grid[(size_t)(row < rows ? row : rows - 1) * cols + s->v[i].col] += s->v[i].heat;
	}

	fprintf(out, "set terminal png size %d,%d\n", width, height);
	fprintf(out,
		"set title \"hotpage: access heat of the hot set %s (%u samples)\" noenhanced\n",
		pin, cols);
	fputs("set xlabel \"time (s)\"\n"
	      "set ylabel \"PFN (page frame number)\"\n"
	      "set format y \"0x%x\"\n"
	      "set cblabel \"accesses per PFN range (sum of decayed counts)\"\n"
	      "set palette defined (0 \"#ffffb2\", 1 \"#fecc5c\", 2 \"#fd8d3c\", "
	      "3 \"#e31a1c\", 4 \"#800026\")\n",
	      out);
	fprintf(out, "set xrange [0:%u]\n", cols);
	fprintf(out, "set yrange [%llu:%llu]\n", (unsigned long long)lo,
		(unsigned long long)(lo + span));
	if (!s->n)
		fputs("set label 1 \"no hot pages in the map\" at graph 0.5,0.5 center\n"
		      "set cbrange [0:1]\n",
		      out);
	fputs("$heat << EOD\n", out);
	for (__u32 r = 0; r < rows; r++) {
		double y = (double)lo + ((double)r + 0.5) * (double)span / rows;

		for (__u32 c = 0; c < cols; c++) {
			double v = grid[(size_t)r * cols + c];

			if (v > 0)
				fprintf(out, "%.1f %.1f %.0f\n", c + 0.5, y, v);
			else
				fprintf(out, "%.1f %.1f NaN\n", c + 0.5, y);
		}
	}
	fputs("EOD\n", out);
	/* An image plot needs a full grid: one row of NaN keeps an empty map drawable. */
	if (!s->n)
		fputs("plot $heat using 1:2:(0) with image notitle\n", out);
	else
		fputs("plot $heat using 1:2:3 with image notitle\n", out);
	free(grid);
	return ferror(out) ? -EIO : 0;
}

/* Run gnuplot with its stdout on @out_fd and feed it the plot. */
static int render(int out_fd, const struct samples *s, __u32 cols, int width, int height,
		  const char *pin)
{
	posix_spawn_file_actions_t actions;
	char *const args[] = { GNUPLOT, NULL };
	int pipefd[2], status, ret;
	pid_t pid;
	FILE *in;

	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, pipefd[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
	ret = posix_spawnp(&pid, GNUPLOT, &actions, NULL, args, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(pipefd[0]);
	if (ret) {
		close(pipefd[1]);
		fprintf(stderr, "heatmap: cannot run %s: %s\n", GNUPLOT, strerror(ret));
		return -ret;
	}
	in = fdopen(pipefd[1], "w");
	if (!in) {
		close(pipefd[1]);
		ret = -errno;
	} else {
		/* gnuplot dying early must not kill us with SIGPIPE: EPIPE, then its status. */
		signal(SIGPIPE, SIG_IGN);
		ret = write_plot(in, s, cols, width, height, pin);
		if (fclose(in) && !ret)
			ret = -errno;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr,
			"heatmap: %s failed (status %#x); its png terminal is in Debian's gnuplot-nox\n",
			GNUPLOT, (unsigned int)status);
		return -EIO;
	}
	return ret;
}

/* The file gnuplot wrote starts with the PNG signature. */
static bool looks_like_png(int fd)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char buf[8];

	return pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) && !memcmp(buf, sig, 8);
}

static int parse_px(const char *opt, const char *arg, int *out)
{
	__u32 v;

	if (hp_parse_u32(arg, SIZE_MIN, SIZE_MAX_PX, &v)) {
		fprintf(stderr, "heatmap: %s %s: pixels, %d..%d\n", opt, arg, SIZE_MIN,
			SIZE_MAX_PX);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

int hp_heatmap_main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "png", required_argument, NULL, 'o' },
		{ "seconds", required_argument, NULL, 's' },
		{ "width", required_argument, NULL, 'W' },
		{ "height", required_argument, NULL, 'H' },
		{ "pin", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *png = NULL, *pin = HP_HOT_PAGES_PIN;
	struct samples s = {};
	__u64 seconds_ms = 10000, start;
	int width = 800, height = 600, c, map_fd = -1, out_fd = -1, ret = 1;
	__u32 cols;

	optind = 0;
	while ((c = getopt_long(argc, argv, "o:s:W:H:p:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'o':
			png = optarg;
			break;
		case 's':
			if (hp_parse_seconds(optarg, &seconds_ms) || seconds_ms < SAMPLE_MS ||
			    seconds_ms > SECONDS_MAX * 1000ULL) {
				fprintf(stderr, "heatmap: --seconds %s: 1..%d\n", optarg,
					SECONDS_MAX);
				return 2;
			}
			break;
		case 'W':
			if (parse_px("--width", optarg, &width))
				return 2;
			break;
		case 'H':
			if (parse_px("--height", optarg, &height))
				return 2;
			break;
		case 'p':
			pin = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!png || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	/* Everything that can fail fails before the S seconds of sampling. */
	if (!have_gnuplot()) {
		fprintf(stderr,
			"heatmap: %s not found in PATH: install it (Debian: apt-get install gnuplot-nox)\n",
			GNUPLOT);
		return 1;
	}
	map_fd = open_map(pin);
	if (map_fd < 0)
		return 1;
	out_fd = open(png, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out_fd < 0) {
		fprintf(stderr, "heatmap: %s: %s\n", png, strerror(errno));
		goto out;
	}

	cols = (__u32)((seconds_ms + SAMPLE_MS - 1) / SAMPLE_MS);
	start = hp_monotonic_ms();
	for (__u32 col = 0; col < cols; col++) {
		int err;

		sleep_until(start + (__u64)col * SAMPLE_MS);
		err = sample_map(map_fd, col, &s);
		if (err) {
			fprintf(stderr, "heatmap: reading %s: %s\n", pin, strerror(-err));
			goto out_unlink;
		}
	}
	if (render(out_fd, &s, cols, width, height, pin))
		goto out_unlink;
	if (!looks_like_png(out_fd)) {
		fprintf(stderr, "heatmap: %s did not write a PNG to %s\n", GNUPLOT, png);
		goto out_unlink;
	}
	printf("heatmap: %s: %d x %d, %u samples, %zu page counts\n", png, width, height, cols,
	       s.n);
	ret = 0;
	goto out;
out_unlink:
	unlink(png);
out:
	if (out_fd >= 0)
		close(out_fd);
	close(map_fd);
	free(s.v);
	return ret;
}
