// SPDX-License-Identifier: GPL-2.0
/*
 * fault: counts user page faults per page, from exceptions:page_fault_user.
 *
 * Two entry points share one body; userspace loads exactly one of them:
 * hp_fault_btf (tp_btf, raw arguments, cheaper) where the kernel's BTF has
 * the tracepoint, otherwise hp_fault_tp (classic tracepoint, any kernel).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "hotpage/fault.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by userspace before load. */
const volatile __u32 target_tgid = 0; /* count only this process; 0: all */
const volatile __u32 page_shift = 12;

/* Fault count per (tgid, page); LRU so that a full map evicts cold pages. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HP_FAULT_PAGES_DEFAULT);
	__type(key, struct hp_fault_key);
	__type(value, struct hp_fault_val);
} hp_fault_pages SEC(".maps");

/* Process name per tgid, so that exited processes still show a name. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HP_FAULT_COMMS_MAX);
	__type(key, __u32);
	__type(value, struct hp_fault_comm);
} hp_fault_comms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hp_fault_stats);
} hp_fault_stats SEC(".maps");

/* Only on a process's new pages: a lookup per fault would cost more. */
static __always_inline void remember_comm(__u32 tgid)
{
	struct task_struct *task;
	struct hp_fault_comm name = {};

	if (bpf_map_lookup_elem(&hp_fault_comms, &tgid))
		return;
	/* The group leader's name is the process's name; a thread may rename itself. */
	task = (struct task_struct *)bpf_get_current_task();
	BPF_CORE_READ_STR_INTO(&name.comm, task, group_leader, comm);
	bpf_map_update_elem(&hp_fault_comms, &tgid, &name, BPF_NOEXIST);
}

static __always_inline void count_fault(__u64 address)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct hp_fault_key key = {};
	struct hp_fault_val *val;
	struct hp_fault_stats *stats;
	__u32 zero = 0;
	__u64 now;

	stats = bpf_map_lookup_elem(&hp_fault_stats, &zero);
	if (!stats)
		return;
	stats->seen++;
	if (target_tgid && tgid != target_tgid)
		return;

	key.tgid = tgid;
	key.page = address & ~((1ULL << page_shift) - 1);
	now = bpf_ktime_get_ns();

	val = bpf_map_lookup_elem(&hp_fault_pages, &key);
	if (!val) {
		struct hp_fault_val first = { .faults = 1, .last_ns = now };

		if (!bpf_map_update_elem(&hp_fault_pages, &key, &first, BPF_NOEXIST)) {
			stats->new_pages++;
			stats->counted++;
			remember_comm(tgid);
			return;
		}
		/* Another CPU inserted the page first: count on its entry. */
		val = bpf_map_lookup_elem(&hp_fault_pages, &key);
		if (!val) {
			stats->dropped++;
			return;
		}
	}
	__sync_fetch_and_add(&val->faults, 1);
	val->last_ns = now;
	stats->counted++;
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
	count_fault(ctx->address);
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(hp_fault_btf, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	count_fault(address);
	return 0;
}
