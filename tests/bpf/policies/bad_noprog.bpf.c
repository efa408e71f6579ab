// SPDX-License-Identifier: GPL-2.0
/* Refused: the batch map, but no program named hp_score. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "hotpage/policy_score.h"

HP_SCORE_BATCH_MAP();

SEC("syscall")
int score_pages(void *ctx)
{
	return hp_score_batch_get() ? 0 : 1;
}

char LICENSE[] SEC("license") = "GPL";
