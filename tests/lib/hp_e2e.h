/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The end-to-end workload, shared by the tier_e2e_* guest tests
 * and tests/bench/bench_e2e.c:
 *
 * - 256 MiB of anonymous memory with the default memory policy, moved to
 *   node 1 with move_pages(2), touched by a thread at a fixed rate
 *   (E2E_RATE accesses/s) where a hashed 10% of the pages (scattered, so
 *   that region-granular methods cannot cheat) gets 90% of the accesses.
 *   The rate is fixed because accessed-bit and region sampling only tell
 *   whether a page was touched within a sampling period: touched without
 *   pause, every page of 256 MiB is touched in every period and no method
 *   could tell hot from cold. At 50 k/s, in a 1 s window (hotpaged's
 *   default, one scanner sweep) a hot page is touched with probability
 *   0.999 and a cold one with 0.08.
 * - A filler process (tier_filler_start) locks memory on node 0 until
 *   node 0's free memory above the headroom hotpaged keeps by default is
 *   about twice the hot set: room to promote into, nothing to demote.
 * - An outsider process, out of hotpaged's scope, with pages on node 1
 *   touched at the hot pages' per-page rate.
 * - hotpaged run from build/bin with its stderr in a log file, its final
 *   stats line read back.
 */
#ifndef HP_E2E_H
#define HP_E2E_H

#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "hp_tier.h"
#include "kmigrated_test.h"

#define E2E_PAGES ((256UL << 20) / KMT_PAGE)
#define E2E_RATE 50000 /* accesses per second, all pages */
#define E2E_HOT_SHARE 0.9 /* of the accesses, to the hot 10% */
#define E2E_TICK_MS 10
#define E2E_OUTSIDER_PAGES 2048 /* 8 MiB */
#define E2E_ROOM_HOT_SETS 2 /* node 0's free room, in hot sets */

struct e2e_work {
	char *p;
	size_t *hot, nhot; /* page indices */
	size_t *cold, ncold;
	pthread_t thread;
	pid_t tid; /* the accessing thread */
	volatile int stop;
	volatile unsigned long accesses;
};

/* Maps and fills the workload and places it on node 1; not touched yet. */
void e2e_work_init(struct e2e_work *w);

void e2e_work_start(struct e2e_work *w);

void e2e_work_stop(struct e2e_work *w);

void e2e_work_free(struct e2e_work *w);

/* Hot and cold pages of the workload on node 0. */
void e2e_count(const struct e2e_work *w, size_t *hot, size_t *cold);

void e2e_kill(pid_t pid);

/* ---------------------------------------------------------- outsider */

struct e2e_outsider {
	pid_t pid;
	uintptr_t addr; /* its pages, in its address space */
};

/*
 * Forks a process with E2E_OUTSIDER_PAGES pages on node 1 that it touches
 * at the hot pages' per-page rate until killed.
 */
void e2e_outsider_start(struct e2e_outsider *o, size_t nhot);

/* The outsider's pages on node 1. */
size_t e2e_outsider_on1(const struct e2e_outsider *o);

/* ------------------------------------------------------------ daemon */

/* Does the log hold a line containing @needle? */
bool e2e_log_has(const char *log, const char *needle);

struct e2e_daemon {
	pid_t pid;
	char log[PATH_MAX];
};

/*
 * Starts build/bin/hotpaged -f with @argv (NULL-terminated, after "-f"),
 * stderr to @log, and waits until it runs (it logs "running").
 */
void e2e_daemon_start(struct e2e_daemon *d, const char *log, const char *const *argv);

bool e2e_daemon_alive(const struct e2e_daemon *d);

/* CPU seconds (user + system) of a thread or process from /proc/<pid>/stat. */
double e2e_cpu_s(pid_t pid);

/* SIGTERM, wait, check the exit status; prints the log's tail. */
void e2e_daemon_stop(struct e2e_daemon *d);

/* The value after @key in the log's last stats line ("... promoted N ..."). */
long long e2e_daemon_stat(const struct e2e_daemon *d, const char *key);

/* CPU seconds of the kernel threads whose name starts with @prefix. */
double e2e_kthreads_cpu_s(const char *prefix);

#endif /* HP_E2E_H */
