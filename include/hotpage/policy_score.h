/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Programmable policies: a named policy may carry a BPF program
 * (hotpagectl policy attach NAME bpf=FILE.bpf.o) that ranks its hot
 * pages in place of the built-in order. The program is a SEC("syscall")
 * program named hp_score, with the batch map HP_SCORE_BATCH_MAP() below;
 * hotpaged writes a batch of candidates into the map and runs the
 * program with BPF_PROG_TEST_RUN, so it needs no hook and no kernel
 * change: any kernel that runs syscall programs (5.14 and later) runs it.
 *
 * Each run finds a struct hp_score_ctx in the map: n pages (at most
 * HP_SCORE_BATCH) described in page[], and fills score[i] for each:
 * 0..HP_SCORE_MAX, higher moves first; HP_SCORE_KEEP keeps the page where
 * it is this round. It returns 0. The built-in order gives a page
 * heat * HP_SCORE_BUILTIN_PER_HEAT (heat 0..8), so a program's scores and
 * the built-in ones mix in one order across policies.
 *
 * A program is refused at attach (with the verifier's words) or detached
 * later (with the reason, in the log and in policy show) when it does not
 * load, has no hp_score or batch map, returns non-zero, scores outside
 * 0..HP_SCORE_MAX and HP_SCORE_KEEP, or takes more than
 * HP_SCORE_BUDGET_NS of CPU for a batch. It never stops the daemon.
 *
 * A program in a few lines (bpf/policies/ has two):
 *
 *	#include <linux/bpf.h>
 *	#include <bpf/bpf_helpers.h>
 *	#include "hotpage/policy_score.h"
 *
 *	HP_SCORE_BATCH_MAP();
 *
 *	SEC("syscall")
 *	int hp_score(void *ctx)
 *	{
 *		struct hp_score_ctx *b = hp_score_batch_get();
 *
 *		if (!b)
 *			return 1;
 *		for (__u32 i = 0; i < HP_SCORE_BATCH && i < b->n; i++)
 *			b->score[i] = b->page[i].heat * HP_SCORE_BUILTIN_PER_HEAT;
 *		return 0;
 *	}
 *
 *	char LICENSE[] SEC("license") = "GPL";
 */
#ifndef HOTPAGE_POLICY_SCORE_H
#define HOTPAGE_POLICY_SCORE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define HP_SCORE_VERSION 1
#define HP_SCORE_BATCH 256
#define HP_SCORE_MAX 1000
#define HP_SCORE_KEEP (-1)
#define HP_SCORE_BUILTIN_PER_HEAT 125 /* HP_SCORE_MAX / HP_HEAT_WINDOWS */
#define HP_SCORE_BUDGET_NS (1000 * 1000) /* one batch; the verifier bounds the rest */
#define HP_SCORE_PROG_NAME "hp_score"
#define HP_SCORE_MAP_NAME "hp_score_batch"

/* One candidate, as hotpaged knows it. */
struct hp_score_page {
	__u64 pfn; /* page frame; a huge page's head */
	__u64 cgroup_id; /* the process's cgroup v2 id (its directory's inode), 0 unknown */
	__u32 tgid; /* the last process seen touching it; 0 unknown */
	__u32 heat; /* windows with an access, of the last 8 */
	__u32 age_ms; /* since its last access seen */
	__u32 hot_ms; /* since it became hot */
	__s32 page_node; /* node of the page, -1 unknown */
	__s32 access_node; /* node of the CPU of its last access, -1 unknown */
	__u32 npages; /* base pages: 1, or a huge page's */
	__u32 sources; /* bit (1 << enum hp_source) per source that saw it */
};

struct hp_score_ctx {
	__u32 version; /* HP_SCORE_VERSION */
	__u32 n; /* pages in page[], 1..HP_SCORE_BATCH */
	struct hp_score_page page[HP_SCORE_BATCH];
	__s32 score[HP_SCORE_BATCH]; /* out */
};

#ifdef __bpf__
/* The batch: one entry, mapped by hotpaged, read and scored by hp_score. */
#define HP_SCORE_BATCH_MAP()                                                                       \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_ARRAY);                                                  \
		__uint(max_entries, 1);                                                            \
		__uint(map_flags, BPF_F_MMAPABLE);                                                 \
		__type(key, __u32);                                                                \
		__type(value, struct hp_score_ctx);                                                \
	} hp_score_batch SEC(".maps");                                                             \
	static __always_inline __attribute__((unused)) struct hp_score_ctx *hp_score_batch_get(    \
		void)                                                                              \
	{                                                                                          \
		__u32 zero = 0;                                                                    \
		return bpf_map_lookup_elem(&hp_score_batch, &zero);                                \
	}
#else
_Static_assert(sizeof(struct hp_score_page) == 48, "a scored page is 48 bytes");
_Static_assert(sizeof(struct hp_score_ctx) == 8 + HP_SCORE_BATCH * (48 + 4),
	       "the score context has no padding");
#endif

#endif /* HOTPAGE_POLICY_SCORE_H */
