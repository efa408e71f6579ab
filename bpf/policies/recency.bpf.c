// SPDX-License-Identifier: GPL-2.0
/*
 * A policy program: recency first. The built-in order ranks hot pages by
 * heat (windows with an access, of the last 8); this one adds how
 * recently a page was seen, so that of two equally hot pages the one in
 * use now moves first, and a page that has gone quiet for STALE_MS stays
 * where it is, however hot its history.
 *
 *   hotpagectl policy attach web scope=cgroup:/web.slice \
 *	bpf=/usr/local/lib/hotpage/policies/recency.bpf.o
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "hotpage/policy_score.h"

#define STALE_MS 4000
#define HEAT_WEIGHT 100 /* 8 windows: 800 at most */
#define RECENT_BONUS 200 /* seen within the last second */

HP_SCORE_BATCH_MAP();

SEC("syscall")
int hp_score(void *ctx)
{
	struct hp_score_ctx *b = hp_score_batch_get();

	if (!b)
		return 1;
	for (__u32 i = 0; i < HP_SCORE_BATCH && i < b->n; i++) {
		const struct hp_score_page *p = &b->page[i];
		__s32 score;

		if (p->age_ms >= STALE_MS) {
			b->score[i] = HP_SCORE_KEEP;
			continue;
		}
		score = (__s32)(p->heat > 8 ? 8 : p->heat) * HEAT_WEIGHT;
		/* The bonus fades linearly over STALE_MS. */
		score += RECENT_BONUS - (__s32)(p->age_ms * RECENT_BONUS / STALE_MS);
		b->score[i] = score > HP_SCORE_MAX ? HP_SCORE_MAX : score;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
