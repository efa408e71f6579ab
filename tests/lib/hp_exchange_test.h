/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The full-tier end-to-end tests (tests/vm/tier_exchange_*.c): hotpaged
 * as a user starts it, `hotpaged -f` with no -s and no -p, kmigrated.ko
 * loaded with its defaults, NUMA balancing off and the kernel's own
 * demotion on (demotion_enabled=1), in a --tier guest whose node 0 the
 * workload fills (hp_tier.h).
 *
 * Checked for each scenario:
 * - 90% of the hot pages that were on node 1 are on node 0 within
 *   EXCHANGE_DEADLINE_S: a page needs 6 windows of 1 s to be called hot
 *   (threshold=6), and a round more for the room it displaces, so about
 *   8 s on an idle host; the bound leaves room for a CI host busy with
 *   other guests, and is reached only when the exchange does not work;
 * - cold pages that were on node 1 and got promoted: at most 5% of the
 *   hot pages that had to move;
 * - every page moved, by anyone, while the workload ran (pgmigrate_success,
 *   both directions, the kernel's own demotions included): at most 3 times
 *   the hot set; the ratio to the hot pages that had to move (an exact
 *   exchange is 2 times those: one down for each one up) is printed;
 * - nothing goes back and forth: EXCHANGE_SETTLE_S after the 90% mark the
 *   hot set is still up;
 * - the counters agree, from the start of the touching to the end: the
 *   pages kmigrated migrated are the pages hotpaged found moved, and what
 *   the module counted as failed is the rest of what it queued; the
 *   kernel's count of migrations is the module's plus the kernel's own
 *   demotions and compaction.
 */
#ifndef HP_EXCHANGE_TEST_H
#define HP_EXCHANGE_TEST_H

#include "hp_e2e.h"
#include "hp_settings.h"
#include "hp_tier.h"

#define EXCHANGE_DEADLINE_S 60
#define EXCHANGE_SETTLE_S 10
#define HOT_PCT_MIN 90
#define COLD_PCT_MAX 5
#define MOVED_X_MAX 3
#define VMSTAT_SLACK_PAGES 256
#define COUNTER_SLACK_PAGES 64

struct exchange_scenario {
	const char *name;
	double size; /* workload pages, in node 0's free memory at the start */
	double hot_frac;
	double hot_share;
	unsigned int rate;
	bool contiguous;
	bool thp; /* THP enabled=always, the workload MADV_HUGEPAGE */
	/*
	 * Nearly full: the workload is moved to node 1 and an mlocked filler
	 * leaves node 0 free room of this many hot sets above the headroom.
	 */
	double room_hot_sets;
	bool shift; /* after the exchange, another hot set of the same size */
	/*
	 * hotpaged's arguments after -f; none: the defaults, as a user starts
	 * it. A test that sets some runs beside the defaults' tests.
	 */
	const char *const *args;
	/* Pages moved in all, in hot sets, at most; 0: MOVED_X_MAX. */
	unsigned int moved_x_max;
};

/* Sets the guest up as a tiered host, runs @s under hotpaged's defaults, checks. */
void exchange_run(const struct exchange_scenario *s);

#endif /* HP_EXCHANGE_TEST_H */
