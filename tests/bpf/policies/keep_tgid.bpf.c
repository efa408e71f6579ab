// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy: keeps the pages of the process whose id is in keep_tgid
 * (set by the test through the map) where they are; the others by heat.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "hotpage/policy_score.h"

HP_SCORE_BATCH_MAP();

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hp_test_keep_tgid SEC(".maps");

SEC("syscall")
int hp_score(void *ctx)
{
	struct hp_score_ctx *b = hp_score_batch_get();
	__u32 zero = 0, *keep = bpf_map_lookup_elem(&hp_test_keep_tgid, &zero);

	if (!b || !keep)
		return 1;
	for (__u32 i = 0; i < HP_SCORE_BATCH && i < b->n; i++)
		b->score[i] = b->page[i].tgid == *keep ? HP_SCORE_KEEP
			      : b->page[i].heat >= 8
				      ? HP_SCORE_MAX
				      : (__s32)b->page[i].heat * HP_SCORE_BUILTIN_PER_HEAT;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
