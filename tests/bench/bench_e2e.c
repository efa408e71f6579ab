// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark, run in a Debian 6.12 (or 7.3) guest booted with --tier (make
 * bench-e2e [E2E_KERNEL=7.3]): issue 5's constrained workload (tests/lib/hp_e2e.h: 256 MiB
 * on node 1, a hashed 10% of the pages gets 90% of 50 k accesses/s, node 0
 * free for about twice the hot set) under each system for RUN_S seconds:
 *
 *   hotpage-kmigrated   hotpaged, sources scan + damon, kmigrated backend
 *   hotpage-move_pages  the same with the move_pages backend
 *   numa_balancing=2    the kernel's tiering mode (hotpaged not running)
 *   damon-migrate_hot   a DAMON paddr context on node 1's memory with one
 *                       DAMOS scheme, action migrate_hot, target_nid 0
 *                       (with a quota goal on node 0's use where the
 *                       kernel has one: damon_promote_goal())
 *   none                nothing promotes (the baseline)
 *
 * Per row: seconds from the first access until 50% and 90% of the hot
 * pages are on node 0 (polled every POLL_MS; null when never), cold pages
 * on node 0 at the end in percent, and CPU seconds: hotpaged's process
 * plus the kmigrated* threads (migration and the scanner) plus the
 * kdamond hotpage's damon source started, from the first access on
 * (hotpaged's start-up, loading the sources, not counted); DAMON's kdamond (it also
 * migrates); for numa_balancing=2 the workload thread's system time above
 * the `none` row's (its NUMA scanning and hint faults run in the
 * workload's own context, task_numa_work and the fault path); kswapd and
 * kcompactd are not counted in any row. In a TCG guest both tiers are the
 * same host memory: placement and cost, not the workload's speed.
 *
 *   bench_e2e [--out FILE] [--seconds N]
 */
#include <sys/syscall.h>

#include "hp_e2e.h"
#include "hp_settings.h"
#include "node_ranges.h"

#define POLL_MS 500
#define DAMON_ADMIN "/sys/kernel/mm/damon/admin/kdamonds"

static unsigned int run_s = 90;

struct row {
	const char *system;
	double t50, t90; /* < 0: never */
	double cold_pct;
	double cpu_s;
	double workload_sys_s;
	double rate;
};

static double thread_sys_s(pid_t tid)
{
	char path[64], buf[1024], *p;
	unsigned long long st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)getpid(), (int)tid);
	f = fopen(path, "r");
	hp_check(f, "open %s: %s", path, strerror(errno));
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	p = strrchr(buf, ')');
	hp_check(p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %llu", &st) ==
				 1,
		 "parse %s", path);
	return (double)st / (double)sysconf(_SC_CLK_TCK);
}

static void damon_write(const char *rel, const char *val)
{
	char path[256];
	int err;

	snprintf(path, sizeof(path), DAMON_ADMIN "/%s", rel);
	err = kmt_write(path, val);
	hp_check(!err, "write '%s' to %s: %s", val, path, strerror(-err));
}

/*
 * DAMON at its best where the kernel allows: the promotion side of
 * samples/damon/mtier.c's tiering setup, on scheme 0 of kdamond 0. A
 * size quota (200 MiB per second) spent on the hottest, oldest regions
 * first, with a goal that node 0 end 99.7% used (node_mem_used_bp,
 * 6.16+: goals have a nid there), and only the pages of a region found
 * accessed (a young filter) move. The goal is tuned by the temporal
 * tuner (goal_tuner, 7.x): the whole quota until the goal is met, then
 * none. The default tuner starts the quota from a byte and grows it by
 * how far the goal is, which on this node 0 (95% used at the start)
 * moves nothing within a run; without the temporal tuner the scheme
 * keeps no quota, as on 6.12. The demotion side (migrate_cold with
 * node_mem_free_bp on node 0) is left out, as is any demotion in this
 * row: node 0 has room for the hot set. Returns false, with nothing of
 * it left, where the goal cannot be set that way.
 */
static bool damon_promote_goal(void)
{
#define SCHEME "0/contexts/0/schemes/0/"
	if (kmt_write(DAMON_ADMIN "/" SCHEME "quotas/goals/nr_goals", "1"))
		return false;
	if (access(DAMON_ADMIN "/" SCHEME "quotas/goals/0/nid", W_OK) ||
	    kmt_write(DAMON_ADMIN "/" SCHEME "quotas/goals/0/target_metric", "node_mem_used_bp") ||
	    kmt_write(DAMON_ADMIN "/" SCHEME "quotas/goal_tuner", "temporal")) {
		damon_write(SCHEME "quotas/goals/nr_goals", "0");
		return false;
	}
	damon_write(SCHEME "quotas/goals/0/nid", "0");
	damon_write(SCHEME "quotas/goals/0/target_value", "9970");
	damon_write(SCHEME "quotas/bytes", "209715200");
	damon_write(SCHEME "quotas/reset_interval_ms", "1000");
	damon_write(SCHEME "quotas/weights/sz_permil", "0");
	damon_write(SCHEME "quotas/weights/nr_accesses_permil", "100");
	damon_write(SCHEME "quotas/weights/age_permil", "100");
	damon_write(SCHEME "filters/nr_filters", "1");
	damon_write(SCHEME "filters/0/type", "young");
	damon_write(SCHEME "filters/0/matching", "Y");
	damon_write(SCHEME "filters/0/allow", "Y");
	return true;
#undef SCHEME
}

/* One kdamond: paddr over node 1's memory, scheme migrate_hot to node 0. */
static pid_t damon_migrate_hot_start(void)
{
	struct hp_phys_ranges r = { 0 };
	char err[256], text[64];
	int ret;

	ret = hp_node_ranges_read(HP_SYSFS_SYSTEM, 1ULL << 1, &r, err, sizeof(err));
	hp_check(!ret && r.nr, "node 1's memory: %s", ret ? err : "none");
	damon_write("nr_kdamonds", "1");
	damon_write("0/contexts/nr_contexts", "1");
	damon_write("0/contexts/0/operations", "paddr");
	damon_write("0/contexts/0/targets/nr_targets", "1");
	damon_write("0/contexts/0/targets/0/regions/nr_regions", "1");
	snprintf(text, sizeof(text), "%llu", (unsigned long long)r.v[0].start);
	damon_write("0/contexts/0/targets/0/regions/0/start", text);
	snprintf(text, sizeof(text), "%llu", (unsigned long long)r.v[r.nr - 1].end);
	damon_write("0/contexts/0/targets/0/regions/0/end", text);
	hp_phys_ranges_free(&r);
	damon_write("0/contexts/0/schemes/nr_schemes", "1");
	damon_write("0/contexts/0/schemes/0/action", "migrate_hot");
	damon_write("0/contexts/0/schemes/0/target_nid", "0");
	/* Any region seen accessed at least once in an aggregation interval. */
	damon_write("0/contexts/0/schemes/0/access_pattern/nr_accesses/min", "1");
	damon_write("0/contexts/0/schemes/0/access_pattern/nr_accesses/max", "4294967295");
	/* Of any size and age: both ranges are 0-0 in a new scheme, which matches nothing. */
	damon_write("0/contexts/0/schemes/0/access_pattern/sz/max", "18446744073709551615");
	damon_write("0/contexts/0/schemes/0/access_pattern/age/max", "4294967295");
	printf("damon-migrate_hot: %s\n",
	       damon_promote_goal()
		       ? "quota goal node_mem_used_bp 9970 on node 0 (temporal tuner), young filter"
		       : "no quota goal on node memory with the temporal tuner here: no quota");
	damon_write("0/state", "on");
	kmt_read_str(DAMON_ADMIN "/0/pid", text, sizeof(text));
	hp_check(atoi(text) > 0, "kdamond did not start (pid %s)", text);
	return atoi(text);
}

static void damon_stop(void)
{
	damon_write("0/state", "off");
	damon_write("nr_kdamonds", "0");
}

/* hotpaged, the kmigrated threads, hotpage's kdamond: CPU seconds so far. */
static void hotpage_cpu(pid_t daemon, double *parts)
{
	parts[0] = e2e_cpu_s(daemon);
	parts[1] = e2e_kthreads_cpu_s("kmigrated");
	parts[2] = e2e_kthreads_cpu_s("kdamond");
}

static void run(struct e2e_work *w, struct row *row)
{
	char be[64], scope[64], log[96];
	const char *argv[] = { "-s",  "scan,damon", "-p",	   be,	 "-p",
			       scope, "-p",	    "threshold=4", "-p", "window_ms=1000",
			       "-p",  "stats=5",    NULL };
	bool hotpage = !strncmp(row->system, "hotpage", 7);
	struct e2e_daemon d = { 0 };
	pid_t filler, kdamond = 0;
	double t0, t, cpu0 = 0, sys0, parts0[3] = { 0 }, parts[3];
	size_t hot = 0, cold = 0;

	row->t50 = row->t90 = -1;
	kmt_place(w->p, E2E_PAGES, 1);
	if (hotpage) {
		snprintf(be, sizeof(be), "backend=%s", row->system + 8);
		snprintf(scope, sizeof(scope), "scope=tgids:%d", (int)getpid());
		snprintf(log, sizeof(log), "/tmp/bench_e2e.%s.log", row->system + 8);
		e2e_daemon_start(&d, log, argv);
	}
	filler = e2e_filler_start((int64_t)(w->nhot * KMT_PAGE * E2E_ROOM_HOT_SETS));
	if (!strcmp(row->system, "numa_balancing=2"))
		hp_settings_set("/proc/sys/kernel/numa_balancing", "2", true);
	if (!strcmp(row->system, "damon-migrate_hot")) {
		kdamond = damon_migrate_hot_start();
		cpu0 = e2e_cpu_s(kdamond);
	}
	if (hotpage)
		hotpage_cpu(d.pid, parts0); /* from the first access: start-up not counted */
	t0 = kmt_now_ms();
	e2e_work_start(w);
	usleep(100 * 1000);
	sys0 = thread_sys_s(w->tid);
	while ((t = (kmt_now_ms() - t0) / 1000) < run_s) {
		usleep(POLL_MS * 1000);
		t = (kmt_now_ms() - t0) / 1000;
		e2e_count(w, &hot, &cold);
		if (row->t50 < 0 && hot * 2 >= w->nhot)
			row->t50 = t;
		if (row->t90 < 0 && hot * 10 >= w->nhot * 9)
			row->t90 = t;
	}
	row->workload_sys_s = thread_sys_s(w->tid) - sys0;
	row->rate = w->accesses / t;
	e2e_work_stop(w);
	if (hotpage) {
		hotpage_cpu(d.pid, parts);
		row->cpu_s = 0;
		for (int i = 0; i < 3; i++)
			row->cpu_s += parts[i] - parts0[i];
		printf("%s: cpu: hotpaged %.2f s, kmigrated threads %.2f s, kdamond %.2f s\n",
		       row->system, parts[0] - parts0[0], parts[1] - parts0[1],
		       parts[2] - parts0[2]);
		e2e_daemon_stop(&d);
		kmt_wait_idle(30000);
	} else if (kdamond) {
		row->cpu_s = e2e_cpu_s(kdamond) - cpu0;
		damon_stop();
	} else {
		row->cpu_s = 0;
	}
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	e2e_count(w, &hot, &cold);
	row->cold_pct = 100.0 * cold / w->ncold;
	e2e_kill(filler);
	printf("%s: hot %zu/%zu on node 0 at the end, cold %zu; %.0f accesses/s\n", row->system,
	       hot, w->nhot, cold, row->rate);
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

int main(int argc, char **argv)
{
	struct row rows[] = {
		{ .system = "hotpage-kmigrated" },
		{ .system = "hotpage-move_pages" },
		{ .system = "numa_balancing=2" },
		{ .system = "damon-migrate_hot" },
		{ .system = "none" },
	};
	const size_t nr = sizeof(rows) / sizeof(rows[0]);
	const char *out = NULL;
	char path[PATH_MAX];
	struct e2e_work w;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			run_s = (unsigned int)atoi(argv[++i]);
		else
			hp_fail("usage: bench_e2e [--out FILE] [--seconds N]");
	}
	hp_require_root();
	if (!getenv("HOTPAGE_VM_TIER") || strcmp(getenv("HOTPAGE_VM_TIER"), "1") != 0)
		hp_skip("needs a guest booted with tools/vmtest --tier");
	kmt_module_path(path, sizeof(path));
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	/* DAMON_STAT (on from boot in 7.3) would keep any other kdamond from starting. */
	if (!access("/sys/module/damon_stat/parameters/enabled", W_OK))
		hp_settings_set("/sys/module/damon_stat/parameters/enabled", "N", true);
	kmt_load_or_fail("");
	hp_check(!kmt_set("scan_period_ms", "250"), "scan_period_ms: %s", strerror(errno));
	e2e_work_init(&w);
	for (size_t i = 0; i < nr; i++)
		run(&w, &rows[i]);
	/* numa_balancing=2: the workload's extra system time is the kernel's work. */
	rows[2].cpu_s = rows[2].workload_sys_s - rows[nr - 1].workload_sys_s;
	if (rows[2].cpu_s < 0)
		rows[2].cpu_s = 0;
	e2e_work_free(&w);
	hp_check(!kmt_unload(), "delete_module: %s", strerror(errno));
	hp_settings_restore();

	printf("\n%d s per system, %zu hot + %zu cold pages, node 0 room %d hot sets\n", run_s,
	       w.nhot, w.ncold, E2E_ROOM_HOT_SETS);
	printf("%-20s %8s %8s %8s %8s\n", "system", "t50_s", "t90_s", "cold%", "cpu_s");
	for (size_t i = 0; i < nr; i++) {
		char a[16], b[16];

		fmt_s(a, sizeof(a), rows[i].t50);
		fmt_s(b, sizeof(b), rows[i].t90);
		printf("%-20s %8s %8s %8.2f %8.2f\n", rows[i].system, a, b, rows[i].cold_pct,
		       rows[i].cpu_s);
	}
	if (out) {
		FILE *f = fopen(out, "w");

		hp_check(f, "open %s: %s", out, strerror(errno));
		fprintf(f, "[\n");
		for (size_t i = 0; i < nr; i++) {
			fprintf(f, "  {\"system\": \"%s\", \"t50_s\": ", rows[i].system);
			json_num(f, rows[i].t50);
			fprintf(f, ", \"t90_s\": ");
			json_num(f, rows[i].t90);
			fprintf(f, ", \"cold_promoted_pct\": %.3f, \"cpu_s\": %.2f}%s\n",
				rows[i].cold_pct, rows[i].cpu_s, i + 1 < nr ? "," : "");
		}
		fprintf(f, "]\n");
		fclose(f);
	}
	printf("pass\n");
	return 0;
}
