// SPDX-License-Identifier: GPL-2.0
/* End-to-end tests: a workload, an outsider process and a hotpaged under test. */
#include "hp_e2e.h"

static uint64_t e2e_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

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

void e2e_work_init(struct e2e_work *w)
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

void e2e_work_start(struct e2e_work *w)
{
	w->stop = 0;
	w->accesses = 0;
	hp_check(!pthread_create(&w->thread, NULL, e2e_access_loop, w), "pthread_create");
}

void e2e_work_stop(struct e2e_work *w)
{
	w->stop = 1;
	pthread_join(w->thread, NULL);
}

void e2e_work_free(struct e2e_work *w)
{
	munmap(w->p, E2E_PAGES * KMT_PAGE);
	free(w->hot);
	free(w->cold);
}

void e2e_count(const struct e2e_work *w, size_t *hot, size_t *cold)
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

void e2e_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

void e2e_outsider_start(struct e2e_outsider *o, size_t nhot)
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

size_t e2e_outsider_on1(const struct e2e_outsider *o)
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

bool e2e_log_has(const char *log, const char *needle)
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

void e2e_daemon_start(struct e2e_daemon *d, const char *log, const char *const *argv)
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

bool e2e_daemon_alive(const struct e2e_daemon *d)
{
	int status;

	return waitpid(d->pid, &status, WNOHANG) == 0;
}

double e2e_cpu_s(pid_t pid)
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

void e2e_daemon_stop(struct e2e_daemon *d)
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

long long e2e_daemon_stat(const struct e2e_daemon *d, const char *key)
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

double e2e_kthreads_cpu_s(const char *prefix)
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
