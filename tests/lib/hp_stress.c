// SPDX-License-Identifier: GPL-2.0
/* Stress scenarios: hotpaged, writers that check their pages, BPF object counts. */
#include "hp_stress.h"

static void hps_hotpaged_path(char *buf, size_t size)
{
	char root[PATH_MAX - 32];

	kmt_repo_root(root, sizeof(root));
	snprintf(buf, size, "%.*s/build/bin/hotpaged", (int)(sizeof(root) - 1), root);
	if (access(buf, X_OK))
		hp_skip("%s not built", buf);
}

/* Whether the log holds @needle; its last line with it into @line. */
static bool hps_log_find(const char *log, const char *needle, char *line, size_t size)
{
	char buf[1024];
	bool found = false;
	FILE *f = fopen(log, "r");

	if (!f)
		return false;
	while (fgets(buf, sizeof(buf), f)) {
		if (strstr(buf, needle)) {
			found = true;
			if (line)
				snprintf(line, size, "%.*s", (int)strcspn(buf, "\n"), buf);
		}
	}
	fclose(f);
	return found;
}

void hps_daemon_start(struct hps_daemon *d, const char *tag, const char *const *args)
{
	char path[PATH_MAX];
	const char *argv[40];
	double deadline;
	int n = 0, fd, st;

	hps_hotpaged_path(path, sizeof(path));
	snprintf(d->log, sizeof(d->log), "/tmp/hps-%s.log", tag);
	argv[n++] = path;
	argv[n++] = "-f";
	while (*args && n < 38)
		argv[n++] = *args++;
	argv[n] = NULL;
	fflush(stdout);
	d->pid = fork();
	hp_check(d->pid >= 0, "fork: %s", strerror(errno));
	if (d->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* the daemon cleans up when the test dies */
		fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	deadline = kmt_now_ms() + HPS_START_TIMEOUT_MS;
	while (!hps_log_find(d->log, "hotpaged: running:", NULL, 0)) {
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			char line[1024] = "";

			hps_log_find(d->log, "hotpaged:", line, sizeof(line));
			hp_fail("hotpaged exited at start (status %#x): %s", st, line);
		}
		hp_check(kmt_now_ms() < deadline, "hotpaged not running after %d ms",
			 HPS_START_TIMEOUT_MS);
		usleep(50 * 1000);
	}
}

bool hps_daemon_alive(const struct hps_daemon *d)
{
	int st;

	return d->pid > 0 && waitpid(d->pid, &st, WNOHANG) == 0;
}

void hps_daemon_stop(struct hps_daemon *d)
{
	double deadline = kmt_now_ms() + 30000;
	int st = 0;

	hp_check(kill(d->pid, SIGTERM) == 0, "kill hotpaged: %s", strerror(errno));
	while (waitpid(d->pid, &st, WNOHANG) == 0) {
		hp_check(kmt_now_ms() < deadline, "hotpaged still running 30 s after SIGTERM");
		usleep(20 * 1000);
	}
	hp_check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "hotpaged: exit status %#x (log %s)", st,
		 d->log);
	d->pid = 0;
}

void hps_daemon_kill(struct hps_daemon *d)
{
	int st;

	hp_check(kill(d->pid, SIGKILL) == 0, "kill -9 hotpaged: %s", strerror(errno));
	hp_check(waitpid(d->pid, &st, 0) == d->pid, "waitpid: %s", strerror(errno));
	d->pid = 0;
}

uint64_t hps_proc_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	unsigned long long kb = 0;
	size_t len = strlen(field);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			sscanf(line + len + 1, "%llu", &kb);
	fclose(f);
	return kb * 1024;
}

long long hps_daemon_stat(const struct hps_daemon *d, const char *key)
{
	char line[1024], k[64];
	const char *p;
	long long v;

	if (!hps_log_find(d->log, "hotpaged: events ", line, sizeof(line)))
		return -1;
	snprintf(k, sizeof(k), " %s ", key);
	p = strstr(line, k);
	if (!p || sscanf(p + strlen(k), "%lld", &v) != 1)
		return -1;
	return v;
}

bool hps_wait_daemon_stat(const struct hps_daemon *d, const char *key, long long want,
			  double timeout_ms)
{
	double deadline = kmt_now_ms() + timeout_ms;

	while (hps_daemon_stat(d, key) < want) {
		if (kmt_now_ms() > deadline || !hps_daemon_alive(d))
			return false;
		usleep(100 * 1000);
	}
	return true;
}

static uint64_t hps_word(uint32_t seed, size_t page, uint64_t gen, size_t j)
{
	uint64_t x = ((uint64_t)seed << 40) ^ ((uint64_t)page << 20) ^ (gen << 1) ^ j;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static void hps_fill(char *pg, uint32_t seed, size_t page, uint64_t gen)
{
	uint64_t *w = (uint64_t *)pg;

	w[0] = gen;
	for (size_t j = 1; j < KMT_PAGE / 8; j++)
		w[j] = hps_word(seed, page, gen, j);
}

static bool hps_page_ok(const char *pg, uint32_t seed, size_t page, uint64_t gen)
{
	const uint64_t *w = (const uint64_t *)pg;

	if (w[0] != gen)
		return false;
	for (size_t j = 1; j < KMT_PAGE / 8; j++)
		if (w[j] != hps_word(seed, page, gen, j))
			return false;
	return true;
}

static void hps_writer_check(struct hps_writer *w, size_t i)
{
	if (!hps_page_ok(w->area + i * KMT_PAGE, w->seed, i, w->sh->gen[i])) {
		if (w->sh->first_bad < 0)
			w->sh->first_bad = (long long)i;
		w->sh->bad_pages++;
	}
}

void hps_writer_start(struct hps_writer *w, size_t npages, uint32_t seed, int node,
		      unsigned int hot_div)
{
	size_t shsize = sizeof(struct hps_shared) + npages * sizeof(uint64_t);

	w->npages = npages;
	w->seed = seed;
	w->sh = mmap(NULL, shsize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	hp_check(w->sh != MAP_FAILED, "mmap: %s", strerror(errno));
	w->sh->first_bad = -1;
	/* Reserved here, untouched, so that the test knows the writer's address. */
	w->area = mmap(NULL, npages * KMT_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	hp_check(w->area != MAP_FAILED, "mmap: %s", strerror(errno));
	fflush(stdout);
	w->pid = fork();
	hp_check(w->pid >= 0, "fork: %s", strerror(errno));
	if (w->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		madvise(w->area, npages * KMT_PAGE, MADV_NOHUGEPAGE);
		for (size_t i = 0; i < npages; i++) {
			w->sh->gen[i] = 1;
			hps_fill(w->area + i * KMT_PAGE, seed, i, 1);
		}
		if (node >= 0)
			kmt_place(w->area, npages, node);
		w->sh->ready = 1;
		while (!w->sh->stop) {
			for (size_t i = 0; i < npages && !w->sh->stop; i++) {
				if (!hps_is_hot(i, hot_div))
					continue;
				hps_writer_check(w, i);
				hps_fill(w->area + i * KMT_PAGE, seed, i, w->sh->gen[i] + 1);
				w->sh->gen[i]++;
			}
			w->sh->passes++;
		}
		/* Final check of every page, hot and cold. */
		for (size_t i = 0; i < npages; i++)
			hps_writer_check(w, i);
		/* Wait for the test to count the pages' nodes, then exit. */
		while (w->sh->stop < 2)
			usleep(10 * 1000);
		_exit(w->sh->bad_pages ? 1 : 0);
	}
	munmap(w->area, npages * KMT_PAGE);
	while (!w->sh->ready) {
		int st;

		hp_check(waitpid(w->pid, &st, WNOHANG) == 0, "writer exited early (%#x)", st);
		usleep(10 * 1000);
	}
}

void hps_count_nodes(pid_t pid, uintptr_t addr, size_t npages, int node, unsigned int hot_div,
		     size_t *hot_on, size_t *nhot, size_t *cold_on)
{
	void **addrs = calloc(npages, sizeof(*addrs));
	int *status = calloc(npages, sizeof(*status));

	hp_check(addrs && status, "calloc");
	for (size_t i = 0; i < npages; i++)
		addrs[i] = (void *)(addr + i * KMT_PAGE);
	hp_check(move_pages(pid, npages, addrs, NULL, status, 0) >= 0, "move_pages(%d): %s",
		 (int)pid, strerror(errno));
	*hot_on = *nhot = *cold_on = 0;
	for (size_t i = 0; i < npages; i++) {
		if (hps_is_hot(i, hot_div)) {
			(*nhot)++;
			*hot_on += status[i] == node;
		} else {
			*cold_on += status[i] == node;
		}
	}
	free(addrs);
	free(status);
}

void hps_scope_tgids(char *buf, size_t size, const struct hps_writer *w, int nw)
{
	int n = snprintf(buf, size, "scope=tgids:");

	for (int i = 0; i < nw && n > 0 && (size_t)n < size; i++)
		n += snprintf(buf + n, size - (size_t)n, "%s%d", i ? "," : "", (int)w[i].pid);
}

void hps_writer_finish(struct hps_writer *w, long long *passes, long long *bad)
{
	int st;

	w->sh->stop = 2;
	hp_check(waitpid(w->pid, &st, 0) == w->pid, "waitpid: %s", strerror(errno));
	*passes = w->sh->passes;
	*bad = w->sh->bad_pages;
	hp_check(WIFEXITED(st), "writer %d died (status %#x)", (int)w->pid, st);
	munmap(w->sh, sizeof(struct hps_shared) + w->npages * sizeof(uint64_t));
	w->pid = 0;
}

void hps_probe_start(struct hps_probe *p)
{
	int a[2], b[2];

	p->sh = mmap(NULL, sizeof(*p->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		     0);
	hp_check(p->sh != MAP_FAILED, "mmap: %s", strerror(errno));
	memset((void *)p->sh, 0, sizeof(*p->sh));
	hp_check(!pipe(a) && !pipe(b), "pipe: %s", strerror(errno));
	fflush(stdout);
	p->pid = fork();
	hp_check(p->pid >= 0, "fork: %s", strerror(errno));
	if (p->pid == 0) {
		pid_t echo;
		char c = 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		echo = fork();
		if (echo == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			/* Only the pinger may hold the write end: its close ends the echo. */
			close(a[1]);
			close(b[0]);
			while (read(a[0], &c, 1) == 1 && write(b[1], &c, 1) == 1)
				;
			_exit(0);
		}
		close(a[0]);
		close(b[1]);
		while (!p->sh->stop) {
			double t0 = kmt_now_ms(), dt;

			if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
				_exit(1);
			dt = kmt_now_ms() - t0;
			p->sh->trips++;
			p->sh->sum_ms += dt;
			if (dt > p->sh->max_ms)
				p->sh->max_ms = dt;
			p->sh->over_10ms += dt > 10;
			usleep(2000);
		}
		close(a[1]);
		waitpid(echo, NULL, 0);
		_exit(0);
	}
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

void hps_probe_stop(struct hps_probe *p)
{
	p->sh->stop = 1;
	hp_check(waitpid(p->pid, NULL, 0) == p->pid, "waitpid probe: %s", strerror(errno));
}

void hps_ids_snapshot(struct hps_ids *s)
{
	uint32_t id = 0;

	s->nprog = s->nlink = 0;
	while (!bpf_prog_get_next_id(id, &id) && s->nprog < HPS_IDS_MAX)
		s->prog[s->nprog++] = id;
	id = 0;
	while (!bpf_link_get_next_id(id, &id) && s->nlink < HPS_IDS_MAX)
		s->link[s->nlink++] = id;
}

bool hps_ids_has(const uint32_t *ids, int n, uint32_t id)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

void hps_ids_new(const struct hps_ids *before, const struct hps_ids *now, int *progs, int *links)
{
	*progs = *links = 0;
	for (int i = 0; i < now->nprog; i++)
		*progs += !hps_ids_has(before->prog, before->nprog, now->prog[i]);
	for (int i = 0; i < now->nlink; i++)
		*links += !hps_ids_has(before->link, before->nlink, now->link[i]);
}

void hps_ids_settle(const struct hps_ids *before, int *progs, int *links, double timeout_ms)
{
	double deadline = kmt_now_ms() + timeout_ms;
	struct hps_ids *now = malloc(sizeof(*now));

	hp_check(now, "malloc");
	for (;;) {
		hps_ids_snapshot(now);
		hps_ids_new(before, now, progs, links);
		if ((!*progs && !*links) || kmt_now_ms() > deadline)
			break;
		usleep(100 * 1000);
	}
	free(now);
}

int hps_dir_entries(const char *dir)
{
	char cmd[256], line[256];
	int n = 0;
	FILE *f;

	if (access(dir, F_OK))
		return -1;
	snprintf(cmd, sizeof(cmd), "ls -A %s", dir);
	f = popen(cmd, "r");
	hp_check(f, "popen: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		n++;
	pclose(f);
	return n;
}
