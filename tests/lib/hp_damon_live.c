// SPDX-License-Identifier: GPL-2.0
/* The DAMON source against a live kdamond, shared by the host and guest tests. */
#include "hp_damon_live.h"

struct hp_dl_child hp_dl_start_child(int node)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct hp_dl_child c = { .len = HP_DL_PAGES * page };
	int report[2];
	__u64 msg[2];

	hp_check(!pipe(report), "pipe: %s", strerror(errno));
	c.pid = fork();
	hp_check(c.pid >= 0, "fork: %s", strerror(errno));
	if (!c.pid) {
		char *map = mmap(NULL, c.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);
		static void *pages[HP_DL_PAGES];
		static int nodes[HP_DL_PAGES], status[HP_DL_PAGES];
		char *scratch;
		int moved = 0;

		if (map == MAP_FAILED)
			_exit(3);
		for (size_t i = 0; i < HP_DL_PAGES; i++) {
			map[i * page] = 1;
			pages[i] = map + i * page;
			nodes[i] = node;
		}
		if (node >= 0 && !move_pages(0, HP_DL_PAGES, pages, nodes, status, MPOL_MF_MOVE))
			for (size_t i = 0; i < HP_DL_PAGES; i++)
				moved += status[i] == node;
		msg[0] = (__u64)(uintptr_t)map;
		msg[1] = (__u64)moved;
		if (write(report[1], msg, sizeof(msg)) != sizeof(msg))
			_exit(4);
		/*
		 * qemu's TCG keeps a translation, accessed bit included, in its
		 * software TLB until the guest flushes, and x86 clears accessed
		 * bits without a flush: DAMON would see each page accessed once.
		 * A full flush per round (mprotect of 1 MiB, past the kernel's
		 * 33-page ceiling for single-page flushes) restores what a
		 * hardware TLB's evictions give. Harmless elsewhere.
		 */
		scratch = mmap(NULL, 256 * page, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		for (unsigned int round = 0;; round++) {
			for (size_t i = 0; i < HP_DL_PAGES; i++)
				((volatile char *)map)[i * page] = (char)round;
			if (scratch != MAP_FAILED) {
				mprotect(scratch, 256 * page, PROT_READ);
				mprotect(scratch, 256 * page, PROT_READ | PROT_WRITE);
			}
		}
	}
	close(report[1]);
	hp_check(read(report[0], msg, sizeof(msg)) == sizeof(msg), "child %d did not report",
		 c.pid);
	close(report[0]);
	c.base = msg[0];
	c.moved = (int)msg[1];
	return c;
}

void hp_dl_stop_child(struct hp_dl_child *c)
{
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
}

/* The child's buffer as [start, end) physical ranges of its pages (from pagemap). */
static size_t hp_dl_child_pfns(const struct hp_dl_child *c, __u64 *pfns)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = 0;
	static __u64 entries[HP_DL_PAGES];
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", c->pid);
	fd = open(path, O_RDONLY);
	hp_check(fd >= 0, "open %s: %s", path, strerror(errno));
	hp_check(pread(fd, entries, sizeof(entries), (off_t)(c->base / page * 8)) ==
			 (ssize_t)sizeof(entries),
		 "read %s: %s", path, strerror(errno));
	close(fd);
	for (size_t i = 0; i < HP_DL_PAGES; i++)
		if (entries[i] >> 63)
			pfns[n++] = entries[i] & ((1ULL << 55) - 1);
	return n;
}

static double hp_dl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void hp_dl_collect(const struct hp_event *ev, void *ctx)
{
	struct hp_dl_records *r = ctx;

	if (r->nr < HP_DL_MAX_RECORDS)
		r->ev[r->nr++] = *ev;
}

/* The one kdamond hotpage runs, as sysfs shows it, checked to be tagged with this process. */
static struct hp_damon_kdamond hp_dl_our_kdamond(void)
{
	struct hp_damon_scan s;
	char err[256];

	hp_check(!hp_damon_scan(HP_DAMON_ADMIN, &s, err, sizeof(err)), "%s", err);
	hp_check(s.nr_kdamonds == 1, "nr_kdamonds %u while running, expected 1", s.nr_kdamonds);
	hp_check(s.kd[0].on && s.kd[0].pid > 0, "kdamond 0 is not running");
	hp_check(s.kd[0].tagged && s.kd[0].owner == (long)getpid(),
		 "kdamond 0 lacks the tag of this process (tagged %d, owner %ld)", s.kd[0].tagged,
		 s.kd[0].owner);
	return s.kd[0];
}

void hp_dl_check_clean(unsigned int nr_before, int kdamond_pid)
{
	struct hp_damon_scan s;
	char err[256], path[64];

	hp_check(!hp_damon_scan(HP_DAMON_ADMIN, &s, err, sizeof(err)), "%s", err);
	hp_check(s.nr_kdamonds == nr_before, "nr_kdamonds %u after stop, %u before", s.nr_kdamonds,
		 nr_before);
	for (unsigned int i = 0; i < s.nr_kdamonds && i < HP_DAMON_SCAN_MAX; i++)
		hp_check(!s.kd[i].tagged || s.kd[i].owner != (long)getpid(),
			 "kdamond %u of this process left behind", i);
	snprintf(path, sizeof(path), "/proc/%d", kdamond_pid);
	/* kthread_stop() returns once the thread exits; its pid goes a moment later. */
	for (int i = 0; i < 200 && !access(path, F_OK); i++)
		usleep(10000);
	hp_check(access(path, F_OK) && errno == ENOENT, "kdamond thread %d still exists after 2 s",
		 kdamond_pid);
}

struct hp_dl_records hp_dl_run(const struct hp_source_opts *opts, double seconds,
			       bool (*enough)(const struct hp_dl_records *r, void *ctx), void *ctx,
			       struct hp_damon_kdamond *running, struct hp_source_stats *stats)
{
	struct hp_dl_records r = { .ev = calloc(HP_DL_MAX_RECORDS, sizeof(struct hp_event)) };
	struct hp_source_instance *src = NULL;
	struct hp_collect coll;
	char start_err[512] = "";
	__u64 bad;
	double t0;
	int ret;

	hp_check(r.ev, "out of memory");
	hp_check(!hp_collect_open(&coll, hp_dl_collect, &r), "opening the ring transport");
	ret = hp_source_damon.start(coll.transport, opts, &src, start_err, sizeof(start_err));
	hp_check(!ret, "starting damon (%s): %s (%s)", opts->param ? opts->param : "defaults",
		 start_err, strerror(-ret));
	t0 = hp_dl_now();
	if (running)
		*running = hp_dl_our_kdamond();
	while (hp_dl_now() - t0 < seconds && !enough(&r, ctx))
		hp_collect_poll(&coll, 100);
	hp_check(!hp_source_read_stats(hp_source_damon.object(src), stats), "reading stats");
	/* Everything counted so far is in the rings: drain them. */
	while (hp_collect_poll(&coll, 0) > 0)
		;
	hp_source_damon.stop(src);
	bad = hp_collect_bad(&coll);
	hp_collect_close(&coll);
	hp_check(bad == 0, "%llu records the transport refused", (unsigned long long)bad);
	printf("  %zu records in %.1f s; stats: seen %llu sampled %llu emitted %llu dropped %llu errors %llu\n",
	       r.nr, hp_dl_now() - t0, (unsigned long long)stats->seen,
	       (unsigned long long)stats->sampled, (unsigned long long)stats->emitted,
	       (unsigned long long)stats->dropped, (unsigned long long)stats->errors);
	return r;
}

bool hp_dl_vaddr_enough(const struct hp_dl_records *r, void *ctx)
{
	struct hp_dl_vaddr *v = ctx;
	__u64 aggregation = 0, last_hot = ~0ULL;

	v->hot = 0;
	v->hot_aggregations = 0;
	for (size_t i = 0; i < r->nr; i++) {
		const struct hp_event *ev = &r->ev[i];

		/* Each aggregation reports the target's regions in address order. */
		if (i && ev->addr <= r->ev[i - 1].addr)
			aggregation++;
		if (ev->nr_accesses && ev->addr < v->hi && ev->end > v->lo) {
			v->hot++;
			if (aggregation != last_hot)
				v->hot_aggregations++;
			last_hot = aggregation;
		}
	}
	return v->hot_aggregations >= 3;
}

void hp_damon_live_vaddr(void)
{
	struct hp_damon_scan before;
	struct hp_damon_kdamond kd;
	struct hp_source_stats stats;
	struct hp_dl_child c = hp_dl_start_child(-1);
	struct hp_dl_vaddr v = { .lo = c.base, .hi = c.base + c.len };
	struct hp_source_opts opts = { .filter_mode = HP_FILTER_TGIDS, .nr_tgids = 1 };
	struct hp_dl_records r;
	__u32 tgid = (__u32)c.pid;
	char err[256];

	hp_check(!hp_damon_scan(HP_DAMON_ADMIN, &before, err, sizeof(err)), "%s", err);
	opts.tgids = &tgid;
	printf("vaddr: child %d, buffer %#llx-%#llx; nr_kdamonds before: %u\n", c.pid,
	       (unsigned long long)v.lo, (unsigned long long)v.hi, before.nr_kdamonds);
	r = hp_dl_run(&opts, 20, hp_dl_vaddr_enough, &v, &kd, &stats);
	hp_dl_stop_child(&c);
	printf("  kdamond %u pid %d ops %s target %u; %zu hot records over the buffer in %llu aggregations\n",
	       kd.index, kd.pid, kd.ops, kd.target_pids[0], v.hot,
	       (unsigned long long)v.hot_aggregations);
	hp_check(!strcmp(kd.ops, "vaddr") && kd.nr_targets == 1 && kd.target_pids[0] == tgid,
		 "kdamond: ops %s, %u targets, first %u", kd.ops, kd.nr_targets, kd.target_pids[0]);
	hp_dl_check_clean(before.nr_kdamonds, kd.pid);

	hp_check(r.nr > 0, "no records in 20 s");
	for (size_t i = 0; i < r.nr; i++) {
		const struct hp_event *ev = &r.ev[i];

		hp_check(ev->source == HP_SRC_DAMON && ev->version == HP_EVENT_VERSION,
			 "record %zu: source %u version %u", i, ev->source, ev->version);
		hp_check(ev->flags == HP_EV_REGION, "record %zu: flags %#x", i, ev->flags);
		hp_check(ev->tgid == tgid && ev->target == 0, "record %zu: tgid %u target %u", i,
			 ev->tgid, ev->target);
		hp_check(ev->end > ev->addr, "record %zu: region %#llx-%#llx", i,
			 (unsigned long long)ev->addr, (unsigned long long)ev->end);
	}
	hp_check(
		v.hot_aggregations >= 3,
		"regions over the child's buffer with nr_accesses > 0 in %llu aggregations (want 3)",
		(unsigned long long)v.hot_aggregations);
	hp_check(r.nr >= stats.emitted && !stats.dropped && !stats.errors,
		 "emitted %llu received %zu dropped %llu errors %llu",
		 (unsigned long long)stats.emitted, r.nr, (unsigned long long)stats.dropped,
		 (unsigned long long)stats.errors);
	free(r.ev);
}

static int hp_dl_cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* Does [lo, hi) (physical) hold one of the sorted @pfns? */
static bool hp_dl_holds_pfn(const struct hp_dl_paddr *p, __u64 lo, __u64 hi)
{
	size_t a = 0, b = p->nr_pfns;

	while (a < b) {
		size_t m = (a + b) / 2;

		if (p->pfns[m] * p->page < lo)
			a = m + 1;
		else
			b = m;
	}
	return a < p->nr_pfns && p->pfns[a] * p->page < hi;
}

static bool hp_dl_paddr_enough(const struct hp_dl_records *r, void *ctx)
{
	struct hp_dl_paddr *p = ctx;

	p->hot = 0;
	for (size_t i = 0; i < r->nr; i++)
		if (r->ev[i].nr_accesses && hp_dl_holds_pfn(p, r->ev[i].addr, r->ev[i].end))
			p->hot++;
	return p->hot >= 3;
}

void hp_damon_live_paddr(int node)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	static __u64 pfns[HP_DL_PAGES];
	struct hp_damon_scan before;
	struct hp_damon_kdamond kd;
	struct hp_source_stats stats;
	struct hp_dl_child c = hp_dl_start_child(node);
	struct hp_dl_paddr p = { .pfns = pfns, .page = page };
	struct hp_source_opts opts = { 0 };
	struct hp_phys_ranges ranges;
	struct hp_dl_records r;
	size_t outside = 0;
	char param[64], err[256];

	hp_check(node < 0 || c.moved > HP_DL_PAGES / 2, "move_pages put %d of %d pages on node %d",
		 c.moved, HP_DL_PAGES, node);
	p.nr_pfns = hp_dl_child_pfns(&c, pfns);
	qsort(pfns, p.nr_pfns, sizeof(pfns[0]), hp_dl_cmp_u64);
	hp_check(!hp_node_ranges_read(HP_SYSFS_SYSTEM, node < 0 ? 0 : 1ULL << node, &ranges, err,
				      sizeof(err)),
		 "%s", err);
	hp_check(!hp_damon_scan(HP_DAMON_ADMIN, &before, err, sizeof(err)), "%s", err);
	/*
	 * The buffer is a few percent of a node: with DAMON's 10 regions, a
	 * region's sampled page is rarely one of the child's. 100 regions of
	 * a few MiB make some fall inside the buffer.
	 */
	if (node < 0)
		snprintf(param, sizeof(param), "ops=paddr,min_regions=100");
	else
		snprintf(param, sizeof(param), "ops=paddr,nodes=%d,min_regions=100", node);
	opts.param = param;
	printf("paddr (%s): child %d, %zu pages present; %zu ranges, %llu MiB\n", param, c.pid,
	       p.nr_pfns, ranges.nr, (unsigned long long)(hp_phys_ranges_bytes(&ranges) >> 20));
	r = hp_dl_run(&opts, 20, hp_dl_paddr_enough, &p, &kd, &stats);
	hp_dl_stop_child(&c);
	printf("  kdamond %u pid %d ops %s; %zu hot records over the child's pages\n", kd.index,
	       kd.pid, kd.ops, p.hot);
	hp_check(!strcmp(kd.ops, "paddr"), "kdamond ops %s", kd.ops);
	hp_dl_check_clean(before.nr_kdamonds, kd.pid);

	hp_check(r.nr > 0, "no records in 20 s");
	for (size_t i = 0; i < r.nr; i++) {
		const struct hp_event *ev = &r.ev[i];
		int n0 = hp_phys_ranges_node(&ranges, ev->addr);

		hp_check(ev->flags == (HP_EV_REGION | HP_EV_PHYS), "record %zu: flags %#x", i,
			 ev->flags);
		hp_check(ev->tgid == 0 && ev->pfn == ev->addr / page,
			 "record %zu: tgid %u pfn %#llx for %#llx", i, ev->tgid,
			 (unsigned long long)ev->pfn, (unsigned long long)ev->addr);
		if (n0 < 0 || hp_phys_ranges_node(&ranges, ev->end - 1) != n0)
			outside++;
	}
	hp_check(outside == 0, "%zu regions outside the monitored node ranges", outside);
	hp_check(p.hot >= 3, "%zu hot regions over the child's pages (want 3)", p.hot);
	hp_check(r.nr >= stats.emitted && !stats.dropped && !stats.errors,
		 "emitted %llu received %zu dropped %llu errors %llu",
		 (unsigned long long)stats.emitted, r.nr, (unsigned long long)stats.dropped,
		 (unsigned long long)stats.errors);
	hp_phys_ranges_free(&ranges);
	free(r.ev);
}
