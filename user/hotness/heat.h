/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The heat of every page of the machine, two bytes a page: dense arrays
 * indexed by page frame number, one per range of online memory (the
 * per-node memory block ranges of node_ranges.h), so that a page's node
 * is known from where its entry lives and nothing is ever evicted.
 *
 * Time is counted in windows (the policy's window_ms; hp_heat_advance()
 * starts the next one). A page's entry holds which of the last
 * HP_HEAT_WINDOWS windows saw it accessed, by any source, and the window
 * of the latest access:
 *
 *   heat  the number of those windows with an access (0..8). Counting
 *         windows, not accesses, makes the sources comparable (an
 *         accessed bit, a PEBS sample and a NUMA hint fault all say "used
 *         in this window") and counts one access seen by two sources once.
 *   idle  windows since the latest access; a page never seen accessed
 *         since the table was made is idle for as long as the table has
 *         existed (at most HP_HEAT_IDLE_MAX).
 *
 * Entries idle for HP_HEAT_FORGET windows are cleared by a sweep that
 * visits a slice of the table per window, so that the 8-bit window stamp
 * never wraps into the present. Not thread-safe: one owner.
 */
#ifndef HOTPAGE_HEAT_H
#define HOTPAGE_HEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "node_ranges.h"

#define HP_HEAT_WINDOWS 8 /* windows of history per page */
#define HP_HEAT_IDLE_MAX 255 /* idle() saturates here */
/* A page idle this long reads as never accessed (its entry is cleared). */
#define HP_HEAT_FORGET 64
/* Windows over which the sweep visits every entry once. */
#define HP_HEAT_SWEEP_WINDOWS 128
/* Bytes of table per page of memory. */
#define HP_HEAT_BYTES_PER_PAGE 2
/* Pages of a PMD-mapped huge page, which the table credits whole. */
#define HP_HEAT_HUGE_PAGES 512

struct hp_heat;

struct hp_heat_stats {
	__u64 pages; /* pages covered */
	__u64 bytes; /* bytes allocated for them */
	__u64 window; /* windows since the table was made */
	__u64 touches; /* pages credited */
	__u64 outside; /* credits for page frames outside every range */
	__u64 swept; /* entries cleared by the sweep */
};

/*
 * A table for the memory in @ranges (physical byte addresses, as
 * hp_node_ranges_read() gives them). 0, -EINVAL (no ranges) or -ENOMEM.
 */
int hp_heat_create(const struct hp_phys_ranges *ranges, struct hp_heat **out);
void hp_heat_destroy(struct hp_heat *heat);

/*
 * Follow the memory map after memory was added or removed: entries of
 * page frames present before and after keep their history. 0 or -ENOMEM
 * (the table is unchanged then).
 */
int hp_heat_set_ranges(struct hp_heat *heat, const struct hp_phys_ranges *ranges);

/* The next window starts; also sweeps a slice of the table. */
void hp_heat_advance(struct hp_heat *heat);

/* Windows since the table was made. */
__u64 hp_heat_window(const struct hp_heat *heat);

/*
 * Pages of the nodes in @node_mask are looked at every @every windows
 * (1-8; 1 for the others): each window with an access counts @every in
 * their heat, so that a page used in every window is as hot wherever it
 * lives. Their idle time is unchanged: windows since the latest access
 * seen.
 */
void hp_heat_set_sparse(struct hp_heat *heat, __u64 node_mask, unsigned int every);

/*
 * An access to @pfn in the current window (@npages pages from @pfn alike,
 * for a huge page). Returns the heat of @pfn after it, or -1 when @pfn is
 * in no range (counted).
 */
int hp_heat_touch(struct hp_heat *heat, __u64 pfn, unsigned int npages);

/*
 * Start loading @pfn's entry into the cache, for a touch a few events
 * later: on a large machine every touch misses the caches, and a batch
 * that prefetches ahead overlaps those misses instead of waiting on each.
 */
void hp_heat_prefetch(const struct hp_heat *heat, __u64 pfn);

/* How many events ahead a batch prefetches: enough misses in flight. */
#define HP_HEAT_PREFETCH_AHEAD 16

/* Heat of @pfn now (0 for a page outside every range). */
unsigned int hp_heat_of(const struct hp_heat *heat, __u64 pfn);

/* Windows since the last access to @pfn (see above); HP_HEAT_IDLE_MAX outside. */
unsigned int hp_heat_idle(const struct hp_heat *heat, __u64 pfn);

/* The node of @pfn's range, or -1. */
int hp_heat_node(const struct hp_heat *heat, __u64 pfn);

/*
 * The frame's history is not its next occupant's: clear @npages entries
 * from @pfn (after the page there was moved away).
 */
void hp_heat_forget(struct hp_heat *heat, __u64 pfn, unsigned int npages);

/* Selection over a whole node, for a demotion scan or a report. */
struct hp_heat_select {
	__u64 node_mask; /* bit N: node N; 0: every node */
	bool coldest; /* the most idle first; else the hottest first */
	unsigned int min_heat; /* hottest: at least this heat */
	unsigned int min_idle; /* coldest: idle at least this long */
};

/*
 * Up to @max page frames that @sel picks, best first (hottest: by heat,
 * then the latest access; coldest: by idle time), into @out; the frames
 * of a level are taken in address order. Two passes over the entries of
 * the chosen nodes: a histogram, then the frames above its cut. Returns
 * how many were written.
 */
size_t hp_heat_select(const struct hp_heat *heat, const struct hp_heat_select *sel, __u64 *out,
		      size_t max);

void hp_heat_get_stats(const struct hp_heat *heat, struct hp_heat_stats *stats);

#endif /* HOTPAGE_HEAT_H */
