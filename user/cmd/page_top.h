/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-page counts aggregated from a stream of access events, the N hottest
 * of them, and their rows in hotpage-top's table. Kept free of BPF so that
 * it is unit-tested.
 */
#ifndef HOTPAGE_PAGE_TOP_H
#define HOTPAGE_PAGE_TOP_H

#include <stddef.h>
#include <linux/types.h>

/* Default capacity of a page table (pages tracked at once). */
#define HP_PAGE_TABLE_DEFAULT 65536
#define HP_COMM_LEN 16

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

/*
 * Counts per (tgid, page) with a fixed capacity: when full, the entry
 * whose latest event is the oldest is evicted (and counted), so memory
 * stays bounded whatever the stream.
 */
struct hp_page_table {
	size_t cap;
	size_t len;
	__u64 evicted;
	size_t nbuckets; /* power of two */
	__u32 *buckets; /* 1 + index of the chain's first entry; 0: empty */
	struct hp_page_slot *slots; /* cap of them */
	__u32 lru_newest, lru_oldest; /* 1 + index; 0: none */
};

struct hp_page_slot {
	struct hp_page_count count;
	__u32 hash_next; /* 1 + index, 0: end of chain */
	__u32 newer, older; /* recency list, 1 + index */
};

typedef void (*hp_page_count_fn)(const struct hp_page_count *entry, void *ctx);

/* Returns 0, -EINVAL (cap 0 or above 2^31) or -ENOMEM. */
int hp_page_table_init(struct hp_page_table *table, size_t cap);
void hp_page_table_free(struct hp_page_table *table);
/* Count one event on @page (page-aligned) of @tgid at @ts_ns. */
void hp_page_table_add(struct hp_page_table *table, __u32 tgid, __u64 page, __u64 ts_ns);
/* The entry of (tgid, page), or NULL. */
const struct hp_page_count *hp_page_table_find(const struct hp_page_table *table, __u32 tgid,
					       __u64 page);
/* Every entry, in no particular order. */
void hp_page_table_for_each(const struct hp_page_table *table, hp_page_count_fn fn, void *ctx);

/* Table header and one row, without a newline; return snprintf's result. */
int hp_page_top_format_header(char *buf, size_t len);
int hp_page_top_format_row(char *buf, size_t len, const struct hp_page_count *entry,
			   const char *comm, __u64 now_ns);

#endif /* HOTPAGE_PAGE_TOP_H */
