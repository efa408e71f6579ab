// SPDX-License-Identifier: GPL-2.0
/* Memory topology from fake sysfs trees (user/lib/topology.c). */
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
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "topology.h"

/* A fake sysfs root in a temporary directory, removed after each test. */
struct tree {
	char root[64];
};

static void mkdirs(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	mkdir(buf, 0755);
}

static void put(struct tree *t, const char *rel, const char *content)
{
	char path[PATH_MAX], dir[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

/* One node: nodeN/{cpulist,distance,meminfo}. */
static void put_node(struct tree *t, int node, const char *cpulist, const char *distance,
		     unsigned long long total_kb, unsigned long long free_kb)
{
	char rel[128], meminfo[512];

	snprintf(rel, sizeof(rel), "devices/system/node/node%d/cpulist", node);
	put(t, rel, cpulist);
	snprintf(rel, sizeof(rel), "devices/system/node/node%d/distance", node);
	put(t, rel, distance);
	snprintf(meminfo, sizeof(meminfo),
		 "Node %d MemTotal:       %llu kB\nNode %d MemFree:        %llu kB\n"
		 "Node %d MemUsed:        %llu kB\n",
		 node, total_kb, node, free_kb, node, total_kb - free_kb);
	snprintf(rel, sizeof(rel), "devices/system/node/node%d/meminfo", node);
	put(t, rel, meminfo);
}

static void put_tier(struct tree *t, int tier, const char *nodes)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "devices/virtual/memory_tiering/memory_tier%d/nodelist", tier);
	put(t, rel, nodes);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->root, sizeof(t->root), "/tmp/hp-topo-XXXXXX");
	assert_non_null(mkdtemp(t->root));
	*state = t;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct tree *t = *state;

	assert_int_equal(nftw(t->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(t);
	return 0;
}

static void read_ok(struct tree *t, struct hp_topology *topo)
{
	char err[256] = "";

	assert_int_equal(hp_topology_read(t->root, topo, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static void test_parse_list(void **state)
{
	unsigned int count;
	__u64 mask;

	(void)state;
	assert_int_equal(hp_topo_parse_list("0-3,8,10-11\n", &mask, &count), 0);
	assert_int_equal(mask, 0xd0f);
	assert_int_equal(count, 7);
	assert_int_equal(hp_topo_parse_list("", &mask, &count), 0);
	assert_int_equal(mask, 0);
	assert_int_equal(count, 0);
	assert_int_equal(hp_topo_parse_list("\n", &mask, &count), 0);
	assert_int_equal(count, 0);
	/* CPUs go past 63: counted without a mask. */
	assert_int_equal(hp_topo_parse_list("0-127,200", NULL, &count), 0);
	assert_int_equal(count, 129);
	assert_int_equal(hp_topo_parse_list("64", &mask, NULL), -ERANGE);
	assert_int_equal(hp_topo_parse_list("3-1", &mask, NULL), -EINVAL);
	assert_int_equal(hp_topo_parse_list("1,,2", &mask, NULL), -EINVAL);
	assert_int_equal(hp_topo_parse_list("a", &mask, NULL), -EINVAL);
	assert_int_equal(hp_topo_parse_list("1-", &mask, NULL), -EINVAL);
	assert_int_equal(hp_topo_parse_list("1 2", &mask, NULL), -EINVAL);
}

static void test_format_list(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(hp_topo_format_list(0xd0f, buf, sizeof(buf)), "0-3,8,10-11");
	assert_string_equal(hp_topo_format_list(0, buf, sizeof(buf)), "");
	assert_string_equal(hp_topo_format_list(1ULL << 63, buf, sizeof(buf)), "63");
}

/* DRAM node 0 with the CPUs in tier 4, CXL-like node 1 in tier 22. */
static void test_two_nodes_two_tiers(void **state)
{
	struct tree *t = *state;
	struct hp_topology topo;
	__u64 free_bytes = 0, total = 0;
	char why[256] = "";

	put(t, "devices/system/node/online", "0-1\n");
	put(t, "devices/system/node/has_memory", "0-1\n");
	put_node(t, 0, "0-3\n", "10 20\n", 8388608, 1048576);
	put_node(t, 1, "\n", "20 10\n", 4194304, 4000000);
	put_tier(t, 4, "0\n");
	put_tier(t, 22, "1\n");
	read_ok(t, &topo);

	assert_int_equal(topo.online, 0x3);
	assert_int_equal(topo.memory, 0x3);
	assert_int_equal(topo.cpu, 0x1);
	assert_int_equal(topo.nr_cpus[0], 4);
	assert_int_equal(topo.nr_cpus[1], 0);
	assert_int_equal(topo.nr_tiers, 2);
	assert_int_equal(topo.tier[0], 4);
	assert_int_equal(topo.tier[1], 22);
	assert_int_equal(topo.distance[0][1], 20);
	assert_int_equal(topo.distance[1][1], 10);
	assert_int_equal(topo.top_tier, 0x1);

	assert_true(hp_topology_is_top_tier(&topo, 0));
	assert_false(hp_topology_is_top_tier(&topo, 1));
	assert_true(hp_topology_is_lower_tier(&topo, 1, 0));
	assert_false(hp_topology_is_lower_tier(&topo, 0, 1));
	assert_false(hp_topology_is_lower_tier(&topo, 0, 0));
	assert_int_equal(hp_topology_nearest_top_tier(&topo, 1), 0);
	assert_int_equal(hp_topology_nearest_top_tier(&topo, 0), 0);
	assert_int_equal(hp_topology_nearest_top_tier(&topo, 2), -EINVAL);
	assert_int_equal(hp_topology_nearest_top_tier(&topo, -1), -EINVAL);
	assert_true(hp_topology_can_promote(&topo, why, sizeof(why)));
	assert_string_equal(why, "");

	assert_int_equal(hp_topology_node_memory(&topo, 1, &free_bytes, &total), 0);
	assert_int_equal(free_bytes, 4000000ULL << 10);
	assert_int_equal(total, 4194304ULL << 10);
	/* Read when asked, not cached. */
	put_node(t, 1, "\n", "20 10\n", 4194304, 10);
	assert_int_equal(hp_topology_node_memory(&topo, 1, &free_bytes, &total), 0);
	assert_int_equal(free_bytes, 10 << 10);
	assert_int_equal(hp_topology_node_memory(&topo, 5, &free_bytes, &total), -EINVAL);
}

/* One node: everything is top tier, and the API says there is nothing to do. */
static void test_single_node(void **state)
{
	struct tree *t = *state;
	struct hp_topology topo;
	char why[256] = "";

	put(t, "devices/system/node/online", "0\n");
	put(t, "devices/system/node/has_memory", "0\n");
	put_node(t, 0, "0-1\n", "10\n", 5334816, 4685536);
	put_tier(t, 4, "0\n");
	read_ok(t, &topo);

	assert_int_equal(topo.top_tier, 0x1);
	assert_true(hp_topology_is_top_tier(&topo, 0));
	assert_int_equal(hp_topology_nearest_top_tier(&topo, 0), 0);
	assert_int_equal(hp_topology_nearest_top_tier(&topo, 1), -EINVAL);
	assert_false(hp_topology_can_promote(&topo, why, sizeof(why)));
	assert_string_equal(
		why,
		"one memory tier (memory_tier4: nodes 0): all memory is top tier, nothing to promote");
}

/*
 * Three nodes: 0 and 1 have CPUs (tier 4), 2 is memory-only (tier 22),
 * attached next to node 1.
 */
static void test_three_nodes_nearest(void **state)
{
	struct tree *t = *state;
	struct hp_topology topo;

	put(t, "devices/system/node/online", "0-2\n");
	put(t, "devices/system/node/has_memory", "0-2\n");
	put_node(t, 0, "0-1\n", "10 21 24\n", 1 << 20, 1 << 19);
	put_node(t, 1, "2-3\n", "21 10 14\n", 1 << 20, 1 << 19);
	put_node(t, 2, "\n", "24 14 10\n", 1 << 20, 1 << 19);
	put_tier(t, 4, "0-1\n");
	put_tier(t, 22, "2\n");
	read_ok(t, &topo);

	assert_int_equal(topo.top_tier, 0x3);
	assert_int_equal(hp_topology_nearest_top_tier(&topo, 2), 1);
	assert_int_equal(hp_topology_nearest_top_tier(&topo, 0), 0);
	assert_int_equal(hp_topology_nearest_top_tier(&topo, 1), 1);
	assert_true(hp_topology_is_lower_tier(&topo, 2, 1));

	/* Equal distances: the lower node id. */
	put_node(t, 2, "\n", "14 14 10\n", 1 << 20, 1 << 19);
	read_ok(t, &topo);
	assert_int_equal(hp_topology_nearest_top_tier(&topo, 2), 0);
}

/* A CPU-only node (no memory) maps to the nearest top-tier memory. */
static void test_cpu_only_node(void **state)
{
	struct tree *t = *state;
	struct hp_topology topo;

	put(t, "devices/system/node/online", "0-2\n");
	put(t, "devices/system/node/has_memory", "1-2\n");
	put_node(t, 0, "0-7\n", "10 12 30\n", 0, 0);
	put_node(t, 1, "8-15\n", "12 10 30\n", 1 << 20, 1 << 19);
	put_node(t, 2, "\n", "30 30 10\n", 1 << 20, 1 << 19);
	put_tier(t, 4, "1\n");
	put_tier(t, 22, "2\n");
	read_ok(t, &topo);

	assert_int_equal(topo.memory, 0x6);
	assert_int_equal(topo.top_tier, 0x2);
	assert_false(hp_topology_has_memory(&topo, 0));
	assert_int_equal(hp_topology_nearest_top_tier(&topo, 0), 1);
	assert_int_equal(hp_topology_nearest_top_tier(&topo, 2), 1);
}

/* Offline node ids: distances list online nodes only, in order. */
static void test_distances_skip_offline_nodes(void **state)
{
	struct tree *t = *state;
	struct hp_topology topo;

	put(t, "devices/system/node/online", "0,2\n");
	put(t, "devices/system/node/has_memory", "0,2\n");
	put_node(t, 0, "0\n", "10 30\n", 1 << 20, 1 << 19);
	put_node(t, 2, "\n", "30 10\n", 1 << 20, 1 << 19);
	put_tier(t, 4, "0\n");
	put_tier(t, 27, "2\n");
	read_ok(t, &topo);

	assert_int_equal(topo.distance[0][2], 30);
	assert_int_equal(topo.distance[0][1], 0);
	assert_int_equal(topo.distance[2][0], 30);
	assert_int_equal(hp_topology_nearest_top_tier(&topo, 2), 0);
}

/* The kernel's rule: tiers faster than the slowest CPU tier are top tier too. */
static void test_faster_memory_only_tier_is_top(void **state)
{
	struct tree *t = *state;
	struct hp_topology topo;
	char why[256];

	put(t, "devices/system/node/online", "0-1\n");
	put(t, "devices/system/node/has_memory", "0-1\n");
	put_node(t, 0, "0-3\n", "10 20\n", 1 << 20, 1 << 19);
	put_node(t, 1, "\n", "20 10\n", 1 << 20, 1 << 19); /* HBM-like: faster, no CPU */
	put_tier(t, 2, "1\n");
	put_tier(t, 4, "0\n");
	read_ok(t, &topo);

	assert_int_equal(topo.top_tier, 0x3);
	assert_false(hp_topology_can_promote(&topo, why, sizeof(why)));
	assert_non_null(strstr(why, "top tiers: nothing to promote"));
	assert_true(hp_topology_is_lower_tier(&topo, 0, 1));
}

/* Two memory nodes, one tier (a plain NUMA guest): nothing to promote. */
static void test_two_nodes_one_tier(void **state)
{
	struct tree *t = *state;
	struct hp_topology topo;
	char why[256];

	put(t, "devices/system/node/online", "0-1\n");
	put(t, "devices/system/node/has_memory", "0-1\n");
	put_node(t, 0, "0-1\n", "10 20\n", 1 << 20, 1 << 19);
	put_node(t, 1, "\n", "20 10\n", 1 << 20, 1 << 19);
	put_tier(t, 4, "0-1\n");
	read_ok(t, &topo);
	assert_int_equal(topo.top_tier, 0x3);
	assert_false(hp_topology_can_promote(&topo, why, sizeof(why)));
	assert_string_equal(
		why,
		"one memory tier (memory_tier4: nodes 0-1): all memory is top tier, nothing to promote");
	assert_int_equal(hp_topology_nearest_top_tier(&topo, 1), 1);
}

/* No memory_tiering directory: one tier, the kernel's default, said so. */
static void test_no_tiering_in_sysfs(void **state)
{
	struct tree *t = *state;
	struct hp_topology topo;
	char why[256];

	put(t, "devices/system/node/online", "0-1\n");
	put(t, "devices/system/node/has_memory", "0-1\n");
	put_node(t, 0, "0-1\n", "10 20\n", 1 << 20, 1 << 19);
	put_node(t, 1, "\n", "20 10\n", 1 << 20, 1 << 19);
	read_ok(t, &topo);
	assert_false(topo.tiers_known);
	assert_int_equal(topo.nr_tiers, 1);
	assert_int_equal(topo.top_tier, 0x3);
	assert_false(hp_topology_is_lower_tier(&topo, 1, 0));
	assert_false(hp_topology_can_promote(&topo, why, sizeof(why)));
	assert_non_null(strstr(why, "no memory tiers in sysfs"));
}

static void test_errors_name_the_file(void **state)
{
	struct tree *t = *state;
	struct hp_topology topo;
	char err[512] = "";

	assert_int_equal(hp_topology_read(t->root, &topo, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "devices/system/node/online"));
	assert_non_null(strstr(err, "without NUMA"));

	put(t, "devices/system/node/online", "0-1\n");
	put(t, "devices/system/node/has_memory", "zero\n");
	assert_int_equal(hp_topology_read(t->root, &topo, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "has_memory: cannot read node list 'zero'"));

	put(t, "devices/system/node/has_memory", "0-1\n");
	put_node(t, 0, "0\n", "10 twenty\n", 1 << 20, 1 << 19);
	put_node(t, 1, "\n", "20 10\n", 1 << 20, 1 << 19);
	assert_int_equal(hp_topology_read(t->root, &topo, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "node0/distance: bad distance list"));

	put_node(t, 0, "0\n", "10 20\n", 1 << 20, 1 << 19);
	put(t, "devices/system/node/online", "0-1,64\n");
	assert_int_equal(hp_topology_read(t->root, &topo, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "nodes past 63"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_list),
		cmocka_unit_test(test_format_list),
		cmocka_unit_test_setup_teardown(test_two_nodes_two_tiers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_single_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_three_nodes_nearest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpu_only_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_distances_skip_offline_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faster_memory_only_tier_is_top, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_two_nodes_one_tier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_tiering_in_sysfs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_name_the_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
