// SPDX-License-Identifier: GPL-2.0
/* Detached: returns an error. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "hotpage/policy_score.h"

HP_SCORE_BATCH_MAP();

SEC("syscall")
int hp_score(void *ctx)
{
	return hp_score_batch_get() ? 7 : 1;
}

char LICENSE[] SEC("license") = "GPL";
