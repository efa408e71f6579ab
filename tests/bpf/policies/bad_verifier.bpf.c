// SPDX-License-Identifier: GPL-2.0
/* Refused by the verifier: reads past the batch, by an index it does not bound. */
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
	b->score[0] = (__s32)b->page[b->n].heat;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
