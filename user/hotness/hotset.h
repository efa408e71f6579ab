/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pages that are hot now, with what the heat table (heat.h) does not
 * keep: who touched them (process and address, for move_pages(2) and for
 * people), from which node, seen by which sources, since when. A page
 * enters when an access brings its heat to the policy's threshold; the
 * daemon drops it when it cools or moves. Bounded: a full set refuses new
 * pages (counted), it does not evict.
 *
 * The daemon keeps two: the candidates for promotion (hot pages below the
 * top tier), and the hottest pages of the top tier, for the published
 * hot set. Not thread-safe: one owner.
 */
#ifndef HOTPAGE_HOTSET_H
#define HOTPAGE_HOTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* One hot page. */
struct hp_hot_page {
	__u64 pfn; /* the page frame; a huge page's head */
	__u64 vaddr; /* its address in tgid; 0 when no source gave one */
	__u64 first_seen_ns; /* when it became hot (CLOCK_MONOTONIC) */
	__u64 last_seen_ns; /* its latest access seen */
	__u32 tgid; /* the last process seen touching it; 0 unknown */
	__u32 heat; /* windows with an access among the last HP_HEAT_WINDOWS */
	int page_node; /* node of the page, -1 unknown */
	int access_node; /* node of the CPU of the latest access, -1 unknown */
	__u32 npages; /* base pages: 1, or a huge page's */
	__u8 sources; /* bit (1 << enum hp_source) per source that saw it */
	bool migrated; /* hotpaged moved it (display) */
};

struct hp_hotset;

struct hp_hotset_stats {
	__u64 pages; /* held now */
	__u64 capacity;
	__u64 inserts;
	__u64 full; /* pages refused for want of room */
	__u64 removals;
};

/* A set for @capacity pages (at least 16). 0, -EINVAL or -ENOMEM. */
int hp_hotset_create(size_t capacity, struct hp_hotset **out);
void hp_hotset_destroy(struct hp_hotset *set);

/*
 * Add @page, or refresh it when its pfn is there: the latest identity,
 * heat and access win, first_seen_ns and the source bits accumulate.
 * false when the set is full (counted).
 */
bool hp_hotset_put(struct hp_hotset *set, const struct hp_hot_page *page);

/* The page at @pfn into *@page (if not NULL); false when absent. */
bool hp_hotset_get(const struct hp_hotset *set, __u64 pfn, struct hp_hot_page *page);

bool hp_hotset_remove(struct hp_hotset *set, __u64 pfn);

/*
 * Visit every page; @keep may update it in place and returns false to
 * drop it. The order is the set's own.
 */
void hp_hotset_filter(struct hp_hotset *set, bool (*keep)(struct hp_hot_page *page, void *arg),
		      void *arg);

/* Copies of at most @max pages, in the set's order. */
size_t hp_hotset_copy(const struct hp_hotset *set, struct hp_hot_page *out, size_t max);

void hp_hotset_clear(struct hp_hotset *set);
void hp_hotset_get_stats(const struct hp_hotset *set, struct hp_hotset_stats *stats);

/*
 * Sort @pages hottest first: heat, then the latest access, then the lower
 * page frame.
 */
void hp_hot_pages_sort(struct hp_hot_page *pages, size_t n);

#endif /* HOTPAGE_HOTSET_H */
