// SPDX-License-Identifier: GPL-2.0
/*
 * fault: user page faults, from exceptions:page_fault_user, one hp_event
 * per sampled fault: process, thread, address, access kind from the error
 * code, CPU and its node, time.
 *
 * Two entry points share one body; userspace loads exactly one of them:
 * hp_fault_btf (tp_btf, raw arguments, cheaper) where the kernel's BTF has
 * the tracepoint, otherwise hp_fault_tp (classic tracepoint, any kernel).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hotpage/fault.h"

#define HP_SOURCE_ID HP_SRC_FAULT
#include "hp_source.bpf.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline void record(__u64 address, unsigned long error_code)
{
	/* The fault runs in the faulting task: current is the process, its cgroup counts. */
	struct hp_source_cpu *state;
	__u32 cpu;
	struct hp_event *ev;
	__u64 pid_tgid;
	__u64 stage;

	state = hp_event_begin_current(&pid_tgid, &cpu);
	if (!state)
		return;
	ev = hp_event_reserve(state, cpu, pid_tgid, &stage);
	if (!ev)
		return;
	ev->addr = address;
	ev->flags = hp_fault_flags(error_code);
	hp_event_submit(state, cpu, ev, stage);
}

/*
 * The classic tracepoint's record, as tracefs's events/exceptions/
 * page_fault_user/format lays it out. Declared here, without CO-RE: some
 * kernels' BTF (6.18 for one) lacks trace_event_raw_x86_exceptions, and the
 * relocation would fail; the format has not changed since the tracepoint
 * appeared (3.17).
 */
struct hp_page_fault_user_record {
	__u64 common; /* common_type, common_flags, common_preempt_count, common_pid */
	unsigned long address;
	unsigned long ip;
	unsigned long error_code;
};

SEC("tracepoint/exceptions/page_fault_user")
int hp_fault_tp(struct hp_page_fault_user_record *ctx)
{
	record(ctx->address, ctx->error_code);
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(hp_fault_btf, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	record(address, error_code);
	return 0;
}
