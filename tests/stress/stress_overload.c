// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: overload. hotpaged runs its fault source at full rate (period=1,
 * every fault of every process) and the scan source, with the kmigrated
 * backend, while
 *  - STORMERS processes fault pages in as fast as they can (map, touch,
 *    unmap 16 MiB, again);
 *  - this test offers kmigrated.ko FLOOD_PAGES real node-1 pages over and
 *    over (kfunc batches), far beyond its rate limit
 *    (rate_limit_mbps=RATE_MBPS) and its queues (queue_depth=QUEUE_DEPTH),
 *    putting the moved pages back on node 1 each round;
 *  - hotpaged is stopped (SIGSTOP) until its rings overflow.
 * Checked: hotpaged's peak RSS within its budget (its tables plus fixed
 * overhead, tests/lib/hp_stress.h), the module's queue never above its
 * depth, drops counted (hotpaged's source drops, the module's queue-full
 * refusals, every request accounted), the rate limit held, a pipe
 * ping-pong kept running (worst round trip under PROBE_MAX_MS), and once
 * the load stops, a new hot working set is promoted within RECOVER_S.
 */
#include "daemon.h"
#include "hotpage/event.h"
#include "hp_settings.h"
#include "hp_stress.h"

#define STORMERS 2
#define STORM_MAP (16UL << 20)
#define STORM_S 12
/*
 * hotpaged is stopped until the stormers have faulted STALL_RINGS times
 * what its rings hold (HP_DAEMON_RING_BYTES of 64-byte records per CPU), at most
 * STALL_MAX_S: full rings, counted drops, whatever the fault rate.
 */
#define STALL_RINGS 2
#define STALL_MAX_S 30
#define FLOOD_PAGES 4096
#define FLOOD_ROUND_MS 1000 /* resubmitted for this long after each re-placement */
#define QUEUE_DEPTH 1024
#define RATE_MBPS 4
/*
 * A round trip is two wakeups; the scheduler runs a woken task within its
 * latency target (milliseconds). Seconds mean a stalled guest (soft
 * lockup, a kernel thread spinning without a reschedule point).
 */
#define PROBE_MAX_MS 2000
#define RECOVER_PAGES 1024
#define RECOVER_S 60
#define HOT_PCT_MIN 90

struct storm_shared {
	volatile int stop;
	volatile long long faults[STORMERS];
};

static long long storm_faults(const struct storm_shared *sh)
{
	long long n = 0;

	for (int i = 0; i < STORMERS; i++)
		n += sh->faults[i];
	return n;
}

static pid_t start_stormer(struct storm_shared *sh, int idx)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	hp_check(pid >= 0, "fork: %s", strerror(errno));
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	while (!sh->stop) {
		char *m = mmap(NULL, STORM_MAP, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (m == MAP_FAILED)
			_exit(2);
		madvise(m, STORM_MAP, MADV_NOHUGEPAGE);
		for (size_t i = 0; i < STORM_MAP && !sh->stop; i += KMT_PAGE) {
			m[i] = (char)i;
			sh->faults[idx]++;
		}
		munmap(m, STORM_MAP);
	}
	_exit(0);
}

/* PFNs of the flood's pages into requests to node 0; pages not on node 1 left out. */
static size_t flood_requests(char *p, uint64_t *pfns, int *status, struct kmigrated_req *reqs)
{
	size_t n = 0;

	kmt_move(p, FLOOD_PAGES, 1, status); /* back to node 1; busy pages stay */
	kmt_pfns(p, FLOOD_PAGES, pfns);
	for (size_t i = 0; i < FLOOD_PAGES; i++) {
		if (status[i] != 1 || !pfns[i])
			continue;
		memset(&reqs[n], 0, sizeof(reqs[n]));
		reqs[n].pfn = pfns[i];
		reqs[n].node = 0;
		n++;
	}
	return n;
}

int main(void)
{
	uint64_t s0[KMIGRATED_NR_STATS], s1[KMIGRATED_NR_STATS], refused = 0, max_queued = 0;
	uint64_t rss_max = 0, hwm, *pfns = calloc(FLOOD_PAGES, 8);
	int *status = calloc(FLOOD_PAGES, sizeof(int)), kmsg, problems = 0;
	struct kmigrated_req *reqs = calloc(FLOOD_PAGES, sizeof(*reqs));
	long long offered = 0, accepted = 0, rounds = 0, faults = 0, drops0, drops1, promoted0;
	long long promoted1, events0, events1;
	struct kmt_progs *progs;
	struct storm_shared *sh;
	struct hps_daemon d = { 0 };
	struct hps_probe probe;
	struct hps_writer w;
	pid_t storm[STORMERS];
	double t0, elapsed, t_stall, mib_s, stall_t0 = 0, stall_s = 0;
	long long stall_f0 = 0, stall_faults;
	bool stalled = false;
	size_t hot_on = 0, nhot = 0, cold_on;
	char *p;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	hp_check(pfns && status && reqs, "calloc");
	if (access("/sys/devices/system/node/node1/meminfo", R_OK))
		hp_skip("needs two memory nodes");
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	kmsg = kmt_kmsg_open();
	{
		char params[96];

		snprintf(params, sizeof(params), "queue_depth=%d rate_limit_mbps=%d", QUEUE_DEPTH,
			 RATE_MBPS);
		kmt_load_or_fail(params);
	}
	hp_check(!kmt_set("scan_period_ms", "250"), "scan_period_ms: %s", strerror(errno));
	progs = kmt_open_programs(false);
	p = kmt_map_pages(FLOOD_PAGES, 5);
	/* Shared with the children forked below, move_pages(2) would refuse them (EACCES). */
	hp_check(!madvise(p, FLOOD_PAGES * KMT_PAGE, MADV_DONTFORK), "madvise: %s",
		 strerror(errno));
	kmt_place(p, FLOOD_PAGES, 1);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	hp_check(sh != MAP_FAILED, "mmap: %s", strerror(errno));
	memset((void *)sh, 0, sizeof(*sh));

	{
		const char *args[] = { "-s", "fault,scan",	  "-p", "period=1",
				       "-p", "backend=kmigrated", "-p", "target=0",
				       "-p", "window_ms=1000",	  "-p", "threshold=2",
				       "-p", "pingpong_ms=60000", "-p", "stats=1",
				       NULL };

		hps_daemon_start(&d, "overload", args);
	}
	hps_probe_start(&probe);
	for (int i = 0; i < STORMERS; i++)
		storm[i] = start_stormer(sh, i);
	stall_faults = STALL_RINGS * (long long)HP_DAEMON_RING_BYTES /
		       (long long)sizeof(struct hp_event) * sysconf(_SC_NPROCESSORS_ONLN);
	kmt_stats(-1, s0);
	usleep(1500 * 1000); /* a stats line */
	drops0 = hps_daemon_stat(&d, "drops");
	events0 = hps_daemon_stat(&d, "events");
	printf("load: %d fault stormers (16 MiB map/touch/unmap loops), hotpaged -s fault,scan "
	       "period=1 backend=kmigrated, kfunc flood of %d node-1 pages resubmitted for %d ms "
	       "after each re-placement, module queue_depth=%d rate_limit_mbps=%d, for %d s; "
	       "hotpaged stopped until %d x its rings' capacity faulted\n",
	       STORMERS, FLOOD_PAGES, FLOOD_ROUND_MS, QUEUE_DEPTH, RATE_MBPS, STORM_S, STALL_RINGS);

	t0 = kmt_now_ms();
	t_stall = t0 + STORM_S * 1000.0 / 3;
	while ((elapsed = kmt_now_ms() - t0) < STORM_S * 1000.0 || stalled) {
		size_t n = flood_requests(p, pfns, status, reqs);
		double round_end = kmt_now_ms() + FLOOD_ROUND_MS;
		uint64_t rss;

		do {
			uint64_t q;

			accepted += kmt_submit(progs, reqs, n);
			offered += (long long)n;
			q = kmt_stat(-1, KMIGRATED_SYSFS_QUEUED);
			if (q > max_queued)
				max_queued = q;
		} while (n && kmt_now_ms() < round_end);
		rounds++;
		rss = hps_proc_kb(d.pid, "VmRSS");
		if (rss > rss_max)
			rss_max = rss;
		if (t_stall && kmt_now_ms() >= t_stall) {
			/* The consumer stalls; the producers go on into full rings. */
			hp_check(!kill(d.pid, SIGSTOP), "SIGSTOP: %s", strerror(errno));
			stalled = true;
			stall_t0 = kmt_now_ms();
			stall_f0 = storm_faults(sh);
			t_stall = 0;
		}
		if (stalled && (storm_faults(sh) - stall_f0 >= stall_faults ||
				kmt_now_ms() - stall_t0 > STALL_MAX_S * 1000.0)) {
			hp_check(!kill(d.pid, SIGCONT), "SIGCONT: %s", strerror(errno));
			stalled = false;
			stall_s = (kmt_now_ms() - stall_t0) / 1000;
			stall_f0 = storm_faults(sh) - stall_f0;
		}
		hp_check(hps_daemon_alive(&d), "hotpaged died under load (log %s)", d.log);
	}
	printf("stall: hotpaged stopped %.1f s while the stormers faulted %lld times (rings hold "
	       "%lld records)\n",
	       stall_s, stall_f0, stall_faults / STALL_RINGS);
	sh->stop = 1;
	for (int i = 0; i < STORMERS; i++) {
		waitpid(storm[i], NULL, 0);
		faults += sh->faults[i];
	}
	hps_probe_stop(&probe);
	hwm = hps_proc_kb(d.pid, "VmHWM");
	kmt_wait_idle(120000);
	kmt_stats(-1, s1);
	for (int i = 0; i < KMIGRATED_NR_STATS; i++)
		s1[i] -= s0[i];
	sleep(2); /* a stats line after the storm */
	drops1 = hps_daemon_stat(&d, "drops");
	events1 = hps_daemon_stat(&d, "events");
	mib_s = (double)s1[KMIGRATED_STAT_BYTES] / (1 << 20) / (elapsed / 1000);
	printf("storm: %lld faults by the stormers (%.0f/s), hotpaged events +%lld, source drops "
	       "+%lld\n",
	       faults, (double)faults * 1000 / elapsed, events1 - events0, drops1 - drops0);
	printf("flood: %lld requests offered in %lld rounds (%.0f MiB/s offered vs %d MB/s limit), "
	       "%lld queued by the kfunc\n",
	       offered, rounds, (double)offered * KMT_PAGE / (1 << 20) / (elapsed / 1000),
	       RATE_MBPS, accepted);
	kmt_print_stats("module deltas", s1);
	printf("module: queue peak %llu (depth %d per node), migrated %.1f MiB/s, throttled %llu\n",
	       (unsigned long long)max_queued, QUEUE_DEPTH, mib_s,
	       (unsigned long long)s1[KMIGRATED_STAT_THROTTLED]);
	printf("hotpaged: RSS peak sampled %.1f MiB, VmHWM %.1f MiB, budget %.0f MiB (table %.0f + "
	       "overhead %.0f)\n",
	       (double)rss_max / (1 << 20), (double)hwm / (1 << 20),
	       (double)HPS_RSS_BUDGET / (1 << 20), (double)HPS_TABLES_BUDGET / (1 << 20),
	       (double)HPS_RSS_OVERHEAD / (1 << 20));
	printf("probe: %lld pipe round trips, mean %.2f ms, worst %.1f ms, %lld over 10 ms\n",
	       (long long)probe.sh->trips, probe.sh->sum_ms / (double)probe.sh->trips,
	       probe.sh->max_ms, (long long)probe.sh->over_10ms);

	hp_check(hwm <= HPS_RSS_BUDGET, "hotpaged's peak RSS %llu bytes is over its budget %llu",
		 (unsigned long long)hwm, (unsigned long long)HPS_RSS_BUDGET);
	hp_check(max_queued <= 2 * QUEUE_DEPTH, "queued %llu, over 2 nodes x depth %d",
		 (unsigned long long)max_queued, QUEUE_DEPTH);
	hp_check(s1[KMIGRATED_STAT_REFUSED_QUEUE_FULL] > 0, "the flood never filled a queue");
	hp_check(drops1 > drops0, "hotpaged counted no source drops across a %.1f s stall",
		 stall_s);
	hp_check(s1[KMIGRATED_STAT_THROTTLED] > 0, "the rate limit never throttled");
	/* The limit in MB/s, a burst of one second's worth at the start. */
	hp_check(mib_s <= RATE_MBPS * 1.25 + RATE_MBPS / (elapsed / 1000),
		 "migrated %.1f MiB/s, limit %d MB/s", mib_s, RATE_MBPS);
	hp_check(probe.sh->trips > STORM_S * 10, "only %lld round trips in %d s",
		 (long long)probe.sh->trips, STORM_S);
	hp_check(probe.sh->max_ms < PROBE_MAX_MS, "worst round trip %.0f ms", probe.sh->max_ms);

	/* Recovery: a new hot working set on node 1, with the load gone. */
	promoted0 = hps_daemon_stat(&d, "promoted");
	hps_writer_start(&w, RECOVER_PAGES, 99, 1, 1);
	t0 = kmt_now_ms();
	while (kmt_now_ms() - t0 < RECOVER_S * 1000.0) {
		usleep(500 * 1000);
		hps_count_nodes(w.pid, (uintptr_t)w.area, RECOVER_PAGES, 0, 1, &hot_on, &nhot,
				&cold_on);
		if (hot_on * 100 >= nhot * HOT_PCT_MIN)
			break;
	}
	elapsed = kmt_now_ms() - t0;
	w.sh->stop = 1;
	usleep(200 * 1000);
	{
		long long passes, bad;

		hps_writer_finish(&w, &passes, &bad);
		hp_check(!bad, "recovery writer: %lld bad pages", bad);
	}
	sleep(1);
	promoted1 = hps_daemon_stat(&d, "promoted");
	printf("recovery: %zu/%zu hot pages of a new working set on node 0 in %.1f s; hotpaged "
	       "promoted +%lld\n",
	       hot_on, nhot, elapsed / 1000, promoted1 - promoted0);
	hp_check(hot_on * 100 >= nhot * HOT_PCT_MIN, "promotion did not recover in %d s",
		 RECOVER_S);
	hps_daemon_stop(&d);
	kmt_wait_idle(60000);
	kmt_stats(-1, s1);
	for (int i = KMIGRATED_STAT_REFUSED_FIRST; i <= KMIGRATED_STAT_REFUSED_LAST; i++)
		refused += s1[i];
	hp_check(s1[KMIGRATED_STAT_ACCEPTED] + refused == s1[KMIGRATED_STAT_REQUESTS],
		 "accepted %llu + refused %llu != requests %llu",
		 (unsigned long long)s1[KMIGRATED_STAT_ACCEPTED], (unsigned long long)refused,
		 (unsigned long long)s1[KMIGRATED_STAT_REQUESTS]);
	hp_check(kmt_isolated() == 0, "pages left isolated");
	kmt_close_programs(progs);
	hp_check(!kmt_unload(), "delete_module: %s", strerror(errno));
	kmt_kmsg_scan(kmsg, NULL, NULL, 0, &problems);
	hp_check(!problems, "%d kernel problem reports", problems);
	hp_settings_restore();
	printf("pass\n");
	return 0;
}
