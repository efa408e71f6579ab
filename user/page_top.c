// SPDX-License-Identifier: GPL-2.0
/* Top-N selection of the hottest pages with a bounded min-heap, and table rows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
