// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: programs that do nothing, on the hooks of the fault and perf
 * sources, for the source benchmark's floor. With BPF_ENABLE_STATS the
 * kernel reads the clock around every run, and on a virtualised host that
 * alone is tens of nanoseconds per run: the floor tells how much of a
 * source's ns/run is the platform's, not the program's.
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
