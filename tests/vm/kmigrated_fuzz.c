// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test: kmigrated.ko takes hostile requests without harm.
 *
 * At least 100,000 random and hostile requests through the syscall path
 * (kmigrated_enqueue_batch from a syscall program) and as many through
 * the tracing path (an fentry program on do_getpgid calling
 * kmigrated_enqueue_batch and kmigrated_enqueue): random PFNs, PFNs next
 * to real ones, random PFNs inside System RAM (kernel, free, slab, page
 * cache and other processes' pages; those that pass the checks really
 * migrate), random and out-of-range nodes, random flags, vaddr requests
 * for this process, init and random tgids at random addresses.
 *
 * Afterwards: every request is accounted (requests = accepted + refused),
 * the queues drain, no page stays isolated, the kernel logged no BUG,
 * WARNING, Oops or "bad page", this process's pages hold their contents
 * and the guest still forks, runs programs and allocates memory.
 * HOTPAGE_FUZZ_SEED sets the seed (printed), HOTPAGE_FUZZ_N the count per path.
 * HOTPAGE_FUZZ_SHARED=1: the module is in use by others (hotpaged, in
 * tests/stress/stress_fuzz.c): keep the loaded module, and check only what
 * concurrent callers cannot move (results in range, requests counted at
 * least once each, contents, the kernel log); the caller checks the exact
 * accounting and isolation once everything has stopped.
 */
#include <sys/wait.h>

#include "hp_settings.h"
#include "kmigrated_test.h"
#include "kmigrated_enqueue.skel.h"

#define NPAGES 2048
#define FENTRY_MAX 256 /* as in kmigrated_enqueue.bpf.c */

static struct kmt_progs *progs;
static uint64_t rng;
static uint64_t ram[64][2]; /* System RAM PFN ranges */
static int nram;

static bool shared;

static void cleanup(void)
{
	if (progs)
		kmt_close_programs(progs);
	progs = NULL;
	if (kmt_loaded() && !shared)
		kmt_unload();
}

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void read_ram(void)
{
	unsigned long long start, end;
	char line[256];
	FILE *f = fopen("/proc/iomem", "r");

	hp_check(f, "open /proc/iomem: %s", strerror(errno));
	while (fgets(line, sizeof(line), f) && nram < 64) {
		/* Top-level ranges only (no leading spaces). */
		if (line[0] != ' ' && strstr(line, "System RAM") &&
		    sscanf(line, "%llx-%llx", &start, &end) == 2 && end > start) {
			ram[nram][0] = start / KMT_PAGE;
			ram[nram][1] = (end + 1) / KMT_PAGE;
			nram++;
		}
	}
	fclose(f);
	hp_check(nram, "no System RAM in /proc/iomem");
}

static uint16_t rnd_node(void)
{
	switch (rnd() % 6) {
	case 0:
	case 1:
		return 0;
	case 2:
		return 1;
	case 3:
		return (uint16_t)(2 + rnd() % 4);
	case 4:
		return 0xffff;
	default:
		return (uint16_t)rnd();
	}
}

static void make_req(struct kmigrated_req *r, const char *p, const uint64_t *pfns)
{
	uint64_t x = rnd();
	int i;

	memset(r, 0, sizeof(*r));
	r->node = rnd_node();
	switch (x % 10) {
	case 0: /* any 64-bit value */
		r->pfn = rnd();
		break;
	case 1: /* small PFNs: firmware, holes, the kernel */
		r->pfn = rnd() % 0x100000;
		break;
	case 2: /* next to this process's pages */
		r->pfn = pfns[rnd() % NPAGES] + (int64_t)(rnd() % 64) - 32;
		break;
	case 3: /* this process's pages, to a real node */
		r->pfn = pfns[rnd() % NPAGES];
		r->node = (uint16_t)(rnd() % 2);
		break;
	case 4:
	case 5: /* anywhere in System RAM, to a real node */
		i = (int)(rnd() % (uint64_t)nram);
		r->pfn = ram[i][0] + rnd() % (ram[i][1] - ram[i][0]);
		r->node = (uint16_t)(rnd() % 2);
		break;
	case 6: /* vaddr: this process */
		r->flags = KMIGRATED_REQ_VADDR;
		r->tgid = (uint32_t)getpid();
		r->vaddr = (uintptr_t)p + rnd() % (NPAGES * KMT_PAGE + (1 << 20)) - (1 << 19);
		r->node = (uint16_t)(rnd() % 3);
		break;
	case 7: /* vaddr: init, another tgid, anywhere */
		r->flags = KMIGRATED_REQ_VADDR;
		r->tgid = rnd() % 2 ? 1 : (uint32_t)(rnd() % 70000);
		r->vaddr = rnd() % 2 ? rnd() : 0x400000 + rnd() % (64ULL << 20);
		break;
	case 8: /* garbage flags and tgid */
		r->flags = (uint8_t)rnd();
		r->tgid = (uint32_t)rnd();
		r->pfn = rnd();
		break;
	default: /* a result field already set must not matter */
		r->pfn = pfns[rnd() % NPAGES];
		r->result = (uint8_t)rnd();
		break;
	}
}

static void check_guest_alive(void)
{
	size_t sz = 64UL << 20, i;
	char *m;
	pid_t pid;
	int st;

	pid = fork();
	hp_check(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "exit 42", (char *)NULL);
		_exit(1);
	}
	hp_check(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 42,
		 "sh -c 'exit 42' did not run (status %#x)", st);
	m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	hp_check(m != MAP_FAILED, "mmap 64 MiB: %s", strerror(errno));
	for (i = 0; i < sz; i += KMT_PAGE)
		m[i] = (char)i;
	for (i = 0; i < sz; i += KMT_PAGE)
		hp_check(m[i] == (char)i, "fresh memory reads back wrong");
	munmap(m, sz);
}

int main(void)
{
	uint64_t *pfns = calloc(NPAGES, 8), *sums = calloc(NPAGES, 8);
	uint64_t s0[KMIGRATED_NR_STATS], s1[KMIGRATED_NR_STATS], refused = 0;
	struct kmigrated_req *reqs;
	long n_per_path = 120000, accepted_sys = 0, accepted_tr = 0, runs = 0;
	long calls_tr = 0, i, j;
	const char *env;
	int kmsg, bad = 0;
	double t0, t_sys, t_tr, t_drain;
	char *p;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	/* NUMA balancing would move the test's pages, or hide them behind hint PTEs. */
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", false);
	hp_check(pfns && sums, "calloc");
	atexit(cleanup);
	env = getenv("HOTPAGE_FUZZ_SEED");
	rng = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) * 2654435761ULL;
	if (!rng)
		rng = 1;
	env = getenv("HOTPAGE_FUZZ_N");
	if (env && *env)
		n_per_path = strtol(env, NULL, 0);
	env = getenv("HOTPAGE_FUZZ_SHARED");
	shared = env && !strcmp(env, "1");
	printf("seed %#llx, %ld requests per path%s\n", (unsigned long long)rng, n_per_path,
	       shared ? ", module shared" : "");
	read_ram();
	kmsg = kmt_kmsg_open();
	if (!shared || !kmt_loaded())
		kmt_load_or_fail("");
	progs = kmt_open_programs(false);

	p = kmt_map_pages(NPAGES, 77);
	kmt_place(p, NPAGES, 1);
	kmt_sums(p, NPAGES, sums);
	kmt_pfns(p, NPAGES, pfns);
	kmt_stats(-1, s0);

	/* Syscall path. */
	reqs = calloc(KMIGRATED_BATCH_MAX, sizeof(*reqs));
	hp_check(reqs, "calloc");
	t0 = kmt_now_ms();
	for (i = 0; i < n_per_path; i += KMIGRATED_BATCH_MAX) {
		long n =
			n_per_path - i < KMIGRATED_BATCH_MAX ? n_per_path - i : KMIGRATED_BATCH_MAX;

		for (j = 0; j < n; j++)
			make_req(&reqs[j], p, pfns);
		accepted_sys += kmt_submit(progs, reqs, (size_t)n);
		for (j = 0; j < n; j++)
			hp_check(reqs[j].result < KMIGRATED_NR_RESULTS, "result %u out of range",
				 reqs[j].result);
		runs++;
	}
	free(reqs);
	t_sys = kmt_now_ms() - t0;
	printf("syscall path: %ld requests in %ld runs, %ld queued, %.0f ms\n", n_per_path, runs,
	       accepted_sys, t_sys);

	/* Tracing path: each getpgid(2) runs the fentry program once. */
	progs->enq->bss->fentry_tgid = (uint32_t)getpid();
	progs->enq->links.hp_kmig_fentry = bpf_program__attach(progs->enq->progs.hp_kmig_fentry);
	hp_check(progs->enq->links.hp_kmig_fentry, "attaching fentry/do_getpgid: %s",
		 strerror(errno));
	t0 = kmt_now_ms();
	for (i = 0; i < n_per_path; i += FENTRY_MAX + 1) {
		struct kmigrated_req one;

		for (j = 0; j < FENTRY_MAX; j++)
			make_req(&progs->enq->bss->fentry_reqs[j], p, pfns);
		make_req(&one, p, pfns);
		progs->enq->bss->fentry_nr = FENTRY_MAX;
		progs->enq->bss->fentry_single_on = 1;
		progs->enq->bss->fentry_single_pfn = one.pfn;
		progs->enq->bss->fentry_single_node = rnd() % 8 ? one.node : (uint32_t)rnd();
		progs->enq->bss->fentry_accepted = -1;
		hp_check(syscall(SYS_getpgid, 0) >= 0, "getpgid: %s", strerror(errno));
		hp_check(progs->enq->bss->fentry_accepted >= 0 &&
				 progs->enq->bss->fentry_accepted <= FENTRY_MAX,
			 "tracing path: kmigrated_enqueue_batch returned %d",
			 progs->enq->bss->fentry_accepted);
		accepted_tr += progs->enq->bss->fentry_accepted +
			       (progs->enq->bss->fentry_single_result == KMIGRATED_QUEUED);
		calls_tr++;
	}
	bpf_link__destroy(progs->enq->links.hp_kmig_fentry);
	progs->enq->links.hp_kmig_fentry = NULL;
	t_tr = kmt_now_ms() - t0;
	hp_check(progs->enq->bss->fentry_runs == (uint64_t)calls_tr,
		 "fentry program ran %llu times for %ld calls",
		 (unsigned long long)progs->enq->bss->fentry_runs, calls_tr);
	printf("tracing path: %ld requests in %ld program runs, %ld queued, %.0f ms\n",
	       calls_tr * (FENTRY_MAX + 1), calls_tr, accepted_tr, t_tr);

	t0 = kmt_now_ms();
	kmt_wait_idle(300000);
	t_drain = kmt_now_ms() - t0;
	kmt_stats(-1, s1);
	for (i = 0; i < KMIGRATED_NR_STATS; i++)
		s1[i] -= s0[i];
	kmt_print_stats("fuzz, counter deltas", s1);
	printf("queues drained in %.0f ms\n", t_drain);

	for (i = KMIGRATED_STAT_REFUSED_FIRST; i <= KMIGRATED_STAT_REFUSED_LAST; i++)
		refused += s1[i];
	if (shared) {
		/* Others submit too: at least ours, and isolation is checked by the caller. */
		hp_check(s1[KMIGRATED_STAT_REQUESTS] >=
				 (uint64_t)(n_per_path + calls_tr * (FENTRY_MAX + 1)),
			 "requests %llu, sent %ld", (unsigned long long)s1[KMIGRATED_STAT_REQUESTS],
			 n_per_path + calls_tr * (FENTRY_MAX + 1));
		hp_check(s1[KMIGRATED_STAT_ACCEPTED] >= (uint64_t)(accepted_sys + accepted_tr),
			 "accepted %llu, the programs saw %ld",
			 (unsigned long long)s1[KMIGRATED_STAT_ACCEPTED],
			 accepted_sys + accepted_tr);
	} else {
		hp_check(s1[KMIGRATED_STAT_REQUESTS] ==
				 (uint64_t)(n_per_path + calls_tr * (FENTRY_MAX + 1)),
			 "requests %llu, sent %ld", (unsigned long long)s1[KMIGRATED_STAT_REQUESTS],
			 n_per_path + calls_tr * (FENTRY_MAX + 1));
		hp_check(s1[KMIGRATED_STAT_ACCEPTED] + refused == s1[KMIGRATED_STAT_REQUESTS],
			 "accepted %llu + refused %llu != requests %llu",
			 (unsigned long long)s1[KMIGRATED_STAT_ACCEPTED],
			 (unsigned long long)refused,
			 (unsigned long long)s1[KMIGRATED_STAT_REQUESTS]);
		hp_check(s1[KMIGRATED_STAT_ACCEPTED] == (uint64_t)(accepted_sys + accepted_tr),
			 "accepted %llu, the programs saw %ld",
			 (unsigned long long)s1[KMIGRATED_STAT_ACCEPTED],
			 accepted_sys + accepted_tr);
		hp_check(s1[KMIGRATED_STAT_KFUNC_CALLS] == (uint64_t)(runs + 2 * calls_tr),
			 "kfunc_calls %llu, expected %ld",
			 (unsigned long long)s1[KMIGRATED_STAT_KFUNC_CALLS], runs + 2 * calls_tr);
		hp_check(kmt_isolated() == 0, "%lld pages still isolated", kmt_isolated());
	}

	for (i = 0; i < NPAGES; i++)
		hp_check(kmt_page_sum(p + i * KMT_PAGE) == sums[i], "page %ld changed content", i);
	check_guest_alive();

	kmt_close_programs(progs);
	progs = NULL;
	if (!shared)
		hp_check(!kmt_unload(), "unload: %s", strerror(errno));
	kmt_kmsg_scan(kmsg, NULL, NULL, 0, &bad);
	hp_check(!bad, "%d kernel problem reports in the log", bad);
	printf("pass: %llu hostile requests (%ld syscall, %ld tracing), %llu queued, %llu migrated; "
	       "no kernel problem, contents intact, guest alive\n",
	       (unsigned long long)s1[KMIGRATED_STAT_REQUESTS], n_per_path,
	       calls_tr * (FENTRY_MAX + 1), (unsigned long long)s1[KMIGRATED_STAT_ACCEPTED],
	       (unsigned long long)s1[KMIGRATED_STAT_MIGRATED]);
	return 0;
}
