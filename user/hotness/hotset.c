// SPDX-License-Identifier: GPL-2.0
/*
 * The hot set (hotset.h): open addressing on the page frame with linear
 * probing, at most half full, deletion by backward shift; filtering
 * rebuilds into a second array, so that a visit never sees a page twice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hotpage/event.h"
#include "hotset.h"

#define EMPTY HP_PFN_UNKNOWN

struct hp_hotset {
	struct hp_hot_page *slot, *spare;
	size_t mask; /* slots - 1 */
	size_t capacity; /* pages held at most: half the slots */
	struct hp_hotset_stats st;
};

static size_t slot_of(const struct hp_hotset *set, __u64 pfn)
{
	return (size_t)((pfn * 0x9e3779b97f4a7c15ULL) >> 20) & set->mask;
}

static void clear_slots(struct hp_hot_page *slot, size_t n)
{
	for (size_t i = 0; i < n; i++)
		slot[i].pfn = EMPTY;
}

int hp_hotset_create(size_t capacity, struct hp_hotset **out)
{
	struct hp_hotset *set;
	size_t slots = 32;

	if (capacity < 16 || capacity > (1UL << 30))
		return -EINVAL;
	while (slots < 2 * capacity)
		slots <<= 1;
	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	set->slot = calloc(slots, sizeof(*set->slot));
	set->spare = calloc(slots, sizeof(*set->spare));
	if (!set->slot || !set->spare) {
		hp_hotset_destroy(set);
		return -ENOMEM;
	}
	clear_slots(set->slot, slots);
	set->mask = slots - 1;
	set->capacity = capacity;
	set->st.capacity = capacity;
	*out = set;
	return 0;
}

void hp_hotset_destroy(struct hp_hotset *set)
{
	if (!set)
		return;
	free(set->slot);
	free(set->spare);
	free(set);
}

static struct hp_hot_page *find(const struct hp_hotset *set, __u64 pfn)
{
	size_t i = slot_of(set, pfn);

	while (set->slot[i].pfn != EMPTY) {
		if (set->slot[i].pfn == pfn)
			return &set->slot[i];
		i = (i + 1) & set->mask;
	}
	return NULL;
}

bool hp_hotset_put(struct hp_hotset *set, const struct hp_hot_page *page)
{
	struct hp_hot_page *p = find(set, page->pfn);
	size_t i;

	if (page->pfn == EMPTY)
		return false;
	if (p) {
		__u64 first = p->first_seen_ns;
		__u8 sources = p->sources;

		*p = *page;
		p->first_seen_ns = first;
		p->sources |= sources;
		return true;
	}
	if (set->st.pages >= set->capacity) {
		set->st.full++;
		return false;
	}
	for (i = slot_of(set, page->pfn); set->slot[i].pfn != EMPTY; i = (i + 1) & set->mask)
		;
	set->slot[i] = *page;
	set->st.pages++;
	set->st.inserts++;
	return true;
}

bool hp_hotset_get(const struct hp_hotset *set, __u64 pfn, struct hp_hot_page *page)
{
	const struct hp_hot_page *p = find(set, pfn);

	if (p && page)
		*page = *p;
	return p != NULL;
}

bool hp_hotset_remove(struct hp_hotset *set, __u64 pfn)
{
	struct hp_hot_page *p = find(set, pfn);
	size_t i, j;

	if (!p)
		return false;
	i = (size_t)(p - set->slot);
	for (j = i;;) {
		size_t home;

		j = (j + 1) & set->mask;
		if (set->slot[j].pfn == EMPTY)
			break;
		home = slot_of(set, set->slot[j].pfn);
		/* Move j's page into the hole at i unless its home is in (i, j]. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			set->slot[i] = set->slot[j];
			i = j;
		}
	}
	set->slot[i].pfn = EMPTY;
	set->st.pages--;
	set->st.removals++;
	return true;
}

void hp_hotset_filter(struct hp_hotset *set, bool (*keep)(struct hp_hot_page *page, void *arg),
		      void *arg)
{
	struct hp_hot_page *from = set->slot;
	size_t slots = set->mask + 1;
	__u64 kept = 0;

	clear_slots(set->spare, slots);
	set->slot = set->spare;
	for (size_t i = 0; i < slots; i++) {
		size_t j;

		if (from[i].pfn == EMPTY)
			continue;
		if (!keep(&from[i], arg)) {
			set->st.removals++;
			continue;
		}
		for (j = slot_of(set, from[i].pfn); set->slot[j].pfn != EMPTY;
		     j = (j + 1) & set->mask)
			;
		set->slot[j] = from[i];
		kept++;
	}
	set->spare = from;
	set->st.pages = kept;
}

size_t hp_hotset_copy(const struct hp_hotset *set, struct hp_hot_page *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i <= set->mask && n < max; i++)
		if (set->slot[i].pfn != EMPTY)
			out[n++] = set->slot[i];
	return n;
}

void hp_hotset_clear(struct hp_hotset *set)
{
	clear_slots(set->slot, set->mask + 1);
	set->st.removals += set->st.pages;
	set->st.pages = 0;
}

void hp_hotset_get_stats(const struct hp_hotset *set, struct hp_hotset_stats *stats)
{
	*stats = set->st;
}

static int cmp_hottest(const void *a, const void *b)
{
	const struct hp_hot_page *x = a, *y = b;

	if (x->heat != y->heat)
		return x->heat > y->heat ? -1 : 1;
	if (x->last_seen_ns != y->last_seen_ns)
		return x->last_seen_ns > y->last_seen_ns ? -1 : 1;
	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

void hp_hot_pages_sort(struct hp_hot_page *pages, size_t n)
{
	qsort(pages, n, sizeof(*pages), cmp_hottest);
}
