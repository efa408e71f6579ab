// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test: the scan source. With NUMA balancing off and no PMU, a
 * process with half of a region on node 1 (the lower tier: what to
 * promote) and half on node 0 (the top tier: what has gone cold) touches
 * a known subset of both halves; the `scan` source (kmigrated.ko's
 * accessed-bit scanner, which watches every node with memory, its
 * tracepoint, bpf/scan.bpf.c, the shared per-CPU rings) reports that
 * subset, each page with its own node, and almost nothing else, within
 * two scan periods. The records are the same struct hp_event as every
 * source's (HP_SRC_SCAN, tgid, address, PFN, node). Also: the scanner's
 * cost is counted, its scope follows the source (and the kfunc and
 * sysfs), and bad settings are refused.
 */
#include "kmigrated_test.h"
#include "scan_source.h"
#include "transport.h"
#include "kmigrated_enqueue.skel.h"

/* Why the last start of a source failed. */
static char start_err[512];

#define NPAGES 1024
#define STRIDE 8 /* every 8th page is touched */
#define PERIOD_MS 200

struct collect {
	const char *region;
	uint32_t tgid;
	unsigned int hits[NPAGES];
	uint64_t pfn[NPAGES];
	int node[NPAGES];
	long outside, bad, huge;
};

/* The first half of the region is on node 1, the second on node 0. */
static int expected_node(size_t i)
{
	return i < NPAGES / 2 ? 1 : 0;
}

static struct kmt_progs *progs;
static char numab[16];

static void cleanup(void)
{
	if (progs)
		kmt_close_programs(progs);
	progs = NULL;
	if (kmt_loaded())
		kmt_unload();
	if (numab[0])
		kmt_write("/proc/sys/kernel/numa_balancing", numab);
}

static int on_event(const struct hp_event *ev, void *ctx)
{
	struct collect *c = ctx;
	uintptr_t a = (uintptr_t)ev->addr, base = (uintptr_t)c->region;

	if (ev->source != HP_SRC_SCAN || ev->tgid != c->tgid || ev->page_node < 0 ||
	    ev->page_node > 1) {
		c->bad++;
		return 0;
	}
	if (ev->flags & HP_EV_HUGE)
		c->huge++;
	if (a >= base && a < base + NPAGES * KMT_PAGE) {
		size_t i = (a - base) / KMT_PAGE;

		c->hits[i]++;
		c->pfn[i] = ev->pfn;
		c->node[i] = ev->page_node;
	} else {
		c->outside++;
	}
	return 0;
}

/* Consumes events until the scanner has done @passes more passes. */
static void run_passes(struct hp_transport *t, int passes)
{
	uint64_t want = kmt_stat(-1, "scan_passes") + (uint64_t)passes;
	double deadline = kmt_now_ms() + 20.0 * PERIOD_MS * passes + 5000;

	while (kmt_stat(-1, "scan_passes") < want) {
		hp_check(kmt_now_ms() < deadline, "the scanner did not make %d passes", passes);
		hp_transport_poll(t, 20);
	}
	/* Records of the last pass may still be in the rings, or staged. */
	hp_transport_drain(t);
}

static int scope_kfunc(uint32_t tgid, uint32_t op)
{
	struct {
		uint32_t tgid, op;
		int32_t result;
	} ctx = { tgid, op, 1 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));

	hp_check(!bpf_prog_test_run_opts(bpf_program__fd(progs->enq->progs.hp_kmig_scan_scope),
					 &opts),
		 "running hp_kmig_scan_scope: %s", strerror(errno));
	return ctx.result;
}

static void expect_scope(const char *want)
{
	char got[256];

	kmt_read_str(HP_SCAN_TGIDS, got, sizeof(got));
	hp_check(!strcmp(got, want), "scan_tgids '%s', expected '%s'", got, want);
}

static void test_scope_and_settings(void)
{
	char pid[16], both[40], before[64], after[64];
	int err;

	snprintf(pid, sizeof(pid), "%d", getpid());
	snprintf(both, sizeof(both), "%d 1", getpid());
	progs = kmt_open_programs(false);
	hp_check(scope_kfunc((uint32_t)getpid(), KMIGRATED_SCAN_ADD) == 0, "kfunc add");
	expect_scope(pid);
	hp_check(scope_kfunc(1, KMIGRATED_SCAN_ADD) == 0, "kfunc add 1");
	expect_scope(both);
	hp_check(scope_kfunc(1, KMIGRATED_SCAN_DEL) == 0, "kfunc del");
	expect_scope(pid);
	hp_check(scope_kfunc(0, KMIGRATED_SCAN_ALL) == 0, "kfunc all");
	expect_scope("all");
	hp_check(scope_kfunc(0, KMIGRATED_SCAN_NONE) == 0, "kfunc none");
	expect_scope("none");
	hp_check(scope_kfunc(0, KMIGRATED_SCAN_ADD) == -EINVAL, "kfunc add tgid 0 accepted");
	hp_check(scope_kfunc(5, 9) == -EINVAL, "kfunc op 9 accepted");
	kmt_close_programs(progs);
	progs = NULL;

	hp_check(!kmt_write(HP_SCAN_TGIDS, "all"), "scan_tgids all");
	expect_scope("all");
	hp_check(!kmt_write(HP_SCAN_TGIDS, "none"), "scan_tgids none");
	expect_scope("none");
	err = kmt_write(HP_SCAN_TGIDS, "12 abc");
	hp_check(err == -EINVAL, "scan_tgids '12 abc': %s", err ? strerror(-err) : "accepted");
	expect_scope("none");
	err = kmt_write(HP_SCAN_TGIDS, "0");
	hp_check(err == -EINVAL, "scan_tgids '0': %s", err ? strerror(-err) : "accepted");
	kmt_read_str(HP_SCAN_PERIOD, before, sizeof(before));
	err = kmt_write(HP_SCAN_PERIOD, "5");
	kmt_read_str(HP_SCAN_PERIOD, after, sizeof(after));
	hp_check(err == -EINVAL && !strcmp(before, after), "scan_period_ms 5: %s, %s -> %s",
		 err ? strerror(-err) : "accepted", before, after);
	err = kmt_write(HP_SCAN_PAGES, "0");
	hp_check(err == -EINVAL, "scan_pages 0: %s", err ? strerror(-err) : "accepted");
	for (size_t i = 0; i < 3; i++) {
		static const char *const bad_every[] = { "0", "65", "2x" };

		err = kmt_write(HP_SCAN_TOP_EVERY, bad_every[i]);
		hp_check(err == -EINVAL && kmt_read_u64(HP_SCAN_TOP_EVERY) == 1,
			 "scan_top_every %s: %s", bad_every[i], err ? strerror(-err) : "accepted");
	}
	printf("pass: scope through the kfunc and sysfs, bad settings refused\n");
}

/*
 * scan_top_every=4: the pages of node 0 (it has the CPUs: the top tier)
 * are tested every fourth sweep, those of node 1 every sweep. Touched
 * before each of 8 sweeps, every page is still reported, node 1's at each
 * sweep and node 0's at the sweeps that test it, from the accessed bit
 * that kept the touches in between.
 */
static void test_top_every(struct hp_transport *t, char *p, struct collect *c)
{
	const unsigned int every = 4, sweeps = 8;
	unsigned int least[2] = { ~0U, ~0U }, most[2] = { 0, 0 };
	uint64_t top0, sweeps0, top, swept;
	volatile char sink = 0;

	hp_check(!kmt_write(HP_SCAN_TOP_EVERY, "4"), "scan_top_every 4");
	run_passes(t, 1);
	memset(c->hits, 0, sizeof(c->hits));
	top0 = kmt_stat(-1, "scan_top_sweeps");
	sweeps0 = kmt_stat(-1, "scan_sweeps");
	for (unsigned int s = 0; s < sweeps; s++) {
		for (size_t i = 0; i < NPAGES; i += STRIDE)
			sink = (char)(sink + p[i * KMT_PAGE + 100]);
		run_passes(t, 1);
	}
	top = kmt_stat(-1, "scan_top_sweeps") - top0;
	swept = kmt_stat(-1, "scan_sweeps") - sweeps0;
	for (size_t i = 0; i < NPAGES; i += STRIDE) {
		int n = expected_node(i);

		least[n] = c->hits[i] < least[n] ? c->hits[i] : least[n];
		most[n] = c->hits[i] > most[n] ? c->hits[i] : most[n];
	}
	printf("scan_top_every=%u: %llu sweeps, %llu of them testing node 0; reports per touched page: node 1 %u-%u, node 0 %u-%u\n",
	       every, (unsigned long long)swept, (unsigned long long)top, least[1], most[1],
	       least[0], most[0]);
	hp_check(!kmt_write(HP_SCAN_TOP_EVERY, "1"), "scan_top_every 1");
	hp_check(swept >= sweeps && top >= swept / every - 1 && top <= swept / every + 1,
		 "%llu of %llu sweeps tested the top tier, every %u expected",
		 (unsigned long long)top, (unsigned long long)swept, every);
	hp_check(least[1] >= sweeps - 1, "a node-1 page reported in %u of %u sweeps", least[1],
		 sweeps);
	hp_check(least[0] >= 1 && most[0] <= top,
		 "node-0 pages reported %u to %u times in %llu top-tier sweeps", least[0], most[0],
		 (unsigned long long)top);
	(void)sink;
}

int main(void)
{
	static struct collect c;
	struct hp_transport_opts topts = { .on_event = on_event, .ctx = &c };
	uint32_t tgid = (uint32_t)getpid();
	struct hp_source_opts sopts = { .filter_mode = HP_FILTER_TGIDS,
					.tgids = &tgid,
					.nr_tgids = 1,
					.param = "period_ms=200,pages=100000" };
	struct hp_source_instance *src = NULL;
	struct hp_source_probe probe;
	struct hp_source_stats st;
	struct hp_transport *t = NULL;
	uint64_t *pfns = calloc(NPAGES, 8), passes0, ns0, passes, ns;
	volatile char sink = 0;
	char err[256], nodes[32];
	long touched = 0, reported = 0, reported_top = 0, missed = 0, extra = 0;
	double t_touch;
	int kmsg, bad = 0;
	size_t i;
	char *p;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	hp_check(pfns, "calloc");
	atexit(cleanup);
	kmt_read_str("/proc/sys/kernel/numa_balancing", numab, sizeof(numab));
	hp_check(!kmt_write("/proc/sys/kernel/numa_balancing", "0"), "numa_balancing 0");
	kmsg = kmt_kmsg_open();
	kmt_load_or_fail("scan_period_ms=1000");
	kmt_read_str(KMIGRATED_SYSFS_DIR "/scan_nodes", nodes, sizeof(nodes));
	printf("scanner watches nodes %s; NUMA balancing off (was %s)\n", nodes, numab);
	hp_check(!strcmp(nodes, "0-1"), "scan_nodes '%s', expected '0-1' (every node with memory)",
		 nodes);
	test_scope_and_settings();

	hp_source_scan.probe(&probe);
	hp_check(probe.available, "scan source unavailable: %s", probe.why);
	printf("scan source: %s\n", probe.how);

	p = kmt_map_pages(NPAGES, 21);
	/* Base pages: a huge page would be reported once, for its head. */
	hp_check(!madvise(p, NPAGES * KMT_PAGE, MADV_NOHUGEPAGE), "madvise: %s", strerror(errno));
	kmt_place(p, NPAGES / 2, 1);
	kmt_place(p + NPAGES / 2 * KMT_PAGE, NPAGES / 2, 0);
	kmt_pfns(p, NPAGES, pfns);
	c.region = p;
	c.tgid = tgid;
	hp_check(!hp_transport_new(&topts, &t, err, sizeof(err)), "transport: %s", err);
	hp_check(!hp_source_scan.start(t, &sopts, &src, start_err, sizeof(start_err)),
		 "starting the scan source: %s", start_err);
	snprintf(err, sizeof(err), "%u", tgid);
	expect_scope(err);
	hp_check(kmt_read_u64(HP_SCAN_PERIOD) == PERIOD_MS, "period_ms param not applied");

	/* Two passes clear what the setup touched. */
	run_passes(t, 2);
	memset(c.hits, 0, sizeof(c.hits));
	c.outside = c.bad = 0;
	passes0 = kmt_stat(-1, "scan_passes");
	ns0 = kmt_stat(-1, "scan_ns");

	t_touch = kmt_now_ms();
	for (i = 0; i < NPAGES; i += STRIDE) {
		sink = (char)(sink + p[i * KMT_PAGE + 100]);
		touched++;
	}
	run_passes(t, 2);
	passes = kmt_stat(-1, "scan_passes") - passes0;
	ns = kmt_stat(-1, "scan_ns") - ns0;
	for (i = 0; i < NPAGES; i++) {
		if (i % STRIDE == 0) {
			if (c.hits[i]) {
				reported++;
				hp_check(c.pfn[i] == pfns[i],
					 "page %zu reported with PFN %#llx, not %#llx", i,
					 (unsigned long long)c.pfn[i], (unsigned long long)pfns[i]);
				hp_check(c.node[i] == expected_node(i),
					 "page %zu reported on node %d, it is on node %d", i,
					 c.node[i], expected_node(i));
				if (expected_node(i) == 0)
					reported_top++;
			} else {
				missed++;
			}
		} else if (c.hits[i]) {
			extra++;
		}
	}
	printf("touched %ld pages at %.0f ms; within %llu passes (%.0f ms): %ld reported (%ld on node 0), %ld missed, %ld untouched pages reported, %ld reports outside the region, %ld foreign, %ld huge\n",
	       touched, t_touch, (unsigned long long)passes, kmt_now_ms() - t_touch, reported,
	       reported_top, missed, extra, c.outside, c.bad, c.huge);
	printf("scanner cost: %.2f ms CPU per pass (%llu ns over %llu passes); %llu PTEs tested, %llu accessed in all\n",
	       passes ? ns / 1e6 / (double)passes : 0.0, (unsigned long long)ns,
	       (unsigned long long)passes, (unsigned long long)kmt_stat(-1, "scan_ptes"),
	       (unsigned long long)kmt_stat(-1, "scan_accessed"));
	hp_check(missed == 0, "%ld of %ld touched pages not reported within two scan periods",
		 missed, touched);
	hp_check(extra <= touched / 20, "%ld untouched pages reported", extra);
	hp_check(c.bad == 0, "%ld records from other sources, processes or nodes", c.bad);
	hp_check(reported_top == touched / 2, "%ld of the %ld touched node-0 pages reported",
		 reported_top, touched / 2);
	hp_check(kmt_stat(-1, "scan_accessed_top") >= (uint64_t)reported_top,
		 "scan_accessed_top %llu below the %ld node-0 pages reported",
		 (unsigned long long)kmt_stat(-1, "scan_accessed_top"), reported_top);
	hp_check(ns > 0, "scan_ns did not move");
	hp_check(!hp_source_read_stats(hp_source_scan.object(src), &st), "source stats");
	printf("source counters: seen %llu, sampled %llu, emitted %llu, dropped %llu\n",
	       (unsigned long long)st.seen, (unsigned long long)st.sampled,
	       (unsigned long long)st.emitted, (unsigned long long)st.dropped);
	hp_check(st.emitted >= (uint64_t)reported && st.dropped == 0, "source counters off");
	test_top_every(t, p, &c);

	hp_source_scan.stop(src);
	expect_scope("none");
	hp_transport_free(t);
	(void)sink;
	hp_check(!kmt_unload(), "unload: %s", strerror(errno));
	kmt_kmsg_scan(kmsg, NULL, NULL, 0, &bad);
	hp_check(!bad, "%d kernel problem reports in the log", bad);
	printf("pass: the scan source reported the %ld touched pages and %ld others within two periods\n",
	       reported, extra);
	return 0;
}
