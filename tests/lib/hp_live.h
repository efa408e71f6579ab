/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the live source tests (host and guest): a child process that
 * touches fresh pages on command, and a collector of the events the
 * transport delivers.
 */
#ifndef HP_LIVE_H
#define HP_LIVE_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "hp_test.h"
#include "source.h"
#include "transport.h"

/*
 * The child: on 'g' it maps @pages fresh anonymous pages, touches each once
 * (a write: one fault per page) and answers with the mapping's base; the
 * mapping stays until it exits (on 'q' or EOF), so that its pages can be
 * looked up afterwards.
 */
struct hp_child {
	pid_t pid;
	int cmd_fd; /* parent -> child */
	int reply_fd; /* child -> parent */
	size_t pages;
	size_t page_size;
};

struct hp_child hp_child_start(size_t pages);

/* Start a round: the child maps and touches its pages. */
void hp_child_go(const struct hp_child *child);

/* End of a round: the mapping's base, once every page was touched. */
__u64 hp_child_wait(const struct hp_child *child);

__u64 hp_child_touch(const struct hp_child *child);

void hp_child_stop(struct hp_child *child);

/* Faults of another process (this one) while the child runs: a filter must drop them. */
void hp_fault_pages_here(size_t pages);

/* Every event the transport delivers, kept in order of arrival. */
struct hp_collector {
	struct hp_event *v;
	size_t len, cap;
};

int hp_collect(const struct hp_event *ev, void *ctx);

void hp_collector_reset(struct hp_collector *c);

void hp_collector_free(struct hp_collector *c);

/* A transport with default rings whose records go to @events; skips when rings need CAP_BPF. */
struct hp_transport *hp_collect_transport(struct hp_collector *events);

/* Drain everything the rings and stages hold now (the producers have finished). */
void hp_drain(struct hp_transport *transport);

/* What a round's events say about one process's mapping. */
struct hp_tally {
	__u64 inside; /* events of the child in its mapping */
	__u64 pages; /* distinct pages of the mapping among them */
	__u64 outside; /* events of the child elsewhere (stack, libc after fork) */
	__u64 other; /* events of another process */
	__u32 other_tgid;
	__u64 wrong_source, bad_fields;
	char bad_why[160];
};

/* Tally @c's events of @source against the child's mapping [base, base + pages). */
struct hp_tally hp_tally_events(const struct hp_collector *c, enum hp_source source,
				const struct hp_child *child, __u64 base);

/* |got - want| within @pct percent of want plus @slack. */
/*
 * A source's counters balance once nothing is left staged (after a drain,
 * or polling past the stages' idle time): sampled = emitted + dropped +
 * errors. @who names the source in the failure.
 */
void hp_check_balanced(const char *who, const struct hp_source_stats *s);

int hp_within(__u64 got, __u64 want, double pct, __u64 slack);

#endif /* HP_LIVE_H */
