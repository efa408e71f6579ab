// SPDX-License-Identifier: GPL-2.0
/* Per-page counting, top-N selection of the hottest pages (user/cmd/page_top.c), table rows. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "page_top.h"

static struct hp_page_count entry(__u32 tgid, __u64 page, __u64 faults, __u64 last_ns)
{
	struct hp_page_count e = {
		.tgid = tgid, .page = page, .faults = faults, .last_ns = last_ns
	};

	return e;
}

static void offer_all(struct hp_page_top *top, const struct hp_page_count *entries, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hp_page_top_offer(top, &entries[i]);
}

static void assert_same_entry(const struct hp_page_count *got, const struct hp_page_count *want)
{
	assert_int_equal(got->tgid, want->tgid);
	assert_int_equal(got->page, want->page);
	assert_int_equal(got->faults, want->faults);
	assert_int_equal(got->last_ns, want->last_ns);
}

static void test_empty(void **state)
{
	struct hp_page_top top;
	size_t len = 99;

	(void)state;
	assert_int_equal(hp_page_top_init(&top, 5), 0);
	hp_page_top_sorted(&top, &len);
	assert_int_equal(len, 0);
	assert_int_equal(top.offered, 0);
	hp_page_top_free(&top);
}

static void test_zero_capacity_keeps_nothing(void **state)
{
	struct hp_page_top top;
	struct hp_page_count e = entry(1, 0x1000, 10, 1);
	size_t len = 99;

	(void)state;
	assert_int_equal(hp_page_top_init(&top, 0), 0);
	hp_page_top_offer(&top, &e);
	hp_page_top_sorted(&top, &len);
	assert_int_equal(len, 0);
	assert_int_equal(top.offered, 1);
	hp_page_top_free(&top);
}

static void test_keeps_hottest_in_order(void **state)
{
	const struct hp_page_count in[] = {
		entry(10, 0x1000, 3, 0), entry(10, 0x2000, 9, 0), entry(11, 0x3000, 1, 0),
		entry(12, 0x4000, 7, 0), entry(10, 0x5000, 5, 0), entry(13, 0x6000, 8, 0),
		entry(14, 0x7000, 2, 0),
	};
	const __u64 want_faults[] = { 9, 8, 7 };
	const struct hp_page_count *out;
	struct hp_page_top top;
	size_t len;

	(void)state;
	assert_int_equal(hp_page_top_init(&top, 3), 0);
	offer_all(&top, in, sizeof(in) / sizeof(in[0]));
	out = hp_page_top_sorted(&top, &len);
	assert_int_equal(len, 3);
	assert_int_equal(top.offered, 7);
	for (size_t i = 0; i < sizeof(want_faults) / sizeof(want_faults[0]); i++)
		assert_int_equal(out[i].faults, want_faults[i]);
	assert_int_equal(out[0].page, 0x2000);
	assert_int_equal(out[1].page, 0x6000);
	assert_int_equal(out[2].page, 0x4000);
	hp_page_top_free(&top);
}

static void test_ties_break_by_recency_then_tgid_then_address(void **state)
{
	const struct hp_page_count in[] = {
		entry(20, 0x9000, 4, 100), /* 5th: same as the 4th but a higher address */
		entry(20, 0x8000, 4, 100), /* 4th */
		entry(30, 0x1000, 4, 300), /* 1st: most recent */
		entry(10, 0xf000, 4, 100), /* 3rd: lowest tgid among last_ns 100 */
		entry(5, 0x1000, 4, 200), /* 2nd */
		entry(1, 0x1000, 3, 999), /* dropped: fewer faults, however recent */
	};
	const struct hp_page_count want[] = {
		in[2], in[4], in[3], in[1], in[0],
	};
	const struct hp_page_count *out;
	struct hp_page_top top;
	size_t len;

	(void)state;
	assert_int_equal(hp_page_top_init(&top, 5), 0);
	offer_all(&top, in, sizeof(in) / sizeof(in[0]));
	out = hp_page_top_sorted(&top, &len);
	assert_int_equal(len, 5);
	for (size_t i = 0; i < len; i++)
		assert_same_entry(&out[i], &want[i]);
	hp_page_top_free(&top);
}

static void test_fewer_entries_than_capacity(void **state)
{
	const struct hp_page_count in[] = {
		entry(1, 0x1000, 1, 0),
		entry(1, 0x2000, 5, 0),
		entry(2, 0x1000, 3, 0),
	};
	const struct hp_page_count *out;
	struct hp_page_top top;
	size_t len;

	(void)state;
	assert_int_equal(hp_page_top_init(&top, 100), 0);
	offer_all(&top, in, 3);
	out = hp_page_top_sorted(&top, &len);
	assert_int_equal(len, 3);
	assert_same_entry(&out[0], &in[1]);
	assert_same_entry(&out[1], &in[2]);
	assert_same_entry(&out[2], &in[0]);
	hp_page_top_free(&top);
}

static void test_equal_entries_all_kept(void **state)
{
	struct hp_page_count same = entry(7, 0x7000, 2, 2);
	const struct hp_page_count *out;
	struct hp_page_top top;
	size_t len;

	(void)state;
	assert_int_equal(hp_page_top_init(&top, 3), 0);
	for (int i = 0; i < 5; i++)
		hp_page_top_offer(&top, &same);
	out = hp_page_top_sorted(&top, &len);
	assert_int_equal(len, 3);
	for (size_t i = 0; i < len; i++)
		assert_same_entry(&out[i], &same);
	hp_page_top_free(&top);
}

/* xorshift64: a fixed sequence, so that a failure reproduces. */
static __u64 next_random(__u64 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void test_matches_full_sort_on_a_stream(void **state)
{
	enum { N = 5000, CAP = 37 };
	struct hp_page_count *in = calloc(N, sizeof(*in));
	const struct hp_page_count *out;
	struct hp_page_top top;
	__u64 seed = 0x9e3779b97f4a7c15ULL;
	size_t len;

	(void)state;
	assert_non_null(in);
	for (size_t i = 0; i < N; i++)
		/* Few distinct counts and times, so that ties are common. */
		in[i] = entry((__u32)(next_random(&seed) % 50), (__u64)i << 12,
			      next_random(&seed) % 20, next_random(&seed) % 10);
	assert_int_equal(hp_page_top_init(&top, CAP), 0);
	offer_all(&top, in, N);
	out = hp_page_top_sorted(&top, &len);
	qsort(in, N, sizeof(*in), hp_page_count_cmp);
	assert_int_equal(len, CAP);
	for (size_t i = 0; i < len; i++)
		assert_same_entry(&out[i], &in[i]);
	hp_page_top_free(&top);
	free(in);
}

static void test_reset_reuses_capacity(void **state)
{
	struct hp_page_count hot = entry(1, 0x1000, 100, 0), cold = entry(2, 0x2000, 1, 0);
	const struct hp_page_count *out;
	struct hp_page_top top;
	size_t len;

	(void)state;
	assert_int_equal(hp_page_top_init(&top, 1), 0);
	hp_page_top_offer(&top, &hot);
	hp_page_top_sorted(&top, &len);
	assert_int_equal(len, 1);
	hp_page_top_reset(&top);
	assert_int_equal(top.offered, 0);
	hp_page_top_offer(&top, &cold);
	out = hp_page_top_sorted(&top, &len);
	assert_int_equal(len, 1);
	assert_same_entry(&out[0], &cold);
	hp_page_top_free(&top);
}

static void test_cmp_is_a_total_order(void **state)
{
	struct hp_page_count a = entry(1, 0x1000, 5, 10), b = a;

	(void)state;
	assert_int_equal(hp_page_count_cmp(&a, &b), 0);
	b.faults = 6;
	assert_true(hp_page_count_cmp(&b, &a) < 0);
	assert_true(hp_page_count_cmp(&a, &b) > 0);
	b = a;
	b.last_ns = 11;
	assert_true(hp_page_count_cmp(&b, &a) < 0);
	b = a;
	b.tgid = 0;
	assert_true(hp_page_count_cmp(&b, &a) < 0);
	b = a;
	b.page = 0;
	assert_true(hp_page_count_cmp(&b, &a) < 0);
	/* Values beyond INT_MAX must not wrap in the comparison. */
	a.faults = 1ULL << 40;
	b = entry(1, 0x1000, 1, 10);
	assert_true(hp_page_count_cmp(&a, &b) < 0);
}

static void test_format_row(void **state)
{
	struct hp_page_count e = entry(1234, 0x7f0000001000ULL, 42, 1000000000ULL);
	char buf[160];
	int n;

	(void)state;
	n = hp_page_top_format_row(buf, sizeof(buf), &e, "stress", 3500000000ULL);
	/* %7u, %-16s, %#18llx, %10llu, %9.3f seconds since the last fault */
	assert_string_equal(buf, "   1234 "
				 "stress           "
				 "    0x7f0000001000 "
				 "        42 "
				 "    2.500");
	assert_int_equal(n, (int)strlen(buf));
}

static void test_format_row_clamps_age_and_comm(void **state)
{
	struct hp_page_count e = entry(1, 0x1000, 1, 2000);
	char buf[160];

	(void)state;
	/* A fault stamped after "now" was read shows age 0, not a huge wrapped value. */
	hp_page_top_format_row(buf, sizeof(buf), &e, "a-name-longer-than-sixteen", 1000);
	assert_string_equal(buf,
			    "      1 a-name-longer-th             0x1000          1     0.000");
}

static void test_format_header_matches_row_width(void **state)
{
	struct hp_page_count e = entry(1, 0x1000, 1, 0);
	char header[160], row[160];

	(void)state;
	hp_page_top_format_header(header, sizeof(header));
	hp_page_top_format_row(row, sizeof(row), &e, "x", 0);
	assert_non_null(strstr(header, "TGID"));
	assert_non_null(strstr(header, "FAULTS"));
	assert_int_equal(strlen(header), strlen(row));
}

static void test_format_row_truncates_to_buffer(void **state)
{
	struct hp_page_count e = entry(1, 0x1000, 1, 0);
	char buf[8];
	int n;

	(void)state;
	n = hp_page_top_format_row(buf, sizeof(buf), &e, "x", 0);
	assert_true(n > (int)sizeof(buf));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
}

static void test_table_counts_per_page(void **state)
{
	struct hp_page_table table;
	const struct hp_page_count *c;

	(void)state;
	assert_int_equal(hp_page_table_init(&table, 8), 0);
	hp_page_table_add(&table, 1, 0x1000, 10);
	hp_page_table_add(&table, 1, 0x1000, 30);
	hp_page_table_add(&table, 1, 0x1000, 20); /* out of order: the latest time stays */
	hp_page_table_add(&table, 2, 0x1000, 15); /* same address, another process */
	hp_page_table_add(&table, 1, 0x2000, 5);
	assert_int_equal(table.len, 3);
	c = hp_page_table_find(&table, 1, 0x1000);
	assert_non_null(c);
	assert_int_equal(c->faults, 3);
	assert_int_equal(c->last_ns, 30);
	c = hp_page_table_find(&table, 2, 0x1000);
	assert_non_null(c);
	assert_int_equal(c->faults, 1);
	assert_null(hp_page_table_find(&table, 3, 0x1000));
	assert_int_equal(table.evicted, 0);
	hp_page_table_free(&table);
}

static void test_table_evicts_least_recent(void **state)
{
	struct hp_page_table table;

	(void)state;
	assert_int_equal(hp_page_table_init(&table, 3), 0);
	hp_page_table_add(&table, 1, 0x1000, 1);
	hp_page_table_add(&table, 1, 0x2000, 2);
	hp_page_table_add(&table, 1, 0x3000, 3);
	hp_page_table_add(&table, 1, 0x1000, 4); /* 0x2000 is now the least recent */
	hp_page_table_add(&table, 1, 0x4000, 5);
	assert_int_equal(table.len, 3);
	assert_int_equal(table.evicted, 1);
	assert_null(hp_page_table_find(&table, 1, 0x2000));
	assert_non_null(hp_page_table_find(&table, 1, 0x1000));
	assert_int_equal(hp_page_table_find(&table, 1, 0x1000)->faults, 2);
	assert_non_null(hp_page_table_find(&table, 1, 0x4000));
	hp_page_table_add(&table, 1, 0x5000, 6); /* then 0x3000 */
	assert_null(hp_page_table_find(&table, 1, 0x3000));
	/* A re-added page starts over. */
	hp_page_table_add(&table, 1, 0x2000, 7);
	assert_int_equal(hp_page_table_find(&table, 1, 0x2000)->faults, 1);
	assert_int_equal(table.evicted, 3);
	hp_page_table_free(&table);
}

struct sum_ctx {
	__u64 entries, faults;
};

static void sum_entry(const struct hp_page_count *entry, void *ctx)
{
	struct sum_ctx *sum = ctx;

	sum->entries++;
	sum->faults += entry->faults;
}

static void test_table_stream_matches_reference(void **state)
{
	enum { CAP = 64, PAGES = 50, EVENTS = 20000 };
	struct hp_page_table table;
	__u64 expected[PAGES] = { 0 };
	struct sum_ctx sum = { 0 };
	unsigned int seed = 12345;

	(void)state;
	/* Fewer pages than the capacity: nothing evicted, every count exact. */
	assert_int_equal(hp_page_table_init(&table, CAP), 0);
	for (__u64 i = 0; i < EVENTS; i++) {
		unsigned int page;

		seed = seed * 1103515245U + 12345U;
		page = (seed >> 16) % PAGES;
		expected[page]++;
		hp_page_table_add(&table, 7, (__u64)page << 12, i);
	}
	hp_page_table_for_each(&table, sum_entry, &sum);
	assert_int_equal(sum.faults, EVENTS);
	assert_int_equal(table.evicted, 0);
	for (unsigned int page = 0; page < PAGES; page++) {
		const struct hp_page_count *c = hp_page_table_find(&table, 7, (__u64)page << 12);

		if (!expected[page]) {
			assert_null(c);
			continue;
		}
		assert_non_null(c);
		assert_int_equal(c->faults, expected[page]);
	}
	assert_int_equal(sum.entries, table.len);
	hp_page_table_free(&table);
}

static void test_table_bounded_under_churn(void **state)
{
	struct hp_page_table table;
	struct sum_ctx sum = { 0 };

	(void)state;
	assert_int_equal(hp_page_table_init(&table, 100), 0);
	for (__u64 i = 0; i < 10000; i++)
		hp_page_table_add(&table, (__u32)(i % 3), i << 12, i);
	assert_int_equal(table.len, 100);
	assert_int_equal(table.evicted, 9900);
	hp_page_table_for_each(&table, sum_entry, &sum);
	assert_int_equal(sum.entries, 100);
	/* The 100 most recent pages are the ones kept. */
	for (__u64 i = 9900; i < 10000; i++)
		assert_non_null(hp_page_table_find(&table, (__u32)(i % 3), i << 12));
	hp_page_table_free(&table);
}

static void test_table_rejects_bad_capacity(void **state)
{
	struct hp_page_table table;

	(void)state;
	assert_int_equal(hp_page_table_init(&table, 0), -EINVAL);
	assert_null(hp_page_table_find(&table, 1, 0));
	hp_page_table_free(&table);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_zero_capacity_keeps_nothing),
		cmocka_unit_test(test_keeps_hottest_in_order),
		cmocka_unit_test(test_ties_break_by_recency_then_tgid_then_address),
		cmocka_unit_test(test_fewer_entries_than_capacity),
		cmocka_unit_test(test_equal_entries_all_kept),
		cmocka_unit_test(test_matches_full_sort_on_a_stream),
		cmocka_unit_test(test_reset_reuses_capacity),
		cmocka_unit_test(test_cmp_is_a_total_order),
		cmocka_unit_test(test_format_row),
		cmocka_unit_test(test_format_row_clamps_age_and_comm),
		cmocka_unit_test(test_format_header_matches_row_width),
		cmocka_unit_test(test_format_row_truncates_to_buffer),
		cmocka_unit_test(test_table_counts_per_page),
		cmocka_unit_test(test_table_evicts_least_recent),
		cmocka_unit_test(test_table_stream_matches_reference),
		cmocka_unit_test(test_table_bounded_under_churn),
		cmocka_unit_test(test_table_rejects_bad_capacity),
	};

	return cmocka_run_group_tests_name("page_top", tests, NULL, NULL);
}
