/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Live checks of the `damon` source, shared by the host test (when the
 * host's DAMON is free) and the guest test: a vaddr context on a child
 * that touches a known buffer, a paddr context on the node that holds the
 * buffer, both with the sysfs state checked during and after the run.
 */
#ifndef HP_DAMON_LIVE_H
#define HP_DAMON_LIVE_H

#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "damon_source.h"
#include "hp_collect.h"
#include "hp_test.h"

#define HP_DL_PAGES 16384 /* 64 MiB of 4 KiB pages */
#define HP_DL_MAX_RECORDS (1 << 20)

struct hp_dl_child {
	pid_t pid;
	__u64 base;
	size_t len;
	int moved; /* pages move_pages put on the wanted node */
};

/*
 * A child that maps HP_DL_PAGES, optionally moves them to @node
 * (move_pages(2); -1: leave them), reports, and writes to every page in
 * a loop until killed.
 */
struct hp_dl_child hp_dl_start_child(int node);

void hp_dl_stop_child(struct hp_dl_child *c);

struct hp_dl_records {
	struct hp_event *ev;
	size_t nr;
};

/* After stop: nothing of ours left, the kdamond thread gone. */
void hp_dl_check_clean(unsigned int nr_before, int kdamond_pid);

/*
 * Run the damon source with @opts until @enough says so or @seconds pass;
 * with @running, snapshot hotpage's kdamond (checked to be tagged) while up.
 */
struct hp_dl_records hp_dl_run(const struct hp_source_opts *opts, double seconds,
			       bool (*enough)(const struct hp_dl_records *r, void *ctx), void *ctx,
			       struct hp_damon_kdamond *running, struct hp_source_stats *stats);

/* ---------------------------------------------------------------- vaddr */

struct hp_dl_vaddr {
	__u64 lo, hi; /* the child's buffer */
	size_t hot; /* records overlapping it with nr_accesses > 0 */
	__u64 hot_aggregations; /* aggregation intervals with such a record */
};

bool hp_dl_vaddr_enough(const struct hp_dl_records *r, void *ctx);

/* vaddr on a child: hot regions over its buffer, tgid = the child, nothing left behind. */
void hp_damon_live_vaddr(void);

/* ---------------------------------------------------------------- paddr */

struct hp_dl_paddr {
	const __u64 *pfns; /* the child's pages, sorted */
	size_t nr_pfns;
	size_t page;
	size_t hot; /* records with nr_accesses > 0 covering one of the child's pages */
};

/*
 * paddr on node @node (-1: every node, the child's pages left where they
 * are): regions within the node's memory, hot ones over the child's pages.
 */
void hp_damon_live_paddr(int node);

#endif /* HP_DAMON_LIVE_H */
