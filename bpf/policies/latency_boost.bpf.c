// SPDX-License-Identifier: GPL-2.0
/*
 * A policy program: latency-sensitive cgroups first. Pages of a cgroup
 * with a boost move ahead of everyone else's by that much; the others
 * move only when they are as hot as a page gets (accessed in all of the
 * last 8 windows). The boosts are a map the operator fills, pinned at
 * /sys/fs/bpf/hotpage/hp_boost, key the cgroup's id (the inode of its
 * directory under /sys/fs/cgroup), value the boost (0..1000):
 *
 *   hotpagectl policy attach svc scope=cgroup:/system.slice \
 *	bpf=/usr/local/lib/hotpage/policies/latency_boost.bpf.o
 *   id=$(stat -c %i /sys/fs/cgroup/system.slice/db.service)
 *   bpftool map update pinned /sys/fs/bpf/hotpage/hp_boost \
 *	key hex $(printf '%016x' "$id" | fold -w2 | tac | tr '\n' ' ') \
 *	value hex f4 01 00 00	# 500, little-endian
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "hotpage/policy_score.h"

#define UNBOOSTED_MIN_HEAT 8

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64); /* cgroup id */
	__type(value, __u32); /* boost */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hp_boost SEC(".maps");

HP_SCORE_BATCH_MAP();

SEC("syscall")
int hp_score(void *ctx)
{
	struct hp_score_ctx *b = hp_score_batch_get();

	if (!b)
		return 1;
	for (__u32 i = 0; i < HP_SCORE_BATCH && i < b->n; i++) {
		const struct hp_score_page *p = &b->page[i];
		__u64 cgroup = p->cgroup_id;
		__u32 *boost = cgroup ? bpf_map_lookup_elem(&hp_boost, &cgroup) : NULL;
		__u32 heat = p->heat > 8 ? 8 : p->heat;
		__u32 score = heat * HP_SCORE_BUILTIN_PER_HEAT;

		if (!boost && heat < UNBOOSTED_MIN_HEAT) {
			b->score[i] = HP_SCORE_KEEP;
			continue;
		}
		if (boost)
			score += *boost > HP_SCORE_MAX ? HP_SCORE_MAX : *boost;
		b->score[i] = (__s32)(score > HP_SCORE_MAX ? HP_SCORE_MAX : score);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
