// SPDX-License-Identifier: GPL-2.0
/* DAMON's quota goals for bench_e2e's DAMON row (damon_goals.h says which). */
#include "damon_goals.h"

static int damon_goal_write(const char *dir, const char *rel, const char *val)
{
	char path[384];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return kmt_write(path, val);
}

bool damon_tier_goals(const char *admin, int k, bool promote)
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
