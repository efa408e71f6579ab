/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DAMON at its best for bench_e2e's DAMON row, where the kernel allows:
 * what samples/damon/mtier.c adds to its two tiering schemes. Promotion
 * (migrate_hot) aims at node 0 used to 99.7% (node_mem_used_bp 9970),
 * demotion (migrate_cold) at node 0 free to 0.5% (node_mem_free_bp 50);
 * the metrics name a node since 6.16. The goals are tuned by the temporal
 * tuner (goal_tuner, 7.x): the whole quota until the goal is met, then
 * none; the default tuner starts a quota from one byte and grows it by
 * how far the goal is, which on a node 0 already nearly full moves
 * nothing within a run, so without the temporal tuner the schemes keep
 * their plain quotas. A young page filter moves only the pages of a hot
 * region found accessed, and of a cold region found not accessed.
 */
#ifndef DAMON_GOALS_H
#define DAMON_GOALS_H

#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "kmigrated_test.h"

static inline int damon_goal_write(const char *dir, const char *rel, const char *val)
{
	char path[384];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return kmt_write(path, val);
}

/* Whether kdamond @k's scheme 0 got its goal, tuner and filter. */
static inline bool damon_tier_goals(const char *admin, int k, bool promote)
{
	char dir[256];
	static bool said;

	snprintf(dir, sizeof(dir), "%s/%d/contexts/0/schemes/0", admin, k);
	if (damon_goal_write(dir, "quotas/goals/nr_goals", "1"))
		goto none;
	if (damon_goal_write(dir, "quotas/goals/0/target_metric",
			     promote ? "node_mem_used_bp" : "node_mem_free_bp") ||
	    damon_goal_write(dir, "quotas/goals/0/nid", "0") ||
	    damon_goal_write(dir, "quotas/goal_tuner", "temporal")) {
		damon_goal_write(dir, "quotas/goals/nr_goals", "0");
		goto none;
	}
	damon_goal_write(dir, "quotas/goals/0/target_value", promote ? "9970" : "50");
	if (!damon_goal_write(dir, "filters/nr_filters", "1")) {
		damon_goal_write(dir, "filters/0/type", "young");
		damon_goal_write(dir, "filters/0/matching", promote ? "Y" : "N");
		damon_goal_write(dir, "filters/0/allow", "Y");
	}
	return true;
none:
	if (!said)
		printf("damon: no node_mem_*_bp quota goals with the temporal tuner on this "
		       "kernel: plain 200 MiB/s quotas\n");
	said = true;
	return false;
}

#endif /* DAMON_GOALS_H */
