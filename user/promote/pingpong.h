/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ping-pong guard: the pages hotpaged moved lately, either way, and
 * in which window. A page is known by its process and address when a
 * source gave them (they survive the move; its page frame does not), else
 * by the frame it left. Four-way buckets of fixed memory: when a bucket is
 * full, the oldest move is forgotten (counted when it was still guarded).
 */
#ifndef HOTPAGE_PINGPONG_H
#define HOTPAGE_PINGPONG_H

#include <stddef.h>
#include <linux/types.h>

struct hp_moved;

struct hp_moved_stats {
	__u64 added;
	__u64 forgotten_early; /* dropped for room while still within the guard */
	__u64 entries; /* capacity */
};

/* Room for about @entries moves. 0 or -ENOMEM. */
int hp_moved_create(size_t entries, struct hp_moved **out);
void hp_moved_destroy(struct hp_moved *moved);

/* The page (@tgid, @vaddr), or the frame @pfn when @tgid is 0, moved in @window. */
void hp_moved_add(struct hp_moved *moved, __u32 tgid, __u64 vaddr, __u64 pfn, __u64 window,
		  __u64 guard_windows);

/* Windows since that page moved, or ~0 when no move of it is remembered. */
__u64 hp_moved_since(const struct hp_moved *moved, __u32 tgid, __u64 vaddr, __u64 pfn,
		     __u64 window);

void hp_moved_get_stats(const struct hp_moved *moved, struct hp_moved_stats *stats);

#endif /* HOTPAGE_PINGPONG_H */
