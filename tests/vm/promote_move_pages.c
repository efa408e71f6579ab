// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test: the move_pages(2) promotion backend moves pages between
 * nodes. 64 MiB of this process's memory, filled with a pattern, is put
 * on node 1 with move_pages(2); the backend promotes it to node 0 in
 * batches; then every page must be on node 0 (move_pages with nodes =
 * NULL), the content intact, and a second promotion must find them all
 * in place. The topology read from /sys must list both memory nodes.
 */
#include <errno.h>
#include <numaif.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hotpage/event.h"
#include "hp_settings.h"
#include "hp_test.h"
#include "promote.h"
#include "topology.h"

#define AREA_BYTES (64UL << 20)

static long page_size;

/* Where each page is: count those on @node, fail on errors. */
static size_t pages_on(char *area, size_t nr, int node)
{
	void **pages = calloc(nr ? nr : 1, sizeof(*pages));
	int *status = calloc(nr ? nr : 1, sizeof(*status));
	size_t on = 0;

	hp_check(pages && status, "out of memory");
	for (size_t i = 0; i < nr; i++)
		pages[i] = area + i * page_size;
	hp_check(!move_pages(0, nr, pages, NULL, status, 0), "move_pages query: %s",
		 strerror(errno));
	for (size_t i = 0; i < nr; i++) {
		hp_check(status[i] >= 0, "page %zu: status %d", i, status[i]);
		on += status[i] == node;
	}
	free(pages);
	free(status);
	return on;
}

static void move_all(char *area, size_t nr, int node)
{
	void **pages = calloc(nr ? nr : 1, sizeof(*pages));
	int *nodes = calloc(nr ? nr : 1, sizeof(*nodes));
	int *status = calloc(nr ? nr : 1, sizeof(*status));
	long ret;

	hp_check(pages && nodes && status, "out of memory");
	for (size_t i = 0; i < nr; i++) {
		pages[i] = area + i * page_size;
		nodes[i] = node;
	}
	ret = move_pages(0, nr, pages, nodes, status, MPOL_MF_MOVE);
	hp_check(ret == 0, "move_pages to node %d: %ld (%s)", node, ret, strerror(errno));
	free(pages);
	free(nodes);
	free(status);
}

static __u64 pattern(size_t page, size_t word)
{
	return (__u64)page * 0x9e3779b97f4a7c15ULL ^ word;
}

int main(void)
{
	struct hp_promote_result res = { 0 };
	struct hp_promote_backend mp;
	struct hp_promote_req *reqs;
	struct hp_topology topo;
	char err[256], why[256];
	size_t words, nr;
	char *area;
	int moved;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/*
	 * NUMA balancing (on by default in the two-node guest) would hide the
	 * pages behind hint PTEs (status -ENOENT) or move them itself.
	 */
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", false);
	page_size = sysconf(_SC_PAGESIZE);
	hp_check(page_size >= 4096 && page_size <= 65536, "page size %ld", page_size);
	nr = AREA_BYTES / page_size;
	words = page_size / sizeof(__u64);

	hp_check(!hp_topology_read(HP_SYSFS_ROOT, &topo, err, sizeof(err)), "topology: %s", err);
	hp_check(hp_topology_has_memory(&topo, 0) && hp_topology_has_memory(&topo, 1),
		 "memory nodes %llx, expected 0 and 1", (unsigned long long)topo.memory);
	if (hp_topology_can_promote(&topo, why, sizeof(why)))
		printf("tiers: node 1 is below the top tier; promote to node %d\n",
		       hp_topology_nearest_top_tier(&topo, 1));
	else
		printf("tiers: %s\n", why);

	area = mmap(NULL, AREA_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	hp_check(area != MAP_FAILED, "mmap: %s", strerror(errno));
	/* 4 KiB pages, so that each request is one page. */
	madvise(area, AREA_BYTES, MADV_NOHUGEPAGE);
	for (size_t p = 0; p < nr; p++)
		for (size_t w = 0; w < words; w++)
			((__u64 *)(area + p * page_size))[w] = pattern(p, w);

	move_all(area, nr, 1);
	hp_check(pages_on(area, nr, 1) == nr, "%zu of %zu pages on node 1 after the move",
		 pages_on(area, nr, 1), nr);

	reqs = calloc(nr ? nr : 1, sizeof(*reqs));
	hp_check(reqs, "out of memory");
	for (size_t p = 0; p < nr; p++)
		reqs[p] = (struct hp_promote_req){
			.pfn = HP_PFN_UNKNOWN,
			.vaddr = (__u64)(uintptr_t)(area + p * page_size),
			.tgid = (__u32)getpid(),
			.target_node = 0,
		};
	hp_check(!hp_promote_move_pages_create(256, &mp), "create the backend");
	moved = mp.promote(&mp, reqs, nr, &res);
	printf("promoted %d of %zu pages in %llu calls\n", moved, nr,
	       (unsigned long long)res.calls);
	hp_check((size_t)moved == nr, "moved %d of %zu pages", moved, nr);
	hp_check(res.count[HP_PROMOTE_MOVED] == nr, "%llu counted moved",
		 (unsigned long long)res.count[HP_PROMOTE_MOVED]);
	/* A query and a move per batch of 256. */
	hp_check(res.calls == 2 * (nr / 256), "%llu calls", (unsigned long long)res.calls);
	hp_check(pages_on(area, nr, 0) == nr, "%zu of %zu pages on node 0 after promotion",
		 pages_on(area, nr, 0), nr);
	for (size_t p = 0; p < nr; p++)
		for (size_t w = 0; w < words; w++)
			hp_check(((__u64 *)(area + p * page_size))[w] == pattern(p, w),
				 "page %zu word %zu changed", p, w);

	memset(&res, 0, sizeof(res));
	moved = mp.promote(&mp, reqs, nr, &res);
	hp_check(moved == 0 && res.count[HP_PROMOTE_ALREADY_THERE] == nr,
		 "second promotion: moved %d, %llu already there", moved,
		 (unsigned long long)res.count[HP_PROMOTE_ALREADY_THERE]);

	mp.destroy(&mp);
	free(reqs);
	munmap(area, AREA_BYTES);
	printf("ok\n");
	return 0;
}
