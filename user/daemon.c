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

#include "control.h"
#include "daemon.h"
#include "hot_pages_map.h"
#include "hotness.h"
#include "hotpage/hot_pages.h"
#include "kmigrated.h"
#include "pagemap.h"
#include "promote.h"
#include "promote_kmigrated.h"
#include "source.h"
#include "topology.h"
#include "transport.h"

#define EVENT_BATCH 4096
#define KMIGRATED_SYSFS "/sys/kernel/mm/kmigrated"
/* backend=auto on move_pages: how often to look whether kmigrated.ko is back. */
#define BACKEND_RECHECK_NS (3ULL * 1000000000ULL)
#define INVALIDATE_SEEN_MAX 64 /* processes whose cache a round dropped already */

struct running_source {
	const struct hp_source_ops *ops;
	struct hp_source_instance *inst;
	__u32 period; /* as started; 0: the source's default */
};

struct daemon {
	const struct hp_daemon_opts *opts;
	struct hp_policy policy;
	struct hp_topology topo;
	bool can_promote;
	char why[256];
	struct hp_transport *transport;
	struct running_source src[HP_DAEMON_MAX_SOURCES];
	size_t nr_src;
	struct hp_pagemap *pagemap;
	struct hp_hotness *table;
	struct hp_hot_map *hot_map;
	struct hp_promote_backend backend;
	bool have_backend;
	int last_backend_err; /* logged once until it changes */
	__u64 backend_recheck_ns; /* backend=auto: next look for kmigrated.ko */
	__u64 backend_switches;
	struct hp_event *events; /* EVENT_BATCH buffered */
	struct hp_hot_input *inputs;
	size_t nr_events;
	struct hp_hot_page *cand; /* candidates or top pages of a round */
	struct hp_promote_req *reqs;
	__u8 *outcome;
	size_t cand_cap;
	long page_size;
	/* statistics */
	__u64 events_total, resolved, rounds, candidates, requested;
	struct hp_promote_result res;
	/* live control (control.h) */
	struct hp_ctl_server *ctl;
	__u64 start_ns;
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* One line on stderr. */
#define say(fmt, ...) fprintf(stderr, "hotpaged: " fmt "\n", ##__VA_ARGS__)

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

static void flush_events(struct daemon *d)
{
	__u64 now = now_ns();

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
		flush_events(d);
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
	__u64 now = now_ns();
	size_t n;
	int ret;

	flush_events(d);
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

/* ------------------------------------------------------------ live control */

/*
 * Commands of the control socket (control.h), served by the event loop
 * between rounds. Each reads or changes the daemon's state directly: the
 * loop is the only thread, so nothing can change under a command.
 */

static struct running_source *find_running(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->nr_src; i++)
		if (!strcmp(d->src[i].ops->name, name))
			return &d->src[i];
	return NULL;
}

/* The scope part of a source's options, as start_sources() does. */
static void scope_opts(const struct hp_policy *policy, __u32 period, struct hp_source_opts *sopts)
{
	memset(sopts, 0, sizeof(*sopts));
	sopts->sample_period = period;
	if (policy->scope == HP_SCOPE_TGIDS) {
		sopts->filter_mode = HP_FILTER_TGIDS;
		sopts->tgids = policy->tgids;
		sopts->nr_tgids = policy->nr_tgids;
	}
}

static int parse_period(const char *arg, __u32 *period, struct hp_ctl_out *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v > (1u << 24)) {
		hp_ctl_printf(out, "period=%.32s: 0 (the source's default) or 1..%u", arg,
			      1u << 24);
		return -EINVAL;
	}
	*period = (__u32)v;
	return 0;
}

static int cmd_attach(struct daemon *d, int argc, const char *const *argv, struct hp_ctl_out *out)
{
	const struct hp_source_ops *ops = hp_source_find(argv[1]);
	struct hp_source_probe probe = { 0 };
	struct hp_source_opts sopts;
	struct running_source *rs;
	__u32 period = d->opts->period;
	int ret;

	if (!ops) {
		hp_ctl_printf(out, "no source named '%.64s'", argv[1]);
		return -ENOENT;
	}
	if (argc == 3 && parse_period(argv[2] + strlen("period="), &period, out))
		return -EINVAL;
	if (find_running(d, ops->name)) {
		hp_ctl_printf(out, "source %s is attached already", ops->name);
		return -EALREADY;
	}
	if (d->nr_src == HP_DAEMON_MAX_SOURCES) {
		hp_ctl_printf(out, "%d sources attached: no room for more", HP_DAEMON_MAX_SOURCES);
		return -ENOSPC;
	}
	ops->probe(&probe);
	if (!probe.available) {
		hp_ctl_printf(out, "source %s is not available: %s", ops->name, probe.why);
		return -EOPNOTSUPP;
	}
	scope_opts(&d->policy, period, &sopts);
	rs = &d->src[d->nr_src];
	ret = ops->start(d->transport, &sopts, &rs->inst);
	if (ret) {
		hp_ctl_printf(out, "starting source %s: %s", ops->name, strerror(-ret));
		return ret;
	}
	rs->ops = ops;
	rs->period = period;
	d->nr_src++;
	say("source %s attached: %s", ops->name, probe.how);
	hp_ctl_printf(out, "attached %s (%s)\n", ops->name, probe.how);
	return 0;
}

static int cmd_detach(struct daemon *d, const char *name, struct hp_ctl_out *out)
{
	struct running_source *rs = find_running(d, name);
	size_t i;

	if (!rs) {
		hp_ctl_printf(out, "source %.64s is not attached", name);
		return -ENOENT;
	}
	i = (size_t)(rs - d->src);
	/* Its records still in the shared rings are read as usual. */
	rs->ops->stop(rs->inst);
	say("source %s detached", rs->ops->name);
	hp_ctl_printf(out, "detached %s\n", rs->ops->name);
	memmove(&d->src[i], &d->src[i + 1], (d->nr_src - i - 1) * sizeof(d->src[0]));
	d->nr_src--;
	return 0;
}

/* Give every running source the scope of @policy; -errno at the first failure. */
static int rescope_sources(struct daemon *d, const struct hp_policy *policy, const char **failed)
{
	for (size_t i = 0; i < d->nr_src; i++) {
		struct hp_source_opts sopts;
		int ret;

		scope_opts(policy, d->src[i].period, &sopts);
		ret = hp_source_apply_scope(d->src[i].ops->object(d->src[i].inst), &sopts);
		if (ret) {
			*failed = d->src[i].ops->name;
			return ret;
		}
	}
	return 0;
}

static int policy_show(const struct daemon *d, struct hp_ctl_out *out)
{
	char buf[4096];

	hp_policy_show(&d->policy, buf, sizeof(buf));
	hp_ctl_printf(out, "%s", buf);
	return 0;
}

static bool same_scope(const struct hp_policy *a, const struct hp_policy *b)
{
	return a->scope == b->scope && a->nr_tgids == b->nr_tgids &&
	       !memcmp(a->tgids, b->tgids, a->nr_tgids * sizeof(a->tgids[0]));
}

static int cmd_policy_set(struct daemon *d, int argc, const char *const *argv,
			  struct hp_ctl_out *out)
{
	struct hp_policy next = d->policy;
	const char *failed = "";
	char err[512] = "";
	int ret;

	/* All or none: built on a copy, checked whole, then swapped in. */
	ret = hp_policy_apply(&next, argv + 2, (size_t)argc - 2, err, sizeof(err));
	if (!ret)
		ret = hp_policy_validate(&next, err, sizeof(err));
	if (ret) {
		hp_ctl_printf(out, "%s", err);
		return ret;
	}
	if (!same_scope(&next, &d->policy)) {
		ret = rescope_sources(d, &next, &failed);
		if (ret) {
			rescope_sources(d, &d->policy, &failed);
			hp_ctl_printf(out, "scope of source %s: %s", failed, strerror(-ret));
			return ret;
		}
	}
	if (next.window_ms != d->policy.window_ms)
		hp_hotness_set_window(d->table, next.window_ms);
	d->policy = next;
	say("policy set by hotpagectl");
	return policy_show(d, out);
}

static bool module_loaded(void)
{
	return access(KMIGRATED_SYSFS, F_OK) == 0;
}

static __u64 uptime_s(const struct daemon *d)
{
	return (now_ns() - d->start_ns) / 1000000000ULL;
}

static void policy_line(const struct daemon *d, struct hp_ctl_out *out)
{
	char buf[2048];

	hp_policy_show(&d->policy, buf, sizeof(buf));
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = p[1] ? ' ' : '\0';
	hp_ctl_printf(out, "%s", buf);
}

static int cmd_status(struct daemon *d, struct hp_ctl_out *out)
{
	if (d->have_backend)
		hp_ctl_printf(out, "backend: %s\n", d->backend.name);
	else
		hp_ctl_printf(out, "backend: none (%s)\n", d->can_promote ? "not chosen" : d->why);
	hp_ctl_printf(out, "module: kmigrated %s\n",
		      module_loaded() ? "loaded (" KMIGRATED_SYSFS ")" : "not loaded");
	hp_ctl_printf(out, "sources:");
	for (size_t i = 0; i < d->nr_src; i++) {
		if (d->src[i].period)
			hp_ctl_printf(out, " %s (period %u)", d->src[i].ops->name,
				      d->src[i].period);
		else
			hp_ctl_printf(out, " %s", d->src[i].ops->name);
	}
	hp_ctl_printf(out, "%s\npolicy: ", d->nr_src ? "" : " none");
	policy_line(d, out);
	hp_ctl_printf(out, "\nuptime: %llu s\n", (unsigned long long)uptime_s(d));
	return 0;
}

static int cmd_sources(struct daemon *d, struct hp_ctl_out *out)
{
	hp_ctl_printf(out, "%-10s %-9s %-8s %-7s %12s %12s %12s %10s %8s  %s\n", "SOURCE",
		      "AVAILABLE", "ATTACHED", "PERIOD", "SEEN", "SAMPLED", "EMITTED", "DROPPED",
		      "ERRORS", "HOW / WHY NOT");
	for (size_t i = 0; hp_sources[i]; i++) {
		const struct hp_source_ops *ops = hp_sources[i];
		struct running_source *rs = find_running(d, ops->name);
		struct hp_source_probe probe = { 0 };
		struct hp_source_stats st = { 0 };
		char period[16] = "-";

		ops->probe(&probe);
		if (rs) {
			hp_source_read_stats(rs->ops->object(rs->inst), &st);
			if (rs->period)
				snprintf(period, sizeof(period), "%u", rs->period);
			else
				snprintf(period, sizeof(period), "default");
		}
		hp_ctl_printf(out, "%-10s %-9s %-8s %-7s %12llu %12llu %12llu %10llu %8llu  %s\n",
			      ops->name, probe.available ? "yes" : "no", rs ? "yes" : "no", period,
			      (unsigned long long)st.seen, (unsigned long long)st.sampled,
			      (unsigned long long)st.emitted, (unsigned long long)st.dropped,
			      (unsigned long long)st.errors,
			      probe.available ? probe.how : probe.why);
	}
	return 0;
}

static int cmd_top(struct daemon *d, int argc, const char *const *argv, struct hp_ctl_out *out)
{
	size_t want = argc == 3 ? strtoul(argv[2], NULL, 10) : 20;
	__u64 now = now_ns();
	size_t n;

	flush_events(d);
	if (want > d->cand_cap)
		want = d->cand_cap;
	/* d->cand is scratch between rounds. */
	n = hp_hotness_top(d->table, now, d->cand, want);
	hp_ctl_printf(out, "%14s %4s %6s %9s %8s  %s\n", "PFN", "NODE", "FREQ", "AGE_MS", "TGID",
		      "COMMAND");
	for (size_t i = 0; i < n; i++) {
		const struct hp_hot_page *p = &d->cand[i];
		char path[64], comm[32] = "-";
		FILE *f;

		if (p->tgid) {
			snprintf(path, sizeof(path), "/proc/%u/comm", p->tgid);
			f = fopen(path, "re");
			if (f) {
				if (fgets(comm, sizeof(comm), f))
					comm[strcspn(comm, "\n")] = '\0';
				fclose(f);
			}
		}
		hp_ctl_printf(out, "%#14llx %4d %6u %9llu %8u  %s\n", (unsigned long long)p->pfn,
			      p->page_node, p->freq,
			      (unsigned long long)((now - p->last_seen_ns) / 1000000ULL), p->tgid,
			      comm);
	}
	return 0;
}

/*
 * stats and metrics: one list of counters and gauges, shown as text,
 * JSON or Prometheus exposition.
 */
enum stat_section { SEC_DAEMON, SEC_SOURCE, SEC_NODE, SEC_MODULE, SEC_NR };

static const char *const section_name[SEC_NR] = { "daemon", "source", "node", "module" };
static const char *const section_json[SEC_NR] = { "daemon", "sources", "nodes", "module" };

struct stat_item {
	enum stat_section section;
	char label[32]; /* source name or node number; "" for daemon and module */
	char key[40];
	bool counter;
	const char *help;
	__u64 value;
	/* metrics only: one metric with a label instead of one per key */
	const char *metric_key, *metric_label_key, *metric_label;
};

#define STAT_ITEMS_MAX 256

struct stat_list {
	struct stat_item item[STAT_ITEMS_MAX];
	size_t n;
};

static void stat_add(struct stat_list *l, enum stat_section sec, const char *label, const char *key,
		     bool counter, const char *help, __u64 value)
{
	struct stat_item *it;

	if (l->n == STAT_ITEMS_MAX)
		return;
	it = &l->item[l->n++];
	it->section = sec;
	snprintf(it->label, sizeof(it->label), "%s", label);
	snprintf(it->key, sizeof(it->key), "%s", key);
	it->counter = counter;
	it->help = help;
	it->value = value;
}

/* One counter of /sys/kernel/mm/kmigrated; false when unreadable. */
static bool read_module_u64(const char *name, __u64 *value)
{
	char path[128], buf[32];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), KMIGRATED_SYSFS "/%s", name);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fgets(buf, sizeof(buf), f) && sscanf(buf, "%llu", (unsigned long long *)value) == 1;
	fclose(f);
	return ok;
}

static const char *const module_counters[] = {
#define MODULE_COUNTER_NAME(id, name) #name,
	KMIGRATED_STATS(MODULE_COUNTER_NAME)
#undef MODULE_COUNTER_NAME
};

static void collect_stats(struct daemon *d, struct stat_list *l)
{
	struct hp_hotness_stats hs;
	struct hp_transport_stats ts;
	struct hp_ctl_server_stats cs;
	__u64 hot_on_node[HP_TOPO_MAX_NODES] = { 0 };
	size_t hot;

	flush_events(d);
	hp_hotness_get_stats(d->table, &hs);
	hp_transport_read_stats(d->transport, &ts);
	hp_ctl_server_stats(d->ctl, &cs);
	stat_add(l, SEC_DAEMON, "", "uptime_seconds", false, "Seconds since hotpaged started.",
		 uptime_s(d));
	stat_add(l, SEC_DAEMON, "", "events", true, "Events read from the source rings.",
		 d->events_total);
	stat_add(l, SEC_DAEMON, "", "events_resolved", true,
		 "Events whose page frame was resolved from pagemap.", d->resolved);
	stat_add(l, SEC_DAEMON, "", "events_bad", true, "Ring records refused (size or version).",
		 ts.bad_size + ts.bad_version);
	stat_add(l, SEC_DAEMON, "", "rounds", true, "Promotion rounds run.", d->rounds);
	stat_add(l, SEC_DAEMON, "", "candidates", true, "Pages found hot enough to promote.",
		 d->candidates);
	stat_add(l, SEC_DAEMON, "", "promote_requests", true,
		 "Pages handed to the promotion backend.", d->requested);
	for (int o = 0; o < HP_PROMOTE_NR_OUTCOMES; o++) {
		char key[40];

		snprintf(key, sizeof(key), "promote_%s",
			 hp_promote_outcome_name((enum hp_promote_outcome)o));
		stat_add(l, SEC_DAEMON, "", key, true, "Pages by outcome of their promotion.",
			 d->res.count[o]);
		if (l->n) {
			l->item[l->n - 1].metric_key = "promote_pages";
			l->item[l->n - 1].metric_label_key = "outcome";
			l->item[l->n - 1].metric_label =
				hp_promote_outcome_name((enum hp_promote_outcome)o);
		}
	}
	stat_add(l, SEC_DAEMON, "", "tracked_pages", false, "Pages in the hotness table.",
		 hs.tracked);
	stat_add(l, SEC_DAEMON, "", "table_capacity_pages", false,
		 "Pages the hotness table's budget holds.", hs.capacity);
	stat_add(l, SEC_DAEMON, "", "table_evictions", true,
		 "Hotness table entries dropped to make room.", hs.evictions);
	stat_add(l, SEC_DAEMON, "", "hot_set_pages", false, "Pages in the published hot set.",
		 hp_hot_map_entries(d->hot_map));
	stat_add(l, SEC_DAEMON, "", "control_requests", true, "Control socket requests.",
		 cs.requests);
	stat_add(l, SEC_DAEMON, "", "control_errors", true,
		 "Control socket requests answered with an error.", cs.errors);
	stat_add(l, SEC_DAEMON, "", "control_refused", true,
		 "Control socket clients refused (not root).", cs.refused);
	stat_add(l, SEC_DAEMON, "", "policy_rate_mbps", false,
		 "Promotion rate limit in MiB/s (0: paused).", d->policy.rate_mbps);

	for (size_t i = 0; i < d->nr_src; i++) {
		struct hp_source_stats st;
		const char *name = d->src[i].ops->name;

		if (hp_source_read_stats(d->src[i].ops->object(d->src[i].inst), &st))
			continue;
		stat_add(l, SEC_SOURCE, name, "seen", true, "Source hook invocations.", st.seen);
		stat_add(l, SEC_SOURCE, name, "sampled", true,
			 "Invocations that passed the filter and sampling.", st.sampled);
		stat_add(l, SEC_SOURCE, name, "emitted", true, "Records written to the rings.",
			 st.emitted);
		stat_add(l, SEC_SOURCE, name, "dropped", true, "Records lost to full rings.",
			 st.dropped);
		stat_add(l, SEC_SOURCE, name, "errors", true, "Records lost for other reasons.",
			 st.errors);
		stat_add(l, SEC_SOURCE, name, "sample_period", false,
			 "Sampling period set (1 in N; 0: the source's default).",
			 d->src[i].period);
	}

	hot = hp_hotness_top(d->table, now_ns(), d->cand, d->opts->top);
	for (size_t i = 0; i < hot; i++)
		if (d->cand[i].page_node >= 0 && d->cand[i].page_node < HP_TOPO_MAX_NODES)
			hot_on_node[d->cand[i].page_node]++;
	for (int node = 0; node < HP_TOPO_MAX_NODES; node++) {
		__u64 free_b, total_b;
		char label[16];

		if (!(d->topo.memory & (1ULL << node)))
			continue;
		snprintf(label, sizeof(label), "%d", node);
		if (!hp_topology_node_memory(&d->topo, node, &free_b, &total_b)) {
			stat_add(l, SEC_NODE, label, "memory_bytes", false, "MemTotal of the node.",
				 total_b);
			stat_add(l, SEC_NODE, label, "free_bytes", false, "MemFree of the node.",
				 free_b);
		}
		stat_add(l, SEC_NODE, label, "top_tier", false,
			 "1 when the node is in the top tier.",
			 hp_topology_is_top_tier(&d->topo, node));
		stat_add(l, SEC_NODE, label, "hot_pages", false,
			 "Pages of the hot set (top=) on the node.", hot_on_node[node]);
	}

	stat_add(l, SEC_MODULE, "", "loaded", false, "1 when kmigrated.ko is loaded.",
		 module_loaded());
	for (size_t i = 0; i < sizeof(module_counters) / sizeof(module_counters[0]); i++) {
		__u64 v;

		if (read_module_u64(module_counters[i], &v))
			stat_add(l, SEC_MODULE, "", module_counters[i], true,
				 "kmigrated counter (" KMIGRATED_SYSFS ").", v);
	}
	{
		__u64 v;

		if (read_module_u64("queued", &v))
			stat_add(l, SEC_MODULE, "", "queued", false,
				 "Pages in kmigrated's queues now.", v);
	}
}

static void stats_text(const struct stat_list *l, struct hp_ctl_out *out)
{
	const char *sec = NULL, *label = NULL;

	for (size_t i = 0; i < l->n; i++) {
		const struct stat_item *it = &l->item[i];

		if (!sec || strcmp(sec, section_name[it->section]) != 0 ||
		    strcmp(label, it->label) != 0) {
			sec = section_name[it->section];
			label = it->label;
			hp_ctl_printf(out, "%s%s%s:\n", sec, label[0] ? " " : "", label);
		}
		hp_ctl_printf(out, "  %-28s %llu\n", it->key, (unsigned long long)it->value);
	}
}

static void stats_json(const struct stat_list *l, struct hp_ctl_out *out)
{
	int sec = -1;
	const char *label = NULL;
	bool first_key = true;

	hp_ctl_printf(out, "{");
	for (size_t i = 0; i < l->n; i++) {
		const struct stat_item *it = &l->item[i];
		bool labelled = it->label[0] != '\0';

		if ((int)it->section != sec) {
			if (sec >= 0)
				hp_ctl_printf(out, "%s}", label && label[0] ? "}" : "");
			hp_ctl_printf(out, "%s\"%s\":{", sec >= 0 ? "," : "",
				      section_json[it->section]);
			sec = (int)it->section;
			label = NULL;
			first_key = true;
		}
		if (labelled && (!label || strcmp(label, it->label) != 0)) {
			hp_ctl_printf(out, "%s\"%s\":{", label ? "}," : "", it->label);
			label = it->label;
			first_key = true;
		}
		hp_ctl_printf(out, "%s\"%s\":%llu", first_key ? "" : ",", it->key,
			      (unsigned long long)it->value);
		first_key = false;
	}
	if (sec >= 0)
		hp_ctl_printf(out, "%s}", label && label[0] ? "}" : "");
	hp_ctl_printf(out, "}\n");
}

/* A label value in the exposition format: \, " and newline escaped. */
static void prom_label(struct hp_ctl_out *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			hp_ctl_printf(out, "\\\\");
		else if (*v == '"')
			hp_ctl_printf(out, "\\\"");
		else if (*v == '\n')
			hp_ctl_printf(out, "\\n");
		else
			hp_ctl_printf(out, "%c", *v);
	}
}

static void metric_name(const struct stat_item *it, char *buf, size_t len)
{
	bool daemon = it->section == SEC_DAEMON;

	snprintf(buf, len, "hotpage_%s%s%s%s", daemon ? "" : section_name[it->section],
		 daemon ? "" : "_", it->metric_key ? it->metric_key : it->key,
		 it->counter ? "_total" : "");
}

/* HELP text in the exposition format: \ and newline escaped. */
static void prom_help(struct hp_ctl_out *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			hp_ctl_printf(out, "\\\\");
		else if (*v == '\n')
			hp_ctl_printf(out, "\\n");
		else
			hp_ctl_printf(out, "%c", *v);
	}
}

static void metrics_text(struct daemon *d, const struct stat_list *l, struct hp_ctl_out *out)
{
	static const char *const label_key[SEC_NR] = { NULL, "source", "node", NULL };
	bool done[STAT_ITEMS_MAX] = { false };

	hp_ctl_printf(out, "# HELP hotpage_info hotpaged's promotion backend.\n"
			   "# TYPE hotpage_info gauge\nhotpage_info{backend=\"");
	prom_label(out, d->have_backend ? d->backend.name : "none");
	hp_ctl_printf(out, "\"} 1\n");
	/* All samples of one metric name together, after its HELP and TYPE. */
	for (size_t i = 0; i < l->n; i++) {
		char name[96], other[96];

		if (done[i])
			continue;
		metric_name(&l->item[i], name, sizeof(name));
		hp_ctl_printf(out, "# HELP %s ", name);
		prom_help(out, l->item[i].help);
		hp_ctl_printf(out, "\n# TYPE %s %s\n", name,
			      l->item[i].counter ? "counter" : "gauge");
		for (size_t j = i; j < l->n; j++) {
			const struct stat_item *it = &l->item[j];

			if (done[j])
				continue;
			metric_name(it, other, sizeof(other));
			if (strcmp(name, other) != 0)
				continue;
			done[j] = true;
			hp_ctl_printf(out, "%s", name);
			if (it->metric_label_key) {
				hp_ctl_printf(out, "{%s=\"", it->metric_label_key);
				prom_label(out, it->metric_label);
				hp_ctl_printf(out, "\"}");
			} else if (label_key[it->section]) {
				hp_ctl_printf(out, "{%s=\"", label_key[it->section]);
				prom_label(out, it->label);
				hp_ctl_printf(out, "\"}");
			}
			hp_ctl_printf(out, " %llu\n", (unsigned long long)it->value);
		}
	}
}

static int control_handle(void *ctx, int argc, const char *const *argv, struct hp_ctl_out *out)
{
	struct daemon *d = ctx;
	const char *cmd = argv[0];
	struct stat_list *l;

	if (!strcmp(cmd, "status"))
		return cmd_status(d, out);
	if (!strcmp(cmd, "sources"))
		return cmd_sources(d, out);
	if (!strcmp(cmd, "attach"))
		return cmd_attach(d, argc, argv, out);
	if (!strcmp(cmd, "detach"))
		return cmd_detach(d, argv[1], out);
	if (!strcmp(cmd, "policy") && !strcmp(argv[1], "show"))
		return policy_show(d, out);
	if (!strcmp(cmd, "policy"))
		return cmd_policy_set(d, argc, argv, out);
	if (!strcmp(cmd, "top"))
		return cmd_top(d, argc, argv, out);
	if (strcmp(cmd, "stats") != 0 && strcmp(cmd, "metrics") != 0) {
		hp_ctl_printf(out, "command %.64s is not served by this hotpaged", cmd);
		return -EOPNOTSUPP;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	collect_stats(d, l);
	if (!strcmp(cmd, "metrics"))
		metrics_text(d, l, out);
	else if (argc == 2)
		stats_json(l, out);
	else
		stats_text(l, out);
	free(l);
	return 0;
}

/* The loop's epoll: the rings (tag 0) and the control socket (tag 1). */
static int control_open(struct daemon *d, int *loop_fd, char *err, size_t err_len)
{
	const char *path = d->opts->socket_path[0] ? d->opts->socket_path : HP_CTL_SOCKET_DEFAULT;
	int ret;

	ret = hp_ctl_server_open(path, control_handle, d, &d->ctl, err, err_len);
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
	struct epoll_event ev[2];
	bool control = false;
	int n = epoll_wait(loop_fd, ev, 2, timeout_ms);

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u32 == 1) {
			control = true;
		} else {
			int ret = hp_transport_consume(d->transport);

			if (ret < 0)
				return ret;
		}
	}
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
	ret = hp_hotness_create(&hopts, now_ns(), &d.table);
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

	start = now_ns();
	d.start_ns = start;
	next_round = start + (__u64)interval_ms * 1000000ULL;
	next_stats = opts->stats_s ? start + (__u64)opts->stats_s * 1000000000ULL : ~0ULL;
	end = opts->duration_s ? start + (__u64)opts->duration_s * 1000000000ULL : ~0ULL;
	while (!*stop) {
		__u64 now = now_ns();
		__u64 wake = next_round < end ? next_round : end;
		int timeout = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;

		ret = loop_wait(&d, loop_fd, timeout);
		if (ret < 0 && ret != -EINTR) {
			say("polling the rings: %s", strerror(-ret));
			goto out;
		}
		now = now_ns();
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
	flush_events(&d);
	print_stats(&d);
	say("stopping");
out:
	daemon_cleanup(&d);
	if (loop_fd >= 0)
		close(loop_fd);
	return ret;
}
