// SPDX-License-Identifier: GPL-2.0
/*
 * DAMON sysfs handling (user/sources/damon_admin.c): paths, parsing, the ownership
 * rules, and scan / start / reclaim against a fake admin tree (plain
 * files, so writing nr_kdamonds creates no directories there).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "damon_admin.h"

#define DEAD_PID 2147483646L /* above any pid_max: never alive */

static void test_paths(void **state)
{
	char buf[128], tiny[16];

	(void)state;
	assert_int_equal(hp_damon_path(buf, sizeof(buf), HP_DAMON_ADMIN, -1, "nr_kdamonds"), 0);
	assert_string_equal(buf, "/sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds");
	assert_int_equal(hp_damon_path(buf, sizeof(buf), HP_DAMON_ADMIN, 3,
				       "contexts/0/targets/1/pid_target"),
			 0);
	assert_string_equal(
		buf, "/sys/kernel/mm/damon/admin/kdamonds/3/contexts/0/targets/1/pid_target");
	assert_int_equal(hp_damon_path(tiny, sizeof(tiny), HP_DAMON_ADMIN, 0, "state"),
			 -ENAMETOOLONG);
}

static void test_parse_state(void **state)
{
	static const char *const bad[] = { "", "onx", "of", "commit", "ON", " on" };
	bool on = false;

	(void)state;
	assert_int_equal(hp_damon_parse_state("on\n", &on), 0);
	assert_true(on);
	assert_int_equal(hp_damon_parse_state("off", &on), 0);
	assert_false(on);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hp_damon_parse_state(bad[i], &on), -EINVAL);
}

static void test_parse_numbers_and_ops(void **state)
{
	static const char *const bad_num[] = { "",   "-1\n", "12a",
					       " 1", "0x10", "99999999999999999999999" };
	enum hp_damon_ops ops = HP_DAMON_OPS_PADDR;
	__u64 v = 0;

	(void)state;
	assert_int_equal(hp_damon_parse_u64("5000\n", &v), 0);
	assert_true(v == 5000);
	assert_int_equal(hp_damon_parse_u64("7525361528378713393", &v), 0);
	assert_true(v == HP_DAMON_TAG);
	for (size_t i = 0; i < sizeof(bad_num) / sizeof(bad_num[0]); i++)
		assert_int_equal(hp_damon_parse_u64(bad_num[i], &v), -EINVAL);
	assert_int_equal(hp_damon_parse_ops("vaddr\n", &ops), 0);
	assert_int_equal(ops, HP_DAMON_OPS_VADDR);
	assert_int_equal(hp_damon_parse_ops("paddr", &ops), 0);
	assert_int_equal(ops, HP_DAMON_OPS_PADDR);
	assert_int_equal(hp_damon_parse_ops("fvaddr", &ops), -EINVAL);
	assert_string_equal(hp_damon_ops_name(HP_DAMON_OPS_VADDR), "vaddr");
	assert_string_equal(hp_damon_ops_name(HP_DAMON_OPS_PADDR), "paddr");
}

/* ---- ownership rules */

static bool alive_if_small(long pid)
{
	return pid < 1000000;
}

static struct hp_damon_kdamond kd(unsigned int index, bool on, int pid, const char *ops,
				  bool tagged, long owner)
{
	struct hp_damon_kdamond k = { .index = index,
				      .on = on,
				      .pid = pid,
				      .nr_contexts = 1,
				      .tagged = tagged,
				      .owner = owner };

	snprintf(k.ops, sizeof(k.ops), "%s", ops);
	return k;
}

static void test_classify_empty_is_free(void **state)
{
	struct hp_damon_scan s = { 0 };
	char why[256] = "";
	__u64 stale = 99;

	(void)state;
	assert_int_equal(hp_damon_classify(&s, 100, alive_if_small, &stale, why, sizeof(why)), 0);
	assert_true(stale == 0);
}

static void test_classify_foreign_running_is_busy(void **state)
{
	struct hp_damon_scan s = { .nr_kdamonds = 1 };
	char why[256] = "";
	__u64 stale;

	(void)state;
	s.kd[0] = kd(0, true, 77, "paddr", false, 0);
	assert_int_equal(hp_damon_classify(&s, 100, alive_if_small, &stale, why, sizeof(why)),
			 -EBUSY);
	assert_string_equal(
		why,
		"DAMON busy: kdamond 0 (pid 77, paddr) is running and is not hotpage's; DAMON's sysfs adds a kdamond only while none runs (hotpage can observe it: damon kdamond=0)");
}

static void test_classify_foreign_configured_is_busy(void **state)
{
	struct hp_damon_scan s = { .nr_kdamonds = 2 };
	char why[256] = "";
	__u64 stale;

	(void)state;
	s.kd[0] = kd(0, false, -1, "vaddr", true, DEAD_PID);
	s.kd[1] = kd(1, false, -1, "vaddr", false, 0);
	assert_int_equal(hp_damon_classify(&s, 100, alive_if_small, &stale, why, sizeof(why)),
			 -EBUSY);
	assert_non_null(strstr(why, "kdamond 1 (off, vaddr) is configured and is not hotpage's"));
	assert_non_null(strstr(why, "would lose that configuration"));
}

static void test_classify_live_owner_is_busy(void **state)
{
	struct hp_damon_scan s = { .nr_kdamonds = 1 };
	char why[256] = "";
	__u64 stale;

	(void)state;
	s.kd[0] = kd(0, true, 88, "vaddr", true, 4242);
	assert_int_equal(hp_damon_classify(&s, 100, alive_if_small, &stale, why, sizeof(why)),
			 -EBUSY);
	assert_string_equal(
		why,
		"DAMON busy: kdamond 0 (pid 88, vaddr) belongs to hotpage process 4242, which is still running");
}

static void test_classify_stale_and_own_are_reclaimed(void **state)
{
	struct hp_damon_scan s = { .nr_kdamonds = 2 };
	char why[256] = "";
	__u64 stale = 0;

	(void)state;
	s.kd[0] = kd(0, true, 88, "vaddr", true, DEAD_PID);
	s.kd[1] = kd(1, false, -1, "paddr", true, 100); /* this process's own (a restart) */
	assert_int_equal(hp_damon_classify(&s, 100, alive_if_small, &stale, why, sizeof(why)), 0);
	assert_true(stale == 0x3);
}

static void test_classify_too_many(void **state)
{
	struct hp_damon_scan s = { .nr_kdamonds = HP_DAMON_SCAN_MAX + 1 };
	char why[256] = "";
	__u64 stale;

	(void)state;
	assert_int_equal(hp_damon_classify(&s, 100, alive_if_small, &stale, why, sizeof(why)),
			 -EBUSY);
	assert_non_null(strstr(why, "17 kdamonds exist"));
}

/* ---- a fake admin tree */

static void put(const char *root, const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *root, const char *rel, char *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	assert_non_null(f);
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static void mkdirs(const char *root, const char *rel)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", root, rel);
	assert_int_equal(system(cmd), 0);
}

/* One kdamond, on, paddr; tagged with @owner when @owner > 0. */
static void one_kdamond(const char *root, long owner)
{
	char num[32];

	put(root, "kdamonds/nr_kdamonds", "1\n");
	mkdirs(root, "kdamonds/0/contexts/0/targets/0");
	mkdirs(root, "kdamonds/0/contexts/0/schemes/0/access_pattern/sz");
	mkdirs(root, "kdamonds/0/contexts/0/schemes/0/access_pattern/age");
	put(root, "kdamonds/0/state", "on\n");
	put(root, "kdamonds/0/pid", "77\n");
	put(root, "kdamonds/0/contexts/nr_contexts", "1\n");
	put(root, "kdamonds/0/contexts/0/operations", "vaddr\n");
	put(root, "kdamonds/0/contexts/0/targets/nr_targets", "1\n");
	put(root, "kdamonds/0/contexts/0/targets/0/pid_target", "1234\n");
	if (owner <= 0) {
		put(root, "kdamonds/0/contexts/0/schemes/nr_schemes", "0\n");
		return;
	}
	put(root, "kdamonds/0/contexts/0/schemes/nr_schemes", "1\n");
	put(root, "kdamonds/0/contexts/0/schemes/0/action", "stat\n");
	snprintf(num, sizeof(num), "%llu\n", (unsigned long long)HP_DAMON_TAG);
	put(root, "kdamonds/0/contexts/0/schemes/0/access_pattern/sz/min", num);
	put(root, "kdamonds/0/contexts/0/schemes/0/access_pattern/sz/max", num);
	snprintf(num, sizeof(num), "%ld\n", owner);
	put(root, "kdamonds/0/contexts/0/schemes/0/access_pattern/age/min", num);
	put(root, "kdamonds/0/contexts/0/schemes/0/access_pattern/age/max", num);
}

static int make_tree(void **state)
{
	char *root = strdup("/tmp/hp-damon-admin-XXXXXX");

	assert_non_null(mkdtemp(root));
	mkdirs(root, "kdamonds");
	put(root, "kdamonds/nr_kdamonds", "0\n");
	*state = root;
	return 0;
}

static int remove_tree(void **state)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
	assert_int_equal(system(cmd), 0);
	free(*state);
	return 0;
}

static void test_scan_reads_tag_and_targets(void **state)
{
	struct hp_damon_scan s;
	char err[256] = "";

	one_kdamond(*state, 4321);
	assert_int_equal(hp_damon_scan(*state, &s, err, sizeof(err)), 0);
	assert_int_equal(s.nr_kdamonds, 1);
	assert_true(s.kd[0].on);
	assert_int_equal(s.kd[0].pid, 77);
	assert_string_equal(s.kd[0].ops, "vaddr");
	assert_int_equal(s.kd[0].nr_targets, 1);
	assert_int_equal(s.kd[0].target_pids[0], 1234);
	assert_true(s.kd[0].tagged);
	assert_int_equal(s.kd[0].owner, 4321);
}

static void test_scan_untagged(void **state)
{
	struct hp_damon_scan s;
	char err[256] = "";

	one_kdamond(*state, 0);
	assert_int_equal(hp_damon_scan(*state, &s, err, sizeof(err)), 0);
	assert_false(s.kd[0].tagged);
}

static void test_scan_without_damon(void **state)
{
	struct hp_damon_scan s;
	char err[256] = "";

	(void)state;
	assert_int_equal(hp_damon_scan("/nonexistent/damon/admin", &s, err, sizeof(err)), -ENOENT);
	assert_string_equal(
		err,
		"DAMON's sysfs interface is absent (no /nonexistent/damon/admin: kernel without CONFIG_DAMON_SYSFS)");
}

static struct hp_damon_spec vaddr_spec(const __u32 *pids)
{
	return (struct hp_damon_spec){ .ops = HP_DAMON_OPS_VADDR,
				       .attrs = HP_DAMON_ATTRS_DEFAULT,
				       .pids = pids,
				       .nr_pids = 1 };
}

static void test_start_refuses_foreign_and_writes_nothing(void **state)
{
	static const __u32 pids[] = { 1 };
	struct hp_damon_spec spec = vaddr_spec(pids);
	struct hp_damon_ctx ctx;
	char err[256] = "", buf[64];

	one_kdamond(*state, 0);
	assert_int_equal(hp_damon_start(*state, &spec, &ctx, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "kdamond 0 (pid 77, vaddr) is running and is not hotpage's"));
	assert_string_equal(get(*state, "kdamonds/nr_kdamonds", buf, sizeof(buf)), "1");
	assert_string_equal(get(*state, "kdamonds/0/state", buf, sizeof(buf)), "on");
}

/*
 * In the fake tree nr_kdamonds=1 creates no kdamonds/0: configuring fails,
 * and start must undo its nr_kdamonds write.
 */
static void test_start_undoes_on_failure(void **state)
{
	static const __u32 pids[] = { 1 };
	struct hp_damon_spec spec = vaddr_spec(pids);
	struct hp_damon_ctx ctx;
	char err[256] = "", buf[64];

	assert_int_equal(hp_damon_start(*state, &spec, &ctx, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "contexts/nr_contexts"));
	assert_string_equal(get(*state, "kdamonds/nr_kdamonds", buf, sizeof(buf)), "0");
}

static void test_start_checks_spec(void **state)
{
	struct hp_damon_spec spec = { .ops = HP_DAMON_OPS_VADDR, .attrs = HP_DAMON_ATTRS_DEFAULT };
	struct hp_damon_ctx ctx;
	char err[256] = "", buf[64];

	assert_int_equal(hp_damon_start(*state, &spec, &ctx, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "vaddr monitoring needs 1 to"));
	spec.ops = HP_DAMON_OPS_PADDR;
	assert_int_equal(hp_damon_start(*state, &spec, &ctx, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at least one address range"));
	spec.nr_ranges = 1;
	spec.attrs.min_nr_regions = 2;
	assert_int_equal(hp_damon_start(*state, &spec, &ctx, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "3 <= min_nr_regions"));
	spec.attrs = HP_DAMON_ATTRS_DEFAULT;
	spec.attrs.aggr_us = spec.attrs.sample_us - 1;
	assert_int_equal(hp_damon_start(*state, &spec, &ctx, err, sizeof(err)), -EINVAL);
	assert_string_equal(get(*state, "kdamonds/nr_kdamonds", buf, sizeof(buf)), "0");
}

static void test_reclaim_stale(void **state)
{
	char err[256] = "", buf[64];

	one_kdamond(*state, DEAD_PID);
	assert_int_equal(hp_damon_reclaim_stale(*state, err, sizeof(err)), 1);
	assert_string_equal(get(*state, "kdamonds/0/state", buf, sizeof(buf)), "off");
	assert_string_equal(get(*state, "kdamonds/nr_kdamonds", buf, sizeof(buf)), "0");
}

static void test_reclaim_leaves_live_owner(void **state)
{
	char err[256] = "", buf[64];

	one_kdamond(*state, 1); /* init: alive */
	assert_int_equal(hp_damon_reclaim_stale(*state, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "belongs to hotpage process 1"));
	assert_string_equal(get(*state, "kdamonds/0/state", buf, sizeof(buf)), "on");
	assert_string_equal(get(*state, "kdamonds/nr_kdamonds", buf, sizeof(buf)), "1");
}

static void test_stop_touches_only_own(void **state)
{
	struct hp_damon_ctx ctx = { .index = 0 };
	char err[256] = "", buf[64];

	snprintf(ctx.root, sizeof(ctx.root), "%s", (char *)*state);
	one_kdamond(*state, DEAD_PID); /* tagged, but not by this process */
	assert_int_equal(hp_damon_stop(&ctx, err, sizeof(err)), -ESRCH);
	assert_non_null(strstr(err, "no longer hotpage's"));
	assert_string_equal(get(*state, "kdamonds/0/state", buf, sizeof(buf)), "on");

	one_kdamond(*state, (long)getpid());
	assert_int_equal(hp_damon_stop(&ctx, err, sizeof(err)), 0);
	assert_string_equal(get(*state, "kdamonds/0/state", buf, sizeof(buf)), "off");
	assert_string_equal(get(*state, "kdamonds/nr_kdamonds", buf, sizeof(buf)), "0");
}

/* ---- DAMON's in-kernel users (a fake /sys/module in the tree) */

static void damon_user(const char *root, const char *module, const char *enabled, const char *pid)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "%s/parameters", module);
	mkdirs(root, rel);
	snprintf(rel, sizeof(rel), "%s/parameters/enabled", module);
	put(root, rel, enabled);
	if (pid) {
		snprintf(rel, sizeof(rel), "%s/parameters/kdamond_pid", module);
		put(root, rel, pid);
	}
}

static void test_exclusive_none_running(void **state)
{
	char why[256] = "";

	assert_int_equal(hp_damon_exclusive(*state, why, sizeof(why)), 0);
	damon_user(*state, "damon_stat", "N\n", "-1\n");
	damon_user(*state, "damon_reclaim", "N\n", "-1\n");
	assert_int_equal(hp_damon_exclusive(*state, why, sizeof(why)), 0);
	/* Enabled, but its kdamond did not start: nothing in the way. */
	damon_user(*state, "damon_lru_sort", "Y\n", "-1\n");
	assert_int_equal(hp_damon_exclusive(*state, why, sizeof(why)), 0);
	assert_string_equal(why, "");
}

static void test_exclusive_stat_is_busy(void **state)
{
	char why[256] = "", expect[400];

	damon_user(*state, "damon_stat", "Y\n", "57\n");
	assert_int_equal(hp_damon_exclusive(*state, why, sizeof(why)), -EBUSY);
	snprintf(
		expect, sizeof(expect),
		"DAMON busy: DAMON_STAT runs its kdamond (pid 57) exclusively, and DAMON starts no other while it does; turn it off to use DAMON here (echo N > %s/damon_stat/parameters/enabled, or boot with damon_stat.enabled=N)",
		(char *)*state);
	assert_string_equal(why, expect);
}

static void test_exclusive_reclaim_without_pid(void **state)
{
	char why[256] = "";

	/* A kernel without the kdamond_pid parameter: enabled counts as running. */
	damon_user(*state, "damon_reclaim", "Y\n", NULL);
	assert_int_equal(hp_damon_exclusive(*state, why, sizeof(why)), -EBUSY);
	assert_non_null(strstr(why, "DAMON_RECLAIM runs its kdamond exclusively"));
	assert_non_null(strstr(why, "damon_reclaim.enabled=N"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_parse_state),
		cmocka_unit_test(test_parse_numbers_and_ops),
		cmocka_unit_test(test_classify_empty_is_free),
		cmocka_unit_test(test_classify_foreign_running_is_busy),
		cmocka_unit_test(test_classify_foreign_configured_is_busy),
		cmocka_unit_test(test_classify_live_owner_is_busy),
		cmocka_unit_test(test_classify_stale_and_own_are_reclaimed),
		cmocka_unit_test(test_classify_too_many),
		cmocka_unit_test_setup_teardown(test_scan_reads_tag_and_targets, make_tree,
						remove_tree),
		cmocka_unit_test_setup_teardown(test_scan_untagged, make_tree, remove_tree),
		cmocka_unit_test(test_scan_without_damon),
		cmocka_unit_test_setup_teardown(test_start_refuses_foreign_and_writes_nothing,
						make_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_start_undoes_on_failure, make_tree,
						remove_tree),
		cmocka_unit_test_setup_teardown(test_start_checks_spec, make_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_reclaim_stale, make_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_reclaim_leaves_live_owner, make_tree,
						remove_tree),
		cmocka_unit_test_setup_teardown(test_stop_touches_only_own, make_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_exclusive_none_running, make_tree,
						remove_tree),
		cmocka_unit_test_setup_teardown(test_exclusive_stat_is_busy, make_tree,
						remove_tree),
		cmocka_unit_test_setup_teardown(test_exclusive_reclaim_without_pid, make_tree,
						remove_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
