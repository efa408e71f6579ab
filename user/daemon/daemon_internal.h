/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hotpaged's state, shared by its event loop (daemon.c), its rounds
 * (daemon_round.c) and the commands of its control socket
 * (daemon_control.c). Not an interface: the loop is the only thread, and
 * it owns all of this.
 */
#ifndef HOTPAGE_DAEMON_INTERNAL_H
#define HOTPAGE_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <linux/types.h>

#include "census.h"
#include "clock.h"
#include "control.h"
#include "daemon.h"
#include "exchange.h"
#include "heat.h"
#include "hot_pages_map.h"
#include "hotset.h"
#include "pingpong.h"
#include "node_ranges.h"
#include "pagemap.h"
#include "promote.h"
#include "source.h"
#include "topology.h"
#include "transport.h"

#define EVENT_BATCH 4096
#define WORK_ARRAYS_NR 19 /* daemon.c: work_arrays */
#define POLICY_CACHE_SLOTS 256 /* processes whose policy a round remembers */
/* backend=auto on move_pages: how often to look whether kmigrated.ko is back. */
#define BACKEND_RECHECK_NS (3ULL * 1000000000ULL)
#define INVALIDATE_SEEN_MAX 64 /* processes whose cache a round dropped already */
/* Candidates a round considers at most; the rate budget bounds what moves. */
#define CANDIDATES_MAX (1U << 17)
/* Pages the census reads per round at most: a few ms of pagemap reads. */
#define CENSUS_BUDGET_PAGES (1U << 18)
/* Victims a round may gather at most. */
#define VICTIMS_MAX (1U << 16)
/* Moves queued in one round at most: the rate budget's worth, both ways. */
#define PENDING_MAX (CANDIDATES_MAX + VICTIMS_MAX)
/*
 * Rounds a check of queued moves waits for kmigrated's queues to empty
 * without seeing them shrink, and in all: a module that is slow (a busy
 * host, compaction, promotions waiting for the room their round's
 * demotions make) is waited for; one that is stuck is not. The queues
 * shrink a batch at a time, and on a busy 2-CPU guest a batch has taken
 * over 4 s: counted early, pages that then moved were counted as not.
 */
#define PENDING_WAITS_MAX 15
#define PENDING_ROUNDS_MAX 60
/* At exit, kmigrated's queues are waited for as long as they shrink, up to a limit. */
#define SETTLE_STALL_NS (5000ULL * 1000 * 1000)
#define SETTLE_MAX_NS (30ULL * 1000 * 1000 * 1000)
/* Page frames of one DAMON region credited at most (larger ones are strided). */
#define HP_REGION_PAGES_MAX 65536
#define DAEMON_RING_BYTES HP_DAEMON_RING_BYTES
/* Allocations below this come from the heap (glibc's largest threshold). */
#define DAEMON_MMAP_THRESHOLD (32 << 20)
/* The scanner's pass budget at most (the module's limit). */
#define SCAN_PAGES_MAX (1U << 24)
/* Moves remembered by the ping-pong guard. */
#define MOVED_ENTRIES (1U << 18)

struct running_source {
	const struct hp_source_ops *ops;
	struct hp_source_instance *inst;
	__u32 period; /* as started; 0: the source's default */
};

/*
 * Where the daemon's own CPU time goes, by stage of the data path: what
 * a user reads to see which part of the work grows with their memory.
 */
#define HP_PHASES(X)                                                                               \
	X(INGEST, ingest, "reading the rings, PFNs from pagemap, heat and hot sets")               \
	X(WINDOW, window, "the window's end: pruning, the hot map, the heat table's turn")         \
	X(CANDIDATES, candidates, "gathering and ranking the hot pages below the top tier")        \
	X(CENSUS, census, "the census of idle pages on nodes that need room")                      \
	X(PLAN, plan, "the exchange plan")                                                         \
	X(MOVES, moves, "handing moves to the backend, or moving them (move_pages)")               \
	X(VERIFY, verify, "looking where the pages kmigrated queued went")

enum hp_phase {
#define HP_PHASE_ENUM(id, name, help) HP_PHASE_##id,
	HP_PHASES(HP_PHASE_ENUM)
#undef HP_PHASE_ENUM
		HP_PHASE_NR
};

/* One direction's requests of a round and their outcomes. */
struct direction {
	struct hp_promote_result res; /* running totals */
	__u64 requests; /* pages handed to the backend */
	__u64 pages; /* base pages moved: by move_pages, or found moved after kmigrated */
	__u64 not_moved; /* base pages kmigrated took and left where they were */
};

struct daemon {
	const struct hp_daemon_opts *opts;
	struct hp_policy policy;
	struct hp_topology topo;
	bool can_promote;
	char why[256];
	struct hp_transport *transport;
	struct running_source src[HP_DAEMON_MAX_SOURCES];
	size_t nr_src;
	struct hp_pagemap *pagemap;
	struct hp_phys_ranges ranges; /* the memory the heat table covers */
	struct hp_heat *heat;
	struct hp_hotset *cand_set; /* hot pages below the top tier */
	struct hp_hotset *top_set; /* hot pages of the top tier, for the hot map */
	struct hp_census *census;
	struct hp_moved *moved;
	struct hp_hot_map *hot_map;
	struct hp_promote_backend backend;
	bool have_backend;
	int last_backend_err; /* logged once until it changes */
	__u64 backend_recheck_ns; /* backend=auto: next look for kmigrated.ko */
	__u64 backend_switches;
	struct hp_event *events; /* EVENT_BATCH buffered */
	size_t nr_events;
	/* a round's working arrays (daemon.c: work_arrays, faulted in at start) */
	struct hp_hot_page *cand; /* CANDIDATES_MAX; also the hot map's pages */
	int *cand_target;
	__s32 *cand_score; /* CANDIDATES_MAX: the rank policies' programs gave */
	__u64 *cand_key; /* CANDIDATES_MAX: score and index, to sort by */
	struct hp_victim *victims; /* VICTIMS_MAX */
	unsigned int *victim_heat;
	int *victim_target;
	int *cand_group, *victim_group; /* the index of their policy, or -1 */
	bool *victim_taken;
	__u8 *cand_why; /* CANDIDATES_MAX: why the plan held each back, or HP_HOLD_NR */
	struct hp_move *promote_moves, *demote_moves;
	struct hp_promote_req *reqs;
	__u8 *outcome;
	size_t arrays_bytes;
	int arrays_node; /* the node they were placed on, or -1: local */
	/* moves kmigrated queued, checked in the next round */
	struct hp_move *pending;
	size_t npending;
	unsigned int pending_waits; /* rounds without progress */
	unsigned int pending_rounds; /* rounds in all */
	__u64 pending_queued; /* the module's queues at the last look */
	void **verify_addrs;
	int *verify_status;
	long page_size;
	__u64 start_window; /* heat window when the sources started */
	__u64 scan_sweeps; /* the module's sweeps at the last window's end */
	__u64 scan_top_sweeps; /* ... of which the scanner tested the top tier */
	__u64 top_seen_window; /* the last window whose sweep tested the top tier */
	__u64 kernel_demoted; /* pgdemote_kswapd + pgdemote_direct at the last exchange */
	/* statistics */
	__u64 events_total, resolved, rounds, candidates;
	__u64 events_not_heat; /* allocation faults and the like: not accesses */
	__u64 events_no_pfn; /* no page frame known or resolvable */
	struct direction promote, demote;
	/* named policies (daemon_policies.c) */
	struct hp_policies policies;
	bool policy_need_cgroup; /* some scope is a cgroup */
	__u64 policy_stamp; /* a new round or a new set of policies: the cache is stale */
	bool policy_need_cgroup_id; /* some policy runs a program, which gets it */
	struct policy_slot {
		__u64 stamp;
		__u64 cgroup_id; /* when policy_need_cgroup_id */
		__u32 tgid;
		int idx; /* in policies, or -1: none covers it */
	} policy_cache[POLICY_CACHE_SLOTS];
	__u64 held[HP_HOLD_NR]; /* base pages held back, by reason */
	__u64 held_said; /* reasons said in the log since the last quiet round */
	__u64 cpu_ns[HP_PHASE_NR]; /* this thread's CPU time, by phase */
	/* live control (control.h) */
	struct hp_ctl_server *ctl;
	__u64 start_ns;
};

/* Charges the CPU time since *@t to @phase, and restarts *@t. */
static inline void hp_phase_lap(struct daemon *d, enum hp_phase phase, __u64 *t)
{
	__u64 now = hp_thread_cpu_ns();

	d->cpu_ns[phase] += now - *t;
	*t = now;
}

/* One line on stderr. */
#define say(fmt, ...) fprintf(stderr, "hotpaged: " fmt "\n", ##__VA_ARGS__)

/* Feed the buffered events to the heat table (daemon.c). */
void hp_daemon_flush_events(struct daemon *d);
/* One round: the window ends, the exchange, the hot map (daemon_round.c). */
void hp_daemon_round(struct daemon *d, __u32 interval_ms);
/* Before stopping: account the moves kmigrated still had queued (daemon_round.c). */
void hp_daemon_settle(struct daemon *d);
/* The hottest pages, hottest first, into d->cand; returns how many (daemon_round.c). */
size_t hp_daemon_hottest(struct daemon *d, size_t max);
/*
 * The parameter hotpaged starts source @ops with, into @buf: the scanner
 * makes one pass per window. false when it has none (daemon.c).
 */
bool hp_daemon_source_param(const struct daemon *d, const struct hp_source_ops *ops, char *buf,
			    size_t len);
/*
 * The policies from the options, or the default one, their programs
 * loaded. 0, or -errno after saying why (daemon_policies.c).
 */
int hp_daemon_policies_init(struct daemon *d);
/* Their programs closed (daemon_policies.c). */
void hp_daemon_policies_free(struct daemon *d);
/* After a policy was attached or detached, and at each round (daemon_policies.c). */
void hp_daemon_policies_changed(struct daemon *d);
/* The named policy @tgid's pages fall under, or NULL: none (daemon_policies.c). */
struct hp_named_policy *hp_daemon_policy_of(struct daemon *d, __u32 tgid);
/* Load @p's program, if it names one. 0, or -errno with the reason (daemon_policies.c). */
int hp_daemon_policy_load(struct hp_named_policy *p, char *err, size_t len);
/* Close @p's program (daemon_policies.c). */
void hp_daemon_policy_unload(struct hp_named_policy *p);
/*
 * Order d->cand[0..*n) (and d->cand_target) by the policies' programs'
 * scores where a policy has one, by heat elsewhere; drop the pages a
 * program keeps in place (daemon_policies.c).
 */
void hp_daemon_policies_rank(struct daemon *d, size_t *n, __u64 held[HP_HOLD_NR]);
/*
 * Where pages of @node go down: the next lower tier; with target=N set,
 * pages of N go to the nearest other node with memory when N has no lower
 * tier (daemon.c).
 */
int hp_daemon_demotion_target(const struct daemon *d, int node);
/* The fast tier: nodes whose pages are not candidates, and their memory (daemon_policies.c). */
__u64 hp_daemon_fast_mask(const struct daemon *d);
__u64 hp_daemon_fast_bytes(const struct daemon *d);

/*
 * Sweeps per test of the top tier's pages by the scanner: a page there
 * matters once it has been idle for min_idle windows, which a look every
 * min_idle / 2 windows still tells, at a fraction of the reports.
 */
static inline unsigned int hp_daemon_scan_top_every(unsigned int min_idle)
{
	unsigned int every = min_idle / 2;

	return every < 1 ? 1 : every > HP_HEAT_WINDOWS ? HP_HEAT_WINDOWS : every;
}

/*
 * Each policy's pages on the fast tier now, into its fast_pages; only
 * those with a share when @shares_only (daemon_policies.c).
 */
void hp_daemon_policies_measure(struct daemon *d, bool shares_only);
/* A control-socket request (control.h's handler; daemon_control.c). */
int hp_daemon_control_handle(void *ctx, int argc, const char *const *argv, struct hp_ctl_out *out);

#endif /* HOTPAGE_DAEMON_INTERNAL_H */
