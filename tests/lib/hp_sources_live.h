/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live check of the `fault` and `perf` (software page-fault event)
 * sources, shared by the host test and the guest test: a child touches
 * LIVE_PAGES fresh pages per round while the source filters on its tgid,
 * and the parent faults on pages of its own.
 *
 *   round 1  every fault sampled: each page of the mapping reported, no
 *            event of another process, sampled = emitted + dropped +
 *            errors, nothing dropped, every emitted record delivered
 *   round 2  period 8, changed at runtime without reloading (fault: the
 *            hp_cpu_state; perf: the perf event's period by ioctl):
 *            LIVE_PAGES / 8 events in the mapping, within TOLERANCE_PCT
 *   round 3  period 4 through hp_cpu_state (for perf on top of an event
 *            period of 1 again): LIVE_PAGES / 4, same tolerance
 *
 * The tolerance: sampling is a deterministic 1-in-N countdown per CPU, so
 * the count is exact up to the phase on each CPU the child ran on and its
 * few faults outside the mapping; for perf, other processes' faults on the
 * same CPU also advance the event's counter. 5% (25 events of 512) plus 4
 * per CPU covers both with room.
 */
#ifndef HP_SOURCES_LIVE_H
#define HP_SOURCES_LIVE_H

#include <stdio.h>

#include "fault_source.h"
#include "hp_live.h"
#include "perf_source.h"

#define LIVE_PAGES 4096
#define LIVE_PARENT_PAGES 256
#define TOLERANCE_PCT 5.0
#define SLACK_PER_CPU 4

struct live_source {
	const char *name;
	enum hp_source id;
	const struct hp_source_ops *ops;
	int (*start)(struct hp_transport *transport, const struct hp_source_opts *opts,
		     struct hp_source_instance **out, char *err, size_t err_len);
	/* The source's own sampling knob, changed at runtime. */
	int (*set_period)(struct hp_source_instance *src, const struct hp_source_opts *opts,
			  __u32 period);
};

struct live_round {
	__u64 inside, pages;
	struct hp_source_stats delta;
};

int hp_sources_live_main(void);

#endif /* HP_SOURCES_LIVE_H */
