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

/* Rings of 1 MiB per CPU; records reach @fn from hp_collect_poll(). 0 or -errno. */
int hp_collect_open(struct hp_collect *c, hp_collect_fn fn, void *ctx);

/*
 * Deliver what arrives within @timeout_ms; 0: everything the rings and
 * stages hold now, without waiting. Returns records delivered or -errno.
 */
int hp_collect_poll(struct hp_collect *c, int timeout_ms);

/* Records the transport refused (wrong size or version). */
__u64 hp_collect_bad(const struct hp_collect *c);

void hp_collect_close(struct hp_collect *c);

#endif /* HP_COLLECT_H */
