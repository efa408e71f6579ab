// SPDX-License-Identifier: GPL-2.0
/*
 * hotpaged's side of hotpagectl (control.h): status, sources, attach,
 * detach, policy, top, stats and metrics, served by the event loop
 * between rounds (daemon.c).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_internal.h"
#include "kmigrated.h"
#include "promote_kmigrated.h"
#include "scan_source.h"

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
	char param[64], err[512] = "";
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
	if (hp_daemon_source_param(d, ops, param, sizeof(param)))
		sopts.param = param;
	rs = &d->src[d->nr_src];
	ret = ops->start(d->transport, &sopts, &rs->inst, err, sizeof(err));
	if (ret) {
		say("attaching source %s: %s", ops->name, err[0] ? err : strerror(-ret));
		hp_ctl_printf(out, "starting source %s: %s", ops->name,
			      err[0] ? err : strerror(-ret));
		return ret;
	}
	rs->ops = ops;
	rs->period = period;
	d->nr_src++;
	/* The probe's how names the default period; say the one asked for. */
	if (period) {
		say("source %s attached at 1 in %u: %s", ops->name, period, probe.how);
		hp_ctl_printf(out, "attached %s at 1 in %u (%s)\n", ops->name, period, probe.how);
	} else {
		say("source %s attached: %s", ops->name, probe.how);
		hp_ctl_printf(out, "attached %s (%s)\n", ops->name, probe.how);
	}
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
	/* The scanner makes one pass per window, and looks at the top tier as min_idle needs. */
	if (next.window_ms != d->policy.window_ms && find_running(d, "scan"))
		hp_scan_source_set_period(next.window_ms);
	if (next.min_idle != d->policy.min_idle && find_running(d, "scan"))
		hp_scan_source_set_top_every(hp_daemon_scan_top_every(next.min_idle));
	d->policy = next;
	say("policy set by hotpagectl");
	return policy_show(d, out);
}

static int cmd_policy_show_named(struct daemon *d, const char *name, struct hp_ctl_out *out)
{
	const struct hp_named_policy *p = hp_policies_find(&d->policies, name);
	char buf[4096];

	if (!p) {
		hp_ctl_printf(out, "no policy '%.64s' is attached (policy list shows them)", name);
		return -ENOENT;
	}
	hp_daemon_policies_measure(d, false);
	hp_named_policy_show(p, buf, sizeof(buf));
	hp_ctl_printf(out,
		      "%spromoted_pages: %llu\ndemoted_pages: %llu\nheld_pages: %llu\n"
		      "fast_bytes: %llu\n",
		      buf, (unsigned long long)p->promoted, (unsigned long long)p->demoted,
		      (unsigned long long)hp_named_policy_held(p),
		      (unsigned long long)(p->fast_pages * (__u64)d->page_size));
	if (p->has_share)
		hp_ctl_printf(
			out, "share_bytes: %llu\n",
			(unsigned long long)hp_named_policy_share(p, hp_daemon_fast_bytes(d)));
	if (p->bpf[0])
		hp_ctl_printf(out, "program: %s%s\nprogram_runs: %llu\nprogram_cpu_us: %llu\n",
			      p->prog ? "attached" : "detached: ", p->prog ? "" : p->prog_detached,
			      (unsigned long long)p->prog_runs,
			      (unsigned long long)(p->prog_cpu_ns / 1000));
	return 0;
}

static int cmd_policy_attach(struct daemon *d, int argc, const char *const *argv,
			     struct hp_ctl_out *out)
{
	char err[512] = "";
	int ret;

	ret = hp_policies_attach(&d->policies, argv[2], argv + 3, (size_t)argc - 3, err,
				 sizeof(err));
	if (!ret) {
		ret = hp_daemon_policy_load(&d->policies.p[d->policies.n - 1], err, sizeof(err));
		if (ret)
			hp_policies_detach(&d->policies, argv[2], NULL, 0);
	}
	if (ret) {
		hp_ctl_printf(out, "%s", err);
		return ret;
	}
	hp_daemon_policies_changed(d);
	say("policy %s attached by hotpagectl", argv[2]);
	return cmd_policy_show_named(d, argv[2], out);
}

static int cmd_policy_detach(struct daemon *d, const char *name, struct hp_ctl_out *out)
{
	char err[512] = "";
	int ret;

	for (size_t i = 0; i < d->policies.n; i++)
		if (!strcmp(d->policies.p[i].name, name))
			hp_daemon_policy_unload(&d->policies.p[i]);
	ret = hp_policies_detach(&d->policies, name, err, sizeof(err));

	if (ret) {
		hp_ctl_printf(out, "%s", err);
		return ret;
	}
	hp_daemon_policies_changed(d);
	say("policy %s detached by hotpagectl%s", name,
	    d->policies.n ? "" : ": no policy is attached, no page moves");
	hp_ctl_printf(out, "detached %s\n", name);
	return 0;
}

/* Resident pages of @tgid (statm's second field), 0 when gone. */
static __u64 resident_pages(__u32 tgid)
{
	char path[64];
	unsigned long long size, rss = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/statm", tgid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss;
}

/*
 * The policies, one a line, and what none of them covers: processes
 * with resident memory whose pages hotpaged leaves where they are.
 */
static int cmd_policy_list(struct daemon *d, struct hp_ctl_out *out)
{
	__u64 uncovered_pages = 0, uncovered_procs = 0;
	struct dirent *e;
	DIR *dir;

	hp_daemon_policies_measure(d, false);
	hp_ctl_printf(out, "%-20s %-32s %-7s %-6s %-8s %10s %12s %12s %12s\n", "NAME", "SCOPE",
		      "PROMOTE", "DEMOTE", "SHARE", "FAST_MIB", "PROMOTED", "DEMOTED", "HELD");
	for (size_t i = 0; i < d->policies.n; i++) {
		const struct hp_named_policy *p = &d->policies.p[i];
		char scope[HP_POLICY_TGIDS_MAX * 11 + 16], share[32];

		hp_policy_show_scope(&p->scope, scope, sizeof(scope));
		if (strlen(scope) > 32)
			snprintf(scope + 29, sizeof(scope) - 29, "...");
		hp_named_policy_show_share(p, share, sizeof(share));
		hp_ctl_printf(out, "%-20s %-32s %-7s %-6s %-8s %10.1f %12llu %12llu %12llu\n",
			      p->name, scope, p->promote ? "on" : "off", p->demote ? "on" : "off",
			      share, (double)p->fast_pages * (double)d->page_size / (1 << 20),
			      (unsigned long long)p->promoted, (unsigned long long)p->demoted,
			      (unsigned long long)hp_named_policy_held(p));
	}
	dir = opendir("/proc");
	if (!dir)
		return 0;
	while ((e = readdir(dir))) {
		char *end;
		unsigned long v = strtoul(e->d_name, &end, 10);
		__u64 rss;

		if (*end || !v || v > UINT32_MAX)
			continue;
		rss = resident_pages((__u32)v);
		if (!rss || ((d->policy.scope == HP_SCOPE_ALL ||
			      hp_policy_scope_admits(&d->policy, (__u32)v, "/proc")) &&
			     hp_daemon_policy_of(d, (__u32)v)))
			continue;
		uncovered_procs++;
		uncovered_pages += rss;
	}
	closedir(dir);
	hp_ctl_printf(out,
		      "not covered: %llu processes, %.1f MiB resident: hotpaged leaves their "
		      "pages where they are\n",
		      (unsigned long long)uncovered_procs,
		      (double)uncovered_pages * (double)d->page_size / (1 << 20));
	return 0;
}

static bool module_loaded(void)
{
	return access(KMIGRATED_SYSFS_DIR, F_OK) == 0;
}

static __u64 uptime_s(const struct daemon *d)
{
	return (hp_monotonic_ns() - d->start_ns) / 1000000000ULL;
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
		      module_loaded() ? "loaded (" KMIGRATED_SYSFS_DIR ")" : "not loaded");
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
	__u64 now = hp_monotonic_ns();
	size_t n;

	hp_daemon_flush_events(d);
	if (want > CANDIDATES_MAX)
		want = CANDIDATES_MAX;
	/* d->cand is scratch between rounds. */
	n = hp_daemon_hottest(d, want);
	hp_ctl_printf(out, "%14s %4s %4s %9s %8s  %s\n", "PFN", "NODE", "HEAT", "AGE_MS", "TGID",
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
		hp_ctl_printf(out, "%#14llx %4d %4u %9llu %8u  %s\n", (unsigned long long)p->pfn,
			      p->page_node, p->heat,
			      (unsigned long long)((now - p->last_seen_ns) / 1000000ULL), p->tgid,
			      comm);
	}
	return 0;
}

/*
 * stats and metrics: one list of counters and gauges, shown as text,
 * JSON or Prometheus exposition.
 */
enum stat_section { SEC_DAEMON, SEC_SOURCE, SEC_POLICY, SEC_NODE, SEC_MODULE, SEC_HOST, SEC_NR };

static const char *const section_name[SEC_NR] = { "daemon", "source", "policy",
						  "node",   "module", "host" };
static const char *const section_json[SEC_NR] = { "daemon", "sources", "policies",
						  "nodes",  "module",  "host" };

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

#define STAT_ITEMS_MAX 2048 /* 16 policies with every reason, and the rest */

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
	return !hp_kmigrated_read_u64(name, value);
}

static const char *const module_counters[] = {
#define MODULE_COUNTER_NAME(id, name) #name,
	KMIGRATED_STATS(MODULE_COUNTER_NAME)
#undef MODULE_COUNTER_NAME
};

/* One direction's outcome counters, one metric with an outcome label. */
static void add_outcomes(struct stat_list *l, const char *dir, const struct direction *dn)
{
	for (int o = 0; o < HP_PROMOTE_NR_OUTCOMES; o++) {
		const char *name = hp_promote_outcome_name((enum hp_promote_outcome)o);
		char key[40];

		snprintf(key, sizeof(key), "%s_%s", dir, name);
		stat_add(l, SEC_DAEMON, "", key, true, "Requests by outcome.", dn->res.count[o]);
		if (l->n) {
			l->item[l->n - 1].metric_key = dir[0] == 'p' ? "promote_requests_by_outcome"
								     : "demote_requests_by_outcome";
			l->item[l->n - 1].metric_label_key = "outcome";
			l->item[l->n - 1].metric_label = name;
		}
	}
}

/* A /proc/vmstat counter; false when the kernel has none of that name. */
static bool read_vmstat(const char *name, __u64 *value)
{
	char line[128], key[64];
	unsigned long long v;
	bool found = false;
	FILE *f = fopen("/proc/vmstat", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %llu", key, &v) == 2 && !strcmp(key, name)) {
			*value = v;
			found = true;
		}
	fclose(f);
	return found;
}

/*
 * Bytes DAMOS schemes applied their action to, all kdamonds: DAMON's part
 * of the host's page movement (migrate_hot, migrate_cold, ...). The stats
 * files are refreshed by writing "update_schemes_stats" to a running
 * kdamond's state, which changes nothing else.
 */
static bool damon_applied_bytes(__u64 *bytes)
{
	const char *root = "/sys/kernel/mm/damon/admin/kdamonds";
	bool any = false;

	*bytes = 0;
	for (int k = 0; k < 64; k++) {
		char path[256], buf[32];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%d/state", root, k);
		f = fopen(path, "r+e");
		if (!f)
			break;
		if (fgets(buf, sizeof(buf), f) && !strncmp(buf, "on", 2)) {
			rewind(f);
			fputs("update_schemes_stats", f);
		}
		fclose(f);
		for (int c = 0; c < 8; c++) {
			for (int sc = 0; sc < 16; sc++) {
				unsigned long long v;

				snprintf(path, sizeof(path),
					 "%s/%d/contexts/%d/schemes/%d/stats/sz_applied", root, k,
					 c, sc);
				f = fopen(path, "re");
				if (!f)
					break;
				if (fgets(buf, sizeof(buf), f) && sscanf(buf, "%llu", &v) == 1) {
					*bytes += v;
					any = true;
				}
				fclose(f);
			}
		}
	}
	return any;
}

/* All the page movement of the host in one place: hotpage's, the kernel's, DAMON's. */
static void collect_host(struct daemon *d, struct stat_list *l)
{
	static const struct {
		const char *vmstat, *help;
	} kernel[] = {
		{ "pgpromote_success", "Pages NUMA balancing promoted to the top tier (kernel)." },
		{ "pgdemote_kswapd", "Pages kswapd demoted to a lower tier (kernel)." },
		{ "pgdemote_direct", "Pages direct reclaim demoted (kernel)." },
		{ "pgdemote_khugepaged", "Pages khugepaged demoted (kernel)." },
		{ "pgdemote_proactive", "Pages proactive reclaim demoted (kernel)." },
		{ "numa_pages_migrated", "Pages NUMA balancing migrated (kernel)." },
		{ "pgmigrate_success",
		  "Pages migrated by anyone: kernel, hotpage, DAMON (kernel)." },
	};
	__u64 v;

	stat_add(l, SEC_HOST, "", "hotpage_promoted_pages", true,
		 "Base pages hotpaged promoted (moved, or queued in kmigrated).", d->promote.pages);
	stat_add(l, SEC_HOST, "", "hotpage_demoted_pages", true,
		 "Base pages hotpaged demoted to make room.", d->demote.pages);
	for (size_t i = 0; i < sizeof(kernel) / sizeof(kernel[0]); i++) {
		char key[40];

		if (!read_vmstat(kernel[i].vmstat, &v))
			continue;
		snprintf(key, sizeof(key), "kernel_%s", kernel[i].vmstat);
		stat_add(l, SEC_HOST, "", key, true, kernel[i].help, v);
	}
	if (damon_applied_bytes(&v))
		stat_add(l, SEC_HOST, "", "damon_applied_bytes", true,
			 "Bytes DAMOS schemes (any kdamond) applied their actions to.", v);
}

#define HP_PHASE_KEY(id, name, help) "cpu_" #name "_us",
static const char *const phase_key[HP_PHASE_NR] = { HP_PHASES(HP_PHASE_KEY) };
#undef HP_PHASE_KEY
#define HP_PHASE_HELP(id, name, help) "Microseconds of hotpaged's CPU time: " help ".",
static const char *const phase_help[HP_PHASE_NR] = { HP_PHASES(HP_PHASE_HELP) };
#undef HP_PHASE_HELP

static void collect_daemon(struct daemon *d, struct stat_list *l)
{
	struct hp_heat_stats hs;
	struct hp_hotset_stats cs, ts;
	struct hp_census_stats ns;
	struct hp_moved_stats ms;
	struct hp_transport_stats tr;
	struct hp_ctl_server_stats ctl;

	hp_heat_get_stats(d->heat, &hs);
	hp_hotset_get_stats(d->cand_set, &cs);
	hp_hotset_get_stats(d->top_set, &ts);
	hp_census_get_stats(d->census, &ns);
	hp_moved_get_stats(d->moved, &ms);
	hp_transport_read_stats(d->transport, &tr);
	hp_ctl_server_stats(d->ctl, &ctl);
	stat_add(l, SEC_DAEMON, "", "uptime_seconds", false, "Seconds since hotpaged started.",
		 uptime_s(d));
	for (int p = 0; p < HP_PHASE_NR; p++)
		stat_add(l, SEC_DAEMON, "", phase_key[p], true, phase_help[p], d->cpu_ns[p] / 1000);
	stat_add(l, SEC_DAEMON, "", "events", true, "Events read from the source rings.",
		 d->events_total);
	stat_add(l, SEC_DAEMON, "", "events_staged", true,
		 "Events of those taken from the stages of CPUs that went quiet, not from a ring.",
		 tr.taken);
	stat_add(l, SEC_DAEMON, "", "events_resolved", true,
		 "Events whose page frame was resolved from pagemap.", d->resolved);
	stat_add(l, SEC_DAEMON, "", "events_not_heat", true,
		 "Events that are not accesses (allocation faults).", d->events_not_heat);
	stat_add(l, SEC_DAEMON, "", "events_no_pfn", true,
		 "Events whose page frame is unknown and could not be resolved.", d->events_no_pfn);
	stat_add(l, SEC_DAEMON, "", "events_bad", true, "Ring records refused (size or version).",
		 tr.bad_size + tr.bad_version);
	stat_add(l, SEC_DAEMON, "", "rounds", true, "Rounds run (one per window).", d->rounds);
	stat_add(l, SEC_DAEMON, "", "candidates", true,
		 "Hot pages below the top tier considered, summed over rounds.", d->candidates);
	stat_add(l, SEC_DAEMON, "", "promote_requests", true,
		 "Pages handed to the backend to promote.", d->promote.requests);
	stat_add(l, SEC_DAEMON, "", "promoted_pages", true,
		 "Base pages promoted (moved, or queued in kmigrated and found moved).",
		 d->promote.pages);
	stat_add(l, SEC_DAEMON, "", "demote_requests", true,
		 "Pages handed to the backend to demote, to make room.", d->demote.requests);
	stat_add(l, SEC_DAEMON, "", "demoted_pages", true,
		 "Base pages demoted (moved, or queued in kmigrated and found moved).",
		 d->demote.pages);
	stat_add(
		l, SEC_DAEMON, "", "pending_moves", false,
		"Moves handed to kmigrated that hotpaged has not checked yet (they count once checked).",
		d->npending);
	stat_add(l, SEC_DAEMON, "", "promote_not_moved", true,
		 "Base pages kmigrated took to promote and that were still in place after.",
		 d->promote.not_moved);
	stat_add(l, SEC_DAEMON, "", "demote_not_moved", true,
		 "Base pages kmigrated took to demote and that were still in place after.",
		 d->demote.not_moved);
	add_outcomes(l, "promote", &d->promote);
	add_outcomes(l, "demote", &d->demote);
	for (int r = 0; r < HP_HOLD_NR; r++) {
		char key[40];

		snprintf(key, sizeof(key), "held_%s", hp_hold_name((enum hp_hold)r));
		stat_add(l, SEC_DAEMON, "", key, true, "Base pages held back, by reason.",
			 d->held[r]);
		if (l->n) {
			l->item[l->n - 1].metric_key = "held_pages";
			l->item[l->n - 1].metric_label_key = "reason";
			l->item[l->n - 1].metric_label = hp_hold_name((enum hp_hold)r);
		}
	}
	stat_add(l, SEC_DAEMON, "", "heat_table_pages", false,
		 "Pages of memory the heat table covers.", hs.pages);
	stat_add(l, SEC_DAEMON, "", "heat_table_bytes", false, "Bytes of the heat table.",
		 hs.bytes);
	stat_add(l, SEC_DAEMON, "", "heat_touches", true, "Page credits to the heat table.",
		 hs.touches);
	stat_add(l, SEC_DAEMON, "", "heat_outside", true,
		 "Credits to page frames outside the memory the table covers.", hs.outside);
	stat_add(l, SEC_DAEMON, "", "candidate_pages", false,
		 "Hot pages below the top tier held now.", cs.pages);
	stat_add(l, SEC_DAEMON, "", "candidate_set_full", true,
		 "Hot pages below the top tier not held: the set was full.", cs.full);
	stat_add(l, SEC_DAEMON, "", "top_hot_pages", false, "Hot pages of the top tier held now.",
		 ts.pages);
	stat_add(l, SEC_DAEMON, "", "census_pages_read", true,
		 "Pages the census read from pagemap, looking for room.", ns.pages_read);
	stat_add(l, SEC_DAEMON, "", "census_idle_found", true,
		 "Idle pages on the nodes that needed room, found by the census.", ns.found);
	stat_add(l, SEC_DAEMON, "", "census_skipped_shared", true,
		 "Idle pages the census left out: mapped more than once, which move_pages(2) "
		 "does not move.",
		 ns.skipped_shared);
	stat_add(l, SEC_DAEMON, "", "census_skipped_unevictable", true,
		 "Idle pages left out: mlocked or unevictable.", ns.skipped_unevictable);
	stat_add(l, SEC_DAEMON, "", "census_skipped_moved", true,
		 "Idle pages passed over: moved within pingpong_ms.", ns.skipped_moved);
	stat_add(l, SEC_DAEMON, "", "guard_forgotten_early", true,
		 "Moves the ping-pong guard forgot for room while still guarded.",
		 ms.forgotten_early);
	stat_add(l, SEC_DAEMON, "", "hot_set_pages", false, "Pages in the published hot set.",
		 hp_hot_map_entries(d->hot_map));
	stat_add(l, SEC_DAEMON, "", "control_requests", true, "Control socket requests.",
		 ctl.requests);
	stat_add(l, SEC_DAEMON, "", "control_errors", true,
		 "Control socket requests answered with an error.", ctl.errors);
	stat_add(l, SEC_DAEMON, "", "control_refused", true,
		 "Control socket clients refused (not root).", ctl.refused);
	stat_add(l, SEC_DAEMON, "", "policy_rate_mbps", false,
		 "Rate limit of both directions in MiB/s (0: paused).", d->policy.rate_mbps);
}

static void collect_sources(struct daemon *d, struct stat_list *l)
{
	for (size_t i = 0; i < d->nr_src; i++) {
		struct hp_source_stats st;
		const char *name = d->src[i].ops->name;

		if (hp_source_read_stats(d->src[i].ops->object(d->src[i].inst), &st))
			continue;
		stat_add(l, SEC_SOURCE, name, "seen", true, "Source hook invocations.", st.seen);
		stat_add(l, SEC_SOURCE, name, "sampled", true,
			 "Invocations that passed the filter and sampling.", st.sampled);
		stat_add(l, SEC_SOURCE, name, "emitted", true,
			 "Records handed to the daemon (through the rings or staged).", st.emitted);
		stat_add(l, SEC_SOURCE, name, "dropped", true, "Records lost to full rings.",
			 st.dropped);
		stat_add(l, SEC_SOURCE, name, "errors", true, "Records lost for other reasons.",
			 st.errors);
		stat_add(l, SEC_SOURCE, name, "sample_period", false,
			 "Sampling period set (1 in N; 0: the source's default).",
			 d->src[i].period);
	}
}

static void collect_nodes(struct daemon *d, struct stat_list *l)
{
	__u64 hot_on_node[HP_TOPO_MAX_NODES] = { 0 };
	size_t hot = hp_daemon_hottest(d, d->opts->top);

	for (size_t i = 0; i < hot; i++)
		if (d->cand[i].page_node >= 0 && d->cand[i].page_node < HP_TOPO_MAX_NODES)
			hot_on_node[d->cand[i].page_node] += d->cand[i].npages;
	for (int node = 0; node < HP_TOPO_MAX_NODES; node++) {
		__u64 free_b, total_b, headroom;
		__s64 room;
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
		if (hp_topology_is_top_tier(&d->topo, node) &&
		    !hp_policy_room(&d->policy, &d->topo, node, &room, &headroom))
			stat_add(l, SEC_NODE, label, "headroom_bytes", false,
				 "Free memory the node keeps (policy headroom).", headroom);
		stat_add(l, SEC_NODE, label, "top_tier", false,
			 "1 when the node is in the top tier.",
			 hp_topology_is_top_tier(&d->topo, node));
		stat_add(l, SEC_NODE, label, "hot_pages", false,
			 "Base pages of the hot set (top=) on the node.", hot_on_node[node]);
	}
}

static void collect_module(struct stat_list *l)
{
	__u64 v;

	stat_add(l, SEC_MODULE, "", "loaded", false, "1 when kmigrated.ko is loaded.",
		 module_loaded());
	for (size_t i = 0; i < sizeof(module_counters) / sizeof(module_counters[0]); i++)
		if (read_module_u64(module_counters[i], &v))
			stat_add(l, SEC_MODULE, "", module_counters[i], true,
				 "kmigrated counter (" KMIGRATED_SYSFS_DIR ").", v);
	if (read_module_u64("queued", &v))
		stat_add(l, SEC_MODULE, "", "queued", false, "Pages in kmigrated's queues now.", v);
}

static void collect_policies(struct daemon *d, struct stat_list *l)
{
	__u64 fast_bytes = hp_daemon_fast_bytes(d);

	hp_daemon_policies_measure(d, false);
	for (size_t i = 0; i < d->policies.n; i++) {
		const struct hp_named_policy *p = &d->policies.p[i];

		stat_add(l, SEC_POLICY, p->name, "promoted_pages", true,
			 "Base pages of the policy's scope promoted.", p->promoted);
		stat_add(l, SEC_POLICY, p->name, "demoted_pages", true,
			 "Base pages of the policy's scope demoted.", p->demoted);
		stat_add(
			l, SEC_POLICY, p->name, "held_pages", true,
			"Hot pages of the policy's scope held back, all reasons, summed over rounds.",
			hp_named_policy_held(p));
		for (int r = 0; r < HP_HOLD_NR; r++) {
			char key[40];

			snprintf(key, sizeof(key), "held_%s", hp_hold_name((enum hp_hold)r));
			stat_add(l, SEC_POLICY, p->name, key, true,
				 "Hot pages of the policy's scope held back, by reason.",
				 p->held[r]);
			if (l->n) {
				l->item[l->n - 1].metric_key = "held_pages_by_reason";
				l->item[l->n - 1].metric_label_key = "reason";
				l->item[l->n - 1].metric_label = hp_hold_name((enum hp_hold)r);
			}
		}
		stat_add(l, SEC_POLICY, p->name, "fast_bytes", false,
			 "Memory of the policy's scope on the fast tier now.",
			 p->fast_pages * (__u64)d->page_size);
		if (p->has_share)
			stat_add(l, SEC_POLICY, p->name, "share_bytes", false,
				 "The policy's share of the fast tier.",
				 hp_named_policy_share(p, fast_bytes));
		stat_add(l, SEC_POLICY, p->name, "program_runs", true,
			 "Batches the policy's BPF program scored.", p->prog_runs);
		stat_add(l, SEC_POLICY, p->name, "program_cpu_us", true,
			 "CPU time of the policy's BPF program's runs, in microseconds.",
			 p->prog_cpu_ns / 1000);
	}
}

static void collect_stats(struct daemon *d, struct stat_list *l)
{
	hp_daemon_flush_events(d);
	collect_daemon(d, l);
	collect_sources(d, l);
	collect_policies(d, l);
	collect_nodes(d, l);
	collect_module(l);
	collect_host(d, l);
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
	static const char *const label_key[SEC_NR] = {
		NULL, "source", "policy", "node", NULL, NULL
	};
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
			/* The section's label (policy="db"), then the metric's own (reason="..."). */
			if (label_key[it->section]) {
				hp_ctl_printf(out, "{%s=\"", label_key[it->section]);
				prom_label(out, it->label);
				hp_ctl_printf(out, "\"%s", it->metric_label_key ? "," : "}");
			}
			if (it->metric_label_key) {
				hp_ctl_printf(out, "%s%s=\"", label_key[it->section] ? "" : "{",
					      it->metric_label_key);
				prom_label(out, it->metric_label);
				hp_ctl_printf(out, "\"}");
			}
			hp_ctl_printf(out, " %llu\n", (unsigned long long)it->value);
		}
	}
}

int hp_daemon_control_handle(void *ctx, int argc, const char *const *argv, struct hp_ctl_out *out)
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
		return argc == 3 ? cmd_policy_show_named(d, argv[2], out) : policy_show(d, out);
	if (!strcmp(cmd, "policy") && !strcmp(argv[1], "list"))
		return cmd_policy_list(d, out);
	if (!strcmp(cmd, "policy") && !strcmp(argv[1], "attach"))
		return cmd_policy_attach(d, argc, argv, out);
	if (!strcmp(cmd, "policy") && !strcmp(argv[1], "detach"))
		return cmd_policy_detach(d, argv[2], out);
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
