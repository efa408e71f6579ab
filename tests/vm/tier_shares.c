// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test (--tier boots): two policies share a full fast tier.
 * Workloads A and B run in cgroups of their own, each with HOT_MIB it
 * keeps touching on node 1 and COLD_MIB it never touches again on node 0;
 * an idle process holds REST_MIB more on node 0, and node 0 has no room
 * besides (the filler). hotpaged runs with its default sources, backend
 * and settings, and three policies in place of the default:
 *
 *   policy.a    = scope=cgroup:/hp-share-a share=32M
 *   policy.b    = scope=cgroup:/hp-share-b share=16M
 *   policy.rest = scope=tgids:<the idle process>
 *
 * so A starts under its share by 8 MiB and B over it by 8 MiB: B trades
 * its cold pages for hot ones and sends 8 MiB down, A trades its own and
 * grows into room made from the rest's idle pages (node 0's free memory
 * drifts by megabytes on its own, more than B's 8 MiB on some kernels).
 * An outsider process no policy covers keeps its hot pages on node 1.
 *
 * Pass when:
 *  - A and B each end with their memory on node 0 (the cgroup's anon
 *    N0 in memory.numa_stat, what the kernel counts) within 5% of their
 *    share, and hotpagectl's fast_bytes agrees; the outsider's pages
 *    never leave node 1; the daemon says and counts why it held pages
 *    back (share_full);
 *  - detached, B's pages stay exactly where they are, while A, attached
 *    again with a smaller share (16M), sends its pages down to it and so
 *    makes room B's hot pages would otherwise take.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include "hotpage/hot_pages.h"
#include "hp_ctl_test.h"
#include "hp_e2e.h"
#include "hp_settings.h"

#define HOT_MIB 48
#define COLD_MIB 24
#define REST_MIB 32
#define SHARE_A_MIB 32
#define SHARE_B_MIB 16
#define SHARE_A2_MIB 16
#define HOT_PAGES ((size_t)HOT_MIB << 20 >> 12)
#define COLD_PAGES ((size_t)COLD_MIB << 20 >> 12)
#define AREA_PAGES (HOT_PAGES + COLD_PAGES)
#define TOUCH_PER_TICK 1500 /* per 10 ms: each hot page ~3 times a second */
#define DEADLINE_S 240
#define STABLE_SAMPLES 3
#define CGROOT "/sys/fs/cgroup"

static const char *sock = HP_CTL_SOCKET_DEFAULT;

struct workload {
	const char *cgroup; /* under CGROOT */
	pid_t pid;
	uintptr_t addr; /* hot pages first, then the cold ones */
};

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void ctl(const char *cmd)
{
	free(hpc_ok(sock, cmd));
	printf("hotpagectl %s\n", cmd);
}

static void write_file(const char *path, const char *value)
{
	FILE *f = fopen(path, "we");

	hp_check(f, "open %s: %s", path, strerror(errno));
	hp_check(fputs(value, f) >= 0 && fclose(f) == 0, "write %s to %s: %s", value, path,
		 strerror(errno));
}

/* Forks the workload into its cgroup, places its pages, and keeps its hot ones hot. */
static void workload_start(struct workload *w)
{
	int fds[2];

	hp_check(!pipe(fds), "pipe: %s", strerror(errno));
	w->pid = fork();
	hp_check(w->pid >= 0, "fork: %s", strerror(errno));
	if (w->pid == 0) {
		char path[256], pid[32];
		uint64_t s = 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid();
		char *p;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[0]);
		/* Charged to its cgroup from its first page on. */
		snprintf(path, sizeof(path), CGROOT "/%s/cgroup.procs", w->cgroup);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		write_file(path, pid);
		p = kmt_map_pages(AREA_PAGES, 5);
		kmt_place(p, HOT_PAGES, 1);
		kmt_place(p + HOT_PAGES * KMT_PAGE, COLD_PAGES, 0);
		if (write(fds[1], &p, sizeof(p)) != sizeof(p))
			_exit(4);
		for (;;) {
			for (unsigned int k = 0; k < TOUCH_PER_TICK; k++)
				(*(volatile char *)(p + (next_rand(&s) % HOT_PAGES) * KMT_PAGE))++;
			usleep(10 * 1000);
		}
	}
	close(fds[1]);
	hp_check(read(fds[0], &w->addr, sizeof(w->addr)) == sizeof(w->addr),
		 "workload %s failed before it was ready", w->cgroup);
	close(fds[0]);
}

/* The workload's cgroup's anonymous memory on node 0, in MiB (memory.numa_stat). */
static double cgroup_n0_mib(const struct workload *w)
{
	char path[256], line[4096];
	unsigned long long n0 = 0;
	FILE *f;

	snprintf(path, sizeof(path), CGROOT "/%s/memory.numa_stat", w->cgroup);
	f = fopen(path, "re");
	hp_check(f, "open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		const char *n = strstr(line, " N0=");

		if (!strncmp(line, "anon ", 5) && n)
			n0 = strtoull(n + 4, NULL, 10);
	}
	fclose(f);
	return (double)n0 / (1 << 20);
}

/* The node of each page of the workload's area, into @nodes. */
static void area_nodes(const struct workload *w, int *nodes)
{
	static void *addrs[AREA_PAGES];

	for (size_t i = 0; i < AREA_PAGES; i++)
		addrs[i] = (void *)(w->addr + i * KMT_PAGE);
	hp_check(move_pages(w->pid, AREA_PAGES, addrs, NULL, nodes, 0) >= 0, "move_pages(%d): %s",
		 (int)w->pid, strerror(errno));
}

static size_t count_on(const int *nodes, size_t from, size_t n, int node)
{
	size_t k = 0;

	for (size_t i = from; i < from + n; i++)
		k += nodes[i] == node;
	return k;
}

static bool within_5pct(double mib, double share_mib)
{
	return mib >= share_mib * 0.95 && mib <= share_mib * 1.05;
}

/* Seconds until @w holds its share within 5% for STABLE_SAMPLES seconds, or -1. */
static double wait_share(const struct workload *w, double share_mib, const struct e2e_daemon *d,
			 const struct e2e_outsider *o, double deadline_s)
{
	double t0 = kmt_now_ms();
	int stable = 0;

	while ((kmt_now_ms() - t0) / 1000 < deadline_s) {
		hp_check(e2e_daemon_alive(d), "hotpaged exited (log %s)", d->log);
		hp_check(e2e_outsider_on1(o) == E2E_OUTSIDER_PAGES,
			 "the outsider's pages left node 1: no policy covers it");
		sleep(1);
		stable = within_5pct(cgroup_n0_mib(w), share_mib) ? stable + 1 : 0;
		if (stable >= STABLE_SAMPLES)
			return (kmt_now_ms() - t0) / 1000;
	}
	return -1;
}

static void report(const char *when, const struct workload *a, const struct workload *b)
{
	static int nodes[AREA_PAGES];
	size_t ah, ac, bh, bc;

	area_nodes(a, nodes);
	ah = count_on(nodes, 0, HOT_PAGES, 0);
	ac = count_on(nodes, HOT_PAGES, COLD_PAGES, 0);
	area_nodes(b, nodes);
	bh = count_on(nodes, 0, HOT_PAGES, 0);
	bc = count_on(nodes, HOT_PAGES, COLD_PAGES, 0);
	printf("%s: A %.1f MiB on node 0 (hot %zu, cold %zu pages), B %.1f MiB (hot %zu, cold "
	       "%zu)\n",
	       when, cgroup_n0_mib(a), ah, ac, cgroup_n0_mib(b), bh, bc);
}

int main(void)
{
	const char *tier = getenv("HOTPAGE_VM_TIER");
	struct workload a = { .cgroup = "hp-share-a" }, b = { .cgroup = "hp-share-b" };
	static int b_before[AREA_PAGES], b_after[AREA_PAGES];
	char rest[64];
	const char *argv[] = { "-p", "policy.a=scope=cgroup:/hp-share-a share=32M",
			       "-p", "policy.b=scope=cgroup:/hp-share-b share=16M",
			       "-p", rest,
			       "-p", "stats=5",
			       NULL };
	pid_t idle;
	bool memory_was_on;
	struct e2e_outsider out;
	struct e2e_daemon d = { 0 };
	double ta, tb, ta2, fast_a, fast_b;
	size_t moved = 0;
	char text[256];
	pid_t filler;
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	if (!tier || strcmp(tier, "1") != 0)
		hp_skip("not a guest booted with tools/vmtest --tier");
	if (access(CGROOT "/cgroup.subtree_control", F_OK))
		hp_check(!mount("cgroup2", CGROOT, "cgroup2", 0, NULL), "mount cgroup2: %s",
			 strerror(errno));
	f = fopen(CGROOT "/cgroup.subtree_control", "re");
	hp_check(f, "open cgroup.subtree_control: %s", strerror(errno));
	if (!fgets(text, sizeof(text), f)) /* empty: no controller enabled below the root */
		text[0] = '\0';
	fclose(f);
	memory_was_on = strstr(text, "memory") != NULL;
	if (!memory_was_on)
		write_file(CGROOT "/cgroup.subtree_control", "+memory");
	hp_check(!mkdir(CGROOT "/hp-share-a", 0755) || errno == EEXIST, "mkdir: %s",
		 strerror(errno));
	hp_check(!mkdir(CGROOT "/hp-share-b", 0755) || errno == EEXIST, "mkdir: %s",
		 strerror(errno));
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	kmt_load_or_fail("");

	workload_start(&a);
	workload_start(&b);
	e2e_outsider_start(&out, HOT_PAGES);
	/* Full: no room above the headroom; what comes up, something goes down for. */
	idle = tier_idle_start((size_t)REST_MIB << 20 >> 12, 0);
	snprintf(rest, sizeof(rest), "policy.rest=scope=tgids:%d", (int)idle);
	filler = tier_filler_start(tier_headroom_bytes());
	e2e_daemon_start(&d, "/tmp/tier_shares.log", argv);
	report("start", &a, &b);

	tb = wait_share(&b, SHARE_B_MIB, &d, &out, DEADLINE_S);
	ta = wait_share(&a, SHARE_A_MIB, &d, &out, DEADLINE_S);
	sleep(5); /* some rounds more, for a wrong move to show */
	report("shares", &a, &b);
	fast_a = (double)hpc_stat(sock, "a", "fast_bytes") / (1 << 20);
	fast_b = (double)hpc_stat(sock, "b", "fast_bytes") / (1 << 20);
	printf("hotpagectl: a fast %.1f MiB (share %d), b fast %.1f MiB (share %d); held "
	       "share_full %llu pages; b within 5%% after %.0f s, a %.0f s later (-1: never)\n",
	       fast_a, SHARE_A_MIB, fast_b, SHARE_B_MIB,
	       (unsigned long long)hpc_stat(sock, NULL, "held_share_full"), tb, ta);
	hp_check(within_5pct(cgroup_n0_mib(&b), SHARE_B_MIB),
		 "b: %.1f MiB on node 0, share %d MiB (%s)", cgroup_n0_mib(&b), SHARE_B_MIB,
		 tb < 0 ? "never within 5%" : "left it");
	hp_check(within_5pct(cgroup_n0_mib(&a), SHARE_A_MIB),
		 "a: %.1f MiB on node 0, share %d MiB (%s)", cgroup_n0_mib(&a), SHARE_A_MIB,
		 ta < 0 ? "never within 5%" : "left it");
	hp_check(within_5pct(fast_a, SHARE_A_MIB) && within_5pct(fast_b, SHARE_B_MIB),
		 "hotpagectl's fast_bytes: a %.1f, b %.1f MiB", fast_a, fast_b);
	hp_check(hpc_stat(sock, NULL, "held_share_full") > 0 &&
			 hpc_stat(sock, "a", "held_share_full") > 0 &&
			 hpc_stat(sock, "b", "held_share_full") > 0,
		 "held for a full share: %llu in all, a %llu, b %llu",
		 (unsigned long long)hpc_stat(sock, NULL, "held_share_full"),
		 (unsigned long long)hpc_stat(sock, "a", "held_share_full"),
		 (unsigned long long)hpc_stat(sock, "b", "held_share_full"));
	hp_check(e2e_log_has(d.log, "share of the fast tier is full"),
		 "the log does not say why pages were held (log %s)", d.log);

	/* B detached: its pages stay; A's smaller share makes room they would take. */
	ctl("policy detach b");
	sleep(2);
	area_nodes(&b, b_before);
	ctl("policy detach a");
	ctl("policy attach a scope=cgroup:/hp-share-a share=16M");
	ta2 = wait_share(&a, SHARE_A2_MIB, &d, &out, DEADLINE_S);
	sleep(5);
	area_nodes(&b, b_after);
	for (size_t i = 0; i < AREA_PAGES; i++)
		moved += b_before[i] != b_after[i];
	report("a at 16M, b detached", &a, &b);
	printf("a within 5%% of its new share after %.0f s (-1: never); b: %zu pages moved after its "
	       "policy was detached\n",
	       ta2, moved);
	hp_check(ta2 >= 0, "a: %.1f MiB on node 0, %d s after its share became %d MiB",
		 cgroup_n0_mib(&a), DEADLINE_S, SHARE_A2_MIB);
	hp_check(!moved, "b: %zu pages moved after its policy was detached", moved);

	e2e_daemon_stop(&d);
	e2e_kill(filler);
	e2e_kill(idle);
	e2e_kill(out.pid);
	e2e_kill(a.pid);
	e2e_kill(b.pid);
	kmt_wait_idle(30000);
	hp_check(!rmdir(CGROOT "/hp-share-a") && !rmdir(CGROOT "/hp-share-b"),
		 "rmdir the cgroups: %s", strerror(errno));
	if (!memory_was_on)
		write_file(CGROOT "/cgroup.subtree_control", "-memory");
	hp_check(!kmt_unload(), "delete_module: %s", strerror(-errno));
	hp_settings_restore();
	printf("pass\n");
	return 0;
}
