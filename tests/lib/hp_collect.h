/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tests: receive the hp_event records of the sources a test starts. A thin
 * layer over the per-CPU ring transport, so that test bodies do not depend
 * on its details.
 */
#ifndef HP_COLLECT_H
#define HP_COLLECT_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "hotpage/event.h"
#include "transport.h"

typedef void (*hp_collect_fn)(const struct hp_event *ev, void *ctx);

struct hp_collect {
	struct hp_transport *transport;
	hp_collect_fn fn;
	void *ctx;
};

static int hp_collect_event(const struct hp_event *ev, void *ctx)
{
	struct hp_collect *c = ctx;

	c->fn(ev, c->ctx);
	return 0;
}

/* Rings of 1 MiB per CPU; records reach @fn from hp_collect_poll(). 0 or -errno. */
static inline int hp_collect_open(struct hp_collect *c, hp_collect_fn fn, void *ctx)
{
	struct hp_transport_opts opts = { .on_event = hp_collect_event, .ctx = c };
	char err[256];
	int ret;

	c->fn = fn;
	c->ctx = ctx;
	c->transport = NULL;
	ret = hp_transport_new(&opts, &c->transport, err, sizeof(err));
	if (ret)
		printf("transport: %s\n", err);
	return ret;
}

/*
 * Deliver what arrives within @timeout_ms; 0: everything the rings and
 * stages hold now, without waiting. Returns records delivered or -errno.
 */
static inline int hp_collect_poll(struct hp_collect *c, int timeout_ms)
{
	return timeout_ms ? hp_transport_poll(c->transport, timeout_ms)
			  : hp_transport_drain(c->transport);
}

/* Records the transport refused (wrong size or version). */
static inline __u64 hp_collect_bad(const struct hp_collect *c)
{
	struct hp_transport_stats stats;

	hp_transport_read_stats(c->transport, &stats);
	return stats.bad_size + stats.bad_version;
}

static inline void hp_collect_close(struct hp_collect *c)
{
	hp_transport_free(c->transport);
	c->transport = NULL;
}

#endif /* HP_COLLECT_H */
