// SPDX-License-Identifier: GPL-2.0
/*
 * The named policies in force (policies.h) and which one a process's
 * pages fall under. The answer is kept per process for a round: a
 * cgroup scope costs a read of /proc/PID/cgroup, and a round asks about
 * the same few processes for thousands of pages.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon_internal.h"
#include "score_prog.h"

int hp_daemon_policies_init(struct daemon *d)
{
	d->policies = d->opts->policies;
	char line[1024] = "";
	size_t used = 0;

	if (!d->policies.n)
		hp_policies_attach(&d->policies, HP_POLICY_DEFAULT_NAME, NULL, 0, NULL, 0);
	for (size_t i = 0; i < d->policies.n; i++) {
		char err[512];
		int ret = hp_daemon_policy_load(&d->policies.p[i], err, sizeof(err));

		if (ret) {
			say("policy.%s: %s", d->policies.p[i].name, err);
			return ret;
		}
	}
	hp_daemon_policies_changed(d);
	for (size_t i = 0; i < d->policies.n && used < sizeof(line); i++) {
		const struct hp_named_policy *p = &d->policies.p[i];
		char scope[64], share[32];

		hp_policy_show_scope(&p->scope, scope, sizeof(scope));
		hp_named_policy_show_share(p, share, sizeof(share));
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s (%s%s%s%s%s)",
					 i ? ", " : "", p->name, scope,
					 p->promote ? "" : ", promote=off",
					 p->demote ? "" : ", demote=off",
					 p->has_share ? ", share=" : "", p->has_share ? share : "");
	}
	say("policies: %s", line);
	return 0;
}

void hp_daemon_policies_free(struct daemon *d)
{
	for (size_t i = 0; i < d->policies.n; i++)
		hp_daemon_policy_unload(&d->policies.p[i]);
}

void hp_daemon_policies_changed(struct daemon *d)
{
	d->policy_stamp++;
	d->policy_need_cgroup_id = false;
	for (size_t i = 0; i < d->policies.n; i++)
		d->policy_need_cgroup_id |= d->policies.p[i].prog != NULL;
	d->policy_need_cgroup = d->policy_need_cgroup_id || hp_policies_need_cgroup(&d->policies);
}

int hp_daemon_policy_load(struct hp_named_policy *p, char *err, size_t len)
{
	p->prog = NULL;
	p->prog_detached[0] = '\0';
	return p->bpf[0] ? hp_score_prog_open(p->bpf, &p->prog, err, len) : 0;
}

void hp_daemon_policy_unload(struct hp_named_policy *p)
{
	hp_score_prog_close(p->prog);
	p->prog = NULL;
}

/* The program failed a run: the policy goes on with the built-in order, and says so once. */
static void prog_detach(struct daemon *d, struct hp_named_policy *p, const char *why)
{
	snprintf(p->prog_detached, sizeof(p->prog_detached), "%s", why);
	hp_daemon_policy_unload(p);
	say("policy %s: its program %s is detached: %s; its pages go by heat from now on", p->name,
	    p->bpf, why);
	hp_daemon_policies_changed(d);
}

/* What a program is told of candidate @c. */
static void score_page(struct daemon *d, const struct hp_hot_page *c, __u64 now,
		       struct hp_score_page *out)
{
	const struct policy_slot *slot = &d->policy_cache[c->tgid % POLICY_CACHE_SLOTS];

	*out = (struct hp_score_page){
		.pfn = c->pfn,
		.cgroup_id = slot->tgid == c->tgid && slot->stamp == d->policy_stamp
				     ? slot->cgroup_id
				     : 0,
		.tgid = c->tgid,
		.heat = c->heat,
		.age_ms = now > c->last_seen_ns ? (__u32)((now - c->last_seen_ns) / 1000000) : 0,
		.hot_ms = now > c->first_seen_ns ? (__u32)((now - c->first_seen_ns) / 1000000) : 0,
		.page_node = c->page_node,
		.access_node = c->access_node,
		.npages = c->npages ? c->npages : 1,
		.sources = c->sources,
	};
}

/* Run @p's program on the candidates at @idx[0..n); false when it failed (detached). */
static bool score_batch(struct daemon *d, struct hp_named_policy *p, const __u32 *idx, size_t n,
			__u64 now)
{
	struct hp_score_page pages[HP_SCORE_BATCH];
	__s32 scores[HP_SCORE_BATCH];
	char why[256];
	__u64 cpu;

	for (size_t i = 0; i < n; i++)
		score_page(d, &d->cand[idx[i]], now, &pages[i]);
	if (hp_score_prog_run(p->prog, pages, n, scores, &cpu, why, sizeof(why))) {
		p->prog_cpu_ns += cpu;
		prog_detach(d, p, why);
		return false;
	}
	p->prog_runs++;
	p->prog_cpu_ns += cpu;
	for (size_t i = 0; i < n; i++)
		d->cand_score[idx[i]] = scores[i];
	return true;
}

/* Scores of the pages of policy @pi, batch by batch, while its program works. */
static void score_policy(struct daemon *d, int pi, size_t n, __u64 now)
{
	struct hp_named_policy *p = &d->policies.p[pi];
	__u32 idx[HP_SCORE_BATCH];
	size_t k = 0;

	for (size_t i = 0; i < n && p->prog; i++) {
		if (hp_daemon_policy_of(d, d->cand[i].tgid) != p)
			continue;
		idx[k++] = (__u32)i;
		if (k == HP_SCORE_BATCH) {
			if (!score_batch(d, p, idx, k, now))
				return;
			k = 0;
		}
	}
	if (k && p->prog)
		score_batch(d, p, idx, k, now);
}

/* Descending score, then the order the candidates had (heat). */
static int cmp_key_desc(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

void hp_daemon_policies_rank(struct daemon *d, size_t *n, __u64 held[HP_HOLD_NR])
{
	__u64 now = hp_monotonic_ns();
	bool any = false;
	size_t k = 0;

	for (size_t i = 0; i < d->policies.n; i++)
		any |= d->policies.p[i].prog != NULL;
	if (!any || !*n)
		return;
	for (size_t i = 0; i < *n; i++)
		d->cand_score[i] = (__s32)((d->cand[i].heat > HP_HEAT_WINDOWS ? HP_HEAT_WINDOWS
									      : d->cand[i].heat) *
					   HP_SCORE_BUILTIN_PER_HEAT);
	for (size_t i = 0; i < d->policies.n; i++)
		if (d->policies.p[i].prog)
			score_policy(d, (int)i, *n, now);
	/* The pages a program keeps in place leave the list; the others keep their order. */
	for (size_t i = 0; i < *n; i++) {
		if (d->cand_score[i] == HP_SCORE_KEEP) {
			struct hp_named_policy *np = hp_daemon_policy_of(d, d->cand[i].tgid);
			__u64 pages = d->cand[i].npages ? d->cand[i].npages : 1;

			held[HP_HOLD_POLICY_KEEP] += pages;
			if (np)
				np->held[HP_HOLD_POLICY_KEEP] += pages;
			continue;
		}
		d->cand[k] = d->cand[i];
		d->cand_target[k] = d->cand_target[i];
		d->cand_score[k++] = d->cand_score[i];
	}
	/* Score in the high half, the position inverted in the low: a stable descending sort. */
	for (size_t i = 0; i < k; i++)
		d->cand_key[i] = (__u64)(__u32)d->cand_score[i] << 32 | (__u32) ~(__u32)i;
	qsort(d->cand_key, k, sizeof(*d->cand_key), cmp_key_desc);
	for (size_t i = 0; i < k; i++)
		d->cand_key[i] = (__u32) ~(__u32)d->cand_key[i]; /* rank i takes candidate key[i] */
	/* The permutation applied in place, cycle by cycle; a done rank is marked past 2^32. */
	for (size_t i = 0; i < k; i++) {
		struct hp_hot_page c = d->cand[i];
		int t = d->cand_target[i];
		size_t j = i;

		if (d->cand_key[i] >> 32 || d->cand_key[i] == i)
			continue;
		for (;;) {
			size_t from = (size_t)d->cand_key[j];

			d->cand_key[j] = (__u64)1 << 32;
			if (from == i) {
				d->cand[j] = c;
				d->cand_target[j] = t;
				break;
			}
			d->cand[j] = d->cand[from];
			d->cand_target[j] = d->cand_target[from];
			j = from;
		}
	}
	*n = k;
}

struct hp_named_policy *hp_daemon_policy_of(struct daemon *d, __u32 tgid)
{
	struct policy_slot *slot = &d->policy_cache[tgid % POLICY_CACHE_SLOTS];
	char cgroup[4096];
	bool have_cgroup = false;
	int idx;

	if (slot->stamp == d->policy_stamp && slot->tgid == tgid)
		idx = slot->idx;
	else {
		__u64 cgroup_id = 0;

		if (d->policy_need_cgroup && tgid)
			have_cgroup = hp_policy_read_cgroup(tgid, "/proc", cgroup, sizeof(cgroup));
		if (have_cgroup && d->policy_need_cgroup_id) {
			char path[4096 + 32];
			struct stat st;

			/* A cgroup's id is the inode of its directory in cgroup2fs. */
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s", cgroup);
			if (!stat(path, &st))
				cgroup_id = st.st_ino;
		}
		idx = hp_policies_match(&d->policies, tgid, have_cgroup ? cgroup : NULL);
		*slot = (struct policy_slot){
			.stamp = d->policy_stamp, .cgroup_id = cgroup_id, .tgid = tgid, .idx = idx
		};
	}
	return idx < 0 ? NULL : &d->policies.p[idx];
}

/* The "N<node>=<count>" fields of @line (numa_maps, memory.numa_stat) on the nodes of @fast. */
static unsigned long long fast_sum(const char *line, __u64 fast)
{
	unsigned long long n, sum = 0;
	const char *tok;
	int node;

	for (tok = strstr(line, " N"); tok; tok = strstr(tok + 1, " N"))
		if (sscanf(tok, " N%d=%llu", &node, &n) == 2 && node >= 0 && node < 64 &&
		    (fast >> node & 1))
			sum += n;
	return sum;
}

/* Pages of @tgid on the nodes of @fast (numa_maps: N<node>=<pages of the mapping's size>). */
static __u64 tgid_fast_pages(__u32 tgid, __u64 fast, long page_size)
{
	char path[64], line[4096];
	__u64 pages = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/numa_maps", tgid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kb = (unsigned long long)page_size / 1024;
		const char *tok = strstr(line, "kernelpagesize_kB=");

		if (tok)
			sscanf(tok, "kernelpagesize_kB=%llu", &kb);
		pages += fast_sum(line, fast) * kb * 1024 / (unsigned long long)page_size;
	}
	fclose(f);
	return pages;
}

/* Pages of cgroup @path (its subtree) on the nodes of @fast: anon and mapped files. */
static __u64 cgroup_fast_pages(const char *path, __u64 fast, long page_size)
{
	char file[4096 + 64], line[4096];
	__u64 bytes = 0;
	FILE *f;

	snprintf(file, sizeof(file), "/sys/fs/cgroup%s/memory.numa_stat",
		 strcmp(path, "/") ? path : "");
	f = fopen(file, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char key[32];

		if (sscanf(line, "%31s", key) != 1 ||
		    (strcmp(key, "anon") != 0 && strcmp(key, "file_mapped") != 0))
			continue;
		bytes += fast_sum(line, fast);
	}
	fclose(f);
	return bytes / (__u64)page_size;
}

/* Whether cgroup @inner is @outer or below it. */
static bool cgroup_within(const char *inner, const char *outer)
{
	size_t len = strlen(outer);

	if (!strcmp(outer, "/"))
		return true;
	return !strncmp(inner, outer, len) && (inner[len] == '/' || !inner[len]);
}

__u64 hp_daemon_fast_mask(const struct daemon *d)
{
	return hp_policy_exclude_nodes(&d->policy, &d->topo);
}

__u64 hp_daemon_fast_bytes(const struct daemon *d)
{
	__u64 fast = hp_daemon_fast_mask(d), sum = 0;

	for (int n = 0; n < 64; n++) {
		__u64 free_b, total;

		if ((fast >> n & 1) && !hp_topology_node_memory(&d->topo, n, &free_b, &total))
			sum += total;
	}
	return sum;
}

/*
 * Each policy's pages on the fast tier now, in p->fast_pages (all of
 * them, or those with a share when @shares_only). A cgroup's count comes
 * from its memory.numa_stat (anonymous and mapped file pages: what can
 * move), less what more specific policies inside it hold; process ids
 * from their numa_maps; scope=all is the fast tier's used memory less
 * every other policy's. A process two policies would match counts once,
 * for the one whose scope is the more specific, as its pages do.
 */
void hp_daemon_policies_measure(struct daemon *d, bool shares_only)
{
	__u64 fast = hp_daemon_fast_mask(d), used = 0, others = 0;
	struct hp_policies *ps = &d->policies;
	long page = d->page_size;

	/* scope=all's count needs every other policy's. */
	for (size_t i = 0; i < ps->n; i++)
		if (ps->p[i].scope.scope == HP_SCOPE_ALL && ps->p[i].has_share)
			shares_only = false;
	for (size_t i = 0; i < ps->n; i++) {
		struct hp_named_policy *p = &ps->p[i];

		p->fast_pages = 0;
		if (p->scope.scope == HP_SCOPE_CGROUP)
			p->fast_pages = cgroup_fast_pages(p->scope.cgroup, fast, page);
		else if (p->scope.scope == HP_SCOPE_TGIDS && (!shares_only || p->has_share))
			for (__u32 k = 0; k < p->scope.nr_tgids; k++)
				p->fast_pages += tgid_fast_pages(p->scope.tgids[k], fast, page);
	}
	/* Subtrees hold what more specific policies claim: theirs, not the outer one's. */
	for (size_t i = 0; i < ps->n; i++) {
		struct hp_named_policy *p = &ps->p[i];
		__u64 inner = 0;

		if (p->scope.scope != HP_SCOPE_CGROUP)
			continue;
		for (size_t j = 0; j < ps->n; j++) {
			const struct hp_named_policy *q = &ps->p[j];

			if (j != i && q->scope.scope == HP_SCOPE_CGROUP &&
			    strcmp(q->scope.cgroup, p->scope.cgroup) != 0 &&
			    cgroup_within(q->scope.cgroup, p->scope.cgroup))
				inner += q->fast_pages;
		}
		p->fast_pages = p->fast_pages > inner ? p->fast_pages - inner : 0;
	}
	for (size_t i = 0; i < ps->n; i++)
		if (ps->p[i].scope.scope != HP_SCOPE_ALL)
			others += ps->p[i].fast_pages;
	for (int n = 0; n < 64; n++) {
		__u64 free_b, total;

		if ((fast >> n & 1) && !hp_topology_node_memory(&d->topo, n, &free_b, &total))
			used += (total - free_b) / (__u64)page;
	}
	for (size_t i = 0; i < ps->n; i++)
		if (ps->p[i].scope.scope == HP_SCOPE_ALL)
			ps->p[i].fast_pages = used > others ? used - others : 0;
}
