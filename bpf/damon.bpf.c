// SPDX-License-Identifier: GPL-2.0
/*
 * damon: DAMON's aggregated regions, from damon:damon_aggregated, one
 * record (HP_EV_REGION) per region per aggregation interval, for the
 * kdamonds userspace registered in hp_damon_kd (see hotpage/damon.h).
 *
 * Two entry points share one body; userspace loads exactly one of them:
 * hp_damon_btf (tp_btf, reads the region through CO-RE) where the kernel's
 * BTF has the tracepoint, otherwise hp_damon_tp (classic tracepoint).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "hotpage/damon.h"

#define HP_SOURCE_ID HP_SRC_DAMON
#include "hp_source.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by userspace before load. */
const volatile __u32 page_shift = 12;

/* kdamond thread id -> what it monitors. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HP_DAMON_KDAMONDS_MAX);
	__type(key, __u32);
	__type(value, struct hp_damon_kd);
} hp_damon_kd SEC(".maps");

/* (kdamond, vaddr target index) -> tgid of the target process. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HP_DAMON_TARGETS_MAX);
	__type(key, struct hp_damon_tgt_key);
	__type(value, __u32);
} hp_damon_tgt SEC(".maps");

static __always_inline void record(__u32 target, __u64 start, __u64 end, __u32 nr_accesses,
				   __u32 age)
{
	/* The tracepoint runs in the kdamond thread: its id names the context. */
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct hp_damon_tgt_key key = { .kdamond_tid = tid, .target = target };
	struct hp_source_cpu *state;
	__u32 cpu;
	struct hp_damon_kd *kd;
	struct hp_event *ev;
	__u64 stage;
	__u32 *tgidp, tgid = 0;
	bool paddr;

	kd = bpf_map_lookup_elem(&hp_damon_kd, &tid);
	if (!kd)
		return; /* another user's kdamond */
	paddr = kd->flags & HP_DAMON_KD_PADDR;
	if (!paddr) {
		tgidp = bpf_map_lookup_elem(&hp_damon_tgt, &key);
		if (tgidp)
			tgid = *tgidp;
	}
	/* No cgroup check: the kdamond's cgroup is not the monitored process's. */
	state = hp_event_begin(tgid, false, &cpu);
	if (!state)
		return;
	ev = hp_event_reserve(state, cpu, 0, &stage);
	if (!ev)
		return;
	ev->flags = HP_EV_REGION | (paddr ? HP_EV_PHYS : 0);
	ev->cpu_node = HP_NODE_UNKNOWN; /* the kdamond's CPU did not make the accesses */
	ev->tgid = tgid;
	ev->pid = 0;
	ev->addr = start;
	ev->end = end;
	if (paddr)
		ev->pfn = start >> page_shift; /* the region's first page */
	ev->nr_accesses = nr_accesses;
	ev->age = age;
	ev->target = target;
	hp_event_submit(state, cpu, ev, stage);
}

/*
 * The classic tracepoint's record, as tracefs's events/damon/
 * damon_aggregated/format lays it out (unchanged from 5.15 to 6.18).
 * Declared here, without CO-RE, so that a kernel whose BTF lacks
 * trace_event_raw_damon_aggregated still loads it.
 */
struct hp_damon_aggregated_record {
	__u64 common;
	unsigned long target_id;
	unsigned int nr_regions;
	unsigned long start;
	unsigned long end;
	unsigned int nr_accesses;
	unsigned int age;
};

SEC("tracepoint/damon/damon_aggregated")
int hp_damon_tp(struct hp_damon_aggregated_record *ctx)
{
	record((__u32)ctx->target_id, ctx->start, ctx->end, ctx->nr_accesses, ctx->age);
	return 0;
}

/* 6.0+: TP_PROTO(unsigned int target_id, struct damon_region *r, unsigned int nr_regions). */
SEC("tp_btf/damon_aggregated")
int BPF_PROG(hp_damon_btf, unsigned int target_id, struct damon_region *r, unsigned int nr_regions)
{
	record(target_id, BPF_CORE_READ(r, ar.start), BPF_CORE_READ(r, ar.end),
	       BPF_CORE_READ(r, nr_accesses), BPF_CORE_READ(r, age));
	return 0;
}
