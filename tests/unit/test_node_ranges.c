// SPDX-License-Identifier: GPL-2.0
/* Node physical ranges from sysfs memory blocks (user/lib/node_ranges.c), on a fake sysfs tree. */
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

#include "node_ranges.h"

#define MiB (1024ULL * 1024)

static void test_block_size(void **state)
{
	static const char *const bad[] = { "", "\n", "zz", "3000", "0", "-8000000", "8000000 x" };
	__u64 v = 0;

	(void)state;
	assert_int_equal(hp_parse_block_size("8000000\n", &v), 0);
	assert_true(v == 128 * MiB);
	assert_int_equal(hp_parse_block_size("0x8000000", &v), 0);
	assert_true(v == 128 * MiB);
	assert_int_equal(hp_parse_block_size("80000000", &v), 0);
	assert_true(v == 2048 * MiB);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hp_parse_block_size(bad[i], &v), -EINVAL);
}

static void test_memory_block_names(void **state)
{
	static const char *const bad[] = { "memory",  "memory_failure", "memoryX", "memory1x",
					   "mem1",    "node0",		"",	   ".",
					   "memory-1" };
	__u64 index = 7;

	(void)state;
	assert_int_equal(hp_parse_memory_block_name("memory0", &index), 0);
	assert_true(index == 0);
	assert_int_equal(hp_parse_memory_block_name("memory42", &index), 0);
	assert_true(index == 42);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hp_parse_memory_block_name(bad[i], &index), -EINVAL);
}

static void test_node_lists(void **state)
{
	static const struct {
		const char *text;
		__u64 mask;
	} good[] = {
		{ "0", 0x1 },	{ "1", 0x2 },	   { "0-1", 0x3 }, { "0:2", 0x5 },
		{ "0,3", 0x9 }, { "1-3:5", 0x2e }, { "all", 0 },   { "63", 1ULL << 63 },
	};
	static const char *const bad[] = { "", "x", "1-0", "64", "1:", ":1", "1--2", "-1", "1 2" };
	__u64 mask;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		mask = 0xdead;
		assert_int_equal(hp_parse_nodes(good[i].text, &mask), 0);
		assert_true(mask == good[i].mask);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hp_parse_nodes(bad[i], &mask), -EINVAL);
}

static void test_normalize_merges_per_node(void **state)
{
	struct hp_phys_ranges r = { 0 };
	const __u64 bs = 128 * MiB;

	(void)state;
	/* Out of order; 3 (node 0) touches 4 (node 1) but nodes differ; 8-9 touch. */
	assert_int_equal(hp_phys_ranges_add_block(&r, 3, bs, 0), 0);
	assert_int_equal(hp_phys_ranges_add_block(&r, 9, bs, 1), 0);
	assert_int_equal(hp_phys_ranges_add_block(&r, 1, bs, 0), 0);
	assert_int_equal(hp_phys_ranges_add_block(&r, 4, bs, 1), 0);
	assert_int_equal(hp_phys_ranges_add_block(&r, 2, bs, 0), 0);
	assert_int_equal(hp_phys_ranges_add_block(&r, 8, bs, 1), 0);
	assert_int_equal(hp_phys_ranges_add_block(&r, 2, bs, 0), 0); /* duplicate */
	hp_phys_ranges_normalize(&r);
	assert_int_equal(r.nr, 3);
	assert_true(r.v[0].start == 1 * bs && r.v[0].end == 4 * bs && r.v[0].node == 0);
	assert_true(r.v[1].start == 4 * bs && r.v[1].end == 5 * bs && r.v[1].node == 1);
	assert_true(r.v[2].start == 8 * bs && r.v[2].end == 10 * bs && r.v[2].node == 1);
	assert_int_equal(hp_phys_ranges_node(&r, 1 * bs), 0);
	assert_int_equal(hp_phys_ranges_node(&r, 4 * bs - 1), 0);
	assert_int_equal(hp_phys_ranges_node(&r, 4 * bs), 1);
	assert_int_equal(hp_phys_ranges_node(&r, 6 * bs), -1);
	assert_int_equal(hp_phys_ranges_node(&r, 0), -1);
	assert_true(hp_phys_ranges_bytes(&r) == 6 * bs);
	hp_phys_ranges_free(&r);
	assert_null(r.v);
	assert_int_equal(r.nr, 0);
}

static void test_add_block_overflow(void **state)
{
	struct hp_phys_ranges r = { 0 };

	(void)state;
	assert_int_equal(hp_phys_ranges_add_block(&r, ~0ULL, 128 * MiB, 0), -EOVERFLOW);
	assert_int_equal(hp_phys_ranges_add_block(&r, 1, 0, 0), -EOVERFLOW);
	assert_int_equal(r.nr, 0);
	hp_phys_ranges_free(&r);
}

/* ---- a fake /sys/devices/system */

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

static void dir(const char *root, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static int make_tree(void **state)
{
	char *root = strdup("/tmp/hp-node-ranges-XXXXXX");

	assert_non_null(mkdtemp(root));
	dir(root, "memory");
	put(root, "memory/block_size_bytes", "8000000\n");
	/* Node 0: blocks 0-2; node 1: blocks 8-10, block 10 offline. */
	dir(root, "node");
	dir(root, "node/node0");
	dir(root, "node/node1");
	for (int b = 0; b <= 10; b++) {
		char rel[128];

		if (b > 2 && b < 8)
			continue;
		snprintf(rel, sizeof(rel), "memory/memory%d", b);
		dir(root, rel);
		snprintf(rel, sizeof(rel), "memory/memory%d/state", b);
		put(root, rel, b == 10 ? "offline\n" : "online\n");
		snprintf(rel, sizeof(rel), "node/node%d/memory%d", b < 8 ? 0 : 1, b);
		dir(root, rel);
	}
	/* Not memory blocks: must be ignored. */
	dir(root, "node/node0/cpu0");
	put(root, "node/node0/meminfo", "");
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

static void test_read_all_nodes(void **state)
{
	struct hp_phys_ranges r;
	char err[256] = "";

	assert_int_equal(hp_node_ranges_read(*state, 0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nr, 2);
	assert_true(r.v[0].start == 0 && r.v[0].end == 3 * 128 * MiB && r.v[0].node == 0);
	assert_true(r.v[1].start == 8 * 128 * MiB && r.v[1].end == 10 * 128 * MiB);
	assert_int_equal(r.v[1].node, 1);
	hp_phys_ranges_free(&r);
}

static void test_read_one_node(void **state)
{
	struct hp_phys_ranges r;
	char err[256] = "";

	assert_int_equal(hp_node_ranges_read(*state, 1ULL << 1, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nr, 1);
	assert_int_equal(r.v[0].node, 1);
	assert_true(hp_phys_ranges_bytes(&r) == 2 * 128 * MiB);
	hp_phys_ranges_free(&r);
}

static void test_read_missing_node(void **state)
{
	struct hp_phys_ranges r;
	char err[256] = "";

	assert_int_equal(hp_node_ranges_read(*state, 1ULL << 5, &r, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "node 5 does not exist"));
	assert_null(r.v);
}

static void test_read_without_block_size(void **state)
{
	struct hp_phys_ranges r;
	char err[256] = "";

	(void)state;
	assert_int_equal(hp_node_ranges_read("/nonexistent", 0, &r, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "block_size_bytes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_size),
		cmocka_unit_test(test_memory_block_names),
		cmocka_unit_test(test_node_lists),
		cmocka_unit_test(test_normalize_merges_per_node),
		cmocka_unit_test(test_add_block_overflow),
		cmocka_unit_test_setup_teardown(test_read_all_nodes, make_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_read_one_node, make_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_read_missing_node, make_tree, remove_tree),
		cmocka_unit_test(test_read_without_block_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
