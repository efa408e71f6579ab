/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the stress tests (tests/stress/, guest only): hotpaged
 * started with its log in a file (stats lines parsed back), its memory,
 * workload processes whose pages carry a generation counter so that a lost
 * write shows, a scheduling-latency probe, and snapshots of the BPF
 * program and link ids to find what a run left behind.
 */
#ifndef HP_STRESS_H
#define HP_STRESS_H

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "hotpage/hot_pages.h"
#include "kmigrated_test.h"

/*
 * hotpaged's tables: the heat table (2 bytes per page of memory: 2 MiB
 * for a guest's 4 GiB), the hot sets, the ping-pong guard and a round's
 * working arrays, about 45 MiB at most; and beyond them libbpf's parsed
 * vmlinux BTF (about 20 MiB for Debian's kernels), the per-CPU rings it
 * maps (1 MiB each) and the C library.
 */
#define HPS_TABLES_BUDGET (64ULL << 20)
#define HPS_RSS_OVERHEAD (48ULL << 20)
#define HPS_RSS_BUDGET (HPS_TABLES_BUDGET + HPS_RSS_OVERHEAD)
#define HPS_START_TIMEOUT_MS 30000

struct hps_daemon {
	pid_t pid;
	char log[128];
};

/*
 * Starts hotpaged -f with @args (NULL-terminated, after "-f"), stdout and
 * stderr to /tmp/hps-<tag>.log, and waits for its "running:" line.
 */
void hps_daemon_start(struct hps_daemon *d, const char *tag, const char *const *args);

bool hps_daemon_alive(const struct hps_daemon *d);

/* SIGTERM, and hotpaged must exit 0 within 30 s. */
void hps_daemon_stop(struct hps_daemon *d);

void hps_daemon_kill(struct hps_daemon *d);

/* A "Name: N kB" field of /proc/PID/status, in bytes; 0 when absent. */
uint64_t hps_proc_kb(pid_t pid, const char *field);

/* A figure of hotpaged's last stats line ("promoted", "drops", ...); -1: none yet. */
long long hps_daemon_stat(const struct hps_daemon *d, const char *key);

/* Waits until stats line figure @key reaches @want; false on timeout. */
bool hps_wait_daemon_stat(const struct hps_daemon *d, const char *key, long long want,
			  double timeout_ms);

/* ---------------------------------------------------------- workload */

/*
 * A writer: npages of its own memory on node 1, word 0 of each page a
 * generation, the other words a function of (seed, page, generation).
 * Each pass checks every hot page against the generation it last wrote,
 * then rewrites it whole with the next one: a write lost to a migration
 * (or a page copied from a stale source) fails the next pass, and the
 * final check covers every page. The expected generations live in memory
 * shared with the test, which checks the results after the writer stops.
 */
struct hps_shared {
	volatile int stop;
	volatile int ready;
	volatile long long passes;
	volatile long long bad_pages; /* pages that did not read back */
	volatile long long first_bad; /* first bad page index, -1: none */
	uint64_t gen[]; /* per page: the generation written last */
};

struct hps_writer {
	pid_t pid;
	size_t npages;
	uint32_t seed;
	char *area; /* the writer's mapping (same address in the test: fork) */
	struct hps_shared *sh;
};

/* Hot pages: a hashed 1 in @hot_div (1: all). Inline: asked for every page of a loop. */
static inline bool hps_is_hot(size_t page, unsigned int hot_div)
{
	return hot_div <= 1 || (((uint64_t)page * 0x9e3779b97f4a7c15ULL) >> 32) % hot_div == 0;
}

/*
 * Forks a writer of @npages pages on @node (-1: where they fault), hot
 * ones 1 in @hot_div, rewritten every pass until sh->stop. Returns once
 * its pages are placed.
 */
void hps_writer_start(struct hps_writer *w, size_t npages, uint32_t seed, int node,
		      unsigned int hot_div);

/* Pages of another process's range on @node, hot ones (1 in @hot_div) apart. */
void hps_count_nodes(pid_t pid, uintptr_t addr, size_t npages, int node, unsigned int hot_div,
		     size_t *hot_on, size_t *nhot, size_t *cold_on);

/* hotpaged's "scope=tgids:PID,PID..." for writers @w[0..@nw) into @buf. */
void hps_scope_tgids(char *buf, size_t size, const struct hps_writer *w, int nw);

/* Stops a writer: its final check, exit status, bad pages. */
void hps_writer_finish(struct hps_writer *w, long long *passes, long long *bad);

/* -------------------------------------------------- latency probe */

/*
 * Two processes bounce a byte over a pair of pipes and record each round
 * trip: the time the scheduler takes to run a woken task, twice.
 */
struct hps_probe {
	pid_t pid;
	struct hps_probe_shared {
		volatile int stop;
		volatile long long trips;
		volatile double max_ms;
		volatile double sum_ms;
		volatile long long over_10ms;
	} * sh;
};

void hps_probe_start(struct hps_probe *p);

void hps_probe_stop(struct hps_probe *p);

/* ------------------------------------------------------- BPF objects */

#define HPS_IDS_MAX 1024

struct hps_ids {
	uint32_t prog[HPS_IDS_MAX], link[HPS_IDS_MAX];
	int nprog, nlink;
};

void hps_ids_snapshot(struct hps_ids *s);

bool hps_ids_has(const uint32_t *ids, int n, uint32_t id);

/* Programs and links in @now that were not in @before. */
void hps_ids_new(const struct hps_ids *before, const struct hps_ids *now, int *progs, int *links);

/* Waits until no program or link beyond @before is left (freeing is deferred). */
void hps_ids_settle(const struct hps_ids *before, int *progs, int *links, double timeout_ms);

/* Entries in a bpffs directory; -1 when it does not exist. */
int hps_dir_entries(const char *dir);

#endif /* HP_STRESS_H */
