// SPDX-License-Identifier: GPL-2.0
/*
 * hotpaged's round, once per policy window: the window ends in the heat
 * table, the hot sets drop what cooled or moved, the exchange moves hot
 * pages up and, when the fast tier has no room for them, idle pages down
 * first (exchange.h), every page held back is counted by reason and each
 * reason said once in the log, and the published hot set is refreshed.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <numaif.h>

#include "daemon_internal.h"
#include "kmigrated.h"
#include "promote_kmigrated.h"

/* ------------------------------------------------------------ backend */

/*
 * backend=auto: replace the backend by kmigrated (@to_kmigrated) or by
 * move_pages. false when the new one could not be made (the old one stays).
 */
static bool backend_switch(struct daemon *d, bool to_kmigrated, __u64 now)
{
	struct hp_promote_backend next;
	char err[256] = "";
	int ret;

	d->backend_recheck_ns = now + BACKEND_RECHECK_NS;
	if (to_kmigrated)
		ret = hp_promote_kmigrated_create(d->policy.batch, &next, err, sizeof(err));
	else
		ret = hp_promote_move_pages_create(d->policy.batch, &next);
	if (ret) {
		if (!to_kmigrated)
			say("move_pages backend: %s", strerror(-ret));
		return false;
	}
	say("promotion backend: %s -> %s (%s)", d->backend.name, next.name,
	    to_kmigrated ? "kmigrated.ko is loaded again" : "kmigrated.ko is gone");
	if (d->backend.destroy)
		d->backend.destroy(&d->backend);
	d->backend = next;
	d->last_backend_err = 0;
	d->backend_switches++;
	return true;
}

/*
 * backend=auto: kmigrated while /sys/kernel/mm/kmigrated exists, else
 * move_pages; the module's return is looked for every BACKEND_RECHECK_NS.
 */
static void backend_recheck(struct daemon *d, __u64 now)
{
	bool on_kmigrated;

	if (d->opts->backend != HP_BACKEND_AUTO || !d->have_backend)
		return;
	on_kmigrated = !strcmp(d->backend.name, "kmigrated");
	if (on_kmigrated) {
		if (access(KMIGRATED_SYSFS_DIR, F_OK))
			backend_switch(d, false, now);
	} else if (now >= d->backend_recheck_ns) {
		d->backend_recheck_ns = now + BACKEND_RECHECK_NS;
		if (!access(KMIGRATED_SYSFS_DIR, F_OK))
			backend_switch(d, true, now);
	}
}

/* ------------------------------------------------------------ hot sets */

struct prune_arg {
	struct daemon *d;
	bool below; /* the candidates' set: pages below the top tier */
};

static bool is_candidate_node(const struct daemon *d, int node)
{
	__u64 exclude = hp_policy_exclude_nodes(&d->policy, &d->topo);

	return node >= 0 && node < HP_TOPO_MAX_NODES && !(exclude >> node & 1);
}

/* A page stays while it is hot and on the side of the tiers its set holds. */
static bool keep_hot(struct hp_hot_page *p, void *arg)
{
	const struct prune_arg *a = arg;
	const struct daemon *d = a->d;

	p->heat = hp_heat_of(d->heat, p->pfn);
	p->page_node = hp_heat_node(d->heat, p->pfn);
	return p->heat >= d->policy.threshold && is_candidate_node(d, p->page_node) == a->below;
}

static void prune(struct daemon *d)
{
	struct prune_arg below = { d, true }, top = { d, false };

	hp_hotset_filter(d->cand_set, keep_hot, &below);
	hp_hotset_filter(d->top_set, keep_hot, &top);
}

size_t hp_daemon_hottest(struct daemon *d, size_t max)
{
	size_t n = hp_hotset_copy(d->top_set, d->cand, CANDIDATES_MAX);

	n += hp_hotset_copy(d->cand_set, d->cand + n, CANDIDATES_MAX - n);
	hp_hot_pages_sort(d->cand, n);
	return n < max ? n : max;
}

static void publish(struct daemon *d)
{
	size_t n = hp_daemon_hottest(d, d->opts->top);
	int ret = hp_hot_map_publish(d->hot_map, d->cand, n);

	if (ret)
		say("publishing the hot set: %s", strerror(-ret));
}

/* Whether the scan source is running (it times the windows). */
static bool scan_running(const struct daemon *d)
{
	for (size_t i = 0; i < d->nr_src; i++)
		if (d->src[i].ops->id == HP_SRC_SCAN)
			return true;
	return false;
}

/* ------------------------------------------------------------ exchange */

static __u64 guard_windows(const struct daemon *d)
{
	return ((__u64)d->policy.pingpong_ms + d->policy.window_ms - 1) / d->policy.window_ms;
}

static bool moved_lately(const struct daemon *d, __u32 tgid, __u64 vaddr, __u64 pfn)
{
	return d->policy.pingpong_ms && hp_moved_since(d->moved, tgid, vaddr, pfn,
						       hp_heat_window(d->heat)) < guard_windows(d);
}

/* The policy at index @i, or NULL for -1. */
static struct hp_named_policy *policy_at(struct daemon *d, int i)
{
	return i >= 0 && (size_t)i < d->policies.n ? &d->policies.p[i] : NULL;
}

/* The index of the policy @tgid's pages fall under, or -1. */
static int policy_index(struct daemon *d, __u32 tgid)
{
	const struct hp_named_policy *np = hp_daemon_policy_of(d, tgid);

	return np ? (int)(np - d->policies.p) : -1;
}

/* @pages held back for @why, counted for the round and for their policy @np (if any). */
static void hold(__u64 held[HP_HOLD_NR], struct hp_named_policy *np, enum hp_hold why, __u64 pages)
{
	held[why] += pages;
	if (np)
		np->held[why] += pages;
}

/* The census looks at a process's pages when the scope and its policy let them go down. */
static bool census_admit(__u32 tgid, void *arg)
{
	struct daemon *d = arg;
	const struct hp_named_policy *np;

	if (d->policy.scope != HP_SCOPE_ALL && !hp_policy_scope_admits(&d->policy, tgid, "/proc"))
		return false;
	np = hp_daemon_policy_of(d, tgid);
	return np && np->demote;
}

static bool census_skip(__u32 tgid, __u64 vaddr, void *arg)
{
	return moved_lately(arg, tgid, vaddr, 0);
}

/*
 * Every fast-tier page of a process whose policy is over its share may go
 * down, idle or not: a workload that uses all it has would otherwise keep
 * what its share no longer grants.
 */
static bool census_take_all(__u32 tgid, void *arg)
{
	const struct hp_named_policy *np = hp_daemon_policy_of(arg, tgid);

	return np && np->over_share;
}

static int cmp_cand_pfn(const void *a, const void *b)
{
	const struct hp_hot_page *x = a, *y = b;

	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

/*
 * A page of a huge page mapped by page tables (the scanner reports it as
 * a base page) moves with the whole huge page: stand it for it, once.
 */
static size_t whole_huge_pages(struct daemon *d, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		struct hp_hot_page *p = &d->cand[i];
		__u64 head;
		__u32 npages;

		if (p->npages <= 1 && hp_census_huge_page(d->census, p->pfn, &head, &npages)) {
			if (p->vaddr)
				p->vaddr -= (p->pfn - head) << 12;
			p->pfn = head;
			p->npages = npages;
		}
	}
	qsort(d->cand, n, sizeof(*d->cand), cmp_cand_pfn);
	for (size_t i = 0; i < n; i++)
		if (!k || d->cand[k - 1].pfn != d->cand[i].pfn)
			d->cand[k++] = d->cand[i];
	return k;
}

/* Candidates of this round into d->cand, hottest first, with their targets. */
static size_t gather_candidates(struct daemon *d, __u64 held[HP_HOLD_NR])
{
	size_t n = hp_hotset_copy(d->cand_set, d->cand, CANDIDATES_MAX), k = 0;

	n = whole_huge_pages(d, n);
	hp_hot_pages_sort(d->cand, n);
	for (size_t i = 0; i < n; i++) {
		const struct hp_hot_page *p = &d->cand[i];
		__u64 pages = p->npages ? p->npages : 1;
		struct hp_named_policy *np;
		int target;

		if (d->policy.scope != HP_SCOPE_ALL &&
		    !hp_policy_scope_admits(&d->policy, p->tgid, "/proc")) {
			held[HP_HOLD_SCOPE] += pages;
			continue;
		}
		np = hp_daemon_policy_of(d, p->tgid);
		if (!np) {
			held[HP_HOLD_NO_POLICY] += pages;
			continue;
		}
		if (!np->promote) {
			hold(held, np, HP_HOLD_POLICY_OFF, pages);
			continue;
		}
		if (moved_lately(d, p->tgid, p->vaddr, p->pfn)) {
			hold(held, np, HP_HOLD_PINGPONG, pages);
			continue;
		}
		if (d->backend.needs_vaddr && (!p->tgid || !p->vaddr)) {
			hold(held, np, HP_HOLD_NO_ADDRESS, pages);
			continue;
		}
		target = hp_policy_target_for(&d->policy, &d->topo, p->access_node, p->page_node);
		if (target < 0 || target >= HP_EXCHANGE_NODES) {
			hold(held, np, HP_HOLD_NO_TARGET, pages);
			continue;
		}
		d->cand[k] = *p;
		d->cand_target[k++] = target;
	}
	hp_daemon_policies_rank(d, &k, held);
	for (size_t i = 0; i < k; i++)
		d->cand_group[i] = policy_index(d, d->cand[i].tgid);
	return k;
}

/* Room of the candidates' targets, and the nodes that lack it (bit mask). */
static __u64 read_room(struct daemon *d, size_t ncand, __u64 budget, __s64 room[])
{
	__u64 want[HP_EXCHANGE_NODES] = { 0 }, seen = 0, short_nodes = 0;

	for (size_t i = 0; i < ncand; i++) {
		int t = d->cand_target[i];

		if (want[t] < budget)
			want[t] += d->cand[i].npages ? d->cand[i].npages : 1;
		if (seen >> t & 1)
			continue;
		seen |= 1ULL << t;
		{
			__s64 bytes;
			__u64 headroom;

			if (hp_policy_room(&d->policy, &d->topo, t, &bytes, &headroom))
				bytes = 0;
			room[t] = bytes / d->page_size;
		}
	}
	for (int t = 0; t < HP_EXCHANGE_NODES; t++)
		if ((seen >> t & 1) && (__s64)want[t] > room[t])
			short_nodes |= 1ULL << t;
	return short_nodes;
}

/* A /proc/vmstat counter, 0 when absent. */
static __u64 vmstat_read(const char *name)
{
	char line[128], key[64];
	unsigned long long v, found = 0;
	FILE *f = fopen("/proc/vmstat", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %llu", key, &v) == 2 && !strcmp(key, name)) {
			found = v;
			break;
		}
	fclose(f);
	return found;
}

/* Whether the kernel demoted pages since the last round (kswapd's or direct reclaim's). */
static bool kswapd_demoting(struct daemon *d)
{
	__u64 now = vmstat_read("pgdemote_kswapd") + vmstat_read("pgdemote_direct");
	bool active = d->kernel_demoted && now > d->kernel_demoted;

	d->kernel_demoted = now;
	return active;
}

struct share_victims {
	struct daemon *d;
	size_t n;
	size_t ncensus; /* the census's, first, by frame */
};

static int cmp_victim_pfn(const void *a, const void *b)
{
	const struct hp_victim *x = a, *y = b;

	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

/* A hot page of the fast tier whose policy has a share: it may have to go down for it. */
static bool add_share_victim(struct hp_hot_page *p, void *arg)
{
	struct share_victims *a = arg;
	struct daemon *d = a->d;
	const struct hp_named_policy *np;

	if (a->n >= VICTIMS_MAX || !p->tgid || (d->backend.needs_vaddr && !p->vaddr) ||
	    p->page_node < 0)
		return true;
	np = hp_daemon_policy_of(d, p->tgid);
	if (!np || !np->has_share || !np->demote || moved_lately(d, p->tgid, p->vaddr, p->pfn))
		return true;
	/* The census offered it already (its policy is over its share). */
	if (bsearch(&(struct hp_victim){ .pfn = p->pfn }, d->victims, a->ncensus,
		    sizeof(*d->victims), cmp_victim_pfn))
		return true;
	d->victims[a->n++] = (struct hp_victim){
		.pfn = p->pfn,
		.vaddr = p->vaddr,
		.tgid = p->tgid,
		.npages = p->npages ? p->npages : 1,
		.idle = 0,
		.node = (__s16)p->page_node,
	};
	return true;
}

/* Coldest first: lower heat, then longer idle. */
static int cmp_victim_cold(const void *a, const void *b, void *heat)
{
	const struct hp_victim *x = a, *y = b;
	unsigned int hx = hp_heat_of(heat, x->pfn), hy = hp_heat_of(heat, y->pfn);

	if (hx != hy)
		return hx < hy ? -1 : 1;
	return x->idle > y->idle ? -1 : x->idle < y->idle;
}

/*
 * After the census's pages, the hot pages of the fast tier whose
 * policies have a share (they go down when their policy is over it, or for
 * a hotter page of their own), all coldest first.
 */
static size_t add_share_victims(struct daemon *d, size_t n)
{
	struct share_victims a = { d, n, n };

	qsort(d->victims, n, sizeof(*d->victims), cmp_victim_pfn);
	hp_hotset_filter(d->top_set, add_share_victim, &a);
	qsort_r(d->victims, a.n, sizeof(*d->victims), cmp_victim_cold, d->heat);
	return a.n;
}

/*
 * Pages that can make room on @nodes, coldest first, with their targets;
 * with @shares, also the hot pages that policies' shares may send down.
 */
static size_t gather_victims(struct daemon *d, __u64 nodes, size_t want, bool shares)
{
	struct hp_census_query q = {
		.node_mask = nodes,
		/*
		 * The top tier's pages were last tested at top_seen_window: idle
		 * counts from there, and what came since is not known yet.
		 */
		.min_idle = d->policy.min_idle +
			    (unsigned int)(hp_heat_window(d->heat) - d->top_seen_window),
		.budget_pages = CENSUS_BUDGET_PAGES,
		.admit = census_admit,
		.skip = d->policy.pingpong_ms ? census_skip : NULL,
		.take_all = shares ? census_take_all : NULL,
		.arg = d,
		.exclusive_only = d->backend.needs_vaddr, /* move_pages(2) */
	};
	size_t n;

	if (want > VICTIMS_MAX)
		want = VICTIMS_MAX;
	n = hp_census_run(d->census, d->heat, &q, d->victims, want);
	if (shares)
		n = add_share_victims(d, n);
	for (size_t i = 0; i < n; i++) {
		d->victim_heat[i] = hp_heat_of(d->heat, d->victims[i].pfn);
		d->victim_target[i] = hp_daemon_demotion_target(d, d->victims[i].node);
		d->victim_group[i] = policy_index(d, d->victims[i].tgid);
	}
	return n;
}

/*
 * Drop @tgid's cached PFNs (its pages moved) once per round, not per page:
 * an invalidation walks the whole cache and closes the pagemap fd, which
 * per page took 40% of hotpaged's CPU in the end-to-end benchmark.
 */
static void invalidate_once(struct daemon *d, __u32 tgid, __u32 *seen, size_t *nseen)
{
	for (size_t i = 0; i < *nseen; i++)
		if (seen[i] == tgid)
			return;
	hp_pagemap_invalidate(d->pagemap, tgid);
	if (*nseen < INVALIDATE_SEEN_MAX)
		seen[(*nseen)++] = tgid;
}

/*
 * A move that happened, @pages of its base pages (all, or those of a huge
 * page that the kernel split and moved in part): count it, guard it,
 * forget what its frames knew.
 */
static void moved_part(struct daemon *d, const struct hp_move *m, __u32 pages, __u32 *seen,
		       size_t *nseen)
{
	struct direction *dir = m->demote ? &d->demote : &d->promote;
	struct hp_named_policy *np = hp_daemon_policy_of(d, m->tgid);

	dir->pages += pages;
	dir->not_moved += m->npages - pages;
	if (np)
		*(m->demote ? &np->demoted : &np->promoted) += pages;
	/* The frame's history is not that of whoever gets it next. */
	hp_heat_forget(d->heat, m->pfn, m->npages);
	hp_moved_add(d->moved, m->tgid, m->vaddr, m->pfn, hp_heat_window(d->heat),
		     guard_windows(d));
	if (!m->demote)
		hp_hotset_remove(d->cand_set, m->pfn);
	if (m->tgid)
		invalidate_once(d, m->tgid, seen, nseen);
}

static void moved(struct daemon *d, const struct hp_move *m, __u32 *seen, size_t *nseen)
{
	moved_part(d, m, m->npages, seen, nseen);
}

/*
 * Base pages of huge move @m on its target now. A huge page that cannot
 * move whole (no free huge frame there) is split and its pages moved one
 * by one, some perhaps not: its head alone does not say.
 */
static __u32 huge_pages_there(const struct hp_move *m)
{
	void *addrs[HP_HEAT_HUGE_PAGES];
	int status[HP_HEAT_HUGE_PAGES];
	__u32 n = m->npages < HP_HEAT_HUGE_PAGES ? m->npages : HP_HEAT_HUGE_PAGES, there = 0;

	for (__u32 k = 0; k < n; k++)
		addrs[k] = (void *)(uintptr_t)(m->vaddr + (__u64)k * 4096);
	if (move_pages((int)m->tgid, n, addrs, NULL, status, 0) < 0)
		return 0;
	for (__u32 k = 0; k < n; k++)
		there += status[k] == m->to_node;
	return there;
}

static int cmp_pending(const void *a, const void *b)
{
	const struct hp_move *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

/* Pages in kmigrated's queues now; 0 when unknown. */
static __u64 module_queued(void)
{
	__u64 v;

	return hp_kmigrated_read_u64(KMIGRATED_SYSFS_QUEUED, &v) ? 0 : v;
}

/*
 * A base page found moved may have moved as part of a huge page: khugepaged
 * can collapse pages between the census or the scan and the move, and the
 * module moves a folio whole. Then the move is the huge page's, counted
 * once (@last_head: the huge page counted last, for its other pages).
 * false when @m was counted with a huge page already.
 */
static bool whole_huge_page(struct daemon *d, struct hp_move *m, __u64 *last_head)
{
	__u64 pfn, head;
	__u32 npages;
	int node;

	if (!m->vaddr ||
	    hp_pagemap_resolve(d->pagemap, m->tgid, m->vaddr, hp_monotonic_ns(), &pfn, &node) ||
	    !hp_census_huge_page(d->census, pfn, &head, &npages))
		return true;
	if (head == *last_head)
		return false;
	*last_head = head;
	/* Its old frames, for the heat table: the huge page's, where it was. */
	m->vaddr -= (pfn - head) << 12;
	m->pfn &= ~(__u64)(npages - 1);
	m->npages = npages;
	return true;
}

/*
 * The moves kmigrated queued last round: each is looked up where it
 * should now be (move_pages(2) with nodes NULL, one call per process) and
 * counted as moved, or left where it was: a hot page that did not move
 * stays a candidate, unguarded, with its history. Pages known only by
 * their frame cannot be looked up, and count as moved. While the module
 * still has work queued, the check waits: as long as its queues shrink
 * (PENDING_ROUNDS_MAX rounds at most), PENDING_WAITS_MAX rounds when
 * they do not.
 */
static void verify_pending(struct daemon *d)
{
	__u32 seen[INVALIDATE_SEEN_MAX];
	size_t nseen = 0, i = 0;
	__u64 last_head, queued;

	if (!d->npending)
		return;
	queued = module_queued();
	if (queued) {
		/* Progress restarts the patience: what is still queued will be found moved. */
		if (queued < d->pending_queued)
			d->pending_waits = 0;
		d->pending_queued = queued;
		d->pending_waits++;
		d->pending_rounds++;
		if (d->pending_waits < PENDING_WAITS_MAX && d->pending_rounds < PENDING_ROUNDS_MAX)
			return;
	}
	d->pending_waits = 0;
	d->pending_rounds = 0;
	d->pending_queued = 0;
	qsort(d->pending, d->npending, sizeof(*d->pending), cmp_pending);
	while (i < d->npending) {
		size_t j = i, n;

		while (j < d->npending && d->pending[j].tgid == d->pending[i].tgid)
			j++;
		n = j - i;
		if (!d->pending[i].tgid) {
			for (size_t k = i; k < j; k++)
				moved(d, &d->pending[k], seen, &nseen);
			i = j;
			continue;
		}
		for (size_t k = 0; k < n; k++)
			d->verify_addrs[k] = (void *)(uintptr_t)d->pending[i + k].vaddr;
		if (move_pages((int)d->pending[i].tgid, n, d->verify_addrs, NULL, d->verify_status,
			       0) < 0) {
			/* The process is gone: nothing left to count or to guard. */
			i = j;
			continue;
		}
		hp_pagemap_invalidate(d->pagemap, d->pending[i].tgid);
		last_head = HP_PFN_UNKNOWN;
		for (size_t k = 0; k < n; k++) {
			struct hp_move m = d->pending[i + k];

			if (m.npages > 1) {
				__u32 there = huge_pages_there(&m);

				if (there)
					moved_part(d, &m, there, seen, &nseen);
				else
					(m.demote ? &d->demote : &d->promote)->not_moved +=
						m.npages;
				continue;
			}
			if (d->verify_status[k] != m.to_node) {
				(m.demote ? &d->demote : &d->promote)->not_moved += m.npages;
				continue;
			}
			if (m.npages == 1 && !whole_huge_page(d, &m, &last_head))
				continue; /* counted with its huge page */
			moved(d, &m, seen, &nseen);
		}
		i = j;
	}
	d->npending = 0;
}

/*
 * Hand @n moves to the backend. Moves the backend made (move_pages) count
 * at once; moves it queued (kmigrated) are checked next round. Returns
 * false when the backend could not work at all.
 */
static bool execute(struct daemon *d, const struct hp_move *moves, size_t n, struct direction *dir,
		    __u64 held[HP_HOLD_NR], __u64 now)
{
	__u32 seen[INVALIDATE_SEEN_MAX];
	size_t nseen = 0;
	int ret;

	if (!n)
		return true;
	for (size_t i = 0; i < n; i++)
		d->reqs[i] = (struct hp_promote_req){
			.pfn = moves[i].pfn,
			.vaddr = moves[i].vaddr,
			.tgid = moves[i].tgid,
			.target_node = moves[i].to_node,
			.demote = moves[i].demote,
		};
	d->backend.batch = d->policy.batch;
	dir->res.outcome = d->outcome;
	ret = d->backend.promote(&d->backend, d->reqs, n, &dir->res);
	dir->res.outcome = NULL;
	if (ret < 0) {
		if (ret != d->last_backend_err)
			say("%s backend failed: %s", d->backend.name, strerror(-ret));
		d->last_backend_err = ret;
		if (d->opts->backend == HP_BACKEND_AUTO && !strcmp(d->backend.name, "kmigrated"))
			backend_switch(d, false, now); /* the next round goes through move_pages */
		return false;
	}
	d->last_backend_err = 0;
	dir->requests += n;
	for (size_t i = 0; i < n; i++) {
		const struct hp_move *m = &moves[i];
		enum hp_promote_outcome o = d->outcome[i];

		if (o == HP_PROMOTE_MOVED) {
			moved(d, m, seen, &nseen);
			continue;
		}
		if (o == HP_PROMOTE_QUEUED && d->npending < PENDING_MAX) {
			d->pending[d->npending++] = *m;
			continue;
		}
		if (o == HP_PROMOTE_QUEUED) { /* no room to check it: take it as done */
			moved(d, m, seen, &nseen);
			continue;
		}
		hold(held, m->demote ? NULL : hp_daemon_policy_of(d, m->tgid), HP_HOLD_REFUSED,
		     m->npages);
		if (!m->demote && (o == HP_PROMOTE_NO_PROCESS || o == HP_PROMOTE_NOT_PRESENT ||
				   o == HP_PROMOTE_NOT_MAPPED || o == HP_PROMOTE_BAD_PFN ||
				   o == HP_PROMOTE_ALREADY_THERE))
			hp_hotset_remove(d->cand_set, m->pfn);
	}
	return true;
}

/*
 * Shares: each policy's room left on the fast tier, in pages, into
 * @in (with the groups). Returns whether victims are wanted for them: a
 * policy over its share (its pages go down even with no candidate up),
 * or one whose candidates want more than its share has left (its own
 * colder pages may go down for them). @over_pages: pages over the shares.
 */
static bool read_shares(struct daemon *d, struct hp_exchange_in *in, __u64 *over_pages)
{
	__s64 want[HP_EXCHANGE_GROUPS] = { 0 };
	__u64 fast_bytes;
	bool wanted = false;

	_Static_assert(HP_POLICIES_MAX <= HP_EXCHANGE_GROUPS, "a group per policy");
	*over_pages = 0;
	for (size_t i = 0; i < d->policies.n; i++)
		d->policies.p[i].over_share = false;
	if (!hp_policies_have_share(&d->policies))
		return false;
	hp_daemon_policies_measure(d, true);
	fast_bytes = hp_daemon_fast_bytes(d);
	for (int g = 0; g < HP_EXCHANGE_GROUPS; g++)
		in->share_room[g] = HP_EXCHANGE_NO_SHARE;
	for (size_t i = 0; i < in->ncand; i++)
		if (d->cand_group[i] >= 0)
			want[d->cand_group[i]] += d->cand[i].npages ? d->cand[i].npages : 1;
	for (size_t i = 0; i < d->policies.n; i++) {
		struct hp_named_policy *p = &d->policies.p[i];
		__s64 left;

		if (!p->has_share)
			continue;
		left = (__s64)(hp_named_policy_share(p, fast_bytes) / (__u64)d->page_size) -
		       (__s64)p->fast_pages;
		in->share_room[i] = left;
		p->over_share = left < 0;
		if (left < 0)
			*over_pages += (__u64)-left;
		wanted |= left < 0 || want[i] > left;
	}
	in->cand_group = d->cand_group;
	in->victim_group = d->victim_group;
	in->victim_taken = d->victim_taken;
	return wanted;
}

static void exchange(struct daemon *d, __u64 now, __u32 interval_ms, __u64 held[HP_HOLD_NR],
		     __u64 *cpu_t)
{
	struct hp_exchange_in in = { .victim_heat = d->victim_heat,
				     .victim_target = d->victim_target };
	struct hp_exchange_out out = { .promote = d->promote_moves, .demote = d->demote_moves };
	bool warm = hp_heat_window(d->heat) - d->start_window >= d->policy.min_idle, shares;
	__u64 short_nodes, over_pages;

	verify_pending(d);
	hp_phase_lap(d, HP_PHASE_VERIFY, cpu_t);
	/* Pages still queued from the last round: no new plan on top of them. */
	if (d->npending)
		return;

	in.budget = hp_policy_rate_bytes(&d->policy) * interval_ms / 1000 / (__u64)d->page_size;
	in.ncand = gather_candidates(d, held);
	hp_phase_lap(d, HP_PHASE_CANDIDATES, cpu_t);
	in.cand = d->cand;
	in.cand_target = d->cand_target;
	d->candidates += in.ncand;
	shares = read_shares(d, &in, &over_pages);
	if (!in.ncand && !over_pages)
		return;
	if (!d->have_backend || !in.budget) {
		/* No backend (it failed), or rate_mbps=0: promotion is paused. */
		for (size_t i = 0; i < in.ncand; i++)
			hold(held, policy_at(d, d->cand_group[i]),
			     d->have_backend ? HP_HOLD_BUDGET : HP_HOLD_REFUSED, d->cand[i].npages);
		return;
	}
	short_nodes = read_room(d, in.ncand, in.budget, in.room);
	if (kswapd_demoting(d)) {
		/*
		 * kswapd is bringing the node back to its watermarks by demoting
		 * what it finds cold: it makes the room the node lacks, and this
		 * round only exchanges, one page down for each page up, rather
		 * than demoting that room a second time.
		 */
		for (int t = 0; t < HP_EXCHANGE_NODES; t++)
			if (in.room[t] < 0)
				in.room[t] = 0;
	}
	if ((short_nodes || shares) && warm) {
		__u64 want = over_pages;

		for (size_t i = 0; i < in.ncand && want < in.budget; i++)
			want += d->cand[i].npages ? d->cand[i].npages : 1;
		/* Some of what is found will not be colder, or is taken already. */
		in.nvictims = gather_victims(d, short_nodes | (shares ? hp_daemon_fast_mask(d) : 0),
					     want + want / 2 + 64, shares);
		in.victims = d->victims;
	}
	hp_phase_lap(d, HP_PHASE_CENSUS, cpu_t);
	memset(out.held, 0, sizeof(out.held));
	out.cand_why = d->cand_why;
	hp_exchange_plan(&in, &out);
	hp_phase_lap(d, HP_PHASE_PLAN, cpu_t);
	/* Per policy, each candidate held back by its reason; the round's sums agree. */
	for (size_t i = 0; i < in.ncand; i++) {
		enum hp_hold why = (enum hp_hold)d->cand_why[i];

		if (why == HP_HOLD_NR)
			continue;
		if (!warm && why == HP_HOLD_NO_ROOM)
			why = HP_HOLD_WARMING_UP;
		hold(held, policy_at(d, d->cand_group[i]), why,
		     d->cand[i].npages ? d->cand[i].npages : 1);
	}
	/*
	 * Down first: their room is what the candidates held back wait for.
	 * One load of the backend's program serves both; it stays loaded
	 * while the scan source runs, whose link holds the module already.
	 */
	d->backend.hold = true;
	if (execute(d, out.demote, out.ndemote, &d->demote, held, now))
		execute(d, out.promote, out.npromote, &d->promote, held, now);
	hp_phase_lap(d, HP_PHASE_MOVES, cpu_t);
}

/* ------------------------------------------------------------ holds */

/* The figures that go with a reason, for the log. */
static void hold_figures(const struct daemon *d, enum hp_hold r, char *buf, size_t len)
{
	struct hp_census_stats cs;

	buf[0] = '\0';
	switch (r) {
	case HP_HOLD_NO_ROOM:
		hp_census_get_stats(d->census, &cs);
		snprintf(buf, len,
			 "min_idle=%u windows; the census has read %llu pages and found %llu idle",
			 d->policy.min_idle, (unsigned long long)cs.pages_read,
			 (unsigned long long)cs.found);
		break;
	case HP_HOLD_BUDGET:
		snprintf(buf, len, "rate_mbps=%u, window_ms=%u", d->policy.rate_mbps,
			 d->policy.window_ms);
		break;
	case HP_HOLD_PINGPONG:
		snprintf(buf, len, "pingpong_ms=%u", d->policy.pingpong_ms);
		break;
	case HP_HOLD_WARMING_UP:
		snprintf(buf, len, "%llu of min_idle=%u windows watched",
			 (unsigned long long)(hp_heat_window(d->heat) - d->start_window),
			 d->policy.min_idle);
		break;
	case HP_HOLD_REFUSED:
		snprintf(buf, len, "backend %s; hotpagectl stats has the outcomes",
			 d->have_backend ? d->backend.name : "none");
		break;
	case HP_HOLD_MAKING_ROOM:
		snprintf(buf, len, "%llu pages sent down so far, %llu found moved",
			 (unsigned long long)d->demote.requests,
			 (unsigned long long)d->demote.pages);
		break;
	default:
		break;
	}
}

/*
 * Each reason once in the log, with its figures; again only after a round
 * that held nothing back (a new episode).
 */
static void report_holds(struct daemon *d, const __u64 held[HP_HOLD_NR])
{
	bool any = false;

	for (int r = 0; r < HP_HOLD_NR; r++) {
		char fig[256];

		d->held[r] += held[r];
		if (!held[r])
			continue;
		any = true;
		if (d->held_said >> r & 1)
			continue;
		d->held_said |= 1ULL << r;
		hold_figures(d, (enum hp_hold)r, fig, sizeof(fig));
		say("held back %llu pages: %s%s%s%s", (unsigned long long)held[r],
		    hp_hold_text((enum hp_hold)r), fig[0] ? " (" : "", fig, fig[0] ? ")" : "");
	}
	if (!any)
		d->held_said = 0;
}

/*
 * Whether this round ends a heat window: every round, except that while
 * the scanner runs a window ends with its sweep, so that each page is
 * looked at once per window however many passes the scope takes.
 */
static bool window_ends(struct daemon *d)
{
	__u64 sweeps, top, every;
	int ret;

	if (!scan_running(d)) {
		hp_heat_set_sparse(d->heat, 0, 1);
		d->top_seen_window = hp_heat_window(d->heat);
		return true;
	}
	ret = hp_kmigrated_read_u64("scan_sweeps", &sweeps);
	if (ret == -ENOENT)
		return true;
	if (ret)
		sweeps = d->scan_sweeps + 1;
	if (sweeps == d->scan_sweeps)
		return false;
	d->scan_sweeps = sweeps;
	/* Whether this window's sweep tested the top tier too; unknown: take it that it did. */
	if (hp_kmigrated_read_u64("scan_top_sweeps", &top))
		top = d->scan_top_sweeps + 1;
	if (top != d->scan_top_sweeps)
		d->top_seen_window = hp_heat_window(d->heat);
	d->scan_top_sweeps = top;
	if (hp_kmigrated_read_u64("scan_top_every", &every))
		every = 1;
	/* The scanner's top tier: the nodes with CPUs. */
	hp_heat_set_sparse(d->heat, d->topo.cpu & d->topo.memory, (unsigned int)every);
	/* The records of the sweep just done go in its window. */
	hp_transport_consume(d->transport);
	hp_daemon_flush_events(d);
	return true;
}

/*
 * kmigrated goes on with what hotpaged queued after hotpaged stops: wait
 * while its queues shrink, so the counts left behind say where the pages
 * went (a slow guest can have seconds of moves queued), but not for a
 * queue that is stuck.
 */
void hp_daemon_settle(struct daemon *d)
{
	__u64 queued = d->npending ? module_queued() : 0, least = queued;
	__u64 start = hp_monotonic_ns(), progress = start, now;

	while (queued) {
		usleep(20 * 1000);
		now = hp_monotonic_ns();
		queued = module_queued();
		if (queued < least) {
			least = queued;
			progress = now;
		}
		if (now - progress > SETTLE_STALL_NS || now - start > SETTLE_MAX_NS)
			break;
	}
	if (queued)
		say("stopping with %llu pages still in kmigrated's queues: what of ours is among them "
		    "counts as not moved",
		    (unsigned long long)queued);
	d->pending_rounds = PENDING_ROUNDS_MAX;
	verify_pending(d);
}

void hp_daemon_round(struct daemon *d, __u32 interval_ms)
{
	__u64 now = hp_monotonic_ns(), t = hp_thread_cpu_ns();
	__u64 held[HP_HOLD_NR] = { 0 };
	bool ends;

	hp_daemon_flush_events(d);
	hp_phase_lap(d, HP_PHASE_INGEST, &t);
	d->rounds++;
	d->policy_stamp++; /* processes change cgroups: each round asks afresh */
	/* Judged on the window just ended, whole; then the next one starts. */
	ends = window_ends(d);
	prune(d);
	hp_phase_lap(d, HP_PHASE_WINDOW, &t);
	if (d->can_promote) {
		backend_recheck(d, now);
		exchange(d, now, interval_ms, held, &t);
		/* Still held after the round only while scan holds the module anyway. */
		d->backend.hold = scan_running(d);
		if (!d->backend.hold && d->have_backend && d->backend.release)
			d->backend.release(&d->backend);
	}
	/* What an early return of the exchange left uncharged was its own. */
	hp_phase_lap(d, HP_PHASE_CANDIDATES, &t);
	report_holds(d, held);
	publish(d);
	if (ends)
		hp_heat_advance(d->heat);
	hp_phase_lap(d, HP_PHASE_WINDOW, &t);
}
