// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark, run in a guest booted with --tier (make bench-e2e): tiering
 * systems side by side on the workloads of tests/lib/hp_tier.h, in three
 * states of the fast tier:
 *
 *   roomy        the workload on node 1, node 0 free for 1.5 hot sets
 *                above its headroom (the rest of it locked by a filler)
 *   nearly-full  the same with room for 1.1 hot sets
 *   full         the workload larger than node 0's free memory: its own
 *                first touch fills node 0, the rest lands on node 1
 *
 * and under each system, started before the workload allocates:
 *
 *   hotpage           hotpaged as a user starts it: `hotpaged -f`, no -s,
 *                     no -p; kmigrated.ko loaded with its defaults
 *   numa_balancing=2  the kernel's tiering mode
 *   damon             DAMON's two-way tiering as samples/damon/mtier.c
 *                     sets it up: a kdamond over node 1 with migrate_hot
 *                     to node 0, one over node 0 with migrate_cold to node
 *                     1, each with a 200 MiB/s quota weighted to the
 *                     hottest (coldest) and oldest regions; where the
 *                     kernel has them, the quota goals of node 0 99.7%
 *                     used and 0.5% free, tuned by the temporal tuner, and
 *                     young page filters (damon_goals.h)
 *   none              nothing moves pages up (the baseline)
 *
 * The kernel's demotion is on (demotion_enabled=1) for every row.
 *
 * Per row, over RUN_S seconds of touching: t50 and t90, when half and 90%
 * of the hot pages that were on node 1 are on node 0 (polled every half
 * second; null when never); cold pages that were on node 1 and ended on
 * node 0, in percent of the hot pages that had to move; pages moved by
 * anyone, both directions (pgmigrate_success); CPU seconds: the system's
 * own threads (hotpaged, the kmigrated threads; the kdamonds), kswapd and
 * kcompactd, and the workload's system time above the `none` row's (NUMA
 * balancing scans and takes hint faults in the workload's own context;
 * TLB shootdowns land there too), the same accounting for every row; and
 * the first touch's time (one page fault per page) under the system. In a
 * TCG guest both tiers are the same host memory: placement and cost, not
 * the workload's speed.
 *
 *   bench_e2e [--out FILE] [--seconds N] [--scenario NAME] [--system NAME]
 */
#include <sys/resource.h>
#include <sys/syscall.h>

#include "damon_goals.h"
#include "hp_e2e.h"
#include "hp_settings.h"
#include "hp_tier.h"
#include "node_ranges.h"

#define DAMON_ADMIN "/sys/kernel/mm/damon/admin/kdamonds"

static unsigned int run_s = 60;

struct scenario {
	const char *name;
	double size; /* workload pages, in node 0's free memory */
	double room_hot_sets; /* > 0: the workload on node 1, this much room on node 0 */
};

struct row {
	const struct scenario *sc;
	const char *system;
	double t50, t90; /* < 0: never */
	double cold_pct;
	long long moved;
	double cpu_s; /* all of it, with the workload's extra system time */
	double own_s, reclaim_s, workload_sys_s;
	double kthreads_s; /* of own_s: the kernel threads' (kmigrated's, the kdamonds') */
	double first_touch_s;
	size_t hot_on1;
	double rate;
};

/* This process's system time: the workload's (and the bench's own polling, alike in every row). */
static double process_sys_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void damon_write(const char *rel, const char *val)
{
	char path[256];
	int err;

	snprintf(path, sizeof(path), DAMON_ADMIN "/%s", rel);
	err = kmt_write(path, val);
	hp_check(!err, "write '%s' to %s: %s", val, path, strerror(-err));
}

/* Kdamond @k: paddr over @node's memory, one scheme @action to @target. */
static void damon_tier_ctx(int k, int node, const char *action, int target)
{
	struct hp_phys_ranges r = { 0 };
	char err[256], rel[128], text[64];
	int ret;

	ret = hp_node_ranges_read(HP_SYSFS_SYSTEM, 1ULL << node, &r, err, sizeof(err));
	hp_check(!ret && r.nr, "node %d's memory: %s", node, ret ? err : "none");
#define W(fmt, val)                                                                                \
	do {                                                                                       \
		snprintf(rel, sizeof(rel), "%d/contexts/0/" fmt, k);                               \
		damon_write(rel, val);                                                             \
	} while (0)
	snprintf(rel, sizeof(rel), "%d/contexts/nr_contexts", k);
	damon_write(rel, "1");
	W("operations", "paddr");
	W("targets/nr_targets", "1");
	W("targets/0/regions/nr_regions", "1");
	snprintf(text, sizeof(text), "%llu", (unsigned long long)r.v[0].start);
	W("targets/0/regions/0/start", text);
	snprintf(text, sizeof(text), "%llu", (unsigned long long)r.v[r.nr - 1].end);
	W("targets/0/regions/0/end", text);
	hp_phys_ranges_free(&r);
	W("schemes/nr_schemes", "1");
	W("schemes/0/action", action);
	snprintf(text, sizeof(text), "%d", target);
	W("schemes/0/target_nid", text);
	/* mtier.c: hot is any access in an aggregation, cold is none. */
	W("schemes/0/access_pattern/nr_accesses/min", !strcmp(action, "migrate_hot") ? "1" : "0");
	W("schemes/0/access_pattern/nr_accesses/max",
	  !strcmp(action, "migrate_hot") ? "4294967295" : "0");
	/* Of any size and age: both ranges are 0-0 in a new scheme, which matches nothing. */
	W("schemes/0/access_pattern/sz/max", "18446744073709551615");
	W("schemes/0/access_pattern/age/max", "4294967295");
	W("schemes/0/quotas/ms", "0");
	W("schemes/0/quotas/bytes", "209715200");
	W("schemes/0/quotas/reset_interval_ms", "1000");
	W("schemes/0/quotas/weights/sz_permil", "0");
	W("schemes/0/quotas/weights/nr_accesses_permil", "100");
	W("schemes/0/quotas/weights/age_permil", "100");
#undef W
	damon_tier_goals(DAMON_ADMIN, k, !strcmp(action, "migrate_hot"));
}

static void damon_tier_start(void)
{
	damon_write("nr_kdamonds", "2");
	damon_tier_ctx(0, 1, "migrate_hot", 0);
	damon_tier_ctx(1, 0, "migrate_cold", 1);
	damon_write("0/state", "on");
	damon_write("1/state", "on");
}

static void damon_tier_stop(void)
{
	damon_write("0/state", "off");
	damon_write("1/state", "off");
	damon_write("nr_kdamonds", "0");
}

/*
 * The system's own threads (@kthreads of them in the kernel), and the
 * kernel's reclaim threads: CPU seconds.
 */
static void system_cpu(const char *system, pid_t daemon, double *own, double *kthreads,
		       double *reclaim)
{
	*own = *kthreads = 0;
	if (!strcmp(system, "hotpage"))
		*kthreads = e2e_kthreads_cpu_s("kmigrated");
	else if (!strcmp(system, "damon"))
		*kthreads = e2e_kthreads_cpu_s("kdamond");
	*own = *kthreads + (daemon ? e2e_cpu_s(daemon) : 0);
	*reclaim = e2e_kthreads_cpu_s("kswapd") + e2e_kthreads_cpu_s("kcompactd");
}

/* Where hotpaged's time went, by stage: the row's CPU is the figure to cut. */
static void daemon_cpu_dump(void)
{
	char root[PATH_MAX], cmd[PATH_MAX + 128];

	kmt_repo_root(root, sizeof(root));
	snprintf(
		cmd, sizeof(cmd),
		"%s/build/bin/hotpagectl stats | grep -E 'cpu_|events|seen|sampled|dropped|rounds|scan_|thread_ns'",
		root);
	fflush(stdout);
	if (system(cmd)) {
		/* the daemon's stats are a diagnosis; the row stands without them */
	}
}

static void run(const struct scenario *sc, struct row *row)
{
	const char *const argv[] = { NULL };
	struct tier_opts o = {
		.hot_frac = 0.10, .hot_share = 0.90, .rate = 100000, .salt = 0x5eed
	};
	struct e2e_daemon d = { 0 };
	struct tier_result r;
	struct tier_work w;
	double own0, kt0, rec0, own1, kt1, rec1, sys0 = 0;
	pid_t filler = 0;
	char log[128];

	row->sc = sc;
	if (!strcmp(row->system, "hotpage")) {
		snprintf(log, sizeof(log), "/tmp/bench_e2e.%s.log", sc->name);
		e2e_daemon_start(&d, log, argv);
	} else if (!strcmp(row->system, "numa_balancing=2")) {
		hp_settings_set("/proc/sys/kernel/numa_balancing", "2", true);
	} else if (!strcmp(row->system, "damon")) {
		damon_tier_start();
	}
	o.pages = (size_t)((double)tier_node_free(0) * sc->size) / KMT_PAGE;
	tier_init(&w, &o);
	row->first_touch_s = w.first_touch_s;
	if (sc->room_hot_sets > 0) {
		kmt_place(w.p, o.pages, 1);
		filler = tier_filler_start(
			tier_headroom_bytes() +
			(uint64_t)(sc->room_hot_sets * (double)w.nhot * KMT_PAGE));
	}
	system_cpu(row->system, d.pid, &own0, &kt0, &rec0);
	sys0 = process_sys_s();
	tier_run(&w, run_s, run_s, NULL, NULL, &r);
	row->workload_sys_s = process_sys_s() - sys0;
	system_cpu(row->system, d.pid, &own1, &kt1, &rec1);
	row->own_s = own1 - own0;
	row->kthreads_s = kt1 - kt0;
	row->reclaim_s = rec1 - rec0;
	row->t50 = r.t50_s;
	row->t90 = r.t90_s;
	row->hot_on1 = w.hot_on1;
	row->cold_pct = w.hot_on1 ? 100.0 * (double)r.end.cold_up / (double)w.hot_on1 : 0;
	row->moved = r.moved;
	row->rate = r.touches_per_s;
	if (d.pid) {
		daemon_cpu_dump();
		e2e_daemon_stop(&d);
		kmt_wait_idle(30000);
	} else if (!strcmp(row->system, "damon")) {
		damon_tier_stop();
	}
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	e2e_kill(filler);
	tier_free(&w);
	printf("%s/%s: %zu hot pages to move; t50 %.1f t90 %.1f; cold %.2f%%; %lld moved; cpu: own "
	       "%.2f s (kernel threads %.2f s), kswapd+kcompactd %.2f s, workload system %.2f s; first touch %.1f s; %.0f "
	       "touches/s\n",
	       sc->name, row->system, row->hot_on1, row->t50, row->t90, row->cold_pct, row->moved,
	       row->own_s, row->kthreads_s, row->reclaim_s, row->workload_sys_s, row->first_touch_s,
	       row->rate);
	fflush(stdout);
}

static void fmt_s(char *buf, size_t len, double v)
{
	if (v < 0)
		snprintf(buf, len, "never");
	else
		snprintf(buf, len, "%.1f", v);
}

static void json_num(FILE *f, double v)
{
	if (v < 0)
		fprintf(f, "null");
	else
		fprintf(f, "%.2f", v);
}

static const struct scenario scenarios[] = {
	{ .name = "roomy", .size = 0.5, .room_hot_sets = 1.5 },
	{ .name = "nearly-full", .size = 0.5, .room_hot_sets = 1.1 },
	{ .name = "full", .size = 1.4 },
};
static const char *const systems[] = { "hotpage", "numa_balancing=2", "damon", "none" };
#define NR_SC (sizeof(scenarios) / sizeof(scenarios[0]))
#define NR_SYS (sizeof(systems) / sizeof(systems[0]))

int main(int argc, char **argv)
{
	struct row rows[NR_SC * NR_SYS];
	const char *out = NULL, *only_sc = NULL, *only_sys = NULL;
	size_t nr = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			run_s = (unsigned int)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--scenario") && i + 1 < argc)
			only_sc = argv[++i];
		else if (!strcmp(argv[i], "--system") && i + 1 < argc)
			only_sys = argv[++i];
		else
			hp_fail("usage: bench_e2e [--out FILE] [--seconds N] [--scenario NAME] "
				"[--system NAME]");
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	if (!getenv("HOTPAGE_VM_TIER") || strcmp(getenv("HOTPAGE_VM_TIER"), "1") != 0)
		hp_skip("needs a guest booted with tools/vmtest --tier");
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	hp_settings_set("/sys/kernel/mm/numa/demotion_enabled", "1", true);
	hp_settings_set("/sys/kernel/mm/transparent_hugepage/enabled", "never", true);
	/* DAMON_STAT (on from boot in 7.3) would keep any other kdamond from starting. */
	if (!access("/sys/module/damon_stat/parameters/enabled", W_OK))
		hp_settings_set("/sys/module/damon_stat/parameters/enabled", "N", true);
	kmt_load_or_fail("");
	for (size_t s = 0; s < NR_SC; s++) {
		if (only_sc && strcmp(only_sc, scenarios[s].name))
			continue;
		for (size_t y = 0; y < NR_SYS; y++) {
			if (only_sys && strcmp(only_sys, systems[y]))
				continue;
			rows[nr] = (struct row){ .system = systems[y] };
			run(&scenarios[s], &rows[nr++]);
		}
	}
	/* Every row's CPU: its own threads, reclaim, and the workload's system time above none's. */
	for (size_t i = 0; i < nr; i++) {
		double base = 0;

		for (size_t j = 0; j < nr; j++)
			if (rows[j].sc == rows[i].sc && !strcmp(rows[j].system, "none"))
				base = rows[j].workload_sys_s;
		rows[i].cpu_s = rows[i].own_s + rows[i].reclaim_s +
				(rows[i].workload_sys_s > base ? rows[i].workload_sys_s - base : 0);
	}
	hp_check(!kmt_unload(), "delete_module: %s", strerror(errno));
	hp_settings_restore();

	printf("\n%u s per row; kernel %s\n", run_s, getenv("HOTPAGE_VM_RELEASE") ?: "?");
	printf("%-12s %-17s %7s %7s %7s %9s %7s %7s %9s\n", "scenario", "system", "t50_s", "t90_s",
	       "cold%", "moved", "x_hot", "cpu_s", "1st_touch");
	for (size_t i = 0; i < nr; i++) {
		char a[16], b[16];

		fmt_s(a, sizeof(a), rows[i].t50);
		fmt_s(b, sizeof(b), rows[i].t90);
		printf("%-12s %-17s %7s %7s %7.2f %9lld %7.2f %7.2f %9.1f\n", rows[i].sc->name,
		       rows[i].system, a, b, rows[i].cold_pct, rows[i].moved,
		       rows[i].hot_on1 ? (double)rows[i].moved / (double)rows[i].hot_on1 : 0,
		       rows[i].cpu_s, rows[i].first_touch_s);
	}
	if (out) {
		FILE *f = fopen(out, "w");

		hp_check(f, "open %s: %s", out, strerror(errno));
		fprintf(f, "[\n");
		for (size_t i = 0; i < nr; i++) {
			fprintf(f, "  {\"scenario\": \"%s\", \"system\": \"%s\", \"t50_s\": ",
				rows[i].sc->name, rows[i].system);
			json_num(f, rows[i].t50);
			fprintf(f, ", \"t90_s\": ");
			json_num(f, rows[i].t90);
			fprintf(f,
				", \"cold_promoted_pct\": %.3f, \"pages_moved\": %lld, "
				"\"hot_pages_to_move\": %zu, \"cpu_s\": %.2f, \"cpu_own_s\": %.2f, "
				"\"cpu_kthreads_s\": %.2f, \"cpu_reclaim_s\": %.2f, \"workload_sys_s\": %.2f, "
				"\"first_touch_s\": %.2f, \"touches_per_s\": %.0f, \"seconds\": %u, "
				"\"kernel\": \"%s\"}%s\n",
				rows[i].cold_pct, rows[i].moved, rows[i].hot_on1, rows[i].cpu_s,
				rows[i].own_s, rows[i].kthreads_s, rows[i].reclaim_s,
				rows[i].workload_sys_s, rows[i].first_touch_s, rows[i].rate, run_s,
				getenv("HOTPAGE_VM_RELEASE") ?: "", i + 1 < nr ? "," : "");
		}
		fprintf(f, "]\n");
		fclose(f);
	}
	printf("pass\n");
	return 0;
}
