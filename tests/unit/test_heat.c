// SPDX-License-Identifier: GPL-2.0
/* The per-page heat table (user/hotness/heat.c): windows, heat, idleness, selection. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "heat.h"

#define MIB (1ULL << 20)

/* Node 0: 64 MiB at 0; node 1: 32 MiB at 4 GiB (a hole between). */
static struct hp_heat *two_nodes(struct hp_phys_ranges *r)
{
	struct hp_heat *h;

	memset(r, 0, sizeof(*r));
	assert_int_equal(hp_phys_ranges_add_block(r, 0, 64 * MIB, 0), 0);
	assert_int_equal(hp_phys_ranges_add_block(r, 128, 32 * MIB, 1), 0);
	hp_phys_ranges_normalize(r);
	assert_int_equal(hp_heat_create(r, &h), 0);
	return h;
}

#define N1 ((4096ULL * MIB) >> 12) /* first page frame of node 1 */

static void test_layout(void **state)
{
	struct hp_phys_ranges r;
	struct hp_heat *h = two_nodes(&r);
	struct hp_heat_stats st;

	(void)state;
	hp_heat_get_stats(h, &st);
	assert_int_equal(st.pages, (96 * MIB) >> 12);
	/* Two bytes a page, and a few for the ranges. */
	assert_true(st.bytes >= st.pages * 2 && st.bytes < st.pages * 2 + 256);
	assert_int_equal(hp_heat_node(h, 0), 0);
	assert_int_equal(hp_heat_node(h, (64 * MIB >> 12) - 1), 0);
	assert_int_equal(hp_heat_node(h, 64 * MIB >> 12), -1); /* the hole */
	assert_int_equal(hp_heat_node(h, N1), 1);
	assert_int_equal(hp_heat_node(h, N1 + (32 * MIB >> 12)), -1);
	/* Outside every range: counted, never credited. */
	assert_int_equal(hp_heat_touch(h, 64 * MIB >> 12, 1), -1);
	hp_heat_get_stats(h, &st);
	assert_int_equal(st.outside, 1);
	assert_int_equal(hp_heat_of(h, 64 * MIB >> 12), 0);
	hp_heat_destroy(h);
	hp_phys_ranges_free(&r);
	/* No memory, no table. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(hp_heat_create(&r, &h), -EINVAL);
}

/* Heat counts windows with an access among the last 8, not accesses. */
static void test_heat_counts_windows(void **state)
{
	struct hp_phys_ranges r;
	struct hp_heat *h = two_nodes(&r);

	(void)state;
	for (int i = 0; i < 50; i++)
		hp_heat_touch(h, 7, 1);
	assert_int_equal(hp_heat_of(h, 7), 1); /* fifty accesses, one window */
	for (int w = 1; w < 8; w++) {
		hp_heat_advance(h);
		/* The new window has no access yet. */
		assert_int_equal(hp_heat_of(h, 7), w);
		assert_int_equal(hp_heat_touch(h, 7, 1), w + 1);
	}
	assert_int_equal(hp_heat_of(h, 7), 8);
	/* Every other window: the heat settles at 4. */
	for (int w = 0; w < 16; w++) {
		hp_heat_advance(h);
		if (w % 2)
			hp_heat_touch(h, 7, 1);
	}
	assert_int_equal(hp_heat_of(h, 7), 4);
	/* Then nothing: one window of heat goes with each window. */
	hp_heat_advance(h);
	assert_int_equal(hp_heat_of(h, 7), 4);
	hp_heat_advance(h);
	assert_int_equal(hp_heat_of(h, 7), 3);
	for (int w = 0; w < 8; w++)
		hp_heat_advance(h);
	assert_int_equal(hp_heat_of(h, 7), 0);
	hp_heat_destroy(h);
	hp_phys_ranges_free(&r);
}

static void test_idle(void **state)
{
	struct hp_phys_ranges r;
	struct hp_heat *h = two_nodes(&r);

	(void)state;
	/* Never seen: idle for as long as the table has existed. */
	assert_int_equal(hp_heat_idle(h, 9), 0);
	for (int w = 0; w < 5; w++)
		hp_heat_advance(h);
	assert_int_equal(hp_heat_idle(h, 9), 5);
	hp_heat_touch(h, 9, 1);
	assert_int_equal(hp_heat_idle(h, 9), 0);
	for (int w = 0; w < 20; w++)
		hp_heat_advance(h);
	assert_int_equal(hp_heat_idle(h, 9), 20);
	assert_int_equal(hp_heat_idle(h, 10), 25);
	/* The window stamp is 8 bits: idle ages past 256 windows must not wrap. */
	for (int w = 0; w < 1000; w++)
		hp_heat_advance(h);
	assert_true(hp_heat_idle(h, 9) >= HP_HEAT_FORGET);
	assert_int_equal(hp_heat_of(h, 9), 0);
	assert_int_equal(hp_heat_idle(h, 10), HP_HEAT_IDLE_MAX);
	/* Forgetting a frame: its next occupant starts with no history. */
	hp_heat_touch(h, 11, 1);
	hp_heat_forget(h, 11, 1);
	assert_int_equal(hp_heat_of(h, 11), 0);
	assert_int_equal(hp_heat_idle(h, 11), HP_HEAT_IDLE_MAX);
	hp_heat_destroy(h);
	hp_phys_ranges_free(&r);
}

/* A page touched once per window for 300 windows never looks idle or stale. */
static void test_no_wrap_while_used(void **state)
{
	struct hp_phys_ranges r;
	struct hp_heat *h = two_nodes(&r);
	struct hp_heat_stats st;

	(void)state;
	for (int w = 0; w < 300; w++) {
		hp_heat_touch(h, N1 + 3, 1);
		assert_int_equal(hp_heat_of(h, N1 + 3), w < 8 ? w + 1 : 8);
		hp_heat_advance(h);
		assert_int_equal(hp_heat_idle(h, N1 + 3), 1);
	}
	hp_heat_get_stats(h, &st);
	assert_int_equal(st.window, 300);
	hp_heat_destroy(h);
	hp_phys_ranges_free(&r);
}

/* A huge page is credited whole, also across the end of a range. */
static void test_huge(void **state)
{
	struct hp_phys_ranges r;
	struct hp_heat *h = two_nodes(&r);
	__u64 last = (64 * MIB >> 12) - 100;

	(void)state;
	assert_int_equal(hp_heat_touch(h, 512, HP_HEAT_HUGE_PAGES), 1);
	for (__u64 p = 512; p < 1024; p++)
		assert_int_equal(hp_heat_of(h, p), 1);
	assert_int_equal(hp_heat_of(h, 1024), 0);
	assert_int_equal(hp_heat_touch(h, last, HP_HEAT_HUGE_PAGES), 1);
	assert_int_equal(hp_heat_of(h, last + 99), 1);
	hp_heat_destroy(h);
	hp_phys_ranges_free(&r);
}

/* Hotplug: the entries of frames present before and after keep their history. */
static void test_set_ranges(void **state)
{
	struct hp_phys_ranges r, bigger = { 0 };
	struct hp_heat *h = two_nodes(&r);

	(void)state;
	hp_heat_touch(h, 5, 1);
	hp_heat_touch(h, N1 + 5, 1);
	assert_int_equal(hp_phys_ranges_add_block(&bigger, 0, 64 * MIB, 0), 0);
	assert_int_equal(hp_phys_ranges_add_block(&bigger, 128, 32 * MIB, 1), 0);
	assert_int_equal(hp_phys_ranges_add_block(&bigger, 129, 32 * MIB, 1), 0);
	hp_phys_ranges_normalize(&bigger);
	assert_int_equal(hp_heat_set_ranges(h, &bigger), 0);
	assert_int_equal(hp_heat_of(h, 5), 1);
	assert_int_equal(hp_heat_of(h, N1 + 5), 1);
	assert_int_equal(hp_heat_node(h, N1 + (40 * MIB >> 12)), 1);
	assert_int_equal(hp_heat_touch(h, N1 + (40 * MIB >> 12), 1), 1);
	hp_heat_destroy(h);
	hp_phys_ranges_free(&r);
	hp_phys_ranges_free(&bigger);
}

static void test_select(void **state)
{
	struct hp_heat_select hot = { .node_mask = 1ULL << 1, .min_heat = 1 };
	struct hp_heat_select cold = { .node_mask = 1ULL << 0, .coldest = true, .min_idle = 3 };
	struct hp_phys_ranges r;
	struct hp_heat *h = two_nodes(&r);
	__u64 out[8];
	size_t n;

	(void)state;
	/* Node 1: page +1 hot in 3 windows, +2 in 2, +3 in 1; node 0: some. */
	for (int w = 0; w < 4; w++) {
		if (w >= 1)
			hp_heat_touch(h, N1 + 1, 1);
		if (w >= 2)
			hp_heat_touch(h, N1 + 2, 1);
		if (w >= 3)
			hp_heat_touch(h, N1 + 3, 1);
		hp_heat_touch(h, 100, 1);
		if (w == 0)
			hp_heat_touch(h, 200, 1);
		hp_heat_advance(h);
	}
	n = hp_heat_select(h, &hot, out, 8);
	assert_int_equal(n, 3);
	assert_int_equal(out[0], N1 + 1);
	assert_int_equal(out[1], N1 + 2);
	assert_int_equal(out[2], N1 + 3);
	n = hp_heat_select(h, &hot, out, 2);
	assert_int_equal(n, 2);
	assert_int_equal(out[1], N1 + 2);
	/* Coldest of node 0: never touched (idle 4), then page 200 (idle 3); not 100 (idle 0). */
	n = hp_heat_select(h, &cold, out, 8);
	assert_int_equal(n, 8);
	assert_int_equal(out[0], 0);
	for (size_t i = 0; i < n; i++)
		assert_true(out[i] != 100);
	cold.min_idle = 4;
	n = hp_heat_select(h, &cold, out, 8);
	for (size_t i = 0; i < n; i++)
		assert_true(out[i] != 200 && out[i] != 100);
	hp_heat_destroy(h);
	hp_phys_ranges_free(&r);
}

/*
 * Node 0 looked at every 4 windows: a page found used at each look is as
 * hot as a node-1 page used in every window; idle time is unchanged.
 */
static void test_sparse(void **state)
{
	struct hp_heat_select hot = { .min_heat = 1 };
	struct hp_phys_ranges r;
	struct hp_heat *h = two_nodes(&r);
	__u64 out[4];

	(void)state;
	hp_heat_set_sparse(h, 1ULL << 0, 4);
	for (int w = 0; w < 8; w++) {
		if (w % 4 == 3)
			assert_int_equal(hp_heat_touch(h, 7, 1), w == 3 ? 4 : 8);
		if (w == 7)
			hp_heat_touch(h, 9, 1);
		hp_heat_touch(h, N1 + 1, 1);
		hp_heat_advance(h);
	}
	assert_int_equal(hp_heat_of(h, 7), 8);
	assert_int_equal(hp_heat_of(h, 9), 4);
	assert_int_equal(hp_heat_of(h, N1 + 1), 7); /* the new window has none yet */
	assert_int_equal(hp_heat_idle(h, 7), 1);
	/* Hottest first: page 9's one look is below a node-1 page's eight windows. */
	assert_int_equal(hp_heat_select(h, &hot, out, 4), 3);
	assert_int_equal(out[2], 9);
	/* Back to every window: the same history counts once per window. */
	hp_heat_set_sparse(h, 1ULL << 0, 1);
	assert_int_equal(hp_heat_of(h, 7), 2);
	assert_int_equal(hp_heat_of(h, N1 + 1), 7);
	hp_heat_destroy(h);
	hp_phys_ranges_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout), cmocka_unit_test(test_heat_counts_windows),
		cmocka_unit_test(test_idle),   cmocka_unit_test(test_no_wrap_while_used),
		cmocka_unit_test(test_huge),   cmocka_unit_test(test_set_ranges),
		cmocka_unit_test(test_select), cmocka_unit_test(test_sparse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
