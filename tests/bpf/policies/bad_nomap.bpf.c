// SPDX-License-Identifier: GPL-2.0
/* Refused: no batch map to read the pages from. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "hotpage/policy_score.h"

SEC("syscall")
int hp_score(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
