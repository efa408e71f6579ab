// SPDX-License-Identifier: GPL-2.0
/*
 * hotpaged's event loop (daemon.h). One thread: the transport's epoll
 * wait (hp_transport_poll) with a timeout up to the next round, events
 * buffered and credited to the heat table in batches after their PFNs are
 * resolved (pages that reach the hot threshold join a hot set, with who
 * touched them), and a round every policy window (daemon_round.c).
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <numaif.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/epoll.h>

#include <bpf/libbpf.h>

#include "kmigrated.h"
#include "catf.h"
#include "cli.h"
#include "daemon_internal.h"
#include "hotpage/hot_pages.h"
#include "promote_kmigrated.h"

void hp_daemon_opts_defaults(struct hp_daemon_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	hp_policy_defaults(&opts->policy);
	opts->backend = HP_BACKEND_AUTO;
	opts->top = HP_DAEMON_TOP_DEFAULT;
	opts->stats_s = HP_DAEMON_STATS_DEFAULT_S;
}

static int set_backend(struct hp_daemon_opts *opts, const char *v)
{
	if (!strcmp(v, "auto"))
		opts->backend = HP_BACKEND_AUTO;
	else if (!strcmp(v, "move_pages"))
		opts->backend = HP_BACKEND_MOVE_PAGES;
	else if (!strcmp(v, "kmigrated"))
		opts->backend = HP_BACKEND_KMIGRATED;
	else
		return -EINVAL;
	return 0;
}

static int set_top(struct hp_daemon_opts *opts, const char *v)
{
	return hp_parse_u32(v, 1, HP_HOT_PAGES_MAX, &opts->top);
}

static int set_period(struct hp_daemon_opts *opts, const char *v)
{
	return hp_parse_u32(v, 0, 1u << 24, &opts->period);
}

static int set_stats(struct hp_daemon_opts *opts, const char *v)
{
	return hp_parse_u32(v, 0, 86400, &opts->stats_s);
}

/* An absolute path that fits a sockaddr_un. */
static int set_socket(struct hp_daemon_opts *opts, const char *v)
{
	if (v[0] != '/' || strlen(v) >= sizeof(opts->socket_path))
		return -EINVAL;
	snprintf(opts->socket_path, sizeof(opts->socket_path), "%s", v);
	return 0;
}

/* The daemon's own keys; every other key is the policy's. */
_Static_assert(HP_HOT_PAGES_MAX == 65536 &&
		       sizeof(((struct hp_daemon_opts *)0)->socket_path) == 108,
	       "the ranges the daemon keys' refusals state");
static const struct daemon_key {
	const char *name;
	int (*set)(struct hp_daemon_opts *opts, const char *v);
	const char *range; /* the refusal's reason */
} daemon_keys[] = {
	{ "backend", set_backend, "backend is auto, move_pages or kmigrated" },
	{ "top", set_top, "top is 1..65536 pages" },
	{ "period", set_period, "period is 0 (default) or 1..16777216" },
	{ "stats", set_stats, "stats is 0..86400 seconds" },
	{ "socket", set_socket, "socket is an absolute path of at most 107 bytes" },
};

/* "policy.NAME=key=value key=value": a named policy attached at start. */
static int set_named_policy(struct hp_daemon_opts *opts, const char *assignment, char *err,
			    size_t err_len)
{
	const char *name = assignment + strlen("policy."), *eq = strchr(name, '=');
	char nbuf[HP_POLICY_NAME_MAX + 1], values[1024], *save = NULL;
	const char *kv[16];
	size_t n = 0;

	if (!eq || (size_t)(eq - name) >= sizeof(nbuf)) {
		hp_set_err(err, err_len, "%.64s: expected policy.NAME=key=value...", assignment);
		return -EINVAL;
	}
	memcpy(nbuf, name, (size_t)(eq - name));
	nbuf[eq - name] = '\0';
	if (strlen(eq + 1) >= sizeof(values)) {
		hp_set_err(err, err_len, "policy.%s: settings longer than %zu bytes", nbuf,
			   sizeof(values) - 1);
		return -EINVAL;
	}
	snprintf(values, sizeof(values), "%s", eq + 1);
	for (char *tok = strtok_r(values, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (n == sizeof(kv) / sizeof(kv[0])) {
			hp_set_err(err, err_len, "policy.%s: more than %zu settings", nbuf,
				   sizeof(kv) / sizeof(kv[0]));
			return -EINVAL;
		}
		kv[n++] = tok;
	}
	return hp_policies_attach(&opts->policies, nbuf, kv, n, err, err_len);
}

int hp_daemon_set(struct hp_daemon_opts *opts, const char *assignment, char *err, size_t err_len)
{
	const char *eq = strchr(assignment, '=');
	size_t klen = eq ? (size_t)(eq - assignment) : strlen(assignment);

	if (!strncmp(assignment, "policy.", strlen("policy.")))
		return set_named_policy(opts, assignment, err, err_len);

	for (size_t i = 0; i < sizeof(daemon_keys) / sizeof(daemon_keys[0]); i++) {
		const struct daemon_key *k = &daemon_keys[i];

		if (strlen(k->name) != klen || strncmp(assignment, k->name, klen) != 0)
			continue;
		if (k->set(opts, eq ? eq + 1 : "")) {
			snprintf(err, err_len, "%s: %s", assignment, k->range);
			return -EINVAL;
		}
		return 0;
	}
	return hp_policy_set(&opts->policy, assignment, err, err_len);
}

/* ------------------------------------------------------------ events */

/*
 * Whether @ev says a page was used: allocation faults are not heat (a
 * first touch places a page, it says nothing about how hot it will be),
 * nor are software page-fault samples, which are mostly those.
 */
static bool is_heat(const struct hp_event *ev)
{
	switch (ev->source) {
	case HP_SRC_FAULT:
		return ev->flags & HP_EV_PROT;
	case HP_SRC_PERF:
		return ev->flags & (HP_EV_READ | HP_EV_WRITE);
	default:
		return true;
	}
}

/* @pfn reached the hot threshold: keep who touched it, in the set of its side. */
static void note_hot(struct daemon *d, const struct hp_event *ev, __u64 pfn, unsigned int npages,
		     int heat, __u64 now)
{
	int node = hp_heat_node(d->heat, pfn);
	__u64 exclude = hp_policy_exclude_nodes(&d->policy, &d->topo);
	__u64 vaddr = ev->flags & (HP_EV_PHYS | HP_EV_REGION) ? 0 : ev->addr;
	struct hp_hot_page p = {
		.pfn = pfn,
		.vaddr = vaddr & ~((__u64)npages * 4096 - 1),
		.first_seen_ns = now,
		.last_seen_ns = ev->ts_ns ? ev->ts_ns : now,
		.tgid = ev->tgid,
		.heat = (__u32)heat,
		.page_node = node,
		.access_node = ev->cpu_node,
		.npages = npages,
		.sources = ev->source < 8 ? (__u8)(1U << ev->source) : 0,
	};

	if (node >= 0 && node < HP_TOPO_MAX_NODES && !(exclude >> node & 1))
		hp_hotset_put(d->cand_set, &p);
	else
		hp_hotset_put(d->top_set, &p);
}

/*
 * A DAMON paddr region: each of its page frames used in this window,
 * strided to a bounded number of frames per region.
 */
static void ingest_region(struct daemon *d, const struct hp_event *ev, __u64 now)
{
	__u64 first = ev->addr >> 12, last = (ev->end - 1) >> 12, stride;

	if (!(ev->flags & HP_EV_PHYS) || ev->end <= ev->addr) {
		d->events_no_pfn++;
		return;
	}
	if (!ev->nr_accesses)
		return;
	stride = (last - first) / HP_REGION_PAGES_MAX + 1;
	for (__u64 pfn = first; pfn <= last; pfn += stride) {
		int heat = hp_heat_touch(d->heat, pfn, 1);

		if (heat >= (int)d->policy.threshold)
			note_hot(d, ev, pfn, 1, heat, now);
	}
}

static void ingest(struct daemon *d, const struct hp_event *ev, __u64 now)
{
	unsigned int npages = ev->flags & HP_EV_HUGE ? HP_HEAT_HUGE_PAGES : 1;
	int heat;

	if (!is_heat(ev)) {
		d->events_not_heat++;
		return;
	}
	if (ev->flags & HP_EV_REGION) {
		ingest_region(d, ev, now);
		return;
	}
	if (ev->pfn == HP_PFN_UNKNOWN) {
		d->events_no_pfn++;
		return;
	}
	heat = hp_heat_touch(d->heat, ev->pfn, npages);
	if (heat >= (int)d->policy.threshold)
		note_hot(d, ev, ev->pfn, npages, heat, now);
}

void hp_daemon_flush_events(struct daemon *d)
{
	__u64 now = hp_monotonic_ns();

	if (!d->nr_events)
		return;
	d->resolved += hp_pagemap_resolve_events(d->pagemap, d->events, d->nr_events, now);
	for (size_t i = 0; i < d->nr_events && i < HP_HEAT_PREFETCH_AHEAD; i++)
		hp_heat_prefetch(d->heat, d->events[i].pfn);
	for (size_t i = 0; i < d->nr_events; i++) {
		if (i + HP_HEAT_PREFETCH_AHEAD < d->nr_events)
			hp_heat_prefetch(d->heat, d->events[i + HP_HEAT_PREFETCH_AHEAD].pfn);
		ingest(d, &d->events[i], now);
	}
	d->nr_events = 0;
}

static int on_event(const struct hp_event *ev, void *ctx)
{
	struct daemon *d = ctx;

	d->events[d->nr_events++] = *ev;
	d->events_total++;
	if (d->nr_events == EVENT_BATCH)
		hp_daemon_flush_events(d);
	return 0;
}

static __u64 source_drops(const struct daemon *d)
{
	__u64 drops = 0;

	for (size_t i = 0; i < d->nr_src; i++) {
		struct hp_source_stats s;
		struct bpf_object *obj = d->src[i].ops->object(d->src[i].inst);

		if (obj && !hp_source_read_stats(obj, &s))
			drops += s.dropped + s.errors;
	}
	return drops;
}

static void print_stats(const struct daemon *d)
{
	__u64 refused = 0, failed = 0, held = 0;

	for (int o = 0; o < HP_PROMOTE_NR_OUTCOMES; o++) {
		enum hp_promote_class c = hp_promote_outcome_class((enum hp_promote_outcome)o);
		__u64 n = d->promote.res.count[o] + d->demote.res.count[o];

		if (c == HP_PROMOTE_REFUSED)
			refused += n;
		else if (c == HP_PROMOTE_FAILED)
			failed += n;
	}
	for (int r = 0; r < HP_HOLD_NR; r++)
		held += d->held[r];
	say("events %llu resolved %llu drops %llu hot-set %zu rounds %llu candidates %llu "
	    "promoted %llu demoted %llu refused %llu failed %llu held %llu",
	    (unsigned long long)d->events_total, (unsigned long long)d->resolved,
	    (unsigned long long)source_drops(d), hp_hot_map_entries(d->hot_map),
	    (unsigned long long)d->rounds, (unsigned long long)d->candidates,
	    (unsigned long long)d->promote.pages, (unsigned long long)d->demote.pages,
	    (unsigned long long)refused, (unsigned long long)failed, (unsigned long long)held);
}

/* ------------------------------------------------------------ setup */

bool hp_daemon_source_param(const struct daemon *d, const struct hp_source_ops *ops, char *buf,
			    size_t len)
{
	struct hp_heat_stats hs;
	__u64 pages;

	if (ops->id != HP_SRC_SCAN)
		return false;
	/*
	 * A pass per window, long enough to visit every mapped page of a
	 * scope as large as the machine's memory (twice: page tables have
	 * holes), so that a window is one sweep (daemon_round.c follows the
	 * module's sweeps when a pass does not cover the scope).
	 */
	hp_heat_get_stats(d->heat, &hs);
	pages = 2 * hs.pages;
	if (pages > SCAN_PAGES_MAX)
		pages = SCAN_PAGES_MAX;
	snprintf(buf, len, "period_ms=%u,pages=%llu,top_every=%u", d->policy.window_ms,
		 (unsigned long long)pages, hp_daemon_scan_top_every(d->policy.min_idle));
	return true;
}

/* Sources that tell which page was used, not which region: DAMON is not needed beside them. */
static bool per_page_source_running(const struct daemon *d)
{
	for (size_t i = 0; i < d->nr_src; i++)
		if (d->src[i].ops->id != HP_SRC_DAMON)
			return true;
	return false;
}

/* Start @ops; 0, or -errno after saying why. */
static int start_one(struct daemon *d, const struct hp_source_ops *ops, const char *how)
{
	const struct hp_policy *pol = &d->policy;
	struct hp_source_opts sopts = { .sample_period = d->opts->period };
	char param[64], err[512] = "";
	int ret;

	/* A scope of processes filters in the sources already (a cgroup scope: at promotion). */
	if (pol->scope == HP_SCOPE_TGIDS) {
		sopts.filter_mode = HP_FILTER_TGIDS;
		sopts.tgids = pol->tgids;
		sopts.nr_tgids = pol->nr_tgids;
	}
	if (hp_daemon_source_param(d, ops, param, sizeof(param)))
		sopts.param = param;
	if (d->nr_src == HP_DAEMON_MAX_SOURCES)
		return -ENOSPC;
	ret = ops->start(d->transport, &sopts, &d->src[d->nr_src].inst, err, sizeof(err));
	if (ret) {
		say("starting source %s: %s", ops->name, err[0] ? err : strerror(-ret));
		return ret;
	}
	d->src[d->nr_src].period = d->opts->period;
	d->src[d->nr_src++].ops = ops;
	say("source %s: %s", ops->name, how);
	return 0;
}

/* The sources named with -s / sources=: each must start. */
static int start_named_sources(struct daemon *d)
{
	const struct hp_daemon_opts *o = d->opts;

	for (size_t i = 0; i < o->nr_sources; i++) {
		const struct hp_source_ops *ops = hp_source_find(o->sources[i]);
		struct hp_source_probe probe = { 0 };
		int ret;

		if (!ops) {
			say("no source named '%s'", o->sources[i]);
			return -EINVAL;
		}
		ops->probe(&probe);
		if (!probe.available) {
			say("source %s is not available: %s", ops->name, probe.why);
			return -EOPNOTSUPP;
		}
		ret = start_one(d, ops, probe.how);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * By default, every source that reports accesses and can run here: the
 * accessed-bit scanner, NUMA hint faults while NUMA balancing runs, a
 * memory-sampling PMU. DAMON only when none of those runs: its regions
 * credit every page of a region alike, which beside per-page evidence
 * only blurs it. Sources that would sample page faults (allocations) run
 * only when named.
 */
static int start_default_sources(struct daemon *d)
{
	const struct hp_source_ops *damon = NULL;
	char damon_how[sizeof(((struct hp_source_probe *)0)->how)] = "";

	for (size_t i = 0; hp_sources[i]; i++) {
		const struct hp_source_ops *ops = hp_sources[i];
		struct hp_source_probe probe = { 0 };

		ops->probe(&probe);
		if (!probe.available) {
			say("source %s not started: %s", ops->name, probe.why);
			continue;
		}
		if (probe.not_default[0]) {
			say("source %s not started by default: %s", ops->name, probe.not_default);
			continue;
		}
		if (ops->id == HP_SRC_DAMON) {
			damon = ops;
			memcpy(damon_how, probe.how, sizeof(damon_how));
			continue;
		}
		start_one(d, ops, probe.how);
	}
	if (damon && per_page_source_running(d))
		say("source damon not started: the running sources see single pages, and DAMON's regions would credit every page of a region alike");
	else if (damon)
		start_one(d, damon, damon_how);
	/* Not fatal: a source can be attached live, and a service would only restart. */
	if (!d->nr_src)
		say("no source runs: nothing tells which pages are used until one is attached (hotpagectl attach SOURCE)");
	return 0;
}

static int choose_backend(struct daemon *d)
{
	enum hp_backend_choice b = d->opts->backend;
	bool module = access(KMIGRATED_SYSFS_DIR, F_OK) == 0;
	char err[256] = "";
	int ret;

	if (b == HP_BACKEND_KMIGRATED || (b == HP_BACKEND_AUTO && module)) {
		ret = hp_promote_kmigrated_create(d->policy.batch, &d->backend, err, sizeof(err));
		if (!ret) {
			d->have_backend = true;
			return 0;
		}
		if (b == HP_BACKEND_KMIGRATED) {
			say("kmigrated backend: %s", err);
			return ret;
		}
		say("kmigrated backend unusable (%s); using move_pages", err);
	}
	ret = hp_promote_move_pages_create(d->policy.batch, &d->backend);
	if (ret) {
		say("move_pages backend: %s", strerror(-ret));
		return ret;
	}
	d->have_backend = true;
	return 0;
}

/* The working arrays: where each is, how many elements, of what size. */
struct work_array {
	void **p;
	size_t n, size;
};

#define WORK_ARRAY(field, count)                                                                   \
	{                                                                                          \
		(void **)&d->field, (count), sizeof(*d->field)                                     \
	}

static size_t work_arrays(struct daemon *d, struct work_array *a)
{
	/* clang-format off */
	const struct work_array all[] = {
		WORK_ARRAY(events, EVENT_BATCH),
		WORK_ARRAY(cand, CANDIDATES_MAX),
		WORK_ARRAY(cand_target, CANDIDATES_MAX),
		WORK_ARRAY(cand_score, CANDIDATES_MAX),
		WORK_ARRAY(cand_key, CANDIDATES_MAX),
		WORK_ARRAY(victims, VICTIMS_MAX),
		WORK_ARRAY(victim_heat, VICTIMS_MAX),
		WORK_ARRAY(victim_target, VICTIMS_MAX),
		WORK_ARRAY(cand_group, CANDIDATES_MAX),
		WORK_ARRAY(victim_group, VICTIMS_MAX),
		WORK_ARRAY(victim_taken, VICTIMS_MAX),
		WORK_ARRAY(cand_why, CANDIDATES_MAX),
		WORK_ARRAY(promote_moves, CANDIDATES_MAX),
		WORK_ARRAY(demote_moves, VICTIMS_MAX),
		WORK_ARRAY(reqs, CANDIDATES_MAX),
		WORK_ARRAY(outcome, CANDIDATES_MAX),
		WORK_ARRAY(pending, PENDING_MAX),
		WORK_ARRAY(verify_addrs, PENDING_MAX),
		WORK_ARRAY(verify_status, PENDING_MAX),
	};
	/* clang-format on */

	_Static_assert(sizeof(all) / sizeof(all[0]) == WORK_ARRAYS_NR, "WORK_ARRAYS_NR");
	memcpy(a, all, sizeof(all));
	return sizeof(all) / sizeof(all[0]);
}

static void free_arrays(struct daemon *d)
{
	struct work_array a[WORK_ARRAYS_NR];
	size_t n = work_arrays(d, a);

	for (size_t i = 0; i < n; i++) {
		free(*a[i].p);
		*a[i].p = NULL;
	}
}

static void daemon_cleanup(struct daemon *d)
{
	hp_ctl_server_close(d->ctl);
	for (size_t i = d->nr_src; i > 0; i--)
		d->src[i - 1].ops->stop(d->src[i - 1].inst);
	d->nr_src = 0;
	hp_transport_free(d->transport);
	hp_hot_map_close(d->hot_map);
	if (d->have_backend && d->backend.destroy)
		d->backend.destroy(&d->backend);
	hp_pagemap_free(d->pagemap);
	hp_heat_destroy(d->heat);
	hp_phys_ranges_free(&d->ranges);
	hp_hotset_destroy(d->cand_set);
	hp_hotset_destroy(d->top_set);
	hp_census_free(d->census);
	hp_moved_destroy(d->moved);
	free_arrays(d);
	hp_daemon_policies_free(d);
}

/* The loop's epoll: the rings (tag 0) and the control socket (tag 1). */
static int control_open(struct daemon *d, int *loop_fd, char *err, size_t err_len)
{
	const char *path = d->opts->socket_path[0] ? d->opts->socket_path : HP_CTL_SOCKET_DEFAULT;
	int ret;

	ret = hp_ctl_server_open(path, hp_daemon_control_handle, d, &d->ctl, err, err_len);
	if (ret)
		return ret;
	*loop_fd = epoll_create1(EPOLL_CLOEXEC);
	if (*loop_fd < 0) {
		ret = -errno;
		snprintf(err, err_len, "epoll: %s", strerror(errno));
		return ret;
	}
	return 0;
}

static int loop_add(int loop_fd, int fd, __u32 tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(loop_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/*
 * Wait up to @timeout_ms for ring records or control requests and handle
 * what came: records first, then a bounded number of requests, so that
 * a busy client cannot hold up ingestion. 0 or -errno (-EINTR on a signal).
 */
static int loop_wait(struct daemon *d, int loop_fd, int timeout_ms)
{
	int collect_ms = hp_transport_collect_ms(d->transport);
	struct epoll_event ev[2];
	bool control = false;
	int n, ret;
	__u64 t;

	/* The stages of CPUs that went quiet are collected on time, not only at the next ring record. */
	if (collect_ms >= 0 && (timeout_ms < 0 || timeout_ms > collect_ms))
		timeout_ms = collect_ms;
	n = epoll_wait(loop_fd, ev, 2, timeout_ms);
	if (n < 0)
		return -errno;
	t = hp_thread_cpu_ns();
	for (int i = 0; i < n; i++)
		if (ev[i].data.u32 == 1)
			control = true;
	ret = hp_transport_consume(d->transport);
	hp_phase_lap(d, HP_PHASE_INGEST, &t);
	if (ret < 0)
		return ret;
	if (control)
		hp_ctl_server_serve(d->ctl);
	return 0;
}

/*
 * Where pages of @node go down: the next lower tier; with target=N set,
 * pages of N go to the nearest other node with memory when N has no lower
 * tier (target=N makes N the fast node, whatever the tiers say).
 */
int hp_daemon_demotion_target(const struct daemon *d, int node)
{
	int t = hp_topology_demotion_target(&d->topo, node), best = -ENOENT;
	unsigned int best_d = UINT_MAX;

	if (t >= 0 || d->policy.target_node != node)
		return t;
	for (int n = 0; n < HP_TOPO_MAX_NODES; n++) {
		unsigned int dist = d->topo.distance[node][n] ? d->topo.distance[node][n] : 256;

		if (n == node || !hp_topology_has_memory(&d->topo, n) || dist >= best_d)
			continue;
		best = n;
		best_d = dist;
	}
	return best;
}

/*
 * hotpaged's own memory (the working arrays, tens of MiB that a round
 * walks once, and what its tables and libraries allocate as it runs) is
 * faulted in on the tier below the node this thread runs on, for the
 * process's life: placed in the fast tier it would take the room hot
 * pages are moved in for, a little more each round. The allocator falls
 * back to any node when that one is full; where there is one tier it
 * stays local. The node, or -1.
 */
static int prefer_lower_tier(const struct daemon *d)
{
	unsigned int cpu, node;
	unsigned long mask;
	int target;

	if (getcpu(&cpu, &node) || node >= HP_TOPO_MAX_NODES)
		return -1;
	target = hp_daemon_demotion_target(d, (int)node);
	if (target < 0 || target >= (int)(sizeof(mask) * 8))
		return -1;
	mask = 1UL << target;
	if (set_mempolicy(MPOL_PREFERRED, &mask, sizeof(mask) * 8))
		return -1;
	return target;
}

/*
 * Allocate the working arrays and touch them now: faulting them in later,
 * in the middle of an exchange on a full fast tier, would allocate there
 * and wake kswapd, which then demotes pages of its own choosing.
 */
static int alloc_arrays(struct daemon *d)
{
	struct work_array a[WORK_ARRAYS_NR];
	size_t n = work_arrays(d, a);

	int ret = 0;

	d->arrays_node = prefer_lower_tier(d);
	d->arrays_bytes = 0;
	for (size_t i = 0; i < n && !ret; i++) {
		*a[i].p = calloc(a[i].n, a[i].size);
		if (!*a[i].p) {
			ret = -ENOMEM;
			break;
		}
		memset(*a[i].p, 0, a[i].n * a[i].size);
		d->arrays_bytes += a[i].n * a[i].size;
	}
	return ret;
}

/* The heat table over the machine's memory, and the structures around it. */
static int open_tables(struct daemon *d, char *err, size_t err_len)
{
	int ret = hp_node_ranges_read(HP_SYSFS_SYSTEM, 0, &d->ranges, err, err_len);
	unsigned long mask;

	if (ret)
		return ret;
	/* Read for every event: the heat table stays local, unlike the rest. */
	if (d->arrays_node >= 0)
		set_mempolicy(MPOL_LOCAL, NULL, 0);
	ret = hp_heat_create(&d->ranges, &d->heat);
	if (d->arrays_node >= 0) {
		mask = 1UL << d->arrays_node;
		set_mempolicy(MPOL_PREFERRED, &mask, sizeof(mask) * 8);
	}
	if (!ret)
		ret = hp_hotset_create(CANDIDATES_MAX / 2, &d->cand_set);
	if (!ret)
		ret = hp_hotset_create(d->opts->top > 16 ? d->opts->top : 16, &d->top_set);
	if (!ret) {
		struct hp_census_opts copts = { .max_victims = VICTIMS_MAX };

		ret = hp_census_new(&copts, &d->census);
	}
	if (!ret)
		ret = hp_moved_create(MOVED_ENTRIES, &d->moved);
	if (ret)
		snprintf(err, err_len, "%s", strerror(-ret));
	return ret;
}

/* Everything up to the first round. 0, or -errno after saying why. */
static int daemon_setup(struct daemon *d, int *loop_fd)
{
	const struct hp_daemon_opts *opts = d->opts;
	struct hp_transport_opts topts = { .on_event = on_event,
					   .ctx = d,
					   .ring_bytes = DAEMON_RING_BYTES };
	struct hp_pagemap_opts pmopts = { 0 };
	char err[512] = "";
	int ret;

	d->page_size = sysconf(_SC_PAGESIZE);
	if (d->page_size <= 0)
		d->page_size = 4096;
	/*
	 * Keep freed memory for reuse instead of handing it back: each
	 * kmigrated round loads a BPF object, and libbpf parses the kernel's
	 * BTF for it (megabytes, freed after the load). Mapped afresh each
	 * time, those pages would come from a full fast tier at its
	 * watermarks, every round, and wake kswapd to demote for them.
	 */
	mallopt(M_MMAP_THRESHOLD, DAEMON_MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, 2 * DAEMON_MMAP_THRESHOLD);
	ret = hp_policy_validate(&d->policy, err, sizeof(err));
	if (ret) {
		say("policy: %s", err);
		return ret;
	}
	ret = hp_daemon_policies_init(d);
	if (ret)
		return ret;
	ret = hp_topology_read(HP_SYSFS_ROOT, &d->topo, err, sizeof(err));
	if (ret) {
		say("topology: %s", err);
		return ret;
	}
	if (alloc_arrays(d)) {
		say("out of memory");
		return -ENOMEM;
	}
	if (d->arrays_node >= 0)
		say("own memory on node %d (the tier below this CPU's node), working arrays "
		    "%zu MiB",
		    d->arrays_node, d->arrays_bytes >> 20);
	/* First: a second daemon must not touch the first one's pins. */
	ret = control_open(d, loop_fd, err, sizeof(err));
	if (ret) {
		say("control socket: %s", err);
		return ret;
	}
	d->can_promote = hp_topology_can_promote(&d->topo, d->why, sizeof(d->why));
	if (!d->can_promote && d->policy.target_node != HP_POLICY_TARGET_AUTO &&
	    hp_topology_has_memory(&d->topo, d->policy.target_node) &&
	    __builtin_popcountll(d->topo.memory) > 1)
		d->can_promote = true; /* an explicit target works within one tier */
	if (!d->can_promote)
		say("promotion has nowhere to go: %s", d->why);
	ret = open_tables(d, err, sizeof(err));
	if (ret) {
		say("heat table: %s", err);
		return ret;
	}
	ret = hp_pagemap_new(&pmopts, &d->pagemap, err, sizeof(err));
	if (ret) {
		say("pagemap: %s", err);
		return ret;
	}
	ret = hp_hot_map_open(opts->pin_path ? opts->pin_path : HP_HOT_PAGES_PIN, opts->top,
			      &d->hot_map, err, sizeof(err));
	if (ret) {
		say("hot map: %s", err);
		return ret;
	}
	if (d->can_promote) {
		ret = choose_backend(d);
		if (ret)
			return ret;
		say("promotion backend: %s", d->backend.name);
	}
	ret = hp_transport_new(&topts, &d->transport, err, sizeof(err));
	if (ret) {
		say("transport: %s", err);
		return ret;
	}
	ret = opts->nr_sources ? start_named_sources(d) : start_default_sources(d);
	if (ret)
		return ret;
	ret = loop_add(*loop_fd, hp_transport_epoll_fd(d->transport), 0);
	if (!ret)
		ret = loop_add(*loop_fd, hp_ctl_server_fd(d->ctl), 1);
	if (ret) {
		say("epoll: %s", strerror(-ret));
		return ret;
	}
	d->start_window = hp_heat_window(d->heat);
	say("running: window %u ms, threshold %u of %d windows, min_idle %u, hot set %u pages at %s; heat table %llu MiB for %llu pages",
	    d->policy.window_ms, d->policy.threshold, HP_HEAT_WINDOWS, d->policy.min_idle,
	    opts->top, opts->pin_path ? opts->pin_path : HP_HOT_PAGES_PIN,
	    (unsigned long long)(hp_phys_ranges_bytes(&d->ranges) / 4096 * HP_HEAT_BYTES_PER_PAGE >>
				 20),
	    (unsigned long long)(hp_phys_ranges_bytes(&d->ranges) / 4096));
	return 0;
}

/* Rounds every window until *@stop or the duration's end. 0 or -errno. */
static int daemon_loop(struct daemon *d, int loop_fd, volatile sig_atomic_t *stop)
{
	const struct hp_daemon_opts *opts = d->opts;
	__u32 interval_ms = d->policy.window_ms;
	__u64 start = hp_monotonic_ns(), next_round, next_stats, end;
	int ret;

	d->start_ns = start;
	next_round = start + (__u64)interval_ms * 1000000ULL;
	next_stats = opts->stats_s ? start + (__u64)opts->stats_s * 1000000000ULL : ~0ULL;
	end = opts->duration_s ? start + (__u64)opts->duration_s * 1000000000ULL : ~0ULL;
	while (!*stop) {
		__u64 now = hp_monotonic_ns();
		__u64 wake = next_round < end ? next_round : end;
		int timeout = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;

		ret = loop_wait(d, loop_fd, timeout);
		if (ret < 0 && ret != -EINTR) {
			say("polling the rings: %s", strerror(-ret));
			return ret;
		}
		now = hp_monotonic_ns();
		if (now >= next_round) {
			/* The window may have changed by hotpagectl policy set. */
			interval_ms = d->policy.window_ms;
			hp_daemon_round(d, interval_ms);
			hp_ctl_server_serve(d->ctl); /* closes idle clients */
			next_round = now + (__u64)interval_ms * 1000000ULL;
		}
		if (now >= next_stats) {
			print_stats(d);
			next_stats = now + (__u64)opts->stats_s * 1000000000ULL;
		}
		if (now >= end)
			break;
	}
	return 0;
}

int hp_daemon_run(const struct hp_daemon_opts *opts, volatile sig_atomic_t *stop)
{
	struct daemon d = { .opts = opts, .policy = opts->policy };
	int loop_fd = -1;
	int ret;

	ret = daemon_setup(&d, &loop_fd);
	if (!ret)
		ret = daemon_loop(&d, loop_fd, stop);
	if (!ret) {
		hp_daemon_flush_events(&d);
		hp_daemon_settle(&d);
		print_stats(&d);
		say("stopping");
	}
	daemon_cleanup(&d);
	if (loop_fd >= 0)
		close(loop_fd);
	return ret;
}
