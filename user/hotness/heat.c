// SPDX-License-Identifier: GPL-2.0
/*
 * The per-page heat table (heat.h). An entry is 16 bits: the low byte a
 * history of the last 8 windows (bit i: an access i windows before the
 * stamp), the high byte the stamp, the window of the latest access modulo
 * 256. A zero entry was never accessed (or forgotten): a touched entry
 * always has bit 0 of its history set.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "heat.h"

#define PAGE_SHIFT_4K 12

struct heat_range {
	__u64 start; /* first page frame */
	__u64 end; /* past the last */
	int node;
	__u16 *e;
};

struct hp_heat {
	struct heat_range *r;
	size_t nr;
	__u64 window;
	__u64 sparse_nodes; /* looked at every sparse_every windows */
	unsigned int sparse_every;
	/* the sweep's position: range and entry */
	size_t sweep_r;
	__u64 sweep_i;
	struct hp_heat_stats st;
};

_Static_assert(sizeof(__u16) == HP_HEAT_BYTES_PER_PAGE, "two bytes a page");
_Static_assert(HP_HEAT_FORGET + HP_HEAT_SWEEP_WINDOWS < 256,
	       "a stamp is cleared before it wraps into the present");

static unsigned int entry_age(__u16 e, __u64 window)
{
	return (unsigned int)((window - (e >> 8)) & 0xff);
}

static unsigned int entry_heat(__u16 e, __u64 window)
{
	unsigned int age;

	if (!e)
		return 0;
	age = entry_age(e, window);
	if (age >= HP_HEAT_WINDOWS)
		return 0;
	return (unsigned int)__builtin_popcount(((unsigned int)(e & 0xff) << age) & 0xff);
}

/* Heat of entry @e of range @r: scaled where its node is looked at sparsely. */
static unsigned int range_heat(const struct hp_heat *heat, const struct heat_range *r, __u16 e)
{
	unsigned int h = entry_heat(e, heat->window);

	if (h && r->node >= 0 && r->node < 64 && (heat->sparse_nodes >> r->node & 1)) {
		h *= heat->sparse_every;
		if (h > HP_HEAT_WINDOWS)
			h = HP_HEAT_WINDOWS;
	}
	return h;
}

static unsigned int entry_idle(__u16 e, __u64 window)
{
	if (!e)
		return window < HP_HEAT_IDLE_MAX ? (unsigned int)window : HP_HEAT_IDLE_MAX;
	return entry_age(e, window);
}

static __u16 entry_touch(__u16 e, __u64 window)
{
	unsigned int hist = 1, age;

	if (e) {
		age = entry_age(e, window);
		if (age < HP_HEAT_WINDOWS)
			hist = (((unsigned int)(e & 0xff) << age) | 1) & 0xff;
	}
	return (__u16)(hist | (unsigned int)((window & 0xff) << 8));
}

static const struct heat_range *find_range(const struct hp_heat *heat, __u64 pfn)
{
	size_t lo = 0, hi = heat->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct heat_range *r = &heat->r[mid];

		if (pfn < r->start)
			hi = mid;
		else if (pfn >= r->end)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

static void free_ranges(struct heat_range *r, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(r[i].e);
	free(r);
}

/* Arrays for @ranges, each entry copied from @old where it existed. */
static int build_ranges(const struct hp_phys_ranges *ranges, const struct hp_heat *old,
			struct heat_range **out, size_t *nr_out, __u64 *pages)
{
	struct heat_range *r;
	size_t nr = 0;

	*pages = 0;
	r = calloc(ranges->nr ? ranges->nr : 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < ranges->nr; i++) {
		const struct hp_phys_range *p = &ranges->v[i];
		__u64 start = p->start >> PAGE_SHIFT_4K, end = p->end >> PAGE_SHIFT_4K;

		if (end <= start)
			continue;
		r[nr].start = start;
		r[nr].end = end;
		r[nr].node = p->node;
		r[nr].e = calloc(end - start, sizeof(__u16));
		if (!r[nr].e) {
			free_ranges(r, nr);
			return -ENOMEM;
		}
		/* Faulted in now, not page by page as events arrive. */
		memset(r[nr].e, 0, (end - start) * sizeof(__u16));
		for (size_t j = 0; old && j < old->nr; j++) {
			const struct heat_range *o = &old->r[j];
			__u64 from = o->start > start ? o->start : start;
			__u64 to = o->end < end ? o->end : end;

			if (from < to)
				memcpy(r[nr].e + (from - start), o->e + (from - o->start),
				       (to - from) * sizeof(__u16));
		}
		*pages += end - start;
		nr++;
	}
	if (!nr) {
		free(r);
		return -EINVAL;
	}
	*out = r;
	*nr_out = nr;
	return 0;
}

int hp_heat_create(const struct hp_phys_ranges *ranges, struct hp_heat **out)
{
	struct hp_heat *heat = calloc(1, sizeof(*heat));
	int ret;

	if (!heat)
		return -ENOMEM;
	ret = build_ranges(ranges, NULL, &heat->r, &heat->nr, &heat->st.pages);
	if (ret) {
		free(heat);
		return ret;
	}
	heat->st.bytes = heat->st.pages * sizeof(__u16) + heat->nr * sizeof(*heat->r);
	*out = heat;
	return 0;
}

void hp_heat_destroy(struct hp_heat *heat)
{
	if (!heat)
		return;
	free_ranges(heat->r, heat->nr);
	free(heat);
}

int hp_heat_set_ranges(struct hp_heat *heat, const struct hp_phys_ranges *ranges)
{
	struct heat_range *r;
	size_t nr;
	__u64 pages;
	int ret = build_ranges(ranges, heat, &r, &nr, &pages);

	if (ret)
		return ret;
	free_ranges(heat->r, heat->nr);
	heat->r = r;
	heat->nr = nr;
	heat->sweep_r = 0;
	heat->sweep_i = 0;
	heat->st.pages = pages;
	heat->st.bytes = pages * sizeof(__u16) + nr * sizeof(*r);
	return 0;
}

void hp_heat_advance(struct hp_heat *heat)
{
	__u64 todo = heat->st.pages / HP_HEAT_SWEEP_WINDOWS + 1;

	heat->window++;
	heat->st.window = heat->window;
	while (todo) {
		struct heat_range *r = &heat->r[heat->sweep_r];
		__u64 n = r->end - r->start - heat->sweep_i;

		if (n > todo)
			n = todo;
		for (__u64 i = heat->sweep_i; i < heat->sweep_i + n; i++) {
			__u16 e = r->e[i];

			if (e && entry_age(e, heat->window) >= HP_HEAT_FORGET) {
				r->e[i] = 0;
				heat->st.swept++;
			}
		}
		heat->sweep_i += n;
		todo -= n;
		if (heat->sweep_i == r->end - r->start) {
			heat->sweep_i = 0;
			heat->sweep_r = (heat->sweep_r + 1) % heat->nr;
		}
	}
}

__u64 hp_heat_window(const struct hp_heat *heat)
{
	return heat->window;
}

void hp_heat_set_sparse(struct hp_heat *heat, __u64 node_mask, unsigned int every)
{
	if (every < 1)
		every = 1;
	if (every > HP_HEAT_WINDOWS)
		every = HP_HEAT_WINDOWS;
	heat->sparse_nodes = every > 1 ? node_mask : 0;
	heat->sparse_every = every;
}

int hp_heat_touch(struct hp_heat *heat, __u64 pfn, unsigned int npages)
{
	const struct heat_range *r = find_range(heat, pfn);
	int ret;

	if (!r) {
		heat->st.outside++;
		return -1;
	}
	r->e[pfn - r->start] = entry_touch(r->e[pfn - r->start], heat->window);
	ret = (int)range_heat(heat, r, r->e[pfn - r->start]);
	heat->st.touches++;
	for (unsigned int i = 1; i < npages; i++) {
		if (pfn + i >= r->end) {
			r = find_range(heat, pfn + i);
			if (!r)
				break;
		}
		r->e[pfn + i - r->start] = entry_touch(r->e[pfn + i - r->start], heat->window);
	}
	return ret;
}

void hp_heat_prefetch(const struct hp_heat *heat, __u64 pfn)
{
	const struct heat_range *r = find_range(heat, pfn);

	if (r)
		__builtin_prefetch(&r->e[pfn - r->start], 1);
}

unsigned int hp_heat_of(const struct hp_heat *heat, __u64 pfn)
{
	const struct heat_range *r = find_range(heat, pfn);

	return r ? range_heat(heat, r, r->e[pfn - r->start]) : 0;
}

unsigned int hp_heat_idle(const struct hp_heat *heat, __u64 pfn)
{
	const struct heat_range *r = find_range(heat, pfn);

	return r ? entry_idle(r->e[pfn - r->start], heat->window) : HP_HEAT_IDLE_MAX;
}

int hp_heat_node(const struct hp_heat *heat, __u64 pfn)
{
	const struct heat_range *r = find_range(heat, pfn);

	return r ? r->node : -1;
}

void hp_heat_forget(struct hp_heat *heat, __u64 pfn, unsigned int npages)
{
	for (unsigned int i = 0; i < npages; i++) {
		const struct heat_range *r = find_range(heat, pfn + i);

		if (r)
			r->e[pfn + i - r->start] = 0;
	}
}

/*
 * The selection key of an entry, larger is better; -1 when @sel does not
 * take it. Hottest: heat, then recency (idle < 8 whenever heat > 0).
 */
static int select_key(const struct hp_heat *heat, const struct heat_range *r, __u16 e,
		      const struct hp_heat_select *sel)
{
	__u64 window = heat->window;

	if (sel->coldest) {
		unsigned int idle = entry_idle(e, window);

		return idle >= sel->min_idle ? (int)idle : -1;
	}
	unsigned int h = range_heat(heat, r, e);

	if (!h || h < sel->min_heat)
		return -1;
	return (int)(h * HP_HEAT_WINDOWS + (HP_HEAT_WINDOWS - 1 - entry_age(e, window)));
}

#define SELECT_KEYS 256

struct keyed {
	int key;
	__u64 pfn;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

static bool range_selected(const struct heat_range *r, const struct hp_heat_select *sel)
{
	return !sel->node_mask || (r->node >= 0 && r->node < 64 && (sel->node_mask >> r->node & 1));
}

size_t hp_heat_select(const struct hp_heat *heat, const struct hp_heat_select *sel, __u64 *out,
		      size_t max)
{
	__u64 hist[SELECT_KEYS] = { 0 }, above = 0, at_cut_room;
	struct keyed *found;
	size_t n = 0;
	int cut;

	if (!max)
		return 0;
	for (size_t i = 0; i < heat->nr; i++) {
		const struct heat_range *r = &heat->r[i];

		if (!range_selected(r, sel))
			continue;
		for (__u64 j = 0; j < r->end - r->start; j++) {
			int k = select_key(heat, r, r->e[j], sel);

			if (k >= 0)
				hist[k]++;
		}
	}
	/* The lowest key that still fits, and how many of its entries do. */
	for (cut = SELECT_KEYS - 1; cut >= 0; cut--) {
		if (above + hist[cut] >= max)
			break;
		above += hist[cut];
	}
	if (cut < 0) { /* everything fits */
		cut = 0;
		at_cut_room = max;
	} else {
		at_cut_room = max - above;
	}
	found = calloc(max, sizeof(*found));
	if (!found)
		return 0;
	for (size_t i = 0; i < heat->nr && n < max; i++) {
		const struct heat_range *r = &heat->r[i];

		if (!range_selected(r, sel))
			continue;
		for (__u64 j = 0; j < r->end - r->start && n < max; j++) {
			int k = select_key(heat, r, r->e[j], sel);

			if (k < cut)
				continue;
			if (k == cut) {
				if (!at_cut_room)
					continue;
				at_cut_room--;
			}
			found[n].key = k;
			found[n].pfn = r->start + j;
			n++;
		}
	}
	qsort(found, n, sizeof(*found), cmp_keyed);
	for (size_t i = 0; i < n; i++)
		out[i] = found[i].pfn;
	free(found);
	return n;
}

void hp_heat_get_stats(const struct hp_heat *heat, struct hp_heat_stats *stats)
{
	*stats = heat->st;
}
