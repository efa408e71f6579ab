// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only producer for the transport benchmark: each run of hp_flood
 * emits args->n records through the same producer path as the sources
 * (bpf/hp_source.bpf.h), into the ring of the CPU it runs on, at a rate
 * no real hook on a test machine reaches. Records carry source
 * HP_SRC_MAX, which no real source uses.
 *
 * One caller at a time per CPU: a syscall program, unlike the sources'
 * hooks, has no guard against a second run on the same CPU (a run can be
 * preempted), and each CPU's stage has exactly one producer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define HP_SOURCE_ID HP_SRC_MAX
#include "../../bpf/hp_source.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct hp_flood_args {
	__u32 n;
};

static long emit_one(__u32 index, void *ctx)
{
	__u32 cpu;
	struct hp_source_cpu *state = hp_event_begin(0, false, &cpu);
	struct hp_event *ev;
	__u64 stage;

	if (!state)
		return 0;
	ev = hp_event_reserve(state, cpu, 0, &stage);
	if (!ev)
		return 0;
	ev->addr = (__u64)index << 12;
	hp_event_submit(state, cpu, ev, stage);
	return 0;
}

SEC("syscall")
int hp_flood(struct hp_flood_args *args)
{
	bpf_loop(args->n, emit_one, NULL, 0);
	return 0;
}
