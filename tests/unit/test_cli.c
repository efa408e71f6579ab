// SPDX-License-Identifier: GPL-2.0
/* Parsing of command-line values (user/lib/cli.c) and of attach types (user/sources/fault_source.c). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "cli.h"
#include "fault_source.h"

static void test_u32_accepts_plain_decimals(void **state)
{
	__u32 v = 0;

	(void)state;
	assert_int_equal(hp_parse_u32("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(hp_parse_u32("42", 1, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(hp_parse_u32("007", 1, 100, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(hp_parse_u32("4294967295", 0, UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
}

static void test_u32_rejects_garbage(void **state)
{
	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "1x", "0x10", "1.5", "abc" };
	__u32 v = 1234;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hp_parse_u32(bad[i], 0, UINT32_MAX, &v), -EINVAL);
	assert_int_equal(hp_parse_u32(NULL, 0, UINT32_MAX, &v), -EINVAL);
	assert_int_equal(v, 1234); /* untouched on error */
}

static void test_u32_range(void **state)
{
	__u32 v = 1234;

	(void)state;
	assert_int_equal(hp_parse_u32("4294967296", 0, UINT32_MAX, &v), -ERANGE);
	assert_int_equal(hp_parse_u32("99999999999999999999999", 0, UINT32_MAX, &v), -ERANGE);
	assert_int_equal(hp_parse_u32("0", 1, 10, &v), -ERANGE);
	assert_int_equal(hp_parse_u32("11", 1, 10, &v), -ERANGE);
	assert_int_equal(v, 1234);
	assert_int_equal(hp_parse_u32("10", 1, 10, &v), 0);
	assert_int_equal(v, 10);
}

static void test_seconds_to_milliseconds(void **state)
{
	static const struct {
		const char *text;
		__u64 ms;
	} cases[] = {
		{ "0", 0 },	 { "1", 1000 },	  { "0.5", 500 },
		{ ".25", 250 },	 { "2.", 2000 },  { "1.0004", 1000 },
		{ "0.0016", 2 }, { "90", 90000 }, { "31536000", 31536000000ULL },
	};
	__u64 ms;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ms = 12345;
		assert_int_equal(hp_parse_seconds(cases[i].text, &ms), 0);
		assert_int_equal(ms, cases[i].ms);
	}
}

static void test_seconds_rejects_garbage(void **state)
{
	static const char *const bad[] = { "",	  ".",	  "-1",	 "+1",	" 1",	 "1s",
					   "1e3", "0x10", "inf", "nan", "1.2.3", "1,5" };
	__u64 ms = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hp_parse_seconds(bad[i], &ms), -EINVAL);
	assert_int_equal(hp_parse_seconds(NULL, &ms), -EINVAL);
	assert_int_equal(ms, 12345);
}

static void test_seconds_range(void **state)
{
	__u64 ms = 12345;

	(void)state;
	assert_int_equal(hp_parse_seconds("31536000.5", &ms), -ERANGE);
	assert_int_equal(hp_parse_seconds("100000000000000000000000000", &ms), -ERANGE);
	assert_int_equal(ms, 12345);
}

static void test_attach_names_round_trip(void **state)
{
	static const enum hp_fault_attach all[] = { HP_FAULT_ATTACH_AUTO,
						    HP_FAULT_ATTACH_TRACEPOINT,
						    HP_FAULT_ATTACH_TP_BTF };
	enum hp_fault_attach parsed;

	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		assert_int_equal(hp_fault_attach_parse(hp_fault_attach_name(all[i]), &parsed), 0);
		assert_int_equal(parsed, all[i]);
	}
	assert_string_equal(hp_fault_attach_name(HP_FAULT_ATTACH_TP_BTF), "tp_btf");
	assert_string_equal(hp_fault_attach_name((enum hp_fault_attach)42), "?");
}

static void test_attach_rejects_unknown(void **state)
{
	enum hp_fault_attach parsed = HP_FAULT_ATTACH_TP_BTF;

	(void)state;
	assert_int_equal(hp_fault_attach_parse("kprobe", &parsed), -EINVAL);
	assert_int_equal(hp_fault_attach_parse("TRACEPOINT", &parsed), -EINVAL);
	assert_int_equal(hp_fault_attach_parse("", &parsed), -EINVAL);
	assert_int_equal(parsed, HP_FAULT_ATTACH_TP_BTF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u32_accepts_plain_decimals),
		cmocka_unit_test(test_u32_rejects_garbage),
		cmocka_unit_test(test_u32_range),
		cmocka_unit_test(test_seconds_to_milliseconds),
		cmocka_unit_test(test_seconds_rejects_garbage),
		cmocka_unit_test(test_seconds_range),
		cmocka_unit_test(test_attach_names_round_trip),
		cmocka_unit_test(test_attach_rejects_unknown),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
