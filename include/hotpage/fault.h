/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Records of the `fault` hotness source (bpf/fault.bpf.c), shared by the BPF
 * program and userspace: the layout of its maps' keys and values.
 */
#ifndef HOTPAGE_FAULT_H
#define HOTPAGE_FAULT_H

/* BPF programs get the __u* types from vmlinux.h, userspace from the UAPI. */
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Default capacity of hp_fault_pages (pages tracked at once, LRU evicted). */
#define HP_FAULT_PAGES_DEFAULT 65536
/* Capacity of hp_fault_comms (processes whose name is remembered). */
#define HP_FAULT_COMMS_MAX 8192
#define HP_COMM_LEN 16

/* Key of hp_fault_pages: one user page of one process. */
struct hp_fault_key {
	__u32 tgid;
	__u32 pad; /* explicit: hash keys are compared bytewise, holes must be zero */
	__u64 page; /* page-aligned virtual address */
};

/* Value of hp_fault_pages. */
struct hp_fault_val {
	__u64 faults; /* user page faults on this page since it entered the map */
	__u64 last_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) of the latest one */
};

/* Value of hp_fault_comms, keyed by tgid: the task name at its first counted fault. */
struct hp_fault_comm {
	char comm[HP_COMM_LEN];
};

/* Value of the per-CPU array hp_fault_stats (one entry); userspace sums the CPUs. */
struct hp_fault_stats {
	__u64 seen; /* page_fault_user events the program ran for */
	__u64 counted; /* ... that passed the tgid filter and were recorded */
	__u64 new_pages; /* entries created in hp_fault_pages (evicted = new_pages - live) */
	__u64 dropped; /* ... that passed the filter but could not be recorded */
};

#endif /* HOTPAGE_FAULT_H */
