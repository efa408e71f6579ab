// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: programs that do nothing, on the hooks of the fault and perf
 * sources, for the source benchmark's floor. With BPF_ENABLE_STATS the
 * kernel reads the clock around every run, and on a virtualised host that
 * alone is tens of nanoseconds per run: the floor tells how much of a
 * source's ns/run is the platform's, not the program's.
 *
 * And programs that only count their runs in this CPU's entry of an
 * array: the least any source does (its counters), and so what one line
 * of map data costs a run on that hook, with the workload running.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/page_fault_user")
int BPF_PROG(hp_empty_btf, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	return 0;
}

SEC("tracepoint/exceptions/page_fault_user")
int hp_empty_tp(void *ctx)
{
	return 0;
}

SEC("perf_event")
int hp_empty_perf(struct bpf_perf_event_data *ctx)
{
	return 0;
}

/* One 64-byte line per CPU, like a source's hp_cpu_state entry. */
struct hp_line {
	__u64 runs;
	__u64 pad[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct hp_line);
} hp_lines SEC(".maps");

static __always_inline void count_run(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct hp_line *line = bpf_map_lookup_elem(&hp_lines, &cpu);

	if (line)
		line->runs++;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(hp_line_btf, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	count_run();
	return 0;
}

SEC("tracepoint/exceptions/page_fault_user")
int hp_line_tp(void *ctx)
{
	count_run();
	return 0;
}

SEC("perf_event")
int hp_line_perf(struct bpf_perf_event_data *ctx)
{
	count_run();
	return 0;
}
