/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One round's exchange plan: which hot pages move up into the fast tier,
 * and which idle pages of the fast tier move down to make room for them,
 * under one budget of pages for both directions. A pure function of its
 * inputs (the daemon gathers them), so that it is tested apart.
 *
 * Candidates go hottest first. A candidate takes room above its target's
 * headroom when there is some; otherwise the coldest pages of the target
 * are demoted for it, one for one, but only pages that are colder than it
 * by HP_EXCHANGE_MARGIN windows of heat (idle memory is the coldest of
 * all): pages of equal heat never trade places. A candidate that room is
 * being made for moves in the next round, once the demotions have freed
 * it; nothing is demoted unless a candidate waits for the room.
 *
 * Shares: candidates and victims may belong to groups (the named
 * policies), each with the pages it may still take on the fast tier
 * (share_room; HP_EXCHANGE_NO_SHARE when it has no share). A group over
 * its share sends its coldest pages down first, idle or not, until it is
 * within it; a candidate whose group has no share left comes up only in
 * exchange for a colder page of its own group. A victim that is not idle
 * (idle 0: a hot page of a group with a share) goes down only for its
 * own group or while its group is over its share.
 *
 * Every page held back is counted by reason (enum hp_hold).
 */
#ifndef HOTPAGE_EXCHANGE_H
#define HOTPAGE_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "census.h"
#include "hotset.h"

/* A candidate must be this much hotter than a page demoted for it. */
#define HP_EXCHANGE_MARGIN 2
#define HP_EXCHANGE_NODES 64
#define HP_EXCHANGE_GROUPS 16
#define HP_EXCHANGE_NO_SHARE INT64_MAX

/* Why pages were held back, in base pages. */
#define HP_HOLDS(X)                                                                                \
	X(MAKING_ROOM, making_room, "room is being made: they move up next round")                 \
	X(NO_ROOM, no_room, "no room above the headroom and no page idle long enough to leave")    \
	X(NOT_COLDER, not_colder, "the idle pages are not colder by the margin")                   \
	X(BUDGET, budget, "the round's rate budget is spent")                                      \
	X(PINGPONG, pingpong, "moved recently: waiting for fresh evidence")                        \
	X(SCOPE, scope, "outside the daemon's scope (scope=)")                                     \
	X(NO_POLICY, no_policy, "no attached policy covers their process")                         \
	X(POLICY_OFF, policy_off, "their policy has promote=off")                                  \
	X(POLICY_KEEP, policy_keep, "their policy's program keeps them where they are")            \
	X(SHARE_FULL, share_full,                                                                  \
	  "their policy's share of the fast tier is full, and none of its pages there is colder")  \
	X(NO_ADDRESS, no_address, "no process and address known, which move_pages needs")          \
	X(NO_TARGET, no_target, "no node to move to")                                              \
	X(WARMING_UP, warming_up, "the daemon has not watched long enough to call a page idle")    \
	X(REFUSED, refused, "refused or failed by the backend")

#define HP_HOLD_ENUM(id, name, text) HP_HOLD_##id,
enum hp_hold { HP_HOLDS(HP_HOLD_ENUM) HP_HOLD_NR };
#undef HP_HOLD_ENUM

const char *hp_hold_name(enum hp_hold hold);
const char *hp_hold_text(enum hp_hold hold);

/* A page to move. */
struct hp_move {
	__u64 pfn;
	__u64 vaddr;
	__u32 tgid;
	__u32 npages;
	int from_node;
	int to_node;
	bool demote;
};

struct hp_exchange_in {
	const struct hp_hot_page *cand; /* hottest first */
	const int *cand_target; /* each candidate's target node */
	size_t ncand;
	const struct hp_victim *victims; /* coldest first */
	const unsigned int *victim_heat; /* each victim's heat */
	const int *victim_target; /* each victim's demotion node, or < 0 */
	size_t nvictims;
	__s64 room[HP_EXCHANGE_NODES]; /* pages each node takes now (above its headroom) */
	__u64 budget; /* pages this round may move, both directions */
	/* shares: all NULL when no group has one */
	const int *cand_group; /* each candidate's group, or -1 */
	const int *victim_group; /* each victim's group, or -1 */
	bool *victim_taken; /* scratch, room for nvictims */
	__s64 share_room[HP_EXCHANGE_GROUPS]; /* pages each group may still take, or NO_SHARE */
};

struct hp_exchange_out {
	struct hp_move *promote; /* room for in->ncand */
	size_t npromote;
	struct hp_move *demote; /* room for in->nvictims */
	size_t ndemote;
	__u64 held[HP_HOLD_NR]; /* added to: pages per reason */
	__u8 *cand_why; /* NULL, or room for in->ncand: each one's reason, HP_HOLD_NR if it moves */
};

void hp_exchange_plan(const struct hp_exchange_in *in, struct hp_exchange_out *out);

#endif /* HOTPAGE_EXCHANGE_H */
