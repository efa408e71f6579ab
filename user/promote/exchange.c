// SPDX-License-Identifier: GPL-2.0
/* The exchange plan (exchange.h). */
#include <string.h>

#include "exchange.h"

#define HOLD_NAME(id, name, text) #name,
static const char *const hold_names[HP_HOLD_NR] = { HP_HOLDS(HOLD_NAME) };
#undef HOLD_NAME
#define HOLD_TEXT(id, name, text) text,
static const char *const hold_texts[HP_HOLD_NR] = { HP_HOLDS(HOLD_TEXT) };
#undef HOLD_TEXT

const char *hp_hold_name(enum hp_hold hold)
{
	return hold < HP_HOLD_NR ? hold_names[hold] : "?";
}

const char *hp_hold_text(enum hp_hold hold)
{
	return hold < HP_HOLD_NR ? hold_texts[hold] : "?";
}

static struct hp_move move_of_candidate(const struct hp_hot_page *p, int target)
{
	return (struct hp_move){
		.pfn = p->pfn,
		.vaddr = p->vaddr,
		.tgid = p->tgid,
		.npages = p->npages ? p->npages : 1,
		.from_node = p->page_node,
		.to_node = target,
		.demote = false,
	};
}

static struct hp_move move_of_victim(const struct hp_victim *v, int target)
{
	return (struct hp_move){
		.pfn = v->pfn,
		.vaddr = v->vaddr,
		.tgid = v->tgid,
		.npages = v->npages ? v->npages : 1,
		.from_node = v->node,
		.to_node = target,
		.demote = true,
	};
}

struct plan {
	const struct hp_exchange_in *in;
	struct hp_exchange_out *out;
	/* per node: the first victim that may still be free to take, pages freed this round */
	size_t next_victim[HP_EXCHANGE_NODES];
	__s64 freeing[HP_EXCHANGE_NODES];
	__s64 room[HP_EXCHANGE_NODES];
	__s64 share[HP_EXCHANGE_GROUPS];
	__u64 budget;
};

/* Victims looked at past the first that may go, per candidate: bounds a round's work. */
#define SKIP_MAX 4096

static int group_of(const int *groups, size_t i)
{
	int g = groups ? groups[i] : -1;

	return g >= 0 && g < HP_EXCHANGE_GROUPS ? g : -1;
}

static bool taken(const struct plan *pl, size_t i)
{
	return pl->in->victim_taken && pl->in->victim_taken[i];
}

/*
 * Whether victim @i may go down for a candidate of group @g: an idle page
 * for anyone, a page in use only for its own group or while its group is
 * over its share.
 */
static bool may_take(const struct plan *pl, size_t i, int g)
{
	int vg = group_of(pl->in->victim_group, i);

	if (!pl->in->victim_group || pl->in->victims[i].idle)
		return true;
	return vg >= 0 && (vg == g || pl->share[vg] < 0);
}

static void demote(struct plan *pl, size_t i)
{
	const struct hp_exchange_in *in = pl->in;
	__u32 n = in->victims[i].npages ? in->victims[i].npages : 1;
	int vg = group_of(in->victim_group, i), node = in->victims[i].node;

	pl->out->demote[pl->out->ndemote++] = move_of_victim(&in->victims[i], in->victim_target[i]);
	pl->budget -= n;
	if (node >= 0 && node < HP_EXCHANGE_NODES)
		pl->freeing[node] += n;
	if (vg >= 0)
		pl->share[vg] += n;
	if (in->victim_taken)
		in->victim_taken[i] = true;
}

/*
 * Demote victims of node @t until @need pages are free or being freed
 * there, for a candidate of group @g. Returns the reason when it could
 * not, HP_HOLD_NR when it did.
 */
static enum hp_hold make_room(struct plan *pl, int t, __u64 need, unsigned int heat, int g)
{
	const struct hp_exchange_in *in = pl->in;

	while (pl->room[t] + pl->freeing[t] < (__s64)need) {
		size_t i = pl->next_victim[t], skipped = 0;

		/* Gone for good for everyone: another node's, taken, or with nowhere to go. */
		while (i < in->nvictims &&
		       (in->victims[i].node != t || in->victim_target[i] < 0 || taken(pl, i)))
			i++;
		pl->next_victim[t] = i;
		/* Kept for others: pages in use of another group. */
		while (i < in->nvictims && skipped < SKIP_MAX &&
		       (in->victims[i].node != t || in->victim_target[i] < 0 || taken(pl, i) ||
			!may_take(pl, i, g))) {
			i++;
			skipped++;
		}
		if (i == in->nvictims || skipped == SKIP_MAX)
			return HP_HOLD_NO_ROOM;
		/* Victims come coldest first: none after this one is colder either. */
		if (in->victim_heat[i] + HP_EXCHANGE_MARGIN > heat)
			return HP_HOLD_NOT_COLDER;
		if (pl->budget < in->victims[i].npages)
			return HP_HOLD_BUDGET;
		demote(pl, i);
		if (i == pl->next_victim[t])
			pl->next_victim[t] = i + 1;
	}
	return HP_HOLD_NR;
}

/*
 * Group @g has no share left for @need pages: its own pages colder than
 * @heat by the margin go down, on any node, until it has.
 */
static enum hp_hold make_share(struct plan *pl, int g, __u64 need, unsigned int heat)
{
	const struct hp_exchange_in *in = pl->in;

	for (size_t i = 0; i < in->nvictims && pl->share[g] < (__s64)need; i++) {
		if (group_of(in->victim_group, i) != g || in->victim_target[i] < 0 || taken(pl, i))
			continue;
		if (in->victim_heat[i] + HP_EXCHANGE_MARGIN > heat)
			return HP_HOLD_SHARE_FULL;
		if (pl->budget < in->victims[i].npages)
			return HP_HOLD_BUDGET;
		demote(pl, i);
	}
	return pl->share[g] < (__s64)need ? HP_HOLD_SHARE_FULL : HP_HOLD_NR;
}

/* Groups over their share send their coldest pages down first, to the share. */
static void evict_over_share(struct plan *pl)
{
	const struct hp_exchange_in *in = pl->in;

	if (!in->victim_group)
		return;
	for (size_t i = 0; i < in->nvictims; i++) {
		int vg = group_of(in->victim_group, i);

		if (vg < 0 || pl->share[vg] >= 0 || in->victim_target[i] < 0 || taken(pl, i))
			continue;
		if (pl->budget < in->victims[i].npages)
			return;
		demote(pl, i);
	}
}

static void hold(struct hp_exchange_out *out, size_t c, enum hp_hold why, __u64 pages)
{
	out->held[why] += pages;
	if (out->cand_why)
		out->cand_why[c] = (__u8)why;
}

void hp_exchange_plan(const struct hp_exchange_in *in, struct hp_exchange_out *out)
{
	struct plan pl = { .in = in, .out = out, .budget = in->budget };

	out->npromote = out->ndemote = 0;
	memcpy(pl.room, in->room, sizeof(pl.room));
	for (int g = 0; g < HP_EXCHANGE_GROUPS; g++)
		pl.share[g] = in->cand_group || in->victim_group ? in->share_room[g]
								 : HP_EXCHANGE_NO_SHARE;
	if (in->victim_taken)
		memset(in->victim_taken, 0, in->nvictims * sizeof(*in->victim_taken));
	evict_over_share(&pl);
	for (size_t c = 0; c < in->ncand; c++) {
		const struct hp_hot_page *p = &in->cand[c];
		int t = in->cand_target[c], g = group_of(in->cand_group, c);
		__u64 n = p->npages ? p->npages : 1;
		enum hp_hold why;

		if (out->cand_why)
			out->cand_why[c] = HP_HOLD_NR;
		if (t < 0 || t >= HP_EXCHANGE_NODES) {
			hold(out, c, HP_HOLD_NO_TARGET, n);
			continue;
		}
		if (pl.budget < n) {
			hold(out, c, HP_HOLD_BUDGET, n);
			continue;
		}
		if (g >= 0 && pl.share[g] < (__s64)n) {
			why = make_share(&pl, g, n, p->heat);
			if (why != HP_HOLD_NR) {
				hold(out, c, why, n);
				continue;
			}
		}
		if (pl.room[t] >= (__s64)n) {
			out->promote[out->npromote++] = move_of_candidate(p, t);
			pl.room[t] -= (__s64)n;
			pl.budget -= n;
			if (g >= 0)
				pl.share[g] -= (__s64)n;
			continue;
		}
		why = make_room(&pl, t, n, p->heat, g);
		if (why == HP_HOLD_NR) {
			/* The room being made is this candidate's, in the next round. */
			__s64 from_room = pl.room[t] > 0 ? pl.room[t] : 0;

			pl.room[t] -= from_room;
			pl.freeing[t] -= (__s64)n - from_room;
			if (g >= 0)
				pl.share[g] -= (__s64)n;
			why = HP_HOLD_MAKING_ROOM;
		}
		hold(out, c, why, n);
	}
}
