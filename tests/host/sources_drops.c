// SPDX-License-Identifier: GPL-2.0
/*
 * A full ring is a counted drop, never a stall or a lost count: `fault`
 * and `perf` share one transport whose rings are a single page each, and
 * a child faults on NR_PAGES pages while nothing drains them. Both
 * sources must count drops, keep sampled = emitted + dropped + errors,
 * and every record they counted as emitted must come out once the rings
 * are drained; a second storm after the drain must emit again.
 */
#include <stdio.h>

#include "fault_source.h"
#include "hp_live.h"
#include "perf_source.h"

#define NR_PAGES 4096

struct storm_result {
	struct hp_source_stats fault, perf;
};

static void read_both(struct hp_source_instance *fault, struct hp_source_instance *perf,
		      struct storm_result *out)
{
	int ret = hp_source_read_stats(hp_source_fault.object(fault), &out->fault);

	if (!ret)
		ret = hp_source_read_stats(hp_source_perf.object(perf), &out->perf);
	hp_check(!ret, "reading hp_cpu_state: %s", strerror(-ret));
}

/*
 * Before a drain a CPU's stage may still hold up to HP_STAGE_RECORDS - 1
 * records that are neither emitted nor dropped yet; after it, none.
 */
static void check_invariant(const char *name, const struct hp_source_stats *s, __u64 rings,
			    bool drained)
{
	__u64 accounted = s->emitted + s->dropped + s->errors;

	printf("  %s: seen %llu sampled %llu emitted %llu dropped %llu errors %llu\n", name,
	       (unsigned long long)s->seen, (unsigned long long)s->sampled,
	       (unsigned long long)s->emitted, (unsigned long long)s->dropped,
	       (unsigned long long)s->errors);
	if (drained)
		hp_check_balanced(name, s);
	else
		hp_check(
			s->sampled >= accounted &&
				s->sampled - accounted < HP_STAGE_RECORDS * rings,
			"%s: sampled %llu, emitted + dropped + errors %llu: more than the stages hold",
			name, (unsigned long long)s->sampled, (unsigned long long)accounted);
	hp_check(s->errors == 0, "%s: %llu errors", name, (unsigned long long)s->errors);
}

int main(void)
{
	struct hp_collector events = { 0 };
	long page_size = sysconf(_SC_PAGESIZE);
	struct hp_transport_opts topts = {
		.ring_bytes = (__u32)page_size,
		.on_event = hp_collect,
		.ctx = &events,
	};
	struct hp_perf_params perf_params = { .event = HP_PERF_EVENT_PAGE_FAULTS };
	struct hp_transport *transport = NULL;
	struct hp_source_instance *fault = NULL, *perf = NULL;
	struct hp_child child;
	struct storm_result before, after;
	struct hp_source_opts opts = { .sample_period = 1, .filter_mode = HP_FILTER_TGIDS };
	/* A record takes its 64 bytes and the ring's 8-byte header. */
	__u64 per_ring = (__u64)page_size / (sizeof(struct hp_event) + 8);
	__u64 rings, emitted;
	__u32 tgid;
	char err[512];
	int ret;

	hp_require_root();
	setvbuf(stdout, NULL, _IOLBF, 0);
	child = hp_child_start(NR_PAGES);
	tgid = (__u32)child.pid;
	opts.tgids = &tgid;
	opts.nr_tgids = 1;

	ret = hp_transport_new(&topts, &transport, err, sizeof(err));
	hp_check(!ret, "transport: %s", err);
	rings = (__u64)hp_transport_nr_rings(transport);
	ret = hp_fault_source_start(transport, &opts, HP_FAULT_ATTACH_AUTO, &fault, err,
				    sizeof(err));
	if (ret == -ENOENT || ret == -EPERM) {
		hp_child_stop(&child);
		hp_skip("fault: %s", err);
	}
	hp_check(!ret, "fault: %s", err);
	ret = hp_perf_source_start(transport, &opts, &perf_params, &perf, err, sizeof(err));
	if (ret == -ENOENT || ret == -EPERM || ret == -EACCES) {
		hp_child_stop(&child);
		hp_skip("perf: %s", err);
	}
	hp_check(!ret, "perf: %s", err);
	printf("rings of %ld bytes (%llu records each) on %llu CPUs; fault and perf sample "
	       "every fault of child %d\n",
	       page_size, (unsigned long long)per_ring, (unsigned long long)rings, child.pid);

	for (int storm = 1; storm <= 2; storm++) {
		read_both(fault, perf, &before);
		hp_collector_reset(&events);
		hp_child_touch(&child); /* nobody drains meanwhile */
		read_both(fault, perf, &after);
		printf(" storm %d, before draining:\n", storm);
		check_invariant("fault", &after.fault, rings, false);
		check_invariant("perf", &after.perf, rings, false);
		hp_check(after.fault.dropped > before.fault.dropped,
			 "fault: no drop counted with %d faults into %llu-record rings", NR_PAGES,
			 (unsigned long long)per_ring);
		hp_check(after.perf.dropped > before.perf.dropped,
			 "perf: no drop counted with %d faults into %llu-record rings", NR_PAGES,
			 (unsigned long long)per_ring);
		emitted = (after.fault.emitted - before.fault.emitted) +
			  (after.perf.emitted - before.perf.emitted);
		hp_check(emitted <= per_ring * rings, "%llu records emitted, the rings hold %llu",
			 (unsigned long long)emitted, (unsigned long long)(per_ring * rings));
		hp_check(emitted > 0, "nothing emitted");
		hp_drain(transport);
		/* The drain takes what the stages held: emitted grows by that. */
		read_both(fault, perf, &after);
		printf(" storm %d, drained:\n", storm);
		check_invariant("fault", &after.fault, rings, true);
		check_invariant("perf", &after.perf, rings, true);
		emitted = (after.fault.emitted - before.fault.emitted) +
			  (after.perf.emitted - before.perf.emitted);
		printf("  drained %zu records, emitted %llu\n", events.len,
		       (unsigned long long)emitted);
		hp_check(events.len == emitted, "drained %zu records, the sources emitted %llu",
			 events.len, (unsigned long long)emitted);
	}

	hp_perf_source_stop(perf);
	hp_fault_source_stop(fault);
	hp_transport_free(transport);
	hp_child_stop(&child);
	hp_collector_free(&events);
	return 0;
}
