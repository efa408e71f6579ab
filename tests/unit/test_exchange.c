// SPDX-License-Identifier: GPL-2.0
/*
 * The exchange plan (user/promote/exchange.c), the hot sets (user/hotness/hotset.c) and
 * the ping-pong guard (user/promote/pingpong.c): pure functions on made-up inputs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "exchange.h"
#include "hotset.h"
#include "pingpong.h"

#define MAXN 64

struct plan_case {
	struct hp_hot_page cand[MAXN];
	int cand_target[MAXN];
	struct hp_victim vict[MAXN];
	unsigned int vict_heat[MAXN];
	int vict_target[MAXN];
	struct hp_move up[MAXN], down[MAXN];
	int cand_group[MAXN], vict_group[MAXN];
	bool vict_taken[MAXN];
	__u8 why[MAXN];
	struct hp_exchange_in in;
	struct hp_exchange_out out;
};

/* @n candidates on node 1 (heat 8, 7, ...) for node 0; @v victims on node 0 (idle 20, 19, ...). */
static void setup(struct plan_case *c, size_t n, size_t v, __s64 room0, __u64 budget)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		c->cand[i] = (struct hp_hot_page){ .pfn = 1000 + i,
						   .heat = 8 - (unsigned int)(i % 3),
						   .page_node = 1,
						   .npages = 1 };
		c->cand_target[i] = 0;
	}
	for (size_t i = 0; i < v; i++) {
		c->vict[i] = (struct hp_victim){
			.pfn = 10 + i, .idle = (__u16)(20 - i), .node = 0, .npages = 1
		};
		c->vict_target[i] = 1;
	}
	c->in = (struct hp_exchange_in){ .cand = c->cand,
					 .cand_target = c->cand_target,
					 .ncand = n,
					 .victims = c->vict,
					 .victim_heat = c->vict_heat,
					 .victim_target = c->vict_target,
					 .nvictims = v,
					 .budget = budget };
	c->in.room[0] = room0;
	c->out = (struct hp_exchange_out){ .promote = c->up, .demote = c->down };
}

static void test_room_first(void **state)
{
	static struct plan_case c;

	(void)state;
	/* Room for all: promote, demote nothing. */
	setup(&c, 5, 10, 100, 1000);
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.npromote, 5);
	assert_int_equal(c.out.ndemote, 0);
	assert_int_equal(c.up[0].pfn, 1000);
	assert_int_equal(c.up[0].to_node, 0);
	assert_false(c.up[0].demote);
	for (int r = 0; r < HP_HOLD_NR; r++)
		assert_int_equal(c.out.held[r], 0);
}

/* No room: the coldest pages go down, one for each candidate, and the candidates wait. */
static void test_full_tier(void **state)
{
	static struct plan_case c;

	(void)state;
	setup(&c, 5, 10, 2, 1000);
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.npromote, 2);
	assert_int_equal(c.out.ndemote, 3);
	/* Coldest first, to the demotion target, flagged. */
	assert_int_equal(c.down[0].pfn, 10);
	assert_int_equal(c.down[2].pfn, 12);
	assert_int_equal(c.down[0].to_node, 1);
	assert_true(c.down[0].demote);
	assert_int_equal(c.out.held[HP_HOLD_MAKING_ROOM], 3);
	/* Below the headroom: demote for that too before a candidate gets room. */
	setup(&c, 2, 10, -3, 1000);
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.npromote, 0);
	assert_int_equal(c.out.ndemote, 5);
	assert_int_equal(c.out.held[HP_HOLD_MAKING_ROOM], 2);
}

static void test_holds(void **state)
{
	static struct plan_case c;

	(void)state;
	/* Fewer victims than candidates: the rest has no room. */
	setup(&c, 6, 2, 0, 1000);
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.ndemote, 2);
	assert_int_equal(c.out.held[HP_HOLD_MAKING_ROOM], 2);
	assert_int_equal(c.out.held[HP_HOLD_NO_ROOM], 4);
	/* One budget for both directions: 5 pages, 2 up into room, 3 down. */
	setup(&c, 10, 10, 2, 5);
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.npromote + c.out.ndemote, 5);
	assert_int_equal(c.out.held[HP_HOLD_BUDGET] + c.out.held[HP_HOLD_MAKING_ROOM], 8);
	/* Victims not colder by the margin: nothing moves, and says why. */
	setup(&c, 3, 3, 0, 1000);
	for (int i = 0; i < 3; i++) {
		c.cand[i].heat = 3;
		c.vict_heat[i] = 2;
	}
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.ndemote, 0);
	assert_int_equal(c.out.held[HP_HOLD_NOT_COLDER], 3);
	/* A victim without a lower node, a candidate without a target. */
	setup(&c, 2, 1, 0, 1000);
	c.vict_target[0] = -1;
	c.cand_target[1] = -1;
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.ndemote, 0);
	assert_int_equal(c.out.held[HP_HOLD_NO_ROOM], 1);
	assert_int_equal(c.out.held[HP_HOLD_NO_TARGET], 1);
}

/* Huge pages count in base pages, for room, victims and budget. */
/* Candidates and victims in groups 0 and 1, each group with @room0/@room1 pages of share left. */
static void groups(struct plan_case *c, __s64 room0, __s64 room1)
{
	for (size_t i = 0; i < MAXN; i++)
		c->cand_group[i] = c->vict_group[i] = 0;
	c->in.cand_group = c->cand_group;
	c->in.victim_group = c->vict_group;
	c->in.victim_taken = c->vict_taken;
	for (int g = 0; g < HP_EXCHANGE_GROUPS; g++)
		c->in.share_room[g] = HP_EXCHANGE_NO_SHARE;
	c->in.share_room[0] = room0;
	c->in.share_room[1] = room1;
}

static void test_shares(void **state)
{
	static struct plan_case c;

	(void)state;
	/* Room on the node for all, share left for 2: 2 up, 3 held for the share. */
	setup(&c, 5, 0, 100, 1000);
	groups(&c, 2, HP_EXCHANGE_NO_SHARE);
	c.out.cand_why = c.why;
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.npromote, 2);
	assert_int_equal(c.out.held[HP_HOLD_SHARE_FULL], 3);
	/* Each candidate's own reason, for its policy's counters. */
	assert_int_equal(c.why[0], HP_HOLD_NR);
	assert_int_equal(c.why[1], HP_HOLD_NR);
	for (int i = 2; i < 5; i++)
		assert_int_equal(c.why[i], HP_HOLD_SHARE_FULL);

	/* Over the share by 3 with no candidate: its 3 coldest go down, hot or not. */
	setup(&c, 0, 6, 100, 1000);
	groups(&c, -3, HP_EXCHANGE_NO_SHARE);
	for (int i = 0; i < 6; i++)
		c.vict[i].idle = 0;
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.ndemote, 3);
	assert_int_equal(c.down[0].pfn, 10);
	assert_int_equal(c.down[2].pfn, 12);

	/*
	 * Share full: a candidate comes up for a colder page of its own group
	 * (victim 1, in use), not for group 1's idle page (victim 0), which
	 * the node's room does not need.
	 */
	setup(&c, 1, 2, 0, 1000);
	groups(&c, 0, HP_EXCHANGE_NO_SHARE);
	c.vict_group[0] = 1;
	c.vict[1].idle = 0;
	c.vict_heat[1] = 2;
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.ndemote, 1);
	assert_int_equal(c.down[0].pfn, 11);
	assert_int_equal(c.out.held[HP_HOLD_MAKING_ROOM], 1);

	/* Its own pages not colder by the margin: held for the share, nothing goes down. */
	setup(&c, 1, 2, 0, 1000);
	groups(&c, 0, HP_EXCHANGE_NO_SHARE);
	c.vict_group[0] = 1;
	c.vict[1].idle = 0;
	c.vict_heat[1] = 7;
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.ndemote, 0);
	assert_int_equal(c.out.held[HP_HOLD_SHARE_FULL], 1);

	/*
	 * Another group's pages in use, within its share, never go down for
	 * this group: the idle page after them does.
	 */
	setup(&c, 1, 3, 0, 1000);
	groups(&c, HP_EXCHANGE_NO_SHARE, 5);
	c.vict_group[0] = c.vict_group[1] = 1;
	c.vict[0].idle = c.vict[1].idle = 0;
	c.vict_group[2] = 1; /* idle: anyone's room */
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.ndemote, 1);
	assert_int_equal(c.down[0].pfn, 12);
	/* ... unless that group is over its share: its coldest goes, and makes the room. */
	setup(&c, 1, 3, 0, 1000);
	groups(&c, HP_EXCHANGE_NO_SHARE, -1);
	c.vict_group[0] = c.vict_group[1] = 1;
	c.vict[0].idle = c.vict[1].idle = 0;
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.ndemote, 1);
	assert_int_equal(c.down[0].pfn, 10);
	assert_int_equal(c.out.held[HP_HOLD_MAKING_ROOM], 1);
}

static void test_huge(void **state)
{
	static struct plan_case c;

	(void)state;
	setup(&c, 1, 3, 100, 10000);
	c.cand[0].npages = 512;
	c.vict[0].npages = 512;
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.npromote, 0);
	assert_int_equal(c.out.ndemote, 1); /* 100 free + 512 freed >= 512 */
	assert_int_equal(c.out.held[HP_HOLD_MAKING_ROOM], 512);
	setup(&c, 1, 0, 600, 10000);
	c.cand[0].npages = 512;
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.npromote, 1);
	assert_int_equal(c.up[0].npages, 512);
	setup(&c, 1, 0, 600, 511);
	c.cand[0].npages = 512;
	hp_exchange_plan(&c.in, &c.out);
	assert_int_equal(c.out.held[HP_HOLD_BUDGET], 512);
}

static bool keep_even(struct hp_hot_page *p, void *arg)
{
	(void)arg;
	p->heat = 1;
	return p->pfn % 2 == 0;
}

static void test_hotset(void **state)
{
	struct hp_hotset *set;
	struct hp_hotset_stats st;
	struct hp_hot_page p = { 0 }, got, all[64];
	size_t n;

	(void)state;
	assert_int_equal(hp_hotset_create(8, &set), -EINVAL);
	assert_int_equal(hp_hotset_create(40, &set), 0);
	for (__u64 i = 0; i < 50; i++) {
		p = (struct hp_hot_page){
			.pfn = i * 7919, .heat = 6, .first_seen_ns = i, .sources = 1
		};
		hp_hotset_put(set, &p);
	}
	hp_hotset_get_stats(set, &st);
	assert_int_equal(st.pages, 40);
	assert_int_equal(st.full, 10);
	/* A refresh keeps the first sighting and adds the sources. */
	p = (struct hp_hot_page){ .pfn = 7919, .heat = 8, .first_seen_ns = 99, .sources = 4 };
	assert_true(hp_hotset_put(set, &p));
	assert_true(hp_hotset_get(set, 7919, &got));
	assert_int_equal(got.heat, 8);
	assert_int_equal(got.first_seen_ns, 1);
	assert_int_equal(got.sources, 5);
	/* Removal keeps every other page findable (backward shift). */
	assert_true(hp_hotset_remove(set, 0));
	assert_false(hp_hotset_remove(set, 0));
	for (__u64 i = 1; i < 40; i++)
		assert_true(hp_hotset_get(set, i * 7919, NULL));
	hp_hotset_filter(set, keep_even, NULL);
	n = hp_hotset_copy(set, all, 64);
	assert_int_equal(n, 19);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(all[i].pfn % 2, 0);
		assert_int_equal(all[i].heat, 1);
		assert_true(hp_hotset_get(set, all[i].pfn, NULL));
	}
	hp_hotset_clear(set);
	assert_int_equal(hp_hotset_copy(set, all, 64), 0);
	hp_hotset_destroy(set);
}

static void test_sort(void **state)
{
	struct hp_hot_page p[4] = {
		{ .pfn = 4, .heat = 6, .last_seen_ns = 10 },
		{ .pfn = 3, .heat = 8, .last_seen_ns = 5 },
		{ .pfn = 2, .heat = 6, .last_seen_ns = 20 },
		{ .pfn = 1, .heat = 6, .last_seen_ns = 20 },
	};

	(void)state;
	hp_hot_pages_sort(p, 4);
	assert_int_equal(p[0].pfn, 3);
	assert_int_equal(p[1].pfn, 1);
	assert_int_equal(p[2].pfn, 2);
	assert_int_equal(p[3].pfn, 4);
}

static void test_moved(void **state)
{
	struct hp_moved *m;
	struct hp_moved_stats st;

	(void)state;
	assert_int_equal(hp_moved_create(64, &m), 0);
	assert_int_equal(hp_moved_since(m, 5, 0x1000, 77, 10), ~0ULL);
	hp_moved_add(m, 5, 0x1000, 77, 10, 8);
	/* Known by process and address, whatever its frame now. */
	assert_int_equal(hp_moved_since(m, 5, 0x1234, 999, 13), 3);
	assert_int_equal(hp_moved_since(m, 6, 0x1000, 77, 13), ~0ULL);
	/* Without a process: by the frame it left. */
	hp_moved_add(m, 0, 0, 77, 11, 8);
	assert_int_equal(hp_moved_since(m, 0, 0, 77, 12), 1);
	/* Full buckets forget the oldest, counted when still guarded. */
	for (__u64 i = 0; i < 10000; i++)
		hp_moved_add(m, 9, i << 12, 0, 20, 8);
	hp_moved_get_stats(m, &st);
	assert_true(st.forgotten_early > 0);
	assert_int_equal(st.added, 10002);
	hp_moved_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_room_first), cmocka_unit_test(test_full_tier),
		cmocka_unit_test(test_holds),	   cmocka_unit_test(test_shares),
		cmocka_unit_test(test_huge),	   cmocka_unit_test(test_hotset),
		cmocka_unit_test(test_sort),	   cmocka_unit_test(test_moved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
