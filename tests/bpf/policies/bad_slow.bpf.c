// SPDX-License-Identifier: GPL-2.0
/* Detached: verified, but far slower than a batch may take. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "hotpage/policy_score.h"

HP_SCORE_BATCH_MAP();

static long spin(__u64 i, void *arg)
{
	*(__u64 *)arg += i;
	return 0;
}

SEC("syscall")
int hp_score(void *ctx)
{
	struct hp_score_ctx *b = hp_score_batch_get();
	__u64 sum = 0;

	if (!b)
		return 1;
	bpf_loop(1 << 23, spin, &sum, 0);
	for (__u32 i = 0; i < HP_SCORE_BATCH && i < b->n; i++)
		b->score[i] = (__s32)(sum & 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
