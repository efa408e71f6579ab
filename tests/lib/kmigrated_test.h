/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the kmigrated.ko guest tests (tests/vm/kmigrated_*.c): the
 * module (load with parameters, unload, counters, settings), the request
 * programs (hotpaged's batch program and tests/bpf/kmigrated_enqueue.bpf.c),
 * the test's own pages (PFNs from /proc/self/pagemap, nodes and moves with
 * move_pages(2), checksums) and the kernel log.
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

/*
 * The skeletons of tests/bpf/kmigrated_enqueue.bpf.c and bpf/promote.bpf.c:
 * their headers embed the whole objects, so only the programs that reach
 * into them include them.
 */
struct kmigrated_enqueue;
struct promote;

#define KMT_PAGE 4096UL
#define KMT_UNLOAD_TIMEOUT_MS 20000

/* The counters' names, in enum kmigrated_stat order (their sysfs files). */
extern const char *const kmt_stat_names[KMIGRATED_NR_STATS];

double kmt_now_ms(void);

/* The repository: $HOTPAGE_ROOT, else three levels above build/tests/vm/. */
void kmt_repo_root(char *buf, size_t size);

/* The module for the running kernel; skips the test when it is not built. */
void kmt_module_path(char *buf, size_t size);

bool kmt_loaded(void);

/* finit_module(2) of the module file @path with @params; 0 or -errno. */
int kmt_load_file(const char *path, const char *params);

/* The module for the running kernel, with @params; 0 or -errno. */
int kmt_load(const char *params);

/* delete_module(2), retried while BPF programs still hold the module. */
int kmt_unload(void);

void kmt_load_or_fail(const char *params);

/* Reads a file holding one unsigned number; fails the test otherwise. */
uint64_t kmt_read_u64(const char *path);

void kmt_read_str(const char *path, char *buf, size_t size);

/* Writes @val to @path; 0 or -errno. */
int kmt_write(const char *path, const char *val);

/* A counter, in the totals (@node < 0) or in node<N>/. */
uint64_t kmt_stat(int node, const char *name);

void kmt_stats(int node, uint64_t *v);

void kmt_print_stats(const char *what, const uint64_t *v);

int kmt_set(const char *name, const char *val);

/* Waits until nothing is queued and @stat reaches @want; false on timeout. */
bool kmt_wait_stat(const char *stat, uint64_t want, double timeout_ms);

/* Waits until nothing is queued and the counters stop moving. */
void kmt_wait_idle(double timeout_ms);

/* ----------------------------------------------------------- programs */

/*
 * The programs the tests call the module through: batches go through
 * hotpaged's own (bpf/promote.bpf.c), so that the tests run what the
 * daemon runs; the rest through the test's (tests/bpf/kmigrated_enqueue.bpf.c).
 * A loaded program that calls a module's kfunc holds the module: both are
 * loaded and destroyed together, and destroyed before the module can go.
 */
struct kmt_progs {
	struct kmigrated_enqueue *enq;
	struct promote *promote;
};

/* Submits @nr requests in runs of KMIGRATED_BATCH_MAX; returns accepted. */
long kmt_submit(const struct kmt_progs *progs, struct kmigrated_req *reqs, size_t nr);

/* One request through kmigrated_enqueue() / kmigrated_enqueue_vaddr(). */
int kmt_submit_one(const struct kmt_progs *progs, struct kmigrated_req *req);

/* @reenter: load the re-entry program too (tests of the busy refusal). */
struct kmt_progs *kmt_open_programs(bool reenter);

/* As kmt_open_programs(), but NULL (errno set) when a load fails: the module went. */
struct kmt_progs *kmt_try_open_programs(bool reenter);

/* Destroys both skeletons, releasing the module; NULL is a no-op. */
void kmt_close_programs(struct kmt_progs *progs);

/* -------------------------------------------------------------- pages */

/* Anonymous, populated, base pages (no THP), filled with a pattern. */
char *kmt_map_pages(size_t npages, uint32_t seed);

uint64_t kmt_page_sum(const char *page);

void kmt_sums(const char *p, size_t npages, uint64_t *sums);

/* PFN of each page (root sees them in /proc/self/pagemap); 0: not present. */
void kmt_pfns(const char *p, size_t npages, uint64_t *pfns);

/* move_pages(2) of each page to @node (node < 0: query) into @status. */
void kmt_move(char *p, size_t npages, int node, int *status);

/*
 * The hot pages of the promotion tests: one page in ten, picked by a hash
 * of its index, so that the hot set is scattered over the buffer and a
 * region-granular method cannot find it as one block. Inline: asked for
 * every page of the touch loops.
 */
static inline bool kmt_is_hot(size_t i)
{
	uint64_t h = (uint64_t)i * 0x9e3779b97f4a7c15ULL;

	return (h >> 32) % 10 == 0;
}

/* Touch the hot pages of [p, p + npages) over and over for @ms. */
void kmt_touch_hot(char *p, size_t npages, double ms);

/* Pages of [p, p + npages) on @node. */
size_t kmt_count_on(char *p, size_t npages, int node);

/*
 * Moves the pages to @node and makes sure they are on an LRU list: pages
 * just migrated may wait in a per-CPU batch, and a second move_pages(2)
 * drains those (lru_add_drain_all) before it finds nothing to do. A page
 * that kmigrated is migrating right now has a migration entry in its PTE,
 * which move_pages(2) reports as -ENOENT or -EBUSY: such pages are retried
 * for up to a second before that counts as a failure.
 */
void kmt_place(char *p, size_t npages, int node);

/* ---------------------------------------------------------- kernel log */

/* Opens /dev/kmsg at its end. */
int kmt_kmsg_open(void);

/*
 * Reads the records logged since: copies the first containing @needle to
 * @line (if given) and counts the ones that show a kernel problem.
 */
bool kmt_kmsg_scan(int fd, const char *needle, char *line, size_t size, int *bad);

/* A /proc/vmstat field. */
long long kmt_vmstat(const char *name);

/*
 * Pages isolated from the LRU, system-wide (nr_isolated_anon + _file).
 * The kernel keeps per-CPU deltas of these; writing stat_refresh folds
 * them, so that a balanced count reads 0.
 */
long long kmt_isolated(void);
/*
 * kmt_isolated() polled until it is 0 or @timeout_ms pass; its last value.
 * Reclaim and compaction isolate pages for moments of their own on a
 * full node: only what stays isolated is left behind.
 */
long long kmt_wait_isolated(int timeout_ms);

#endif /* KMIGRATED_TEST_H */
