// SPDX-License-Identifier: GPL-2.0
/*
 * The PFN cache and batching of user/sources/pagemap.c, against a fake pagemap:
 * hits and misses, one read per run of neighbouring pages, TTL, per-process
 * invalidation, flush, and what is (not) cached.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "pagemap.h"

#define FAKE_PAGES 4096
#define TGID_A 100
#define TGID_B 200
#define TGID_GONE 300
#define TGID_HIDDEN 400 /* present pages, PFN 0: no CAP_SYS_ADMIN */
#define PAGE 4096ULL
#define SEC 1000000000ULL

/*
 * Fake pagemaps: process A has its even pages present at PFN 0x1000 + vpn,
 * process B all pages at PFN 0x900000 + vpn; the rest are holes. A PFN's
 * node is its bit 23. Each read is logged.
 */
struct fake {
	int reads;
	__u64 last_vpn;
	size_t last_n;
	__u64 shift; /* added to A's PFNs: a "migration" */
};

static int fake_read(void *ctx, __u32 tgid, __u64 vpn, __u64 *entries, size_t n)
{
	struct fake *f = ctx;
	size_t got = 0;

	f->reads++;
	f->last_vpn = vpn;
	f->last_n = n;
	if (tgid == TGID_GONE)
		return -ESRCH;
	for (; got < n && vpn + got < FAKE_PAGES; got++) {
		__u64 v = vpn + got;

		if (tgid == TGID_A)
			entries[got] = v % 2 ? 0 : HP_PM_PRESENT | (0x1000 + v + f->shift);
		else if (tgid == TGID_B)
			entries[got] = HP_PM_PRESENT | (0x900000 + v);
		else if (tgid == TGID_HIDDEN)
			entries[got] = HP_PM_PRESENT;
		else
			entries[got] = 0;
	}
	return (int)got;
}

static int fake_node(void *ctx, __u64 pfn)
{
	(void)ctx;
	return (int)((pfn >> 23) & 1);
}

static struct hp_pagemap *new_pm(struct fake *f, __u32 cache_entries)
{
	struct hp_pagemap_opts opts = {
		.cache_entries = cache_entries,
		.read = fake_read,
		.read_ctx = f,
		.pfn_node = fake_node,
	};
	struct hp_pagemap *pm = NULL;
	char err[128];

	assert_int_equal(hp_pagemap_new(&opts, &pm, err, sizeof(err)), 0);
	return pm;
}

static struct hp_event ev(__u32 tgid, __u64 vpn)
{
	struct hp_event e = {
		.version = HP_EVENT_VERSION,
		.source = HP_SRC_PERF,
		.tgid = tgid,
		.pid = tgid,
		.addr = vpn * PAGE + 0x10,
		.pfn = HP_PFN_UNKNOWN,
		.page_node = HP_NODE_UNKNOWN,
	};

	return e;
}

static void test_resolve_hit_and_miss(void **state)
{
	struct fake f = { 0 };
	struct hp_pagemap *pm = new_pm(&f, 0);
	struct hp_pagemap_stats s;
	__u64 pfn;
	int node;

	(void)state;
	assert_int_equal(hp_pagemap_resolve(pm, TGID_A, 10 * PAGE + 5, 0, &pfn, &node), 0);
	assert_true(pfn == 0x1000 + 10);
	assert_int_equal(node, 0);
	assert_int_equal(f.reads, 1);
	/* The read covered the aligned window around the page. */
	assert_true(f.last_vpn == 0);
	assert_int_equal(f.last_n, HP_PAGEMAP_WINDOW_DEFAULT);
	/* The same page and a present neighbour in the window: no read. */
	assert_int_equal(hp_pagemap_resolve(pm, TGID_A, 10 * PAGE, 1, &pfn, &node), 0);
	assert_int_equal(hp_pagemap_resolve(pm, TGID_A, 12 * PAGE, 1, &pfn, &node), 0);
	assert_true(pfn == 0x1000 + 12);
	assert_int_equal(f.reads, 1);
	/* A hole is not cached: asked again, read again. */
	assert_int_equal(hp_pagemap_resolve(pm, TGID_A, 11 * PAGE, 1, &pfn, &node), -ENOENT);
	assert_true(pfn == HP_PFN_UNKNOWN);
	assert_int_equal(node, HP_NODE_UNKNOWN);
	assert_int_equal(f.reads, 2);
	assert_int_equal(hp_pagemap_resolve(pm, TGID_A, 11 * PAGE, 1, &pfn, &node), -ENOENT);
	assert_int_equal(f.reads, 3);
	/* Another process, same address: its own translation, node 1. */
	assert_int_equal(hp_pagemap_resolve(pm, TGID_B, 10 * PAGE, 1, &pfn, &node), 0);
	assert_true(pfn == 0x900000 + 10);
	assert_int_equal(node, 1);

	hp_pagemap_read_stats(pm, &s);
	assert_int_equal(s.lookups, 6);
	assert_int_equal(s.hits, 2);
	assert_int_equal(s.reads, 4);
	assert_int_equal(s.resolved, 4);
	assert_int_equal(s.not_present, 2);
	hp_pagemap_free(pm);
}

static void test_resolve_errors(void **state)
{
	struct fake f = { 0 };
	struct hp_pagemap *pm = new_pm(&f, 0);
	struct hp_pagemap_stats s;
	__u64 pfn;
	int node;

	(void)state;
	assert_int_equal(hp_pagemap_resolve(pm, TGID_GONE, PAGE, 0, &pfn, &node), -ESRCH);
	assert_int_equal(hp_pagemap_resolve(pm, TGID_HIDDEN, PAGE, 0, &pfn, &node), -EPERM);
	assert_true(pfn == HP_PFN_UNKNOWN);
	/* Beyond the end of the address space. */
	assert_int_equal(hp_pagemap_resolve(pm, TGID_A, (FAKE_PAGES + 100) * PAGE, 0, &pfn, &node),
			 -ENOENT);
	hp_pagemap_read_stats(pm, &s);
	assert_int_equal(s.gone, 1);
	assert_int_equal(s.no_pfn, 1);
	assert_int_equal(s.not_present, 1);
	assert_int_equal(s.resolved, 0);
	hp_pagemap_free(pm);
}

static void test_ttl(void **state)
{
	struct fake f = { 0 };
	struct hp_pagemap *pm = new_pm(&f, 0);
	__u64 pfn;
	int node;

	(void)state;
	assert_int_equal(hp_pagemap_resolve(pm, TGID_A, 0, 0, &pfn, &node), 0);
	assert_int_equal(hp_pagemap_resolve(pm, TGID_A, 0, SEC - 1, &pfn, &node), 0);
	assert_int_equal(f.reads, 1);
	f.shift = 7; /* the page moved meanwhile */
	assert_int_equal(hp_pagemap_resolve(pm, TGID_A, 0, SEC, &pfn, &node), 0);
	assert_int_equal(f.reads, 2);
	assert_true(pfn == 0x1000 + 7);
	hp_pagemap_free(pm);
}

static void test_invalidate_and_flush(void **state)
{
	struct fake f = { 0 };
	struct hp_pagemap *pm = new_pm(&f, 0);
	__u64 pfn;
	int node;

	(void)state;
	assert_int_equal(hp_pagemap_resolve(pm, TGID_A, 0, 0, &pfn, &node), 0);
	assert_int_equal(hp_pagemap_resolve(pm, TGID_B, 0, 0, &pfn, &node), 0);
	assert_int_equal(f.reads, 2);
	f.shift = 2;
	hp_pagemap_invalidate(pm, TGID_A);
	assert_int_equal(hp_pagemap_resolve(pm, TGID_A, 0, 1, &pfn, &node), 0);
	assert_true(pfn == 0x1000 + 2);
	assert_int_equal(hp_pagemap_resolve(pm, TGID_B, 0, 1, &pfn, &node), 0); /* kept */
	assert_int_equal(f.reads, 3);
	hp_pagemap_flush(pm);
	assert_int_equal(hp_pagemap_resolve(pm, TGID_A, 0, 2, &pfn, &node), 0);
	assert_int_equal(hp_pagemap_resolve(pm, TGID_B, 0, 2, &pfn, &node), 0);
	assert_int_equal(f.reads, 5);
	hp_pagemap_free(pm);
}

static void test_batch_one_read_per_run(void **state)
{
	struct fake f = { 0 };
	struct hp_pagemap *pm = new_pm(&f, 0);
	struct hp_event events[8];
	struct hp_pagemap_stats s;

	(void)state;
	/* Out of order, two processes, A's pages within one span, B's far apart. */
	events[0] = ev(TGID_A, 300);
	events[1] = ev(TGID_B, 5);
	events[2] = ev(TGID_A, 100);
	events[3] = ev(TGID_A, 101); /* a hole */
	events[4] = ev(TGID_B, 5 + HP_PAGEMAP_SPAN_DEFAULT); /* past B's first span */
	events[5] = ev(TGID_A, 200);
	events[6] = ev(0, 7); /* no process: left alone */
	events[7] = ev(TGID_A, 102);
	events[7].flags = HP_EV_PHYS; /* a physical address: left alone */
	assert_int_equal(hp_pagemap_resolve_events(pm, events, 8, 0), 5);
	assert_int_equal(f.reads, 3); /* A's run, then B's two */
	assert_true(events[0].pfn == 0x1000 + 300);
	assert_true(events[2].pfn == 0x1000 + 100);
	assert_true(events[3].pfn == HP_PFN_UNKNOWN);
	assert_int_equal(events[3].page_node, HP_NODE_UNKNOWN);
	assert_true(events[5].pfn == 0x1000 + 200);
	assert_int_equal(events[5].page_node, 0);
	assert_true(events[1].pfn == 0x900000 + 5);
	assert_int_equal(events[1].page_node, 1);
	assert_true(events[4].pfn == 0x900000 + 5 + HP_PAGEMAP_SPAN_DEFAULT);
	assert_true(events[6].pfn == HP_PFN_UNKNOWN);
	assert_true(events[7].pfn == HP_PFN_UNKNOWN);

	/* Again: every resolved page from the cache, the hole read again. */
	for (int i = 0; i < 8; i++) {
		events[i].pfn = HP_PFN_UNKNOWN;
		events[i].page_node = HP_NODE_UNKNOWN;
	}
	assert_int_equal(hp_pagemap_resolve_events(pm, events, 8, 1), 5);
	assert_int_equal(f.reads, 4);
	assert_int_equal(f.last_vpn, 96); /* the hole's aligned window */
	hp_pagemap_read_stats(pm, &s);
	assert_int_equal(s.hits, 5);
	hp_pagemap_free(pm);
}

static void test_batch_keeps_known_pfns(void **state)
{
	struct fake f = { 0 };
	struct hp_pagemap *pm = new_pm(&f, 0);
	struct hp_event e = ev(TGID_A, 4);

	(void)state;
	/* A source that knows the PFN (numa-hint): only the node is filled in. */
	e.pfn = 0x800000 + 4;
	assert_int_equal(hp_pagemap_resolve_events(pm, &e, 1, 0), 0);
	assert_int_equal(f.reads, 0);
	assert_true(e.pfn == 0x800000 + 4);
	assert_int_equal(e.page_node, 1);
	hp_pagemap_free(pm);
}

static void test_cache_is_bounded(void **state)
{
	struct fake f = { 0 };
	struct hp_pagemap *pm = new_pm(&f, 16);
	struct hp_event events[64];
	struct hp_pagemap_stats s;

	(void)state;
	/* 64 of B's pages into a 16-entry cache: they resolve; most are evicted. */
	for (int i = 0; i < 64; i++)
		events[i] = ev(TGID_B, (__u64)i * 1000 % FAKE_PAGES);
	assert_int_equal(hp_pagemap_resolve_events(pm, events, 64, 0), 64);
	for (int i = 0; i < 64; i++) {
		events[i].pfn = HP_PFN_UNKNOWN;
		assert_true(events[i].tgid == TGID_B);
	}
	assert_int_equal(hp_pagemap_resolve_events(pm, events, 64, 1), 64);
	hp_pagemap_read_stats(pm, &s);
	assert_true(s.hits <= 16);
	assert_true(s.reads > 1);
	hp_pagemap_free(pm);
}

static void test_bad_options(void **state)
{
	struct hp_pagemap_opts opts = { .window_pages = 3 };
	struct hp_pagemap *pm = NULL;
	char err[160];

	(void)state;
	assert_int_equal(hp_pagemap_new(&opts, &pm, err, sizeof(err)), -EINVAL);
	assert_null(pm);
	opts = (struct hp_pagemap_opts){ .window_pages = 64, .span_pages = 32 };
	assert_int_equal(hp_pagemap_new(&opts, &pm, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_hit_and_miss),
		cmocka_unit_test(test_resolve_errors),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_invalidate_and_flush),
		cmocka_unit_test(test_batch_one_read_per_run),
		cmocka_unit_test(test_batch_keeps_known_pfns),
		cmocka_unit_test(test_cache_is_bounded),
		cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests_name("pagemap", tests, NULL, NULL);
}
