// SPDX-License-Identifier: GPL-2.0
/*
 * The census of idle pages (user/hotness/census.c) on a fake /proc: processes
 * with maps and pagemap files, and a kpageflags file, against a heat
 * table whose history the test writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

#include "census.h"
#include "heat.h"
#include "pagemap.h"

#define MIB (1ULL << 20)
#define N1 ((4096ULL * MIB) >> 12) /* first frame of node 1 */
#define KPF_LRU (1ULL << 5)
#define KPF_HEAD (1ULL << 15)
#define KPF_UNEVICTABLE (1ULL << 18)
#define KPF_THP (1ULL << 22)

static char root[] = "/tmp/hp-census-XXXXXX";
static char proc[300], kpf[300];

static void write_at(const char *path, off_t off, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0644);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

/* Process @tgid with one mapping at @start of @n pages, page i on frame pfns[i] (0: absent). */
static void add_process(unsigned int tgid, uint64_t start, size_t n, const uint64_t *pfns)
{
	char path[400], line[200];

	snprintf(path, sizeof(path), "%s/%u", proc, tgid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%u/maps", proc, tgid);
	snprintf(line, sizeof(line),
		 "%llx-%llx rw-p 00000000 00:00 0\n"
		 "7fff0000-7fff1000 r--p 00000000 00:00 0  [vvar]\n",
		 (unsigned long long)start, (unsigned long long)(start + n * 4096));
	write_at(path, 0, line, strlen(line));
	snprintf(path, sizeof(path), "%s/%u/pagemap", proc, tgid);
	for (size_t i = 0; i < n; i++) {
		uint64_t e = pfns[i] ? HP_PM_PRESENT | pfns[i] : 0;

		write_at(path, (off_t)((start / 4096 + i) * 8), &e, 8);
	}
}

static void set_flags(uint64_t pfn, uint64_t flags)
{
	write_at(kpf, (off_t)(pfn * 8), &flags, 8);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static struct hp_heat *heat_of_two_nodes(struct hp_phys_ranges *r)
{
	struct hp_heat *h;

	memset(r, 0, sizeof(*r));
	assert_int_equal(hp_phys_ranges_add_block(r, 0, 64 * MIB, 0), 0);
	assert_int_equal(hp_phys_ranges_add_block(r, 128, 64 * MIB, 1), 0);
	hp_phys_ranges_normalize(r);
	assert_int_equal(hp_heat_create(r, &h), 0);
	return h;
}

static bool skip_odd_tgid(__u32 tgid, __u64 vaddr, void *arg)
{
	(void)vaddr;
	(void)arg;
	return tgid == 101 && vaddr == 0x10000000;
}

static bool admit_100(__u32 tgid, void *arg)
{
	(void)arg;
	return tgid == 100;
}

static void test_census(void **state)
{
	struct hp_census_opts opts = { .proc_root = proc, .kpageflags = kpf };
	struct hp_census_query q = { .node_mask = 1, .min_idle = 4, .budget_pages = 1 << 20 };
	struct hp_phys_ranges r;
	struct hp_heat *h = heat_of_two_nodes(&r);
	struct hp_census *c;
	struct hp_census_stats st;
	struct hp_victim v[64];
	uint64_t a[8] = { 100, 101, 102, 103, 0, N1 + 5, 106, 107 };
	uint64_t b[4] = { 103, 200, 201, 202 }; /* 103: shared with process 100 */
	uint64_t thp[4] = { 1536 + 7, 1536 + 8, 300, 301 };
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(kpf, sizeof(kpf), "%s/kpageflags", root);
	mkdir(proc, 0755);
	add_process(100, 0x400000, 8, a);
	add_process(101, 0x10000000, 4, b);
	add_process(102, 0x20000000, 4, thp);
	for (uint64_t p = 100; p < 110; p++)
		set_flags(p, KPF_LRU);
	for (uint64_t p = 200; p < 203; p++)
		set_flags(p, KPF_LRU);
	set_flags(107, KPF_LRU | KPF_UNEVICTABLE); /* mlocked: never demoted */
	set_flags(300, 0); /* off the LRU: a driver's page */
	set_flags(301, KPF_LRU);
	set_flags(1536, KPF_THP | KPF_HEAD | KPF_LRU);
	set_flags(1536 + 7, KPF_THP);
	set_flags(1536 + 8, KPF_THP);

	/* Page 106 used lately; everything else idle since the table began. */
	for (int w = 0; w < 10; w++) {
		if (w == 8)
			hp_heat_touch(h, 106, 1);
		hp_heat_advance(h);
	}
	assert_int_equal(hp_census_new(&opts, &c), 0);
	n = hp_census_run(c, h, &q, v, 64);
	/* 100..103 (103 once), 200..202, the huge page once, 301 */
	assert_int_equal(n, 9);
	for (size_t i = 0; i < n; i++) {
		assert_true(v[i].pfn != 106 && v[i].pfn != 107 && v[i].pfn != 300);
		assert_true(v[i].pfn != N1 + 5); /* node 1 was not asked for */
		assert_int_equal(v[i].node, 0);
		if (v[i].pfn == 1536) {
			/* The head stands for the huge page, at its first address. */
			assert_int_equal(v[i].npages, HP_HEAT_HUGE_PAGES);
			assert_int_equal(v[i].vaddr, 0x20000000 - 7 * 4096);
		} else {
			assert_int_equal(v[i].npages, 1);
		}
		if (v[i].pfn == 102) {
			assert_int_equal(v[i].tgid, 100);
			assert_int_equal(v[i].vaddr, 0x400000 + 2 * 4096);
		}
		/* Coldest first. */
		if (i)
			assert_true(v[i - 1].idle >= v[i].idle);
	}
	hp_census_get_stats(c, &st);
	assert_int_equal(st.skipped_unevictable, 1);
	assert_int_equal(st.skipped_not_lru, 1);
	assert_true(st.processes >= 3);

	/* Scope, guard and budget. */
	q.admit = admit_100;
	q.skip = skip_odd_tgid;
	hp_census_rewind(c);
	n = hp_census_run(c, h, &q, v, 64);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i].tgid, 100);
	q.admit = NULL;
	hp_census_rewind(c);
	n = hp_census_run(c, h, &q, v, 64);
	for (size_t i = 0; i < n; i++)
		assert_true(v[i].pfn != 103 || v[i].tgid == 100);
	hp_census_get_stats(c, &st);
	assert_true(st.skipped_moved >= 1);
	/* A budget of 4 pages per call: the walk goes on where it stopped. */
	q.skip = NULL;
	q.budget_pages = 4;
	hp_census_rewind(c);
	n = hp_census_run(c, h, &q, v, 64);
	assert_true(n <= 4);
	n += hp_census_run(c, h, &q, v, 64);
	assert_true(n >= 4);
	/* Nothing idle long enough. */
	q.budget_pages = 1 << 20;
	q.min_idle = 200;
	hp_census_rewind(c);
	assert_int_equal(hp_census_run(c, h, &q, v, 64), 0);
	/* A process whose policy is over its share: all of its pages, in use last. */
	q.take_all = admit_100;
	hp_census_rewind(c);
	n = hp_census_run(c, h, &q, v, 64);
	assert_int_equal(n, 5); /* 100..103 and 106; not 107 (mlocked) nor N1 + 5 */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i].tgid, 100);
	assert_int_equal(v[4].pfn, 106);
	assert_true(v[4].idle < v[3].idle);
	hp_census_free(c);
	hp_heat_destroy(h);
	hp_phys_ranges_free(&r);
	assert_int_equal(nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_census),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
