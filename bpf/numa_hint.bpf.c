// SPDX-License-Identifier: GPL-2.0
/*
 * numa-hint: NUMA hint faults, with the page, from the function that
 * do_numa_page() calls once per hint fault (do_numa_page itself is often
 * inlined): numa_migrate_check(folio, vmf, addr, ...) on 6.10+,
 * numa_migrate_prep(page or folio, vma or vmf, addr, page_nid, ...) on
 * 6.1 to 6.9. The argument positions differ between versions, so
 * userspace reads them from the running kernel's BTF and sets arg_* below.
 *
 * Two entry points share one body; userspace loads exactly one of them,
 * with its attach target set at runtime: hp_numa_fentry (trampoline,
 * cheaper) or hp_numa_kprobe where trampolines are refused.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define HP_SOURCE_ID HP_SRC_NUMA_HINT
#include "hp_source.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define HP_NUMA_MAX_NODES 64
#define HP_ARG_NONE 0xff

/* Argument positions (0-based) in the hooked function; HP_ARG_NONE: absent. */
const volatile __u8 arg_page = 0; /* struct page * or struct folio * (same address) */
const volatile __u8 arg_vma = HP_ARG_NONE; /* struct vm_area_struct * (6.1 to 6.7) */
const volatile __u8 arg_vmf = HP_ARG_NONE; /* struct vm_fault * (6.8+) */
const volatile __u8 arg_addr = 2;
const volatile __u8 arg_nid = HP_ARG_NONE; /* int page_nid (numa_migrate_prep) */
/* Possible node ids are below this (from userspace; at most HP_NUMA_MAX_NODES). */
const volatile __u32 nr_node_ids = 1;
/* vmemmap start when the kernel has no vmemmap_base symbol (no KASLR of memory); 0: unknown. */
const volatile __u64 vmemmap_default = 0;

/*
 * x86-64 with SPARSEMEM_VMEMMAP: struct page of pfn N is vmemmap[N], and
 * vmemmap starts at vmemmap_base (randomized at boot with
 * CONFIG_RANDOMIZE_MEMORY). node_data[] gives each node's PFN span for the
 * node of a folio when the hook does not pass it. Weak: a kernel without
 * the symbols still loads, and the record says "unknown".
 */
extern const void vmemmap_base __ksym __weak;
extern const void node_data __ksym __weak;

static __always_inline __u64 page_to_pfn(__u64 page)
{
	__u64 base = vmemmap_default;

	if (&vmemmap_base && bpf_probe_read_kernel(&base, sizeof(base), &vmemmap_base))
		return HP_PFN_UNKNOWN;
	if (!base || page < base)
		return HP_PFN_UNKNOWN;
	return (page - base) / bpf_core_type_size(struct page);
}

/* The node whose span holds @pfn (spans of distinct nodes do not overlap on x86). */
static __always_inline int pfn_to_node(__u64 pfn)
{
	const struct pglist_data *const *nodes = (const struct pglist_data *const *)&node_data;

	if (!&node_data || pfn == HP_PFN_UNKNOWN)
		return HP_NODE_UNKNOWN;
	for (int nid = 0; nid < HP_NUMA_MAX_NODES && nid < nr_node_ids; nid++) {
		const struct pglist_data *pgdat = NULL;
		__u64 start, spanned;

		if (bpf_probe_read_kernel(&pgdat, sizeof(pgdat), &nodes[nid]) || !pgdat)
			continue;
		start = BPF_CORE_READ(pgdat, node_start_pfn);
		spanned = BPF_CORE_READ(pgdat, node_spanned_pages);
		if (pfn >= start && pfn < start + spanned)
			return nid;
	}
	return HP_NODE_UNKNOWN;
}

/*
 * The process the page belongs to. Hint faults run in the faulting task,
 * but a remote access through GUP (ptrace, process_vm_readv, a kthread)
 * faults on another process's mm: then the mm's owner is the process, and
 * the current task's cgroup says nothing about it.
 */
static __always_inline __u32 fault_tgid(__u64 vma, bool *own_mm)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mm_struct *mm;

	*own_mm = true;
	if (!vma)
		return bpf_get_current_pid_tgid() >> 32;
	mm = BPF_CORE_READ((struct vm_area_struct *)vma, vm_mm);
	if (mm == BPF_CORE_READ(task, mm))
		return bpf_get_current_pid_tgid() >> 32;
	*own_mm = false;
	if (bpf_core_field_exists(mm->owner))
		return BPF_CORE_READ(mm, owner, tgid);
	return 0;
}

/* One hint fault; @args holds the hooked function's first six arguments. */
static __always_inline void record(const __u64 *args)
{
	struct hp_source_cpu *state;
	__u32 cpu;
	struct hp_event *ev;
	__u64 stage;
	__u64 vma = 0, vmf = 0, page;
	__u32 fault_flags = 0, tgid;
	bool own_mm;

	if (arg_vmf < 6) {
		vmf = args[arg_vmf];
		vma = (__u64)BPF_CORE_READ((struct vm_fault *)vmf, vma);
		fault_flags = BPF_CORE_READ((struct vm_fault *)vmf, flags);
	} else if (arg_vma < 6) {
		vma = args[arg_vma];
	}
	tgid = fault_tgid(vma, &own_mm);
	state = hp_event_begin(tgid, own_mm, &cpu);
	if (!state)
		return;
	ev = hp_event_reserve(state, cpu, 0, &stage);
	if (!ev)
		return;
	page = arg_page < 6 ? args[arg_page] : 0;
	ev->tgid = tgid;
	if (!own_mm)
		ev->pid = 0;
	ev->flags = HP_EV_PROT;
	if (vmf)
		ev->flags |= (fault_flags & FAULT_FLAG_WRITE) ? HP_EV_WRITE : HP_EV_READ;
	ev->addr = arg_addr < 6 ? args[arg_addr] : 0;
	ev->pfn = page ? page_to_pfn(page) : HP_PFN_UNKNOWN;
	/* The caller's folio_nid() where the hook takes it, else from the PFN. */
	ev->page_node = arg_nid < 6 ? (__s16)(int)args[arg_nid] : pfn_to_node(ev->pfn);
	hp_event_submit(state, cpu, ev, stage);
}

SEC("fentry")
int hp_numa_fentry(__u64 *ctx)
{
	__u64 args[6] = {};

	/* bpf_get_func_arg returns scalars: the pointers are only read through CO-RE. */
	for (int i = 0; i < 6; i++)
		if (bpf_get_func_arg(ctx, i, &args[i]))
			break;
	record(args);
	return 0;
}

SEC("kprobe")
int hp_numa_kprobe(struct pt_regs *ctx)
{
	__u64 args[6] = {
		PT_REGS_PARM1_CORE(ctx), PT_REGS_PARM2_CORE(ctx), PT_REGS_PARM3_CORE(ctx),
		PT_REGS_PARM4_CORE(ctx), PT_REGS_PARM5_CORE(ctx), 0,
	};

	/* The sixth argument (x86-64: r9) is never one the source reads. */
	record(args);
	return 0;
}
