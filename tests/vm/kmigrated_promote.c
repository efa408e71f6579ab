// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test: kmigrated.ko promotes pages from node 1 to node 0.
 *
 *  1. pfn route: N anonymous pages moved to node 1 with move_pages(2);
 *     batched requests for their PFNs (a syscall program) move them all
 *     to node 0 (move_pages with nodes=NULL says where they are), their
 *     contents are intact (checksums), and the counters add up.
 *  1b. demotion: the same pages back to node 1 with KMIGRATED_REQ_DEMOTE,
 *     counted in `demoted`, and the kernel's count of isolated pages
 *     back to zero (migrate_pages() leaves it alone for reclaim's own
 *     demotion reason, which the module must therefore not use).
 *  2. a transparent huge page, requested by one PFN, moves whole.
 *  3. vma route: requests by (tgid, address) move another region.
 *  4. rate limit: at 4 MB/s, 8 MiB take about two seconds.
 *  5. settings: bad values for the writable settings are refused with
 *     EINVAL and leave the old value.
 */
#include "hp_settings.h"
#include "kmigrated_test.h"

#define NPAGES 4096 /* 16 MiB */
#define NPAGES_VMA 1024
#define NPAGES_RATE 2048 /* 8 MiB */
#define THP_SIZE (2UL << 20)

static struct kmt_progs *progs;

static void cleanup(void)
{
	if (progs)
		kmt_close_programs(progs);
	progs = NULL;
	if (kmt_loaded())
		kmt_unload();
}

static void expect_stat(const uint64_t *before, const uint64_t *after, int id, uint64_t want)
{
	uint64_t got = after[id] - before[id];

	hp_check(got == want, "%s moved by %llu, expected %llu", kmt_stat_names[id],
		 (unsigned long long)got, (unsigned long long)want);
}

static void check_sums(const char *p, size_t npages, const uint64_t *sums, const char *what)
{
	size_t i;

	for (i = 0; i < npages; i++)
		hp_check(kmt_page_sum(p + i * KMT_PAGE) == sums[i], "%s: page %zu changed content",
			 what, i);
}

/*
 * Submits @n requests; those refused as not on an LRU are sent again, a
 * few times: a page the module has just migrated waits in a per-CPU batch
 * of the migrating thread's CPU before it is on an LRU list, and the module
 * refuses such a page until then. Any other refusal fails. Returns how
 * many were accepted in all.
 */
static long submit_settled(struct kmigrated_req *reqs, size_t n)
{
	long acc = kmt_submit(progs, reqs, n);

	for (int round = 0; round < 20 && (size_t)acc < n; round++) {
		struct kmigrated_req again[64];
		size_t nagain = 0;

		for (size_t i = 0; i < n; i++) {
			if (reqs[i].result == KMIGRATED_QUEUED)
				continue;
			hp_check(reqs[i].result == KMIGRATED_E_NOT_LRU,
				 "request %zu refused with %u, not as off an LRU", i,
				 reqs[i].result);
			hp_check(nagain < 64, "more than 64 pages off their LRU");
			again[nagain++] = reqs[i];
			reqs[i].result = KMIGRATED_QUEUED; /* counted below when accepted */
		}
		usleep(100 * 1000);
		acc += kmt_submit(progs, again, nagain);
		for (size_t i = 0, j = 0; i < n && j < nagain; i++) {
			if (reqs[i].pfn != again[j].pfn)
				continue;
			reqs[i].result = again[j++].result;
		}
	}
	return acc;
}

/* 1b. The pages of @p, now on node 0, demoted back to node 1. */
static void test_demote(char *p, const uint64_t *sums)
{
	uint64_t *pfns = calloc(NPAGES, 8);
	struct kmigrated_req *reqs = calloc(NPAGES, sizeof(*reqs));
	uint64_t s0[KMIGRATED_NR_STATS], s1[KMIGRATED_NR_STATS];
	long acc;

	hp_check(pfns && reqs, "calloc");
	kmt_pfns(p, NPAGES, pfns);
	for (size_t i = 0; i < NPAGES; i++)
		reqs[i] = (struct kmigrated_req){ .pfn = pfns[i],
						  .node = 1,
						  .flags = KMIGRATED_REQ_DEMOTE };
	kmt_stats(-1, s0);
	acc = submit_settled(reqs, NPAGES);
	hp_check(acc == NPAGES, "%ld of %d demotions accepted (first result %u)", acc, NPAGES,
		 reqs[0].result);
	hp_check(kmt_wait_stat("demoted", s0[KMIGRATED_STAT_DEMOTED] + NPAGES, 60000),
		 "demoted reached only %llu of %d",
		 (unsigned long long)(kmt_stat(-1, "demoted") - s0[KMIGRATED_STAT_DEMOTED]),
		 NPAGES);
	kmt_stats(-1, s1);
	hp_check(kmt_count_on(p, NPAGES, 1) == NPAGES, "only %zu of %d pages on node 1",
		 kmt_count_on(p, NPAGES, 1), NPAGES);
	check_sums(p, NPAGES, sums, "demotion");
	expect_stat(s0, s1, KMIGRATED_STAT_MIGRATED, NPAGES);
	expect_stat(s0, s1, KMIGRATED_STAT_DEMOTED, NPAGES);
	hp_check(kmt_isolated() == 0, "nr_isolated_anon + _file %lld after the demotions",
		 kmt_isolated());
	printf("pass: %d pages demoted to node 1, counted, nothing left isolated\n", NPAGES);
	free(pfns);
	free(reqs);
}

/* 1. The pfn route. */
static void test_pfn_route(void)
{
	uint64_t *pfns = calloc(NPAGES, 8), *sums = calloc(NPAGES, 8);
	struct kmigrated_req *reqs = calloc(NPAGES, sizeof(*reqs));
	uint64_t s0[KMIGRATED_NR_STATS], s1[KMIGRATED_NR_STATS], n1[KMIGRATED_NR_STATS];
	uint64_t n0[KMIGRATED_NR_STATS];
	double t0, t;
	char *p;
	long acc;
	size_t i;

	hp_check(pfns && sums && reqs, "calloc");
	p = kmt_map_pages(NPAGES, 1);
	kmt_place(p, NPAGES, 1);
	kmt_sums(p, NPAGES, sums);
	kmt_pfns(p, NPAGES, pfns);
	for (i = 0; i < NPAGES; i++) {
		hp_check(pfns[i], "page %zu has no PFN in pagemap", i);
		reqs[i] = (struct kmigrated_req){ .pfn = pfns[i], .node = 0 };
	}
	kmt_stats(-1, s0);
	kmt_stats(1, n0);
	t0 = kmt_now_ms();
	acc = kmt_submit(progs, reqs, NPAGES);
	hp_check(acc == NPAGES, "%ld of %d requests accepted (first result %u)", acc, NPAGES,
		 reqs[0].result);
	hp_check(kmt_wait_stat("migrated", s0[KMIGRATED_STAT_MIGRATED] + NPAGES, 60000),
		 "migrated reached only %llu of %d",
		 (unsigned long long)(kmt_stat(-1, "migrated") - s0[KMIGRATED_STAT_MIGRATED]),
		 NPAGES);
	t = kmt_now_ms() - t0;
	kmt_stats(-1, s1);
	kmt_stats(1, n1);
	kmt_print_stats("pfn route, totals", s1);
	printf("pfn route: %d pages node 1 -> 0 in %.0f ms (%.0f pages/s), %llu batches\n", NPAGES,
	       t, NPAGES * 1e3 / t,
	       (unsigned long long)(s1[KMIGRATED_STAT_BATCHES] - s0[KMIGRATED_STAT_BATCHES]));

	hp_check(kmt_count_on(p, NPAGES, 0) == NPAGES, "only %zu of %d pages on node 0",
		 kmt_count_on(p, NPAGES, 0), NPAGES);
	check_sums(p, NPAGES, sums, "pfn route");
	expect_stat(s0, s1, KMIGRATED_STAT_REQUESTS, NPAGES);
	expect_stat(s0, s1, KMIGRATED_STAT_ACCEPTED, NPAGES);
	expect_stat(s0, s1, KMIGRATED_STAT_MIGRATED, NPAGES);
	expect_stat(s0, s1, KMIGRATED_STAT_MIGRATED_VMA, 0);
	expect_stat(s0, s1, KMIGRATED_STAT_BYTES, (uint64_t)NPAGES * KMT_PAGE);
	expect_stat(s0, s1, KMIGRATED_STAT_KFUNC_CALLS,
		    (NPAGES + KMIGRATED_BATCH_MAX - 1) / KMIGRATED_BATCH_MAX);
	for (i = KMIGRATED_STAT_REFUSED_FIRST; i <= KMIGRATED_STAT_REFUSED_LAST; i++)
		expect_stat(s0, s1, (int)i, 0);
	for (i = KMIGRATED_STAT_FAILED_GONE; i <= KMIGRATED_STAT_DROPPED; i++)
		expect_stat(s0, s1, (int)i, 0);
	hp_check(s1[KMIGRATED_STAT_BATCHES] > s0[KMIGRATED_STAT_BATCHES], "no batch counted");
	/* Per node: the pages were on node 1, so node1/ has them all. */
	expect_stat(n0, n1, KMIGRATED_STAT_ACCEPTED, NPAGES);
	expect_stat(n0, n1, KMIGRATED_STAT_MIGRATED, NPAGES);
	hp_check(kmt_isolated() == 0, "nr_isolated_anon + _file %lld after the batch",
		 kmt_isolated());
	printf("pass: pfn route moved %d pages, checksums intact, counters add up\n", NPAGES);
	test_demote(p, sums);
	munmap(p, NPAGES * KMT_PAGE);
	free(pfns);
	free(sums);
	free(reqs);
}

/* 2. A THP, requested by the PFN of one of its pages, moves whole. */
static void test_thp(void)
{
	uint64_t pfn = 0, before, after, sum0, sum1;
	struct kmigrated_req req;
	char *raw, *p;
	int status = -1, res;
	char thp[64] = "";

	raw = mmap(NULL, 2 * THP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	hp_check(raw != MAP_FAILED, "mmap: %s", strerror(errno));
	p = (char *)(((uintptr_t)raw + THP_SIZE - 1) & ~(THP_SIZE - 1));
	madvise(p, THP_SIZE, MADV_HUGEPAGE);
	memset(p, 0x5a, THP_SIZE);
	p[12345] = 7;
	kmt_read_str("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof(thp));
	kmt_place(p, 1, 1);
	kmt_pfns(p + 5 * KMT_PAGE, 1, &pfn);
	/* AnonHugePages would tell too; the PFN being 2 MiB aligned minus 5 is enough. */
	if (!pfn || (pfn - 5) % 512) {
		printf("thp: no huge page formed (THP '%s'); not tested\n", thp);
		munmap(raw, 2 * THP_SIZE);
		return;
	}
	sum0 = kmt_page_sum(p + 3 * KMT_PAGE) ^ kmt_page_sum(p);
	before = kmt_stat(-1, "migrated");
	req = (struct kmigrated_req){ .pfn = pfn, .node = 0 };
	res = kmt_submit_one(progs, &req);
	hp_check(res == KMIGRATED_QUEUED, "THP request refused: %d", res);
	hp_check(kmt_wait_stat("migrated", before + 512, 30000), "THP: migrated moved by %llu",
		 (unsigned long long)(kmt_stat(-1, "migrated") - before));
	after = kmt_stat(-1, "migrated");
	kmt_move(p, 1, -1, &status);
	sum1 = kmt_page_sum(p + 3 * KMT_PAGE) ^ kmt_page_sum(p);
	hp_check(status == 0, "THP on node %d after migration", status);
	hp_check(sum0 == sum1 && p[12345] == 7, "THP content changed");
	kmt_pfns(p, 1, &pfn);
	hp_check(pfn % 512 == 0, "THP was split (head PFN %#llx)", (unsigned long long)pfn);
	printf("pass: one request moved a THP whole: migrated +%llu\n",
	       (unsigned long long)(after - before));
	munmap(raw, 2 * THP_SIZE);
}

/* 3. The vma route: requests by (tgid, address). */
static void test_vma_route(void)
{
	struct kmigrated_req *reqs = calloc(NPAGES_VMA, sizeof(*reqs));
	uint64_t *sums = calloc(NPAGES_VMA, 8);
	uint64_t s0[KMIGRATED_NR_STATS], s1[KMIGRATED_NR_STATS];
	char *p;
	size_t i;
	long acc;

	hp_check(reqs && sums, "calloc");
	p = kmt_map_pages(NPAGES_VMA, 3);
	kmt_place(p, NPAGES_VMA, 1);
	kmt_sums(p, NPAGES_VMA, sums);
	for (i = 0; i < NPAGES_VMA; i++)
		reqs[i] = (struct kmigrated_req){ .vaddr = (uintptr_t)(p + i * KMT_PAGE) + 17,
						  .tgid = (uint32_t)getpid(),
						  .node = 0,
						  .flags = KMIGRATED_REQ_VADDR };
	kmt_stats(-1, s0);
	acc = kmt_submit(progs, reqs, NPAGES_VMA);
	hp_check(acc == NPAGES_VMA, "%ld of %d vaddr requests accepted (first result %u)", acc,
		 NPAGES_VMA, reqs[0].result);
	hp_check(kmt_wait_stat("migrated_vma", s0[KMIGRATED_STAT_MIGRATED_VMA] + NPAGES_VMA, 60000),
		 "migrated_vma moved by %llu of %d",
		 (unsigned long long)(kmt_stat(-1, "migrated_vma") -
				      s0[KMIGRATED_STAT_MIGRATED_VMA]),
		 NPAGES_VMA);
	kmt_stats(-1, s1);
	kmt_print_stats("vma route, totals", s1);
	hp_check(kmt_count_on(p, NPAGES_VMA, 0) == NPAGES_VMA, "vma route: %zu of %d on node 0",
		 kmt_count_on(p, NPAGES_VMA, 0), NPAGES_VMA);
	check_sums(p, NPAGES_VMA, sums, "vma route");
	expect_stat(s0, s1, KMIGRATED_STAT_MIGRATED, NPAGES_VMA);
	expect_stat(s0, s1, KMIGRATED_STAT_MIGRATED_VMA, NPAGES_VMA);
	expect_stat(s0, s1, KMIGRATED_STAT_FAILED_VMA, 0);
	expect_stat(s0, s1, KMIGRATED_STAT_FAILED_MIGRATE, 0);
	/* Still writable and private after the move. */
	for (i = 0; i < NPAGES_VMA; i++)
		p[i * KMT_PAGE] ^= 1;
	printf("pass: vma route moved %d pages in %llu batches, checksums intact\n", NPAGES_VMA,
	       (unsigned long long)(s1[KMIGRATED_STAT_BATCHES] - s0[KMIGRATED_STAT_BATCHES]));
	munmap(p, NPAGES_VMA * KMT_PAGE);
	free(reqs);
	free(sums);
}

/* 4. The rate limit holds promotion to about rate_limit_mbps. */
static void test_rate_limit(void)
{
	struct kmigrated_req *reqs = calloc(NPAGES_RATE, sizeof(*reqs));
	uint64_t *pfns = calloc(NPAGES_RATE, 8), before, thr0;
	double t0, t, mbps;
	char *p;
	size_t i;

	hp_check(reqs && pfns, "calloc");
	p = kmt_map_pages(NPAGES_RATE, 4);
	kmt_place(p, NPAGES_RATE, 1);
	kmt_pfns(p, NPAGES_RATE, pfns);
	for (i = 0; i < NPAGES_RATE; i++)
		reqs[i] = (struct kmigrated_req){ .pfn = pfns[i], .node = 0 };
	hp_check(!kmt_set("rate_limit_mbps", "4"), "setting rate_limit_mbps: %s", strerror(errno));
	/* Let the bucket settle at its 100 ms burst. */
	usleep(300 * 1000);
	before = kmt_stat(-1, "migrated");
	thr0 = kmt_stat(-1, "throttled");
	t0 = kmt_now_ms();
	hp_check(kmt_submit(progs, reqs, NPAGES_RATE) == NPAGES_RATE, "requests refused");
	hp_check(kmt_wait_stat("migrated", before + NPAGES_RATE, 30000),
		 "rate limited run stalled");
	t = kmt_now_ms() - t0;
	mbps = NPAGES_RATE * 4096.0 / (1 << 20) / (t / 1e3);
	printf("rate limit 4 MB/s: 8 MiB in %.0f ms = %.2f MB/s, %llu waits\n", t, mbps,
	       (unsigned long long)(kmt_stat(-1, "throttled") - thr0));
	hp_check(mbps < 4.0 * 1.25, "rate limit not held: %.2f MB/s at 4 MB/s", mbps);
	hp_check(kmt_stat(-1, "throttled") > thr0, "no throttled wait counted");
	hp_check(!kmt_set("rate_limit_mbps", "0"), "setting rate_limit_mbps 0: %s",
		 strerror(errno));
	munmap(p, NPAGES_RATE * KMT_PAGE);
	free(reqs);
	free(pfns);
	printf("pass: rate limit held\n");
}

/* 5. Writable settings: bad values refused, old value kept. */
static void test_settings(void)
{
	static const struct {
		const char *file, *bad;
	} cases[] = {
		{ KMIGRATED_SYSFS_DIR "/batch_size", "0" },
		{ KMIGRATED_SYSFS_DIR "/batch_size", "4097" },
		{ KMIGRATED_SYSFS_DIR "/batch_size", "12abc" },
		{ KMIGRATED_SYSFS_DIR "/batch_size", "-1" },
		{ KMIGRATED_SYSFS_DIR "/rate_limit_mbps", "1048577" },
		{ KMIGRATED_SYSFS_DIR "/rate_limit_mbps", "fast" },
		{ KMIGRATED_SYSFS_PARAMS "/batch_size", "0" },
		{ KMIGRATED_SYSFS_PARAMS "/batch_size", "99999999999" },
		{ KMIGRATED_SYSFS_PARAMS "/rate_limit_mbps", "\n" },
		{ KMIGRATED_SYSFS_PARAMS "/large_folios", "maybe" },
	};
	char before[64], after[64];
	size_t i;
	int err;

	hp_check(!kmt_set("batch_size", "256"), "batch_size 256: %s", strerror(errno));
	hp_check(kmt_read_u64(KMIGRATED_SYSFS_PARAMS "/batch_size") == 256,
		 "module parameter does not follow sysfs");
	hp_check(!kmt_write(KMIGRATED_SYSFS_PARAMS "/batch_size", "512"), "param batch_size 512");
	hp_check(kmt_stat(-1, "batch_size") == 512, "sysfs does not follow the module parameter");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kmt_read_str(cases[i].file, before, sizeof(before));
		err = kmt_write(cases[i].file, cases[i].bad);
		kmt_read_str(cases[i].file, after, sizeof(after));
		hp_check(err == -EINVAL, "writing '%s' to %s: %s, expected EINVAL", cases[i].bad,
			 cases[i].file, err ? strerror(-err) : "accepted");
		hp_check(!strcmp(before, after), "%s changed from %s to %s on a refused write",
			 cases[i].file, before, after);
	}
	printf("pass: %zu bad settings refused with EINVAL, values kept\n",
	       sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
	int kmsg, bad = 0;
	char route[32];

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	/* NUMA balancing would move the test's pages, or hide them behind hint PTEs. */
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", false);
	atexit(cleanup);
	kmsg = kmt_kmsg_open();
	kmt_load_or_fail("rate_limit_mbps=0");
	kmt_read_str(KMIGRATED_SYSFS_DIR "/route", route, sizeof(route));
	printf("routes in service: %s\n", route);
	hp_check(!strcmp(route, "pfn vma"), "routes '%s', expected 'pfn vma'", route);
	progs = kmt_open_programs(false);

	test_pfn_route();
	test_thp();
	test_vma_route();
	test_rate_limit();
	test_settings();

	kmt_close_programs(progs);
	progs = NULL;
	hp_check(!kmt_unload(), "unload: %s", strerror(errno));
	kmt_kmsg_scan(kmsg, NULL, NULL, 0, &bad);
	hp_check(!bad, "%d kernel problem reports in the log", bad);
	printf("pass: promotion by both routes, THP, rate limit, settings\n");
	return 0;
}
