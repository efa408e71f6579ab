// SPDX-License-Identifier: GPL-2.0
/*
 * Pure parts of the sources: the registry, counter sums, scope checks
 * (user/sources/source.c), parameter strings (user/lib/params.c, the fault and perf
 * sources' parsers) and the fault error code's meaning (hotpage/fault.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "fault_source.h"
#include "hotpage/fault.h"
#include "params.h"
#include "perf_source.h"
#include "source.h"

static void test_registry_order(void **state)
{
	static const char *const names[] = { "fault", "numa-hint", "perf", "damon", "scan" };
	static const enum hp_source ids[] = { HP_SRC_FAULT, HP_SRC_NUMA_HINT, HP_SRC_PERF,
					      HP_SRC_DAMON, HP_SRC_SCAN };
	size_t i;

	(void)state;
	for (i = 0; hp_sources[i]; i++) {
		assert_true(i < 5);
		assert_string_equal(hp_sources[i]->name, names[i]);
		assert_int_equal(hp_sources[i]->id, ids[i]);
		assert_non_null(hp_sources[i]->probe);
		assert_non_null(hp_sources[i]->start);
		assert_non_null(hp_sources[i]->stop);
		assert_non_null(hp_sources[i]->object);
		assert_ptr_equal(hp_source_find(names[i]), hp_sources[i]);
	}
	assert_int_equal(i, 5);
	assert_null(hp_source_find("Fault"));
	assert_null(hp_source_find(""));
	assert_null(hp_source_find("numa"));
}

static void test_stats_sum(void **state)
{
	struct hp_source_cpu percpu[3] = {
		{ .seen = 10,
		  .sampled = 5,
		  .emitted = 3,
		  .dropped = 1,
		  .errors = 1,
		  .countdown = 7 },
		{ .seen = 1, .sampled = 1, .emitted = 1 },
		{ .seen = 100, .sampled = 50, .emitted = 0, .dropped = 50, .countdown = 3 },
	};
	struct hp_source_stats sum;

	(void)state;
	memset(&sum, 0xff, sizeof(sum));
	hp_source_stats_sum(percpu, 3, &sum);
	assert_int_equal(sum.seen, 111);
	assert_int_equal(sum.sampled, 56);
	assert_int_equal(sum.emitted, 4);
	assert_int_equal(sum.dropped, 51);
	assert_int_equal(sum.errors, 1);
	assert_int_equal(sum.countdown, 0); /* per-CPU state, not a count */
	assert_int_equal(sum.sampled, sum.emitted + sum.dropped + sum.errors);

	memset(&sum, 0xff, sizeof(sum));
	hp_source_stats_sum(percpu, 0, &sum);
	assert_int_equal(sum.seen, 0);
	assert_int_equal(sum.dropped, 0);
}

static void test_stats_sum_large(void **state)
{
	struct hp_source_cpu percpu[2] = { { .seen = 1ULL << 62 }, { .seen = 1ULL << 62 } };
	struct hp_source_stats sum;

	(void)state;
	hp_source_stats_sum(percpu, 2, &sum);
	assert_true(sum.seen == 1ULL << 63);
}

static void test_opts_check(void **state)
{
	__u32 tgids[HP_FILTER_TGIDS_MAX + 1];
	struct hp_source_opts opts = { 0 };
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(tgids) / sizeof(tgids[0]); i++)
		tgids[i] = (__u32)i + 1;
	assert_int_equal(hp_source_opts_check(&opts, err, sizeof(err)), 0);

	opts.filter_mode = HP_FILTER_TGIDS;
	assert_int_equal(hp_source_opts_check(&opts, err, sizeof(err)), -EINVAL);
	opts.tgids = tgids;
	opts.nr_tgids = 1;
	assert_int_equal(hp_source_opts_check(&opts, err, sizeof(err)), 0);
	opts.nr_tgids = HP_FILTER_TGIDS_MAX;
	assert_int_equal(hp_source_opts_check(&opts, err, sizeof(err)), 0);
	opts.nr_tgids = HP_FILTER_TGIDS_MAX + 1;
	assert_int_equal(hp_source_opts_check(&opts, err, sizeof(err)), -E2BIG);
	tgids[0] = 0;
	opts.nr_tgids = 2;
	assert_int_equal(hp_source_opts_check(&opts, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tgid 0"));

	opts = (struct hp_source_opts){ .filter_mode = HP_FILTER_CGROUP };
	assert_int_equal(hp_source_opts_check(&opts, err, sizeof(err)), -EINVAL);
	opts.cgroup_id = 42;
	assert_int_equal(hp_source_opts_check(&opts, err, sizeof(err)), 0);

	opts.filter_mode = (enum hp_filter_mode)7;
	assert_int_equal(hp_source_opts_check(&opts, err, sizeof(err)), -EINVAL);
}

/* The x86 error code bits: 1 present, 2 write, 4 user, 16 instruction fetch. */
static void test_fault_flags(void **state)
{
	(void)state;
	assert_int_equal(hp_fault_flags(0x4), HP_EV_READ); /* user read, not present */
	assert_int_equal(hp_fault_flags(0x6), HP_EV_WRITE); /* user write, not present */
	assert_int_equal(hp_fault_flags(0x7), HP_EV_WRITE | HP_EV_PROT); /* COW */
	assert_int_equal(hp_fault_flags(0x5), HP_EV_READ | HP_EV_PROT); /* NUMA hint read */
	assert_int_equal(hp_fault_flags(0x14), HP_EV_INSTR); /* fetch, not present */
	assert_int_equal(hp_fault_flags(0x15), HP_EV_INSTR | HP_EV_PROT); /* NUMA hint fetch */
	assert_int_equal(hp_fault_flags(0x0), HP_EV_READ); /* kernel-mode read of a user page */
	/* Bits hotpage does not read (reserved bit, protection keys, SGX) change nothing. */
	assert_int_equal(hp_fault_flags(0x8 | 0x20 | 0x8000 | 0x6), HP_EV_WRITE);
}

static void test_param_next(void **state)
{
	const char *cursor = "a=1,bb=two,c=3";
	char key[8], value[8], err[128];

	(void)state;
	assert_int_equal(
		hp_param_next(&cursor, key, sizeof(key), value, sizeof(value), err, sizeof(err)),
		1);
	assert_string_equal(key, "a");
	assert_string_equal(value, "1");
	assert_int_equal(
		hp_param_next(&cursor, key, sizeof(key), value, sizeof(value), err, sizeof(err)),
		1);
	assert_string_equal(key, "bb");
	assert_string_equal(value, "two");
	assert_int_equal(
		hp_param_next(&cursor, key, sizeof(key), value, sizeof(value), err, sizeof(err)),
		1);
	assert_string_equal(value, "3");
	assert_int_equal(
		hp_param_next(&cursor, key, sizeof(key), value, sizeof(value), err, sizeof(err)),
		0);

	cursor = NULL;
	assert_int_equal(
		hp_param_next(&cursor, key, sizeof(key), value, sizeof(value), err, sizeof(err)),
		0);
	cursor = "";
	assert_int_equal(
		hp_param_next(&cursor, key, sizeof(key), value, sizeof(value), err, sizeof(err)),
		0);
}

static void test_param_next_rejects(void **state)
{
	static const char *const bad[] = { "a",	       "=1",	"a=",		",a=1",
					   "a=1,,b=2", "a=1,b", "keytoolong=1", "k=valuetoolong" };
	char key[8], value[8], err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *cursor = bad[i];
		int ret;

		while ((ret = hp_param_next(&cursor, key, sizeof(key), value, sizeof(value), err,
					    sizeof(err))) > 0)
			;
		assert_int_equal(ret, -EINVAL);
		assert_true(err[0] != '\0');
	}
}

static void test_fault_param(void **state)
{
	enum hp_fault_attach attach = HP_FAULT_ATTACH_TP_BTF;
	char err[128];

	(void)state;
	assert_int_equal(hp_fault_parse_param(NULL, &attach, err, sizeof(err)), 0);
	assert_int_equal(attach, HP_FAULT_ATTACH_AUTO);
	assert_int_equal(hp_fault_parse_param("attach=tracepoint", &attach, err, sizeof(err)), 0);
	assert_int_equal(attach, HP_FAULT_ATTACH_TRACEPOINT);
	assert_int_equal(hp_fault_parse_param("attach=tp_btf", &attach, err, sizeof(err)), 0);
	assert_int_equal(attach, HP_FAULT_ATTACH_TP_BTF);
	assert_int_equal(hp_fault_parse_param("attach=kprobe", &attach, err, sizeof(err)), -EINVAL);
	assert_int_equal(hp_fault_parse_param("period=3", &attach, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown parameter"));
	assert_string_equal(hp_fault_attach_point(HP_FAULT_ATTACH_TP_BTF),
			    "tp_btf/page_fault_user");
	assert_string_equal(hp_fault_attach_point(HP_FAULT_ATTACH_TRACEPOINT),
			    "tracepoint/exceptions/page_fault_user");
}

static void test_perf_param(void **state)
{
	struct hp_perf_params params;
	char err[128];

	(void)state;
	assert_int_equal(hp_perf_parse_param(NULL, &params, err, sizeof(err)), 0);
	assert_int_equal(params.event, HP_PERF_EVENT_AUTO);
	assert_int_equal(params.ldlat, 0);
	assert_int_equal(hp_perf_parse_param("event=page-faults", &params, err, sizeof(err)), 0);
	assert_int_equal(params.event, HP_PERF_EVENT_PAGE_FAULTS);
	assert_int_equal(hp_perf_parse_param("event=mem-loads,ldlat=50", &params, err, sizeof(err)),
			 0);
	assert_int_equal(params.event, HP_PERF_EVENT_MEM_LOADS);
	assert_int_equal(params.ldlat, 50);
	assert_int_equal(hp_perf_parse_param("event=ibs-op", &params, err, sizeof(err)), 0);
	assert_int_equal(params.event, HP_PERF_EVENT_IBS_OP);
	assert_string_equal(hp_perf_event_name(HP_PERF_EVENT_IBS_OP), "ibs-op");
	assert_string_equal(hp_perf_event_name((enum hp_perf_event)9), "?");

	assert_int_equal(hp_perf_parse_param("event=cycles", &params, err, sizeof(err)), -EINVAL);
	assert_int_equal(hp_perf_parse_param("ldlat=2", &params, err, sizeof(err)), -EINVAL);
	assert_int_equal(hp_perf_parse_param("ldlat=65536", &params, err, sizeof(err)), -EINVAL);
	assert_int_equal(hp_perf_parse_param("ldlat=-1", &params, err, sizeof(err)), -EINVAL);
	assert_int_equal(hp_perf_parse_param("ldlat=3x", &params, err, sizeof(err)), -EINVAL);
	assert_int_equal(hp_perf_parse_param("period=8", &params, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_order),	   cmocka_unit_test(test_stats_sum),
		cmocka_unit_test(test_stats_sum_large),	   cmocka_unit_test(test_opts_check),
		cmocka_unit_test(test_fault_flags),	   cmocka_unit_test(test_param_next),
		cmocka_unit_test(test_param_next_rejects), cmocka_unit_test(test_fault_param),
		cmocka_unit_test(test_perf_param),
	};

	return cmocka_run_group_tests_name("source", tests, NULL, NULL);
}
