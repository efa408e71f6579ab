// SPDX-License-Identifier: GPL-2.0
/* The byte token bucket behind promotion's rate limit (user/token_bucket.c), on a fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "token_bucket.h"

#define MS 1000000ULL
#define SEC (1000 * MS)
#define MIB (1ULL << 20)
#define T0 (5 * SEC)

static void test_starts_full_and_drains(void **state)
{
	struct hp_token_bucket tb;

	(void)state;
	hp_token_bucket_init(&tb, MIB, MIB, T0);
	assert_int_equal(hp_token_bucket_available(&tb, T0), MIB);
	assert_int_equal(hp_token_bucket_take(&tb, 3 * MIB, 1, T0), MIB);
	assert_int_equal(hp_token_bucket_take(&tb, 1, 1, T0), 0);
}

static void test_refills_at_rate_up_to_burst(void **state)
{
	struct hp_token_bucket tb;

	(void)state;
	hp_token_bucket_init(&tb, MIB, 2 * MIB, T0);
	hp_token_bucket_take(&tb, 2 * MIB, 1, T0);
	assert_int_equal(hp_token_bucket_available(&tb, T0 + 500 * MS), MIB / 2);
	assert_int_equal(hp_token_bucket_available(&tb, T0 + 1500 * MS), 3 * MIB / 2);
	assert_int_equal(hp_token_bucket_available(&tb, T0 + 60 * SEC), 2 * MIB);
	/* A full bucket earns nothing more: no hidden credit after idling. */
	hp_token_bucket_take(&tb, 2 * MIB, 1, T0 + 60 * SEC);
	assert_int_equal(hp_token_bucket_available(&tb, T0 + 60 * SEC + 250 * MS), MIB / 4);
}

/* Fractions of a byte carry over: 3 B/s in 100 ms steps gives 3 B a second, not 0. */
static void test_fractions_carry(void **state)
{
	struct hp_token_bucket tb;
	__u64 got = 0;

	(void)state;
	hp_token_bucket_init(&tb, 3, 100, T0);
	hp_token_bucket_take(&tb, 100, 1, T0);
	for (int step = 1; step <= 10; step++)
		got += hp_token_bucket_take(&tb, 100, 1, T0 + step * 100 * MS);
	assert_int_equal(got, 3);
	for (int step = 11; step <= 100; step++)
		got += hp_token_bucket_take(&tb, 100, 1, T0 + step * 100 * MS);
	assert_int_equal(got, 30);
}

/* Over a long run the grant equals rate x time (plus the first burst). */
static void test_long_run_rate(void **state)
{
	const __u64 page = 4096, rate = 256 * MIB, burst = 4 * MIB;
	struct hp_token_bucket tb;
	__u64 got = 0;

	(void)state;
	hp_token_bucket_init(&tb, rate, burst, T0);
	for (__u64 t = 0; t <= 10 * SEC; t += 4 * MS)
		got += hp_token_bucket_take(&tb, 2 * MIB, page, T0 + t);
	/* 10 s of earning, granted in whole pages: at most a page stays behind. */
	assert_true(got <= burst + rate * 10);
	assert_true(got >= burst + rate * 10 - page);
}

static void test_take_in_units(void **state)
{
	struct hp_token_bucket tb;

	(void)state;
	hp_token_bucket_init(&tb, 1000, 9000, T0);
	assert_int_equal(hp_token_bucket_take(&tb, 10000, 4096, T0), 8192);
	assert_int_equal(hp_token_bucket_available(&tb, T0), 808);
	assert_int_equal(hp_token_bucket_take(&tb, 10000, 4096, T0), 0);
	assert_int_equal(hp_token_bucket_take(&tb, 500, 0, T0), 500); /* unit 0: bytes */
}

static void test_wait(void **state)
{
	struct hp_token_bucket tb;

	(void)state;
	hp_token_bucket_init(&tb, 1000, 4000, T0);
	assert_int_equal(hp_token_bucket_wait_ns(&tb, 4000, T0), 0);
	hp_token_bucket_take(&tb, 4000, 1, T0);
	assert_int_equal(hp_token_bucket_wait_ns(&tb, 500, T0), 500 * MS);
	assert_int_equal(hp_token_bucket_wait_ns(&tb, 500, T0 + 200 * MS), 300 * MS);
	/* The wait it names is enough. */
	assert_int_equal(hp_token_bucket_take(&tb, 500, 1, T0 + 500 * MS), 500);
	assert_int_equal(hp_token_bucket_wait_ns(&tb, 4001, T0 + 500 * MS), UINT64_MAX);
	hp_token_bucket_init(&tb, 7, 100, T0);
	hp_token_bucket_take(&tb, 100, 1, T0);
	/* 1 byte at 7 B/s: 142857142.86 ns, rounded up. */
	assert_int_equal(hp_token_bucket_wait_ns(&tb, 1, T0), 142857143);
	assert_int_equal(hp_token_bucket_take(&tb, 1, 1, T0 + 142857143), 1);
}

/* Live changes: burst clamps what is held; rate 0 pauses. */
static void test_set_while_running(void **state)
{
	struct hp_token_bucket tb;

	(void)state;
	hp_token_bucket_init(&tb, MIB, 8 * MIB, T0);
	hp_token_bucket_set(&tb, MIB, 2 * MIB, T0);
	assert_int_equal(hp_token_bucket_available(&tb, T0), 2 * MIB);
	hp_token_bucket_take(&tb, 2 * MIB, 1, T0);
	/* Earned at the old rate until the change, the new one after. */
	hp_token_bucket_set(&tb, 4 * MIB, 8 * MIB, T0 + 500 * MS);
	assert_int_equal(hp_token_bucket_available(&tb, T0 + 1000 * MS), MIB / 2 + 2 * MIB);
	hp_token_bucket_set(&tb, 0, 8 * MIB, T0 + 1000 * MS);
	assert_int_equal(hp_token_bucket_available(&tb, T0 + 100 * SEC), 0);
	assert_int_equal(hp_token_bucket_take(&tb, 1, 1, T0 + 100 * SEC), 0);
	assert_int_equal(hp_token_bucket_wait_ns(&tb, 1, T0 + 100 * SEC), UINT64_MAX);
	hp_token_bucket_init(&tb, 0, MIB, T0);
	assert_int_equal(hp_token_bucket_available(&tb, T0), 0);
}

static void test_clock_going_back(void **state)
{
	struct hp_token_bucket tb;

	(void)state;
	hp_token_bucket_init(&tb, MIB, MIB, T0);
	hp_token_bucket_take(&tb, MIB, 1, T0);
	assert_int_equal(hp_token_bucket_available(&tb, T0 - SEC), 0);
	assert_int_equal(hp_token_bucket_available(&tb, T0 + SEC / 4), MIB / 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starts_full_and_drains),
		cmocka_unit_test(test_refills_at_rate_up_to_burst),
		cmocka_unit_test(test_fractions_carry),
		cmocka_unit_test(test_long_run_rate),
		cmocka_unit_test(test_take_in_units),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_set_while_running),
		cmocka_unit_test(test_clock_going_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
