/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's per-page hotness table: for each tracked page frame (PFN),
 * how often it was accessed lately (a frequency that halves every window),
 * when it was first and last seen, which node accessed it last, which node
 * it is on, which sources saw it and which process (and address) touched
 * it. Fixed memory budget, chosen at creation; when a new page finds no
 * room, the coldest of the entries it could go to is evicted and counted.
 *
 * Frequency semantics: freq counts accesses (DAMON: nr_accesses per
 * region report) and is halved, lazily, once for each window boundary
 * crossed since it was last credited. So freq >= T holds when a page took
 * T accesses in the current window, or 2T in the previous one, and so on;
 * a steady rate of r accesses per window keeps freq between about r and
 * 2r. Halving is integer: one access per window never exceeds 1.
 *
 * Not thread-safe: one owner (the daemon's event loop) calls everything.
 * Times are CLOCK_MONOTONIC nanoseconds (as struct hp_event.ts_ns); the
 * table keeps them to the millisecond.
 */
#ifndef HOTPAGE_HOTNESS_H
#define HOTPAGE_HOTNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "hotpage/event.h"

/*
 * 64 MiB: room for 2.36 M pages (9 GiB of 4 KiB pages), more than the
 * pages that sampled sources report within a few windows on hosts of
 * hundreds of GiB, and small next to the memory it manages.
 */
#define HP_HOT_BUDGET_DEFAULT (64ULL << 20)
#define HP_HOT_WINDOW_DEFAULT_MS 1000
/* Shortest decay window. */
#define HP_HOT_WINDOW_MIN_MS 10
/* Longest decay window: one hour (the clock rebase relies on it). */
#define HP_HOT_WINDOW_MAX_MS 3600000
/* Pages per 256-byte bucket: 28.4 bytes per page of capacity (hotness.c). */
#define HP_HOT_BUCKET_SLOTS 9
/* Pages of one DAMON region credited at most; larger regions are strided. */
#define HP_HOT_RANGE_PAGES_DEFAULT 65536
/* The largest PFN the table keeps: 40 bits, 4 PiB of 4 KiB pages. */
#define HP_HOT_PFN_MAX ((1ULL << 40) - 1)

struct hp_hotness;

struct hp_hotness_opts {
	__u64 budget_bytes; /* everything the table allocates; 0: HP_HOT_BUDGET_DEFAULT */
	__u32 window_ms; /* decay period; 0: HP_HOT_WINDOW_DEFAULT_MS */
	__u32 max_range_pages; /* 0: HP_HOT_RANGE_PAGES_DEFAULT */
};

/* One tracked page, unpacked, as lookups and queries return it. */
struct hp_hot_page {
	__u64 pfn;
	__u64 vaddr; /* page address in tgid; 0 when no source gave one */
	__u64 first_seen_ns; /* or, when migrated, when we moved it here */
	__u64 last_seen_ns;
	__u32 tgid; /* the last process that touched it; 0 unknown */
	__u32 freq; /* decayed to the time of the query */
	int page_node; /* HP_NODE_UNKNOWN (-1) if unknown */
	int access_node; /* node of the CPU of the last access, or -1 */
	__u8 sources; /* bit (1 << enum hp_source) for each source that saw it */
	bool migrated; /* we moved it here (mark_migrated); first_seen_ns is when */
};

struct hp_hotness_stats {
	__u64 capacity; /* pages the budget holds */
	__u64 tracked; /* pages held now */
	__u64 bytes; /* allocated, including the table's header */
	__u64 window_ms;
	__u64 credited; /* page credits applied (an event or a region page) */
	__u64 inserts; /* pages that were not tracked when credited */
	__u64 evictions; /* entries dropped to make room */
	__u64 removals; /* hp_hotness_remove() */
	__u64 migrations; /* hp_hotness_mark_migrated() */
	__u64 range_pages_skipped; /* region pages not credited (stride) */
	__u64 rejected; /* events without a usable PFN, or a bad region */
	__u64 rebases; /* times the millisecond clock was rebased */
};

/*
 * Scan for pages worth promoting: decayed freq >= min_freq, not on a node
 * in exclude_nodes (bit N: node N; nodes >= 64 are never excluded), not
 * migrated by us within guard_ms, and admitted by admit() if set.
 */
struct hp_hot_query {
	__u32 min_freq;
	__u32 guard_ms; /* ping-pong guard: 0 disables it */
	__u64 exclude_nodes;
	bool skip_unknown_node; /* drop pages whose node is unknown */
	bool (*admit)(const struct hp_hot_page *page, void *arg);
	void *arg;
};

/* 0, -EINVAL (opts out of range) or -ENOMEM. now_ns starts the table's clock. */
int hp_hotness_create(const struct hp_hotness_opts *opts, __u64 now_ns, struct hp_hotness **out);
void hp_hotness_destroy(struct hp_hotness *table);
/* Change the decay window while running; 0 or -EINVAL (0 ms). */
int hp_hotness_set_window(struct hp_hotness *table, __u32 window_ms);
/* Forget every entry; counters and budget stay. */
void hp_hotness_clear(struct hp_hotness *table);

/*
 * Credit one event. A single access credits @pfn (or ev->pfn when @pfn is
 * HP_PFN_UNKNOWN) with one access; a physical region (HP_EV_REGION |
 * HP_EV_PHYS, DAMON paddr) credits each of its pages with ev->nr_accesses
 * (see hp_hotness_credit_range). @page_node: the page's node or
 * HP_NODE_UNKNOWN (then ev->page_node is used). Returns the pages
 * credited (0 for a region nobody accessed), or -EINVAL for an event
 * without a PFN or a virtual region (resolve it and use credit_range).
 */
int hp_hotness_record(struct hp_hotness *table, const struct hp_event *ev, __u64 pfn, int page_node,
		      __u64 now_ns);

/* A run of physically contiguous pages, credited alike. */
struct hp_hot_range {
	__u64 first_pfn;
	__u64 first_vaddr; /* vaddr of first_pfn, or 0 */
	__u64 nr_pages;
	__u32 accesses; /* credited to each page; 0 credits nothing */
	__u32 tgid;
	int page_node;
	int access_node;
	enum hp_source source;
};

/*
 * Credit each page of @range with range->accesses. A range longer than
 * the table's max_range_pages is strided (every k-th page), so that one
 * region costs a bounded time and cannot flush the table; the pages left
 * out are counted. Returns the pages credited, or -EINVAL.
 */
int hp_hotness_credit_range(struct hp_hotness *table, const struct hp_hot_range *range,
			    __u64 now_ns);

/* One event of a batch: as hp_hotness_record()'s arguments. */
struct hp_hot_input {
	const struct hp_event *ev;
	__u64 pfn;
	int page_node;
};

/*
 * hp_hotness_record() for @n events at once, all at @now_ns, in order. It
 * prefetches ahead so that the memory latency of several events overlaps:
 * the way to feed the table from a ring buffer (2 to 3 times the events/s
 * of one call per event on a table larger than the caches, make
 * bench-aggregate). Returns the pages
 * credited; events that record() refuses are skipped (counted).
 */
long hp_hotness_record_batch(struct hp_hotness *table, const struct hp_hot_input *in, size_t n,
			     __u64 now_ns);

/* Start loading @pfn's buckets (their key lines). */
void hp_hotness_prefetch(const struct hp_hotness *table, __u64 pfn);

/* true and *page filled when @pfn is tracked. */
bool hp_hotness_lookup(const struct hp_hotness *table, __u64 pfn, __u64 now_ns,
		       struct hp_hot_page *page);

/* Stop tracking @pfn: 0 or -ENOENT. */
int hp_hotness_remove(struct hp_hotness *table, __u64 pfn);

/*
 * The page at @pfn was migrated to @new_node. With @new_pfn known the entry
 * moves there (history kept, marked migrated at now_ns); with @new_pfn
 * HP_PFN_UNKNOWN it stays at @pfn, frequency cleared and marked migrated,
 * so whatever that frame holds next waits for the guard too (cautious).
 * 0 or -ENOENT (not tracked).
 */
int hp_hotness_mark_migrated(struct hp_hotness *table, __u64 pfn, __u64 new_pfn, int new_node,
			     __u64 now_ns);

/*
 * The @max hottest pages that @query selects, hottest first (freq, then
 * the latest access, then the lower PFN), into @out. Returns how many
 * were written; *matched (if not NULL) gets how many matched in all.
 * Costs one pass over the table.
 */
size_t hp_hotness_candidates(const struct hp_hotness *table, const struct hp_hot_query *query,
			     __u64 now_ns, struct hp_hot_page *out, size_t max, size_t *matched);

/* The @max hottest pages, for display. */
size_t hp_hotness_top(const struct hp_hotness *table, __u64 now_ns, struct hp_hot_page *out,
		      size_t max);

void hp_hotness_get_stats(const struct hp_hotness *table, struct hp_hotness_stats *stats);

#endif /* HOTPAGE_HOTNESS_H */
