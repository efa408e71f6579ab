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
	/* per node: the next victim to look at, and pages freed this round */
	size_t next_victim[HP_EXCHANGE_NODES];
	__s64 freeing[HP_EXCHANGE_NODES];
	__s64 room[HP_EXCHANGE_NODES];
	__u64 budget;
};

/*
 * Demote victims of node @t until @need pages are free or being freed
 * there. Returns the reason when it could not, HP_HOLD_NR when it did.
 */
static enum hp_hold make_room(struct plan *pl, int t, __u64 need, unsigned int heat)
{
	const struct hp_exchange_in *in = pl->in;

	while (pl->room[t] + pl->freeing[t] < (__s64)need) {
		size_t i = pl->next_victim[t];

		while (i < in->nvictims && (in->victims[i].node != t || in->victim_target[i] < 0))
			i++;
		pl->next_victim[t] = i;
		if (i == in->nvictims)
			return HP_HOLD_NO_ROOM;
		/* Victims come coldest first: none after this one is colder either. */
		if (in->victim_heat[i] + HP_EXCHANGE_MARGIN > heat)
			return HP_HOLD_NOT_COLDER;
		if (pl->budget < in->victims[i].npages)
			return HP_HOLD_BUDGET;
		pl->out->demote[pl->out->ndemote++] =
			move_of_victim(&in->victims[i], in->victim_target[i]);
		pl->budget -= in->victims[i].npages;
		pl->freeing[t] += in->victims[i].npages;
		pl->next_victim[t] = i + 1;
	}
	return HP_HOLD_NR;
}

void hp_exchange_plan(const struct hp_exchange_in *in, struct hp_exchange_out *out)
{
	struct plan pl = { .in = in, .out = out, .budget = in->budget };

	out->npromote = out->ndemote = 0;
	memcpy(pl.room, in->room, sizeof(pl.room));
	for (size_t c = 0; c < in->ncand; c++) {
		const struct hp_hot_page *p = &in->cand[c];
		int t = in->cand_target[c];
		__u64 n = p->npages ? p->npages : 1;
		enum hp_hold why;

		if (t < 0 || t >= HP_EXCHANGE_NODES) {
			out->held[HP_HOLD_NO_TARGET] += n;
			continue;
		}
		if (pl.budget < n) {
			out->held[HP_HOLD_BUDGET] += n;
			continue;
		}
		if (pl.room[t] >= (__s64)n) {
			out->promote[out->npromote++] = move_of_candidate(p, t);
			pl.room[t] -= (__s64)n;
			pl.budget -= n;
			continue;
		}
		why = make_room(&pl, t, n, p->heat);
		if (why == HP_HOLD_NR) {
			/* The room being made is this candidate's, in the next round. */
			__s64 from_room = pl.room[t] > 0 ? pl.room[t] : 0;

			pl.room[t] -= from_room;
			pl.freeing[t] -= (__s64)n - from_room;
			why = HP_HOLD_MAKING_ROOM;
		}
		out->held[why] += n;
	}
}
