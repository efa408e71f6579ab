// SPDX-License-Identifier: GPL-2.0
/* Refused: hp_score is not a SEC("syscall") program. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "hotpage/policy_score.h"

HP_SCORE_BATCH_MAP();

SEC("tracepoint/syscalls/sys_enter_getpid")
int hp_score(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
