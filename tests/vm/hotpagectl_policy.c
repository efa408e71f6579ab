// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test: `hotpagectl policy set` takes effect on the next promotion
 * round. hotpaged starts paused (rate_mbps=0) with the scan source on a
 * workload whose hot pages sit on node 1 (as in hotpaged_promote); the
 * table sees them hot (top lists them) yet none moves. `policy set
 * rate_mbps=256` over the socket: the first promotion comes within two
 * rounds of the answer, and the hot pages reach node 0. `policy set
 * rate_mbps=0` again, pages put back on node 1: not one more request,
 * the pages stay, for several rounds.
 */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "hp_ctl_test.h"
#include "hp_settings.h"
#include "kmigrated_test.h"

#define AREA_PAGES ((16UL << 20) / KMT_PAGE)
#define HOT_DEADLINE_S 90
#define HOT_PCT_MIN 90
#define STRAY_PCT_MAX 5
/* Rounds a paused daemon is watched for (window_ms=1000). */
#define PAUSED_ROUNDS 5
#define ROUNDS_DEADLINE_S 60

static char sock[128];

static size_t hot_on_0(char *p, size_t *nhot)
{
	int *status = calloc(AREA_PAGES, sizeof(*status));
	size_t hot = 0;

	hp_check(status, "calloc");
	kmt_move(p, AREA_PAGES, -1, status);
	*nhot = 0;
	for (size_t i = 0; i < AREA_PAGES; i++)
		if (kmt_is_hot(i)) {
			(*nhot)++;
			hot += status[i] == 0;
		}
	free(status);
	return hot;
}

/* Lines of `top -n 100` naming this process on node 1. */
static int top_lines_on_1(void)
{
	char *text = hpc_ok(sock, "top -n 100"), *save = NULL, want[32];
	int n = 0;

	snprintf(want, sizeof(want), " %d  ", (int)getpid());
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		unsigned long long pfn;
		int node;

		if (strstr(l, want) && sscanf(l, "%llx %d", &pfn, &node) == 2 && node == 1)
			n++;
	}
	free(text);
	return n;
}

/* Touch while @rounds more rounds pass; fail if promotion requests move. */
static void watch_paused(char *p, __u64 requests, int rounds)
{
	__u64 r0 = hpc_stat(sock, "daemon", "rounds");
	double deadline = kmt_now_ms() + ROUNDS_DEADLINE_S * 1000.0;

	while (hpc_stat(sock, "daemon", "rounds") < r0 + (__u64)rounds) {
		hp_check(kmt_now_ms() < deadline, "%d rounds did not pass in %d s", rounds,
			 ROUNDS_DEADLINE_S);
		kmt_touch_hot(p, AREA_PAGES, 500);
	}
	hp_check(hpc_stat(sock, "daemon", "promote_requests") == requests,
		 "promotion requests moved while rate_mbps=0");
}

int main(void)
{
	char path[PATH_MAX], scope[64];
	const char *args[] = { "-s", "scan",	    "-p", "backend=move_pages", "-p", "target=0",
			       "-p", scope,	    "-p", "window_ms=1000",	"-p", "threshold=2",
			       "-p", "rate_mbps=0", "-p", "pingpong_ms=0",	"-p", "stats=0",
			       NULL };
	size_t hot, nhot;
	__u64 rounds_at_set, requests, rounds;
	double t0, deadline;
	pid_t daemon;
	char *p, *text;
	int lines;

	hp_require_root();
	kmt_module_path(path, sizeof(path));
	if (access("/sys/devices/system/node/node1/meminfo", R_OK))
		hp_skip("needs two memory nodes");
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	kmt_load_or_fail("");
	hp_check(!kmt_set("scan_period_ms", "250"), "scan_period_ms: %s", strerror(errno));

	p = kmt_map_pages(AREA_PAGES, 1);
	/* Not shared with the forked daemon (a write would copy it to node 0). */
	hp_check(!madvise(p, AREA_PAGES * KMT_PAGE, MADV_DONTFORK), "madvise: %s", strerror(errno));
	kmt_place(p, AREA_PAGES, 1);
	snprintf(scope, sizeof(scope), "scope=tgids:%d", (int)getpid());
	hpc_socket_path("policy", sock, sizeof(sock));
	daemon = hpc_daemon_start(sock, args, NULL);
	hpc_wait_ready(daemon, sock);
	text = hpc_ok(sock, "status");
	printf("status:\n%s", text);
	free(text);

	/* Paused: hot in the table, not moved. */
	deadline = kmt_now_ms() + HOT_DEADLINE_S * 1000.0;
	while ((lines = top_lines_on_1()) < 10) {
		hp_check(kmt_now_ms() < deadline, "top lists %d hot pages of ours in %d s", lines,
			 HOT_DEADLINE_S);
		kmt_touch_hot(p, AREA_PAGES, 1000);
	}
	watch_paused(p, 0, PAUSED_ROUNDS);
	hot = hot_on_0(p, &nhot);
	printf("paused: top lists %d of our pages on node 1; %d rounds, 0 requests; hot on node "
	       "0: %zu/%zu\n",
	       lines, PAUSED_ROUNDS, hot, nhot);
	hp_check(hot * 100 <= nhot * STRAY_PCT_MAX, "%zu/%zu hot pages moved while paused", hot,
		 nhot);

	/* Unpaused: promotion on the next round. */
	free(hpc_ok(sock, "policy set rate_mbps=256"));
	rounds_at_set = hpc_stat(sock, "daemon", "rounds");
	t0 = kmt_now_ms();
	deadline = t0 + HOT_DEADLINE_S * 1000.0;
	while (!(requests = hpc_stat(sock, "daemon", "promote_requests"))) {
		hp_check(kmt_now_ms() < deadline, "no promotion %d s after rate_mbps=256",
			 HOT_DEADLINE_S);
		usleep(50 * 1000);
	}
	rounds = hpc_stat(sock, "daemon", "rounds");
	printf("rate_mbps=256 at round %llu: %llu requests by round %llu\n",
	       (unsigned long long)rounds_at_set, (unsigned long long)requests,
	       (unsigned long long)rounds);
	/* The round in flight at the set, at most one more (the stats read trails). */
	hp_check(rounds <= rounds_at_set + 2, "first promotion only at round %llu, set at %llu",
		 (unsigned long long)rounds, (unsigned long long)rounds_at_set);
	while ((hot = hot_on_0(p, &nhot)) * 100 < nhot * HOT_PCT_MIN) {
		hp_check(kmt_now_ms() < deadline, "%zu/%zu hot pages on node 0 after %d s", hot,
			 nhot, HOT_DEADLINE_S);
		kmt_touch_hot(p, AREA_PAGES, 1000);
	}
	printf("unpaused: hot %zu/%zu on node 0 after %.1f s\n", hot, nhot,
	       (kmt_now_ms() - t0) / 1000);

	/* Paused again: back on node 1, and they stay. */
	free(hpc_ok(sock, "policy set rate_mbps=0"));
	requests = hpc_stat(sock, "daemon", "promote_requests");
	kmt_place(p, AREA_PAGES, 1);
	watch_paused(p, requests, PAUSED_ROUNDS);
	hot = hot_on_0(p, &nhot);
	printf("paused again: %d rounds, requests stay at %llu; hot on node 0: %zu/%zu\n",
	       PAUSED_ROUNDS, (unsigned long long)requests, hot, nhot);
	hp_check(hot * 100 <= nhot * STRAY_PCT_MAX, "%zu/%zu hot pages moved while paused", hot,
		 nhot);

	hpc_daemon_stop(daemon, sock);
	munmap(p, AREA_PAGES * KMT_PAGE);
	hp_check(!kmt_unload(), "delete_module: %s", strerror(errno));
	hp_settings_restore();
	printf("pass\n");
	return 0;
}
