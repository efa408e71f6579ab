// SPDX-License-Identifier: GPL-2.0
/*
 * scan: accessed pages found by kmigrated.ko's accessed-bit scanner, from
 * its tracepoint kmigrated:kmigrated_scan_access (a raw tracepoint of the
 * module; arguments pfn, nid, tgid, addr, order), one record per accessed
 * page (a huge page: one record for its head, HP_EV_HUGE), sampled and
 * scoped like every source.
 *
 * The tracepoint runs in the scanner thread: the CPU, its node and the
 * current task say nothing about who accessed the page, so tgid comes
 * from the report, pid is 0 and cpu_node unknown.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define HP_SOURCE_ID HP_SRC_SCAN
#include "hp_source.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("raw_tp/kmigrated_scan_access")
int hp_scan(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 pfn = ctx->args[0];
	__s32 nid = (__s32)ctx->args[1];
	__u32 tgid = (__u32)ctx->args[2];
	__u64 addr = ctx->args[3];
	__s32 order = (__s32)ctx->args[4];
	struct hp_source_cpu *state;
	__u32 cpu;
	struct hp_event *ev;
	__u64 stage;

	/* No cgroup check: the scanner thread's cgroup is not the process's. */
	state = hp_event_begin(tgid, false, &cpu);
	if (!state)
		return 0;
	ev = hp_event_reserve(state, cpu, 0, &stage);
	if (!ev)
		return 0;
	ev->flags = HP_EV_READ; /* an accessed bit: a read or a write */
	if (order > 0)
		ev->flags |= HP_EV_HUGE;
	ev->cpu_node = HP_NODE_UNKNOWN;
	ev->tgid = tgid;
	ev->pid = 0;
	ev->addr = addr;
	ev->pfn = pfn;
	ev->page_node = (__s16)nid;
	hp_event_submit(state, cpu, ev, stage);
	return 0;
}
