// SPDX-License-Identifier: GPL-2.0
/*
 * hotpaged's event loop (daemon.h). One thread: the transport's epoll
 * wait (hp_transport_poll) with a timeout up to the next round, events
 * buffered and fed to the hotness table in batches after their PFNs are
 * resolved, and a round every policy window.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/epoll.h>

#include <bpf/libbpf.h>

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

static int parse_u32(const char *s, __u32 max, __u32 *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -EINVAL;
	*out = (__u32)v;
	return 0;
}

/* An absolute path that fits a sockaddr_un. */
static int set_socket_path(struct hp_daemon_opts *opts, const char *v, char *err, size_t err_len)
{
	if (v[0] != '/' || strlen(v) >= sizeof(opts->socket_path)) {
		snprintf(err, err_len, "socket=%s: an absolute path of at most %zu bytes", v,
			 sizeof(opts->socket_path) - 1);
		return -EINVAL;
	}
	snprintf(opts->socket_path, sizeof(opts->socket_path), "%s", v);
	return 0;
}

int hp_daemon_set(struct hp_daemon_opts *opts, const char *assignment, char *err, size_t err_len)
{
	const char *eq = strchr(assignment, '=');
	const char *v = eq ? eq + 1 : "";
	size_t klen = eq ? (size_t)(eq - assignment) : strlen(assignment);

	if (klen == 7 && !strncmp(assignment, "backend", klen)) {
		if (!strcmp(v, "auto"))
			opts->backend = HP_BACKEND_AUTO;
		else if (!strcmp(v, "move_pages"))
			opts->backend = HP_BACKEND_MOVE_PAGES;
		else if (!strcmp(v, "kmigrated"))
			opts->backend = HP_BACKEND_KMIGRATED;
		else {
			snprintf(err, err_len, "%s: backend is auto, move_pages or kmigrated",
				 assignment);
			return -EINVAL;
		}
		return 0;
	}
	if (klen == 3 && !strncmp(assignment, "top", klen)) {
		if (parse_u32(v, HP_HOT_PAGES_MAX, &opts->top) || !opts->top) {
			snprintf(err, err_len, "%s: top is 1..%d pages", assignment,
				 HP_HOT_PAGES_MAX);
			return -EINVAL;
		}
		return 0;
	}
	if (klen == 6 && !strncmp(assignment, "period", klen)) {
		if (parse_u32(v, 1u << 24, &opts->period)) {
			snprintf(err, err_len, "%s: period is 0 (default) or 1..%u", assignment,
				 1u << 24);
			return -EINVAL;
		}
		return 0;
	}
	if (klen == 5 && !strncmp(assignment, "stats", klen)) {
		if (parse_u32(v, 86400, &opts->stats_s)) {
			snprintf(err, err_len, "%s: stats is 0..86400 seconds", assignment);
			return -EINVAL;
		}
		return 0;
	}
	if (klen == 6 && !strncmp(assignment, "socket", klen))
		return set_socket_path(opts, v, err, err_len);
	return hp_policy_set(&opts->policy, assignment, err, err_len);
}

/* ------------------------------------------------------------ events */

void hp_daemon_flush_events(struct daemon *d)
{
	__u64 now = hp_monotonic_ns();

	if (!d->nr_events)
		return;
	d->resolved += hp_pagemap_resolve_events(d->pagemap, d->events, d->nr_events, now);
	for (size_t i = 0; i < d->nr_events; i++) {
		d->inputs[i].ev = &d->events[i];
		d->inputs[i].pfn = d->events[i].pfn;
		d->inputs[i].page_node = d->events[i].page_node;
	}
	hp_hotness_record_batch(d->table, d->inputs, d->nr_events, now);
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

/* ------------------------------------------------------------ rounds */

static bool admit(const struct hp_hot_page *page, void *arg)
{
	const struct hp_policy *policy = arg;

	return hp_policy_scope_admits(policy, page->tgid, "/proc");
}

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
		if (access(KMIGRATED_SYSFS, F_OK))
			backend_switch(d, false, now);
	} else if (now >= d->backend_recheck_ns) {
		d->backend_recheck_ns = now + BACKEND_RECHECK_NS;
		if (!access(KMIGRATED_SYSFS, F_OK))
			backend_switch(d, true, now);
	}
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

static void promote_round(struct daemon *d, __u64 now, __u32 interval_ms)
{
	struct hp_hot_query q = {
		.min_freq = d->policy.threshold,
		.guard_ms = d->policy.pingpong_ms,
		.exclude_nodes = hp_policy_exclude_nodes(&d->policy, &d->topo),
		.skip_unknown_node = true,
		.admit = d->policy.scope == HP_SCOPE_ALL ? NULL : admit,
		.arg = &d->policy,
	};
	__u64 budget = hp_policy_rate_bytes(&d->policy) * interval_ms / 1000 / (__u64)d->page_size;
	size_t n, nreq = 0;
	int ret;
	__u64 room[HP_TOPO_MAX_NODES];
	bool room_read[HP_TOPO_MAX_NODES] = { false };
	__u32 seen[INVALIDATE_SEEN_MAX];
	size_t nseen;

	if (!d->have_backend || !budget)
		return;
	if (budget > d->cand_cap)
		budget = d->cand_cap;
	n = hp_hotness_candidates(d->table, &q, now, d->cand, budget, NULL);
	d->candidates += n;
	for (size_t i = 0; i < n; i++) {
		const struct hp_hot_page *p = &d->cand[i];
		int target =
			hp_policy_target_for(&d->policy, &d->topo, p->access_node, p->page_node);

		if (target < 0 || target >= HP_TOPO_MAX_NODES)
			continue;
		if (d->backend.needs_vaddr && (!p->tgid || !p->vaddr))
			continue;
		if (!room_read[target]) {
			if (hp_policy_room(&d->policy, &d->topo, target, &room[target]))
				room[target] = 0;
			room_read[target] = true;
		}
		if (room[target] < (__u64)d->page_size)
			continue;
		room[target] -= (__u64)d->page_size;
		d->reqs[nreq] = (struct hp_promote_req){
			.pfn = p->pfn,
			.vaddr = p->vaddr,
			.tgid = p->tgid,
			.target_node = target,
		};
		d->cand[nreq] = *p; /* keep candidates aligned with requests */
		nreq++;
	}
	if (!nreq)
		return;
	d->backend.batch = d->policy.batch;
	d->res.outcome = d->outcome;
	ret = d->backend.promote(&d->backend, d->reqs, nreq, &d->res);
	if (ret < 0) {
		if (ret != d->last_backend_err)
			say("%s backend failed: %s", d->backend.name, strerror(-ret));
		d->last_backend_err = ret;
		d->res.outcome = NULL;
		if (d->opts->backend == HP_BACKEND_AUTO && !strcmp(d->backend.name, "kmigrated"))
			backend_switch(d, false, now); /* the next round goes through move_pages */
		return;
	}
	d->last_backend_err = 0;
	d->requested += nreq;
	nseen = 0;
	for (size_t i = 0; i < nreq; i++) {
		enum hp_promote_outcome o = d->outcome[i];

		if (o == HP_PROMOTE_MOVED || o == HP_PROMOTE_QUEUED) {
			hp_hotness_mark_migrated(d->table, d->reqs[i].pfn, HP_PFN_UNKNOWN,
						 d->reqs[i].target_node, now);
			invalidate_once(d, d->reqs[i].tgid, seen, &nseen);
		} else if (o == HP_PROMOTE_NO_PROCESS || o == HP_PROMOTE_NOT_PRESENT ||
			   o == HP_PROMOTE_NOT_MAPPED) {
			hp_hotness_remove(d->table, d->reqs[i].pfn);
		}
	}
	d->res.outcome = NULL;
}

static void round_run(struct daemon *d, __u32 interval_ms)
{
	__u64 now = hp_monotonic_ns();
	size_t n;
	int ret;

	hp_daemon_flush_events(d);
	d->rounds++;
	if (d->can_promote) {
		backend_recheck(d, now);
		promote_round(d, now, interval_ms);
	}
	n = hp_hotness_top(d->table, now, d->cand, d->opts->top);
	ret = hp_hot_map_publish(d->hot_map, d->cand, n);
	if (ret)
		say("publishing the hot set: %s", strerror(-ret));
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
	struct hp_hotness_stats hs;
	__u64 moved = d->res.count[HP_PROMOTE_MOVED] + d->res.count[HP_PROMOTE_QUEUED];
	__u64 refused = 0, failed = 0;

	for (int o = 0; o < HP_PROMOTE_NR_OUTCOMES; o++) {
		enum hp_promote_class c = hp_promote_outcome_class((enum hp_promote_outcome)o);

		if (c == HP_PROMOTE_REFUSED)
			refused += d->res.count[o];
		else if (c == HP_PROMOTE_FAILED)
			failed += d->res.count[o];
	}
	hp_hotness_get_stats(d->table, &hs);
	say("events %llu resolved %llu drops %llu tracked %llu hot-set %zu rounds %llu "
	    "candidates %llu promoted %llu refused %llu failed %llu",
	    (unsigned long long)d->events_total, (unsigned long long)d->resolved,
	    (unsigned long long)source_drops(d), (unsigned long long)hs.tracked,
	    hp_hot_map_entries(d->hot_map), (unsigned long long)d->rounds,
	    (unsigned long long)d->candidates, (unsigned long long)moved,
	    (unsigned long long)refused, (unsigned long long)failed);
}

/* ------------------------------------------------------------ setup */

static int start_sources(struct daemon *d)
{
	const struct hp_daemon_opts *o = d->opts;
	struct hp_source_opts sopts = { .sample_period = o->period };

	/* A scope of processes filters in the sources already (a cgroup scope: at promotion). */
	if (d->policy.scope == HP_SCOPE_TGIDS) {
		sopts.filter_mode = HP_FILTER_TGIDS;
		sopts.tgids = d->policy.tgids;
		sopts.nr_tgids = d->policy.nr_tgids;
	}

	for (size_t i = 0; hp_sources[i] || i < o->nr_sources; i++) {
		const struct hp_source_ops *ops;
		struct hp_source_probe probe;
		int ret;

		if (o->nr_sources) {
			if (i >= o->nr_sources)
				break;
			ops = hp_source_find(o->sources[i]);
			if (!ops) {
				say("no source named '%s'", o->sources[i]);
				return -EINVAL;
			}
		} else {
			ops = hp_sources[i];
		}
		memset(&probe, 0, sizeof(probe));
		ops->probe(&probe);
		if (!probe.available) {
			if (o->nr_sources) {
				say("source %s is not available: %s", ops->name, probe.why);
				return -EOPNOTSUPP;
			}
			if (o->verbose)
				say("source %s skipped: %s", ops->name, probe.why);
			continue;
		}
		if (d->nr_src == HP_DAEMON_MAX_SOURCES)
			break;
		ret = ops->start(d->transport, &sopts, &d->src[d->nr_src].inst);
		if (ret) {
			say("starting source %s: %s", ops->name, strerror(-ret));
			if (o->nr_sources)
				return ret;
			continue;
		}
		d->src[d->nr_src].period = o->period;
		d->src[d->nr_src++].ops = ops;
		say("source %s: %s", ops->name, probe.how);
	}
	if (!d->nr_src) {
		say("no source could start");
		return -ENOENT;
	}
	return 0;
}

static int choose_backend(struct daemon *d)
{
	enum hp_backend_choice b = d->opts->backend;
	bool module = access(KMIGRATED_SYSFS, F_OK) == 0;
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
	hp_hotness_destroy(d->table);
	free(d->events);
	free(d->inputs);
	free(d->cand);
	free(d->reqs);
	free(d->outcome);
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

	/* The stages of CPUs that went quiet are collected on time, not only at the next ring record. */
	if (collect_ms >= 0 && (timeout_ms < 0 || timeout_ms > collect_ms))
		timeout_ms = collect_ms;
	n = epoll_wait(loop_fd, ev, 2, timeout_ms);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++)
		if (ev[i].data.u32 == 1)
			control = true;
	ret = hp_transport_consume(d->transport);
	if (ret < 0)
		return ret;
	if (control)
		hp_ctl_server_serve(d->ctl);
	return 0;
}

int hp_daemon_run(const struct hp_daemon_opts *opts, volatile sig_atomic_t *stop)
{
	struct daemon d = { .opts = opts, .policy = opts->policy };
	struct hp_transport_opts topts = { .on_event = on_event, .ctx = &d };
	struct hp_hotness_opts hopts = { .window_ms = opts->policy.window_ms };
	struct hp_pagemap_opts pmopts = { 0 };
	__u64 start, next_round, next_stats, end;
	__u32 interval_ms = opts->policy.window_ms;
	char err[512] = "";
	int loop_fd = -1;
	int ret;

	d.page_size = sysconf(_SC_PAGESIZE);
	if (d.page_size <= 0)
		d.page_size = 4096;
	ret = hp_policy_validate(&d.policy, err, sizeof(err));
	if (ret) {
		say("policy: %s", err);
		return ret;
	}
	d.cand_cap = opts->top;
	if (d.cand_cap < 65536)
		d.cand_cap = 65536;
	d.events = calloc(EVENT_BATCH, sizeof(*d.events));
	d.inputs = calloc(EVENT_BATCH, sizeof(*d.inputs));
	d.cand = calloc(d.cand_cap, sizeof(*d.cand));
	d.reqs = calloc(d.cand_cap, sizeof(*d.reqs));
	d.outcome = calloc(d.cand_cap, sizeof(*d.outcome));
	if (!d.events || !d.inputs || !d.cand || !d.reqs || !d.outcome) {
		say("out of memory");
		ret = -ENOMEM;
		goto out;
	}
	/* First: a second daemon must not touch the first one's pins. */
	ret = control_open(&d, &loop_fd, err, sizeof(err));
	if (ret) {
		say("control socket: %s", err);
		goto out;
	}
	ret = hp_topology_read(HP_SYSFS_ROOT, &d.topo, err, sizeof(err));
	if (ret) {
		say("topology: %s", err);
		goto out;
	}
	d.can_promote = hp_topology_can_promote(&d.topo, d.why, sizeof(d.why));
	if (!d.can_promote && d.policy.target_node != HP_POLICY_TARGET_AUTO &&
	    hp_topology_has_memory(&d.topo, d.policy.target_node) &&
	    __builtin_popcountll(d.topo.memory) > 1)
		d.can_promote = true; /* an explicit target works within one tier */
	if (!d.can_promote)
		say("promotion has nowhere to go: %s", d.why);
	ret = hp_hotness_create(&hopts, hp_monotonic_ns(), &d.table);
	if (ret) {
		say("hotness table: %s", strerror(-ret));
		goto out;
	}
	ret = hp_pagemap_new(&pmopts, &d.pagemap, err, sizeof(err));
	if (ret) {
		say("pagemap: %s", err);
		goto out;
	}
	ret = hp_hot_map_open(opts->pin_path ? opts->pin_path : HP_HOT_PAGES_PIN, opts->top,
			      &d.hot_map, err, sizeof(err));
	if (ret) {
		say("hot map: %s", err);
		goto out;
	}
	if (d.can_promote) {
		ret = choose_backend(&d);
		if (ret)
			goto out;
		say("promotion backend: %s", d.backend.name);
	}
	ret = hp_transport_new(&topts, &d.transport, err, sizeof(err));
	if (ret) {
		say("transport: %s", err);
		goto out;
	}
	ret = start_sources(&d);
	if (ret)
		goto out;
	ret = loop_add(loop_fd, hp_transport_epoll_fd(d.transport), 0);
	if (!ret)
		ret = loop_add(loop_fd, hp_ctl_server_fd(d.ctl), 1);
	if (ret) {
		say("epoll: %s", strerror(-ret));
		goto out;
	}
	say("running: window %u ms, threshold %u, hot set %u pages at %s", interval_ms,
	    d.policy.threshold, opts->top, opts->pin_path ? opts->pin_path : HP_HOT_PAGES_PIN);

	start = hp_monotonic_ns();
	d.start_ns = start;
	next_round = start + (__u64)interval_ms * 1000000ULL;
	next_stats = opts->stats_s ? start + (__u64)opts->stats_s * 1000000000ULL : ~0ULL;
	end = opts->duration_s ? start + (__u64)opts->duration_s * 1000000000ULL : ~0ULL;
	while (!*stop) {
		__u64 now = hp_monotonic_ns();
		__u64 wake = next_round < end ? next_round : end;
		int timeout = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;

		ret = loop_wait(&d, loop_fd, timeout);
		if (ret < 0 && ret != -EINTR) {
			say("polling the rings: %s", strerror(-ret));
			goto out;
		}
		now = hp_monotonic_ns();
		if (now >= next_round) {
			/* The window may have changed by hotpagectl policy set. */
			interval_ms = d.policy.window_ms;
			round_run(&d, interval_ms);
			hp_ctl_server_serve(d.ctl); /* closes idle clients */
			next_round = now + (__u64)interval_ms * 1000000ULL;
		}
		if (now >= next_stats) {
			print_stats(&d);
			next_stats = now + (__u64)opts->stats_s * 1000000000ULL;
		}
		if (now >= end)
			break;
	}
	ret = 0;
	hp_daemon_flush_events(&d);
	print_stats(&d);
	say("stopping");
out:
	daemon_cleanup(&d);
	if (loop_fd >= 0)
		close(loop_fd);
	return ret;
}
