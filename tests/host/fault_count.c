// SPDX-License-Identifier: GPL-2.0
/*
 * The `fault` source counts a process's user page faults per page, and only
 * that process's: a child write-touches NR_PAGES fresh anonymous pages while
 * the program filters on the child's tgid, and the parent faults on pages of
 * its own meanwhile. Run once per attach type the kernel offers.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "fault_source.h"
#include "hp_test.h"

#define NR_PAGES 4096
#define PARENT_PAGES 256
#define CHILD_NAME "hp_fault_child"

struct child {
	pid_t pid;
	int go_fd; /* parent writes one byte: start touching */
	__u64 base; /* the mapping, as the child reported it */
	size_t page_size;
};

/* Child: map, report the base, wait for the go, touch each page once, exit. */
static void run_child(int report_fd, int go_fd, size_t page_size)
{
	size_t len = NR_PAGES * page_size;
	char go;
	char *map;
	__u64 base;

	/* The name is taken before the program loads, so hp_fault_comms records it. */
	prctl(PR_SET_NAME, CHILD_NAME);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		_exit(3);
	/* One fault per page: no THP / mTHP folio may cover several pages at once. */
	madvise(map, len, MADV_NOHUGEPAGE);
	base = (__u64)(uintptr_t)map;
	if (write(report_fd, &base, sizeof(base)) != sizeof(base))
		_exit(4);
	if (read(go_fd, &go, 1) != 1)
		_exit(5); /* the parent gave up: EOF */
	for (size_t i = 0; i < NR_PAGES; i++)
		((volatile char *)map)[i * page_size] = 1;
	_exit(0);
}

static struct child start_child(void)
{
	struct child child = { .page_size = (size_t)sysconf(_SC_PAGESIZE) };
	int report[2], go[2];

	if (pipe(report) || pipe(go))
		hp_fail("pipe: %s", strerror(errno));
	child.pid = fork();
	if (child.pid < 0)
		hp_fail("fork: %s", strerror(errno));
	if (child.pid == 0) {
		close(report[0]);
		close(go[1]);
		run_child(report[1], go[0], child.page_size);
	}
	close(report[1]);
	close(go[0]);
	if (read(report[0], &child.base, sizeof(child.base)) != sizeof(child.base))
		hp_fail("child %d did not report its mapping", child.pid);
	close(report[0]);
	child.go_fd = go[1];
	return child;
}

/* Faults from another process while the child runs; the filter must drop them. */
static void fault_in_parent(size_t page_size)
{
	size_t len = PARENT_PAGES * page_size;
	char *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (map == MAP_FAILED)
		hp_fail("mmap: %s", strerror(errno));
	madvise(map, len, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < PARENT_PAGES; i++)
		((volatile char *)map)[i * page_size] = 1;
	munmap(map, len);
}

struct tally {
	__u32 tgid;
	__u64 lo, hi; /* the child's mapping [lo, hi) */
	__u64 pages_inside, faults_inside;
	__u64 pages_outside; /* the child's other pages: stack, libc data after fork */
	__u64 other_tgid_pages;
	__u32 other_tgid;
	__u64 misaligned;
	__u64 total_faults;
	__u64 entries;
	__u64 page_size;
};

static int tally_page(const struct hp_fault_key *key, const struct hp_fault_val *val, void *ctx)
{
	struct tally *t = ctx;

	t->entries++;
	t->total_faults += val->faults;
	if (key->page % t->page_size)
		t->misaligned++;
	if (key->tgid != t->tgid) {
		t->other_tgid_pages++;
		t->other_tgid = key->tgid;
		return 0;
	}
	if (key->page >= t->lo && key->page < t->hi) {
		t->pages_inside++;
		t->faults_inside += val->faults;
	} else {
		t->pages_outside++;
	}
	return 0;
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void run(enum hp_fault_attach attach)
{
	struct hp_fault_source_opts opts = { .attach = attach };
	struct hp_fault_source *src = NULL;
	struct hp_fault_stats stats;
	struct child child = start_child();
	struct tally tally = { 0 };
	struct timespec start;
	char err[256], comm[HP_COMM_LEN];
	int status, ret;

	opts.tgid = (__u32)child.pid;
	ret = hp_fault_source_start(&opts, &src, err, sizeof(err));
	if (ret == -ENOENT || ret == -EPERM || ret == -EACCES || ret == -ENOSYS ||
	    ret == -EOPNOTSUPP) {
		kill(child.pid, SIGKILL);
		hp_skip("%s", err);
	}
	hp_check(!ret, "starting the fault source (%s): %s", hp_fault_attach_name(attach), err);

	clock_gettime(CLOCK_MONOTONIC, &start);
	hp_check(write(child.go_fd, "g", 1) == 1, "signalling the child: %s", strerror(errno));
	fault_in_parent(child.page_size);
	hp_check(waitpid(child.pid, &status, 0) == child.pid, "waitpid: %s", strerror(errno));
	hp_check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed (status %#x)",
		 (unsigned int)status);
	printf("%s: child %d touched %d pages in %.3f s\n",
	       hp_fault_attach_name(hp_fault_source_attach(src)), child.pid, NR_PAGES,
	       seconds_since(&start));

	tally.tgid = (__u32)child.pid;
	tally.lo = child.base;
	tally.hi = child.base + (__u64)NR_PAGES * child.page_size;
	tally.page_size = child.page_size;
	ret = hp_fault_source_for_each_page(src, tally_page, &tally);
	hp_check(!ret, "walking hp_fault_pages: %s", strerror(-ret));
	ret = hp_fault_source_read_stats(src, &stats);
	hp_check(!ret, "reading hp_fault_stats: %s", strerror(-ret));
	hp_fault_source_comm(src, tally.tgid, comm, sizeof(comm));

	printf("  mapping %#llx: %llu faults on %llu of %d pages; %llu other pages of the child\n",
	       (unsigned long long)child.base, (unsigned long long)tally.faults_inside,
	       (unsigned long long)tally.pages_inside, NR_PAGES,
	       (unsigned long long)tally.pages_outside);
	printf("  stats: seen %llu counted %llu new_pages %llu dropped %llu; comm '%s'\n",
	       (unsigned long long)stats.seen, (unsigned long long)stats.counted,
	       (unsigned long long)stats.new_pages, (unsigned long long)stats.dropped, comm);

	hp_check(tally.other_tgid_pages == 0, "%llu entries of another process (tgid %u)",
		 (unsigned long long)tally.other_tgid_pages, tally.other_tgid);
	hp_check(tally.misaligned == 0, "%llu entries with an address not page-aligned",
		 (unsigned long long)tally.misaligned);
	hp_check(tally.pages_inside == NR_PAGES, "%llu of the %d touched pages recorded",
		 (unsigned long long)tally.pages_inside, NR_PAGES);
	hp_check(tally.faults_inside >= NR_PAGES, "%llu faults in the mapping, expected >= %d",
		 (unsigned long long)tally.faults_inside, NR_PAGES);
	/* The parent's PARENT_PAGES faults ran the program but were filtered out. */
	hp_check(stats.seen >= stats.counted + PARENT_PAGES,
		 "seen %llu, counted %llu: the parent's %d faults were not seen",
		 (unsigned long long)stats.seen, (unsigned long long)stats.counted, PARENT_PAGES);
	hp_check(stats.counted == tally.total_faults,
		 "counted %llu but the map holds %llu faults (eviction or a lost update)",
		 (unsigned long long)stats.counted, (unsigned long long)tally.total_faults);
	hp_check(stats.new_pages == tally.entries, "new_pages %llu, entries %llu",
		 (unsigned long long)stats.new_pages, (unsigned long long)tally.entries);
	hp_check(stats.dropped == 0, "%llu faults dropped", (unsigned long long)stats.dropped);
	hp_check(!strcmp(comm, CHILD_NAME), "comm '%s', expected '%s'", comm, CHILD_NAME);

	close(child.go_fd);
	hp_fault_source_destroy(src);
}

int main(void)
{
	static const enum hp_fault_attach attaches[] = { HP_FAULT_ATTACH_TRACEPOINT,
							 HP_FAULT_ATTACH_TP_BTF };
	char reasons[2][256];
	int runs = 0;

	hp_require_root();
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* Each attach type the kernel has; tp_btf needs the tracepoint in the kernel's BTF. */
	for (size_t i = 0; i < sizeof(attaches) / sizeof(attaches[0]); i++) {
		enum hp_fault_attach chosen;

		if (hp_fault_attach_resolve(attaches[i], &chosen, reasons[i], sizeof(reasons[i]))) {
			printf("%s not run: %s\n", hp_fault_attach_name(attaches[i]), reasons[i]);
			continue;
		}
		run(chosen);
		runs++;
	}
	if (!runs)
		hp_skip("%s; %s", reasons[0], reasons[1]);
	return 0;
}
