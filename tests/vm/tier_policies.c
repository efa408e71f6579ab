// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test (--tier boots): named policies decide whose pages move.
 * hotpaged runs with its default sources, backend and settings, and two
 * policies declared at start in place of the default one:
 *
 *   policy.mine  = scope=tgids:<this test>          (the e2e workload)
 *   policy.batch = scope=tgids:<outsider 1> promote=off
 *
 * Outsiders (tests/lib/hp_e2e.h) are processes with 8 MiB on node 1
 * touched as hard per page as the workload's hot pages. Node 0 has room
 * for about twice the workload's hot set and for every outsider besides:
 * nothing in the scope of the policy that brings an outsider up is on
 * node 0 to make room, and what moves must be the policies' doing, never
 * the room's.
 *
 * Pass when:
 *  - at least 90% of the workload's hot set reaches node 0 (HOT_DEADLINE_S,
 *    as tier_e2e_promote), and "mine" counts them as its promotions;
 *  - outsider 1 (promote=off) and outsider 2 (no policy covers it) keep
 *    every page on node 1 meanwhile, and the daemon counts both reasons
 *    (held policy_off and no_policy, batch's held_pages);
 *  - attached live with a BPF program (tests/bpf/policies/keep_tgid: it
 *    keeps the pages of the process named in its pinned map where they
 *    are), a policy covering outsider 2 keeps its pages on node 1 while
 *    the map names it (held policy_keep), and brings them up once the map
 *    names no one, the program's runs counted;
 *  - a policy attached for outsider 3 and detached while moves are paused
 *    (rate_mbps=0) moves none of its pages in the 20 s after the moves
 *    resume: a detached policy's pages stay where they are.
 */
#include <bpf/bpf.h>

#include "hotpage/hot_pages.h"
#include "hp_ctl_test.h"
#include "hp_e2e.h"
#include "hp_settings.h"

#define HOT_DEADLINE_S 120
#define HOT_PCT_MIN 90
#define DETACHED_WATCH_S 20
#define KEPT_WATCH_S 15 /* twice the windows a page needs to be hot */

static const char *sock = HP_CTL_SOCKET_DEFAULT;

static void ctl(const char *cmd)
{
	free(hpc_ok(sock, cmd));
	printf("hotpagectl %s\n", cmd);
}

/* Seconds until @o has at least HOT_PCT_MIN% of its pages on node 0, or -1. */
static double wait_outsider_up(const struct e2e_outsider *o, const struct e2e_daemon *d,
			       double deadline_s)
{
	double t0 = kmt_now_ms();

	while ((kmt_now_ms() - t0) / 1000 < deadline_s) {
		hp_check(e2e_daemon_alive(d), "hotpaged exited (log %s)", d->log);
		sleep(1);
		if ((E2E_OUTSIDER_PAGES - e2e_outsider_on1(o)) * 100 >=
		    (size_t)E2E_OUTSIDER_PAGES * HOT_PCT_MIN)
			return (kmt_now_ms() - t0) / 1000;
	}
	return -1;
}

int main(void)
{
	const char *tier = getenv("HOTPAGE_VM_TIER");
	struct e2e_outsider off, none, late;
	struct e2e_daemon d = { 0 };
	struct e2e_work w;
	char mine[64], batch[96], cmd[PATH_MAX + 96];
	const char *argv[] = { "-p", mine, "-p", batch, "-p", "stats=5", NULL };
	size_t hot = 0, cold = 0;
	double t0, t;
	pid_t filler;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	if (!tier || strcmp(tier, "1") != 0)
		hp_skip("not a guest booted with tools/vmtest --tier");
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	kmt_load_or_fail("");
	e2e_work_init(&w);
	kmt_place(w.p, E2E_PAGES, 1);
	e2e_outsider_start(&off, w.nhot);
	e2e_outsider_start(&none, w.nhot);
	e2e_outsider_start(&late, w.nhot);
	snprintf(mine, sizeof(mine), "policy.mine=scope=tgids:%d", (int)getpid());
	snprintf(batch, sizeof(batch), "policy.batch=scope=tgids:%d promote=off", (int)off.pid);
	e2e_daemon_start(&d, "/tmp/tier_policies.log", argv);
	filler = tier_filler_start(tier_headroom_bytes() +
				   (uint64_t)(w.nhot * E2E_ROOM_HOT_SETS + 3 * E2E_OUTSIDER_PAGES) *
					   KMT_PAGE);
	printf("workload: %zu hot pages on node 1; outsiders %d (promote=off), %d (no policy), "
	       "%d (attached, then detached)\n",
	       w.nhot, (int)off.pid, (int)none.pid, (int)late.pid);

	t0 = kmt_now_ms();
	e2e_work_start(&w);
	while ((t = (kmt_now_ms() - t0) / 1000) < HOT_DEADLINE_S) {
		hp_check(e2e_daemon_alive(&d), "hotpaged exited (log %s)", d.log);
		sleep(1);
		e2e_count(&w, &hot, &cold);
		if (hot * 100 >= w.nhot * HOT_PCT_MIN)
			break;
	}
	/* Some rounds more, for anything wrongly moved to show. */
	sleep(5);
	printf("mine: %zu of %zu hot pages on node 0 after %.1f s; promote=off outsider %zu of %d "
	       "pages on node 1, uncovered outsider %zu\n",
	       hot, w.nhot, t, e2e_outsider_on1(&off), E2E_OUTSIDER_PAGES, e2e_outsider_on1(&none));
	hp_check(hot * 100 >= w.nhot * HOT_PCT_MIN, "mine: %zu of %zu hot pages up in %d s", hot,
		 w.nhot, HOT_DEADLINE_S);
	for (int i = 0; i < 20 && hpc_stat(sock, "mine", "promoted_pages") < hot; i++)
		sleep(1);
	hp_check(hpc_stat(sock, "mine", "promoted_pages") >= hot,
		 "mine: %llu pages counted promoted, %zu hot pages up",
		 (unsigned long long)hpc_stat(sock, "mine", "promoted_pages"), hot);
	hp_check(e2e_outsider_on1(&off) == E2E_OUTSIDER_PAGES,
		 "promote=off: %zu of the outsider's pages left node 1",
		 E2E_OUTSIDER_PAGES - e2e_outsider_on1(&off));
	hp_check(e2e_outsider_on1(&none) == E2E_OUTSIDER_PAGES,
		 "no policy: %zu of the outsider's pages left node 1",
		 E2E_OUTSIDER_PAGES - e2e_outsider_on1(&none));
	hp_check(hpc_stat(sock, "batch", "held_pages") > 0, "batch: nothing counted held");
	hp_check(hpc_stat(sock, NULL, "held_policy_off") > 0 &&
			 hpc_stat(sock, NULL, "held_no_policy") > 0,
		 "held: policy_off %llu, no_policy %llu",
		 (unsigned long long)hpc_stat(sock, NULL, "held_policy_off"),
		 (unsigned long long)hpc_stat(sock, NULL, "held_no_policy"));
	hp_check(e2e_log_has(d.log, "no attached policy covers their process") &&
			 e2e_log_has(d.log, "their policy has promote=off"),
		 "the log does not say why pages were held (log %s)", d.log);

	/* Attached live with a program that keeps them, then lets them go. */
	{
		char obj[PATH_MAX];
		__u32 zero = 0, keep = (__u32)none.pid;
		int fd;

		kmt_repo_root(obj, sizeof(obj));
		strncat(obj, "/build/bpf/policies/keep_tgid.bpf.o", sizeof(obj) - strlen(obj) - 1);
		/*
		 * Its pages are hot already: no round may run between the attach
		 * and the map naming the process, so the moves are paused meanwhile.
		 */
		ctl("policy set rate_mbps=0");
		snprintf(cmd, sizeof(cmd), "policy attach scored scope=tgids:%d bpf=%s",
			 (int)none.pid, obj);
		ctl(cmd);
		fd = bpf_obj_get(HP_PIN_DIR "/hp_test_keep_tgid");
		hp_check(fd >= 0, "keep_tgid: no pinned map: %s", strerror(errno));
		hp_check(!bpf_map_update_elem(fd, &zero, &keep, BPF_ANY), "keep_tgid: %s",
			 strerror(errno));
		ctl("policy set rate_mbps=256");
		sleep(KEPT_WATCH_S);
		printf("scored, kept: %zu of %d pages on node 1 after %d s; held policy_keep %llu\n",
		       e2e_outsider_on1(&none), E2E_OUTSIDER_PAGES, KEPT_WATCH_S,
		       (unsigned long long)hpc_stat(sock, NULL, "held_policy_keep"));
		hp_check(e2e_outsider_on1(&none) == E2E_OUTSIDER_PAGES,
			 "scored: %zu pages moved while its program kept them",
			 E2E_OUTSIDER_PAGES - e2e_outsider_on1(&none));
		hp_check(hpc_stat(sock, NULL, "held_policy_keep") > 0,
			 "scored: nothing counted held by its program");
		keep = 0;
		hp_check(!bpf_map_update_elem(fd, &zero, &keep, BPF_ANY), "keep_tgid: %s",
			 strerror(errno));
		close(fd);
		t = wait_outsider_up(&none, &d, HOT_DEADLINE_S);
		printf("scored: %zu of %d pages on node 1 (%.1f s after the program let them go); "
		       "%llu runs, %llu us of CPU\n",
		       e2e_outsider_on1(&none), E2E_OUTSIDER_PAGES, t,
		       (unsigned long long)hpc_stat(sock, "scored", "program_runs"),
		       (unsigned long long)hpc_stat(sock, "scored", "program_cpu_us"));
		hp_check(t >= 0, "scored: %zu of %d pages still on node 1 %d s after",
			 e2e_outsider_on1(&none), E2E_OUTSIDER_PAGES, HOT_DEADLINE_S);
		hp_check(hpc_stat(sock, "scored", "program_runs") > 0, "scored: no program run");
		/* kmigrated's moves count once hotpaged has seen them done: a round later. */
		for (int i = 0; i < 20 && !hpc_stat(sock, "scored", "promoted_pages"); i++)
			sleep(1);
		hp_check(hpc_stat(sock, "scored", "promoted_pages") > 0,
			 "scored: no promotion counted 20 s after its pages came up");
		unlink(HP_PIN_DIR "/hp_test_keep_tgid");
	}

	/* Attached and detached before a page of it can be hot: nothing moves. */
	/*
	 * Its pages are hot already (held for no policy): the moves are
	 * paused while the policy comes and goes, so that no round can
	 * take them in between, and resumed once it is gone.
	 */
	ctl("policy set rate_mbps=0");
	snprintf(cmd, sizeof(cmd), "policy attach gone scope=tgids:%d", (int)late.pid);
	ctl(cmd);
	sleep(2);
	ctl("policy detach gone");
	ctl("policy set rate_mbps=256");
	sleep(DETACHED_WATCH_S);
	printf("gone: %zu of %d pages on node 1 %d s after detach\n", e2e_outsider_on1(&late),
	       E2E_OUTSIDER_PAGES, DETACHED_WATCH_S);
	hp_check(e2e_outsider_on1(&late) == E2E_OUTSIDER_PAGES,
		 "gone: %zu pages moved after the policy was detached",
		 E2E_OUTSIDER_PAGES - e2e_outsider_on1(&late));
	hp_check(e2e_outsider_on1(&off) == E2E_OUTSIDER_PAGES, "promote=off: pages left node 1");

	e2e_work_stop(&w);
	e2e_daemon_stop(&d);
	e2e_kill(filler);
	e2e_kill(off.pid);
	e2e_kill(none.pid);
	e2e_kill(late.pid);
	e2e_work_free(&w);
	kmt_wait_idle(30000);
	hp_check(!kmt_unload(), "delete_module: %s", strerror(-errno));
	hp_settings_restore();
	printf("pass\n");
	return 0;
}
