// SPDX-License-Identifier: GPL-2.0
/* The tier_exchange scenarios: hotpaged's defaults against a full fast tier. */
#include "hp_exchange_test.h"

static bool exchange_alive(void *arg)
{
	return e2e_daemon_alive(arg);
}

static void exchange_ctl(const char *args)
{
	char root[PATH_MAX], cmd[PATH_MAX + 128];

	kmt_repo_root(root, sizeof(root));
	snprintf(cmd, sizeof(cmd), "%s/build/bin/hotpagectl %s > /dev/null", root, args);
	hp_check(system(cmd) == 0, "%s failed", cmd);
}

/* hotpaged's counter @key (hotpagectl stats, section daemon). */
static long long exchange_daemon_counter(const char *key)
{
	char root[PATH_MAX], cmd[PATH_MAX + 128], line[256];
	long long v = -1;
	FILE *f;

	kmt_repo_root(root, sizeof(root));
	snprintf(cmd, sizeof(cmd), "%s/build/bin/hotpagectl stats", root);
	f = popen(cmd, "r");
	hp_check(f, "popen %s", cmd);
	while (fgets(line, sizeof(line), f)) {
		char k[64];
		long long x;

		if (sscanf(line, " %63s %lld", k, &x) == 2 && !strcmp(k, key)) {
			v = x;
			break;
		}
	}
	while (fgets(line, sizeof(line), f))
		;
	hp_check(pclose(f) == 0 && v >= 0, "hotpagectl stats: no %s", key);
	return v;
}

static void exchange_check(const char *what, const struct exchange_scenario *s,
			   const struct tier_work *w, const struct tier_result *r)
{
	unsigned int moved_x = s->moved_x_max ? s->moved_x_max : MOVED_X_MAX;
	size_t need = w->hot_on1;

	printf("%s: %zu hot pages (%zu on node 1), %zu cold on node 1; t50 %.1f s, t90 %.1f s; "
	       "after %.1f s: %zu hot up, %zu cold up, %lld pages moved (%.2fx the hot set, "
	       "%.2fx the hot pages to bring up), %.0f touches/s; kernel promoted %lld, demoted "
	       "%lld\n",
	       what, w->nhot, need, w->cold_on1, r->t50_s, r->t90_s, r->secs, r->end.hot_up,
	       r->end.cold_up, r->moved, (double)r->moved / (double)w->nhot,
	       need ? (double)r->moved / (double)need : 0, r->touches_per_s, r->kernel_promoted,
	       r->kernel_demoted);
	hp_check(need >= 256, "%s: only %zu hot pages on node 1: the setup proves nothing", what,
		 need);
	hp_check(r->t90_s >= 0 && r->t90_s <= EXCHANGE_DEADLINE_S,
		 "%s: %zu of %zu hot pages up after %.0f s, want %d%%", what, r->end.hot_up, need,
		 r->secs, HOT_PCT_MIN);
	hp_check(r->end.hot_up * 100 >= need * HOT_PCT_MIN,
		 "%s: only %zu of %zu hot pages still up %d s after the %d%% mark", what,
		 r->end.hot_up, need, EXCHANGE_SETTLE_S, HOT_PCT_MIN);
	hp_check(r->end.cold_up * 100 <= need * COLD_PCT_MAX,
		 "%s: %zu cold pages promoted, more than %d%% of the %zu hot ones", what,
		 r->end.cold_up, COLD_PCT_MAX, need);
	hp_check(r->moved <= (long long)(w->nhot * moved_x),
		 "%s: %lld pages moved, more than %ux the hot set (%zu pages)", what, r->moved,
		 moved_x, w->nhot);
}

/* Module and kernel counters over the run against hotpaged's. */
static void exchange_counters(const char *what, const struct e2e_daemon *d, const long long *before,
			      const uint64_t *m0, const uint64_t *m1, long long moved,
			      long long kernel_demoted, long long compacted, long long collapsed)
{
	long long promoted = e2e_daemon_stat(d, "promoted") - before[0];
	long long demoted = e2e_daemon_stat(d, "demoted") - before[1];
	uint64_t migrated = m1[KMIGRATED_STAT_MIGRATED] - m0[KMIGRATED_STAT_MIGRATED];
	uint64_t mdemoted = m1[KMIGRATED_STAT_DEMOTED] - m0[KMIGRATED_STAT_DEMOTED];
	uint64_t failed = 0;

	for (int i = KMIGRATED_STAT_FAILED_GONE; i <= KMIGRATED_STAT_FAILED_UNEVICTABLE; i++)
		failed += m1[i] - m0[i];
	failed += m1[KMIGRATED_STAT_DROPPED] - m0[KMIGRATED_STAT_DROPPED];
	printf("%s: hotpaged promoted %lld and demoted %lld pages; kmigrated migrated %llu "
	       "(demoted %llu), failed %llu; kernel: %lld migrations, %lld of them its own "
	       "demotions, compaction isolated %lld pages\n",
	       what, promoted, demoted, (unsigned long long)migrated, (unsigned long long)mdemoted,
	       (unsigned long long)failed, moved, kernel_demoted, compacted);
	hp_check(promoted > 0 && demoted >= 0, "%s: no stats line from hotpaged", what);
	/*
	 * hotpaged counts a page moved when it finds it on its target after
	 * kmigrated's turn: a page kswapd demoted first, or one that moved
	 * after the check, is the difference.
	 */
	/*
	 * A base page moved and then collapsed by khugepaged with its new
	 * neighbours into a huge page on its target looks, when hotpaged
	 * checks, like a huge page the module moved whole: up to 511 pages
	 * more for each huge page khugepaged made meanwhile.
	 */
	hp_check((long long)migrated - (promoted + demoted) <=
				 COUNTER_SLACK_PAGES + (promoted + demoted) / 50 &&
			 (promoted + demoted) - (long long)migrated <=
				 COUNTER_SLACK_PAGES + (promoted + demoted) / 50 + 511 * collapsed,
		 "%s: kmigrated migrated %llu (%llu failed), hotpaged found %lld pages moved; "
		 "khugepaged made %lld huge pages",
		 what, (unsigned long long)migrated, (unsigned long long)failed, promoted + demoted,
		 collapsed);
	hp_check(llabs((long long)mdemoted - demoted) <= COUNTER_SLACK_PAGES + demoted / 50,
		 "%s: kmigrated demoted %llu, hotpaged found %lld demoted", what,
		 (unsigned long long)mdemoted, demoted);
	/* Compaction migrates too, at most what it isolated (its sources and targets). */
	hp_check(moved >= (long long)migrated + kernel_demoted &&
			 moved <= (long long)migrated + kernel_demoted + compacted +
					  VMSTAT_SLACK_PAGES,
		 "%s: pgmigrate_success +%lld for %llu migrated by kmigrated, %lld demoted by "
		 "the kernel and %lld isolated by compaction",
		 what, moved, (unsigned long long)migrated, kernel_demoted, compacted);
}

/* move_pages(2) backend: the module moved nothing; the kernel counted hotpaged's moves. */
static void exchange_counters_move_pages(const char *what, const struct e2e_daemon *d,
					 const long long *before, const uint64_t *m0,
					 const uint64_t *m1, long long moved,
					 long long kernel_demoted, long long compacted)
{
	long long promoted = e2e_daemon_stat(d, "promoted") - before[0];
	long long demoted = e2e_daemon_stat(d, "demoted") - before[1];
	uint64_t migrated = m1[KMIGRATED_STAT_MIGRATED] - m0[KMIGRATED_STAT_MIGRATED];

	printf("%s: hotpaged moved %lld up and %lld down with move_pages(2); kernel: %lld "
	       "migrations, %lld of them its own demotions, compaction isolated %lld pages\n",
	       what, promoted, demoted, moved, kernel_demoted, compacted);
	hp_check(promoted > 0 && demoted > 0, "%s: promoted %lld, demoted %lld", what, promoted,
		 demoted);
	hp_check(migrated == 0, "%s: kmigrated migrated %llu pages with move_pages as backend",
		 what, (unsigned long long)migrated);
	/*
	 * A page kswapd demoted between hotpaged's census and its call is
	 * found on the target by move_pages(2), which cannot tell it from a
	 * page it moved: hotpaged's and the kernel's demotions may overlap
	 * by up to the kernel's.
	 */
	hp_check(moved >= promoted + demoted && moved <= promoted + demoted + kernel_demoted +
								 compacted + VMSTAT_SLACK_PAGES,
		 "%s: pgmigrate_success +%lld for %lld moved by hotpaged, %lld demoted by the "
		 "kernel and %lld isolated by compaction",
		 what, moved, promoted + demoted, kernel_demoted, compacted);
}

/*
 * hotpaged's working arrays are placed on the lower tier: check where its
 * anonymous memory really is (numa_maps), against what it says it placed.
 */
static void exchange_daemon_memory(const char *what, const struct e2e_daemon *d)
{
	unsigned long long node_pages[2] = { 0 }, v;
	size_t arrays_mib = 0;
	int arrays_node = -1;
	char path[64], line[4096];
	FILE *f = fopen(d->log, "re");

	hp_check(f != NULL, "%s: %s: %s", what, d->log, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "own memory on node ");

		if (p && sscanf(p,
				"own memory on node %d (the tier below this CPU's node), working "
				"arrays %zu MiB",
				&arrays_node, &arrays_mib) == 2)
			break;
	}
	fclose(f);
	hp_check(arrays_node == 1,
		 "%s: hotpaged did not place its working arrays on node 1 (log %s)", what, d->log);
	snprintf(path, sizeof(path), "/proc/%d/numa_maps", (int)d->pid);
	f = fopen(path, "re");
	hp_check(f != NULL, "%s: %s: %s", what, path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, " anon=") && !strstr(line, " heap"))
			continue;
		for (int n = 0; n < 2; n++) {
			char key[16];
			const char *p;

			snprintf(key, sizeof(key), " N%d=", n);
			p = strstr(line, key);
			if (p && sscanf(p + strlen(key), "%llu", &v) == 1)
				node_pages[n] += v;
		}
	}
	fclose(f);
	printf("%s: hotpaged's anonymous memory: %.1f MiB on node 0, %.1f MiB on node 1 (working "
	       "arrays %zu MiB, placed on node %d)\n",
	       what, (double)node_pages[0] * KMT_PAGE / (1 << 20),
	       (double)node_pages[1] * KMT_PAGE / (1 << 20), arrays_mib, arrays_node);
	hp_check(node_pages[1] * KMT_PAGE >= (unsigned long long)arrays_mib << 20,
		 "%s: %llu pages of hotpaged on node 1, less than its %zu MiB of working arrays",
		 what, node_pages[1], arrays_mib);
}

void exchange_run(const struct exchange_scenario *s)
{
	static const char *const defaults[] = { NULL };
	const char *const *argv = s->args ? s->args : defaults;
	bool kmigrated = !s->args || !strstr(s->args[1] ? s->args[1] : "", "move_pages");
	uint64_t m0[KMIGRATED_NR_STATS], m1[KMIGRATED_NR_STATS];
	struct tier_opts o = { .hot_frac = s->hot_frac,
			       .hot_share = s->hot_share,
			       .rate = s->rate,
			       .contiguous = s->contiguous,
			       .thp = s->thp,
			       .salt = 0x5eed };
	const char *tier = getenv("HOTPAGE_VM_TIER");
	struct e2e_daemon d = { 0 };
	struct tier_vmstat v0, v1;
	struct tier_result r;
	struct tier_work w;
	char log[128];
	long long before[2], rate;
	char set_rate[64];
	pid_t filler = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	if (!tier || strcmp(tier, "1") != 0)
		hp_skip("not a guest booted with tools/vmtest --tier");
	/* hotpage alone moves pages up; the kernel still demotes under pressure. */
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	hp_settings_set("/sys/kernel/mm/numa/demotion_enabled", "1", true);
	hp_settings_set("/sys/kernel/mm/transparent_hugepage/enabled", s->thp ? "always" : "never",
			true);
	kmt_load_or_fail("");
	snprintf(log, sizeof(log), "/tmp/tier_exchange.%s.log", s->name);
	e2e_daemon_start(&d, log, argv);
	exchange_daemon_memory(s->name, &d);
	o.pages = (size_t)((double)tier_node_free(0) * s->size) / KMT_PAGE;
	printf("%s: %zu pages (%.0f MiB, %.2fx node 0's free memory), %.0f%% hot%s, %.0f%% of "
	       "%u touches/s to them%s\n",
	       s->name, o.pages, (double)o.pages * KMT_PAGE / (1 << 20), s->size, s->hot_frac * 100,
	       s->contiguous ? " (contiguous)" : " (scattered)", s->hot_share * 100, s->rate,
	       s->thp ? ", THP always" : ", THP never");
	tier_init(&w, &o);
	if (s->room_hot_sets > 0) {
		kmt_place(w.p, o.pages, 1);
		filler =
			tier_filler_start(tier_headroom_bytes() +
					  (uint64_t)(s->room_hot_sets * (double)w.nhot * KMT_PAGE));
		printf("%s: all on node 1; node 0 free %.0f MiB (headroom %.0f MiB, hot set %.0f "
		       "MiB)\n",
		       s->name, (double)tier_node_free(0) / (1 << 20),
		       (double)tier_headroom_bytes() / (1 << 20),
		       (double)w.nhot * KMT_PAGE / (1 << 20));
	}
	/*
	 * From here on: the workload's run, not its setup. hotpaged counts a
	 * move a round after kmigrated made it; a baseline taken in between
	 * would put the move on the module's side of the line and on
	 * hotpaged's other side. So the moves are paused until hotpaged has
	 * checked everything the module did, the counters are read, and the
	 * moves resume at the default rate.
	 */
	rate = exchange_daemon_counter("policy_rate_mbps");
	hp_check(rate > 0, "%s: hotpaged's rate_mbps is %lld", s->name, rate);
	exchange_ctl("policy set rate_mbps=0");
	for (int i = 0; i < 100 && exchange_daemon_counter("pending_moves") != 0; i++)
		usleep(100 * 1000);
	hp_check(exchange_daemon_counter("pending_moves") == 0,
		 "%s: hotpaged still has moves to check 10 s after they were paused", s->name);
	kmt_wait_idle(30000);
	before[0] = exchange_daemon_counter("promoted_pages");
	before[1] = exchange_daemon_counter("demoted_pages");
	kmt_stats(-1, m0);
	tier_vmstat(&v0);
	snprintf(set_rate, sizeof(set_rate), "policy set rate_mbps=%lld", rate);
	exchange_ctl(set_rate);
	tier_run(&w, EXCHANGE_DEADLINE_S, EXCHANGE_SETTLE_S, exchange_alive, &d, &r);
	exchange_check(s->name, s, &w, &r);
	if (s->shift) {
		char what[64];

		/* Another hot set of the same size: the old one must make room for it. */
		tier_pick_hot(&w, 0xbeef);
		snprintf(what, sizeof(what), "%s, shifted", s->name);
		tier_run(&w, EXCHANGE_DEADLINE_S, EXCHANGE_SETTLE_S, exchange_alive, &d, &r);
		exchange_check(what, s, &w, &r);
	}
	if (kmigrated)
		printf("%s: still in place after kmigrated's turn: %lld pages to promote, %lld to "
		       "demote\n",
		       s->name, exchange_daemon_counter("promote_not_moved"),
		       exchange_daemon_counter("demote_not_moved"));
	e2e_daemon_stop(&d);
	kmt_wait_idle(30000);
	/* Every page isolated for a move was given back: reclaim and compaction run on. */
	{
		long long isolated = kmt_wait_isolated(10000);

		hp_check(isolated == 0, "%s: %lld pages isolated 10 s after the moves", s->name,
			 isolated);
	}
	kmt_stats(-1, m1);
	tier_vmstat(&v1);
	if (kmigrated)
		exchange_counters(s->name, &d, before, m0, m1, v1.migrated - v0.migrated,
				  v1.demoted - v0.demoted, v1.compacted - v0.compacted,
				  v1.collapsed - v0.collapsed);
	else
		exchange_counters_move_pages(s->name, &d, before, m0, m1, v1.migrated - v0.migrated,
					     v1.demoted - v0.demoted, v1.compacted - v0.compacted);
	e2e_kill(filler);
	tier_free(&w);
	hp_check(!kmt_unload(), "delete_module: %s", strerror(-errno));
	hp_settings_restore();
	printf("pass\n");
}
