// SPDX-License-Identifier: GPL-2.0
/* The per-PFN hotness table (user/hotness.c): credit, decay, eviction, queries, budget. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hotness.h"

/*
 * The sanitizer runtime's count of live heap bytes (the unit tests always
 * run under ASan; GCC ships no header for it): the table's real allocation.
 */
size_t __sanitizer_get_current_allocated_bytes(void);

#define MS 1000000ULL
#define SEC (1000 * MS)
#define T0 (100 * SEC) /* the tables' creation time */

static struct hp_hotness *make_table(__u64 budget, __u32 window_ms)
{
	struct hp_hotness_opts opts = { .budget_bytes = budget, .window_ms = window_ms };
	struct hp_hotness *t = NULL;

	assert_int_equal(hp_hotness_create(&opts, T0, &t), 0);
	assert_non_null(t);
	return t;
}

static struct hp_event access_event(__u32 tgid, __u64 vaddr, int cpu_node, enum hp_source src)
{
	struct hp_event ev = {
		.version = HP_EVENT_VERSION,
		.source = (__u8)src,
		.flags = HP_EV_READ,
		.cpu_node = (__s16)cpu_node,
		.tgid = tgid,
		.pid = tgid,
		.addr = vaddr,
		.pfn = HP_PFN_UNKNOWN,
		.page_node = HP_NODE_UNKNOWN,
		.nr_accesses = 1,
	};

	return ev;
}

static struct hp_event damon_region(__u64 first_pfn, __u64 nr_pages, __u32 nr_accesses)
{
	struct hp_event ev = {
		.version = HP_EVENT_VERSION,
		.source = HP_SRC_DAMON,
		.flags = HP_EV_REGION | HP_EV_PHYS,
		.cpu_node = HP_NODE_UNKNOWN,
		.addr = first_pfn << 12,
		.end = (first_pfn + nr_pages) << 12,
		.pfn = HP_PFN_UNKNOWN,
		.page_node = HP_NODE_UNKNOWN,
		.nr_accesses = nr_accesses,
	};

	return ev;
}

/* @n accesses to @pfn at @now by a fault event of tgid 1. */
static void touch(struct hp_hotness *t, __u64 pfn, int node, unsigned int n, __u64 now)
{
	struct hp_event ev = access_event(1, 0x7f0000000000ULL + (pfn << 12), 0, HP_SRC_FAULT);

	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(hp_hotness_record(t, &ev, pfn, node, now), 1);
}

static __u32 freq_at(struct hp_hotness *t, __u64 pfn, __u64 now)
{
	struct hp_hot_page page;

	assert_true(hp_hotness_lookup(t, pfn, now, &page));
	return page.freq;
}

static void test_record_and_lookup(void **state)
{
	struct hp_hotness *t = make_table(1 << 20, 1000);
	struct hp_event ev = access_event(4242, 0x7f1234567abcULL, 0, HP_SRC_FAULT);
	struct hp_hotness_stats st;
	struct hp_hot_page page;

	(void)state;
	assert_false(hp_hotness_lookup(t, 0x1234, T0, &page));
	assert_int_equal(hp_hotness_record(t, &ev, 0x1234, 1, T0 + 5 * MS), 1);
	ev.source = HP_SRC_PERF;
	assert_int_equal(hp_hotness_record(t, &ev, 0x1234, 1, T0 + 9 * MS), 1);

	assert_true(hp_hotness_lookup(t, 0x1234, T0 + 9 * MS, &page));
	assert_int_equal(page.pfn, 0x1234);
	assert_int_equal(page.vaddr, 0x7f1234567000ULL); /* the page, not the byte */
	assert_int_equal(page.tgid, 4242);
	assert_int_equal(page.freq, 2);
	assert_int_equal(page.page_node, 1);
	assert_int_equal(page.access_node, 0);
	assert_int_equal(page.sources, (1 << HP_SRC_FAULT) | (1 << HP_SRC_PERF));
	assert_int_equal(page.first_seen_ns, T0 + 5 * MS);
	assert_int_equal(page.last_seen_ns, T0 + 9 * MS);
	assert_false(page.migrated);

	/* The PFN may come in the event itself. */
	ev.pfn = 0x99;
	ev.page_node = 0;
	assert_int_equal(hp_hotness_record(t, &ev, HP_PFN_UNKNOWN, HP_NODE_UNKNOWN, T0), 1);
	assert_true(hp_hotness_lookup(t, 0x99, T0, &page));
	assert_int_equal(page.page_node, 0);

	hp_hotness_get_stats(t, &st);
	assert_int_equal(st.tracked, 2);
	assert_int_equal(st.inserts, 2);
	assert_int_equal(st.credited, 3);
	assert_int_equal(st.evictions, 0);
	hp_hotness_destroy(t);
}

static void test_rejects_events_without_pfn(void **state)
{
	struct hp_hotness *t = make_table(1 << 20, 1000);
	struct hp_event ev = access_event(1, 0x1000, 0, HP_SRC_FAULT);
	struct hp_event virt_region = damon_region(10, 4, 3);
	struct hp_hotness_stats st;

	(void)state;
	assert_int_equal(hp_hotness_record(t, &ev, HP_PFN_UNKNOWN, 0, T0), -EINVAL);
	assert_int_equal(hp_hotness_record(t, &ev, HP_HOT_PFN_MAX + 1, 0, T0), -EINVAL);
	assert_int_equal(hp_hotness_record(t, &ev, HP_HOT_PFN_MAX, 0, T0), 1);
	/* A virtual region: the caller resolves PFNs, the table cannot. */
	virt_region.flags = HP_EV_REGION;
	assert_int_equal(hp_hotness_record(t, &virt_region, HP_PFN_UNKNOWN, 0, T0), -EINVAL);
	hp_hotness_get_stats(t, &st);
	assert_int_equal(st.rejected, 3);
	assert_int_equal(st.tracked, 1);
	hp_hotness_destroy(t);
}

static void test_decay_halves_per_window(void **state)
{
	struct hp_hotness *t = make_table(1 << 20, 1000);

	(void)state;
	touch(t, 7, 1, 8, T0 + 100 * MS); /* window 0 */
	assert_int_equal(freq_at(t, 7, T0 + 999 * MS), 8);
	assert_int_equal(freq_at(t, 7, T0 + 1000 * MS), 4); /* one boundary crossed */
	assert_int_equal(freq_at(t, 7, T0 + 2999 * MS), 2);
	assert_int_equal(freq_at(t, 7, T0 + 3000 * MS), 1);
	assert_int_equal(freq_at(t, 7, T0 + 60 * SEC), 0);

	/* Lazy decay on touch: 8 from window 0 is 2 in window 2, plus one. */
	touch(t, 7, 1, 1, T0 + 2500 * MS);
	assert_int_equal(freq_at(t, 7, T0 + 2500 * MS), 3);
	/* Reads do not decay the stored count twice. */
	assert_int_equal(freq_at(t, 7, T0 + 2600 * MS), 3);
	assert_int_equal(freq_at(t, 7, T0 + 3000 * MS), 1);

	/* Two accesses in a window reach 2; one a window never does. */
	touch(t, 8, 1, 1, T0 + 100 * MS);
	touch(t, 8, 1, 1, T0 + 1100 * MS);
	touch(t, 8, 1, 1, T0 + 2100 * MS);
	assert_int_equal(freq_at(t, 8, T0 + 2100 * MS), 1);
	touch(t, 9, 1, 2, T0 + 100 * MS);
	touch(t, 9, 1, 2, T0 + 1100 * MS);
	assert_int_equal(freq_at(t, 9, T0 + 1100 * MS), 3);
	hp_hotness_destroy(t);
}

static void test_window_change_applies_at_once(void **state)
{
	struct hp_hotness *t = make_table(1 << 20, 1000);
	struct hp_hotness_stats st;

	(void)state;
	touch(t, 5, 1, 16, T0 + 10 * MS);
	assert_int_equal(freq_at(t, 5, T0 + 900 * MS), 16);
	assert_int_equal(hp_hotness_set_window(t, 200), 0);
	/* 900 ms is in 200-ms window 4; the page was credited in window 0. */
	assert_int_equal(freq_at(t, 5, T0 + 900 * MS), 1);
	assert_int_equal(hp_hotness_set_window(t, 0), -EINVAL);
	assert_int_equal(hp_hotness_set_window(t, HP_HOT_WINDOW_MAX_MS + 1), -EINVAL);
	hp_hotness_get_stats(t, &st);
	assert_int_equal(st.window_ms, 200);
	hp_hotness_destroy(t);
}

static void test_frequency_saturates(void **state)
{
	struct hp_hotness *t = make_table(1 << 20, 1000);
	struct hp_event region = damon_region(100, 1, 40000);

	(void)state;
	assert_int_equal(hp_hotness_record(t, &region, HP_PFN_UNKNOWN, 1, T0), 1);
	assert_int_equal(hp_hotness_record(t, &region, HP_PFN_UNKNOWN, 1, T0), 1);
	assert_int_equal(freq_at(t, 100, T0), 65535);
	hp_hotness_destroy(t);
}

static void test_damon_region_credits_each_page(void **state)
{
	struct hp_hotness_opts opts = { .budget_bytes = 1 << 20, .max_range_pages = 4 };
	struct hp_hotness *t = make_table(1 << 20, 1000);
	struct hp_event region = damon_region(0x5000, 16, 3);
	struct hp_event fault = access_event(77, 0x7f0000005000ULL, 0, HP_SRC_FAULT);
	struct hp_hotness *strided = NULL;
	struct hp_hotness_stats st;
	struct hp_hot_page page;

	(void)state;
	/* A fault first: DAMON (physical, no process) must not erase tgid and vaddr. */
	assert_int_equal(hp_hotness_record(t, &fault, 0x5003, 1, T0), 1);
	assert_int_equal(hp_hotness_record(t, &region, HP_PFN_UNKNOWN, 1, T0 + MS), 16);
	for (__u64 pfn = 0x5000; pfn < 0x5010; pfn++) {
		assert_true(hp_hotness_lookup(t, pfn, T0 + MS, &page));
		assert_int_equal(page.freq, pfn == 0x5003 ? 4 : 3);
		assert_int_equal(page.page_node, 1);
		assert_true(page.sources & (1 << HP_SRC_DAMON));
	}
	assert_false(hp_hotness_lookup(t, 0x5010, T0, &page)); /* end is exclusive */
	assert_true(hp_hotness_lookup(t, 0x5003, T0 + MS, &page));
	assert_int_equal(page.tgid, 77);
	assert_int_equal(page.vaddr, 0x7f0000005000ULL);
	assert_int_equal(page.sources, (1 << HP_SRC_FAULT) | (1 << HP_SRC_DAMON));
	assert_true(hp_hotness_lookup(t, 0x5004, T0 + MS, &page));
	assert_int_equal(page.tgid, 0);
	assert_int_equal(page.vaddr, 0);

	/* A region nobody accessed credits nothing. */
	region = damon_region(0x9000, 8, 0);
	assert_int_equal(hp_hotness_record(t, &region, HP_PFN_UNKNOWN, 1, T0), 0);
	assert_false(hp_hotness_lookup(t, 0x9000, T0, &page));
	hp_hotness_destroy(t);

	/* Past max_range_pages a region is strided, and the rest counted. */
	assert_int_equal(hp_hotness_create(&opts, T0, &strided), 0);
	region = damon_region(0x100, 16, 2);
	assert_int_equal(hp_hotness_record(strided, &region, HP_PFN_UNKNOWN, 1, T0), 4);
	for (__u64 i = 0; i < 16; i++)
		assert_int_equal(hp_hotness_lookup(strided, 0x100 + i, T0, &page), i % 4 == 0);
	hp_hotness_get_stats(strided, &st);
	assert_int_equal(st.range_pages_skipped, 12);
	assert_int_equal(st.tracked, 4);
	hp_hotness_destroy(strided);
}

static void test_credit_range_with_vaddr(void **state)
{
	struct hp_hotness *t = make_table(1 << 20, 1000);
	const struct hp_hot_range range = {
		.first_pfn = 0x40,
		.first_vaddr = 0x7f0000100000ULL,
		.nr_pages = 3,
		.accesses = 5,
		.tgid = 9,
		.page_node = 1,
		.access_node = 0,
		.source = HP_SRC_DAMON,
	};
	struct hp_hot_range bad = range;
	struct hp_hot_page page;

	(void)state;
	assert_int_equal(hp_hotness_credit_range(t, &range, T0), 3);
	assert_true(hp_hotness_lookup(t, 0x42, T0, &page));
	assert_int_equal(page.vaddr, 0x7f0000102000ULL);
	assert_int_equal(page.tgid, 9);
	assert_int_equal(page.freq, 5);
	bad.nr_pages = 0;
	assert_int_equal(hp_hotness_credit_range(t, &bad, T0), -EINVAL);
	bad.nr_pages = 2;
	bad.first_pfn = HP_HOT_PFN_MAX;
	assert_int_equal(hp_hotness_credit_range(t, &bad, T0), -EINVAL);
	hp_hotness_destroy(t);
}

static void test_process_change_drops_stale_vaddr(void **state)
{
	struct hp_hotness *t = make_table(1 << 20, 1000);
	struct hp_event a = access_event(10, 0x7f0000001000ULL, 0, HP_SRC_FAULT);
	struct hp_event b = access_event(20, 0, 0, HP_SRC_PERF);
	struct hp_hot_page page;

	(void)state;
	assert_int_equal(hp_hotness_record(t, &a, 0x77, 1, T0), 1);
	assert_int_equal(hp_hotness_record(t, &b, 0x77, 1, T0), 1);
	assert_true(hp_hotness_lookup(t, 0x77, T0, &page));
	assert_int_equal(page.tgid, 20);
	assert_int_equal(page.vaddr, 0); /* tgid 10's address means nothing in tgid 20 */
	hp_hotness_destroy(t);
}

/*
 * Budgets are kept: what the table allocates (measured by the sanitizer's
 * allocator) never exceeds the budget, and a full table costs <= 32 bytes
 * per tracked page.
 */
static void test_budget_and_bytes_per_page(void **state)
{
	static const __u64 budgets[] = { 1024, 4096, 65536 + 17, 1 << 20, (3 << 20) + 5 };

	(void)state;
	for (size_t b = 0; b < sizeof(budgets) / sizeof(budgets[0]); b++) {
		size_t before = __sanitizer_get_current_allocated_bytes();
		struct hp_hotness *t = make_table(budgets[b], 1000);
		size_t allocated = __sanitizer_get_current_allocated_bytes() - before;
		struct hp_hotness_stats st;
		__u64 pfn = 1;

		hp_hotness_get_stats(t, &st);
		assert_int_equal(allocated, st.bytes);
		assert_true(st.bytes <= budgets[b]);
		assert_true(st.capacity >= 2 * HP_HOT_BUCKET_SLOTS);
		/* Distinct pages until every slot is taken. */
		while (st.tracked < st.capacity && pfn < 100 * st.capacity) {
			touch(t, pfn * 7919, 1, 1, T0 + pfn * MS);
			pfn++;
			hp_hotness_get_stats(t, &st);
		}
		assert_int_equal(st.tracked, st.capacity);
		for (int i = 0; i < 1000; i++, pfn++)
			touch(t, pfn * 7919, 1, 1, T0 + pfn * MS);
		hp_hotness_get_stats(t, &st);
		assert_int_equal(st.tracked, st.capacity);
		assert_int_equal(st.inserts - st.evictions, st.tracked);
		assert_int_equal(__sanitizer_get_current_allocated_bytes() - before, allocated);
		if (budgets[b] >= 4096)
			assert_true(st.bytes <= 32 * st.tracked);
		hp_hotness_destroy(t);
	}
	/* Too small for two buckets. */
	{
		struct hp_hotness_opts opts = { .budget_bytes = 511 };
		struct hp_hotness *t = (struct hp_hotness *)&opts;

		assert_int_equal(hp_hotness_create(&opts, T0, &t), -EINVAL);
		assert_null(t);
	}
}

/* Default budget: the 64 MiB table's cost per page, from its allocation. */
static void test_default_budget(void **state)
{
	size_t before = __sanitizer_get_current_allocated_bytes();
	struct hp_hotness *t = make_table(0, 0);
	size_t allocated = __sanitizer_get_current_allocated_bytes() - before;
	struct hp_hotness_stats st;

	(void)state;
	hp_hotness_get_stats(t, &st);
	assert_int_equal(allocated, st.bytes);
	assert_true(allocated <= HP_HOT_BUDGET_DEFAULT);
	assert_true(allocated > HP_HOT_BUDGET_DEFAULT - 4096);
	assert_true((double)allocated / (double)st.capacity <= 28.5);
	assert_int_equal(st.window_ms, HP_HOT_WINDOW_DEFAULT_MS);
	hp_hotness_destroy(t);
}

static struct hp_hotness *two_bucket_table(void)
{
	struct hp_hotness_stats st;

	for (__u64 budget = 512; budget < 1024; budget++) {
		struct hp_hotness_opts opts = { .budget_bytes = budget, .window_ms = 1000 };
		struct hp_hotness *t;

		if (hp_hotness_create(&opts, T0, &t))
			continue;
		hp_hotness_get_stats(t, &st);
		assert_int_equal(st.capacity, 2 * HP_HOT_BUCKET_SLOTS);
		return t;
	}
	fail_msg("no budget under 1 KiB makes a two-bucket table");
	return NULL;
}

/*
 * With every page a candidate, eviction takes exactly the coldest: lowest
 * decayed frequency first, then the oldest access.
 */
static void test_eviction_takes_the_coldest(void **state)
{
	struct hp_hotness *t = two_bucket_table();
	const __u64 w10 = T0 + 10 * SEC; /* window 10; now is in it too */
	const __u64 now = w10 + 500 * MS;
	/* pfn: accesses, at w10 + ms; the last four are the coldest in window 10. */
	static const struct {
		__u64 pfn;
		unsigned int n;
		__u64 after_w10_ms;
	} pages[] = {
		{ 1, 2, 100 },	{ 2, 3, 100 },	{ 3, 5, 100 },	{ 4, 2, 100 },
		{ 5, 4, 100 },	{ 6, 9, 100 },	{ 7, 2, 100 },	{ 8, 6, 100 },
		{ 9, 7, 100 },	{ 10, 2, 100 }, { 11, 3, 100 }, { 12, 8, 100 },
		{ 13, 1, 300 }, { 14, 1, 200 }, { 15, 1, 150 }, { 18, 1, 400 },
	};
	static const __u64 eviction_order[] = { 16, 17, 15, 14, 13, 18 };
	struct hp_hotness_stats st;
	struct hp_hot_page page;

	(void)state;
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		touch(t, pages[i].pfn, 1, pages[i].n, w10 + pages[i].after_w10_ms * MS);
	touch(t, 16, 1, 200, T0); /* 200, ten windows ago: 0 now */
	touch(t, 17, 1, 64, T0 + SEC); /* 64, nine windows ago: 0 too, but more recent */
	hp_hotness_get_stats(t, &st);
	assert_int_equal(st.tracked, 18);
	assert_int_equal(st.evictions, 0);

	/* Each new page (1 access, later than all) evicts the next coldest. */
	for (size_t k = 0; k < sizeof(eviction_order) / sizeof(eviction_order[0]); k++) {
		assert_true(hp_hotness_lookup(t, eviction_order[k], now, &page));
		touch(t, 100 + k, 1, 1, now + k * MS);
		assert_false(hp_hotness_lookup(t, eviction_order[k], now, &page));
		hp_hotness_get_stats(t, &st);
		assert_int_equal(st.evictions, k + 1);
		assert_int_equal(st.tracked, 18);
	}
	/* Then the oldest of the new pages: everything else is more frequent. */
	touch(t, 200, 1, 1, now + 10 * MS);
	assert_false(hp_hotness_lookup(t, 100, now, &page));
	for (__u64 pfn = 1; pfn <= 12; pfn++)
		assert_true(hp_hotness_lookup(t, pfn, now, &page));
	hp_hotness_get_stats(t, &st);
	assert_int_equal(st.evictions, 7);
	assert_int_equal(st.inserts, 18 + 7);
	hp_hotness_destroy(t);
}

/*
 * Fill a table: half of it with pages credited at @old_ns (@old_n accesses
 * each), then up to full with pages at @new_ns (@new_n each). Returns the
 * last PFN used; present[pfn] tells which pages of the second kind are in.
 */
static __u64 fill_two_kinds(struct hp_hotness *t, __u64 old_ns, unsigned int old_n, __u64 new_ns,
			    unsigned int new_n, bool *present, size_t present_len)
{
	struct hp_hotness_stats st;
	struct hp_hot_page page;
	__u64 pfn = 0;

	hp_hotness_get_stats(t, &st);
	while (st.tracked < st.capacity / 2) {
		touch(t, ++pfn, 1, old_n, old_ns);
		hp_hotness_get_stats(t, &st);
	}
	while (st.tracked < st.capacity) {
		touch(t, ++pfn, 1, new_n, new_ns);
		hp_hotness_get_stats(t, &st);
	}
	assert_true(pfn < present_len);
	for (__u64 p = 0; p <= pfn; p++)
		present[p] = hp_hotness_lookup(t, p, new_ns, &page) && page.last_seen_ns == new_ns;
	return pfn;
}

/*
 * Sampled eviction on a full table of 2295 pages: a quarter of it arrives
 * as new pages; the warm pages (4 accesses now) stay, bar the few whose 18
 * candidates were all warm; the stale ones (hot 100 windows ago) go first.
 */
static void test_eviction_keeps_warm_pages(void **state)
{
	struct hp_hotness *t = make_table(64 << 10, 1000);
	const __u64 now = T0 + 100 * SEC;
	static bool warm[4096];
	struct hp_hotness_stats st;
	__u64 last, nr_warm = 0, warm_kept = 0, stale_kept = 0, stale_before = 0, evictions_before;
	struct hp_hot_page page;

	(void)state;
	last = fill_two_kinds(t, T0, 64, now, 4, warm, 4096);
	hp_hotness_get_stats(t, &st);
	assert_int_equal(st.inserts - st.evictions, st.tracked);
	evictions_before = st.evictions;
	for (__u64 p = 1; p <= last; p++) {
		nr_warm += warm[p];
		stale_before += !warm[p] && hp_hotness_lookup(t, p, now, &page);
	}

	for (__u64 i = 1; i <= st.capacity / 4; i++)
		touch(t, 1000000 + i, 1, 1, now);
	hp_hotness_get_stats(t, &st);
	assert_int_equal(st.evictions - evictions_before, st.capacity / 4);
	assert_int_equal(st.tracked, st.capacity);
	for (__u64 p = 1; p <= last; p++) {
		if (!hp_hotness_lookup(t, p, now, &page))
			continue;
		if (warm[p]) {
			warm_kept++;
			assert_int_equal(page.freq, 4);
		} else {
			stale_kept++;
		}
	}
	assert_true(warm_kept * 100 >= nr_warm * 98);
	assert_true(stale_kept * 2 < stale_before);
	hp_hotness_destroy(t);
}

static void test_remove(void **state)
{
	struct hp_hotness *t = make_table(1 << 20, 1000);
	struct hp_hotness_stats st;
	struct hp_hot_page page;

	(void)state;
	touch(t, 3, 1, 2, T0);
	touch(t, 4, 1, 2, T0);
	assert_int_equal(hp_hotness_remove(t, 3), 0);
	assert_int_equal(hp_hotness_remove(t, 3), -ENOENT);
	assert_false(hp_hotness_lookup(t, 3, T0, &page));
	assert_true(hp_hotness_lookup(t, 4, T0, &page));
	hp_hotness_get_stats(t, &st);
	assert_int_equal(st.tracked, 1);
	assert_int_equal(st.removals, 1);
	hp_hotness_clear(t);
	assert_false(hp_hotness_lookup(t, 4, T0, &page));
	hp_hotness_get_stats(t, &st);
	assert_int_equal(st.tracked, 0);
	hp_hotness_destroy(t);
}

/* Removal keeps every other page reachable, those that spilled included. */
static void test_remove_many_keeps_the_rest(void **state)
{
	struct hp_hotness *t = make_table(16 << 10, 1000);
	struct hp_hotness_stats st;
	struct hp_hot_page page;
	__u64 n;

	(void)state;
	hp_hotness_get_stats(t, &st);
	n = st.capacity * 3 / 4;
	for (__u64 p = 1; p <= n; p++)
		touch(t, p * 31, 1, 1, T0);
	hp_hotness_get_stats(t, &st);
	assert_int_equal(st.evictions, 0);
	for (__u64 p = 1; p <= n; p += 2)
		assert_int_equal(hp_hotness_remove(t, p * 31), 0);
	for (__u64 p = 1; p <= n; p++)
		assert_int_equal(hp_hotness_lookup(t, p * 31, T0, &page), p % 2 == 0);
	hp_hotness_destroy(t);
}

struct admit_arg {
	__u32 tgid;
	unsigned int calls;
};

static bool admit_tgid(const struct hp_hot_page *page, void *arg)
{
	struct admit_arg *a = arg;

	a->calls++;
	return page->tgid == a->tgid;
}

static void record_as(struct hp_hotness *t, __u32 tgid, __u64 pfn, int node, unsigned int n,
		      __u64 now)
{
	struct hp_event ev = access_event(tgid, 0x7f0000000000ULL + (pfn << 12), 0, HP_SRC_FAULT);

	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(hp_hotness_record(t, &ev, pfn, node, now), 1);
}

static void test_candidates_query(void **state)
{
	struct hp_hotness *t = make_table(1 << 20, 1000);
	struct hp_hot_query q = { .min_freq = 4, .exclude_nodes = 1ULL << 0 };
	struct admit_arg arg = { .tgid = 200 };
	struct hp_hot_page out[8];
	size_t n, matched;

	(void)state;
	record_as(t, 100, 0x10, 1, 9, T0); /* node 1, hot */
	record_as(t, 100, 0x11, 1, 4, T0); /* node 1, just hot */
	record_as(t, 100, 0x12, 1, 3, T0); /* node 1, not hot enough */
	record_as(t, 100, 0x13, 0, 50, T0); /* node 0: excluded */
	record_as(t, 200, 0x14, 1, 6, T0); /* node 1, other process */
	record_as(t, 200, 0x15, 2, 12, T0 + MS); /* node 2, hottest */
	record_as(t, 200, 0x16, HP_NODE_UNKNOWN, 7, T0); /* node unknown */

	n = hp_hotness_candidates(t, &q, T0 + MS, out, 8, &matched);
	assert_int_equal(n, 5);
	assert_int_equal(matched, 5);
	assert_int_equal(out[0].pfn, 0x15);
	assert_int_equal(out[1].pfn, 0x10);
	assert_int_equal(out[2].pfn, 0x16);
	assert_int_equal(out[3].pfn, 0x14);
	assert_int_equal(out[4].pfn, 0x11);
	assert_int_equal(out[0].freq, 12);
	assert_int_equal(out[0].vaddr, 0x7f0000000000ULL + (0x15ULL << 12));

	/* At most max, still the hottest. */
	n = hp_hotness_candidates(t, &q, T0 + MS, out, 2, &matched);
	assert_int_equal(n, 2);
	assert_int_equal(matched, 5);
	assert_int_equal(out[0].pfn, 0x15);
	assert_int_equal(out[1].pfn, 0x10);

	q.skip_unknown_node = true;
	q.admit = admit_tgid;
	q.arg = &arg;
	n = hp_hotness_candidates(t, &q, T0 + MS, out, 8, &matched);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].pfn, 0x15);
	assert_int_equal(out[1].pfn, 0x14);
	assert_int_equal(arg.calls, 4); /* admit() only sees pages that passed the rest */

	/* A window later the counts have halved: 12 -> 6, 9 -> 4, 6 -> 3, 4 -> 2. */
	q.admit = NULL;
	n = hp_hotness_candidates(t, &q, T0 + 1500 * MS, out, 8, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].freq, 6);
	assert_int_equal(out[1].freq, 4);
	/* max 0 still counts: 0x10, 0x11, 0x14, 0x15 (0x16's node is unknown). */
	assert_int_equal(hp_hotness_candidates(t, &q, T0, out, 0, &matched), 0);
	assert_int_equal(matched, 4);
	hp_hotness_destroy(t);
}

static void test_top(void **state)
{
	struct hp_hotness *t = make_table(1 << 20, 1000);
	struct hp_hot_page out[3];

	(void)state;
	for (__u64 pfn = 1; pfn <= 10; pfn++)
		touch(t, pfn, (int)(pfn % 2), (unsigned int)pfn, T0);
	assert_int_equal(hp_hotness_top(t, T0, out, 3), 3);
	assert_int_equal(out[0].pfn, 10);
	assert_int_equal(out[1].pfn, 9);
	assert_int_equal(out[2].pfn, 8);
	hp_hotness_destroy(t);
}

static void test_pingpong_guard_with_new_pfn(void **state)
{
	struct hp_hotness *t = make_table(1 << 20, 1000);
	const struct hp_hot_query q = { .min_freq = 2, .guard_ms = 10000 };
	const __u64 moved_at = T0 + 500 * MS;
	struct hp_hotness_stats st;
	struct hp_hot_page out[4], page;

	(void)state;
	record_as(t, 300, 0x500, 1, 5, T0);
	assert_int_equal(hp_hotness_mark_migrated(t, 0x500, 0x900, 0, moved_at), 0);
	assert_false(hp_hotness_lookup(t, 0x500, moved_at, &page));
	assert_true(hp_hotness_lookup(t, 0x900, moved_at, &page));
	assert_true(page.migrated);
	assert_int_equal(page.page_node, 0);
	assert_int_equal(page.first_seen_ns, moved_at);
	assert_int_equal(page.tgid, 300);
	assert_int_equal(page.vaddr, 0x7f0000000000ULL + (0x500ULL << 12));
	assert_int_equal(page.freq, 5); /* its history moved with it */

	/* Hot but moved 9.9 s ago: guarded. At 10 s: a candidate again. */
	assert_int_equal(hp_hotness_candidates(t, &q, moved_at + 9900 * MS, out, 4, NULL), 0);
	record_as(t, 300, 0x900, 0, 3, moved_at + 10 * SEC);
	assert_int_equal(hp_hotness_candidates(t, &q, moved_at + 10 * SEC, out, 4, NULL), 1);
	assert_int_equal(out[0].pfn, 0x900);
	assert_true(out[0].migrated);

	hp_hotness_get_stats(t, &st);
	assert_int_equal(st.migrations, 1);
	assert_int_equal(st.tracked, 1);
	assert_int_equal(st.inserts, 1);
	assert_int_equal(hp_hotness_mark_migrated(t, 0x12345, 1, 0, moved_at), -ENOENT);
	hp_hotness_destroy(t);
}

static void test_pingpong_guard_without_new_pfn(void **state)
{
	struct hp_hotness *t = make_table(1 << 20, 1000);
	const struct hp_hot_query q = { .min_freq = 1, .guard_ms = 5000 };
	struct hp_hot_page out[2], page;

	(void)state;
	record_as(t, 300, 0x600, 1, 9, T0);
	assert_int_equal(hp_hotness_mark_migrated(t, 0x600, HP_PFN_UNKNOWN, 0, T0 + SEC), 0);
	assert_true(hp_hotness_lookup(t, 0x600, T0 + SEC, &page));
	assert_true(page.migrated);
	assert_int_equal(page.freq, 0); /* the counts were the moved page's */
	assert_int_equal(page.page_node, 1); /* the frame did not move */
	/* The frame's next page is credited, yet waits out the guard. */
	record_as(t, 301, 0x600, 1, 4, T0 + 2 * SEC);
	assert_int_equal(hp_hotness_candidates(t, &q, T0 + 2 * SEC, out, 2, NULL), 0);
	record_as(t, 301, 0x600, 1, 1, T0 + 6 * SEC);
	assert_int_equal(hp_hotness_candidates(t, &q, T0 + 6 * SEC, out, 2, NULL), 1);
	assert_int_equal(out[0].tgid, 301);
	hp_hotness_destroy(t);
}

/* Moving onto a frame that events reported first merges the two. */
static void test_mark_migrated_merges(void **state)
{
	struct hp_hotness *t = make_table(1 << 20, 1000);
	struct hp_hot_page page;
	struct hp_event damon = damon_region(0x901, 1, 2);

	(void)state;
	record_as(t, 300, 0x701, 1, 6, T0);
	assert_int_equal(hp_hotness_record(t, &damon, HP_PFN_UNKNOWN, 0, T0), 1);
	assert_int_equal(hp_hotness_mark_migrated(t, 0x701, 0x901, 0, T0 + MS), 0);
	assert_true(hp_hotness_lookup(t, 0x901, T0 + MS, &page));
	assert_int_equal(page.freq, 6);
	assert_int_equal(page.tgid, 300);
	assert_int_equal(page.sources, (1 << HP_SRC_FAULT) | (1 << HP_SRC_DAMON));
	assert_true(page.migrated);
	hp_hotness_destroy(t);
}

/* After ~25 days the millisecond clock rebases; times and decay stay right. */
static void test_clock_rebase(void **state)
{
	struct hp_hotness *t = make_table(1 << 20, 1000);
	const __u64 day = 24 * 3600 * SEC;
	struct hp_hotness_stats st;
	struct hp_hot_page page;

	(void)state;
	touch(t, 1, 1, 100, T0 + SEC);
	touch(t, 2, 1, 8, T0 + 24 * day);
	touch(t, 3, 1, 8, T0 + 30 * day); /* past 2^31 ms: rebase */
	hp_hotness_get_stats(t, &st);
	assert_int_equal(st.rebases, 1);
	assert_true(hp_hotness_lookup(t, 3, T0 + 30 * day, &page));
	assert_int_equal(page.freq, 8);
	assert_int_equal(page.last_seen_ns, T0 + 30 * day);
	assert_true(hp_hotness_lookup(t, 2, T0 + 30 * day, &page));
	assert_int_equal(page.last_seen_ns, T0 + 24 * day);
	assert_int_equal(page.freq, 0);
	assert_int_equal(freq_at(t, 1, T0 + 30 * day), 0);
	/* Still counting and decaying after the rebase. */
	touch(t, 3, 1, 8, T0 + 30 * day + 500 * MS);
	assert_int_equal(freq_at(t, 3, T0 + 30 * day + 500 * MS), 16);
	assert_int_equal(freq_at(t, 3, T0 + 30 * day + 2 * SEC), 4);
	hp_hotness_destroy(t);
}

/* The batch path gives the same table as one call per event. */
static void test_batch_matches_single_calls(void **state)
{
	struct hp_hotness *one = make_table(8 << 10, 1000), *batch = make_table(8 << 10, 1000);
	enum { N = 2000 };
	static struct hp_event ev[N];
	static struct hp_hot_input in[N];
	struct hp_hotness_stats s1, s2;
	long single = 0;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		__u64 pfn = (i * 2654435761u) % 700; /* repeats, and more pages than fit */

		ev[i] = access_event((__u32)(1 + i % 3), 0x7f0000000000ULL + (pfn << 12),
				     (int)(i % 2), HP_SRC_FAULT);
		if (i % 97 == 0)
			ev[i] = damon_region(pfn, 3, 2);
		in[i] = (struct hp_hot_input){ .ev = &ev[i], .pfn = pfn, .page_node = 1 };
		if (i % 101 == 0)
			in[i].pfn = HP_PFN_UNKNOWN; /* and no ev->pfn: refused */
	}
	for (size_t i = 0; i < N; i++) {
		int r = hp_hotness_record(one, in[i].ev, in[i].pfn, in[i].page_node, T0);

		single += r > 0 ? r : 0;
	}
	assert_int_equal(hp_hotness_record_batch(batch, in, N, T0), single);
	hp_hotness_get_stats(one, &s1);
	hp_hotness_get_stats(batch, &s2);
	assert_int_equal(s1.tracked, s2.tracked);
	assert_int_equal(s1.evictions, s2.evictions);
	assert_true(s1.evictions > 0);
	assert_int_equal(s1.rejected, s2.rejected);
	for (__u64 pfn = 0; pfn < 710; pfn++) {
		struct hp_hot_page a, b;
		bool in_one = hp_hotness_lookup(one, pfn, T0, &a);

		assert_int_equal(in_one, hp_hotness_lookup(batch, pfn, T0, &b));
		if (!in_one)
			continue;
		assert_int_equal(a.freq, b.freq);
		assert_int_equal(a.tgid, b.tgid);
		assert_int_equal(a.vaddr, b.vaddr);
		assert_int_equal(a.sources, b.sources);
		assert_int_equal(a.access_node, b.access_node);
		assert_int_equal(a.page_node, b.page_node);
	}
	hp_hotness_destroy(one);
	hp_hotness_destroy(batch);
}

static void test_bad_options(void **state)
{
	struct hp_hotness_opts opts = { .window_ms = HP_HOT_WINDOW_MIN_MS - 1 };
	struct hp_hotness *t;

	(void)state;
	assert_int_equal(hp_hotness_create(&opts, T0, &t), -EINVAL);
	opts.window_ms = HP_HOT_WINDOW_MAX_MS + 1;
	assert_int_equal(hp_hotness_create(&opts, T0, &t), -EINVAL);
	hp_hotness_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_and_lookup),
		cmocka_unit_test(test_rejects_events_without_pfn),
		cmocka_unit_test(test_decay_halves_per_window),
		cmocka_unit_test(test_window_change_applies_at_once),
		cmocka_unit_test(test_frequency_saturates),
		cmocka_unit_test(test_damon_region_credits_each_page),
		cmocka_unit_test(test_credit_range_with_vaddr),
		cmocka_unit_test(test_process_change_drops_stale_vaddr),
		cmocka_unit_test(test_budget_and_bytes_per_page),
		cmocka_unit_test(test_default_budget),
		cmocka_unit_test(test_eviction_takes_the_coldest),
		cmocka_unit_test(test_eviction_keeps_warm_pages),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_remove_many_keeps_the_rest),
		cmocka_unit_test(test_candidates_query),
		cmocka_unit_test(test_top),
		cmocka_unit_test(test_pingpong_guard_with_new_pfn),
		cmocka_unit_test(test_pingpong_guard_without_new_pfn),
		cmocka_unit_test(test_mark_migrated_merges),
		cmocka_unit_test(test_clock_rebase),
		cmocka_unit_test(test_batch_matches_single_calls),
		cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
