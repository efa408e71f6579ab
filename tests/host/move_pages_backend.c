// SPDX-License-Identifier: GPL-2.0
/*
 * The move_pages(2) promotion backend (user/promote/promote_move_pages.c) on the
 * running kernel, whatever its nodes: pages already on the target are
 * refused as such after one query call; a node without memory, a process
 * that exited, a page never touched, an unmapped address and a request
 * without an address each end with their own outcome, at the request's
 * index; requests are grouped per process and cut into batches. Moving
 * between nodes is the guest test tests/vm/promote_move_pages.c.
 */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hotpage/event.h"
#include "hp_test.h"
#include "promote.h"
#include "topology.h"

#define NR_PAGES 16

static long page_size;

static void check_count(const struct hp_promote_result *res, enum hp_promote_outcome o, __u64 want)
{
	hp_check(res->count[o] == want, "%s: %llu requests, expected %llu",
		 hp_promote_outcome_name(o), (unsigned long long)res->count[o],
		 (unsigned long long)want);
}

static void check_only(const struct hp_promote_result *res, enum hp_promote_outcome o, __u64 want)
{
	for (int i = 0; i < HP_PROMOTE_NR_OUTCOMES; i++)
		check_count(res, (enum hp_promote_outcome)i, i == (int)o ? want : 0);
}

static void requests(struct hp_promote_req *reqs, char *area, size_t n, __u32 tgid, int node)
{
	for (size_t i = 0; i < n; i++) {
		reqs[i] = (struct hp_promote_req){
			.pfn = HP_PFN_UNKNOWN,
			.vaddr = (__u64)(uintptr_t)(area + i * page_size),
			.tgid = tgid,
			.target_node = node,
		};
	}
}

/* A node id that has no memory here, or -1 when every possible id has some. */
static int node_without_memory(const struct hp_topology *topo)
{
	for (int n = 0; n < HP_TOPO_MAX_NODES; n++) {
		if (!hp_topology_has_memory(topo, n))
			return n;
	}
	return -1;
}

int main(void)
{
	struct hp_promote_req reqs[NR_PAGES];
	struct hp_promote_backend mp;
	struct hp_topology topo;
	__u8 outcome[NR_PAGES];
	char err[256], *area;
	int home, empty, ret;
	__u32 self = (__u32)getpid();
	pid_t child;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);
	if (numa_available() < 0)
		hp_skip("no NUMA support in this kernel (move_pages(2) is missing)");
	ret = hp_topology_read(HP_SYSFS_ROOT, &topo, err, sizeof(err));
	hp_check(!ret, "topology: %s", err);
	hp_check(!hp_promote_move_pages_create(256, &mp), "create the backend");
	hp_check(!strcmp(mp.name, "move_pages") && mp.needs_vaddr && !mp.needs_pfn,
		 "backend identity");

	area = mmap(NULL, NR_PAGES * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	hp_check(area != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(area, 0x5a, NR_PAGES * page_size);
	{
		int status = -1;
		void *first = area;

		hp_check(!move_pages(0, 1, &first, NULL, &status, 0) && status >= 0,
			 "where is the first page: %d", status);
		home = status;
	}
	printf("pages on node %d; memory nodes %llx\n", home, (unsigned long long)topo.memory);

	/* Already where they should be: refused as such, one query call, nothing moved. */
	{
		struct hp_promote_result res = { .outcome = outcome };

		requests(reqs, area, NR_PAGES, self, home);
		ret = mp.promote(&mp, reqs, NR_PAGES, &res);
		hp_check(ret == 0, "moved %d pages already on node %d", ret, home);
		check_only(&res, HP_PROMOTE_ALREADY_THERE, NR_PAGES);
		hp_check(res.calls == 1, "%llu calls for one batch of pages in place",
			 (unsigned long long)res.calls);
		for (int i = 0; i < NR_PAGES; i++)
			hp_check(outcome[i] == HP_PROMOTE_ALREADY_THERE, "outcome[%d] = %s", i,
				 hp_promote_outcome_name(outcome[i]));
		hp_check(hp_promote_outcome_class(HP_PROMOTE_ALREADY_THERE) == HP_PROMOTE_REFUSED,
			 "already there is a refusal");
	}

	/* Batches: 16 pages in batches of 5 are 4 query calls. */
	{
		struct hp_promote_result res = { 0 };

		mp.batch = 5;
		ret = mp.promote(&mp, reqs, NR_PAGES, &res);
		hp_check(ret == 0 && res.calls == 4, "batch 5: %llu calls",
			 (unsigned long long)res.calls);
		mp.batch = 256;
	}

	/* A node without memory (node 1 on a one-node host): the node is refused. */
	empty = node_without_memory(&topo);
	if (empty >= 0) {
		struct hp_promote_result res = { .outcome = outcome };

		requests(reqs, area, NR_PAGES, self, empty);
		ret = mp.promote(&mp, reqs, NR_PAGES, &res);
		hp_check(ret == 0, "moved %d pages to node %d, which has no memory", ret, empty);
		check_only(&res, HP_PROMOTE_BAD_NODE, NR_PAGES);
		for (int i = 0; i < NR_PAGES; i++)
			hp_check(area[i * page_size] == 0x5a, "page %d changed", i);
		printf("node %d (no memory): %s\n", empty,
		       hp_promote_outcome_text(HP_PROMOTE_BAD_NODE));
	}

	/* A process that exited. */
	child = fork();
	hp_check(child >= 0, "fork: %s", strerror(errno));
	if (!child)
		_exit(0);
	hp_check(waitpid(child, NULL, 0) == child, "waitpid: %s", strerror(errno));
	{
		struct hp_promote_result res = { .outcome = outcome };

		requests(reqs, area, NR_PAGES, (__u32)child, home);
		ret = mp.promote(&mp, reqs, NR_PAGES, &res);
		hp_check(ret == 0, "moved %d pages of an exited process", ret);
		check_only(&res, HP_PROMOTE_NO_PROCESS, NR_PAGES);
	}

	/*
	 * Mixed, interleaved with two processes (self and the exited child):
	 * each outcome lands at its request's index.
	 */
	{
		struct hp_promote_result res = { .outcome = outcome };
		char *untouched = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *unmapped =
			mmap(NULL, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		static const enum hp_promote_outcome want[8] = {
			HP_PROMOTE_NOT_PRESENT, HP_PROMOTE_ALREADY_THERE, HP_PROMOTE_NO_PROCESS,
			HP_PROMOTE_NOT_MAPPED,	HP_PROMOTE_BAD_REQUEST,	  HP_PROMOTE_ALREADY_THERE,
			HP_PROMOTE_BAD_NODE,	HP_PROMOTE_NOT_PRESENT,
		};

		hp_check(untouched != MAP_FAILED && unmapped != MAP_FAILED, "mmap: %s",
			 strerror(errno));
		munmap(unmapped, page_size);
		requests(reqs, area, 8, self, home);
		reqs[0].vaddr = (__u64)(uintptr_t)untouched;
		reqs[2].tgid = (__u32)child;
		reqs[3].vaddr = (__u64)(uintptr_t)unmapped;
		reqs[4].vaddr = 0;
		reqs[5].vaddr += 123; /* inside the page: same page */
		reqs[6].target_node = -1;
		reqs[7].vaddr = (__u64)(uintptr_t)(untouched + page_size);
		ret = mp.promote(&mp, reqs, 8, &res);
		hp_check(ret == 0, "moved %d in the mixed batch", ret);
		for (int i = 0; i < 8; i++)
			hp_check(outcome[i] == want[i], "request %d: %s, expected %s", i,
				 hp_promote_outcome_name(outcome[i]),
				 hp_promote_outcome_name(want[i]));
		check_count(&res, HP_PROMOTE_NOT_PRESENT, 2);
		check_count(&res, HP_PROMOTE_ALREADY_THERE, 2);
		/* self and the child: one query call each, no move. */
		hp_check(res.calls == 2, "%llu calls for two processes",
			 (unsigned long long)res.calls);
		munmap(untouched, 2 * page_size);
	}

	/* Outcome names are unique and stable. */
	for (int i = 0; i < HP_PROMOTE_NR_OUTCOMES; i++)
		for (int j = i + 1; j < HP_PROMOTE_NR_OUTCOMES; j++)
			hp_check(strcmp(hp_promote_outcome_name(i), hp_promote_outcome_name(j)),
				 "outcomes %d and %d share a name", i, j);
	hp_check(!strcmp(hp_promote_outcome_name(HP_PROMOTE_NO_PROCESS), "no_process"),
		 "name of no_process");

	mp.destroy(&mp);
	munmap(area, NR_PAGES * page_size);
	printf("ok\n");
	return 0;
}
