/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Full-fast-tier workloads, shared by tests/vm/tier_exchange.c and
 * tests/bench/bench_e2e.c: a process whose memory is larger than what node
 * 0 has free, so that its first touch fills node 0 with its own pages and
 * the rest (and what kswapd demotes meanwhile) lands on node 1, as on a
 * tiered host whose DRAM is already used. Then a thread touches pages at
 * a fixed rate, most of the touches going to a hot set that is scattered
 * (a hash picks the pages: region-granular methods cannot find it as one
 * block) or contiguous; the rate is fixed because accessed bits and
 * region sampling only tell whether a page was touched in a period, and a
 * page touched without pause is touched in every period.
 *
 * What counts: where the hot pages are (move_pages(2) with nodes NULL),
 * against the hot pages that were on node 1 when the touching began (the
 * part that has to move up) and the cold pages that were on node 1 then
 * (promoting those is waste).
 */
#ifndef HP_TIER_H
#define HP_TIER_H

#include <pthread.h>
#include <sys/syscall.h>

#include <sys/prctl.h>

#include "kmigrated_test.h"
#include "topology.h"

#define TIER_TICK_MS 10
#define TIER_SETTLE_CHUNK (1UL << 20)

struct tier_opts {
	size_t pages; /* workload pages */
	double hot_frac; /* of the pages */
	double hot_share; /* of the touches, to the hot pages */
	unsigned int rate; /* touches per second */
	bool contiguous; /* one run of hot pages at the end (the part on node 1) */
	bool thp; /* MADV_HUGEPAGE (needs THP enabled=always or madvise) */
	uint64_t salt; /* picks the scattered hot set */
};

struct tier_work {
	struct tier_opts o;
	char *p;
	uint8_t *hot; /* per page */
	size_t *hot_idx, nhot, *cold_idx, ncold;
	pthread_t thread;
	volatile int stop;
	volatile unsigned long touches;
	double first_touch_s; /* the first touch of every page: one fault each */
	/* where things were when the touching began */
	uint8_t *was_on1;
	size_t hot_on1, cold_on1;
};

/* Which pages are hot: a hash of the index, or the last run of pages. */
void tier_pick_hot(struct tier_work *w, uint64_t salt);

/*
 * Maps the workload and touches every page once, in order, with the
 * default memory policy: node 0 first, node 1 when it is full.
 */
void tier_init(struct tier_work *w, const struct tier_opts *o);

struct tier_count {
	size_t hot0; /* hot pages on node 0 */
	size_t hot_up; /* ... of those that were on node 1 at the start */
	size_t cold_up; /* cold pages that were on node 1 and are on node 0 */
	size_t hot_down; /* hot pages that were on node 0 and are on node 1 */
	size_t absent; /* not present: swapped out, or being migrated */
};

void tier_free(struct tier_work *w);

/* Free memory of @node's highest zone, the one movable allocations fill first. */
uint64_t tier_zone_free(int node);

/* Bytes the node takes above its promotion watermark (hp_node_zones.room); negative: below. */
int64_t tier_zone_room(int node);

/* Free memory of node 0, from its meminfo. */
uint64_t tier_node_free(int node);

/* Pages migrated by anyone, promoted and demoted by the kernel: /proc/vmstat. */
struct tier_vmstat {
	long long migrated, promoted, demoted, compacted;
	long long collapsed; /* huge pages khugepaged made */
};

void tier_vmstat(struct tier_vmstat *v);

/* What one run of the touching showed. */
struct tier_result {
	double t50_s, t90_s; /* when half, 90% of the hot part was up; -1: never */
	double secs; /* touching time */
	struct tier_count end;
	long long moved; /* pgmigrate_success during the touching: anyone's moves */
	long long kernel_promoted, kernel_demoted;
	double touches_per_s;
};

/*
 * Touch until 90% of the hot pages that were on node 1 are on node 0, or
 * @deadline_s; then @settle_s more, so that what happens after (pages
 * going back and forth) shows. @alive (if set) is asked every second.
 */
void tier_run(struct tier_work *w, double deadline_s, double settle_s, bool (*alive)(void *),
	      void *arg, struct tier_result *r);

/*
 * Forks a process that mlocks memory on node 0 until node 0 has
 * @free_bytes free: the rest of a host that leaves its fast tier nearly
 * full. mlocked, so that nobody's demotion takes it.
 */
pid_t tier_filler_start(uint64_t free_bytes);

/* Forks a process with @npages of its own on @node that it never touches again. */
pid_t tier_idle_start(size_t npages, int node);

/* Node 0's headroom under the default policy: what hotpaged keeps free. */
uint64_t tier_headroom_bytes(void);

#endif /* HP_TIER_H */
