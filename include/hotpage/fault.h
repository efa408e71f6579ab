/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The `fault` hotness source (bpf/fault.bpf.c): what an x86 page fault's
 * error code says about the access, as struct hp_event flags. Shared by the
 * BPF program and its unit test.
 */
#ifndef HOTPAGE_FAULT_H
#define HOTPAGE_FAULT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "hotpage/event.h"

/* x86 page fault error code bits (arch/x86/include/asm/trap_pf.h). */
#define HP_X86_PF_PROT (1UL << 0) /* the page was present: protection fault */
#define HP_X86_PF_WRITE (1UL << 1)
#define HP_X86_PF_USER (1UL << 2)
#define HP_X86_PF_INSTR (1UL << 4)

/*
 * The access kind: an instruction fetch, else a write or a read; and
 * HP_EV_PROT when the page was present, which is how NUMA hint faults
 * (PROT_NONE ptes) and copy-on-write faults arrive.
 */
static inline __u16 hp_fault_flags(unsigned long error_code)
{
	__u16 flags;

	if (error_code & HP_X86_PF_INSTR)
		flags = HP_EV_INSTR;
	else if (error_code & HP_X86_PF_WRITE)
		flags = HP_EV_WRITE;
	else
		flags = HP_EV_READ;
	if (error_code & HP_X86_PF_PROT)
		flags |= HP_EV_PROT;
	return flags;
}

#endif /* HOTPAGE_FAULT_H */
