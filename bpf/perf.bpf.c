// SPDX-License-Identifier: GPL-2.0
/*
 * perf: sampled memory accesses from a perf event opened on every CPU with
 * PERF_SAMPLE_ADDR: hardware memory-access sampling (Intel PEBS load
 * latency, AMD IBS op) where the CPU has it, else the software page-fault
 * event. The event's own period does the sampling; the program runs once
 * per sample, in the context of the task that made the access.
 *
 * Two entry points; userspace loads exactly one of them:
 * hp_perf_kctx reads the sample through bpf_cast_to_kern_ctx() (6.2+):
 * only an address the PMU recorded (sample_flags), and the weight and
 * load/store kind of hardware samples; hp_perf reads ctx->addr, the one
 * field every kernel's perf_event context has.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define HP_SOURCE_ID HP_SRC_PERF
#include "hp_source.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Above any user address (x86-64 with 5-level paging: 2^56; arm64: 2^52). */
#define HP_USER_ADDR_END (1ULL << 56)
/* union perf_mem_data_src: mem_op is its low 5 bits. */
#define HP_MEM_OP_MASK 0x1f
#define HP_MEM_OP_LOAD 0x02
#define HP_MEM_OP_STORE 0x04

/* Weak: a kernel without the kfunc (6.1) still loads hp_perf from this object. */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

/*
 * @flags: the access kind the sample says, or -1 for what the event
 * samples (hp_source_cpu.record_flags, set by userspace: read from this
 * CPU's line, not from rodata, a page of its own).
 */
static __always_inline void record(__u64 addr, __u32 weight, int flags)
{
	struct hp_source_cpu *state;
	__u32 cpu;
	struct hp_event *ev;
	__u64 pid_tgid;
	__u64 stage;

	/* No data address, or a kernel one: not a user page. Seen, not sampled. */
	if (!addr || addr >= HP_USER_ADDR_END) {
		state = hp_cpu_get(&cpu);
		if (state)
			state->seen++;
		return;
	}
	state = hp_event_begin_current(&pid_tgid, &cpu);
	if (!state)
		return;
	ev = hp_event_reserve(state, cpu, pid_tgid, &stage);
	if (!ev)
		return;
	ev->addr = addr;
	if (flags >= 0)
		ev->flags = (__u16)flags;
	if (weight)
		ev->nr_accesses = weight;
	hp_event_submit(state, cpu, ev, stage);
}

/* Return 0: the sample is not also written to a perf buffer (there is none). */
SEC("perf_event")
int hp_perf(struct bpf_perf_event_data *ctx)
{
	record(ctx->addr, 0, -1);
	return 0;
}

SEC("perf_event")
int hp_perf_kctx(struct bpf_perf_event_data *ctx)
{
	struct bpf_perf_event_data_kern *kctx = bpf_cast_to_kern_ctx(ctx);
	struct perf_sample_data *data = kctx->data;
	__u64 sample_flags = data->sample_flags;
	__u32 weight = 0;
	int flags = -1;
	__u64 addr = 0;

	if (sample_flags & PERF_SAMPLE_ADDR)
		addr = data->addr;
	if (sample_flags & (PERF_SAMPLE_WEIGHT | PERF_SAMPLE_WEIGHT_STRUCT))
		weight = data->weight.var1_dw;
	if (sample_flags & PERF_SAMPLE_DATA_SRC) {
		__u64 op = data->data_src.val & HP_MEM_OP_MASK;

		if (op & HP_MEM_OP_LOAD)
			flags = HP_EV_READ;
		else if (op & HP_MEM_OP_STORE)
			flags = HP_EV_WRITE;
	}
	record(addr, weight, flags);
	return 0;
}
