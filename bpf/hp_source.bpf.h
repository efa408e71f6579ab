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
 * indexed by CPU id. Userspace creates it once (user/sources/transport.c) and
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

/*
 * This source's per-CPU state (struct hp_source_cpu, key: CPU id):
 * counters, sampling state, a copy of the configuration. A plain array
 * indexed by CPU, not a BPF_MAP_TYPE_PERCPU_ARRAY: in a VM a per-CPU
 * array's entry costs a run more than twice what this one does (make
 * bench-sources reports the BPF time per run). Mmapable so that userspace
 * can rewrite the configuration words without touching the counters next
 * to them; sized to the possible CPUs by userspace before load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, HP_RINGS_MAX_CPUS);
	__type(key, __u32);
	__type(value, struct hp_source_cpu);
} hp_cpu_state SEC(".maps");

/* Processes in scope when filter_mode is HP_FILTER_TGIDS. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HP_FILTER_TGIDS_MAX);
	__type(key, __u32);
	__type(value, __u8);
} hp_filter_tgids SEC(".maps");

/* This CPU's state; its id in *@cpu. */
static __always_inline struct hp_source_cpu *hp_cpu_get(__u32 *cpu)
{
	*cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&hp_cpu_state, cpu);
}

/*
 * Cost. Most events are not emitted (a source samples one in
 * sample_period), so the path that ends in "not this one" decides the
 * source's cost: it calls no helper but bpf_get_smp_processor_id()
 * (inlined from 6.10 on x86) unless a filter needs one, reads no clock,
 * and touches one cache line, this CPU's entry (counters, sampling
 * state and configuration side by side). On a busy virtualised host each
 * cold line a program touches costs tens of nanoseconds, as much as a
 * helper call; a clock read or a ring buffer record costs more than an
 * empty run (make bench-sources reports the BPF time per run). The
 * emitting path calls each helper once.
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
 * call). Only the countdown and the configured period are read: userspace
 * writes the load-time default into the configuration
 * (hp_source_write_config), so the rodata default, a page of its own
 * (a cold line), is read only until the configuration is first written.
 * A period lowered at runtime cuts the running countdown short.
 */
static __always_inline bool hp_sample(struct hp_source_cpu *state,
				      const struct hp_source_config *cfg)
{
	__u32 countdown = state->countdown;
	__u32 period;

	if (countdown) {
		if (cfg->sample_period && countdown >= cfg->sample_period)
			countdown = cfg->sample_period - 1;
		if (countdown) {
			state->countdown = countdown - 1;
			return false;
		}
	}
	period = cfg->sample_period ? cfg->sample_period : default_sample_period;
	state->countdown = period > 1 ? period - 1 : 0;
	return true;
}

/* Count the event and apply scope and sampling to it; the state when it passes. */
static __always_inline struct hp_source_cpu *hp_event_pass(struct hp_source_cpu *state,
							   bool in_scope)
{
	if (!in_scope || !hp_sample(state, &state->config))
		return NULL;
	state->sampled++;
	return state;
}

/*
 * For sources whose events name a process they did not run in (@tgid;
 * @cgroup_check as for hp_in_scope): count the event, apply scope and
 * sampling; returns this CPU's state to pass to hp_event_reserve() when
 * the event is to be emitted, else NULL. *@cpu: this CPU's id.
 */
static __always_inline struct hp_source_cpu *hp_event_begin(__u32 tgid, bool cgroup_check,
							    __u32 *cpu)
{
	struct hp_source_cpu *state = hp_cpu_get(cpu);

	if (!state)
		return NULL;
	state->seen++;
	return hp_event_pass(state, hp_in_scope(&state->config, tgid, cgroup_check));
}

/*
 * The same for sources that run in the accessing task (fault, perf): its
 * pid_tgid is read only when a tgid filter needs it, and then handed back
 * in @pid_tgid for hp_event_reserve() (0 when not read).
 */
static __always_inline struct hp_source_cpu *hp_event_begin_current(__u64 *pid_tgid, __u32 *cpu)
{
	struct hp_source_cpu *state = hp_cpu_get(cpu);
	bool in_scope = true;

	*pid_tgid = 0;
	if (!state)
		return NULL;
	state->seen++;
	if (state->config.filter_mode == HP_FILTER_TGIDS) {
		*pid_tgid = bpf_get_current_pid_tgid();
		in_scope = hp_in_scope(&state->config, *pid_tgid >> 32, true);
	} else if (state->config.filter_mode != HP_FILTER_NONE) {
		in_scope = hp_in_scope(&state->config, 0, true);
	}
	return hp_event_pass(state, in_scope);
}

/*
 * The record's time: CLOCK_MONOTONIC read once per tick per CPU, at the
 * first record of the tick; later records of that tick reuse it, so a
 * time lags the access by less than one tick (1-10 ms). Hotness is judged
 * over windows of a second or more; and reading the clock costs more
 * than an empty run in a VM whose clocksource is kvm-clock, jiffies
 * nearly nothing.
 */
static __always_inline __u64 hp_event_clock(struct hp_source_cpu *state)
{
	__u64 jiffies = bpf_jiffies64();

	if (jiffies != state->clock_jiffies) {
		state->clock_jiffies = jiffies;
		state->clock_ns = bpf_ktime_get_ns();
	}
	return state->clock_ns;
}

/*
 * Staging. A ring buffer record costs as much as the rest of a sampled
 * run on a virtualised host, whatever its size (reservation lock, header,
 * the consumer's cache lines changing hands). So a CPU writes
 * its records into its own entry (hp_source_cpu.staged, lines no other
 * CPU touches) and sends HP_STAGE_RECORDS of them to its ring as one
 * record: one ring operation per 16 records. A CPU that stops producing
 * would strand its last records; userspace takes those from the stage
 * (user/sources/transport.c), and the compare-and-exchange on hp_source_cpu.stage
 * decides who owns them (see include/hotpage/event.h).
 *
 * One producer per entry: the programs of one object never nest on a
 * CPU (tp_btf and fentry programs skip a run while their own is active
 * there, kprobe, tracepoint and perf_event programs while any is), and a
 * program stays on its CPU while it runs.
 */

/*
 * The slot of the next record in this CPU's stage (@cpu, as
 * hp_event_begin*() gave it), with the fields every source sets filled
 * in; NULL (and counted) if the stage is corrupt. @pid_tgid: the current
 * task's bpf_get_current_pid_tgid(), or 0 to have it read here. *@stage
 * receives the stage word for hp_event_submit().
 */
static __always_inline struct hp_event *hp_event_reserve(struct hp_source_cpu *state, __u32 cpu,
							 __u64 pid_tgid, __u64 *stage)
{
	struct hp_event *ev;
	__u32 n;

	*stage = *(volatile __u64 *)&state->stage;
	n = HP_STAGE_COUNT(*stage);
	if (n >= HP_STAGE_RECORDS) {
		state->errors++;
		return NULL;
	}
	ev = &state->staged[n];
	if (!pid_tgid)
		pid_tgid = bpf_get_current_pid_tgid();
	ev->version = HP_EVENT_VERSION;
	ev->source = HP_SOURCE_ID;
	ev->flags = state->record_flags;
	ev->cpu = cpu;
	ev->cpu_node = bpf_get_numa_node_id();
	ev->tgid = pid_tgid >> 32;
	ev->pid = (__u32)pid_tgid;
	ev->ts_ns = hp_event_clock(state);
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
 * Wake the consumer once per batch of records on this CPU, not per
 * record: userspace sets hp_wakeup_mask before load (hp_source_prepare)
 * to a power of two less one, in stages, about 1/16 of a ring. The
 * kernel's default wakes whenever the consumer has caught up, which at
 * moderate rates is nearly every record: an irq_work self-IPI and a
 * remote wakeup each time, microseconds on a virtualised host, more than
 * the fault itself at one event per fault. Records between wakeups
 * wait for the consumer's poll timeout. Counting, not asking the ring how
 * full it is: that would be two more helper calls per record.
 */
const volatile __u64 hp_wakeup_mask = 3;

/* Send this CPU's full stage, which the caller owns, to its ring. */
static __always_inline void hp_stage_send(struct hp_source_cpu *state, __u32 cpu)
{
	void *ring = bpf_map_lookup_elem(&hp_rings, &cpu);
	__u64 flags;

	if (!ring) {
		state->errors += HP_STAGE_RECORDS;
		return;
	}
	flags = ++state->flushes & hp_wakeup_mask ? BPF_RB_NO_WAKEUP : BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(ring, state->staged, sizeof(state->staged), flags))
		state->dropped += HP_STAGE_RECORDS;
	else
		state->emitted += HP_STAGE_RECORDS;
}

/*
 * Publish @ev, written in the slot hp_event_reserve() gave for @stage
 * (the stage word it read). The record that fills the stage sends it.
 */
static __always_inline void hp_event_submit(struct hp_source_cpu *state, __u32 cpu,
					    struct hp_event *ev, __u64 stage)
{
	__u32 n = HP_STAGE_COUNT(stage) + 1;
	__u64 next = n < HP_STAGE_RECORDS ? stage + 1 : HP_STAGE_NEXT_GEN(stage);

	if (__sync_val_compare_and_swap(&state->stage, stage, next) == stage) {
		if (n == HP_STAGE_RECORDS)
			hp_stage_send(state, cpu);
		return;
	}
	/*
	 * Userspace took staged[0, n - 1) meanwhile and left (gen + 1, 0):
	 * it only takes from a stage that holds records, so @ev is not in
	 * slot 0. It becomes the first record of the new stage.
	 */
	stage = *(volatile __u64 *)&state->stage;
	if (HP_STAGE_COUNT(stage) || n == 1) {
		state->errors++;
		return;
	}
	state->staged[0] = *ev;
	if (__sync_val_compare_and_swap(&state->stage, stage, stage + 1) != stage)
		state->errors++;
}

#endif /* HOTPAGE_HP_SOURCE_BPF_H */
