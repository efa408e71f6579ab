// SPDX-License-Identifier: GPL-2.0
/* Per-page counts in a bounded table, top-N selection with a min-heap, table rows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "page_top.h"

int hp_page_count_cmp(const void *a, const void *b)
{
	const struct hp_page_count *x = a, *y = b;

	if (x->faults != y->faults)
		return x->faults > y->faults ? -1 : 1;
	if (x->last_ns != y->last_ns)
		return x->last_ns > y->last_ns ? -1 : 1;
	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->page != y->page)
		return x->page < y->page ? -1 : 1;
	return 0;
}

/* Heap order: the coldest entry at the root. */
static int colder(const struct hp_page_count *a, const struct hp_page_count *b)
{
	return hp_page_count_cmp(a, b) > 0;
}

static void swap(struct hp_page_count *a, struct hp_page_count *b)
{
	struct hp_page_count tmp = *a;

	*a = *b;
	*b = tmp;
}

static void sift_up(struct hp_page_count *heap, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!colder(&heap[i], &heap[parent]))
			break;
		swap(&heap[i], &heap[parent]);
		i = parent;
	}
}

static void sift_down(struct hp_page_count *heap, size_t len, size_t i)
{
	for (;;) {
		size_t left = 2 * i + 1, right = left + 1, coldest = i;

		if (left < len && colder(&heap[left], &heap[coldest]))
			coldest = left;
		if (right < len && colder(&heap[right], &heap[coldest]))
			coldest = right;
		if (coldest == i)
			return;
		swap(&heap[i], &heap[coldest]);
		i = coldest;
	}
}

int hp_page_top_init(struct hp_page_top *top, size_t cap)
{
	top->cap = cap;
	top->len = 0;
	top->offered = 0;
	top->heap = NULL;
	if (!cap)
		return 0;
	top->heap = calloc(cap, sizeof(*top->heap));
	return top->heap ? 0 : -ENOMEM;
}

void hp_page_top_free(struct hp_page_top *top)
{
	free(top->heap);
	top->heap = NULL;
	top->cap = 0;
	top->len = 0;
}

void hp_page_top_reset(struct hp_page_top *top)
{
	top->len = 0;
	top->offered = 0;
}

void hp_page_top_offer(struct hp_page_top *top, const struct hp_page_count *entry)
{
	top->offered++;
	if (top->len < top->cap) {
		top->heap[top->len] = *entry;
		sift_up(top->heap, top->len);
		top->len++;
	} else if (top->len && colder(&top->heap[0], entry)) {
		top->heap[0] = *entry;
		sift_down(top->heap, top->len, 0);
	}
}

const struct hp_page_count *hp_page_top_sorted(struct hp_page_top *top, size_t *len)
{
	if (top->len)
		qsort(top->heap, top->len, sizeof(*top->heap), hp_page_count_cmp);
	*len = top->len;
	return top->heap;
}

static size_t page_hash(const struct hp_page_table *table, __u32 tgid, __u64 page)
{
	__u64 h = (page >> 12) * 0x9e3779b97f4a7c15ULL ^ (__u64)tgid * 0xc2b2ae3d27d4eb4fULL;

	return (size_t)(h ^ (h >> 29)) & (table->nbuckets - 1);
}

int hp_page_table_init(struct hp_page_table *table, size_t cap)
{
	size_t nbuckets = 1;

	memset(table, 0, sizeof(*table));
	if (!cap || cap > (1U << 31))
		return -EINVAL;
	while (nbuckets < cap)
		nbuckets <<= 1;
	table->buckets = calloc(nbuckets, sizeof(*table->buckets));
	table->slots = calloc(cap, sizeof(*table->slots));
	if (!table->buckets || !table->slots) {
		hp_page_table_free(table);
		return -ENOMEM;
	}
	table->cap = cap;
	table->nbuckets = nbuckets;
	return 0;
}

void hp_page_table_free(struct hp_page_table *table)
{
	free(table->buckets);
	free(table->slots);
	memset(table, 0, sizeof(*table));
}

#define SLOT(table, ref) (&(table)->slots[(ref)-1])

static void lru_unlink(struct hp_page_table *table, __u32 ref)
{
	struct hp_page_slot *slot = SLOT(table, ref);

	if (slot->newer)
		SLOT(table, slot->newer)->older = slot->older;
	else
		table->lru_newest = slot->older;
	if (slot->older)
		SLOT(table, slot->older)->newer = slot->newer;
	else
		table->lru_oldest = slot->newer;
	slot->newer = slot->older = 0;
}

static void lru_push_newest(struct hp_page_table *table, __u32 ref)
{
	struct hp_page_slot *slot = SLOT(table, ref);

	slot->older = table->lru_newest;
	slot->newer = 0;
	if (table->lru_newest)
		SLOT(table, table->lru_newest)->newer = ref;
	table->lru_newest = ref;
	if (!table->lru_oldest)
		table->lru_oldest = ref;
}

static void hash_unlink(struct hp_page_table *table, __u32 ref)
{
	struct hp_page_slot *slot = SLOT(table, ref);
	__u32 *link = &table->buckets[page_hash(table, slot->count.tgid, slot->count.page)];

	while (*link && *link != ref)
		link = &SLOT(table, *link)->hash_next;
	if (*link)
		*link = slot->hash_next;
	slot->hash_next = 0;
}

static __u32 lookup(const struct hp_page_table *table, __u32 tgid, __u64 page)
{
	__u32 ref = table->buckets[page_hash(table, tgid, page)];

	while (ref) {
		const struct hp_page_slot *slot = &table->slots[ref - 1];

		if (slot->count.tgid == tgid && slot->count.page == page)
			return ref;
		ref = slot->hash_next;
	}
	return 0;
}

void hp_page_table_add(struct hp_page_table *table, __u32 tgid, __u64 page, __u64 ts_ns)
{
	__u32 ref = lookup(table, tgid, page);
	struct hp_page_slot *slot;
	size_t bucket;

	if (ref) {
		slot = SLOT(table, ref);
		slot->count.faults++;
		/* Events of different CPUs arrive out of order: keep the latest time. */
		if (ts_ns > slot->count.last_ns)
			slot->count.last_ns = ts_ns;
		lru_unlink(table, ref);
		lru_push_newest(table, ref);
		return;
	}
	if (table->len < table->cap) {
		ref = (__u32)++table->len;
	} else {
		ref = table->lru_oldest;
		hash_unlink(table, ref);
		lru_unlink(table, ref);
		table->evicted++;
	}
	slot = SLOT(table, ref);
	slot->count =
		(struct hp_page_count){ .tgid = tgid, .page = page, .faults = 1, .last_ns = ts_ns };
	bucket = page_hash(table, tgid, page);
	slot->hash_next = table->buckets[bucket];
	table->buckets[bucket] = ref;
	lru_push_newest(table, ref);
}

const struct hp_page_count *hp_page_table_find(const struct hp_page_table *table, __u32 tgid,
					       __u64 page)
{
	__u32 ref = table->cap ? lookup(table, tgid, page) : 0;

	return ref ? &table->slots[ref - 1].count : NULL;
}

void hp_page_table_for_each(const struct hp_page_table *table, hp_page_count_fn fn, void *ctx)
{
	for (size_t i = 0; i < table->len; i++)
		fn(&table->slots[i].count, ctx);
}

int hp_page_top_format_header(char *buf, size_t len)
{
	return snprintf(buf, len, "%7s %-16s %18s %10s %9s", "TGID", "COMM", "ADDRESS", "FAULTS",
			"LAST(s)");
}

int hp_page_top_format_row(char *buf, size_t len, const struct hp_page_count *entry,
			   const char *comm, __u64 now_ns)
{
	/* A fault stamped after now was read can only be very recent: age 0. */
	__u64 age_ns = now_ns > entry->last_ns ? now_ns - entry->last_ns : 0;

	return snprintf(buf, len, "%7u %-16.16s %#18llx %10llu %9.3f", entry->tgid, comm,
			(unsigned long long)entry->page, (unsigned long long)entry->faults,
			(double)age_ns / 1e9);
}
