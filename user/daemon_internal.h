/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hotpaged's state, shared by its event loop (daemon.c) and the commands
 * of its control socket (daemon_control.c). Not an interface: the loop is
 * the only thread, and it owns all of this.
 */
#ifndef HOTPAGE_DAEMON_INTERNAL_H
#define HOTPAGE_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <linux/types.h>

#include "clock.h"
#include "control.h"
#include "daemon.h"
#include "hot_pages_map.h"
#include "hotness.h"
#include "pagemap.h"
#include "promote.h"
#include "source.h"
#include "topology.h"
#include "transport.h"

#define EVENT_BATCH 4096
#define KMIGRATED_SYSFS "/sys/kernel/mm/kmigrated"
/* backend=auto on move_pages: how often to look whether kmigrated.ko is back. */
#define BACKEND_RECHECK_NS (3ULL * 1000000000ULL)
#define INVALIDATE_SEEN_MAX 64 /* processes whose cache a round dropped already */

struct running_source {
	const struct hp_source_ops *ops;
	struct hp_source_instance *inst;
	__u32 period; /* as started; 0: the source's default */
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
	struct hp_hotness *table;
	struct hp_hot_map *hot_map;
	struct hp_promote_backend backend;
	bool have_backend;
	int last_backend_err; /* logged once until it changes */
	__u64 backend_recheck_ns; /* backend=auto: next look for kmigrated.ko */
	__u64 backend_switches;
	struct hp_event *events; /* EVENT_BATCH buffered */
	struct hp_hot_input *inputs;
	size_t nr_events;
	struct hp_hot_page *cand; /* candidates or top pages of a round */
	struct hp_promote_req *reqs;
	__u8 *outcome;
	size_t cand_cap;
	long page_size;
	/* statistics */
	__u64 events_total, resolved, rounds, candidates, requested;
	struct hp_promote_result res;
	/* live control (control.h) */
	struct hp_ctl_server *ctl;
	__u64 start_ns;
};

/* One line on stderr. */
#define say(fmt, ...) fprintf(stderr, "hotpaged: " fmt "\n", ##__VA_ARGS__)

/* Feed the buffered events to the hotness table (daemon.c). */
void hp_daemon_flush_events(struct daemon *d);
/* A control-socket request (control.h's handler; daemon_control.c). */
int hp_daemon_control_handle(void *ctx, int argc, const char *const *argv, struct hp_ctl_out *out);

#endif /* HOTPAGE_DAEMON_INTERNAL_H */
