// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test: every refusal class of kmigrated.ko's request kfuncs,
 * provoked on purpose, comes back as its result code and moves its own
 * counter (refused_<class>, in the totals and, where the page's node is
 * known, in node<N>/), and nothing else.
 *
 *   invalid      unknown flags, tgid with a pfn, vaddr without tgid, ...
 *   pfn          PFNs beyond memory
 *   zone_device  a page of the devdax device of tools/vmtest --pmem, mapped
 *                here (its PFN from /proc/self/pagemap)
 *   node         target nodes that are offline, out of range, memory-less
 *   same_node    a page already on the target node
 *   not_lru      a kernel text page
 *   duplicate    a page already queued (the thread held back by the rate limit)
 *   queue_full   more requests than queue_depth=64 while the thread waits
 *   busy         a tracing program calling in while the thread holds the
 *                queue lock (fentry on the module's kmig_dequeue_locked)
 *   route        a pfn request with route=vma, a vaddr request with route=pfn
 */
#include "hp_settings.h"
#include "kmigrated_test.h"
#include "kmigrated_enqueue.skel.h"

static struct kmt_progs *progs;
static int node_counts[KMIGRATED_NR_RESULTS];

static const char *const result_names[KMIGRATED_NR_RESULTS] = {
	"queued",  "invalid",	"pfn",	      "zone_device", "node",  "same_node",
	"not_lru", "duplicate", "queue_full", "busy",	     "route", "unevictable",
};

static void cleanup(void)
{
	if (progs)
		kmt_close_programs(progs);
	progs = NULL;
	if (kmt_loaded())
		kmt_unload();
}

static void load(const char *params, bool reenter)
{
	if (progs)
		kmt_close_programs(progs);
	progs = NULL;
	kmt_load_or_fail(params);
	progs = kmt_open_programs(reenter);
}

static uint64_t refused(int node, int res)
{
	char name[64];

	snprintf(name, sizeof(name), "refused_%s", result_names[res]);
	return kmt_stat(node, name);
}

/*
 * Submits @req alone, through kmigrated_enqueue_batch() and, when the
 * single-request kfuncs can express it, through kmigrated_enqueue() or
 * kmigrated_enqueue_vaddr(); checks each result and that only requests
 * and the class's counter moved.
 */
static void expect(struct kmigrated_req req, int want, const char *what)
{
	uint64_t before[KMIGRATED_NR_STATS], after[KMIGRATED_NR_STATS];
	int got, i, path, stat = KMIGRATED_STAT_REFUSED_INVALID + want - 1;
	bool single = req.flags == KMIGRATED_REQ_VADDR || (!req.flags && !req.tgid);

	for (path = 0; path < (single ? 2 : 1); path++) {
		struct kmigrated_req r = req;

		kmt_stats(-1, before);
		if (path == 0) {
			kmt_submit(progs, &r, 1);
			got = r.result;
		} else {
			got = kmt_submit_one(progs, &r);
		}
		kmt_stats(-1, after);
		hp_check(got == want, "%s (%s): result %d (%s), expected %s", what,
			 path ? "single" : "batch", got,
			 got < KMIGRATED_NR_RESULTS ? result_names[got] : "?", result_names[want]);
		for (i = KMIGRATED_STAT_REQUESTS; i <= KMIGRATED_STAT_REFUSED_LAST; i++) {
			uint64_t d = after[i] - before[i];
			uint64_t w = i == stat || i == KMIGRATED_STAT_REQUESTS;

			hp_check(d == w, "%s: %s moved by %llu, expected %llu", what,
				 kmt_stat_names[i], (unsigned long long)d, (unsigned long long)w);
		}
		node_counts[want]++;
	}
	printf("  %-12s %s%s\n", result_names[want], what, single ? " (batch and single)" : "");
}

/* First PFN of the first /proc/iomem range whose name contains @name. */
static uint64_t iomem_pfn(const char *name)
{
	unsigned long long start, end;
	char line[256];
	uint64_t pfn = 0;
	FILE *f = fopen("/proc/iomem", "r");

	hp_check(f, "open /proc/iomem: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, name) && sscanf(line, " %llx-%llx", &start, &end) == 2 && start) {
			pfn = (start + KMT_PAGE - 1) / KMT_PAGE;
			break;
		}
	}
	fclose(f);
	return pfn;
}

static struct kmigrated_req pfn_req(uint64_t pfn, unsigned int node)
{
	return (struct kmigrated_req){ .pfn = pfn, .node = (uint16_t)node };
}

/*
 * zone_device: the first page of the devdax device that tools/vmtest
 * --pmem creates (HOTPAGE_VM_DAX), mapped and touched here, so that its
 * PFN is a real ZONE_DEVICE page in use.
 */
static void test_zone_device(void)
{
	const char *dev = getenv("HOTPAGE_VM_DAX");
	size_t len = 2UL << 20; /* devdax's default alignment */
	volatile char *p;
	char what[128];
	uint64_t pfn;
	int fd;

	if (!dev || !*dev) {
		printf("  %-12s not provoked: no devdax device (boot with tools/vmtest --pmem)\n",
		       "zone_device");
		return;
	}
	fd = open(dev, O_RDWR | O_CLOEXEC);
	hp_check(fd >= 0, "open %s: %s", dev, strerror(errno));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	hp_check(p != MAP_FAILED, "mmap %s: %s", dev, strerror(errno));
	p[0] = 1;
	kmt_pfns((const char *)p, 1, &pfn);
	hp_check(pfn, "%s: no PFN in /proc/self/pagemap for its first page", dev);
	snprintf(what, sizeof(what), "%s page, pfn %#llx", dev, (unsigned long long)pfn);
	expect(pfn_req(pfn, 0), KMIGRATED_E_ZONE_DEVICE, what);
	expect(pfn_req(pfn, 1), KMIGRATED_E_ZONE_DEVICE, what);
	munmap((void *)p, len);
	close(fd);
}

/*
 * Demotion leaves mlocked pages where they are, as reclaim does: a locked
 * page on node 0 is refused for demotion to node 1, and the same page is
 * accepted once unlocked (then taken back off the queue by the thread).
 */
static void test_unevictable(void)
{
	struct kmigrated_req r;
	uint64_t pfn;
	char *q = kmt_map_pages(1, 5);

	kmt_place(q, 1, 0);
	hp_check(!mlock(q, KMT_PAGE), "mlock: %s", strerror(errno));
	kmt_pfns(q, 1, &pfn);
	r = pfn_req(pfn, 1);
	r.flags = KMIGRATED_REQ_DEMOTE;
	expect(r, KMIGRATED_E_UNEVICTABLE, "demotion of an mlocked page");
	hp_check(!munlock(q, KMT_PAGE), "munlock: %s", strerror(errno));
	/* munlock() leaves the page for the LRU to take back: lru_add_drain by a move. */
	kmt_place(q, 1, 0);
	kmt_pfns(q, 1, &pfn);
	r = pfn_req(pfn, 1);
	r.flags = KMIGRATED_REQ_DEMOTE;
	kmt_submit(progs, &r, 1);
	hp_check(r.result == KMIGRATED_QUEUED || r.result == KMIGRATED_E_NOT_LRU,
		 "demotion of the unlocked page: result %u", r.result);
	munmap(q, KMT_PAGE);
}

/* Checks on each request, with the pfn and vma routes both in service. */
static void test_checks(char *p, const uint64_t *pfns)
{
	struct kmigrated_req r;
	uint64_t kpfn;
	unsigned int target;

	r = pfn_req(pfns[0], 0);
	r.flags = 0x80;
	expect(r, KMIGRATED_E_INVALID, "unknown flag 0x80");
	r = pfn_req(pfns[0], 0);
	r.tgid = (uint32_t)getpid();
	expect(r, KMIGRATED_E_INVALID, "pfn request with a tgid");
	r = (struct kmigrated_req){ .vaddr = (uintptr_t)p,
				    .node = 0,
				    .flags = KMIGRATED_REQ_VADDR };
	expect(r, KMIGRATED_E_INVALID, "vaddr request without a tgid");
	r.tgid = 0x7fffffff;
	expect(r, KMIGRATED_E_INVALID, "tgid above PID_MAX_LIMIT");
	r.tgid = (uint32_t)getpid();
	r.vaddr = 0;
	expect(r, KMIGRATED_E_INVALID, "vaddr 0");
	r.vaddr = 1ULL << 63;
	expect(r, KMIGRATED_E_INVALID, "kernel vaddr");

	expect(pfn_req(~0ULL, 0), KMIGRATED_E_PFN, "pfn ~0");
	expect(pfn_req(1ULL << 40, 0), KMIGRATED_E_PFN, "pfn 2^40 (4 PiB)");
	expect(pfn_req(1ULL << 52, 0), KMIGRATED_E_PFN, "pfn 2^52");

	test_zone_device();

	expect(pfn_req(pfns[0], 2), KMIGRATED_E_NODE, "node 2 (offline)");
	expect(pfn_req(pfns[0], 63), KMIGRATED_E_NODE, "node 63");
	expect(pfn_req(pfns[0], 1023), KMIGRATED_E_NODE, "node 1023");
	expect(pfn_req(pfns[0], 65535), KMIGRATED_E_NODE, "node 65535");
	r = (struct kmigrated_req){ .vaddr = (uintptr_t)p,
				    .tgid = (uint32_t)getpid(),
				    .node = 7,
				    .flags = KMIGRATED_REQ_VADDR };
	expect(r, KMIGRATED_E_NODE, "vaddr request to node 7");

	expect(pfn_req(pfns[0], 1), KMIGRATED_E_SAME_NODE, "page on node 1 to node 1");

	kpfn = iomem_pfn("Kernel code");
	hp_check(kpfn, "no 'Kernel code' in /proc/iomem");
	/* Physical KASLR may put the kernel on either node: aim at the other. */
	r = pfn_req(kpfn, 0);
	kmt_submit(progs, &r, 1);
	target = r.result == KMIGRATED_E_SAME_NODE ? 1 : 0;
	expect(pfn_req(kpfn, target), KMIGRATED_E_NOT_LRU, "kernel text page");
	expect(pfn_req(kpfn + 1, target), KMIGRATED_E_NOT_LRU, "kernel text page + 1");
	test_unevictable();
}

/*
 * duplicate and queue_full: the thread of node 1 takes one request at a
 * time (batch_size=1) at 1 MB/s, so once the bucket's burst is spent the
 * queue (64 deep) stays as filled.
 */
static void test_queue(const uint64_t *pfns, size_t npages)
{
	struct kmigrated_req reqs[2 * 64 + 2];
	uint64_t n1_dup, n1_full, t_dup, t_full;
	size_t i, n = 0;
	int full = 0, queued = 0;
	long acc;

	hp_check(npages >= 200 + 2 * 64, "not enough pages");
	/*
	 * Spend the burst (about 25 pages, which go through at once) and
	 * leave 35 behind, 4 ms each at 1 MB/s: the rate, not the speed of
	 * the machine, keeps them queued for 140 ms, well past the 50 ms
	 * given to the burst. (40 blockers and 200 ms let the queue run dry
	 * before the duplicate came, now and then.)
	 */
	for (i = 0; i < 60; i++)
		reqs[i] = pfn_req(pfns[100 + i], 0);
	acc = kmt_submit(progs, reqs, 60);
	hp_check(acc == 60, "%ld of 60 blocker requests accepted", acc);
	usleep(50 * 1000);

	n1_dup = refused(1, KMIGRATED_E_DUPLICATE);
	t_dup = refused(-1, KMIGRATED_E_DUPLICATE);
	reqs[0] = pfn_req(pfns[1], 0);
	reqs[1] = pfn_req(pfns[1], 0);
	acc = kmt_submit(progs, reqs, 2);
	hp_check(acc == 1 && reqs[0].result == KMIGRATED_QUEUED &&
			 reqs[1].result == KMIGRATED_E_DUPLICATE,
		 "same page twice: results %u, %u", reqs[0].result, reqs[1].result);
	hp_check(refused(1, KMIGRATED_E_DUPLICATE) == n1_dup + 1 &&
			 refused(-1, KMIGRATED_E_DUPLICATE) == t_dup + 1,
		 "refused_duplicate did not move by 1");
	printf("  %-12s same page queued twice\n", "duplicate");

	n1_full = refused(1, KMIGRATED_E_QUEUE_FULL);
	t_full = refused(-1, KMIGRATED_E_QUEUE_FULL);
	for (i = 0; i < 2 * 64; i++)
		reqs[n++] = pfn_req(pfns[200 + i], 0);
	kmt_submit(progs, reqs, n);
	for (i = 0; i < n; i++) {
		full += reqs[i].result == KMIGRATED_E_QUEUE_FULL;
		queued += reqs[i].result == KMIGRATED_QUEUED;
	}
	hp_check(full + queued == (int)n, "other results among %zu requests to a full queue", n);
	hp_check(full >= 40, "only %d of %zu requests refused as queue_full (queue_depth=64)", full,
		 n);
	hp_check(refused(1, KMIGRATED_E_QUEUE_FULL) - n1_full == (uint64_t)full &&
			 refused(-1, KMIGRATED_E_QUEUE_FULL) - t_full == (uint64_t)full,
		 "refused_queue_full moved by %llu, %d results said so",
		 (unsigned long long)(refused(-1, KMIGRATED_E_QUEUE_FULL) - t_full), full);
	printf("  %-12s %d of %zu requests (queue_depth=64, %d queued)\n", "queue_full", full, n,
	       queued);
	node_counts[KMIGRATED_E_DUPLICATE]++;
	node_counts[KMIGRATED_E_QUEUE_FULL] += full;
}

/*
 * busy: an fentry program on kmig_dequeue_locked() runs in a kmigrated
 * thread that holds its node's queue lock: its request for that node must
 * be refused, not spin forever.
 */
static void test_busy(char *p, const uint64_t *pfns, size_t npages)
{
	struct kmigrated_req *reqs = calloc(npages, sizeof(*reqs));
	struct bpf_link *link;
	uint64_t busy0 = refused(-1, KMIGRATED_E_BUSY), busy;
	size_t i;
	int round;

	hp_check(reqs, "calloc");
	progs->enq->bss->reenter_pfn = pfns[0];
	progs->enq->bss->reenter_node = 0;
	link = bpf_program__attach(progs->enq->progs.hp_kmig_reenter);
	if (!link) {
		printf("  %-12s not provoked: cannot attach fentry/kmig_dequeue_locked: %s\n",
		       "busy", strerror(errno));
		free(reqs);
		return;
	}
	progs->enq->bss->reenter_armed = 1;
	for (round = 0; round < 20 && !progs->enq->bss->reenter_results[KMIGRATED_E_BUSY];
	     round++) {
		/* The pages go back and forth: each round is new work for kmigrated1. */
		kmt_place(p, npages, 1);
		kmt_pfns(p, npages, (uint64_t *)pfns);
		progs->enq->bss->reenter_pfn = pfns[0];
		for (i = 0; i < npages; i++)
			reqs[i] = pfn_req(pfns[i], 0);
		kmt_submit(progs, reqs, npages);
		kmt_wait_idle(30000);
	}
	progs->enq->bss->reenter_armed = 0;
	bpf_link__destroy(link);
	busy = refused(-1, KMIGRATED_E_BUSY) - busy0;
	printf("  %-12s %llu re-entries refused (re-entry results: %llu queued, %llu duplicate, %llu same_node, %llu busy) in %d rounds\n",
	       "busy", (unsigned long long)busy,
	       (unsigned long long)progs->enq->bss->reenter_results[KMIGRATED_QUEUED],
	       (unsigned long long)progs->enq->bss->reenter_results[KMIGRATED_E_DUPLICATE],
	       (unsigned long long)progs->enq->bss->reenter_results[KMIGRATED_E_SAME_NODE],
	       (unsigned long long)progs->enq->bss->reenter_results[KMIGRATED_E_BUSY], round);
	hp_check(busy >= 1, "no busy refusal provoked");
	/* Under the held lock nothing can have been queued, or found queued. */
	hp_check(!progs->enq->bss->reenter_results[KMIGRATED_QUEUED] &&
			 !progs->enq->bss->reenter_results[KMIGRATED_E_DUPLICATE],
		 "a re-entry under the queue lock got past it");
	/*
	 * A re-entry spins (boundedly) inside the thread's critical section,
	 * so the test's own batches, on the other CPU, may meet the lock held
	 * too long and count as busy as well.
	 */
	hp_check(busy >= progs->enq->bss->reenter_results[KMIGRATED_E_BUSY],
		 "refused_busy %llu, but the program saw %llu", (unsigned long long)busy,
		 (unsigned long long)progs->enq->bss->reenter_results[KMIGRATED_E_BUSY]);
	node_counts[KMIGRATED_E_BUSY] += (int)busy;
	free(reqs);
}

int main(void)
{
	size_t npages = 512, i;
	uint64_t *pfns = calloc(npages, 8);
	char route[32];
	char *p;
	int kmsg, bad = 0, err;
	struct kmigrated_req r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	/* NUMA balancing would move the test's pages, or hide them behind hint PTEs. */
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", false);
	hp_check(pfns, "calloc");
	atexit(cleanup);
	kmsg = kmt_kmsg_open();
	p = kmt_map_pages(npages, 9);
	kmt_place(p, npages, 1);
	kmt_pfns(p, npages, pfns);

	printf("checks, routes pfn and vma:\n");
	load("queue_depth=64 batch_size=1 rate_limit_mbps=1", false);
	test_checks(p, pfns);
	test_queue(pfns, npages);

	printf("busy:\n");
	load("", true);
	test_busy(p, pfns, 256);

	printf("route=vma:\n");
	load("route=vma", false);
	kmt_read_str(KMIGRATED_SYSFS_DIR "/route", route, sizeof(route));
	hp_check(!strcmp(route, "vma"), "route=vma: sysfs route says '%s'", route);
	kmt_place(p, 1, 1);
	kmt_pfns(p, 1, pfns);
	expect(pfn_req(pfns[0], 0), KMIGRATED_E_ROUTE, "pfn request, route=vma");
	printf("route=pfn:\n");
	load("route=pfn", false);
	kmt_read_str(KMIGRATED_SYSFS_DIR "/route", route, sizeof(route));
	hp_check(!strcmp(route, "pfn"), "route=pfn: sysfs route says '%s'", route);
	r = (struct kmigrated_req){ .vaddr = (uintptr_t)p,
				    .tgid = (uint32_t)getpid(),
				    .node = 0,
				    .flags = KMIGRATED_REQ_VADDR };
	expect(r, KMIGRATED_E_ROUTE, "vaddr request, route=pfn");

	kmt_close_programs(progs);
	progs = NULL;
	err = kmt_unload();
	hp_check(!err, "unload: %s", strerror(-err));
	err = kmt_load("route=sideways");
	if (!err)
		kmt_unload();
	hp_check(err == -EINVAL, "route=sideways: %s, expected EINVAL",
		 err ? strerror(-err) : "loaded");
	err = kmt_load("queue_depth=3");
	if (!err)
		kmt_unload();
	hp_check(err == -EINVAL, "queue_depth=3: %s, expected EINVAL",
		 err ? strerror(-err) : "loaded");

	kmt_kmsg_scan(kmsg, NULL, NULL, 0, &bad);
	hp_check(!bad, "%d kernel problem reports in the log", bad);
	printf("refusals provoked:");
	for (i = 1; i < KMIGRATED_NR_RESULTS; i++)
		printf(" %s=%d", result_names[i], node_counts[i]);
	printf("\n");
	for (i = 1; i < KMIGRATED_NR_RESULTS; i++) {
		/* tests/run boots with --pmem; elsewhere only CI insists. */
		if (i == KMIGRATED_E_ZONE_DEVICE && !getenv("HOTPAGE_VM_DAX") &&
		    (!getenv("CI") || strcmp(getenv("CI"), "true") != 0))
			continue;
		hp_check(node_counts[i] > 0, "refusal class %s not provoked", result_names[i]);
	}
	printf("pass: every refusal class came back and was counted%s\n",
	       node_counts[KMIGRATED_E_ZONE_DEVICE] ? "" : " (zone_device: no devdax here)");
	return 0;
}
