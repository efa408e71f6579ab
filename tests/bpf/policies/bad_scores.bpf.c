// SPDX-License-Identifier: GPL-2.0
/* Detached: scores out of range. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "hotpage/policy_score.h"

HP_SCORE_BATCH_MAP();

SEC("syscall")
int hp_score(void *ctx)
{
	struct hp_score_ctx *b = hp_score_batch_get();

	if (!b)
		return 1;
	for (__u32 i = 0; i < HP_SCORE_BATCH && i < b->n; i++)
		b->score[i] = 5000;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
