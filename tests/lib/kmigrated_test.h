/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the kmigrated.ko guest tests (tests/vm/kmigrated_*.c): the
 * module (load with parameters, unload, counters, settings), the request
 * programs of tests/bpf/kmigrated_enqueue.bpf.c, the test's own pages
 * (PFNs from /proc/self/pagemap, nodes and moves with move_pages(2),
 * checksums) and the kernel log.
 */
#ifndef KMIGRATED_TEST_H
#define KMIGRATED_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <numaif.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hp_test.h"
#include "kmigrated.h"
#include "kmigrated_enqueue.skel.h"

#define KMT_PAGE 4096UL
#define KMT_UNLOAD_TIMEOUT_MS 20000

#define KMT_STAT_NAME(id, name) #name,
static const char *const kmt_stat_names[KMIGRATED_NR_STATS] = { KMIGRATED_STATS(KMT_STAT_NAME) };
#undef KMT_STAT_NAME

static inline double kmt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The repository: $HOTPAGE_ROOT, else three levels above build/tests/vm/. */
static inline void kmt_repo_root(char *buf, size_t size)
{
	const char *env = getenv("HOTPAGE_ROOT");
	char exe[PATH_MAX];
	ssize_t n;
	int i;

	if (env && *env) {
		snprintf(buf, size, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	hp_check(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	for (i = 0; i < 4; i++) {
		char *p = strrchr(exe, '/');

		hp_check(p && p != exe, "cannot find the repository from %s; set HOTPAGE_ROOT",
			 exe);
		*p = '\0';
	}
	snprintf(buf, size, "%s", exe);
}

/* The module for the running kernel; skips the test when it is not built. */
static inline void kmt_module_path(char *buf, size_t size)
{
	char root[PATH_MAX];
	struct utsname uts;
	int series_len, n;

	kmt_repo_root(root, sizeof(root));
	hp_check(uname(&uts) == 0, "uname: %s", strerror(errno));
	n = snprintf(buf, size, "%s/build/kmod/%s/kmigrated.ko", root, uts.release);
	hp_check(n > 0 && (size_t)n < size, "module path too long");
	if (access(buf, R_OK) == 0)
		return;
	/* "6.1.0-56-amd64" -> "6.1", "6.12.117+deb12-amd64" -> "6.12" */
	series_len = (int)strcspn(uts.release, ".");
	if (uts.release[series_len] == '.')
		series_len += 1 + (int)strcspn(uts.release + series_len + 1, ".-+");
	hp_skip("%s is not built: run 'make kmod KERNEL=%.*s' (or KDIR=...) on the host", buf,
		series_len, uts.release);
}

static inline bool kmt_loaded(void)
{
	return access("/sys/module/" KMIGRATED_MODULE_NAME, F_OK) == 0;
}

/* finit_module(2) of the module file @path with @params; 0 or -errno. */
static inline int kmt_load_file(const char *path, const char *params)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = (int)syscall(SYS_finit_module, fd, params ? params : "", 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

/* The module for the running kernel, with @params; 0 or -errno. */
static inline int kmt_load(const char *params)
{
	char path[PATH_MAX];

	kmt_module_path(path, sizeof(path));
	return kmt_load_file(path, params);
}

/* delete_module(2), retried while BPF programs still hold the module. */
static inline int kmt_unload(void)
{
	double deadline = kmt_now_ms() + KMT_UNLOAD_TIMEOUT_MS;

	while (syscall(SYS_delete_module, KMIGRATED_MODULE_NAME, O_NONBLOCK) != 0) {
		if (errno == ENOENT)
			return 0;
		if ((errno != EAGAIN && errno != EBUSY) || kmt_now_ms() > deadline)
			return -errno;
		usleep(10 * 1000);
	}
	return 0;
}

static inline void kmt_load_or_fail(const char *params)
{
	int err;

	if (kmt_loaded()) {
		err = kmt_unload();
		hp_check(!err, "delete_module(kmigrated): %s", strerror(-err));
	}
	err = kmt_load(params);
	hp_check(!err, "finit_module(kmigrated, \"%s\"): %s", params ? params : "", strerror(-err));
}

/* Reads a file holding one unsigned number; fails the test otherwise. */
static inline uint64_t kmt_read_u64(const char *path)
{
	unsigned long long v;
	char buf[64], *end;
	FILE *f;
	bool ok;

	f = fopen(path, "r");
	hp_check(f, "open %s: %s", path, strerror(errno));
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	errno = 0;
	v = ok ? strtoull(buf, &end, 10) : 0;
	hp_check(ok && !errno && end != buf && (*end == '\n' || *end == '\0'), "%s holds no number",
		 path);
	return v;
}

static inline void kmt_read_str(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");

	hp_check(f, "open %s: %s", path, strerror(errno));
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* Writes @val to @path; 0 or -errno. */
static inline int kmt_write(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

/* A counter, in the totals (@node < 0) or in node<N>/. */
static inline uint64_t kmt_stat(int node, const char *name)
{
	char path[256];

	if (node < 0)
		snprintf(path, sizeof(path), KMIGRATED_SYSFS_DIR "/%s", name);
	else
		snprintf(path, sizeof(path), KMIGRATED_SYSFS_DIR "/node%d/%s", node, name);
	return kmt_read_u64(path);
}

static inline void kmt_stats(int node, uint64_t *v)
{
	int i;

	for (i = 0; i < KMIGRATED_NR_STATS; i++)
		v[i] = kmt_stat(node, kmt_stat_names[i]);
}

static inline void kmt_print_stats(const char *what, const uint64_t *v)
{
	int i;

	printf("%s:", what);
	for (i = 0; i < KMIGRATED_NR_STATS; i++) {
		if (v[i])
			printf(" %s=%llu", kmt_stat_names[i], (unsigned long long)v[i]);
	}
	printf("\n");
}

static inline int kmt_set(const char *name, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), KMIGRATED_SYSFS_DIR "/%s", name);
	return kmt_write(path, val);
}

/* Waits until nothing is queued and @stat reaches @want; false on timeout. */
static inline bool kmt_wait_stat(const char *stat, uint64_t want, double timeout_ms)
{
	double deadline = kmt_now_ms() + timeout_ms;

	for (;;) {
		if (kmt_stat(-1, KMIGRATED_SYSFS_QUEUED) == 0 && kmt_stat(-1, stat) >= want)
			return true;
		if (kmt_now_ms() > deadline)
			return false;
		usleep(20 * 1000);
	}
}

/* Waits until nothing is queued and the counters stop moving. */
static inline void kmt_wait_idle(double timeout_ms)
{
	double deadline = kmt_now_ms() + timeout_ms;
	uint64_t a[KMIGRATED_NR_STATS], b[KMIGRATED_NR_STATS];

	kmt_stats(-1, a);
	for (;;) {
		usleep(100 * 1000);
		kmt_stats(-1, b);
		if (kmt_stat(-1, KMIGRATED_SYSFS_QUEUED) == 0 &&
		    a[KMIGRATED_STAT_MIGRATED] == b[KMIGRATED_STAT_MIGRATED] &&
		    a[KMIGRATED_STAT_BATCHES] == b[KMIGRATED_STAT_BATCHES])
			return;
		hp_check(kmt_now_ms() < deadline, "kmigrated still busy after %.0f ms", timeout_ms);
		memcpy(a, b, sizeof(a));
	}
}

/* ----------------------------------------------------------- programs */

/* Submits @nr requests in runs of KMIGRATED_BATCH_MAX; returns accepted. */
static inline long kmt_submit(struct kmigrated_enqueue *skel, struct kmigrated_req *reqs, size_t nr)
{
	static struct kmigrated_batch batch;
	int fd = bpf_program__fd(skel->progs.hp_kmig_batch);
	long accepted = 0;
	size_t done = 0, n;
	int err;

	while (done < nr) {
		/* Syscall programs take no ctx_out: the kernel copies ctx_in back. */
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &batch,
			    .ctx_size_in = sizeof(batch));

		n = nr - done < KMIGRATED_BATCH_MAX ? nr - done : KMIGRATED_BATCH_MAX;
		batch.nr = (uint32_t)n;
		batch.accepted = -1;
		memcpy(batch.reqs, reqs + done, n * sizeof(*reqs));
		err = bpf_prog_test_run_opts(fd, &opts);
		hp_check(!err, "bpf_prog_test_run_opts(hp_kmig_batch): %s", strerror(errno));
		hp_check(batch.accepted >= 0 && (size_t)batch.accepted <= n,
			 "kmigrated_enqueue_batch returned %d for %zu requests", batch.accepted, n);
		memcpy(reqs + done, batch.reqs, n * sizeof(*reqs));
		accepted += batch.accepted;
		done += n;
	}
	return accepted;
}

/* One request through kmigrated_enqueue() / kmigrated_enqueue_vaddr(). */
static inline int kmt_submit_one(struct kmigrated_enqueue *skel, struct kmigrated_req *req)
{
	int fd = bpf_program__fd(skel->progs.hp_kmig_one);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = req, .ctx_size_in = sizeof(*req));
	int err;

	req->result = 0xff;
	err = bpf_prog_test_run_opts(fd, &opts);
	hp_check(!err, "bpf_prog_test_run_opts(hp_kmig_one): %s", strerror(errno));
	return req->result;
}

/* @reenter: load the re-entry program too (tests of the busy refusal). */
static inline struct kmigrated_enqueue *kmt_open_programs(bool reenter)
{
	struct kmigrated_enqueue *skel = kmigrated_enqueue__open();

	hp_check(skel, "opening kmigrated_enqueue.bpf.o: %s", strerror(errno));
	bpf_program__set_autoload(skel->progs.hp_kmig_reenter, reenter);
	hp_check(!kmigrated_enqueue__load(skel), "loading kmigrated_enqueue.bpf.o: %s",
		 strerror(errno));
	return skel;
}

/* -------------------------------------------------------------- pages */

/* Anonymous, populated, base pages (no THP), filled with a pattern. */
static inline char *kmt_map_pages(size_t npages, uint32_t seed)
{
	char *p = mmap(NULL, npages * KMT_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	size_t i, j;

	hp_check(p != MAP_FAILED, "mmap %zu pages: %s", npages, strerror(errno));
	hp_check(!madvise(p, npages * KMT_PAGE, MADV_NOHUGEPAGE), "madvise: %s", strerror(errno));
	for (i = 0; i < npages; i++) {
		uint64_t *w = (uint64_t *)(p + i * KMT_PAGE);

		for (j = 0; j < KMT_PAGE / 8; j++)
			w[j] = (seed + i) * 0x9e3779b97f4a7c15ULL + j;
	}
	return p;
}

static inline uint64_t kmt_page_sum(const char *page)
{
	const uint64_t *w = (const uint64_t *)page;
	uint64_t h = 1469598103934665603ULL;
	size_t j;

	for (j = 0; j < KMT_PAGE / 8; j++)
		h = (h ^ w[j]) * 1099511628211ULL;
	return h;
}

static inline void kmt_sums(const char *p, size_t npages, uint64_t *sums)
{
	size_t i;

	for (i = 0; i < npages; i++)
		sums[i] = kmt_page_sum(p + i * KMT_PAGE);
}

/* PFN of each page (root sees them in /proc/self/pagemap); 0: not present. */
static inline void kmt_pfns(const char *p, size_t npages, uint64_t *pfns)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	size_t i;

	hp_check(fd >= 0, "open /proc/self/pagemap: %s", strerror(errno));
	for (i = 0; i < npages; i++) {
		uint64_t e = 0;
		off_t off = (off_t)(((uintptr_t)p / KMT_PAGE + i) * 8);

		hp_check(pread(fd, &e, 8, off) == 8, "pread pagemap: %s", strerror(errno));
		pfns[i] = (e >> 63) ? (e & ((1ULL << 55) - 1)) : 0;
	}
	close(fd);
}

/* move_pages(2) of each page to @node (node < 0: query) into @status. */
static inline void kmt_move(char *p, size_t npages, int node, int *status)
{
	void **addrs = calloc(npages, sizeof(*addrs));
	int *nodes = NULL;
	size_t i;
	long ret;

	hp_check(addrs, "calloc");
	if (node >= 0) {
		nodes = calloc(npages, sizeof(*nodes));
		hp_check(nodes, "calloc");
	}
	for (i = 0; i < npages; i++) {
		addrs[i] = p + i * KMT_PAGE;
		if (nodes)
			nodes[i] = node;
	}
	ret = move_pages(0, npages, addrs, nodes, status, MPOL_MF_MOVE);
	hp_check(ret >= 0, "move_pages: %s", strerror(errno));
	free(addrs);
	free(nodes);
}

/*
 * The hot pages of the promotion tests: one page in ten, picked by a hash
 * of its index, so that the hot set is scattered over the buffer and a
 * region-granular method cannot find it as one block.
 */
static inline bool kmt_is_hot(size_t i)
{
	uint64_t h = (uint64_t)i * 0x9e3779b97f4a7c15ULL;

	return (h >> 32) % 10 == 0;
}

/* Touch the hot pages of [p, p + npages) over and over for @ms. */
static inline void kmt_touch_hot(char *p, size_t npages, double ms)
{
	double end = kmt_now_ms() + ms;

	while (kmt_now_ms() < end)
		for (size_t i = 0; i < npages; i++)
			if (kmt_is_hot(i))
				(*(volatile char *)(p + i * KMT_PAGE))++;
}

/* Pages of [p, p + npages) on @node. */
static inline size_t kmt_count_on(char *p, size_t npages, int node)
{
	int *status = calloc(npages, sizeof(*status));
	size_t i, n = 0;

	hp_check(status, "calloc");
	kmt_move(p, npages, -1, status);
	for (i = 0; i < npages; i++)
		n += status[i] == node;
	free(status);
	return n;
}

/*
 * Moves the pages to @node and makes sure they are on an LRU list: pages
 * just migrated may wait in a per-CPU batch, and a second move_pages(2)
 * drains those (lru_add_drain_all) before it finds nothing to do. A page
 * that kmigrated is migrating right now has a migration entry in its PTE,
 * which move_pages(2) reports as -ENOENT or -EBUSY: such pages are retried
 * for up to a second before that counts as a failure.
 */
static inline void kmt_place(char *p, size_t npages, int node)
{
	int *status = calloc(npages, sizeof(*status));
	size_t i;

	hp_check(status, "calloc");
	kmt_move(p, npages, node, status);
	for (i = 0; i < npages; i++) {
		for (int try = 0; try < 50 && (status[i] == -ENOENT || status[i] == -EBUSY);
		     try++) {
			usleep(20000);
			kmt_move(p + i * KMT_PAGE, 1, node, &status[i]);
		}
		hp_check(status[i] == node, "move_pages: page %zu went to %d, not node %d", i,
			 status[i], node);
	}
	kmt_move(p, 1, node, status);
	free(status);
}

/* ---------------------------------------------------------- kernel log */

/* Opens /dev/kmsg at its end. */
static inline int kmt_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	hp_check(fd >= 0, "open /dev/kmsg: %s", strerror(errno));
	hp_check(lseek(fd, 0, SEEK_END) >= 0, "seek /dev/kmsg: %s", strerror(errno));
	return fd;
}

/*
 * Reads the records logged since: copies the first containing @needle to
 * @line (if given) and counts the ones that show a kernel problem.
 */
static inline bool kmt_kmsg_scan(int fd, const char *needle, char *line, size_t size, int *bad)
{
	static const char *const problems[] = {
		"BUG", "WARNING", "Oops", "bad page", "general protection", "Call Trace"
	};
	bool found = false;
	char rec[8192];
	size_t i;

	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		const char *msg;

		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		for (i = 0; bad && i < sizeof(problems) / sizeof(problems[0]); i++) {
			if (strstr(msg, problems[i])) {
				printf("kernel log: %.*s\n", (int)strcspn(msg, "\n"), msg);
				(*bad)++;
				break;
			}
		}
		if (needle && !found && strstr(msg, needle)) {
			found = true;
			if (line)
				snprintf(line, size, "%.*s", (int)strcspn(msg, "\n"), msg);
		}
	}
	return found;
}

/* A /proc/vmstat field. */
static inline long long kmt_vmstat(const char *name)
{
	char key[64];
	long long v, found = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	hp_check(f, "open /proc/vmstat: %s", strerror(errno));
	while (fscanf(f, "%63s %lld", key, &v) == 2) {
		if (!strcmp(key, name)) {
			found = v;
			break;
		}
	}
	fclose(f);
	return found;
}

/*
 * Pages isolated from the LRU, system-wide (nr_isolated_anon + _file).
 * The kernel keeps per-CPU deltas of these; writing stat_refresh folds
 * them, so that a balanced count reads 0.
 */
static inline long long kmt_isolated(void)
{
	int err = kmt_write("/proc/sys/vm/stat_refresh", "1");

	hp_check(!err, "write /proc/sys/vm/stat_refresh: %s", strerror(-err));
	return kmt_vmstat("nr_isolated_anon") + kmt_vmstat("nr_isolated_file");
}

#endif /* KMIGRATED_TEST_H */
