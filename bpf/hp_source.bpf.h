/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The producer side every hotness source shares: filter, sample, count,
 * and emit struct hp_event records into the per-CPU ring buffers.
 *
 * Include after vmlinux.h and the libbpf headers, once per BPF object;
 * define HP_SOURCE_ID (enum hp_source) first.
 *
 * Transport. A single ring buffer shared by all CPUs collapses to 2-3 M
 * events/s once two or more CPUs produce into it (its reservation is
 * serialised by one spinlock), against 12-43 M/s for one producer. So
 * every CPU gets its own ring: hp_rings is an array of ring buffer maps
 * indexed by CPU id. Userspace creates it once (user/transport.c) and
 * hands the same outer map to every source object before load
 * (bpf_map__reuse_fd), so all sources land in one set of rings that one
 * epoll loop drains; a full ring is a counted drop, never a stall.
 */
#ifndef HOTPAGE_HP_SOURCE_BPF_H
#define HOTPAGE_HP_SOURCE_BPF_H

#include <stdbool.h>
#include "hotpage/event.h"

#ifndef HP_SOURCE_ID
#error "define HP_SOURCE_ID (enum hp_source) before including hp_source.bpf.h"
#endif

/* Sizes used when userspace does not override them before load. */
#define HP_RING_BYTES_DEFAULT (256 * 1024)
#define HP_RINGS_MAX_CPUS 1024

/* Load-time default of struct hp_source_config.sample_period. */
const volatile __u32 default_sample_period = 1;

struct hp_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, HP_RING_BYTES_DEFAULT);
};

/* One ring per CPU; shared by all sources (see above). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, HP_RINGS_MAX_CPUS);
	__type(key, __u32);
	__array(values, struct hp_ring);
} hp_rings SEC(".maps");

/* This source's counters (one entry, per CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hp_source_stats);
} hp_stats SEC(".maps");

/* This source's runtime configuration (one entry). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hp_source_config);
} hp_config SEC(".maps");

/* Processes in scope when filter_mode is HP_FILTER_TGIDS. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HP_FILTER_TGIDS_MAX);
	__type(key, __u32);
	__type(value, __u8);
} hp_filter_tgids SEC(".maps");

static __always_inline struct hp_source_stats *hp_stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&hp_stats, &zero);
}

static __always_inline struct hp_source_config *hp_config_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&hp_config, &zero);
}

/*
 * Cost. Most events are not emitted (a source samples one in
 * sample_period), so the path that ends in "not this one" decides the
 * source's cost: it calls no helper unless a filter needs one, reads no
 * clock, and touches two cache lines, this CPU's counters (seen and
 * countdown side by side) and the config. On a busy virtualised host each
 * cold line a program touches costs tens of nanoseconds, as much as a
 * helper call (measured on 6.18: the program runs at ~80 ns empty, one
 * per-CPU map write adds ~60, bpf_ktime_get_ns ~160). The emitting path
 * calls each helper once.
 */

/*
 * Is @tgid in scope? @cgroup_check: the event runs in the context of the
 * accessing task, so the current cgroup means something (not true for
 * DAMON or scan reports, which name a process they did not run in).
 */
static __always_inline bool hp_in_scope(const struct hp_source_config *cfg, __u32 tgid,
					bool cgroup_check)
{
	switch (cfg->filter_mode) {
	case HP_FILTER_TGIDS:
		return bpf_map_lookup_elem(&hp_filter_tgids, &tgid) != NULL;
	case HP_FILTER_CGROUP:
		return cgroup_check && bpf_get_current_cgroup_id() == cfg->cgroup_id;
	default:
		return true;
	}
}

/*
 * One in sample_period events passes: a per-CPU countdown, deterministic
 * so that rates can be checked, cheaper than a random draw (a helper
 * call). While the countdown runs only it and the configured period are
 * read; the load-time default (rodata, another cache line) only when it
 * restarts. A period lowered at runtime cuts the running countdown short;
 * a switch from an explicit period back to the default (0) takes effect
 * when the running countdown ends.
 */
static __always_inline bool hp_sample(struct hp_source_stats *stats,
				      const struct hp_source_config *cfg)
{
	__u64 countdown = stats->countdown;
	__u32 period;

	if (countdown) {
		if (cfg->sample_period && countdown >= cfg->sample_period)
			countdown = cfg->sample_period - 1;
		if (countdown) {
			stats->countdown = countdown - 1;
			return false;
		}
	}
	period = cfg->sample_period ? cfg->sample_period : default_sample_period;
	stats->countdown = period > 1 ? period - 1 : 0;
	return true;
}

/* Count the event and apply scope and sampling to it; the stats when it passes. */
static __always_inline struct hp_source_stats *
hp_event_pass(struct hp_source_stats *stats, const struct hp_source_config *cfg, bool in_scope)
{
	if (!in_scope || !hp_sample(stats, cfg))
		return NULL;
	stats->sampled++;
	return stats;
}

/*
 * For sources whose events name a process they did not run in (@tgid;
 * @cgroup_check as for hp_in_scope): count the event, apply scope and
 * sampling; returns the stats to pass to hp_event_reserve() when the event
 * is to be emitted, else NULL.
 */
static __always_inline struct hp_source_stats *hp_event_begin(__u32 tgid, bool cgroup_check)
{
	struct hp_source_stats *stats = hp_stats_get();
	struct hp_source_config *cfg = hp_config_get();

	if (!stats || !cfg)
		return NULL;
	stats->seen++;
	return hp_event_pass(stats, cfg, hp_in_scope(cfg, tgid, cgroup_check));
}

/*
 * The same for sources that run in the accessing task (fault, perf): its
 * pid_tgid is read only when a tgid filter needs it, and then handed back
 * in @pid_tgid for hp_event_reserve() (0 when not read).
 */
static __always_inline struct hp_source_stats *hp_event_begin_current(__u64 *pid_tgid)
{
	struct hp_source_stats *stats = hp_stats_get();
	struct hp_source_config *cfg = hp_config_get();
	bool in_scope = true;

	*pid_tgid = 0;
	if (!stats || !cfg)
		return NULL;
	stats->seen++;
	if (cfg->filter_mode == HP_FILTER_TGIDS) {
		*pid_tgid = bpf_get_current_pid_tgid();
		in_scope = hp_in_scope(cfg, *pid_tgid >> 32, true);
	} else if (cfg->filter_mode != HP_FILTER_NONE) {
		in_scope = hp_in_scope(cfg, 0, true);
	}
	return hp_event_pass(stats, cfg, in_scope);
}

/*
 * Reserve a record in this CPU's ring and fill the fields every source
 * sets; NULL (and counted) when the ring is missing or full. @pid_tgid:
 * the current task's bpf_get_current_pid_tgid(), or 0 to have it read
 * here. *@ring receives the ring for hp_event_submit().
 */
static __always_inline struct hp_event *hp_event_reserve(struct hp_source_stats *stats,
							 __u64 pid_tgid, void **ring)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct hp_event *ev;

	*ring = bpf_map_lookup_elem(&hp_rings, &cpu);
	if (!*ring) {
		stats->errors++;
		return NULL;
	}
	ev = bpf_ringbuf_reserve(*ring, sizeof(*ev), 0);
	if (!ev) {
		stats->dropped++;
		return NULL;
	}
	if (!pid_tgid)
		pid_tgid = bpf_get_current_pid_tgid();
	ev->version = HP_EVENT_VERSION;
	ev->source = HP_SOURCE_ID;
	ev->flags = 0;
	ev->cpu = cpu;
	ev->cpu_node = bpf_get_numa_node_id();
	ev->tgid = pid_tgid >> 32;
	ev->pid = (__u32)pid_tgid;
	ev->ts_ns = bpf_ktime_get_ns();
	ev->addr = 0;
	ev->end = 0;
	ev->pfn = HP_PFN_UNKNOWN;
	ev->page_node = HP_NODE_UNKNOWN;
	ev->reserved = 0;
	ev->nr_accesses = 1;
	ev->age = 0;
	ev->target = 0;
	return ev;
}

/*
 * Wake the consumer when a batch waits (HP_RING_WAKEUP_DIVISOR of the
 * ring), not per record. The kernel's default wakes whenever the consumer
 * has caught up, which at moderate rates is nearly every record: an
 * irq_work self-IPI and a remote wakeup each time, microseconds on a
 * virtualised host (measured: +100% on a fault loop at one event per
 * fault). Records below the mark wait for the consumer's poll timeout.
 */
#define HP_RING_WAKEUP_DIVISOR 16

/* Submit @ev, reserved by hp_event_reserve() in @ring. */
static __always_inline void hp_event_submit(struct hp_source_stats *stats, void *ring,
					    struct hp_event *ev)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) >=
	    bpf_ringbuf_query(ring, BPF_RB_RING_SIZE) / HP_RING_WAKEUP_DIVISOR)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(ev, flags);
	stats->emitted++;
}

#endif /* HOTPAGE_HP_SOURCE_BPF_H */
