// SPDX-License-Identifier: GPL-2.0
/*
 * PFN resolution (user/sources/pagemap.c) against the kernel's own answers: a child
 * maps 2 * NR_PAGES pages and touches every other one; events for all of
 * them, shuffled, are resolved in batches. Each touched page must get the
 * PFN /proc/PID/pagemap shows when read directly and the node move_pages(2)
 * reports; each untouched one must stay unresolved. A second pass over the
 * touched pages must come from the cache (no read), and after
 * hp_pagemap_invalidate() from pagemap again, in one read per batch when
 * the events come in address order. Prints the cost per event.
 */
#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "hp_test.h"
#include "pagemap.h"

#define NR_PAGES 4096 /* touched; as many untouched in between */
#define BATCH 256

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* Child: map, touch the even pages, report the base, wait for EOF. */
static pid_t start_child(size_t page_size, __u64 *base, int *hold_fd)
{
	int report[2], hold[2];
	pid_t pid;

	if (pipe(report) || pipe(hold))
		hp_fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		hp_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		size_t len = 2 * NR_PAGES * page_size;
		char *map =
			mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		__u64 b = (__u64)(uintptr_t)map;
		char c;

		if (map == MAP_FAILED)
			_exit(3);
		madvise(map, len, MADV_NOHUGEPAGE);
		for (size_t i = 0; i < 2 * NR_PAGES; i += 2)
			((volatile char *)map)[i * page_size] = 1;
		close(report[0]);
		close(hold[1]);
		if (write(report[1], &b, sizeof(b)) != sizeof(b))
			_exit(4);
		while (read(hold[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(report[1]);
	close(hold[0]);
	if (read(report[0], base, sizeof(*base)) != sizeof(*base))
		hp_fail("child %d did not report its mapping", pid);
	close(report[0]);
	*hold_fd = hold[1];
	return pid;
}

/* Resolve @events in batches; returns ns per event. */
static double resolve_all(struct hp_pagemap *pm, struct hp_event *events, size_t n)
{
	__u64 t0 = now_ns();

	for (size_t i = 0; i < n; i += BATCH)
		hp_pagemap_resolve_events(pm, events + i, n - i < BATCH ? n - i : BATCH, now_ns());
	return (double)(now_ns() - t0) / (double)n;
}

static void reset_events(struct hp_event *events, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		events[i].pfn = HP_PFN_UNKNOWN;
		events[i].page_node = HP_NODE_UNKNOWN;
	}
}

int main(void)
{
	size_t page_size = (size_t)sysconf(_SC_PAGESIZE), n = 2 * NR_PAGES;
	struct hp_pagemap_opts opts = { 0 };
	struct hp_pagemap_stats s0, s1, s2, s3;
	struct hp_pagemap *pm = NULL;
	struct hp_event *events = calloc(n, sizeof(*events));
	__u64 *direct = calloc(n, sizeof(*direct));
	void **pages = calloc(NR_PAGES, sizeof(*pages));
	int *status = calloc(NR_PAGES, sizeof(*status));
	__u64 base, wrong_pfn = 0, wrong_node = 0, unknown_node = 0, wrong_hole = 0;
	double cold_ns, warm_ns, again_ns;
	char path[64], err[256];
	int fd, hold_fd, wstatus;
	pid_t pid;

	hp_require_root();
	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_check(events && direct && pages && status, "out of memory");
	pid = start_child(page_size, &base, &hold_fd);
	hp_check(!hp_pagemap_new(&opts, &pm, err, sizeof(err)), "hp_pagemap_new: %s", err);

	/* Events for every page, in a scrambled order: batches must sort them. */
	for (size_t i = 0; i < n; i++) {
		size_t page = (i * 2654435761U) % n; /* odd multiplier: a permutation */

		events[i] = (struct hp_event){
			.version = HP_EVENT_VERSION,
			.source = HP_SRC_FAULT,
			.tgid = (__u32)pid,
			.pid = (__u32)pid,
			.addr = base + page * page_size + 123,
			.pfn = HP_PFN_UNKNOWN,
			.page_node = HP_NODE_UNKNOWN,
		};
	}
	hp_pagemap_read_stats(pm, &s0);
	cold_ns = resolve_all(pm, events, n);
	hp_pagemap_read_stats(pm, &s1);

	/* The kernel's answers: pagemap read directly, move_pages for the nodes. */
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	hp_check(fd >= 0, "open %s: %s", path, strerror(errno));
	hp_check(pread(fd, direct, n * sizeof(*direct),
		       (off_t)(base / page_size * sizeof(*direct))) ==
			 (ssize_t)(n * sizeof(*direct)),
		 "pread %s: %s", path, strerror(errno));
	close(fd);
	for (size_t i = 0; i < NR_PAGES; i++)
		pages[i] = (void *)(uintptr_t)(base + 2 * i * page_size);
	hp_check(!move_pages(pid, NR_PAGES, pages, NULL, status, 0), "move_pages: %s",
		 strerror(errno));

	for (size_t i = 0; i < n; i++) {
		const struct hp_event *ev = &events[i];
		size_t page = (size_t)((ev->addr - base) / page_size);
		__u64 entry = direct[page];

		if (page % 2) {
			if (ev->pfn != HP_PFN_UNKNOWN || (entry & HP_PM_PRESENT))
				wrong_hole++;
			continue;
		}
		hp_check(entry & HP_PM_PRESENT, "touched page %zu not present in pagemap", page);
		if (ev->pfn != (entry & HP_PM_PFN_MASK))
			wrong_pfn++;
		if (ev->page_node == HP_NODE_UNKNOWN)
			unknown_node++;
		else if (ev->page_node != status[page / 2])
			wrong_node++;
	}
	printf("%zu events (%d touched pages, %d holes): %llu reads of %llu entries, "
	       "%llu resolved, %llu not present; %.0f ns per event cold\n",
	       n, NR_PAGES, NR_PAGES, (unsigned long long)(s1.reads - s0.reads),
	       (unsigned long long)(s1.entries_read - s0.entries_read),
	       (unsigned long long)(s1.resolved - s0.resolved),
	       (unsigned long long)(s1.not_present - s0.not_present), cold_ns);
	hp_check(wrong_pfn == 0, "%llu PFNs differ from pagemap's", (unsigned long long)wrong_pfn);
	hp_check(wrong_hole == 0, "%llu untouched pages resolved (or present)",
		 (unsigned long long)wrong_hole);
	hp_check(unknown_node == 0, "%llu touched pages without a node",
		 (unsigned long long)unknown_node);
	hp_check(wrong_node == 0, "%llu nodes differ from move_pages'",
		 (unsigned long long)wrong_node);
	hp_check(s1.resolved - s0.resolved == NR_PAGES, "%llu resolved, expected %d",
		 (unsigned long long)(s1.resolved - s0.resolved), NR_PAGES);

	/* Again, touched pages only: all from the cache. */
	for (size_t i = 0; i < NR_PAGES; i++)
		events[i].addr = base + 2 * i * page_size;
	reset_events(events, NR_PAGES);
	warm_ns = resolve_all(pm, events, NR_PAGES);
	hp_pagemap_read_stats(pm, &s2);
	printf("again from the cache: %llu hits, %llu reads; %.0f ns per event\n",
	       (unsigned long long)(s2.hits - s1.hits), (unsigned long long)(s2.reads - s1.reads),
	       warm_ns);
	hp_check(s2.hits - s1.hits == NR_PAGES && s2.reads == s1.reads,
		 "second pass: %llu hits, %llu reads", (unsigned long long)(s2.hits - s1.hits),
		 (unsigned long long)(s2.reads - s1.reads));
	for (size_t i = 0; i < NR_PAGES; i++)
		hp_check(events[i].pfn == (direct[2 * i] & HP_PM_PFN_MASK),
			 "cached PFN of page %zu differs", 2 * i);

	/* Invalidated: from pagemap again; in address order, one read per batch. */
	hp_pagemap_invalidate(pm, (__u32)pid);
	for (size_t i = 0; i < n; i++)
		events[i].addr = base + i * page_size;
	reset_events(events, n);
	again_ns = resolve_all(pm, events, n);
	hp_pagemap_read_stats(pm, &s3);
	printf("after invalidate, in address order: %llu hits, %llu reads; %.0f ns per event\n",
	       (unsigned long long)(s3.hits - s2.hits), (unsigned long long)(s3.reads - s2.reads),
	       again_ns);
	hp_check(s3.hits == s2.hits, "%llu hits after invalidate",
		 (unsigned long long)(s3.hits - s2.hits));
	hp_check(s3.reads - s2.reads == (n + BATCH - 1) / BATCH,
		 "%llu reads for %zu events in batches of %d, expected one per batch",
		 (unsigned long long)(s3.reads - s2.reads), n, BATCH);
	for (size_t i = 0; i < n; i++)
		hp_check(i % 2 ? events[i].pfn == HP_PFN_UNKNOWN
			       : events[i].pfn == (direct[i] & HP_PM_PFN_MASK),
			 "page %zu: PFN %#llx, pagemap says %#llx", i,
			 (unsigned long long)events[i].pfn, (unsigned long long)direct[i]);

	close(hold_fd);
	hp_check(waitpid(pid, &wstatus, 0) == pid && WIFEXITED(wstatus) &&
			 WEXITSTATUS(wstatus) == 0,
		 "child failed");
	/* Gone: its events resolve to nothing, counted. */
	hp_pagemap_invalidate(pm, (__u32)pid);
	reset_events(events, 1);
	hp_check(hp_pagemap_resolve_events(pm, events, 1, now_ns()) == 0,
		 "an exited process's page resolved");
	hp_pagemap_read_stats(pm, &s0);
	hp_check(s0.gone == 1, "gone counted %llu times", (unsigned long long)s0.gone);

	hp_pagemap_free(pm);
	free(events);
	free(direct);
	free(pages);
	free(status);
	return 0;
}
