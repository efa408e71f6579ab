/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The N hottest pages out of a stream of per-page fault counts, and their
 * rows in hotpage-top's table. Kept free of BPF so that it is unit-tested.
 */
#ifndef HOTPAGE_PAGE_TOP_H
#define HOTPAGE_PAGE_TOP_H

#include <stddef.h>
#include <linux/types.h>

struct hp_page_count {
	__u32 tgid;
	__u64 page; /* page-aligned virtual address */
	__u64 faults;
	__u64 last_ns; /* CLOCK_MONOTONIC of the latest fault */
};

/*
 * Keeps the cap hottest entries offered, as a heap whose root is the
 * coldest kept entry, so a stream of n entries costs O(n log cap).
 */
struct hp_page_top {
	size_t cap;
	size_t len;
	size_t offered; /* entries offered since the last reset */
	struct hp_page_count *heap;
};

/*
 * Ranking, hottest first: more faults; then the more recent fault; then
 * lower tgid, lower address (so that the order is total and stable).
 * qsort-compatible: negative when *a ranks before *b.
 */
int hp_page_count_cmp(const void *a, const void *b);

/* Returns 0 or -ENOMEM; cap may be 0 (keeps nothing). */
int hp_page_top_init(struct hp_page_top *top, size_t cap);
void hp_page_top_free(struct hp_page_top *top);
/* Forget the entries, keep the capacity. */
void hp_page_top_reset(struct hp_page_top *top);
void hp_page_top_offer(struct hp_page_top *top, const struct hp_page_count *entry);
/*
 * Sort the kept entries hottest first and return them (*len of them). The
 * heap is consumed: call hp_page_top_reset() before offering again.
 */
const struct hp_page_count *hp_page_top_sorted(struct hp_page_top *top, size_t *len);

/* Table header and one row, without a newline; return snprintf's result. */
int hp_page_top_format_header(char *buf, size_t len);
int hp_page_top_format_row(char *buf, size_t len, const struct hp_page_count *entry,
			   const char *comm, __u64 now_ns);

#endif /* HOTPAGE_PAGE_TOP_H */
