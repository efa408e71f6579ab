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
 * of map data costs a run on that hook, with the workload running. Then
 * programs that also write a 64-byte record per run into a ring of slots
 * of their CPU: the least a source that emits on every run does.
 */
#include "vmlinux.h"
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hp_empty.h"

char LICENSE[] SEC("license") = "GPL";

/* One line per CPU, like a source's hp_cpu_state entry. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct hp_line);
} hp_lines SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * HP_RECORD_SLOTS); /* userspace: CPUs x HP_RECORD_SLOTS */
	__type(key, __u32);
	__type(value, struct hp_line);
} hp_records SEC(".maps");

/* Count this run in this CPU's line; with @write_record, also fill its next slot. */
static __always_inline void count_run(bool write_record)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct hp_line *line = bpf_map_lookup_elem(&hp_lines, &cpu);
	struct hp_line *record;
	__u32 slot;

	if (!line)
		return;
	slot = cpu * HP_RECORD_SLOTS + (__u32)(line->runs++ % HP_RECORD_SLOTS);
	if (!write_record)
		return;
	record = bpf_map_lookup_elem(&hp_records, &slot);
	if (!record)
		return;
	record->runs = slot;
	for (int i = 0; i < 7; i++)
		record->pad[i] = slot + i;
}

/*
 * hp_<name>_btf, hp_<name>_tp and hp_<name>_perf: @work on each hook a
 * source uses (the bench finds them by these names).
 */
#define HP_ON_EACH_HOOK(name, work)                                                                \
	SEC("tp_btf/page_fault_user")                                                              \
	int BPF_PROG(hp_##name##_btf, unsigned long address, struct pt_regs *regs,                 \
		     unsigned long error_code)                                                     \
	{                                                                                          \
		work;                                                                              \
		return 0;                                                                          \
	}                                                                                          \
	SEC("tracepoint/exceptions/page_fault_user")                                               \
	int hp_##name##_tp(void *ctx)                                                              \
	{                                                                                          \
		work;                                                                              \
		return 0;                                                                          \
	}                                                                                          \
	SEC("perf_event")                                                                          \
	int hp_##name##_perf(struct bpf_perf_event_data *ctx)                                      \
	{                                                                                          \
		work;                                                                              \
		return 0;                                                                          \
	}

HP_ON_EACH_HOOK(empty, (void)0)
HP_ON_EACH_HOOK(line, count_run(false))
HP_ON_EACH_HOOK(record, count_run(true))
