// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test: hotpaged promotes a workload's hot pages. 64 MiB of this
 * process's memory is placed on node 1 (move_pages); a hashed 10% of its
 * pages is touched over and over; hotpaged runs with kmigrated.ko's
 * accessed-bit scanner as its source (`scan`: the fault source sees a page
 * once, and NUMA hint faults would need numa_balancing, whose own
 * migration would blur the result) and an explicit target (target=0: in a
 * plain guest both nodes are in one tier). Within HOT_DEADLINE_S at least
 * 90% of the hot pages must be on node 0 and at most 5% of the cold ones,
 * per move_pages(nodes = NULL). Once with the move_pages backend, once
 * with the kmigrated backend.
 */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "hp_settings.h"
#include "kmigrated_test.h"

#define AREA_PAGES ((64UL << 20) / KMT_PAGE)
#define HOT_DEADLINE_S 90
#define HOT_PCT_MIN 90
#define COLD_PCT_MAX 5
#define CONTROL_S 3

static pid_t start_daemon(const char *backend)
{
	char root[PATH_MAX], path[PATH_MAX + 32], scope[64], be[64];
	pid_t pid;

	kmt_repo_root(root, sizeof(root));
	snprintf(path, sizeof(path), "%s/build/bin/hotpaged", root);
	if (access(path, X_OK))
		hp_skip("%s not built", path);
	snprintf(scope, sizeof(scope), "scope=tgids:%d", (int)getpid());
	snprintf(be, sizeof(be), "backend=%s", backend);
	pid = fork();
	hp_check(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(path, path, "-f", "-s", "scan", "-p", be, "-p", "target=0", "-p", scope, "-p",
		      "window_ms=2000", "-p", "threshold=2", "-p", "pingpong_ms=60000", "-p",
		      "stats=5", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Hot and cold pages on node 0, from one move_pages(nodes = NULL). */
static void count_on_0(char *p, size_t *hot, size_t *cold, size_t *nhot, size_t *ncold)
{
	int *status = calloc(AREA_PAGES, sizeof(*status));

	hp_check(status, "calloc");
	kmt_move(p, AREA_PAGES, -1, status);
	*hot = *cold = *nhot = *ncold = 0;
	for (size_t i = 0; i < AREA_PAGES; i++) {
		if (kmt_is_hot(i)) {
			(*nhot)++;
			*hot += status[i] == 0;
		} else {
			(*ncold)++;
			*cold += status[i] == 0;
		}
	}
	free(status);
}

static void run(const char *backend)
{
	char *p = kmt_map_pages(AREA_PAGES, 1);
	size_t hot = 0, cold = 0, nhot = 0, ncold = 0;
	double t0, deadline;
	long long migrated0;
	pid_t daemon;
	int status;

	/*
	 * Not shared with the forked daemon: between fork and exec, a write
	 * to a hot page would copy it (COW) onto this CPU's node 0.
	 */
	hp_check(!madvise(p, AREA_PAGES * KMT_PAGE, MADV_DONTFORK), "madvise: %s", strerror(errno));
	kmt_place(p, AREA_PAGES, 1);
	printf("%s: %lu pages on node 1, %s\n", backend, AREA_PAGES, "hot: hashed 10%");
	/* Control: without hotpaged, touching alone must not move the pages. */
	kmt_touch_hot(p, AREA_PAGES, CONTROL_S * 1000.0);
	count_on_0(p, &hot, &cold, &nhot, &ncold);
	printf("%s: control, %d s of touching without hotpaged: hot %zu/%zu on node 0\n", backend,
	       CONTROL_S, hot, nhot);
	hp_check(hot * 100 <= nhot * COLD_PCT_MAX,
		 "%zu of %zu hot pages reached node 0 without hotpaged: something else migrates",
		 hot, nhot);
	migrated0 = kmt_vmstat("pgmigrate_success");
	daemon = start_daemon(backend);
	t0 = kmt_now_ms();
	deadline = t0 + HOT_DEADLINE_S * 1000.0;
	while (kmt_now_ms() < deadline) {
		hp_check(waitpid(daemon, &status, WNOHANG) == 0, "hotpaged exited (status 0x%x)",
			 status);
		kmt_touch_hot(p, AREA_PAGES, 1000);
		count_on_0(p, &hot, &cold, &nhot, &ncold);
		if (hot * 100 >= nhot * HOT_PCT_MIN)
			break;
	}
	printf("%s: after %.1f s: hot %zu/%zu on node 0 (%.1f%%), cold %zu/%zu (%.1f%%)\n", backend,
	       (kmt_now_ms() - t0) / 1000, hot, nhot, 100.0 * hot / nhot, cold, ncold,
	       100.0 * cold / ncold);
	fflush(stdout);
	hp_check(kill(daemon, SIGTERM) == 0, "kill: %s", strerror(errno));
	hp_check(waitpid(daemon, &status, 0) == daemon, "waitpid: %s", strerror(errno));
	hp_check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hotpaged: status 0x%x", status);
	migrated0 = kmt_vmstat("pgmigrate_success") - migrated0;
	printf("%s: pgmigrate_success +%lld while hotpaged ran\n", backend, migrated0);
	/* The pages on node 0 were migrated there, not copied (COW) or refaulted. */
	hp_check(migrated0 >= (long long)(hot + cold), "%s: %zu pages on node 0, %lld migrated",
		 backend, hot + cold, migrated0);
	hp_check(hot * 100 >= nhot * HOT_PCT_MIN,
		 "%s: %.1f%% of hot pages on node 0 in %d s, want >= %d%%", backend,
		 100.0 * hot / nhot, HOT_DEADLINE_S, HOT_PCT_MIN);
	hp_check(cold * 100 <= ncold * COLD_PCT_MAX,
		 "%s: %.1f%% of cold pages on node 0, want <= %d%%", backend, 100.0 * cold / ncold,
		 COLD_PCT_MAX);
	munmap(p, AREA_PAGES * KMT_PAGE);
}

/* Arguments: the backends to test (default: move_pages kmigrated). */
int main(int argc, char **argv)
{
	char path[PATH_MAX];

	hp_require_root();
	kmt_module_path(path, sizeof(path));
	if (access("/sys/devices/system/node/node1/meminfo", R_OK))
		hp_skip("needs two memory nodes");
	/* On by default here: it would move the hot pages to node 0 itself. */
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	kmt_load_or_fail("");
	hp_check(!kmt_set("scan_period_ms", "250"), "scan_period_ms: %s", strerror(errno));
	if (argc > 1)
		for (int i = 1; i < argc; i++)
			run(argv[i]);
	else {
		run("move_pages");
		run("kmigrated");
	}
	hp_check(!kmt_unload(), "delete_module: %s", strerror(errno));
	hp_settings_restore();
	printf("pass\n");
	return 0;
}
