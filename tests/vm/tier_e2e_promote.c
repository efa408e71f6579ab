// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test (--tier boots), the end-to-end case: hotpaged promotes
 * the hot set of a constrained workload (tests/lib/hp_e2e.h: 256 MiB on
 * node 1, a hashed 10% of the pages gets 90% of the accesses, node 0 free
 * for about twice the hot set above hotpaged's watermark) with
 * numa_balancing=0, the sources this kernel offers (`scan`, and `damon`
 * where it runs) and its default target (the top tier), once with each
 * backend.
 *
 * Pass: within HOT_DEADLINE_S of the workload's first access at least 90%
 * of the hot pages are on node 0 and at most 5% of the cold ones
 * (move_pages(2) with nodes = NULL, polled every second, stopping as soon
 * as the hot share is reached). The bound: hotpaged needs four windows
 * of 1 s (one scanner sweep each) to call a page hot (threshold 4), and
 * one round moves the whole hot set, so a few seconds on an idle 2-CPU
 * TCG host; 120 s leaves a wide margin for a busy CI machine and is
 * reached only when promotion does not work.
 *
 * Counters agree: the daemon's promoted count (its final stats line) is
 * the module's `accepted` delta exactly (kmigrated backend: only hotpaged
 * calls the kfunc); /proc/vmstat pgmigrate_success grew by the pages the
 * module migrated (kmigrated) or hotpaged moved (move_pages), plus at most
 * VMSTAT_SLACK_PAGES + 1%: the kernel's own compaction also migrates and
 * counts there, nothing else does here (NUMA balancing is off).
 *
 * The scan source cannot vanish under hotpaged: rmmod kmigrated is refused
 * (EWOULDBLOCK) while it is attached (checked in the move_pages run, where
 * nothing else holds the module).
 *
 * Scope: an outsider process, not in scope=tgids:, with 8 MiB on node 1
 * touched as hard per page as the hot pages, keeps all of them on node 1.
 */
#include "hp_e2e.h"
#include "hp_settings.h"

#define HOT_DEADLINE_S 120
#define HOT_PCT_MIN 90
#define COLD_PCT_MAX 5
#define VMSTAT_SLACK_PAGES 64

static char sources[64] = "scan";

static void run(struct e2e_work *w, const char *backend)
{
	char be[64], scope[64], src[80], log[96];
	const char *argv[] = { "-s",  src,	 "-p",		be,   "-p",
			       scope, "-p",	 "threshold=4", "-p", "window_ms=1000",
			       "-p",  "stats=2", NULL };
	struct e2e_outsider outsider;
	struct e2e_daemon d = { 0 };
	size_t hot = 0, cold = 0, on1;
	long long vmstat0, vmstat, promoted;
	uint64_t accepted0, migrated0, accepted, migrated;
	double t0, t = 0;
	pid_t filler;
	int64_t room;
	int polls = 0;

	snprintf(be, sizeof(be), "backend=%s", backend);
	snprintf(scope, sizeof(scope), "scope=tgids:%d", (int)getpid());
	snprintf(src, sizeof(src), "%s", sources);
	snprintf(log, sizeof(log), "/tmp/tier_e2e_promote.%s.log", backend);

	kmt_place(w->p, E2E_PAGES, 1);
	e2e_outsider_start(&outsider, w->nhot);
	e2e_daemon_start(&d, log, argv);
	if (!strcmp(backend, "move_pages")) {
		/*
		 * The scan source cannot vanish under hotpaged: its raw_tp link
		 * holds the module (the move_pages backend holds nothing).
		 */
		long r = syscall(SYS_delete_module, KMIGRATED_MODULE_NAME, O_NONBLOCK);

		hp_check(r && (errno == EWOULDBLOCK || errno == EBUSY),
			 "rmmod kmigrated under the scan source: %s", r ? strerror(errno) : "done");
		printf("%s: rmmod refused while scan is attached: %s\n", backend, strerror(errno));
	}
	/*
	 * After the daemon, whose own memory comes out of node 0 too; the room
	 * is what hotpaged may fill, above the headroom it keeps by default.
	 */
	room = (int64_t)(w->nhot * KMT_PAGE * E2E_ROOM_HOT_SETS);
	filler = tier_filler_start(tier_headroom_bytes() + (uint64_t)room);
	printf("%s: sources %s, %zu hot + %zu cold pages on node 1, node 0 room %lld MiB "
	       "(hot set %zu MiB)\n",
	       backend, sources, w->nhot, w->ncold,
	       ((long long)tier_zone_free(0) - (long long)tier_headroom_bytes()) >> 20,
	       w->nhot * KMT_PAGE >> 20);

	vmstat0 = kmt_vmstat("pgmigrate_success");
	accepted0 = kmt_stat(-1, "accepted");
	migrated0 = kmt_stat(-1, "migrated");
	t0 = kmt_now_ms();
	e2e_work_start(w);
	while ((t = (kmt_now_ms() - t0) / 1000) < HOT_DEADLINE_S) {
		hp_check(e2e_daemon_alive(&d), "hotpaged exited");
		sleep(1);
		e2e_count(w, &hot, &cold);
		if (hot * 100 >= w->nhot * HOT_PCT_MIN)
			break;
		if (++polls % 5 == 0)
			printf("%s: %.0f s: hot %zu on node 0, cold %zu\n", backend, t, hot, cold);
	}
	t = (kmt_now_ms() - t0) / 1000;
	e2e_work_stop(w);
	on1 = e2e_outsider_on1(&outsider);
	e2e_daemon_stop(&d);
	if (!strcmp(backend, "kmigrated"))
		kmt_wait_idle(30000);
	vmstat = kmt_vmstat("pgmigrate_success") - vmstat0;
	accepted = kmt_stat(-1, "accepted") - accepted0;
	migrated = kmt_stat(-1, "migrated") - migrated0;
	promoted = e2e_daemon_stat(&d, "promoted");
	e2e_count(w, &hot, &cold);
	e2e_kill(filler);
	e2e_kill(outsider.pid);

	printf("%s: after %.1f s: hot %zu/%zu on node 0 (%.1f%%), cold %zu/%zu (%.2f%%); "
	       "%.0f accesses/s\n",
	       backend, t, hot, w->nhot, 100.0 * hot / w->nhot, cold, w->ncold,
	       100.0 * cold / w->ncold, w->accesses / t);
	printf("%s: counters: hotpaged promoted %lld, kmigrated accepted +%llu migrated +%llu, "
	       "pgmigrate_success +%lld\n",
	       backend, promoted, (unsigned long long)accepted, (unsigned long long)migrated,
	       vmstat);
	printf("%s: outsider: %zu/%d pages still on node 1\n", backend, on1, E2E_OUTSIDER_PAGES);
	fflush(stdout);

	hp_check(hot * 100 >= w->nhot * HOT_PCT_MIN,
		 "%s: %.1f%% of hot pages on node 0 after %d s, want >= %d%%", backend,
		 100.0 * hot / w->nhot, HOT_DEADLINE_S, HOT_PCT_MIN);
	hp_check(cold * 100 <= w->ncold * COLD_PCT_MAX,
		 "%s: %.2f%% of cold pages on node 0, want <= %d%%", backend,
		 100.0 * cold / w->ncold, COLD_PCT_MAX);
	hp_check(on1 == E2E_OUTSIDER_PAGES, "%s: the outsider has %zu of %d pages on node 1",
		 backend, on1, E2E_OUTSIDER_PAGES);
	hp_check(promoted >= 0, "%s: no stats line in %s", backend, d.log);
	/* Every page on node 0 got there through hotpaged. */
	hp_check((long long)(hot + cold) <= promoted, "%s: %zu pages on node 0, %lld promoted",
		 backend, hot + cold, promoted);
	if (!strcmp(backend, "kmigrated")) {
		hp_check((long long)accepted == promoted,
			 "kmigrated: hotpaged queued %lld, the module accepted %llu", promoted,
			 (unsigned long long)accepted);
		hp_check(migrated >= hot + cold, "kmigrated: %zu pages on node 0, %llu migrated",
			 hot + cold, (unsigned long long)migrated);
	} else {
		hp_check(accepted == 0, "move_pages: the module accepted %llu requests",
			 (unsigned long long)accepted);
		migrated = (uint64_t)promoted;
	}
	hp_check(vmstat >= (long long)migrated &&
			 vmstat <= (long long)(migrated + VMSTAT_SLACK_PAGES + migrated / 100),
		 "%s: pgmigrate_success +%lld for %llu pages migrated", backend, vmstat,
		 (unsigned long long)migrated);
}

static bool damon_offered(void)
{
	char root[PATH_MAX], cmd[PATH_MAX + 64];

	/* hotpage-sources says whether damon can run on this kernel. */
	kmt_repo_root(root, sizeof(root));
	snprintf(cmd, sizeof(cmd), "%s/build/bin/hotpage-sources | grep -q '^damon *available'",
		 root);
	return system(cmd) == 0;
}

/* Arguments: the backends to test (default: kmigrated move_pages). */
int main(int argc, char **argv)
{
	const char *tier = getenv("HOTPAGE_VM_TIER");
	const char *env = getenv("HOTPAGE_E2E_SOURCES");
	char path[PATH_MAX];
	struct e2e_work w;

	hp_require_root();
	if (!tier || strcmp(tier, "1") != 0)
		hp_skip("not a guest booted with tools/vmtest --tier");
	kmt_module_path(path, sizeof(path));
	/* Would move the hot pages to node 0 itself. */
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	kmt_load_or_fail("");
	if (env && *env)
		snprintf(sources, sizeof(sources), "%s", env);
	else if (damon_offered())
		snprintf(sources, sizeof(sources), "scan,damon");
	e2e_work_init(&w);
	if (argc > 1)
		for (int i = 1; i < argc; i++)
			run(&w, argv[i]);
	else {
		run(&w, "kmigrated");
		run(&w, "move_pages");
	}
	e2e_work_free(&w);
	hp_check(!kmt_unload(), "delete_module: %s", strerror(-errno));
	hp_settings_restore();
	printf("pass\n");
	return 0;
}
