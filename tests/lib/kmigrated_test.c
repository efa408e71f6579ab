// SPDX-License-Identifier: GPL-2.0
/* Helpers of the kmigrated.ko tests: the module, its programs, pages, the log. */
#include "kmigrated_test.h"
#include "kmigrated_enqueue.skel.h"
#include "promote.skel.h"

#define KMT_STAT_NAME(id, name) #name,
const char *const kmt_stat_names[KMIGRATED_NR_STATS] = { KMIGRATED_STATS(KMT_STAT_NAME) };
#undef KMT_STAT_NAME

double kmt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void kmt_repo_root(char *buf, size_t size)
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

void kmt_module_path(char *buf, size_t size)
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

bool kmt_loaded(void)
{
	return access("/sys/module/" KMIGRATED_MODULE_NAME, F_OK) == 0;
}

int kmt_load_file(const char *path, const char *params)
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

int kmt_load(const char *params)
{
	char path[PATH_MAX];

	kmt_module_path(path, sizeof(path));
	return kmt_load_file(path, params);
}

int kmt_unload(void)
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

void kmt_load_or_fail(const char *params)
{
	int err;

	if (kmt_loaded()) {
		err = kmt_unload();
		hp_check(!err, "delete_module(kmigrated): %s", strerror(-err));
	}
	err = kmt_load(params);
	hp_check(!err, "finit_module(kmigrated, \"%s\"): %s", params ? params : "", strerror(-err));
}

uint64_t kmt_read_u64(const char *path)
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

void kmt_read_str(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");

	hp_check(f, "open %s: %s", path, strerror(errno));
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

int kmt_write(const char *path, const char *val)
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

uint64_t kmt_stat(int node, const char *name)
{
	char path[256];

	if (node < 0)
		snprintf(path, sizeof(path), KMIGRATED_SYSFS_DIR "/%s", name);
	else
		snprintf(path, sizeof(path), KMIGRATED_SYSFS_DIR "/node%d/%s", node, name);
	return kmt_read_u64(path);
}

void kmt_stats(int node, uint64_t *v)
{
	int i;

	for (i = 0; i < KMIGRATED_NR_STATS; i++)
		v[i] = kmt_stat(node, kmt_stat_names[i]);
}

void kmt_print_stats(const char *what, const uint64_t *v)
{
	int i;

	printf("%s:", what);
	for (i = 0; i < KMIGRATED_NR_STATS; i++) {
		if (v[i])
			printf(" %s=%llu", kmt_stat_names[i], (unsigned long long)v[i]);
	}
	printf("\n");
}

int kmt_set(const char *name, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), KMIGRATED_SYSFS_DIR "/%s", name);
	return kmt_write(path, val);
}

bool kmt_wait_stat(const char *stat, uint64_t want, double timeout_ms)
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

void kmt_wait_idle(double timeout_ms)
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

long kmt_submit(const struct kmt_progs *progs, struct kmigrated_req *reqs, size_t nr)
{
	static struct kmigrated_batch batch;
	int fd = bpf_program__fd(progs->promote->progs.hp_promote_batch);
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
		hp_check(!err, "bpf_prog_test_run_opts(hp_promote_batch): %s", strerror(errno));
		hp_check(batch.accepted >= 0 && (size_t)batch.accepted <= n,
			 "kmigrated_enqueue_batch returned %d for %zu requests", batch.accepted, n);
		memcpy(reqs + done, batch.reqs, n * sizeof(*reqs));
		accepted += batch.accepted;
		done += n;
	}
	return accepted;
}

int kmt_submit_one(const struct kmt_progs *progs, struct kmigrated_req *req)
{
	int fd = bpf_program__fd(progs->enq->progs.hp_kmig_one);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = req, .ctx_size_in = sizeof(*req));
	int err;

	req->result = 0xff;
	err = bpf_prog_test_run_opts(fd, &opts);
	hp_check(!err, "bpf_prog_test_run_opts(hp_kmig_one): %s", strerror(errno));
	return req->result;
}

struct kmt_progs *kmt_try_open_programs(bool reenter)
{
	struct kmt_progs *progs = calloc(1, sizeof(*progs));
	int err;

	hp_check(progs, "calloc");
	progs->enq = kmigrated_enqueue__open();
	if (!progs->enq)
		goto fail;
	bpf_program__set_autoload(progs->enq->progs.hp_kmig_reenter, reenter);
	if (kmigrated_enqueue__load(progs->enq))
		goto fail;
	progs->promote = promote__open_and_load();
	if (!progs->promote)
		goto fail;
	return progs;
fail:
	err = errno;
	kmt_close_programs(progs);
	errno = err;
	return NULL;
}

struct kmt_progs *kmt_open_programs(bool reenter)
{
	struct kmt_progs *progs = kmt_try_open_programs(reenter);

	hp_check(progs, "loading kmigrated_enqueue.bpf.o and promote.bpf.o: %s", strerror(errno));
	return progs;
}

void kmt_close_programs(struct kmt_progs *progs)
{
	if (!progs)
		return;
	promote__destroy(progs->promote);
	kmigrated_enqueue__destroy(progs->enq);
	free(progs);
}

char *kmt_map_pages(size_t npages, uint32_t seed)
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

uint64_t kmt_page_sum(const char *page)
{
	const uint64_t *w = (const uint64_t *)page;
	uint64_t h = 1469598103934665603ULL;
	size_t j;

	for (j = 0; j < KMT_PAGE / 8; j++)
		h = (h ^ w[j]) * 1099511628211ULL;
	return h;
}

void kmt_sums(const char *p, size_t npages, uint64_t *sums)
{
	size_t i;

	for (i = 0; i < npages; i++)
		sums[i] = kmt_page_sum(p + i * KMT_PAGE);
}

void kmt_pfns(const char *p, size_t npages, uint64_t *pfns)
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

void kmt_move(char *p, size_t npages, int node, int *status)
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

void kmt_touch_hot(char *p, size_t npages, double ms)
{
	double end = kmt_now_ms() + ms;

	while (kmt_now_ms() < end)
		for (size_t i = 0; i < npages; i++)
			if (kmt_is_hot(i))
				(*(volatile char *)(p + i * KMT_PAGE))++;
}

size_t kmt_count_on(char *p, size_t npages, int node)
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

void kmt_place(char *p, size_t npages, int node)
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

int kmt_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	hp_check(fd >= 0, "open /dev/kmsg: %s", strerror(errno));
	hp_check(lseek(fd, 0, SEEK_END) >= 0, "seek /dev/kmsg: %s", strerror(errno));
	return fd;
}

bool kmt_kmsg_scan(int fd, const char *needle, char *line, size_t size, int *bad)
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

long long kmt_vmstat(const char *name)
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

long long kmt_isolated(void)
{
	int err = kmt_write("/proc/sys/vm/stat_refresh", "1");

	hp_check(!err, "write /proc/sys/vm/stat_refresh: %s", strerror(-err));
	return kmt_vmstat("nr_isolated_anon") + kmt_vmstat("nr_isolated_file");
}

long long kmt_wait_isolated(int timeout_ms)
{
	double deadline = kmt_now_ms() + timeout_ms;
	long long n;

	while ((n = kmt_isolated()) != 0 && kmt_now_ms() < deadline)
		usleep(100 * 1000);
	return n;
}
