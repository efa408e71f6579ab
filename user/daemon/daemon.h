/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hotpaged's event loop: sources -> per-CPU rings -> PFN resolution ->
 * heat table (heat.h) and hot sets (hotset.h); every policy window a
 * round: the exchange (candidates -> room on their targets -> idle pages
 * demoted to make it (census.h) -> one rate budget -> backend ->
 * statistics and reasons for what was held back, exchange.h) and a
 * refresh of the published hot set (hot_pages_map.h).
 */
#ifndef HOTPAGE_DAEMON_H
#define HOTPAGE_DAEMON_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "policies.h"
#include "policy.h"

#define HP_DAEMON_MAX_SOURCES 8
/*
 * Each CPU's ring: 65536 records. The scanner reports a pass's accessed
 * pages in bursts from one CPU, pausing every 4096 for the consumer.
 */
#define HP_DAEMON_RING_BYTES (4U << 20)
#define HP_DAEMON_TOP_DEFAULT 1024
#define HP_DAEMON_STATS_DEFAULT_S 5

enum hp_backend_choice {
	HP_BACKEND_AUTO = 0, /* kmigrated when the module is loaded, else move_pages */
	HP_BACKEND_MOVE_PAGES,
	HP_BACKEND_KMIGRATED,
};

struct hp_daemon_opts {
	/* Source names; nr_sources 0: the default sources that can run here (daemon.c). */
	const char *sources[HP_DAEMON_MAX_SOURCES];
	size_t nr_sources;
	struct hp_policy policy;
	/* Named policies attached at start; none declared: HP_POLICY_DEFAULT_NAME, scope=all. */
	struct hp_policies policies;
	enum hp_backend_choice backend;
	__u32 period; /* sources sample 1 event in period; 0: each source's default */
	__u32 top; /* pages published in the hot map */
	__u32 stats_s; /* seconds between stats lines; 0: none */
	__u32 duration_s; /* 0: until a signal */
	const char *pin_path; /* NULL: HP_HOT_PAGES_PIN */
	bool verbose;
	char socket_path[108]; /* control socket (control.h); "": HP_CTL_SOCKET_DEFAULT */
};

void hp_daemon_opts_defaults(struct hp_daemon_opts *opts);
/*
 * A daemon setting "key=value": backend=, period=, top=, stats=, socket=, any policy key
 * (policy.h), or policy.NAME=key=value... (a named policy attached at start, its
 * settings separated by spaces: policies.h). 0, or -errno with the reason in @err.
 */
int hp_daemon_set(struct hp_daemon_opts *opts, const char *assignment, char *err, size_t err_len);
/*
 * Run until *@stop is set (by a signal handler) or the duration ends.
 * Everything it made (links, objects, pins) is gone when it returns.
 * 0, or a negative errno after a message on stderr.
 */
int hp_daemon_run(const struct hp_daemon_opts *opts, volatile sig_atomic_t *stop);

#endif /* HOTPAGE_DAEMON_H */
