/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hot set hotpaged publishes: a BPF hash map pinned at
 * HP_HOT_PAGES_PIN, key the page frame number (__u64), value struct
 * hp_hot_entry. Rewritten every policy window with the hottest pages, so
 * that `bpftool map dump pinned /sys/fs/bpf/hotpage/hot_pages` shows them
 * with named fields (the map carries BTF).
 */
#ifndef HOTPAGE_HOT_PAGES_H
#define HOTPAGE_HOT_PAGES_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define HP_BPFFS_ROOT "/sys/fs/bpf"
#define HP_PIN_DIR HP_BPFFS_ROOT "/hotpage"
#define HP_HOT_PAGES_PIN HP_PIN_DIR "/hot_pages"
/* Entries the map holds at most (the daemon's top=N is capped to it). */
#define HP_HOT_PAGES_MAX 65536

struct hp_hot_entry {
	__u32 heat; /* windows with an access, of the last 8, at the last refresh */
	__u32 tgid; /* the last process that touched the page; 0 unknown */
	__u64 last_seen_ms; /* CLOCK_MONOTONIC milliseconds of the last access */
	__u64 vaddr; /* page address in tgid; 0 unknown */
	__s32 node; /* node of the page, -1 unknown */
	__s32 access_node; /* node of the CPU of the last access, -1 unknown */
	__u32 sources; /* bit (1 << enum hp_source) per source that saw it */
	__u32 migrated; /* 1 when hotpaged moved it */
	__u32 npages; /* base pages: 1, or a huge page's */
	__u32 reserved; /* zero */
};

#ifndef __bpf__
_Static_assert(sizeof(struct hp_hot_entry) == 48, "the pinned map's value is 48 bytes");
#endif

#endif /* HOTPAGE_HOT_PAGES_H */
