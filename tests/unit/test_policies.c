// SPDX-License-Identifier: GPL-2.0
/* Named policies (user/promote/policies.c): attach, detach, matching, refusals, fuzz. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policies.h"

static void attach_ok(struct hp_policies *ps, const char *name, const char *kv)
{
	const char *args[1] = { kv };
	char err[256] = "";

	assert_int_equal(hp_policies_attach(ps, name, args, kv ? 1 : 0, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static void test_attach_show_detach(void **state)
{
	struct hp_policies ps = { 0 };
	const char *kv[] = { "scope=tgids:30,10,20", "promote=off", "share=96M" };
	char buf[512], err[256];

	(void)state;
	assert_int_equal(hp_policies_attach(&ps, "batch", kv, 3, err, sizeof(err)), 0);
	attach_ok(&ps, "db", "scope=cgroup:/system.slice/db.service");
	assert_int_equal(hp_named_policy_share(hp_policies_find(&ps, "db"), 1000), UINT64_MAX);
	assert_false(hp_policies_have_share(
		&(struct hp_policies){ .n = 1, .p = { *hp_policies_find(&ps, "db") } }));
	assert_true(hp_policies_have_share(&ps));
	attach_ok(&ps, "prog", "bpf=/usr/lib/hotpage/policies/recency.bpf.o");
	hp_named_policy_show(hp_policies_find(&ps, "prog"), buf, sizeof(buf));
	assert_string_equal(buf, "name=prog\nscope=all\npromote=on\ndemote=on\nshare=none\n"
				 "bpf=/usr/lib/hotpage/policies/recency.bpf.o\n");
	assert_int_equal(hp_policies_detach(&ps, "prog", err, sizeof(err)), 0);
	assert_int_equal(ps.n, 2);
	hp_named_policy_show(hp_policies_find(&ps, "batch"), buf, sizeof(buf));
	assert_string_equal(
		buf, "name=batch\nscope=tgids:10,20,30\npromote=off\ndemote=on\nshare=96M\n");
	assert_int_equal(hp_named_policy_share(hp_policies_find(&ps, "batch"), 1000), 96 << 20);
	hp_named_policy_show(hp_policies_find(&ps, "db"), buf, sizeof(buf));
	assert_string_equal(
		buf,
		"name=db\nscope=cgroup:/system.slice/db.service\npromote=on\ndemote=on\nshare=none\n");

	assert_int_equal(hp_policies_detach(&ps, "batch", err, sizeof(err)), 0);
	assert_int_equal(ps.n, 1);
	assert_null(hp_policies_find(&ps, "batch"));
	assert_string_equal(ps.p[0].name, "db");
	assert_int_equal(hp_policies_detach(&ps, "batch", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no policy 'batch' is attached (attached: db)");
	assert_int_equal(hp_policies_detach(&ps, "db", err, sizeof(err)), 0);
	assert_int_equal(hp_policies_detach(&ps, "db", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no policy 'db' is attached (attached: none)");
}

/* share=: sizes read back as written, percentages of the fast tier. */
static void test_shares(void **state)
{
	static const struct {
		const char *kv, *shown;
		__u64 of_1g;
	} cases[] = {
		{ "share=none", "none", UINT64_MAX },
		{ "share=0", "0", 0 },
		{ "share=4096", "4K", 4096 },
		{ "share=1000", "1000", 1000 },
		{ "share=1536K", "1536K", 1536 << 10 },
		{ "share=2g", "2G", 2ULL << 30 },
		{ "share=25%", "25%", 1ULL << 28 },
		{ "share=100%", "100%", 1ULL << 30 },
		{ "share=33%", "33%", (1ULL << 30) * 33 / 100 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hp_policies ps = { 0 };
		char buf[32];

		attach_ok(&ps, "s", cases[i].kv);
		hp_named_policy_show_share(&ps.p[0], buf, sizeof(buf));
		assert_string_equal(buf, cases[i].shown);
		assert_int_equal(hp_named_policy_share(&ps.p[0], 1ULL << 30), cases[i].of_1g);
	}
}

static void test_refusals_leave_the_set_alone(void **state)
{
	static const struct {
		const char *name, *kv;
		int ret;
		const char *err;
	} cases[] = {
		{ "", NULL, -EINVAL, "policy name ''" },
		{ "Upper", NULL, -EINVAL, "policy name 'Upper'" },
		{ "-dash", NULL, -EINVAL, "policy name '-dash'" },
		{ "sp ace", NULL, -EINVAL, "policy name 'sp ace'" },
		{ "a23456789012345678901234567890123", NULL, -EINVAL, "policy name" },
		{ "x", "threshold=3", -EINVAL, "unknown key 'threshold' for a policy" },
		{ "x", "promote=maybe", -EINVAL, "promote=maybe: expected on or off" },
		{ "x", "demote=", -EINVAL, "demote=: expected on or off" },
		{ "x", "scope=tgids:", -EINVAL, "scope=tgids:" },
		{ "x", "scope=cgroup:../x", -EINVAL, "scope=cgroup:" },
		{ "x", "=on", -EINVAL, "'=on' is not key=value" },
		{ "x", "bpf=policy.bpf.o", -EINVAL,
		  "bpf=policy.bpf.o: expected the absolute path" },
		{ "x", "bpf=", -EINVAL, "bpf=: expected the absolute path" },
		{ "x", "promote", -EINVAL, "'promote' is not key=value" },
		{ "x", "share=", -EINVAL, "share=: expected none, a percentage" },
		{ "x", "share=101%", -EINVAL, "share=101%: a percentage must be 0..100%" },
		{ "x", "share=-5M", -EINVAL, "share=-5M: expected none" },
		{ "x", "share=5MB", -EINVAL, "share=5MB: expected none" },
		{ "x", "share=99999999999999999999", -EINVAL, "too large" },
		{ "x", "share=20000000T", -EINVAL, "too large" },
		{ "taken", NULL, -EEXIST, "policy 'taken' is attached already" },
	};
	struct hp_policies ps = { 0 }, before;
	char err[256];

	(void)state;
	attach_ok(&ps, "taken", "scope=tgids:1");
	before = ps;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[1] = { cases[i].kv };

		err[0] = '\0';
		assert_int_equal(hp_policies_attach(&ps, cases[i].name, args, cases[i].kv ? 1 : 0,
						    err, sizeof(err)),
				 cases[i].ret);
		if (!strstr(err, cases[i].err))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].err);
		assert_memory_equal(&ps, &before, sizeof(ps));
	}
	{
		char path[HP_POLICY_BPF_PATH_MAX + 8] = "bpf=/";
		const char *args[1] = { path };

		memset(path + 5, 'a', HP_POLICY_BPF_PATH_MAX - 1);
		assert_int_equal(hp_policies_attach(&ps, "x", args, 1, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "at most 511 bytes"));
		path[HP_POLICY_BPF_PATH_MAX + 3] = '\0'; /* 511 bytes of path */
		assert_int_equal(hp_policies_attach(&ps, "x", args, 1, err, sizeof(err)), 0);
	}
}

static void test_at_most_max(void **state)
{
	struct hp_policies ps = { 0 };
	char name[16], err[256];

	(void)state;
	for (int i = 0; i < HP_POLICIES_MAX; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		attach_ok(&ps, name, NULL);
	}
	assert_int_equal(hp_policies_attach(&ps, "one-more", NULL, 0, err, sizeof(err)), -ENOSPC);
	assert_int_equal(ps.n, HP_POLICIES_MAX);
	assert_int_equal(hp_policies_detach(&ps, "p3", err, sizeof(err)), 0);
	attach_ok(&ps, "one-more", NULL);
	assert_string_equal(ps.p[HP_POLICIES_MAX - 1].name, "one-more");
	assert_string_equal(ps.p[3].name, "p4");
}

static void test_most_specific_wins(void **state)
{
	struct hp_policies ps = { 0 };

	(void)state;
	assert_int_equal(hp_policies_match(&ps, 10, "/a"), -1); /* none attached: none covers */
	attach_ok(&ps, "everyone", "scope=all");
	attach_ok(&ps, "slice", "scope=cgroup:/system.slice");
	attach_ok(&ps, "db", "scope=cgroup:/system.slice/db.service");
	attach_ok(&ps, "pids", "scope=tgids:42,43");
	attach_ok(&ps, "everyone-too", "scope=all");
	assert_false(!hp_policies_need_cgroup(&ps));

	assert_int_equal(hp_policies_match(&ps, 42, "/system.slice/db.service"), 3);
	assert_int_equal(hp_policies_match(&ps, 7, "/system.slice/db.service/worker"), 2);
	assert_int_equal(hp_policies_match(&ps, 7, "/system.slice/web.service"), 1);
	assert_int_equal(hp_policies_match(&ps, 7, "/system.slice"), 1);
	assert_int_equal(hp_policies_match(&ps, 7, "/system.slicer"),
			 0); /* a prefix, not a parent */
	assert_int_equal(hp_policies_match(&ps, 7, NULL), 0); /* cgroup unknown: all only */
	assert_int_equal(hp_policies_match(&ps, 0, "/system.slice"), 0);

	/* Only scoped policies: a page of no one's is left alone. */
	ps.n = 0;
	attach_ok(&ps, "db", "scope=cgroup:/system.slice/db.service");
	attach_ok(&ps, "pids", "scope=tgids:42");
	assert_int_equal(hp_policies_match(&ps, 7, "/user.slice"), -1);
	assert_int_equal(hp_policies_match(&ps, 42, "/user.slice"), 1);
	ps.n = 0;
	attach_ok(&ps, "pids", "scope=tgids:42");
	assert_false(hp_policies_need_cgroup(&ps));
	attach_ok(&ps, "root", "scope=cgroup:/");
	assert_int_equal(hp_policies_match(&ps, 7, "/user.slice"), 1);
	assert_int_equal(hp_policies_match(&ps, 42, "/user.slice"), 0);
}

/* Random attach arguments: never a crash, a success or a refusal with its reason. */
static void test_fuzz_attach(void **state)
{
	static const char *const pieces[] = {
		"scope=", "promote=", "demote=", "tgids:",	 "cgroup:",
		"/",	  "all",      "on",	 "off",		 "1",
		"0",	  ",",	      "=",	 "..",		 "x",
		"",	  "\n",	      "\xff",	 "999999999999", "-1",
		"%s",	  "scope",    "a-b.c_d",
	};
	struct hp_policies ps = { 0 };
	unsigned int seed = 12345;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		char name[48] = "", kvs[3][96] = { "", "", "" }, err[256];
		const char *args[3] = { kvs[0], kvs[1], kvs[2] };
		size_t n = (size_t)(rand_r(&seed) % 4), before = ps.n;
		int ret;

		for (int k = rand_r(&seed) % 3; k >= 0; k--)
			strncat(name, pieces[rand_r(&seed) % (sizeof(pieces) / sizeof(pieces[0]))],
				sizeof(name) - strlen(name) - 1);
		for (size_t i = 0; i < 3; i++)
			for (int k = rand_r(&seed) % 4; k >= 0; k--)
				strncat(kvs[i],
					pieces[rand_r(&seed) %
					       (sizeof(pieces) / sizeof(pieces[0]))],
					sizeof(kvs[i]) - strlen(kvs[i]) - 1);
		err[0] = '\0';
		ret = hp_policies_attach(&ps, name, args, n > 3 ? 3 : n, err, sizeof(err));
		if (ret) {
			assert_true(ret == -EINVAL || ret == -EEXIST || ret == -ENOSPC);
			assert_true(err[0] != '\0');
			assert_int_equal(ps.n, before);
		} else {
			assert_int_equal(ps.n, before + 1);
			assert_non_null(hp_policies_find(&ps, name));
		}
		if (ps.n == HP_POLICIES_MAX)
			ps.n = 0;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_show_detach),
		cmocka_unit_test(test_shares),
		cmocka_unit_test(test_refusals_leave_the_set_alone),
		cmocka_unit_test(test_at_most_max),
		cmocka_unit_test(test_most_specific_wins),
		cmocka_unit_test(test_fuzz_attach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
