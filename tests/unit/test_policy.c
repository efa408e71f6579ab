// SPDX-License-Identifier: GPL-2.0
/* Promotion policy (user/promote/policy.c): defaults, every key, refusals, decisions. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "policy.h"
#include "topology.h"

static const char default_show[] = "threshold=6\n"
				   "window_ms=1000\n"
				   "min_idle=8\n"
				   "target=auto\n"
				   "rate_mbps=256\n"
				   "batch=256\n"
				   "scope=all\n"
				   "pingpong_ms=10000\n"
				   "headroom=auto\n";

static void test_defaults(void **state)
{
	struct hp_policy p;
	char buf[1024], err[256] = "";

	(void)state;
	hp_policy_defaults(&p);
	assert_int_equal(hp_policy_validate(&p, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(hp_policy_show(&p, buf, sizeof(buf)), (int)strlen(default_show));
	assert_string_equal(buf, default_show);
	assert_int_equal(hp_policy_rate_bytes(&p), 256ULL << 20);
	/* Every key is shown, in hp_policy_keys order. */
	{
		const char *at = buf;

		for (size_t i = 0; hp_policy_keys[i]; i++) {
			assert_int_equal(strncmp(at, hp_policy_keys[i], strlen(hp_policy_keys[i])),
					 0);
			at = strchr(at, '\n') + 1;
		}
		assert_string_equal(at, "");
	}
}

/* Field by field: the struct has padding. */
static void assert_policy_equal(const struct hp_policy *a, const struct hp_policy *b)
{
	assert_int_equal(a->threshold, b->threshold);
	assert_int_equal(a->window_ms, b->window_ms);
	assert_int_equal(a->target_node, b->target_node);
	assert_int_equal(a->rate_mbps, b->rate_mbps);
	assert_int_equal(a->batch, b->batch);
	assert_int_equal(a->pingpong_ms, b->pingpong_ms);
	assert_int_equal(a->min_idle, b->min_idle);
	assert_int_equal(a->headroom_auto, b->headroom_auto);
	assert_int_equal(a->headroom_pct, b->headroom_pct);
	assert_int_equal(a->headroom_bytes, b->headroom_bytes);
	assert_int_equal(a->scope, b->scope);
	assert_int_equal(a->nr_tgids, b->nr_tgids);
	assert_memory_equal(a->tgids, b->tgids, a->nr_tgids * sizeof(a->tgids[0]));
	assert_string_equal(a->cgroup, b->cgroup);
}

static struct hp_policy set_ok(const char *assignment)
{
	struct hp_policy p;
	char err[256] = "";

	hp_policy_defaults(&p);
	assert_int_equal(hp_policy_set(&p, assignment, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	return p;
}

static void test_every_key_parses(void **state)
{
	struct hp_policy p;

	(void)state;
	p = set_ok("threshold=7");
	assert_int_equal(p.threshold, 7);
	p = set_ok("threshold=8");
	assert_int_equal(p.threshold, 8);
	p = set_ok("min_idle=1");
	assert_int_equal(p.min_idle, 1);
	p = set_ok("min_idle=255");
	assert_int_equal(p.min_idle, 255);
	p = set_ok("window_ms=250");
	assert_int_equal(p.window_ms, 250);
	p = set_ok("target=1");
	assert_int_equal(p.target_node, 1);
	p = set_ok("target=auto");
	assert_int_equal(p.target_node, HP_POLICY_TARGET_AUTO);
	p = set_ok("rate_mbps=0");
	assert_int_equal(p.rate_mbps, 0);
	assert_int_equal(hp_policy_rate_bytes(&p), 0);
	p = set_ok("rate_mbps=1000");
	assert_int_equal(hp_policy_rate_bytes(&p), 1000ULL << 20);
	p = set_ok("batch=1024");
	assert_int_equal(p.batch, 1024);
	p = set_ok("batch=1");
	assert_int_equal(p.batch, 1);
	p = set_ok("scope=tgids:30,10,20,10");
	assert_int_equal(p.scope, HP_SCOPE_TGIDS);
	assert_int_equal(p.nr_tgids, 3);
	assert_int_equal(p.tgids[0], 10);
	assert_int_equal(p.tgids[1], 20);
	assert_int_equal(p.tgids[2], 30);
	p = set_ok("scope=cgroup:/system.slice/db.service/");
	assert_int_equal(p.scope, HP_SCOPE_CGROUP);
	assert_string_equal(p.cgroup, "/system.slice/db.service");
	p = set_ok("scope=cgroup:/");
	assert_string_equal(p.cgroup, "/");
	p = set_ok("scope=all");
	assert_int_equal(p.scope, HP_SCOPE_ALL);
	p = set_ok("pingpong_ms=0");
	assert_int_equal(p.pingpong_ms, 0);
	p = set_ok("pingpong_ms=60000");
	assert_int_equal(p.pingpong_ms, 60000);
	p = set_ok("headroom=auto");
	assert_true(p.headroom_auto);
	/* auto is the node's promotion watermark */
	assert_int_equal(hp_policy_headroom(&p, 100ULL << 30, 77ULL << 20), 77ULL << 20);
	p = set_ok("headroom=10%");
	assert_false(p.headroom_auto);
	assert_int_equal(p.headroom_pct, 10);
	assert_int_equal(hp_policy_headroom(&p, 100ULL << 30, 77ULL << 20), 10ULL << 30);
	p = set_ok("headroom=512M");
	assert_int_equal(p.headroom_pct, 0);
	assert_int_equal(p.headroom_bytes, 512ULL << 20);
	assert_int_equal(hp_policy_headroom(&p, 100ULL << 30, 77ULL << 20), 512ULL << 20);
	p = set_ok("headroom=2g");
	assert_int_equal(p.headroom_bytes, 2ULL << 30);
	p = set_ok("headroom=4096");
	assert_int_equal(p.headroom_bytes, 4096);
	p = set_ok("headroom=0%");
	assert_int_equal(hp_policy_headroom(&p, 100ULL << 30, 77ULL << 20), 0);
	/* The older name sets the same thing, and is shown as headroom. */
	p = set_ok("min_free=5%");
	assert_int_equal(p.headroom_pct, 5);
	assert_false(p.headroom_auto);
}

/* A bad assignment is refused with a message that names it; nothing changes. */
static void test_bad_values_refused(void **state)
{
	static const struct {
		const char *assignment;
		const char *message; /* a part of the message */
	} bad[] = {
		{ "threshold=0",
		  "threshold=0: out of range: must be 1..8 windows with an access, of the last 8" },
		{ "threshold=9", "threshold=9: out of range" },
		{ "min_idle=0",
		  "min_idle=0: out of range: must be 1..255 windows without an access" },
		{ "min_idle=256", "min_idle=256: out of range" },
		{ "threshold=abc", "threshold=abc: not a whole number" },
		{ "threshold=", "threshold=: not a whole number" },
		{ "threshold=-1", "threshold=-1: not a whole number" },
		{ "window_ms=5", "window_ms=5: out of range: must be 10..3600000 milliseconds" },
		{ "window_ms=3600001", "window_ms=3600001: out of range" },
		{ "target=64", "target=64: out of range: must be 0..63 (a node, or auto)" },
		{ "target=-1", "target=-1: not a whole number (a node, or auto)" },
		{ "target=near", "target=near: not a whole number" },
		{ "rate_mbps=2000000", "rate_mbps=2000000: out of range: must be 0..1048576" },
		{ "batch=0", "batch=0: out of range: must be 1..1024 pages" },
		{ "batch=1025", "batch=1025: out of range" },
		{ "scope=tgids:", "scope=tgids:: expected process ids separated by ','" },
		{ "scope=tgids:1,x", "scope=tgids:1,x: 'x' is not a process id" },
		{ "scope=tgids:0", "'0' is not a process id" },
		{ "scope=cgroup:system.slice", "expected a cgroup v2 path from its root" },
		{ "scope=cgroup:/a/../b", "'..', ',' and newlines are not allowed" },
		{ "scope=some", "scope=some: expected all, tgids:PID,PID,... or cgroup:/PATH" },
		{ "pingpong_ms=86400001", "pingpong_ms=86400001: out of range" },
		{ "headroom=101%", "headroom=101%: a percentage must be 0..100%" },
		{ "headroom=12X", "headroom=12X: expected auto, a percentage (5%) or a size" },
		{ "headroom=", "headroom=: expected auto, a percentage" },
		{ "headroom=1GB", "headroom=1GB: expected" },
		{ "headroom=99999999999T", "headroom=99999999999T: too large" },
		{ "min_free=101%", "min_free=101%: a percentage must be 0..100%" },
		{ "speed=1", "unknown key 'speed' (keys: threshold, window_ms," },
		{ "threshold", "expected key=value, got 'threshold'" },
		{ "=5", "expected key=value, got '=5'" },
	};
	struct hp_policy p, before;

	(void)state;
	hp_policy_defaults(&p);
	assert_int_equal(hp_policy_set(&p, "scope=tgids:5,6", NULL, 0), 0);
	assert_int_equal(hp_policy_set(&p, "headroom=1G", NULL, 0), 0);
	before = p;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";

		assert_int_equal(hp_policy_set(&p, bad[i].assignment, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].message))
			fail_msg("'%s': message '%s' lacks '%s'", bad[i].assignment, err,
				 bad[i].message);
		assert_policy_equal(&p, &before);
	}
}

static void test_too_many_tgids(void **state)
{
	char assignment[HP_POLICY_TGIDS_MAX * 8 + 32], err[256] = "";
	size_t len = 0;
	struct hp_policy p;

	(void)state;
	hp_policy_defaults(&p);
	len += (size_t)snprintf(assignment, sizeof(assignment), "scope=tgids:");
	for (int i = 1; i <= HP_POLICY_TGIDS_MAX + 1; i++)
		len += (size_t)snprintf(assignment + len, sizeof(assignment) - len, "%s%d",
					i > 1 ? "," : "", i);
	assert_int_equal(hp_policy_set(&p, assignment, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than 256 processes"));
	assert_int_equal(p.scope, HP_SCOPE_ALL);
}

/* Several settings apply together or not at all. */
static void test_apply_all_or_nothing(void **state)
{
	const char *const good[] = { "threshold=7", "batch=64", "target=0" };
	const char *const mixed[] = { "threshold=3", "batch=0" };
	struct hp_policy p;
	char err[256] = "";

	(void)state;
	hp_policy_defaults(&p);
	assert_int_equal(hp_policy_apply(&p, good, 3, err, sizeof(err)), 0);
	assert_int_equal(p.threshold, 7);
	assert_int_equal(p.batch, 64);
	assert_int_equal(p.target_node, 0);
	assert_int_equal(hp_policy_apply(&p, mixed, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "batch=0"));
	assert_int_equal(p.threshold, 7); /* not 3 */
	assert_int_equal(p.batch, 64);
}

/* What show prints, set reads back to the same policy. */
static void test_show_round_trip(void **state)
{
	const char *const settings[] = {
		"threshold=5",	      "window_ms=2500",	 "target=3",	"rate_mbps=0", "batch=17",
		"scope=tgids:9,4,77", "pingpong_ms=123", "headroom=3G", "min_idle=20",
	};
	struct hp_policy p, q;
	char buf[2048];

	(void)state;
	for (int variant = 0; variant < 2; variant++) {
		hp_policy_defaults(&p);
		assert_int_equal(hp_policy_apply(&p, settings, 9, NULL, 0), 0);
		if (variant)
			assert_int_equal(hp_policy_set(&p, "scope=cgroup:/work/batch", NULL, 0), 0);
		assert_true(hp_policy_show(&p, buf, sizeof(buf)) < (int)sizeof(buf));
		hp_policy_defaults(&q);
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
			assert_int_equal(hp_policy_set(&q, line, NULL, 0), 0);
		assert_policy_equal(&p, &q);
	}
	/* Truncation is reported as snprintf does. */
	hp_policy_defaults(&p);
	assert_int_equal(hp_policy_show(&p, buf, 10), (int)strlen(default_show));
	assert_string_equal(buf, "threshold");
}

/* A policy edited as a struct is checked whole before it is used. */
static void test_validate_struct(void **state)
{
	struct hp_policy p;
	char err[256];

	(void)state;
	hp_policy_defaults(&p);
	p.batch = 0;
	assert_int_equal(hp_policy_validate(&p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "batch=0: out of range: must be 1..1024 pages");
	hp_policy_defaults(&p);
	p.scope = HP_SCOPE_TGIDS;
	assert_int_equal(hp_policy_validate(&p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "scope=tgids: needs 1..256 process ids"));
	hp_policy_defaults(&p);
	p.scope = HP_SCOPE_CGROUP;
	assert_int_equal(hp_policy_validate(&p, err, sizeof(err)), -EINVAL);
	hp_policy_defaults(&p);
	p.target_node = 64;
	assert_int_equal(hp_policy_validate(&p, err, sizeof(err)), -EINVAL);
	hp_policy_defaults(&p);
	p.headroom_pct = 101;
	assert_int_equal(hp_policy_validate(&p, err, sizeof(err)), -EINVAL);
	hp_policy_defaults(&p);
	p.min_idle = 0;
	assert_int_equal(hp_policy_validate(&p, err, sizeof(err)), -EINVAL);
	hp_policy_defaults(&p);
	p.threshold = 9;
	assert_int_equal(hp_policy_validate(&p, err, sizeof(err)), -EINVAL);
	hp_policy_defaults(&p);
	p.window_ms = 0;
	assert_int_equal(hp_policy_validate(&p, err, sizeof(err)), -EINVAL);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Node 0: CPUs, tier 4; node 1: CPUs, tier 4; node 2: memory only, tier 22, near node 1. */
static void three_node_topology(struct hp_topology *topo)
{
	static const __u8 distance[3][3] = { { 10, 21, 24 }, { 21, 10, 14 }, { 24, 14, 10 } };

	memset(topo, 0, sizeof(*topo));
	topo->online = topo->memory = 0x7;
	topo->cpu = 0x3;
	topo->top_tier = 0x3;
	topo->tiers_known = true;
	topo->nr_tiers = 2;
	for (int n = 0; n < HP_TOPO_MAX_NODES; n++)
		topo->tier[n] = HP_TOPO_NO_TIER;
	topo->tier[0] = topo->tier[1] = 4;
	topo->tier[2] = 22;
	for (int a = 0; a < 3; a++)
		for (int b = 0; b < 3; b++)
			topo->distance[a][b] = distance[a][b];
}

static void test_target_and_exclusions(void **state)
{
	struct hp_topology topo;
	struct hp_policy p;

	(void)state;
	three_node_topology(&topo);
	hp_policy_defaults(&p);
	/* auto: towards the accessing node's nearest top tier. */
	assert_int_equal(hp_policy_target_for(&p, &topo, 0, 2), 0);
	assert_int_equal(hp_policy_target_for(&p, &topo, 1, 2), 1);
	/* unknown accessor: nearest to where the page is. */
	assert_int_equal(hp_policy_target_for(&p, &topo, -1, 2), 1);
	assert_int_equal(hp_policy_target_for(&p, &topo, 9, 2), 1);
	/* top tier pages stay; unknown page node stays. */
	assert_true(hp_policy_target_for(&p, &topo, 0, 1) < 0);
	assert_true(hp_policy_target_for(&p, &topo, 0, -1) < 0);
	assert_int_equal(hp_policy_exclude_nodes(&p, &topo), 0x3);

	/* An explicit target: every page elsewhere goes there. */
	assert_int_equal(hp_policy_set(&p, "target=1", NULL, 0), 0);
	assert_int_equal(hp_policy_target_for(&p, &topo, 0, 2), 1);
	assert_int_equal(hp_policy_target_for(&p, &topo, 0, 0), 1);
	assert_true(hp_policy_target_for(&p, &topo, 0, 1) < 0);
	assert_int_equal(hp_policy_exclude_nodes(&p, &topo), 0x2);
	/* ... if it has memory. */
	assert_int_equal(hp_policy_set(&p, "target=5", NULL, 0), 0);
	assert_int_equal(hp_policy_target_for(&p, &topo, 0, 2), -ENODEV);
}

/*
 * Room on a node: MemFree above the headroom, from meminfo, and the
 * promotion watermarks from zoneinfo (a fake tree).
 */
static void test_room_above_headroom(void **state)
{
	char root[] = "/tmp/hp-sys-XXXXXX", path[PATH_MAX];
	struct hp_topology topo;
	struct hp_policy p;
	__s64 room = 1;
	__u64 headroom = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(root));
	three_node_topology(&topo);
	snprintf(topo.root, sizeof(topo.root), "%s", root);
	snprintf(path, sizeof(path), "%s/devices", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/devices/system", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/devices/system/node", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/devices/system/node/node0", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/devices/system/node/node0/meminfo", root);
	f = fopen(path, "w");
	assert_non_null(f);
	/* 10 GiB, 1 GiB free. */
	fputs("Node 0 MemTotal:       10485760 kB\nNode 0 MemFree:         1048576 kB\n", f);
	fclose(f);

	/*
	 * Two zones of node 0, with and without a promo line, the first with a
	 * lowmem reserve, the second below its watermark; node 1 has one.
	 */
	snprintf(path, sizeof(path), "%s/zoneinfo", root);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("Node 0, zone      DMA\n  pages free     3840\n        boost    0\n"
	      "        min      10\n        low      12\n        high     14\n"
	      "        promo    16\n        spanned  4095\n        managed  3840\n"
	      "        protection: (0, 991, 1000, 991, 991)\n  pagesets\n    cpu: 0\n"
	      "              count: 0\n              high:  0\n"
	      "Node 0, zone   Normal\n  pages free     100\n        min      1000\n"
	      "        low      1250\n        high     1500\n        managed  50000\n"
	      "        protection: (0, 0, 0, 0, 0)\n"
	      "Node 0, zone  Movable\n  pages free     0\n        min      32\n"
	      "        promo    32\n        managed  0\n"
	      "Node 1, zone   Normal\n        min      7\n        low      8\n"
	      "        high     9\n        promo    10\n        managed  100\n",
	      f);
	fclose(f);
	{
		struct hp_node_zones z;
		__s64 page = sysconf(_SC_PAGESIZE);

		assert_int_equal(hp_topology_node_zones(&topo, 0, &z), 0);
		/*
		 * The highest populated zone counts (Movable has no pages):
		 * Normal, 100 free against 1750 (high + (high - low)) and one
		 * more gap of 250. DMA's free pages are not room: allocations
		 * drain Normal first.
		 */
		assert_int_equal(z.room, (100 - 2000) * page);
		assert_int_equal(z.promo, 2000 * page);
		assert_int_equal(z.reserve, 0);
		assert_int_equal(z.free, 100 * page);
		assert_int_equal(hp_topology_node_zones(&topo, 2, &z), -ENODATA);
		assert_int_equal(hp_topology_node_zones(&topo, 1, &z), 0);
		assert_int_equal(z.promo, (10 + 1) * page);

		hp_policy_defaults(&p); /* auto: the highest zone */
		assert_int_equal(hp_policy_room(&p, &topo, 0, &room, &headroom), 0);
		assert_int_equal(headroom, 2000 * page);
		assert_int_equal(room, (100 - 2000) * page);
	}
	assert_int_equal(hp_policy_set(&p, "headroom=5%", NULL, 0), 0);
	assert_int_equal(hp_policy_room(&p, &topo, 0, &room, &headroom), 0);
	assert_int_equal(room, 512LL << 20);
	assert_int_equal(hp_policy_set(&p, "headroom=2G", NULL, 0), 0);
	assert_int_equal(hp_policy_room(&p, &topo, 0, &room, &headroom), 0);
	assert_int_equal(room, -(1LL << 30)); /* below: what demotion should free */
	assert_int_equal(hp_policy_set(&p, "min_free=0", NULL, 0), 0);
	assert_int_equal(hp_policy_room(&p, &topo, 0, &room, &headroom), 0);
	assert_int_equal(room, 1LL << 30);
	assert_int_equal(hp_policy_room(&p, &topo, 1, &room, &headroom), -ENOENT); /* no meminfo */
	assert_int_equal(nftw(root, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static void put(const char *root, int tgid, const char *content)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d", root, tgid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/cgroup", root, tgid);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void test_scope(void **state)
{
	char proc[] = "/tmp/hp-proc-XXXXXX";
	struct hp_policy p;

	(void)state;
	assert_non_null(mkdtemp(proc));
	put(proc, 100, "0::/system.slice/db.service/worker\n");
	put(proc, 101, "0::/system.slice/db\n");
	/* cgroup v1 lines first, as on hybrid hosts. */
	put(proc, 102, "4:memory:/x\n1:cpu:/\n0::/system.slice/db.service\n");

	hp_policy_defaults(&p);
	assert_true(hp_policy_scope_admits(&p, 100, proc));
	assert_true(hp_policy_scope_admits(&p, 99999, proc));

	assert_int_equal(hp_policy_set(&p, "scope=tgids:101,7", NULL, 0), 0);
	assert_true(hp_policy_scope_admits(&p, 7, proc));
	assert_true(hp_policy_scope_admits(&p, 101, proc));
	assert_false(hp_policy_scope_admits(&p, 100, proc));

	assert_int_equal(hp_policy_set(&p, "scope=cgroup:/system.slice/db.service", NULL, 0), 0);
	assert_true(hp_policy_scope_admits(&p, 100, proc)); /* a subgroup */
	assert_true(hp_policy_scope_admits(&p, 102, proc));
	assert_false(hp_policy_scope_admits(&p, 101, proc)); /* a prefix, not a parent */
	assert_false(hp_policy_scope_admits(&p, 103, proc)); /* gone */
	assert_false(hp_policy_scope_admits(&p, 0, proc));
	assert_int_equal(hp_policy_set(&p, "scope=cgroup:/", NULL, 0), 0);
	assert_true(hp_policy_scope_admits(&p, 101, proc));

	assert_int_equal(nftw(proc, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key_parses),
		cmocka_unit_test(test_bad_values_refused),
		cmocka_unit_test(test_too_many_tgids),
		cmocka_unit_test(test_apply_all_or_nothing),
		cmocka_unit_test(test_show_round_trip),
		cmocka_unit_test(test_validate_struct),
		cmocka_unit_test(test_target_and_exclusions),
		cmocka_unit_test(test_room_above_headroom),
		cmocka_unit_test(test_scope),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
