// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: faults.
 *  1. SIGKILL of hotpaged under load (writers being promoted, every source
 *     at period=1), then a plain restart: it must start without manual
 *     clean-up and promote again; after its final SIGTERM nothing is left
 *     in /sys/fs/bpf, no BPF program or link beyond those before the test,
 *     no DAMON kdamond beyond those before. Between the kill and the
 *     restart only the hot set pin may stay (it persists by design until
 *     the next start replaces it).
 *  2. A process exits while its pages wait in kmigrated's queues (both
 *     routes, by PFN and by address): every accepted request ends migrated
 *     or counted as failed, nothing stays isolated, no kernel warning.
 *  3. Memory pressure: a process allocates all but PRESSURE_MARGIN of the
 *     guest's available memory while hotpaged promotes: no OOM kill,
 *     hotpaged within its memory budget and still promoting afterwards,
 *     the writers' data intact.
 */
#include <dirent.h>

#include "hp_settings.h"
#include "hp_stress.h"

#define WRITER_PAGES 2048
#define HOT_DIV 2
#define HOT_PCT_MIN 90
#define DEADLINE_S 90
#define EXIT_PAGES 4096
#define EXIT_RATE_MBPS "4" /* about 1000 pages/s: most requests still queued at the kill */
#define EXIT_DRAIN_S 60 /* 4096 pages at 4 MB/s: 4 s */
#define PRESSURE_MARGIN (128ULL << 20)
#define PRESSURE_HOLD_S 5

static char sources[64];

/* Running kdamond threads (comm "kdamond.N"). */
static int kdamond_threads(void)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	char path[300], comm[64];
	int n = 0;

	hp_check(dir, "opendir /proc: %s", strerror(errno));
	while ((de = readdir(dir))) {
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "kdamond", 7))
			n++;
		fclose(f);
	}
	closedir(dir);
	return n;
}

static long long nr_kdamonds(void)
{
	if (access("/sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds", R_OK))
		return -1;
	return (long long)kmt_read_u64("/sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds");
}

static void start_daemon(struct hps_daemon *d, const char *tag, const struct hps_writer *w, int nw)
{
	char scope[128];

	hps_scope_tgids(scope, sizeof(scope), w, nw);
	{
		const char *args[] = { "-s", sources,
				       "-p", "period=1",
				       "-p", "backend=kmigrated",
				       "-p", "target=0",
				       "-p", scope,
				       "-p", "window_ms=1000",
				       "-p", "threshold=2",
				       "-p", "pingpong_ms=60000",
				       "-p", "stats=1",
				       NULL };

		hps_daemon_start(d, tag, args);
	}
}

/* Waits until HOT_PCT_MIN% of the writer's hot pages are on node 0; seconds taken. */
static double wait_promoted(const struct hps_daemon *d, const struct hps_writer *w)
{
	double t0 = kmt_now_ms();
	size_t h, nh, c;

	for (;;) {
		hps_count_nodes(w->pid, (uintptr_t)w->area, w->npages, 0, HOT_DIV, &h, &nh, &c);
		if (h * 100 >= nh * HOT_PCT_MIN)
			return (kmt_now_ms() - t0) / 1000;
		hp_check(hps_daemon_alive(d), "hotpaged exited (log %s)", d->log);
		hp_check(kmt_now_ms() - t0 < DEADLINE_S * 1000.0,
			 "%zu of %zu hot pages of writer %d on node 0 after %d s", h, nh,
			 (int)w->pid, DEADLINE_S);
		usleep(250 * 1000);
	}
}

static void finish_writer(struct hps_writer *w, const char *what)
{
	long long passes, bad;

	w->sh->stop = 1;
	usleep(100 * 1000);
	hps_writer_finish(w, &passes, &bad);
	printf("%s: %lld passes, %zu pages checked, bad %lld\n", what, passes, w->npages, bad);
	hp_check(!bad, "%s: %lld bad pages", what, bad);
}

static void kill_and_restart(void)
{
	struct hps_ids *before = malloc(sizeof(*before)), *mid = malloc(sizeof(*mid));
	struct hps_writer w[2];
	struct hps_daemon d = { 0 };
	int kd0 = kdamond_threads(), kd_mid, progs, links, pins;
	long long nr0 = nr_kdamonds(), promoted;
	double t;

	hp_check(before && mid, "malloc");
	hp_check(hps_dir_entries(HP_PIN_DIR) < 0, "%s exists before the test", HP_PIN_DIR);
	hps_ids_snapshot(before);
	hps_writer_start(&w[0], WRITER_PAGES, 11, 1, HOT_DIV);
	start_daemon(&d, "faults-1", w, 1);
	hps_ids_snapshot(mid);
	hps_ids_new(before, mid, &progs, &links);
	hp_check(hps_wait_daemon_stat(&d, "promoted", 200, DEADLINE_S * 1000.0),
		 "hotpaged promoted nothing (log %s)", d.log);
	promoted = hps_daemon_stat(&d, "promoted");
	hps_daemon_kill(&d);
	printf("kill: hotpaged (-s %s, period=1) with %d BPF programs and %d links of its own "
	       "killed by SIGKILL after %lld promotions, while the writer writes\n",
	       sources, progs, links, promoted);
	hps_ids_settle(before, &progs, &links, 10000);
	pins = hps_dir_entries(HP_PIN_DIR);
	kd_mid = kdamond_threads();
	printf("kill: left behind: %d programs, %d links, %d entries in %s, %d kdamond threads "
	       "(before: %d)\n",
	       progs, links, pins, HP_PIN_DIR, kd_mid, kd0);
	hp_check(!progs && !links, "SIGKILL left %d programs and %d links", progs, links);
	hp_check(pins <= 1, "%d pins in %s after SIGKILL (only hot_pages persists)", pins,
		 HP_PIN_DIR);

	/* A second workload for the restarted daemon. */
	hps_writer_start(&w[1], WRITER_PAGES, 22, 1, HOT_DIV);
	start_daemon(&d, "faults-2", w, 2);
	t = wait_promoted(&d, &w[1]);
	printf("restart: hotpaged started with no clean-up, %zu-page new workload's hot pages on "
	       "node 0 in %.1f s\n",
	       w[1].npages, t);
	wait_promoted(&d, &w[0]);
	hps_daemon_stop(&d);
	hps_ids_settle(before, &progs, &links, 10000);
	pins = hps_dir_entries(HP_PIN_DIR);
	printf("stop: after SIGTERM %d programs, %d links beyond those before, %s %s, kdamond "
	       "threads %d (before %d), nr_kdamonds %lld (before %lld)\n",
	       progs, links, HP_PIN_DIR, pins < 0 ? "gone" : "still there", kdamond_threads(), kd0,
	       nr_kdamonds(), nr0);
	hp_check(!progs && !links, "%d programs and %d links left", progs, links);
	hp_check(pins < 0, "%s left with %d entries", HP_PIN_DIR, pins);
	hp_check(kdamond_threads() == kd0, "%d kdamond threads, %d before", kdamond_threads(), kd0);
	finish_writer(&w[0], "writer 1 (killed daemon)");
	finish_writer(&w[1], "writer 2 (restarted daemon)");
	free(before);
	free(mid);
}

/* A process exits while its pages wait in kmigrated's queues. */
static void exit_while_queued(void)
{
	uint64_t s0[KMIGRATED_NR_STATS], s1[KMIGRATED_NR_STATS], *pfns, ends = 0, queued_at_kill;
	struct kmt_progs *progs = kmt_open_programs(false);
	struct kmigrated_req *reqs = calloc(EXIT_PAGES, sizeof(*reqs));
	struct hps_writer w;
	char path[64];
	long accepted;
	int fd;

	pfns = calloc(EXIT_PAGES, 8);
	hp_check(reqs && pfns, "calloc");
	/* A writer that does not write (hot 1 in 2^31, none in practice): just pages. */
	hps_writer_start(&w, EXIT_PAGES, 33, 1, 1u << 31);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)w.pid);
	fd = open(path, O_RDONLY);
	hp_check(fd >= 0, "open %s: %s", path, strerror(errno));
	for (size_t i = 0; i < EXIT_PAGES; i++) {
		uint64_t e = 0;
		off_t off = (off_t)(((uintptr_t)w.area / KMT_PAGE + i) * 8);

		hp_check(pread(fd, &e, 8, off) == 8, "pread %s: %s", path, strerror(errno));
		pfns[i] = (e >> 63) ? (e & ((1ULL << 55) - 1)) : 0;
		hp_check(pfns[i], "page %zu of the child not present", i);
		if (i % 2) {
			reqs[i].flags = KMIGRATED_REQ_VADDR;
			reqs[i].tgid = (uint32_t)w.pid;
			reqs[i].vaddr = (uintptr_t)w.area + i * KMT_PAGE;
		} else {
			reqs[i].pfn = pfns[i];
		}
		reqs[i].node = 0;
	}
	close(fd);
	hp_check(!kmt_set("rate_limit_mbps", EXIT_RATE_MBPS), "rate_limit_mbps: %s",
		 strerror(errno));
	kmt_wait_idle(60000);
	kmt_stats(-1, s0);
	accepted = kmt_submit(progs, reqs, EXIT_PAGES);
	queued_at_kill = kmt_stat(-1, KMIGRATED_SYSFS_QUEUED);
	hp_check(!kill(w.pid, SIGKILL), "kill: %s", strerror(errno));
	hp_check(waitpid(w.pid, NULL, 0) == w.pid, "waitpid: %s", strerror(errno));
	munmap(w.sh, sizeof(*w.sh) + EXIT_PAGES * sizeof(uint64_t));
	/*
	 * Each accepted request ends as migrated or failed_*; "queued" drops
	 * to 0 as a batch is taken, before its outcome is counted, so wait
	 * for the outcomes themselves.
	 */
	for (double t0 = kmt_now_ms();;) {
		kmt_stats(-1, s1);
		ends = 0;
		for (int i = KMIGRATED_STAT_MIGRATED; i <= KMIGRATED_STAT_FAILED_VMA; i++)
			if (i != KMIGRATED_STAT_MIGRATED_VMA)
				ends += s1[i] - s0[i];
		if (ends >= (uint64_t)accepted || kmt_now_ms() - t0 > EXIT_DRAIN_S * 1000.0)
			break;
		usleep(100 * 1000);
	}
	kmt_wait_idle(60000);
	hp_check(!kmt_set("rate_limit_mbps", "65536"), "rate_limit_mbps: %s", strerror(errno));
	for (int i = 0; i < KMIGRATED_NR_STATS; i++)
		s1[i] -= s0[i];
	kmt_print_stats("exit: module deltas", s1);
	printf("exit: %d requests (half by PFN, half by address) for a process's node-1 pages, "
	       "%ld queued, %llu still queued when it was killed; outcomes: migrated %llu, "
	       "failed %llu\n",
	       EXIT_PAGES, accepted, (unsigned long long)queued_at_kill,
	       (unsigned long long)s1[KMIGRATED_STAT_MIGRATED],
	       (unsigned long long)(ends - s1[KMIGRATED_STAT_MIGRATED]));
	hp_check(accepted > EXIT_PAGES / 2, "only %ld of %d requests queued", accepted, EXIT_PAGES);
	hp_check(queued_at_kill > 0, "nothing was queued when the process was killed");
	hp_check(ends == (uint64_t)accepted, "%ld requests queued, %llu ended (migrated or failed)",
		 accepted, (unsigned long long)ends);
	hp_check(s1[KMIGRATED_STAT_FAILED_GONE] + s1[KMIGRATED_STAT_FAILED_VMA] > 0,
		 "no request failed for the exited process");
	hp_check(kmt_isolated() == 0, "pages left isolated");
	kmt_close_programs(progs);
	free(reqs);
	free(pfns);
}

static long long meminfo(const char *key)
{
	char line[256];
	long long kb = -1;
	size_t len = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	hp_check(f, "open /proc/meminfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':')
			sscanf(line + len + 1, "%lld", &kb);
	fclose(f);
	return kb * 1024;
}

static void memory_pressure(int kmsg, int *problems)
{
	struct hps_writer w;
	struct hps_daemon d = { 0 };
	long long avail, hog_bytes, oom0 = kmt_vmstat("oom_kill");
	uint64_t hwm;
	char line[512];
	pid_t hog;
	int st;
	double t;

	hps_writer_start(&w, WRITER_PAGES, 44, 1, HOT_DIV);
	start_daemon(&d, "faults-3", &w, 1);
	hp_check(hps_wait_daemon_stat(&d, "promoted", 1, DEADLINE_S * 1000.0),
		 "hotpaged promoted nothing (log %s)", d.log);
	avail = meminfo("MemAvailable");
	hog_bytes = avail - (long long)PRESSURE_MARGIN;
	hp_check(hog_bytes > 0, "MemAvailable %lld", avail);
	fflush(stdout);
	hog = fork();
	hp_check(hog >= 0, "fork: %s", strerror(errno));
	if (hog == 0) {
		char *m = mmap(NULL, (size_t)hog_bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			_exit(2);
		for (long long i = 0; i < hog_bytes; i += (long long)KMT_PAGE)
			m[i] = 1;
		sleep(PRESSURE_HOLD_S);
		_exit(0);
	}
	hp_check(waitpid(hog, &st, 0) == hog, "waitpid: %s", strerror(errno));
	hwm = hps_proc_kb(d.pid, "VmHWM");
	printf("pressure: a process allocated and touched %lld MiB (MemAvailable %lld MiB minus "
	       "%llu) and held it %d s while hotpaged promoted; exit status %#x\n",
	       hog_bytes >> 20, avail >> 20, PRESSURE_MARGIN >> 20, PRESSURE_HOLD_S, st);
	printf("pressure: hotpaged %s, VmHWM %.1f MiB (budget %.0f MiB), oom_kill +%lld\n",
	       hps_daemon_alive(&d) ? "alive" : "dead", (double)hwm / (1 << 20),
	       (double)HPS_RSS_BUDGET / (1 << 20), kmt_vmstat("oom_kill") - oom0);
	hp_check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the allocating process: status %#x", st);
	hp_check(kmt_vmstat("oom_kill") == oom0, "OOM kills during the test");
	hp_check(!kmt_kmsg_scan(kmsg, "invoked oom-killer", line, sizeof(line), problems),
		 "kernel: %s", line);
	hp_check(hps_daemon_alive(&d), "hotpaged died under memory pressure (log %s)", d.log);
	hp_check(hwm <= HPS_RSS_BUDGET, "hotpaged's VmHWM %llu over budget",
		 (unsigned long long)hwm);
	t = wait_promoted(&d, &w);
	printf("pressure: afterwards the writer's hot pages on node 0 within %.1f s\n", t);
	hps_daemon_stop(&d);
	finish_writer(&w, "writer 3 (memory pressure)");
}

int main(void)
{
	int kmsg, problems = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	if (access("/sys/devices/system/node/node1/meminfo", R_OK))
		hp_skip("needs two memory nodes");
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	/*
	 * DAMON_STAT (on from boot in Debian's 7.3) runs its kdamond
	 * exclusively: off for the test, so that damon is one of the sources.
	 */
	if (!access("/sys/module/damon_stat/parameters/enabled", W_OK))
		hp_settings_set("/sys/module/damon_stat/parameters/enabled", "N", true);
	snprintf(sources, sizeof(sources), "fault,scan%s",
		 access("/sys/kernel/mm/damon/admin", F_OK) ? "" : ",damon");
	kmsg = kmt_kmsg_open();
	kmt_load_or_fail("");
	hp_check(!kmt_set("scan_period_ms", "250"), "scan_period_ms: %s", strerror(errno));
	kill_and_restart();
	exit_while_queued();
	memory_pressure(kmsg, &problems);
	hp_check(!kmt_unload(), "delete_module: %s", strerror(errno));
	kmt_kmsg_scan(kmsg, NULL, NULL, 0, &problems);
	hp_check(!problems, "%d kernel problem reports", problems);
	hp_settings_restore();
	printf("pass\n");
	return 0;
}
