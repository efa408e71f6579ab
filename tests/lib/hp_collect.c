// SPDX-License-Identifier: GPL-2.0
/* Tests: hp_event records of the sources a test starts, through the ring transport. */
#include "hp_collect.h"

static int hp_collect_event(const struct hp_event *ev, void *ctx)
{
	struct hp_collect *c = ctx;

	c->fn(ev, c->ctx);
	return 0;
}

int hp_collect_open(struct hp_collect *c, hp_collect_fn fn, void *ctx)
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

int hp_collect_poll(struct hp_collect *c, int timeout_ms)
{
	return timeout_ms ? hp_transport_poll(c->transport, timeout_ms)
			  : hp_transport_drain(c->transport);
}

__u64 hp_collect_bad(const struct hp_collect *c)
{
	struct hp_transport_stats stats;

	hp_transport_read_stats(c->transport, &stats);
	return stats.bad_size + stats.bad_version;
}

void hp_collect_close(struct hp_collect *c)
{
	hp_transport_free(c->transport);
	c->transport = NULL;
}
