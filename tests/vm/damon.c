// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test: the `damon` source on a kernel with DAMON (Debian 6.12,
 * 7.3): refusal while DAMON_STAT runs its kdamond exclusively (7.3's
 * default; turned off for the rest), a vaddr context on a child touching
 * a buffer, a paddr context on node 1 holding the buffer, recovery from a
 * crashed run's kdamond, refusal next to another user's kdamond
 * (configured, then running) and observing that one. On a kernel built
 * without DAMON (Debian 6.1) the probe's refusal is the behaviour under
 * test: the kernel's own config (cached next to the image under
 * .cache/kernels) must agree with it.
 */
#include <limits.h>

#include "hp_damon_live.h"
#include "hp_settings.h"

/* Why the last start of a source failed. */
static char start_err[512];

#define NO_DAMON_WHY                                                                               \
	"damon: kernel without DAMON (no /sys/kernel/mm/damon/admin, no damon:damon_aggregated tracepoint: CONFIG_DAMON off)"

/*
 * Does the running kernel's config enable DAMON's sysfs interface? 1 yes,
 * 0 no, -1 unknown. The config of the guest's kernel lies in the
 * repository's kernel cache (the guest sees the host's /boot).
 */
static int config_has_damon(char *where, size_t len)
{
	char exe[PATH_MAX], path[PATH_MAX + 320], line[256], release[128];
	FILE *f = NULL;
	ssize_t n;
	int found = 0;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	f = fopen("/proc/sys/kernel/osrelease", "r");
	if (n <= 0 || !f || !fgets(release, sizeof(release), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	f = NULL;
	exe[n] = '\0';
	release[strcspn(release, "\n")] = '\0';
	/* Up from build/tests/vm/damon to the repository that holds the cache. */
	while (!f && strrchr(exe, '/')) {
		*strrchr(exe, '/') = '\0';
		snprintf(path, sizeof(path), "%s/.cache/kernels/%s/root/boot/config-%s", exe,
			 release, release);
		f = fopen(path, "r");
		if (f)
			break;
		/* Debian's 7.x packages keep it with the modules. */
		snprintf(path, sizeof(path), "%s/.cache/kernels/%s/root/usr/lib/modules/%s/config",
			 exe, release, release);
		f = fopen(path, "r");
	}
	if (!f) {
		snprintf(path, sizeof(path), "/boot/config-%s", release);
		f = fopen(path, "r");
	}
	if (!f)
		return -1;
	snprintf(where, len, "%s", path);
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "CONFIG_DAMON_SYSFS=y\n"))
			found = 1;
	fclose(f);
	return found;
}

static void write_sysfs(const char *rel, const char *text)
{
	char path[256];
	int fd, ok;

	snprintf(path, sizeof(path), HP_DAMON_ADMIN "/kdamonds/%s", rel);
	fd = open(path, O_WRONLY);
	hp_check(fd >= 0, "open %s: %s", path, strerror(errno));
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	hp_check(ok, "writing %s to %s: %s", text, path, strerror(errno));
	close(fd);
}

static void read_sysfs(const char *rel, char *buf, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), HP_DAMON_ADMIN "/kdamonds/%s", rel);
	f = fopen(path, "r");
	hp_check(f && fgets(buf, (int)len, f), "reading %s", path);
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

static bool made_foreign; /* check_foreign()'s own kdamond exists */

/*
 * At exit, also after a failed check: remove the kdamond check_foreign()
 * made by hand, and any hotpage kdamond this process (or a dead run) left.
 */
static void cleanup(void)
{
	char err[256];
	int fd;

	if (made_foreign) {
		fd = open(HP_DAMON_ADMIN "/kdamonds/0/state", O_WRONLY);
		if (fd >= 0) {
			if (write(fd, "off", 3) != 3)
				printf("cleanup: kdamond 0 did not turn off\n");
			close(fd);
		}
		fd = open(HP_DAMON_ADMIN "/kdamonds/nr_kdamonds", O_WRONLY);
		if (fd >= 0) {
			if (write(fd, "0", 1) != 1)
				printf("cleanup: nr_kdamonds not reset\n");
			close(fd);
		}
	}
	if (hp_damon_reclaim_stale(HP_DAMON_ADMIN, err, sizeof(err)) < 0)
		printf("cleanup: %s\n", err);
}

#define DAMON_STAT_ENABLED "/sys/module/damon_stat/parameters/enabled"

/*
 * DAMON_STAT (built in, on by default in Debian's 7.3 config) runs its
 * kdamond exclusively: the probe says so and how to turn it off, start
 * refuses without touching sysfs. Then it is turned off for the rest of
 * the test (and back on at exit).
 */
static bool check_exclusive(void)
{
	struct hp_source_instance *src = NULL;
	struct hp_source_probe probe;
	struct hp_damon_scan s;
	char text[8] = "", err[256];
	FILE *f = fopen(DAMON_STAT_ENABLED, "r");
	int ret;

	if (f) {
		if (!fgets(text, sizeof(text), f))
			text[0] = '\0';
		fclose(f);
	}
	if (text[0] != 'Y') {
		printf("exclusive: DAMON_STAT is %s\n", f ? "off" : "not built in");
		return false;
	}
	hp_source_damon.probe(&probe);
	printf("exclusive, DAMON_STAT on: '%s'\n", probe.why);
	hp_check(!probe.available && strstr(probe.why, "DAMON busy: DAMON_STAT runs its kdamond") &&
			 strstr(probe.why, "damon_stat.enabled=N"),
		 "probe while DAMON_STAT runs: available %d, why '%s'", probe.available, probe.why);
	ret = hp_source_damon.start(NULL, NULL, &src, start_err, sizeof(start_err));
	hp_check(ret == -EBUSY && !src && start_err[0],
		 "start while DAMON_STAT runs returned %d, reason '%s'", ret, start_err);
	hp_check(!hp_damon_scan(HP_DAMON_ADMIN, &s, err, sizeof(err)), "%s", err);
	hp_check(s.nr_kdamonds == 0, "start while DAMON_STAT runs left %u kdamonds", s.nr_kdamonds);
	hp_settings_set(DAMON_STAT_ENABLED, "N", true);
	printf("  DAMON_STAT turned off for the rest of the test\n");
	return true;
}

/* A run that died without stopping its kdamond: the next start removes it. */
static void check_crash_recovery(void)
{
	struct hp_dl_child c = hp_dl_start_child(-1);
	__u32 pid = (__u32)c.pid;
	struct hp_damon_spec spec = { .ops = HP_DAMON_OPS_VADDR,
				      .attrs = HP_DAMON_ATTRS_DEFAULT,
				      .pids = &pid,
				      .nr_pids = 1 };
	struct hp_damon_attrs attrs = HP_DAMON_ATTRS_DEFAULT;
	struct hp_source_probe probe;
	struct hp_damon_scan s;
	struct hp_damon_ctx ctx;
	char err[256], buf[64];
	pid_t owner;
	int status;

	owner = fork();
	hp_check(owner >= 0, "fork: %s", strerror(errno));
	if (!owner) /* "crashes" right after starting its kdamond */
		_exit(hp_damon_start(HP_DAMON_ADMIN, &spec, &ctx, err, sizeof(err)) ? 1 : 0);
	hp_check(waitpid(owner, &status, 0) == owner && WIFEXITED(status) && !WEXITSTATUS(status),
		 "the crashing run could not start its kdamond");
	hp_check(!hp_damon_scan(HP_DAMON_ADMIN, &s, err, sizeof(err)), "%s", err);
	hp_check(s.nr_kdamonds == 1 && s.kd[0].on && s.kd[0].tagged && s.kd[0].owner == owner,
		 "after the crash: %u kdamonds, on %d, tagged %d, owner %ld (dead run %d)",
		 s.nr_kdamonds, s.kd[0].on, s.kd[0].tagged, s.kd[0].owner, owner);
	hp_source_damon.probe(&probe);
	printf("crash: kdamond 0 (pid %d) left by dead run %d; probe: '%s'\n", s.kd[0].pid, owner,
	       probe.how);
	hp_check(probe.available && strstr(probe.how, "1 stale hotpage kdamond to remove"),
		 "probe after a crash: available %d, how '%s', why '%s'", probe.available,
		 probe.how, probe.why);

	hp_check(!hp_damon_start(HP_DAMON_ADMIN, &spec, &ctx, err, sizeof(err)),
		 "start after a crash: %s", err);
	hp_check(!hp_damon_scan(HP_DAMON_ADMIN, &s, err, sizeof(err)), "%s", err);
	hp_check(s.nr_kdamonds == 1 && s.kd[0].owner == (long)getpid() && s.kd[0].on,
		 "after restart: %u kdamonds, owner %ld", s.nr_kdamonds, s.kd[0].owner);
	/* Live change of the attributes ("commit"). */
	attrs.aggr_us = 200000;
	hp_check(!hp_damon_commit_attrs(&ctx, &attrs, err, sizeof(err)), "commit: %s", err);
	read_sysfs("0/contexts/0/monitoring_attrs/intervals/aggr_us", buf, sizeof(buf));
	read_sysfs("0/state", err, sizeof(err));
	hp_check(!strcmp(buf, "200000") && !strcmp(err, "on"), "after commit: aggr_us %s, %s", buf,
		 err);
	hp_check(!hp_damon_stop(&ctx, err, sizeof(err)), "stop: %s", err);
	hp_dl_check_clean(0, s.kd[0].pid);
	hp_dl_stop_child(&c);
	printf("  stale kdamond removed, new one started, committed aggr_us 200000, stopped\n");
}

/* Another user's kdamond: refused while configured or running; observable while running. */
static void check_foreign(void)
{
	struct hp_dl_child c = hp_dl_start_child(-1);
	__u32 tgid = (__u32)c.pid;
	struct hp_source_opts opts = { .filter_mode = HP_FILTER_TGIDS,
				       .tgids = &tgid,
				       .nr_tgids = 1 };
	struct hp_source_instance *src = NULL;
	struct hp_source_probe probe;
	struct hp_damon_scan s;
	struct hp_source_stats stats;
	struct hp_dl_vaddr v = { .lo = c.base, .hi = c.base + c.len };
	struct hp_dl_records r;
	char err[256], num[32];
	int ret;

	/* Configured by "someone else" (this test, by hand, untagged), off. */
	write_sysfs("nr_kdamonds", "1");
	made_foreign = true;
	write_sysfs("0/contexts/nr_contexts", "1");
	write_sysfs("0/contexts/0/operations", "vaddr");
	write_sysfs("0/contexts/0/targets/nr_targets", "1");
	snprintf(num, sizeof(num), "%d", c.pid);
	write_sysfs("0/contexts/0/targets/0/pid_target", num);
	hp_source_damon.probe(&probe);
	printf("foreign, off: '%s'\n", probe.why);
	hp_check(
		!probe.available &&
			!strcmp(probe.why,
				"damon: DAMON busy: kdamond 0 (off, vaddr) is configured and is not hotpage's; adding a kdamond rewrites every kdamond directory and would lose that configuration"),
		"probe next to a configured foreign kdamond: '%s'", probe.why);
	ret = hp_source_damon.start(NULL, &opts, &src, start_err, sizeof(start_err));
	hp_check(ret == -EBUSY && start_err[0],
		 "start next to a foreign kdamond returned %d, reason '%s'", ret, start_err);
	hp_check(!hp_damon_scan(HP_DAMON_ADMIN, &s, err, sizeof(err)), "%s", err);
	hp_check(s.nr_kdamonds == 1 && !s.kd[0].tagged && s.kd[0].nr_targets == 1 &&
			 s.kd[0].target_pids[0] == tgid,
		 "the foreign kdamond's configuration changed");

	/* Running: refused too, and observable with kdamond=0. */
	write_sysfs("0/state", "on");
	hp_source_damon.probe(&probe);
	hp_check(!hp_damon_scan(HP_DAMON_ADMIN, &s, err, sizeof(err)), "%s", err);
	printf("foreign, running (pid %d): '%s'\n", s.kd[0].pid, probe.why);
	snprintf(err, sizeof(err), "kdamond 0 (pid %d, vaddr) is running and is not hotpage's",
		 s.kd[0].pid);
	hp_check(!probe.available && strstr(probe.why, err) && strstr(probe.why, "kdamond=0"),
		 "probe next to a running foreign kdamond: '%s'", probe.why);
	opts.param = "kdamond=0";
	printf("observing kdamond 0:\n");
	r = hp_dl_run(&opts, 20, hp_dl_vaddr_enough, &v, NULL, &stats);
	hp_check(v.hot_aggregations >= 3, "observed: hot regions in %llu aggregations",
		 (unsigned long long)v.hot_aggregations);
	for (size_t i = 0; i < r.nr; i++)
		hp_check(r.ev[i].tgid == tgid && r.ev[i].flags == HP_EV_REGION,
			 "observed record %zu: tgid %u flags %#x", i, r.ev[i].tgid, r.ev[i].flags);
	free(r.ev);
	hp_check(!hp_damon_scan(HP_DAMON_ADMIN, &s, err, sizeof(err)), "%s", err);
	hp_check(s.nr_kdamonds == 1 && s.kd[0].on, "observing changed the foreign kdamond");

	/* The test's own "foreign" kdamond goes. */
	write_sysfs("0/state", "off");
	write_sysfs("nr_kdamonds", "0");
	made_foreign = false;
	hp_dl_stop_child(&c);
}

int main(void)
{
	const char *series = getenv("HOTPAGE_VM_KERNEL");
	struct hp_source_probe probe;
	struct hp_source_instance *src = NULL;
	char config[PATH_MAX + 320] = "", err[256];
	struct hp_damon_scan before;
	bool stat_off;
	int expect, ret;

	hp_require_root();
	setvbuf(stdout, NULL, _IOLBF, 0);
	expect = config_has_damon(config, sizeof(config));
	if (expect < 0 && series) /* Debian's configs: 6.1 without DAMON, 6.12 and 7.3 with */
		expect = strcmp(series, "6.1") != 0;
	hp_source_damon.probe(&probe);
	printf("kernel %s, config %s: DAMON sysfs %s\n", series ? series : "?",
	       config[0] ? config : "not found",
	       expect < 0 ? "unknown"
	       : expect	  ? "yes"
			  : "no");
	printf("probe: available %d, how '%s', why '%s'\n", probe.available, probe.how, probe.why);
	if (expect < 0)
		hp_skip("cannot tell whether this kernel has DAMON (no config found)");

	if (!expect) {
		hp_check(!probe.available && !strcmp(probe.why, NO_DAMON_WHY),
			 "probe on a kernel without DAMON: '%s'", probe.why);
		ret = hp_source_damon.start(NULL, NULL, &src, start_err, sizeof(start_err));
		hp_check(ret == -ENOENT && !src && start_err[0],
			 "start without DAMON returned %d, reason '%s'", ret, start_err);
		printf("pass: this kernel is built without DAMON (%s), and the probe says so\n",
		       config[0] ? config : "Debian 6.1");
		return 0;
	}

	stat_off = check_exclusive();
	hp_source_damon.probe(&probe);
	hp_check(probe.available, "damon unavailable on a kernel with DAMON: %s", probe.why);
	/* A fresh guest: every kdamond from here on is this test's. */
	hp_check(!hp_damon_scan(HP_DAMON_ADMIN, &before, err, sizeof(err)), "%s", err);
	hp_check(before.nr_kdamonds == 0, "the guest starts with %u kdamonds", before.nr_kdamonds);
	atexit(cleanup);
	hp_check(!strncmp(probe.how, "tp_btf/damon_aggregated", 23), "probe how '%s'", probe.how);
	/*
	 * NUMA balancing (on by default here) would move the buffer from
	 * node 1 back to the child's node 0 while DAMON watches node 1.
	 */
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", false);
	hp_damon_live_vaddr();
	hp_damon_live_paddr(1);
	check_crash_recovery();
	check_foreign();
	hp_settings_restore();
	hp_check(!hp_settings_check("/proc/sys/kernel/numa_balancing"),
		 "numa_balancing not restored");
	hp_check(!stat_off || !hp_settings_check(DAMON_STAT_ENABLED), "DAMON_STAT not restored");
	printf("pass: damon vaddr and paddr records, crash recovery, foreign kdamonds left alone\n");
	return 0;
}
