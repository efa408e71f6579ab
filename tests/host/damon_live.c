// SPDX-License-Identifier: GPL-2.0
/*
 * The `damon` source live on the host. Where DAMON is free: a vaddr
 * context on a child touching a buffer, then a paddr context, each leaving
 * no kdamond behind. Where another user's kdamond holds DAMON (as on
 * machines whose platform runs one): the probe must name that kdamond,
 * starting a context must be refused without touching sysfs, and
 * observing that kdamond (kdamond=N) must yield its regions, again
 * without touching it. Where the kernel lacks DAMON: the probe must say
 * so, and the kernel's config must agree.
 */
#include <sys/utsname.h>

#include "hp_damon_live.h"

/* Why the last start of a source failed. */
static char start_err[512];

#define NO_DAMON_WHY                                                                               \
	"damon: kernel without DAMON (no /sys/kernel/mm/damon/admin, no damon:damon_aggregated tracepoint: CONFIG_DAMON off)"

static void scan_or_fail(struct hp_damon_scan *s)
{
	char err[256];

	hp_check(!hp_damon_scan(HP_DAMON_ADMIN, s, err, sizeof(err)), "%s", err);
}

/* The same kdamonds, in the same states, as before. */
static void check_untouched(const struct hp_damon_scan *a, const char *when)
{
	struct hp_damon_scan b;

	scan_or_fail(&b);
	hp_check(a->nr_kdamonds == b.nr_kdamonds, "%s: nr_kdamonds %u -> %u", when, a->nr_kdamonds,
		 b.nr_kdamonds);
	for (unsigned int i = 0; i < a->nr_kdamonds && i < HP_DAMON_SCAN_MAX; i++)
		hp_check(a->kd[i].on == b.kd[i].on && a->kd[i].pid == b.kd[i].pid &&
				 !strcmp(a->kd[i].ops, b.kd[i].ops) &&
				 a->kd[i].nr_targets == b.kd[i].nr_targets &&
				 a->kd[i].tagged == b.kd[i].tagged,
			 "%s: kdamond %u changed (on %d->%d, pid %d->%d, ops %s->%s)", when, i,
			 a->kd[i].on, b.kd[i].on, a->kd[i].pid, b.kd[i].pid, a->kd[i].ops,
			 b.kd[i].ops);
}

/* Config of the running kernel: 1 DAMON sysfs built, 0 not, -1 no config to read. */
static int config_has_damon(void)
{
	char path[128], line[256];
	struct utsname u;
	int found = 0;
	FILE *f;

	if (uname(&u))
		return -1;
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "CONFIG_DAMON_SYSFS=y\n"))
			found = 1;
	fclose(f);
	return found;
}

struct observed {
	__u64 aggregations;
};

static bool two_aggregations(const struct hp_dl_records *r, void *ctx)
{
	struct observed *o = ctx;

	o->aggregations = r->nr ? 1 : 0;
	for (size_t i = 1; i < r->nr; i++)
		if (r->ev[i].addr <= r->ev[i - 1].addr)
			o->aggregations++;
	/* The first may be partial: wait for two complete ones after it. */
	return o->aggregations >= 3;
}

static __u64 kdamond_u64(unsigned int index, const char *rel)
{
	char path[256], text[64];
	__u64 v = 0;
	FILE *f;

	snprintf(path, sizeof(path), HP_DAMON_ADMIN "/kdamonds/%u/%s", index, rel);
	f = fopen(path, "r");
	if (f && fgets(text, sizeof(text), f))
		hp_damon_parse_u64(text, &v);
	if (f)
		fclose(f);
	return v;
}

/* DAMON is another user's: refused without a trace, and observable. */
static void busy(const struct hp_source_probe *probe, const struct hp_damon_scan *before)
{
	const struct hp_damon_kdamond *kd = NULL;
	struct hp_dl_child c = hp_dl_start_child(-1);
	__u32 tgid = (__u32)c.pid;
	struct hp_source_opts opts = { .filter_mode = HP_FILTER_TGIDS,
				       .tgids = &tgid,
				       .nr_tgids = 1 };
	struct hp_source_instance *src = NULL;
	struct hp_source_stats stats;
	struct observed o = { 0 };
	struct hp_dl_records r;
	__u64 aggr_us, sample_us;
	char want[256], param[32];
	bool paddr;
	int ret;

	for (unsigned int i = 0; i < before->nr_kdamonds && i < HP_DAMON_SCAN_MAX && !kd; i++)
		if (!before->kd[i].tagged)
			kd = &before->kd[i];
	hp_check(kd, "probe says busy, but sysfs shows no other user's kdamond: %s", probe->why);
	if (kd->on)
		snprintf(
			want, sizeof(want),
			"damon: DAMON busy: kdamond %u (pid %d, %s) is running and is not hotpage's; DAMON's sysfs adds a kdamond only while none runs (hotpage can observe it: damon kdamond=%u)",
			kd->index, kd->pid, kd->ops, kd->index);
	else
		snprintf(
			want, sizeof(want),
			"damon: DAMON busy: kdamond %u (off, %s) is configured and is not hotpage's; adding a kdamond rewrites every kdamond directory and would lose that configuration",
			kd->index, kd->ops);
	hp_check(!strcmp(probe->why, want), "probe: '%s', expected '%s'", probe->why, want);

	ret = hp_source_damon.start(NULL, &opts, &src, start_err, sizeof(start_err));
	hp_check(ret == -EBUSY && !src && start_err[0],
		 "starting a vaddr context next to kdamond %u returned %d, reason '%s'", kd->index,
		 ret, start_err);
	check_untouched(before, "after the refused start");
	hp_dl_stop_child(&c);
	if (!kd->on) {
		printf("pass: DAMON held by kdamond %u (off): refused, nothing written\n",
		       kd->index);
		return;
	}

	aggr_us = kdamond_u64(kd->index, "contexts/0/monitoring_attrs/intervals/aggr_us");
	sample_us = kdamond_u64(kd->index, "contexts/0/monitoring_attrs/intervals/sample_us");
	hp_check(aggr_us && sample_us, "kdamond %u: no intervals", kd->index);
	if (aggr_us > 15000000)
		hp_skip("kdamond %u aggregates every %.0f s: too slow to observe here", kd->index,
			(double)aggr_us / 1e6);
	paddr = !strcmp(kd->ops, "paddr");
	snprintf(param, sizeof(param), "kdamond=%u", kd->index);
	opts = (struct hp_source_opts){ .param = param };
	printf("observing kdamond %u (pid %d, %s, aggregation %.1f s, sampling %.1f ms):\n",
	       kd->index, kd->pid, kd->ops, (double)aggr_us / 1e6, (double)sample_us / 1e3);
	r = hp_dl_run(&opts, 3.0 * (double)aggr_us / 1e6 + 5, two_aggregations, &o, NULL, &stats);
	check_untouched(before, "after observing");
	hp_check(o.aggregations >= 3, "%llu aggregations observed in %.0f s",
		 (unsigned long long)o.aggregations, 3.0 * (double)aggr_us / 1e6 + 5);
	for (size_t i = 0; i < r.nr; i++) {
		const struct hp_event *ev = &r.ev[i];

		hp_check(ev->source == HP_SRC_DAMON && ev->version == HP_EVENT_VERSION,
			 "record %zu: source %u", i, ev->source);
		hp_check(ev->flags == (HP_EV_REGION | (paddr ? HP_EV_PHYS : 0)),
			 "record %zu: flags %#x", i, ev->flags);
		hp_check(!paddr || ev->tgid == 0, "record %zu: tgid %u for paddr", i, ev->tgid);
		hp_check(ev->end > ev->addr, "record %zu: region %#llx-%#llx", i,
			 (unsigned long long)ev->addr, (unsigned long long)ev->end);
		hp_check(ev->nr_accesses <= aggr_us / sample_us,
			 "record %zu: nr_accesses %u > %llu samples per aggregation", i,
			 ev->nr_accesses, (unsigned long long)(aggr_us / sample_us));
	}
	hp_check(r.nr >= stats.emitted && !stats.dropped && !stats.errors,
		 "emitted %llu received %zu dropped %llu errors %llu",
		 (unsigned long long)stats.emitted, r.nr, (unsigned long long)stats.dropped,
		 (unsigned long long)stats.errors);
	printf("pass: DAMON held by kdamond %u (pid %d): start refused with nothing written; observed %zu regions in %llu aggregations, kdamond untouched (managed contexts: see the guest test)\n",
	       kd->index, kd->pid, r.nr, (unsigned long long)o.aggregations);
	free(r.ev);
}

/* At exit, also after a failed check: hotpage kdamonds of this process go (never others'). */
static void cleanup(void)
{
	char err[256];

	if (hp_damon_reclaim_stale(HP_DAMON_ADMIN, err, sizeof(err)) < 0 &&
	    !strstr(err, "DAMON busy"))
		printf("cleanup: %s\n", err);
}

int main(void)
{
	struct hp_source_probe probe;
	struct hp_damon_facts facts;
	struct hp_damon_scan before;
	int config;

	hp_require_root();
	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_damon_gather(&facts);
	hp_damon_decide(&facts, &probe);
	printf("probe: available %d, how '%s', why '%s'\n", probe.available, probe.how, probe.why);

	if (!facts.sysfs && !facts.tp_btf && !facts.tp_tracefs) {
		config = config_has_damon();
		if (config < 0)
			hp_skip("%s; no /boot/config to confirm it", probe.why);
		hp_check(!config, "the kernel's config has CONFIG_DAMON_SYSFS=y, but: %s",
			 probe.why);
		hp_check(!strcmp(probe.why, NO_DAMON_WHY), "probe: '%s'", probe.why);
		printf("pass: kernel built without DAMON, and the probe says so\n");
		return 0;
	}
	hp_check(facts.sysfs, "%s", probe.why);
	scan_or_fail(&before);
	if (probe.available) {
		atexit(cleanup);
		hp_damon_live_vaddr();
		hp_damon_live_paddr(-1);
		check_untouched(&before, "after the runs");
		printf("pass: damon vaddr and paddr records, no kdamond left behind\n");
		return 0;
	}
	hp_check(facts.admin_err == -EBUSY, "damon unavailable: %s", probe.why);
	busy(&probe, &before);
	return 0;
}
