// SPDX-License-Identifier: GPL-2.0
/*
 * Records a CPU staged and then stopped adding to are not stranded
 * (user/sources/transport.c, bpf/hp_source.bpf.h): a child faults on a few pages,
 * fewer than a stage holds, while the fault source samples every fault of
 * its tgid and nothing else runs in scope. Then:
 * - polling alone, without a drain, delivers every record within a few
 *   stage check periods, and the counters balance (nothing still staged);
 * - records staged when the source is stopped reach the consumer through
 *   the stop itself, with no poll in between.
 */
#include <stdio.h>
#include <string.h>

#include "fault_source.h"
#include "hp_live.h"
#include "transport.h"

#define CHILD_PAGES 5
#define DEADLINE_MS (3 * HP_TRANSPORT_STAGE_CHECK_MS)

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000ULL + (__u64)ts.tv_nsec / 1000000ULL;
}

static struct hp_source_instance *start(struct hp_transport *transport, __u32 tgid)
{
	struct hp_source_opts opts = {
		.sample_period = 1,
		.filter_mode = HP_FILTER_TGIDS,
		.tgids = &tgid,
		.nr_tgids = 1,
	};
	struct hp_source_instance *src = NULL;
	char err[512];
	int ret;

	ret = hp_fault_source_start(transport, &opts, HP_FAULT_ATTACH_AUTO, &src, err, sizeof(err));
	if (ret == -ENOENT || ret == -EPERM || ret == -EACCES || ret == -EOPNOTSUPP)
		hp_skip("%s", err);
	hp_check(!ret, "starting the fault source: %s", err);
	return src;
}

/* Polling alone brings every record of a CPU that went quiet. */
static void idle_cpus_are_collected(void)
{
	struct hp_collector events = { 0 };
	struct hp_transport *transport = hp_collect_transport(&events);
	struct hp_child child = hp_child_start(CHILD_PAGES);
	struct hp_source_instance *src = start(transport, (__u32)child.pid);
	struct hp_transport_stats tstats;
	struct hp_source_stats stats;
	struct hp_tally t;
	__u64 base, t0, waited;
	int ret;

	base = hp_child_touch(&child);
	t0 = now_ms();
	do {
		ret = hp_transport_poll(transport, 100);
		hp_check(ret >= 0, "poll: %s", strerror(-ret));
		t = hp_tally_events(&events, HP_SRC_FAULT, &child, base);
		waited = now_ms() - t0;
	} while (t.pages < CHILD_PAGES && waited < DEADLINE_MS);
	/* Whatever else the child faulted on (its stack) has arrived as well by now. */
	ret = hp_transport_poll(transport, 4 * HP_TRANSPORT_STAGE_IDLE_MS);
	hp_check(ret >= 0, "poll: %s", strerror(-ret));
	ret = hp_source_read_stats(hp_source_fault.object(src), &stats);
	hp_check(!ret, "reading hp_cpu_state: %s", strerror(-ret));
	hp_transport_read_stats(transport, &tstats);
	printf("idle: %llu of %d pages after %llu ms of polling; %zu events, %llu of them taken "
	       "from stages; sampled %llu emitted %llu dropped %llu errors %llu\n",
	       (unsigned long long)t.pages, CHILD_PAGES, (unsigned long long)waited, events.len,
	       (unsigned long long)tstats.taken, (unsigned long long)stats.sampled,
	       (unsigned long long)stats.emitted, (unsigned long long)stats.dropped,
	       (unsigned long long)stats.errors);

	hp_check(t.pages == CHILD_PAGES, "%llu of the %d touched pages arrived within %d ms",
		 (unsigned long long)t.pages, CHILD_PAGES, DEADLINE_MS);
	hp_check(t.other == 0 && t.wrong_source == 0 && t.bad_fields == 0,
		 "%llu events of others, %llu of another source, %llu with wrong fields: %s",
		 (unsigned long long)t.other, (unsigned long long)t.wrong_source,
		 (unsigned long long)t.bad_fields, t.bad_why);
	/* Fewer records than one stage on any CPU: they can only have been taken. */
	hp_check(stats.sampled < HP_STAGE_RECORDS && tstats.taken == stats.sampled,
		 "sampled %llu, taken %llu: expected all of fewer than %d taken",
		 (unsigned long long)stats.sampled, (unsigned long long)tstats.taken,
		 HP_STAGE_RECORDS);
	hp_check_balanced("fault", &stats); /* nothing left staged */
	hp_check(stats.emitted == events.len, "emitted %llu but %zu events arrived",
		 (unsigned long long)stats.emitted, events.len);

	hp_fault_source_stop(src);
	hp_transport_free(transport);
	hp_child_stop(&child);
	hp_collector_free(&events);
}

/* Stopping a source delivers what its stages hold. */
static void stop_delivers_staged(void)
{
	struct hp_collector events = { 0 };
	struct hp_transport *transport = hp_collect_transport(&events);
	struct hp_child child = hp_child_start(CHILD_PAGES);
	struct hp_source_instance *src = start(transport, (__u32)child.pid);
	struct hp_tally t;
	__u64 base;

	base = hp_child_touch(&child);
	hp_check(events.len == 0, "%zu events before any poll", events.len);
	hp_fault_source_stop(src);
	t = hp_tally_events(&events, HP_SRC_FAULT, &child, base);
	printf("stop: %zu events delivered by the stop itself, %llu of %d pages\n", events.len,
	       (unsigned long long)t.pages, CHILD_PAGES);
	hp_check(t.pages == CHILD_PAGES, "the stop delivered %llu of the %d touched pages",
		 (unsigned long long)t.pages, CHILD_PAGES);
	hp_transport_free(transport);
	hp_child_stop(&child);
	hp_collector_free(&events);
}

int main(void)
{
	hp_require_root();
	idle_cpus_are_collected();
	stop_delivers_staged();
	printf("ok\n");
	return 0;
}
