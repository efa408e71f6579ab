// SPDX-License-Identifier: GPL-2.0
/* The fault and perf sources on the running kernel, host and guest alike. */
#include "hp_sources_live.h"

static int live_start_fault(struct hp_transport *transport, const struct hp_source_opts *opts,
			    struct hp_source_instance **out, char *err, size_t err_len)
{
	return hp_fault_source_start(transport, opts, HP_FAULT_ATTACH_AUTO, out, err, err_len);
}

static int live_start_perf(struct hp_transport *transport, const struct hp_source_opts *opts,
			   struct hp_source_instance **out, char *err, size_t err_len)
{
	/* The software event: deterministic, and present on every machine. */
	struct hp_perf_params params = { .event = HP_PERF_EVENT_PAGE_FAULTS };

	return hp_perf_source_start(transport, opts, &params, out, err, err_len);
}

/* The BPF-level period, in hp_cpu_state, keeping the scope. */
static int live_config_period(struct hp_source_instance *src, const struct hp_source_ops *ops,
			      const struct hp_source_opts *opts, __u32 period)
{
	struct hp_source_config cfg = {
		.sample_period = period,
		.filter_mode = opts->filter_mode,
		.cgroup_id = opts->cgroup_id,
	};

	return hp_source_write_config(ops->object(src), &cfg);
}

static int live_period_fault(struct hp_source_instance *src, const struct hp_source_opts *opts,
			     __u32 period)
{
	return live_config_period(src, &hp_source_fault, opts, period);
}

static int live_period_perf(struct hp_source_instance *src, const struct hp_source_opts *opts,
			    __u32 period)
{
	(void)opts;
	return hp_perf_source_set_period(src, period);
}

static struct live_round live_round(const struct live_source *s, struct hp_transport *transport,
				    struct hp_source_instance *src, struct hp_child *child,
				    struct hp_collector *events)
{
	struct hp_source_stats before, after;
	struct live_round r = { 0 };
	struct hp_tally t;
	__u64 base;
	int ret;

	hp_drain(transport);
	hp_collector_reset(events);
	ret = hp_source_read_stats(s->ops->object(src), &before);
	hp_check(!ret, "%s: reading hp_cpu_state: %s", s->name, strerror(-ret));
	hp_child_go(child);
	hp_fault_pages_here(LIVE_PARENT_PAGES);
	base = hp_child_wait(child);
	hp_drain(transport);
	ret = hp_source_read_stats(s->ops->object(src), &after);
	hp_check(!ret, "%s: reading hp_cpu_state: %s", s->name, strerror(-ret));

	t = hp_tally_events(events, s->id, child, base);
	r.inside = t.inside;
	r.pages = t.pages;
	r.delta.seen = after.seen - before.seen;
	r.delta.sampled = after.sampled - before.sampled;
	r.delta.emitted = after.emitted - before.emitted;
	r.delta.dropped = after.dropped - before.dropped;
	r.delta.errors = after.errors - before.errors;
	printf("  %llu events in the mapping on %llu pages, %llu elsewhere in the child; "
	       "seen %llu sampled %llu emitted %llu dropped %llu errors %llu\n",
	       (unsigned long long)t.inside, (unsigned long long)t.pages,
	       (unsigned long long)t.outside, (unsigned long long)r.delta.seen,
	       (unsigned long long)r.delta.sampled, (unsigned long long)r.delta.emitted,
	       (unsigned long long)r.delta.dropped, (unsigned long long)r.delta.errors);

	hp_check(t.other == 0, "%s: %llu events of another process (tgid %u)", s->name,
		 (unsigned long long)t.other, t.other_tgid);
	hp_check(t.wrong_source == 0, "%s: %llu events of another source", s->name,
		 (unsigned long long)t.wrong_source);
	hp_check(t.bad_fields == 0, "%s: %llu events with wrong fields: %s", s->name,
		 (unsigned long long)t.bad_fields, t.bad_why);
	hp_check_balanced(s->name, &after);
	hp_check(r.delta.dropped == 0 && r.delta.errors == 0, "%s: dropped %llu, errors %llu",
		 s->name, (unsigned long long)r.delta.dropped, (unsigned long long)r.delta.errors);
	hp_check(r.delta.emitted == events->len, "%s: emitted %llu but %zu events arrived", s->name,
		 (unsigned long long)r.delta.emitted, events->len);
	return r;
}

static void live_check_rate(const struct live_source *s, const struct live_round *r, __u32 period)
{
	__u64 want = LIVE_PAGES / period;
	__u64 slack = (__u64)SLACK_PER_CPU * (__u64)libbpf_num_possible_cpus();

	hp_check(hp_within(r->inside, want, TOLERANCE_PCT, slack),
		 "%s: period %u: %llu events in the mapping, expected %llu +- %.0f%% + %llu",
		 s->name, period, (unsigned long long)r->inside, (unsigned long long)want,
		 TOLERANCE_PCT, (unsigned long long)slack);
}

/* Returns 0 when the source ran and passed, 77 when it could not run here. */
static int live_source_check(const struct live_source *s)
{
	struct hp_collector events = { 0 };
	struct hp_transport_opts topts = { .on_event = hp_collect, .ctx = &events };
	struct hp_transport *transport = NULL;
	struct hp_source_instance *src = NULL;
	struct hp_child child = hp_child_start(LIVE_PAGES);
	__u32 tgid = (__u32)child.pid;
	struct hp_source_opts opts = {
		.sample_period = 1,
		.filter_mode = HP_FILTER_TGIDS,
		.tgids = &tgid,
		.nr_tgids = 1,
	};
	struct live_round r;
	char err[512];
	int ret;

	ret = hp_transport_new(&topts, &transport, err, sizeof(err));
	hp_check(!ret, "transport: %s", err);
	ret = s->start(transport, &opts, &src, err, sizeof(err));
	if (ret == -ENOENT || ret == -EPERM || ret == -EACCES || ret == -EOPNOTSUPP) {
		printf("%s: cannot run here: %s\n", s->name, err);
		hp_transport_free(transport);
		hp_child_stop(&child);
		hp_collector_free(&events);
		return HP_TEST_SKIP;
	}
	hp_check(!ret, "%s: start: %s", s->name, err);
	if (s->id == HP_SRC_PERF)
		printf("%s: %s\n", s->name, hp_perf_source_how(src));
	else
		printf("%s: %s\n", s->name, hp_fault_attach_point(hp_fault_source_attach(src)));

	printf(" round 1: every fault\n");
	r = live_round(s, transport, src, &child, &events);
	hp_check(r.pages == LIVE_PAGES, "%s: %llu of the %d touched pages reported", s->name,
		 (unsigned long long)r.pages, LIVE_PAGES);
	hp_check(r.inside >= LIVE_PAGES, "%s: %llu events in the mapping, expected >= %d", s->name,
		 (unsigned long long)r.inside, LIVE_PAGES);
	hp_check(r.delta.seen >= r.delta.sampled + LIVE_PARENT_PAGES,
		 "%s: seen %llu, sampled %llu: the parent's %d faults were not seen", s->name,
		 (unsigned long long)r.delta.seen, (unsigned long long)r.delta.sampled,
		 LIVE_PARENT_PAGES);

	printf(" round 2: period 8, set at runtime\n");
	ret = s->set_period(src, &opts, 8);
	hp_check(!ret, "%s: setting period 8: %s", s->name, strerror(-ret));
	if (s->id == HP_SRC_PERF) {
		const char *how = hp_perf_source_how(src);

		printf("%s: %s\n", s->name, how);
		hp_check(strstr(how, ", 1 in 8,") && !strstr(how, "default"),
			 "%s: after setting period 8 it still says \"%s\"", s->name, how);
	}
	r = live_round(s, transport, src, &child, &events);
	live_check_rate(s, &r, 8);

	printf(" round 3: period 4 in hp_cpu_state\n");
	if (s->id == HP_SRC_PERF) {
		ret = hp_perf_source_set_period(src, 1);
		hp_check(!ret, "%s: setting the event's period back to 1: %s", s->name,
			 strerror(-ret));
	}
	ret = live_config_period(src, s->ops, &opts, 4);
	hp_check(!ret, "%s: writing hp_cpu_state: %s", s->name, strerror(-ret));
	r = live_round(s, transport, src, &child, &events);
	live_check_rate(s, &r, 4);

	s->ops->stop(src);
	hp_transport_free(transport);
	hp_child_stop(&child);
	hp_collector_free(&events);
	return 0;
}

int hp_sources_live_main(void)
{
	static const struct live_source sources[] = {
		{ "fault", HP_SRC_FAULT, &hp_source_fault, live_start_fault, live_period_fault },
		{ "perf", HP_SRC_PERF, &hp_source_perf, live_start_perf, live_period_perf },
	};
	int passed = 0;

	hp_require_root();
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (live_source_check(&sources[i]) == 0)
			passed++;
	if (!passed)
		hp_skip("neither fault nor perf can run here (see above)");
	printf("%d of %zu sources checked\n", passed, sizeof(sources) / sizeof(sources[0]));
	return 0;
}
