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

static inline uint64_t e2e_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct e2e_work {
	char *p;
	size_t *hot, nhot; /* page indices */
	size_t *cold, ncold;
	pthread_t thread;
	pid_t tid; /* the accessing thread */
	volatile int stop;
	volatile unsigned long accesses;
};

/* E2E_RATE accesses/s in ticks of E2E_TICK_MS until stopped. */
static void *e2e_access_loop(void *arg)
{
	struct e2e_work *w = arg;
	uint64_t s = 0x2545f4914f6cdd1dULL;
	const unsigned int per_tick = E2E_RATE * E2E_TICK_MS / 1000;
	double next = kmt_now_ms();

	w->tid = (pid_t)syscall(SYS_gettid);
	while (!w->stop) {
		for (unsigned int k = 0; k < per_tick; k++) {
			uint64_t r = e2e_rand(&s);
			size_t i = (double)(r & 0xffff) / 65536.0 < E2E_HOT_SHARE
					   ? w->hot[(r >> 16) % w->nhot]
					   : w->cold[(r >> 16) % w->ncold];

			(*(volatile char *)(w->p + i * KMT_PAGE))++;
		}
		w->accesses += per_tick;
		next += E2E_TICK_MS;
		double now = kmt_now_ms();

		if (next > now)
			usleep((useconds_t)((next - now) * 1000));
		else
			next = now; /* behind (a loaded machine): do not burst */
	}
	return NULL;
}

/* Maps and fills the workload and places it on node 1; not touched yet. */
static inline void e2e_work_init(struct e2e_work *w)
{
	memset(w, 0, sizeof(*w));
	w->p = kmt_map_pages(E2E_PAGES, 7);
	/*
	 * Not inherited by the processes forked later (daemon, filler): a
	 * write between fork and exec would copy a page (COW) to node 0.
	 */
	hp_check(!madvise(w->p, E2E_PAGES * KMT_PAGE, MADV_DONTFORK), "madvise: %s",
		 strerror(errno));
	w->hot = calloc(E2E_PAGES, sizeof(*w->hot));
	w->cold = calloc(E2E_PAGES, sizeof(*w->cold));
	hp_check(w->hot && w->cold, "calloc");
	for (size_t i = 0; i < E2E_PAGES; i++) {
		if (kmt_is_hot(i))
			w->hot[w->nhot++] = i;
		else
			w->cold[w->ncold++] = i;
	}
	kmt_place(w->p, E2E_PAGES, 1);
}

static inline void e2e_work_start(struct e2e_work *w)
{
	w->stop = 0;
	w->accesses = 0;
	hp_check(!pthread_create(&w->thread, NULL, e2e_access_loop, w), "pthread_create");
}

static inline void e2e_work_stop(struct e2e_work *w)
{
	w->stop = 1;
	pthread_join(w->thread, NULL);
}

static inline void e2e_work_free(struct e2e_work *w)
{
	munmap(w->p, E2E_PAGES * KMT_PAGE);
	free(w->hot);
	free(w->cold);
}

/* Hot and cold pages of the workload on node 0. */
static inline void e2e_count(const struct e2e_work *w, size_t *hot, size_t *cold)
{
	int *status = calloc(E2E_PAGES, sizeof(*status));

	hp_check(status, "calloc");
	kmt_move(w->p, E2E_PAGES, -1, status);
	*hot = *cold = 0;
	for (size_t i = 0; i < E2E_PAGES; i++) {
		if (status[i] != 0)
			continue;
		if (kmt_is_hot(i))
			(*hot)++;
		else
			(*cold)++;
	}
	free(status);
}

static inline void e2e_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* ---------------------------------------------------------- outsider */

struct e2e_outsider {
	pid_t pid;
	uintptr_t addr; /* its pages, in its address space */
};

/*
 * Forks a process with E2E_OUTSIDER_PAGES pages on node 1 that it touches
 * at the hot pages' per-page rate until killed.
 */
static inline void e2e_outsider_start(struct e2e_outsider *o, size_t nhot)
{
	int fds[2];

	hp_check(!pipe(fds), "pipe: %s", strerror(errno));
	o->pid = fork();
	hp_check(o->pid >= 0, "fork: %s", strerror(errno));
	if (o->pid == 0) {
		/* Per page as hot as a hot page: E2E_RATE * 0.9 / nhot per second. */
		double per_s = E2E_RATE * E2E_HOT_SHARE / (double)nhot * E2E_OUTSIDER_PAGES;
		unsigned int per_tick = (unsigned int)(per_s * E2E_TICK_MS / 1000) + 1;
		uint64_t s = 88172645463325252ULL;
		char *p;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[0]);
		p = kmt_map_pages(E2E_OUTSIDER_PAGES, 3);
		kmt_place(p, E2E_OUTSIDER_PAGES, 1);
		if (write(fds[1], &p, sizeof(p)) != sizeof(p))
			_exit(4);
		for (;;) {
			for (unsigned int k = 0; k < per_tick; k++)
				(*(volatile char *)(p + (e2e_rand(&s) % E2E_OUTSIDER_PAGES) *
								KMT_PAGE))++;
			usleep(E2E_TICK_MS * 1000);
		}
	}
	close(fds[1]);
	hp_check(read(fds[0], &o->addr, sizeof(o->addr)) == sizeof(o->addr),
		 "the outsider failed before it was ready");
	close(fds[0]);
}

/* The outsider's pages on node 1. */
static inline size_t e2e_outsider_on1(const struct e2e_outsider *o)
{
	void *addrs[E2E_OUTSIDER_PAGES];
	int status[E2E_OUTSIDER_PAGES];
	size_t n = 0;

	for (size_t i = 0; i < E2E_OUTSIDER_PAGES; i++)
		addrs[i] = (void *)(o->addr + i * KMT_PAGE);
	hp_check(move_pages(o->pid, E2E_OUTSIDER_PAGES, addrs, NULL, status, 0) >= 0,
		 "move_pages(outsider): %s", strerror(errno));
	for (size_t i = 0; i < E2E_OUTSIDER_PAGES; i++)
		n += status[i] == 1;
	return n;
}

/* ------------------------------------------------------------ daemon */

/* Does the log hold a line containing @needle? */
static inline bool e2e_log_has(const char *log, const char *needle)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(log, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

struct e2e_daemon {
	pid_t pid;
	char log[PATH_MAX];
};

/*
 * Starts build/bin/hotpaged -f with @argv (NULL-terminated, after "-f"),
 * stderr to @log, and waits until it runs (it logs "running").
 */
static inline void e2e_daemon_start(struct e2e_daemon *d, const char *log, const char *const *argv)
{
	char root[PATH_MAX], path[PATH_MAX + 32];
	const char *args[64];
	size_t n = 0;
	double deadline;

	kmt_repo_root(root, sizeof(root));
	snprintf(path, sizeof(path), "%s/build/bin/hotpaged", root);
	if (access(path, X_OK))
		hp_skip("%s not built", path);
	snprintf(d->log, sizeof(d->log), "%s", log);
	args[n++] = path;
	args[n++] = "-f";
	for (size_t i = 0; argv[i] && n < 63; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	d->pid = fork();
	hp_check(d->pid >= 0, "fork: %s", strerror(errno));
	if (d->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0)
			_exit(126);
		execv(path, (char *const *)args);
		_exit(127);
	}
	/* Loading the sources takes seconds under TCG; 120 s is a hang. */
	deadline = kmt_now_ms() + 120000;
	while (!e2e_log_has(log, "hotpaged: running")) {
		int status;

		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			char cmd[PATH_MAX + 32];

			snprintf(cmd, sizeof(cmd), "tail -n 20 %s", log);
			if (system(cmd)) {
			}
			hp_fail("hotpaged exited at start (status 0x%x)", status);
		}
		hp_check(kmt_now_ms() < deadline, "hotpaged did not start in 120 s");
		usleep(50 * 1000);
	}
}

static inline bool e2e_daemon_alive(const struct e2e_daemon *d)
{
	int status;

	return waitpid(d->pid, &status, WNOHANG) == 0;
}

/* CPU seconds (user + system) of a thread or process from /proc/<pid>/stat. */
static inline double e2e_cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	p = strrchr(buf, ')');
	/* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* SIGTERM, wait, check the exit status; prints the log's tail. */
static inline void e2e_daemon_stop(struct e2e_daemon *d)
{
	int status;
	char cmd[2 * PATH_MAX + 80];

	hp_check(kill(d->pid, SIGTERM) == 0, "kill hotpaged: %s", strerror(errno));
	hp_check(waitpid(d->pid, &status, 0) == d->pid, "waitpid: %s", strerror(errno));
	snprintf(
		cmd, sizeof(cmd),
		"grep -v '^hotpaged: events' %s | tail -n 8; grep '^hotpaged: events' %s | tail -n 1",
		d->log, d->log);
	fflush(stdout);
	if (system(cmd)) {
	}
	hp_check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hotpaged: status 0x%x", status);
	d->pid = 0;
}

/* The value after @key in the log's last stats line ("... promoted N ..."). */
static inline long long e2e_daemon_stat(const struct e2e_daemon *d, const char *key)
{
	char line[1024], last[1024] = "", pat[64];
	long long v = -1;
	FILE *f = fopen(d->log, "r");
	const char *at;

	hp_check(f, "open %s: %s", d->log, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "hotpaged: events ", 17))
			snprintf(last, sizeof(last), "%s", line);
	fclose(f);
	snprintf(pat, sizeof(pat), " %s ", key);
	at = strstr(last, pat);
	if (at)
		v = atoll(at + strlen(pat));
	return v;
}

/* CPU seconds of the kernel threads whose name starts with @prefix. */
static inline double e2e_kthreads_cpu_s(const char *prefix)
{
	char path[64], comm[64];
	double sum = 0;
	FILE *f;

	for (pid_t pid = 2; pid < 4096; pid++) {
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, prefix, strlen(prefix)))
			sum += e2e_cpu_s(pid);
		fclose(f);
	}
	return sum;
}

#endif /* HP_E2E_H */
