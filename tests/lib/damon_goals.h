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

/* Whether kdamond @k's scheme 0 got its goal, tuner and filter. */
bool damon_tier_goals(const char *admin, int k, bool promote);

#endif /* DAMON_GOALS_H */
