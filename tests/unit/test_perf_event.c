// SPDX-License-Identifier: GPL-2.0
/*
 * How the perf source picks and encodes its event (user/sources/perf_source.c):
 * sysfs format specs, event descriptions, and the candidates a PMU tree
 * offers, on fake trees under a temporary directory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "perf_source.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256], dir[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	/* mkdir -p of the parent */
	for (char *p = dir + strlen(root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(dir, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/hp_test_perf_XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_format_apply(void **state)
{
	struct perf_event_attr attr = { 0 };

	(void)state;
	assert_int_equal(hp_perf_format_apply("config:0-7", 0xcd, &attr), 0);
	assert_int_equal(hp_perf_format_apply("config:8-15\n", 0x1, &attr), 0);
	assert_true(attr.config == 0x1cd);
	assert_int_equal(hp_perf_format_apply("config1:0-15", 30, &attr), 0);
	assert_true(attr.config1 == 30);
	assert_int_equal(hp_perf_format_apply("config2:3", 1, &attr), 0);
	assert_true(attr.config2 == 8);
	/* Split fields: low bits to the first range. */
	attr = (struct perf_event_attr){ 0 };
	assert_int_equal(hp_perf_format_apply("config:0-7,32-35", 0xabc, &attr), 0);
	assert_true(attr.config == ((0xaULL << 32) | 0xbc));
	/* A value rewrites its bits only. */
	attr.config = ~0ULL;
	assert_int_equal(hp_perf_format_apply("config:8-15", 0, &attr), 0);
	assert_true(attr.config == ~0xff00ULL);
	assert_int_equal(hp_perf_format_apply("config:0-63", ~0ULL, &attr), 0);
	assert_true(attr.config == ~0ULL);
}

static void test_format_rejects(void **state)
{
	static const char *const bad[] = {
		"config",     "config3:0-7", "conf:0",	     "config:",
		"config:7-0", "config:0-64", "config:0-7;8", "config:a"
	};
	struct perf_event_attr attr = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hp_perf_format_apply(bad[i], 1, &attr), -EINVAL);
	/* Too wide for the field. */
	assert_int_equal(hp_perf_format_apply("config:0-7", 0x100, &attr), -EINVAL);
}

static void intel_pmu(const char *pmu, const char *mem_loads)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "%s/type", pmu);
	put(rel, "4\n");
	snprintf(rel, sizeof(rel), "%s/format/event", pmu);
	put(rel, "config:0-7\n");
	snprintf(rel, sizeof(rel), "%s/format/umask", pmu);
	put(rel, "config:8-15\n");
	snprintf(rel, sizeof(rel), "%s/format/ldlat", pmu);
	put(rel, "config1:0-15\n");
	if (mem_loads) {
		snprintf(rel, sizeof(rel), "%s/events/mem-loads", pmu);
		put(rel, mem_loads);
	}
}

static void test_terms_apply(void **state)
{
	struct perf_event_attr attr = { 0 };
	char dir[128], err[256];

	(void)state;
	intel_pmu("cpu", NULL);
	snprintf(dir, sizeof(dir), "%s/cpu", root);
	assert_int_equal(hp_perf_event_terms_apply(dir, "event=0xcd,umask=0x1,ldlat=3\n", "ldlat",
						   30, &attr, err, sizeof(err)),
			 0);
	assert_true(attr.config == 0x1cd);
	assert_true(attr.config1 == 30);
	/* The override applies even when the description lacks the term. */
	attr = (struct perf_event_attr){ 0 };
	assert_int_equal(hp_perf_event_terms_apply(dir, "event=0xcd,umask=0x1", "ldlat", 50, &attr,
						   err, sizeof(err)),
			 0);
	assert_true(attr.config1 == 50);
	/* An unknown term has no format file: refused with the path. */
	assert_int_equal(hp_perf_event_terms_apply(dir, "event=0xcd,frob=1", NULL, 0, &attr, err,
						   sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "format/frob"));
	assert_int_equal(
		hp_perf_event_terms_apply(dir, "event=,umask=1", NULL, 0, &attr, err, sizeof(err)),
		-EINVAL);
	assert_int_equal(
		hp_perf_event_terms_apply(dir, "event=zz", NULL, 0, &attr, err, sizeof(err)),
		-EINVAL);
}

static void test_candidates_none(void **state)
{
	struct hp_perf_params params = { .event = HP_PERF_EVENT_AUTO };
	struct hp_perf_choice c[3];
	char notes[256];
	int n;

	(void)state;
	put("software/type", "1\n");
	n = hp_perf_candidates(&params, root, 0, c, 3, notes, sizeof(notes));
	assert_int_equal(n, 1);
	assert_int_equal(c[0].event, HP_PERF_EVENT_PAGE_FAULTS);
	assert_int_equal(c[0].attr.type, PERF_TYPE_SOFTWARE);
	assert_true(c[0].attr.config == PERF_COUNT_SW_PAGE_FAULTS);
	assert_true(c[0].attr.sample_period == HP_PERF_PERIOD_PAGE_FAULTS);
	assert_true(c[0].attr.sample_type & PERF_SAMPLE_ADDR);
	assert_non_null(strstr(notes, "no hardware memory sampling PMU"));
	assert_non_null(strstr(notes, "mem-loads"));
	assert_non_null(strstr(notes, "ibs_op"));
	assert_non_null(strstr(notes, "arm_spe"));
	assert_non_null(strstr(notes, root));

	/* Asking for a missing hardware event: no candidate, the reason. */
	params.event = HP_PERF_EVENT_MEM_LOADS;
	n = hp_perf_candidates(&params, root, 0, c, 3, notes, sizeof(notes));
	assert_int_equal(n, 0);
	assert_non_null(strstr(notes, "mem-loads"));

	params.event = HP_PERF_EVENT_PAGE_FAULTS;
	n = hp_perf_candidates(&params, root, 16, c, 3, notes, sizeof(notes));
	assert_int_equal(n, 1);
	assert_true(c[0].attr.sample_period == 16);
	assert_string_equal(notes, "");
}

static void test_candidates_intel(void **state)
{
	struct hp_perf_params params = { .event = HP_PERF_EVENT_AUTO, .ldlat = 40 };
	struct hp_perf_choice c[3];
	char notes[256];
	int n;

	(void)state;
	intel_pmu("cpu", "event=0xcd,umask=0x1,ldlat=3\n");
	n = hp_perf_candidates(&params, root, 0, c, 3, notes, sizeof(notes));
	assert_int_equal(n, 2); /* mem-loads, then the software fallback */
	assert_int_equal(c[0].event, HP_PERF_EVENT_MEM_LOADS);
	assert_int_equal(c[0].attr.type, 4);
	assert_true(c[0].attr.config == 0x1cd);
	assert_true(c[0].attr.config1 == 40);
	assert_true(c[0].attr.precise_ip >= 1);
	assert_true(c[0].attr.exclude_kernel);
	assert_true(c[0].attr.sample_period == HP_PERF_PERIOD_MEM_LOADS);
	assert_true(c[0].attr.sample_type & PERF_SAMPLE_ADDR);
	assert_int_equal(c[0].event_flags, HP_EV_READ);
	assert_non_null(strstr(c[0].name, "mem-loads,ldlat=40"));
	assert_int_equal(c[1].event, HP_PERF_EVENT_PAGE_FAULTS);
	assert_string_equal(notes, "");
}

static void test_candidates_hybrid_and_amd(void **state)
{
	struct hp_perf_params params = { .event = HP_PERF_EVENT_AUTO };
	struct hp_perf_choice c[3];
	char notes[256];
	int n;

	(void)state;
	/* Hybrid Intel: the core PMU is cpu_core. */
	intel_pmu("cpu_core", "event=0xd0,umask=0x5,ldlat=3\n");
	put("ibs_op/type", "11\n");
	n = hp_perf_candidates(&params, root, 100, c, 3, notes, sizeof(notes));
	assert_int_equal(n, 3);
	assert_int_equal(c[0].event, HP_PERF_EVENT_MEM_LOADS);
	assert_true(c[0].attr.config == 0x5d0);
	assert_true(c[0].attr.config1 == HP_PERF_LDLAT_DEFAULT);
	assert_int_equal(c[1].event, HP_PERF_EVENT_IBS_OP);
	assert_int_equal(c[1].attr.type, 11);
	assert_true(c[1].attr.sample_period == 112); /* IBS: rounded up to a multiple of 16 */
	assert_int_equal(c[2].event, HP_PERF_EVENT_PAGE_FAULTS);

	/* Room for one: the best only. */
	n = hp_perf_candidates(&params, root, 0, c, 1, notes, sizeof(notes));
	assert_int_equal(n, 1);
	assert_int_equal(c[0].event, HP_PERF_EVENT_MEM_LOADS);
}

static void test_candidates_spe(void **state)
{
	struct hp_perf_params params = { .event = HP_PERF_EVENT_AUTO };
	struct hp_perf_choice c[3];
	char notes[256];
	int n;

	(void)state;
	put("arm_spe_0/type", "9\n");
	n = hp_perf_candidates(&params, root, 0, c, 3, notes, sizeof(notes));
	assert_int_equal(n, 1);
	assert_int_equal(c[0].event, HP_PERF_EVENT_PAGE_FAULTS);
	assert_non_null(strstr(notes, "arm_spe_0 present"));
	assert_non_null(strstr(notes, "AUX buffer"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_apply),
		cmocka_unit_test(test_format_rejects),
		cmocka_unit_test_setup_teardown(test_terms_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_candidates_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_candidates_intel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_candidates_hybrid_and_amd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_candidates_spe, setup, teardown),
	};

	return cmocka_run_group_tests_name("perf_event", tests, NULL, NULL);
}
