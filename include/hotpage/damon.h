/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The `damon` source's maps, shared by bpf/damon.bpf.c and user/sources/damon_source.c.
 *
 * damon:damon_aggregated names neither the DAMON context nor the process a
 * region belongs to: it runs in the context's kdamond thread and gives the
 * target's index in that context. So userspace registers each kdamond it
 * manages (or observes) by thread id in hp_damon_kd, and the process of
 * each vaddr target in hp_damon_tgt; regions of other kdamonds are ignored.
 */
#ifndef HOTPAGE_DAMON_H
#define HOTPAGE_DAMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define HP_DAMON_KDAMONDS_MAX 16
#define HP_DAMON_TARGETS_MAX 1024

/* struct hp_damon_kd.flags */
enum hp_damon_kd_flags {
	HP_DAMON_KD_PADDR = 1 << 0, /* physical address space: events get HP_EV_PHYS */
};

/* hp_damon_kd value, keyed by the kdamond's thread id (__u32). */
struct hp_damon_kd {
	__u32 flags; /* enum hp_damon_kd_flags */
	__u32 index; /* kdamond index under /sys/kernel/mm/damon/admin/kdamonds */
};
_Static_assert(sizeof(struct hp_damon_kd) == 8, "hp_damon_kd map value is 8 bytes");

/* hp_damon_tgt key: a vaddr target of one kdamond; value: its tgid (__u32). */
struct hp_damon_tgt_key {
	__u32 kdamond_tid;
	__u32 target; /* index in the context, as the tracepoint reports it */
};
_Static_assert(sizeof(struct hp_damon_tgt_key) == 8, "hp_damon_tgt map key is 8 bytes");

#endif /* HOTPAGE_DAMON_H */
