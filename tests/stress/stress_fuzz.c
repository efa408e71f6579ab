// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: hostile kfunc input while hotpaged really promotes. WRITERS
 * writers keep rewriting the hot half of their node-1 pages (generations,
 * tests/lib/hp_stress.h); hotpaged (scan source, kmigrated backend,
 * target=0) promotes them; once promotion is under way the kmigrated fuzz
 * (build/tests/vm/kmigrated_fuzz, HOTPAGE_FUZZ_SHARED=1: the module stays
 * loaded and shared) sends FUZZ_N random and malformed requests per path
 * (syscall and tracing programs), some of which really move random pages
 * of the guest, the writers' included, between the nodes.
 * Checked: the fuzz finishes within FUZZ_TIMEOUT_S (no hang) and passes
 * its own checks, hotpaged survives and the writers' hot pages end on
 * node 0 (it re-promotes what the fuzz moved back, pingpong_ms=2000),
 * every byte the writers wrote reads back, every request is accounted
 * (accepted + refused = requests), nothing stays isolated, and the kernel
 * logs no BUG, WARNING or Oops.
 */
#include "hp_settings.h"
#include "hp_stress.h"

#define WRITERS 2
#define WRITER_PAGES 2048
#define HOT_DIV 2
#define HOT_PCT_MIN 90
#define FUZZ_N "60000"
#define FUZZ_TIMEOUT_S 300
#define DEADLINE_S 120

static void hot_on_0(struct hps_writer *w, size_t *on, size_t *n)
{
	size_t h, nh, c;

	*on = *n = 0;
	for (int i = 0; i < WRITERS; i++) {
		hps_count_nodes(w[i].pid, (uintptr_t)w[i].area, WRITER_PAGES, 0, HOT_DIV, &h, &nh,
				&c);
		*on += h;
		*n += nh;
	}
}

int main(void)
{
	uint64_t s0[KMIGRATED_NR_STATS], s1[KMIGRATED_NR_STATS], refused = 0;
	char root[PATH_MAX - 64], fuzz[PATH_MAX], scope[96], line[512] = "";
	struct hps_writer w[WRITERS];
	struct hps_daemon d = { 0 };
	long long promoted0, promoted1, passes = 0, bad = 0;
	size_t on = 0, nhot = 0, on_during;
	double t0, t_fuzz;
	int kmsg, problems = 0, st;
	pid_t fz;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	if (access("/sys/devices/system/node/node1/meminfo", R_OK))
		hp_skip("needs two memory nodes");
	kmt_repo_root(root, sizeof(root));
	snprintf(fuzz, sizeof(fuzz), "%.*s/build/tests/vm/kmigrated_fuzz", (int)sizeof(root) - 1,
		 root);
	if (access(fuzz, X_OK))
		hp_skip("%s not built", fuzz);
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	kmsg = kmt_kmsg_open();
	kmt_load_or_fail("");
	hp_check(!kmt_set("scan_period_ms", "250"), "scan_period_ms: %s", strerror(errno));
	kmt_stats(-1, s0);
	for (int i = 0; i < WRITERS; i++)
		hps_writer_start(&w[i], WRITER_PAGES, 500u + (unsigned int)i, 1, HOT_DIV);
	hps_scope_tgids(scope, sizeof(scope), w, WRITERS);
	{
		const char *args[] = { "-s", "scan",
				       "-p", "backend=kmigrated",
				       "-p", "target=0",
				       "-p", scope,
				       "-p", "window_ms=1000",
				       "-p", "threshold=2",
				       "-p", "pingpong_ms=2000",
				       "-p", "stats=1",
				       NULL };

		hps_daemon_start(&d, "fuzz", args);
	}
	hp_check(hps_wait_daemon_stat(&d, "promoted", 1, DEADLINE_S * 1000.0),
		 "hotpaged promoted nothing (log %s)", d.log);
	promoted0 = hps_daemon_stat(&d, "promoted");

	/* The fuzz, while hotpaged promotes. */
	fflush(stdout);
	fz = fork();
	hp_check(fz >= 0, "fork: %s", strerror(errno));
	if (fz == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setenv("HOTPAGE_FUZZ_SHARED", "1", 1);
		setenv("HOTPAGE_FUZZ_N", FUZZ_N, 1);
		execl(fuzz, fuzz, (char *)NULL);
		_exit(127);
	}
	t0 = kmt_now_ms();
	while (waitpid(fz, &st, WNOHANG) == 0) {
		if (kmt_now_ms() - t0 > FUZZ_TIMEOUT_S * 1000.0) {
			kill(fz, SIGKILL);
			waitpid(fz, NULL, 0);
			hp_fail("the fuzz hung: not done after %d s", FUZZ_TIMEOUT_S);
		}
		hp_check(hps_daemon_alive(&d), "hotpaged died during the fuzz (log %s)", d.log);
		usleep(100 * 1000);
	}
	t_fuzz = (kmt_now_ms() - t0) / 1000;
	hot_on_0(w, &on_during, &nhot);
	printf("fuzz: %s requests per path (syscall, tracing) with HOTPAGE_FUZZ_SHARED=1, done in "
	       "%.1f s, exit status %#x; hotpaged promoted %lld before it started\n",
	       FUZZ_N, t_fuzz, st, promoted0);
	hp_check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "kmigrated_fuzz failed (status %#x)", st);

	/* The real promotions complete. */
	t0 = kmt_now_ms();
	do {
		usleep(500 * 1000);
		hp_check(hps_daemon_alive(&d), "hotpaged exited (log %s)", d.log);
		hot_on_0(w, &on, &nhot);
	} while (on * 100 < nhot * HOT_PCT_MIN && kmt_now_ms() - t0 < DEADLINE_S * 1000.0);
	promoted1 = hps_daemon_stat(&d, "promoted");
	for (int i = 0; i < WRITERS; i++)
		w[i].sh->stop = 1;
	usleep(200 * 1000);
	hps_daemon_stop(&d);
	for (int i = 0; i < WRITERS; i++) {
		long long p, b;

		hps_writer_finish(&w[i], &p, &b);
		passes += p;
		bad += b;
	}
	kmt_wait_idle(120000);
	kmt_stats(-1, s1);
	for (int i = 0; i < KMIGRATED_NR_STATS; i++)
		s1[i] -= s0[i];
	for (int i = KMIGRATED_STAT_REFUSED_FIRST; i <= KMIGRATED_STAT_REFUSED_LAST; i++)
		refused += s1[i];
	kmt_print_stats("module deltas (fuzz + hotpaged)", s1);
	printf("promotions: hot pages on node 0: %zu/%zu when the fuzz ended, %zu/%zu at the end "
	       "(%.1f s later); hotpaged promoted %lld in all\n",
	       on_during, nhot, on, nhot, (kmt_now_ms() - t0) / 1000, promoted1);
	printf("writers: %d x %d pages, %lld passes, bad pages %lld\n", WRITERS, WRITER_PAGES,
	       passes, bad);
	hp_check(!bad, "%lld pages did not read back what was written", bad);
	hp_check(on * 100 >= nhot * HOT_PCT_MIN, "%zu of %zu hot pages on node 0 after %d s", on,
		 nhot, DEADLINE_S);
	hp_check(s1[KMIGRATED_STAT_ACCEPTED] + refused == s1[KMIGRATED_STAT_REQUESTS],
		 "accepted %llu + refused %llu != requests %llu",
		 (unsigned long long)s1[KMIGRATED_STAT_ACCEPTED], (unsigned long long)refused,
		 (unsigned long long)s1[KMIGRATED_STAT_REQUESTS]);
	hp_check(kmt_isolated() == 0, "pages left isolated");
	hp_check(!kmt_unload(), "delete_module: %s", strerror(errno));
	kmt_kmsg_scan(kmsg, NULL, line, sizeof(line), &problems);
	hp_check(!problems, "%d kernel problem reports", problems);
	hp_settings_restore();
	printf("pass\n");
	return 0;
}
