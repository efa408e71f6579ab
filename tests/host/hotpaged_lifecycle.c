// SPDX-License-Identifier: GPL-2.0
/*
 * hotpaged on this host: it publishes the hot set of a child whose writes
 * fault on its present pages (the fault source's access heat on a host
 * with no other source; bpftool shows the child's tgid and the named
 * fields of struct hp_hot_entry), removes its pins on SIGTERM and exits
 * 0, and after a SIGKILL the next start clears the stale pin and runs.
 * With its default sources it starts where none can run, and says why.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hp_test.h"
#include "hp_toucher.h"
#include "hotpage/control.h"
#include "hotpage/hot_pages.h"

#define CHILD_PAGES 256
#define START_TIMEOUT_MS 15000
/* A page leaves the hot set some windows after its last access: 30 s is a bug. */
#define COOL_TIMEOUT_MS 30000

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void daemon_path(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	hp_check(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	/* build/tests/host/<test> -> build/bin/hotpaged */
	snprintf(buf, len, "%s/../../bin/hotpaged", dirname(self));
	if (access(buf, X_OK))
		hp_skip("%s not built", buf);
}

static pid_t start_daemon(const char *path, pid_t child)
{
	char scope[64];
	pid_t pid;

	snprintf(scope, sizeof(scope), "scope=tgids:%d", (int)child);
	pid = fork();
	hp_check(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* the daemon cleans up when the test dies */
		execl(path, path, "-f", "-s", "fault", "-p", scope, "-p", "period=1", "-p",
		      "window_ms=500", "-p", "stats=1", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Entries of the pinned map with @tgid; -1 when bpftool could not read it. */
static int dump_count(pid_t tgid, bool *named)
{
	char line[512], want[64];
	int count = 0, fields = 0;
	FILE *f = popen("bpftool map dump pinned " HP_HOT_PAGES_PIN " 2>/dev/null", "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "\"tgid\": %d,", (int)tgid);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, want))
			count++;
		if (strstr(line, "\"heat\": ") || strstr(line, "\"last_seen_ms\": ") ||
		    strstr(line, "\"node\": ") || strstr(line, "\"sources\": "))
			fields++;
	}
	if (pclose(f))
		return -1;
	*named = fields >= 4;
	return count;
}

/*
 * Stop the toucher: its pages cool, leave the hot set and their entries
 * leave the map (a publish deletes what left the set since the last one).
 */
static void wait_cooled(pid_t child)
{
	double t0 = now_ms(), deadline = t0 + COOL_TIMEOUT_MS;
	bool named;
	int n = -1;

	hp_check(kill(child, SIGSTOP) == 0, "SIGSTOP: %s", strerror(errno));
	while (now_ms() < deadline) {
		n = dump_count(child, &named);
		if (n == 0)
			break;
		usleep(200 * 1000);
	}
	hp_check(kill(child, SIGCONT) == 0, "SIGCONT: %s", strerror(errno));
	hp_check(n == 0, "%d entries of the stopped tgid %d still in %s after %d ms", n, (int)child,
		 HP_HOT_PAGES_PIN, COOL_TIMEOUT_MS);
	printf("  tgid %d stopped: its entries left the map in %.1f s\n", (int)child,
	       (now_ms() - t0) / 1000);
}

static ino_t pin_inode(void)
{
	struct stat st;

	return stat(HP_HOT_PAGES_PIN, &st) ? 0 : st.st_ino;
}

/*
 * Wait until the daemon's map (a pin other than @stale's inode) holds
 * pages of @tgid; returns how many.
 */
static int wait_hot_set(pid_t daemon, pid_t tgid, ino_t stale)
{
	double deadline = now_ms() + START_TIMEOUT_MS;
	bool named = false;
	int status, n = 0;

	while (now_ms() < deadline) {
		hp_check(waitpid(daemon, &status, WNOHANG) == 0,
			 "hotpaged exited early (status 0x%x)", status);
		ino_t ino = pin_inode();

		if (ino && ino != stale) {
			n = dump_count(tgid, &named);
			if (n > 0) {
				hp_check(named, "bpftool shows no named fields");
				return n;
			}
		}
		usleep(200 * 1000);
	}
	hp_fail("no hot page of tgid %d in %s within %d ms (last count %d)", (int)tgid,
		HP_HOT_PAGES_PIN, START_TIMEOUT_MS, n);
}

static void stop_daemon(pid_t daemon)
{
	int status;
	double t0 = now_ms();

	hp_check(kill(daemon, SIGTERM) == 0, "kill: %s", strerror(errno));
	hp_check(waitpid(daemon, &status, 0) == daemon, "waitpid: %s", strerror(errno));
	hp_check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "hotpaged after SIGTERM: status 0x%x, expected exit 0", status);
	printf("  SIGTERM: exit 0 after %.0f ms\n", now_ms() - t0);
	hp_check(!exists(HP_HOT_PAGES_PIN), "%s still pinned after SIGTERM", HP_HOT_PAGES_PIN);
	hp_check(!exists(HP_PIN_DIR), "%s still there after SIGTERM", HP_PIN_DIR);
}

/*
 * With its defaults, hotpaged says for every source whether it started or
 * why not, and runs even where none can (a source may be attached live).
 */
static void check_defaults(const char *path)
{
	static const char *const names[] = { "fault", "numa-hint", "perf", "damon", "scan" };
	char cmd[PATH_MAX + 128], line[1024], out[16384] = "";
	size_t len = 0;
	FILE *f;
	int status;

	snprintf(cmd, sizeof(cmd), "%s -f -d 2 -p socket=/run/hotpage/lifecycle-%d.sock 2>&1", path,
		 (int)getpid());
	f = popen(cmd, "r");
	hp_check(f, "popen: %s", strerror(errno));
	while (fgets(line, sizeof(line), f) && len < sizeof(out) - sizeof(line))
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s", line);
	status = pclose(f);
	hp_check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "hotpaged with its defaults: status 0x%x:\n%s", status, out);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char started[64], not [64];

		snprintf(started, sizeof(started), "source %s: ", names[i]);
		snprintf(not, sizeof(not ), "source %s not started", names[i]);
		hp_check(strstr(out, started) || strstr(out, not ),
			 "hotpaged says nothing of source %s:\n%s", names[i], out);
	}
	hp_check(strstr(out, "source fault not started by default: "),
		 "the fault source (allocations) started by default:\n%s", out);
	printf("defaults: ran 2 s and said, for each source, whether it runs\n");
}

int main(void)
{
	char path[PATH_MAX];
	pid_t child, daemon;
	char sock_dir[] = HP_CTL_SOCKET_DEFAULT;
	bool had_sock_dir;
	ino_t stale;
	int n, status;

	hp_require_root();
	daemon_path(path, sizeof(path));
	if (system("command -v bpftool >/dev/null 2>&1") != 0)
		hp_skip("bpftool not installed");
	hp_check(!exists(HP_HOT_PAGES_PIN), "%s exists before the test: another hotpaged?",
		 HP_HOT_PAGES_PIN);
	had_sock_dir = exists(dirname(sock_dir)); /* e.g. systemd's RuntimeDirectory */
	check_defaults(path);
	hp_check(!exists(HP_HOT_PAGES_PIN), "%s left behind by the run with defaults",
		 HP_HOT_PAGES_PIN);
	child = hp_toucher_start(CHILD_PAGES, 1000);

	printf("run 1: hot set of tgid %d, then SIGTERM\n", (int)child);
	daemon = start_daemon(path, child);
	n = wait_hot_set(daemon, child, 0);
	printf("  %d entries of tgid %d in %s, named fields\n", n, (int)child, HP_HOT_PAGES_PIN);
	wait_cooled(child);
	stop_daemon(daemon);

	printf("run 2: SIGKILL leaves the pin\n");
	daemon = start_daemon(path, child);
	wait_hot_set(daemon, child, 0);
	hp_check(kill(daemon, SIGKILL) == 0, "kill: %s", strerror(errno));
	waitpid(daemon, &status, 0);
	stale = pin_inode();
	hp_check(stale, "no stale pin after SIGKILL: the test proves nothing");

	printf("run 3: starts over the stale pin, cleans up\n");
	daemon = start_daemon(path, child);
	n = wait_hot_set(daemon, child, stale);
	printf("  %d entries of tgid %d after the restart\n", n, (int)child);
	stop_daemon(daemon);

	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	/* The restart took over the killed daemon's socket directory, and removed it. */
	hp_check(had_sock_dir || !exists(sock_dir), "%s left behind after the restart", sock_dir);
	printf("pass\n");
	return 0;
}
