// SPDX-License-Identifier: GPL-2.0
/*
 * The verdicts and reasons of the numa-hint and damon probes
 * (hp_numa_hint_decide, hp_damon_decide) for the situations they meet,
 * and the two sources' parameters.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "damon_source.h"
#include "numa_hint_source.h"

#define NOT_TRIED HP_NUMA_HINT_NOT_TRIED

static struct hp_numa_hint_facts numa_facts(const char *func, int fentry, int kprobe, bool pmu,
					    int balancing)
{
	struct hp_numa_hint_facts f = { .func_in_btf = func[0] != '\0',
					.fentry_err = fentry,
					.kprobe_pmu = pmu,
					.kprobe_err = kprobe,
					.numa_balancing = balancing,
					.pfn_known = true };

	snprintf(f.func, sizeof(f.func), "%s", func);
	return f;
}

static void test_numa_hint_host_without_trampolines_or_kprobes(void **state)
{
	struct hp_numa_hint_facts f = numa_facts("numa_migrate_check", -EPERM, NOT_TRIED, false, 0);
	struct hp_source_probe p;

	(void)state;
	hp_numa_hint_decide(&f, &p);
	assert_false(p.available);
	assert_string_equal(p.how, "");
	assert_string_equal(
		p.why,
		"numa-hint: fentry refused (EPERM), kprobes not built in (no kprobe PMU in /sys/bus/event_source/devices, no kprobe_events in tracefs)");
}

static void test_numa_hint_fentry_with_balancing_off(void **state)
{
	struct hp_numa_hint_facts f = numa_facts("numa_migrate_check", 0, NOT_TRIED, true, 0);
	struct hp_source_probe p;

	(void)state;
	hp_numa_hint_decide(&f, &p);
	assert_true(p.available);
	assert_string_equal(
		p.how,
		"fentry/numa_migrate_check; numa_balancing=0: no hint faults until it is enabled");
	assert_string_equal(p.why, "");
}

static void test_numa_hint_kprobe_fallback(void **state)
{
	struct hp_numa_hint_facts f = numa_facts("numa_migrate_prep", -524, 0, true, 1);
	struct hp_source_probe p;

	(void)state;
	hp_numa_hint_decide(&f, &p);
	assert_true(p.available);
	assert_string_equal(
		p.how, "kprobe/numa_migrate_prep (fentry refused: ENOTSUPP); numa_balancing=1");
}

static void test_numa_hint_tiering_and_unknown_pfn(void **state)
{
	struct hp_numa_hint_facts f = numa_facts("numa_migrate_check", 0, NOT_TRIED, true, 2);
	struct hp_source_probe p;

	(void)state;
	f.pfn_known = false;
	hp_numa_hint_decide(&f, &p);
	assert_true(p.available);
	assert_string_equal(
		p.how,
		"fentry/numa_migrate_check; numa_balancing=2: the kernel promotes too; PFN unknown (no vmemmap_base)");
}

static void test_numa_hint_kprobe_refused(void **state)
{
	struct hp_numa_hint_facts f = numa_facts("numa_migrate_prep", -EPERM, -ENOENT, true, 1);
	struct hp_source_probe p;

	(void)state;
	hp_numa_hint_decide(&f, &p);
	assert_false(p.available);
	assert_string_equal(
		p.why,
		"numa-hint: fentry refused (EPERM), kprobe on numa_migrate_prep refused (ENOENT)");
}

static void test_numa_hint_forced_attach_types(void **state)
{
	struct hp_numa_hint_facts f = numa_facts("numa_migrate_check", NOT_TRIED, -EINVAL, true, 1);
	struct hp_source_probe p;

	(void)state;
	hp_numa_hint_decide(&f, &p);
	assert_string_equal(
		p.why,
		"numa-hint: fentry not tried (attach=kprobe), kprobe on numa_migrate_check refused (EINVAL)");
	f = numa_facts("numa_migrate_check", -EPERM, NOT_TRIED, true, 1);
	hp_numa_hint_decide(&f, &p);
	assert_string_equal(p.why,
			    "numa-hint: fentry refused (EPERM), kprobe not tried (attach=fentry)");
	f = numa_facts("numa_migrate_check", NOT_TRIED, 0, true, 1);
	hp_numa_hint_decide(&f, &p);
	assert_true(p.available);
	assert_string_equal(p.how, "kprobe/numa_migrate_check; numa_balancing=1");
}

static void test_numa_hint_no_hook_or_no_balancing(void **state)
{
	struct hp_numa_hint_facts f = numa_facts("", NOT_TRIED, NOT_TRIED, true, 1);
	struct hp_source_probe p;

	(void)state;
	hp_numa_hint_decide(&f, &p);
	assert_false(p.available);
	assert_string_equal(
		p.why,
		"numa-hint: neither numa_migrate_check (6.10+) nor numa_migrate_prep (6.1-6.9) is in the kernel's BTF (inlined or renamed in this kernel)");
	f = numa_facts("", NOT_TRIED, NOT_TRIED, true, -1);
	hp_numa_hint_decide(&f, &p);
	assert_string_equal(
		p.why,
		"numa-hint: kernel without NUMA balancing (no /proc/sys/kernel/numa_balancing: CONFIG_NUMA_BALANCING off), so there are no hint faults");
}

static void test_errno_names(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(hp_errno_name(-EPERM, buf, sizeof(buf)), "EPERM");
	assert_string_equal(hp_errno_name(EACCES, buf, sizeof(buf)), "EACCES");
	assert_string_equal(hp_errno_name(-524, buf, sizeof(buf)), "ENOTSUPP");
	assert_string_equal(hp_errno_name(-9999, buf, sizeof(buf)), "errno 9999");
}

static void test_numa_hint_params(void **state)
{
	enum hp_numa_hint_attach a = HP_NUMA_HINT_KPROBE;
	char err[256] = "";

	(void)state;
	assert_int_equal(hp_numa_hint_parse_param(NULL, &a, err, sizeof(err)), 0);
	assert_int_equal(a, HP_NUMA_HINT_AUTO);
	assert_int_equal(hp_numa_hint_parse_param("attach=kprobe", &a, err, sizeof(err)), 0);
	assert_int_equal(a, HP_NUMA_HINT_KPROBE);
	assert_int_equal(hp_numa_hint_parse_param("attach=fentry", &a, err, sizeof(err)), 0);
	assert_int_equal(a, HP_NUMA_HINT_FENTRY);
	assert_int_equal(hp_numa_hint_parse_param("attach=uprobe", &a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "numa-hint: attach=uprobe: use auto, fentry or kprobe");
	assert_int_equal(hp_numa_hint_parse_param("period=3", &a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "numa-hint: unknown parameter 'period' (known: attach)");
	assert_int_equal(hp_numa_hint_parse_param("attach", &a, err, sizeof(err)), -EINVAL);
}

/* ---- damon */

static struct hp_damon_facts damon_facts(bool sysfs, bool btf, bool tracefs)
{
	struct hp_damon_facts f = { .sysfs = sysfs, .tp_btf = btf, .tp_tracefs = tracefs };

	f.attach_err = btf || tracefs ? 0 : 1;
	snprintf(f.attach_how, sizeof(f.attach_how), "%s",
		 btf ? "tp_btf/damon_aggregated" : "tracepoint/damon/damon_aggregated");
	return f;
}

static void test_damon_without_damon(void **state)
{
	struct hp_damon_facts f = damon_facts(false, false, false);
	struct hp_source_probe p;

	(void)state;
	hp_damon_decide(&f, &p);
	assert_false(p.available);
	assert_string_equal(
		p.why,
		"damon: kernel without DAMON (no /sys/kernel/mm/damon/admin, no damon:damon_aggregated tracepoint: CONFIG_DAMON off)");
}

static void test_damon_partial_kernels(void **state)
{
	struct hp_damon_facts f = damon_facts(false, true, true);
	struct hp_source_probe p;

	(void)state;
	hp_damon_decide(&f, &p);
	assert_string_equal(
		p.why,
		"damon: DAMON's sysfs interface is absent (no /sys/kernel/mm/damon/admin: CONFIG_DAMON_SYSFS off)");
	f = damon_facts(true, false, false);
	hp_damon_decide(&f, &p);
	assert_string_equal(
		p.why,
		"damon: no damon:damon_aggregated tracepoint (neither in the kernel's BTF nor in tracefs)");
	f = damon_facts(true, true, true);
	f.attach_err = -EPERM;
	hp_damon_decide(&f, &p);
	assert_string_equal(p.why,
			    "damon: tp_btf/damon_aggregated refused: Operation not permitted");
}

static void test_damon_busy_and_free(void **state)
{
	struct hp_damon_facts f = damon_facts(true, true, true);
	struct hp_source_probe p;

	(void)state;
	f.admin_err = -EBUSY;
	snprintf(f.admin_why, sizeof(f.admin_why), "DAMON busy: kdamond 0 (pid 77, paddr) ...");
	hp_damon_decide(&f, &p);
	assert_false(p.available);
	assert_string_equal(p.why, "damon: DAMON busy: kdamond 0 (pid 77, paddr) ...");

	f = damon_facts(true, false, true);
	hp_damon_decide(&f, &p);
	assert_true(p.available);
	assert_string_equal(p.how,
			    "tracepoint/damon/damon_aggregated; sysfs kdamond (paddr or vaddr)");
	f = damon_facts(true, true, true);
	f.stale = 1;
	hp_damon_decide(&f, &p);
	assert_string_equal(
		p.how,
		"tp_btf/damon_aggregated; sysfs kdamond (paddr or vaddr); 1 stale hotpage kdamond to remove");
}

static void test_damon_params(void **state)
{
	struct hp_damon_params p;
	char err[256] = "";

	(void)state;
	assert_int_equal(hp_damon_parse_params(NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(p.mode, HP_DAMON_MODE_AUTO);
	assert_true(p.attrs.sample_us == 5000 && p.attrs.aggr_us == 100000 &&
		    p.attrs.update_us == 1000000 && p.attrs.min_nr_regions == 10 &&
		    p.attrs.max_nr_regions == 1000);
	assert_true(p.node_mask == 0);

	assert_int_equal(hp_damon_parse_params("ops=paddr,nodes=1:3,aggr_us=200000,min_regions=50",
					       &p, err, sizeof(err)),
			 0);
	assert_int_equal(p.mode, HP_DAMON_MODE_PADDR);
	assert_true(p.node_mask == 0xa);
	assert_true(p.attrs.aggr_us == 200000 && p.attrs.min_nr_regions == 50);

	assert_int_equal(hp_damon_parse_params("kdamond=2,attach=tracepoint", &p, err, sizeof(err)),
			 0);
	assert_int_equal(p.mode, HP_DAMON_MODE_OBSERVE);
	assert_int_equal(p.kdamond, 2);
	assert_int_equal(p.attach, HP_DAMON_ATTACH_TRACEPOINT);

	assert_int_equal(hp_damon_parse_params("ops=fvaddr", &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "damon: bad value 'fvaddr' for ops");
	assert_int_equal(hp_damon_parse_params("nodes=1-0", &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(hp_damon_parse_params("kdamond=99", &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(hp_damon_parse_params("aggr_us=-1", &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(hp_damon_parse_params("regions=5", &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown parameter 'regions'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numa_hint_host_without_trampolines_or_kprobes),
		cmocka_unit_test(test_numa_hint_fentry_with_balancing_off),
		cmocka_unit_test(test_numa_hint_kprobe_fallback),
		cmocka_unit_test(test_numa_hint_tiering_and_unknown_pfn),
		cmocka_unit_test(test_numa_hint_kprobe_refused),
		cmocka_unit_test(test_numa_hint_forced_attach_types),
		cmocka_unit_test(test_numa_hint_no_hook_or_no_balancing),
		cmocka_unit_test(test_errno_names),
		cmocka_unit_test(test_numa_hint_params),
		cmocka_unit_test(test_damon_without_damon),
		cmocka_unit_test(test_damon_partial_kernels),
		cmocka_unit_test(test_damon_busy_and_free),
		cmocka_unit_test(test_damon_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
