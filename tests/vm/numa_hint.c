// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test: the `numa-hint` source reports NUMA hint faults with the
 * right page. A child maps a buffer with the default policy (mbind'ed
 * memory is skipped by the NUMA scanner), moves it to node 1 with
 * move_pages(2) and touches it in a loop while kernel.numa_balancing=1.
 * Every record must be the child's, from node 0's CPUs; a record whose
 * page is on node 1 must carry the PFN /proc/PID/pagemap showed before
 * the hint faults began (balancing migrates a page only after its hint
 * fault), one on node 0 the PFN pagemap shows at the end; and the node
 * in each record must be the node sysfs's memory blocks put that PFN in.
 * Run with fentry and with kprobe, then sampled 1 in 4. numa_balancing and the scanner's
 * debugfs knobs are restored on exit.
 */
#include <errno.h>
#include <numaif.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "hp_collect.h"
#include "hp_settings.h"
#include "hp_test.h"
#include "node_ranges.h"
#include "numa_hint_source.h"

/* Why the last start of a source failed. */
static char start_err[512];

#define NR_PAGES 4096
#define MAX_RECORDS (1 << 20)
#define WANT_NODE1 256 /* node-1 records to collect before stopping early */
#define RUN_SECONDS 30
#define MIN_SECONDS 3 /* long enough for migrations and node-0 records too */

#define BALANCING "/proc/sys/kernel/numa_balancing"
#define KNOBS "/sys/kernel/debug/sched/numa_balancing/"

/* ---------------------------------------------------------------- child */

struct child {
	pid_t pid;
	int go_fd;
	__u64 base;
	int on_node1;
};

static void run_child(int report_fd, int go_fd, size_t page_size)
{
	size_t len = NR_PAGES * page_size;
	void *pages[NR_PAGES];
	int nodes[NR_PAGES], status[NR_PAGES], moved = 0;
	char *map, go;
	__u64 msg[2];

	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		_exit(3);
	/* Base pages: a THP would be one folio, one hint fault, for 512 pages. */
	madvise(map, len, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < NR_PAGES; i++) {
		map[i * page_size] = 1;
		pages[i] = map + i * page_size;
		nodes[i] = 1;
	}
	if (move_pages(0, NR_PAGES, pages, nodes, status, MPOL_MF_MOVE))
		_exit(4);
	for (size_t i = 0; i < NR_PAGES; i++)
		moved += status[i] == 1;
	msg[0] = (__u64)(uintptr_t)map;
	msg[1] = (__u64)moved;
	if (write(report_fd, msg, sizeof(msg)) != sizeof(msg))
		_exit(5);
	if (read(go_fd, &go, 1) != 1)
		_exit(6);
	for (unsigned int round = 0;; round++)
		for (size_t i = 0; i < NR_PAGES; i++)
			((volatile char *)map)[i * page_size] = (char)round;
}

static struct child start_child(size_t page_size)
{
	struct child c = { 0 };
	int report[2], go[2];
	__u64 msg[2];

	hp_check(!pipe(report) && !pipe(go), "pipe: %s", strerror(errno));
	c.pid = fork();
	hp_check(c.pid >= 0, "fork: %s", strerror(errno));
	if (!c.pid) {
		close(report[0]);
		close(go[1]);
		run_child(report[1], go[0], page_size);
	}
	close(report[1]);
	close(go[0]);
	hp_check(read(report[0], msg, sizeof(msg)) == sizeof(msg), "child %d did not report",
		 c.pid);
	close(report[0]);
	c.go_fd = go[1];
	c.base = msg[0];
	c.on_node1 = (int)msg[1];
	return c;
}

/* PFN of each page of the child's buffer, 0 when not present. */
static void read_pagemap(pid_t pid, __u64 base, size_t page_size, __u64 *pfns)
{
	char path[64];
	__u64 entries[NR_PAGES];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	hp_check(fd >= 0, "open %s: %s", path, strerror(errno));
	n = pread(fd, entries, sizeof(entries), (off_t)(base / page_size * sizeof(__u64)));
	close(fd);
	hp_check(n == (ssize_t)sizeof(entries), "read %s: %s", path, strerror(errno));
	for (size_t i = 0; i < NR_PAGES; i++)
		/* Bit 63: present; bits 0-54: the PFN (root only). */
		pfns[i] = (entries[i] >> 63) ? entries[i] & ((1ULL << 55) - 1) : 0;
}

/* ---------------------------------------------------------------- records */

struct run {
	struct hp_event *ev;
	size_t nr;
	size_t node1;
	__u32 child;
};

static void collect(const struct hp_event *ev, void *ctx)
{
	struct run *r = ctx;

	if (r->nr < MAX_RECORDS)
		r->ev[r->nr++] = *ev;
	if (ev->page_node == 1 && ev->tgid == r->child)
		r->node1++;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * One run. @period > 1: every process (no tgid scope, so that the counters
 * see every hint fault) and 1 in @period sampled; the child's records are
 * checked as always, and sampled must be seen / @period, give or take one
 * per CPU (each CPU counts down on its own).
 */
static void run(const char *attach, __u32 period, const struct hp_phys_ranges *nodes,
		size_t page_size)
{
	static __u64 pre[NR_PAGES], post[NR_PAGES];
	struct hp_source_opts opts = { .filter_mode = period > 1 ? HP_FILTER_NONE : HP_FILTER_TGIDS,
				       .nr_tgids = period > 1 ? 0 : 1,
				       .sample_period = period };
	int ncpus = libbpf_num_possible_cpus();
	size_t others = 0;
	struct run r = { .ev = calloc(MAX_RECORDS, sizeof(struct hp_event)) };
	struct hp_source_stats stats;
	struct hp_source_instance *src = NULL;
	struct hp_collect coll;
	struct child c;
	size_t outside = 0, match1 = 0, match0 = 0, other0 = 0, bad_node = 0, cpu_node_bad = 0;
	size_t node1_pre = 0, node1_in = 0, mismatch1 = 0;
	char param[32];
	__u64 bad;
	double t0;
	__u32 tgid;
	int ret;

	hp_check(r.ev, "out of memory");
	c = start_child(page_size);
	tgid = (__u32)c.pid;
	r.child = tgid;
	read_pagemap(c.pid, c.base, page_size, pre);
	for (size_t i = 0; i < NR_PAGES; i++)
		node1_pre += pre[i] && hp_phys_ranges_node(nodes, pre[i] * page_size) == 1;
	printf("%s: child %d moved %d of %d pages to node 1 (pagemap: %zu on node 1)\n", attach,
	       c.pid, c.on_node1, NR_PAGES, node1_pre);
	hp_check(c.on_node1 > NR_PAGES / 2, "move_pages put only %d of %d pages on node 1",
		 c.on_node1, NR_PAGES);

	snprintf(param, sizeof(param), "attach=%s", attach);
	opts.tgids = period > 1 ? NULL : &tgid;
	opts.param = param;
	hp_check(!hp_collect_open(&coll, collect, &r), "opening the ring transport");
	ret = hp_source_numa_hint.start(coll.transport, &opts, &src, start_err, sizeof(start_err));
	hp_check(!ret, "starting numa-hint with %s: %s", param, start_err);

	t0 = now_s();
	hp_check(write(c.go_fd, "g", 1) == 1, "signalling the child");
	while (now_s() - t0 < RUN_SECONDS && (r.node1 < WANT_NODE1 || now_s() - t0 < MIN_SECONDS))
		hp_collect_poll(&coll, 200);
	/* Freeze the child: its pages stay where they are for the final pagemap. */
	kill(c.pid, SIGSTOP);
	waitpid(c.pid, NULL, WUNTRACED);
	/* Everything counted by the time the stats are read is in the rings: drain them. */
	hp_check(!hp_source_read_stats(hp_source_numa_hint.object(src), &stats), "reading stats");
	while (hp_collect_poll(&coll, 0) > 0)
		;
	read_pagemap(c.pid, c.base, page_size, post);
	hp_source_numa_hint.stop(src);
	bad = hp_collect_bad(&coll);
	hp_collect_close(&coll);
	kill(c.pid, SIGKILL);
	waitpid(c.pid, NULL, 0);
	close(c.go_fd);

	for (size_t i = 0; i < r.nr; i++) {
		const struct hp_event *ev = &r.ev[i];
		__u64 idx;

		hp_check(ev->version == HP_EVENT_VERSION && ev->source == HP_SRC_NUMA_HINT,
			 "record %zu: version %u source %u", i, ev->version, ev->source);
		if (ev->tgid != tgid) {
			hp_check(period > 1, "record %zu from tgid %u, not the child's %u", i,
				 ev->tgid, tgid);
			others++;
			continue;
		}
		hp_check(ev->flags & HP_EV_PROT, "record %zu: flags %#x lack HP_EV_PROT", i,
			 ev->flags);
		hp_check(ev->pfn != HP_PFN_UNKNOWN, "record %zu without a PFN", i);
		cpu_node_bad += ev->cpu_node != 0;
		bad_node += hp_phys_ranges_node(nodes, ev->pfn * page_size) != ev->page_node;
		if (ev->addr < c.base || ev->addr >= c.base + NR_PAGES * page_size) {
			outside++; /* the child's stack and libc data fault too */
			continue;
		}
		idx = (ev->addr - c.base) / page_size;
		if (ev->page_node == 1) {
			node1_in++;
			if (ev->pfn == pre[idx])
				match1++;
			else if (mismatch1++ < 5)
				printf("  node-1 record at %#llx: pfn %#llx, pagemap before %#llx\n",
				       (unsigned long long)ev->addr, (unsigned long long)ev->pfn,
				       (unsigned long long)pre[idx]);
		} else if (ev->pfn == post[idx]) {
			match0++;
		} else {
			other0++;
		}
	}
	printf("%s, 1 in %u: %zu records in %.1f s (%zu of other processes; %zu node 1, %zu outside the buffer); node-1 PFNs matching pagemap %zu, node-0 %zu (+%zu moved again)\n",
	       attach, period, r.nr, now_s() - t0, others, r.node1, outside, match1, match0,
	       other0);
	printf("  stats: seen %llu sampled %llu emitted %llu dropped %llu errors %llu\n",
	       (unsigned long long)stats.seen, (unsigned long long)stats.sampled,
	       (unsigned long long)stats.emitted, (unsigned long long)stats.dropped,
	       (unsigned long long)stats.errors);

	hp_check(bad == 0, "%llu records the transport refused", (unsigned long long)bad);
	hp_check(node1_in >= 64 / period, "only %zu hint-fault records on node 1 in %d s", node1_in,
		 RUN_SECONDS);
	hp_check(match1 == node1_in, "node-1 records: %zu of %zu carry the PFN pagemap showed",
		 match1, node1_in);
	hp_check(bad_node == 0, "%zu records whose node is not the one sysfs puts their PFN in",
		 bad_node);
	hp_check(cpu_node_bad == 0, "%zu records not from node 0's CPUs", cpu_node_bad);
	hp_check(r.nr >= stats.emitted && stats.dropped == 0 && stats.errors == 0,
		 "emitted %llu, received %zu, dropped %llu, errors %llu",
		 (unsigned long long)stats.emitted, r.nr, (unsigned long long)stats.dropped,
		 (unsigned long long)stats.errors);
	hp_check(stats.seen >= stats.sampled && stats.sampled == stats.emitted,
		 "seen %llu sampled %llu emitted %llu", (unsigned long long)stats.seen,
		 (unsigned long long)stats.sampled, (unsigned long long)stats.emitted);
	hp_check(period == 1 || (stats.sampled >= stats.seen / period &&
				 stats.sampled <= stats.seen / period + (__u64)ncpus),
		 "1 in %u: seen %llu, sampled %llu", period, (unsigned long long)stats.seen,
		 (unsigned long long)stats.sampled);
	free(r.ev);
}

int main(void)
{
	size_t page_size = (size_t)sysconf(_SC_PAGESIZE);
	struct hp_source_probe probe;
	struct hp_phys_ranges nodes;
	__u64 node1_bytes = 0;
	char err[256];

	hp_require_root();
	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_check(!hp_node_ranges_read(HP_SYSFS_SYSTEM, 0, &nodes, err, sizeof(err)), "%s", err);
	for (size_t i = 0; i < nodes.nr; i++)
		node1_bytes += nodes.v[i].node == 1 ? nodes.v[i].end - nodes.v[i].start : 0;
	hp_check(node1_bytes, "node 1 has no online memory");

	hp_settings_set(BALANCING, "1", true);
	/* Scan sooner and more often than the 1 s defaults: TCG is slow. */
	hp_settings_set(KNOBS "scan_delay_ms", "100", false);
	hp_settings_set(KNOBS "scan_period_min_ms", "100", false);

	hp_source_numa_hint.probe(&probe);
	printf("probe: available %d, how '%s', why '%s'\n", probe.available, probe.how, probe.why);
	hp_check(probe.available, "numa-hint unavailable in the guest: %s", probe.why);
	hp_check(!strncmp(probe.how, "fentry/", 7), "expected fentry in the guest, got %s",
		 probe.how);
	hp_check(strstr(probe.how, "numa_balancing=1"), "probe does not see numa_balancing=1: %s",
		 probe.how);

	run("fentry", 1, &nodes, page_size);
	run("kprobe", 1, &nodes, page_size);
	run("fentry", 4, &nodes, page_size);
	hp_phys_ranges_free(&nodes);
	hp_settings_restore();
	hp_check(!hp_settings_check(BALANCING), "numa_balancing not restored");
	printf("pass: numa-hint records carry the pagemap PFN and node 1, with fentry and kprobe; 1 in 4 sampled\n");
	return 0;
}
