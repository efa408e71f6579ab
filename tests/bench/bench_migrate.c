// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark, run inside a guest (make bench-migrate boots them): move
 * 256 MiB of this process's anonymous memory from node 1 to node 0
 *
 *   kmigrated     PFN requests through the kfunc (batches of 1024 from a
 *                 syscall program), migrated by kmigrated1 (batch_size 512,
 *                 migrate_pages in MIGRATE_ASYNC mode)
 *   move_pages    move_pages(2), one call for all pages
 *   batched       move_pages(2), calls of 512 pages
 *
 * in the same boot, while two threads of this process spin on both vCPUs,
 * so that unmapping a page needs a TLB shootdown on the other CPU.
 *
 * Each run does the three ways one after the other, the order rotated from
 * run to run (kmigrated first, then move_pages first, then batched first),
 * and the figures are medians over the runs; the ratio kmigrated /
 * move_pages is the median of each run's own ratio, the two ways measured
 * seconds apart. Under TCG a way's speed depends on how much of the host's
 * CPUs the guest's vCPUs get while it runs, far more on kernels that flush
 * the TLB page by page (6.1: every page waits until the other vCPU has
 * taken the shootdown IPI, so both must be on a host CPU at once), and one
 * run of each way can be off by a factor of ten when something else keeps
 * the host busy for a while: the spread (fastest / slowest run of a way,
 * the largest of the three) is printed and written, "noisy" when above 1.5.
 * Prints
 * pages/s, the ratio kmigrated / move_pages, and TLB shootdown interrupts
 * (the TLB line of /proc/interrupts, all CPUs) per migrated page; with
 * --out FILE writes them as JSON. For each way it also prints where the
 * migrating thread's time went (/proc/PID/schedstat: on a CPU, waiting for
 * one, asleep) and its CPU time per page (*_cpu_us_per_page in the JSON):
 * the spinners leave it half of a CPU, and its CPU time per page, not the
 * wall clock, shows what each way costs.
 *
 *   bench_migrate [--out FILE] [--mib N] [--runs N]
 */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>

#include "kmigrated_test.h"

#define MOVE_BATCH 512

static volatile int spin_stop;
static size_t npages;
static char *region;

static void *spinner(void *arg)
{
	long cpu = (long)arg;
	cpu_set_t set;
	volatile uint64_t x = 0;

	CPU_ZERO(&set);
	CPU_SET((int)cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	while (!spin_stop)
		x = x + region[(x % 64) * KMT_PAGE];
	return NULL;
}

/* Sum of the TLB shootdown interrupts of all CPUs. */
static uint64_t tlb_shootdowns(void)
{
	char line[4096];
	uint64_t sum = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	hp_check(f, "open /proc/interrupts: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *end;

		while (*s == ' ')
			s++;
		if (strncmp(s, "TLB:", 4))
			continue;
		s += 4;
		for (;;) {
			unsigned long long v = strtoull(s, &end, 10);

			if (end == s)
				break;
			sum += v;
			s = end;
		}
	}
	fclose(f);
	return sum;
}

struct result {
	double pages_per_s;
	double tlb_per_page;
	double cpu_us_per_page; /* the migrating thread's CPU time */
};

/*
 * Where a thread's time went, from /proc/.../schedstat: on a CPU and
 * runnable but waiting for one (the rest of the wall time it slept).
 */
struct sched_times {
	double run_ms;
	double wait_ms;
};

static struct sched_times sched_times(const char *path)
{
	unsigned long long run = 0, wait = 0;
	struct sched_times t = { 0, 0 };
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%llu %llu", &run, &wait) == 2) {
			t.run_ms = run / 1e6;
			t.wait_ms = wait / 1e6;
		}
		fclose(f);
	}
	return t;
}

/* /proc/<pid>/schedstat of the kernel thread named @comm, or "". */
static void kthread_schedstat(const char *comm, char *path, size_t size)
{
	struct dirent *de;
	char p[300], name[32];
	DIR *d = opendir("/proc");

	path[0] = '\0';
	hp_check(d, "opendir /proc: %s", strerror(errno));
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/comm", de->d_name);
		kmt_read_str(p, name, sizeof(name));
		if (!strcmp(name, comm)) {
			snprintf(path, size, "/proc/%s/schedstat", de->d_name);
			break;
		}
	}
	closedir(d);
}

/* Setup: all pages to node 1 (retried: a page busy at the time stays put). */
static void to_node1(void)
{
	int *status = calloc(MOVE_BATCH, sizeof(int));
	size_t i, n, on1 = 0;
	int tries;

	hp_check(status, "calloc");
	for (tries = 0; tries < 10 && on1 < npages; tries++) {
		for (i = 0; i < npages; i += MOVE_BATCH) {
			n = npages - i < MOVE_BATCH ? npages - i : MOVE_BATCH;
			kmt_move(region + i * KMT_PAGE, n, 1, status);
		}
		kmt_move(region, 1, 1, status); /* drain the per-CPU LRU batches */
		on1 = kmt_count_on(region, npages, 1);
	}
	if (on1 != npages) {
		int *st = calloc(npages, sizeof(int));

		hp_check(st, "calloc");
		kmt_move(region, npages, -1, st);
		for (i = 0; i < npages; i++)
			if (st[i] != 1) {
				printf("page %zu: status %d\n", i, st[i]);
				break;
			}
		free(st);
	}
	free(status);
	hp_check(on1 == npages, "setup: %zu of %zu pages on node 1", on1, npages);
}

static void finish(const char *what, double t0, uint64_t tlb0, struct result *r)
{
	double t = kmt_now_ms() - t0;
	uint64_t tlb = tlb_shootdowns() - tlb0;
	size_t on0 = kmt_count_on(region, npages, 0);

	hp_check(on0 == npages, "%s: %zu of %zu pages on node 0", what, on0, npages);
	r->pages_per_s = npages * 1e3 / t;
	r->tlb_per_page = (double)tlb / npages;
	printf("%-12s %8.0f pages/s  %7.1f ms  %8llu TLB shootdowns  %.4f per page\n", what,
	       r->pages_per_s, t, (unsigned long long)tlb, r->tlb_per_page);
}

static void run_kmigrated(struct kmt_progs *progs, struct result *r)
{
	struct kmigrated_req *reqs = calloc(npages, sizeof(*reqs));
	uint64_t *pfns = calloc(npages, 8), migrated0, tlb0, ns0;
	struct sched_times k0, k1, s0, s1;
	char kpath[320];
	double t0, wall;
	long acc;
	size_t i;

	hp_check(reqs && pfns, "calloc");
	to_node1();
	kmt_pfns(region, npages, pfns);
	for (i = 0; i < npages; i++)
		reqs[i] = (struct kmigrated_req){ .pfn = pfns[i], .node = 0 };
	kthread_schedstat("kmigrated1", kpath, sizeof(kpath));
	migrated0 = kmt_stat(-1, "migrated");
	ns0 = kmt_stat(1, "thread_ns");
	k0 = sched_times(kpath);
	s0 = sched_times("/proc/thread-self/schedstat");
	tlb0 = tlb_shootdowns();
	t0 = kmt_now_ms();
	acc = kmt_submit(progs, reqs, npages);
	s1 = sched_times("/proc/thread-self/schedstat");
	hp_check(acc == (long)npages, "%ld of %zu requests accepted", acc, npages);
	while (kmt_stat(-1, "migrated") < migrated0 + npages) {
		hp_check(kmt_now_ms() - t0 < 300000, "kmigrated: only %llu of %zu migrated",
			 (unsigned long long)(kmt_stat(-1, "migrated") - migrated0), npages);
		/* Polling costs CPU the migration needs: not too often. */
		usleep(10 * 1000);
	}
	wall = kmt_now_ms() - t0;
	k1 = sched_times(kpath);
	finish("kmigrated", t0, tlb0, r);
	r->cpu_us_per_page = (kmt_stat(1, "thread_ns") - ns0) / 1e3 / npages;
	printf("  kmigrated1 %.0f ms on a CPU (%.1f us/page), %.0f ms waiting for one, %.0f ms asleep; submitting %.0f ms on a CPU (%.2f us/page) in %.0f ms\n",
	       k1.run_ms - k0.run_ms, r->cpu_us_per_page, k1.wait_ms - k0.wait_ms,
	       wall - (k1.run_ms - k0.run_ms) - (k1.wait_ms - k0.wait_ms), s1.run_ms - s0.run_ms,
	       (s1.run_ms - s0.run_ms) * 1e3 / npages,
	       s1.run_ms - s0.run_ms + s1.wait_ms - s0.wait_ms);
	free(reqs);
	free(pfns);
}

static void run_move_pages(size_t batch, struct result *r)
{
	void **addrs = calloc(npages, sizeof(*addrs));
	int *nodes = calloc(npages, sizeof(int)), *status = calloc(npages, sizeof(int));
	struct sched_times c0, c1;
	uint64_t tlb0;
	double t0;
	size_t i, n;

	hp_check(addrs && nodes && status, "calloc");
	to_node1();
	for (i = 0; i < npages; i++) {
		addrs[i] = region + i * KMT_PAGE;
		nodes[i] = 0;
	}
	c0 = sched_times("/proc/thread-self/schedstat");
	tlb0 = tlb_shootdowns();
	t0 = kmt_now_ms();
	for (i = 0; i < npages; i += batch) {
		n = npages - i < batch ? npages - i : batch;
		hp_check(move_pages(0, n, addrs + i, nodes + i, status + i, MPOL_MF_MOVE) >= 0,
			 "move_pages: %s", strerror(errno));
	}
	c1 = sched_times("/proc/thread-self/schedstat");
	finish(batch == npages ? "move_pages" : "batched", t0, tlb0, r);
	r->cpu_us_per_page = (c1.run_ms - c0.run_ms) * 1e3 / npages;
	printf("  caller %.0f ms on a CPU (%.1f us/page), %.0f ms waiting for one\n",
	       c1.run_ms - c0.run_ms, r->cpu_us_per_page, c1.wait_ms - c0.wait_ms);
	free(addrs);
	free(nodes);
	free(status);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median over runs of each field. */
static struct result median(struct result *rs, int n)
{
	double a[16], b[16], c[16];
	struct result m;
	int i;

	for (i = 0; i < n; i++) {
		a[i] = rs[i].pages_per_s;
		b[i] = rs[i].tlb_per_page;
		c[i] = rs[i].cpu_us_per_page;
	}
	qsort(a, (size_t)n, sizeof(double), cmp_double);
	qsort(b, (size_t)n, sizeof(double), cmp_double);
	qsort(c, (size_t)n, sizeof(double), cmp_double);
	m.pages_per_s = a[n / 2];
	m.tlb_per_page = b[n / 2];
	m.cpu_us_per_page = c[n / 2];
	return m;
}

/* Fastest over slowest run of a way. */
static double spread_of(const struct result *rs, int n)
{
	double lo = rs[0].pages_per_s, hi = rs[0].pages_per_s;
	int i;

	for (i = 1; i < n; i++) {
		lo = fmin(lo, rs[i].pages_per_s);
		hi = fmax(hi, rs[i].pages_per_s);
	}
	return lo > 0 ? hi / lo : 0;
}

int main(int argc, char **argv)
{
	struct result km[16], mp[16], mb[16], k, m, b;
	double ratios[16], ratio, spread;
	const char *out = NULL, *kernel = getenv("HOTPAGE_VM_KERNEL");
	struct kmt_progs *progs;
	pthread_t thr[2];
	size_t mib = 256;
	int i, j, runs = 1;
	char numab[16];
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else
			hp_fail("usage: bench_migrate [--out FILE] [--mib N] [--runs N]");
	}
	hp_check(runs >= 1 && runs <= 16, "--runs 1..16");
	hp_require_root();
	/*
	 * NUMA balancing would move the spinners' pages itself and hide pages
	 * from move_pages(2) while their PTEs are PROT_NONE hints: off for all.
	 */
	kmt_read_str("/proc/sys/kernel/numa_balancing", numab, sizeof(numab));
	hp_check(!kmt_write("/proc/sys/kernel/numa_balancing", "0"), "numa_balancing off");
	npages = mib * (1 << 20) / KMT_PAGE;
	kmt_load_or_fail("rate_limit_mbps=0 queue_depth=131072");
	progs = kmt_open_programs(false);
	region = kmt_map_pages(npages, 1);
	for (i = 0; i < 2; i++)
		hp_check(!pthread_create(&thr[i], NULL, spinner, (void *)(long)i),
			 "pthread_create");
	printf("%zu MiB (%zu base pages) node 1 -> node 0, two threads spinning on CPUs 0 and 1, %d runs, NUMA balancing off (was %s)\n",
	       mib, npages, runs, numab);
	for (i = 0; i < runs; i++) {
		for (j = 0; j < 3; j++) {
			switch ((i + j) % 3) {
			case 0:
				run_kmigrated(progs, &km[i]);
				break;
			case 1:
				run_move_pages(npages, &mp[i]);
				break;
			default:
				run_move_pages(MOVE_BATCH, &mb[i]);
				break;
			}
		}
		ratios[i] = km[i].pages_per_s / mp[i].pages_per_s;
		printf("run %d: ratio kmigrated/move_pages %.2f\n", i + 1, ratios[i]);
	}
	spin_stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(thr[i], NULL);
	k = median(km, runs);
	m = median(mp, runs);
	b = median(mb, runs);
	qsort(ratios, (size_t)runs, sizeof(double), cmp_double);
	ratio = ratios[runs / 2];
	spread = fmax(fmax(spread_of(km, runs), spread_of(mp, runs)), spread_of(mb, runs));
	printf("median: kmigrated %.0f pages/s (%.4f TLB/page), move_pages %.0f pages/s (%.4f), batched %.0f pages/s (%.4f); ratio kmigrated/move_pages %.2f\n",
	       k.pages_per_s, k.tlb_per_page, m.pages_per_s, m.tlb_per_page, b.pages_per_s,
	       b.tlb_per_page, ratio);
	printf("spread (fastest / slowest run of a way): %.2f%s\n", spread,
	       spread > 1.5 ? ": noisy, the host was busy during some runs" : "");
	if (out) {
		f = fopen(out, "w");
		hp_check(f, "open %s: %s", out, strerror(errno));
		fprintf(f,
			"{\n  \"kernel\": \"%s\",\n  \"release\": \"%s\",\n  \"pages\": %zu,\n  \"runs\": %d,\n"
			"  \"kmigrated_pages_per_s\": %.0f,\n  \"move_pages_pages_per_s\": %.0f,\n"
			"  \"move_pages_batched_pages_per_s\": %.0f,\n  \"ratio_vs_move_pages\": %.3f,\n"
			"  \"tlb_ipis_per_page\": %.4f,\n  \"move_pages_tlb_ipis_per_page\": %.4f,\n"
			"  \"move_pages_batched_tlb_ipis_per_page\": %.4f,\n"
			"  \"kmigrated_cpu_us_per_page\": %.2f,\n  \"move_pages_cpu_us_per_page\": %.2f,\n"
			"  \"move_pages_batched_cpu_us_per_page\": %.2f,\n"
			"  \"spread\": %.2f,\n  \"noisy\": %s\n}\n",
			kernel ? kernel : "",
			getenv("HOTPAGE_VM_RELEASE") ? getenv("HOTPAGE_VM_RELEASE") : "", npages,
			runs, k.pages_per_s, m.pages_per_s, b.pages_per_s, ratio, k.tlb_per_page,
			m.tlb_per_page, b.tlb_per_page, k.cpu_us_per_page, m.cpu_us_per_page,
			b.cpu_us_per_page, spread, spread > 1.5 ? "true" : "false");
		fclose(f);
		printf("wrote %s\n", out);
	}
	kmt_close_programs(progs);
	kmt_unload();
	kmt_write("/proc/sys/kernel/numa_balancing", numab);
	return 0;
}
