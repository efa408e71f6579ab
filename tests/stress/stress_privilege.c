// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: privilege. With hotpaged running (its hot set pinned under
 * /sys/fs/bpf/hotpage) and kmigrated.ko loaded, a process that dropped to
 * nobody (setuid 65534 after fork, no capabilities) tries every way in:
 *  - open the pinned hot set (bpf_obj_get) and read it;
 *  - load the request programs (tests/bpf/kmigrated_enqueue.bpf.c);
 *  - get hold of hotpaged's programs: by id (bpf_prog_get_fd_by_id), from
 *    its /proc/PID/fd, with pidfd_getfd(2);
 *  - write each of the module's writable settings in sysfs, in its
 *    parameters and the scanner's scope;
 *  - signal hotpaged.
 * Every attempt must fail. For information only, not asserted: whether a
 * syscall program fd that root hands to it (inherited here) runs. It
 * does on 6.12, where the kernel checks privilege when a program is
 * loaded, not when it is run; hotpaged's fds are close-on-exec and its
 * programs are not pinned, so it hands none out.
 */
#include <dirent.h>
#include <grp.h>

#include "hp_settings.h"
#include "hp_stress.h"
#include "kmigrated_enqueue.skel.h"

#define NOBODY 65534

/* What the unprivileged child saw: one errno per attempt (0: it worked). */
struct attempt {
	char what[96];
	int err;
};

#define MAX_ATTEMPTS 32

struct results {
	int inherited_err, inherited_result;
	int n;
	struct attempt a[MAX_ATTEMPTS];
};

static void note(struct results *r, const char *what, int err)
{
	if (r->n < MAX_ATTEMPTS) {
		snprintf(r->a[r->n].what, sizeof(r->a[r->n].what), "%s", what);
		r->a[r->n].err = err;
		r->n++;
	}
}

static int write_err(const char *path)
{
	int fd = open(path, O_WRONLY);
	int err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, "1", 1) < 0)
		err = errno;
	close(fd);
	return err;
}

static void as_nobody(struct results *r, const struct hps_ids *ids, pid_t daemon)
{
	static const char *const settings[] = {
		KMIGRATED_SYSFS_DIR "/rate_limit_mbps",	  KMIGRATED_SYSFS_DIR "/batch_size",
		KMIGRATED_SYSFS_DIR "/scan_period_ms",	  KMIGRATED_SYSFS_DIR "/scan_pages",
		KMIGRATED_SYSFS_DIR "/scan_tgids",	  KMIGRATED_SYSFS_PARAMS "/rate_limit_mbps",
		KMIGRATED_SYSFS_PARAMS "/batch_size",	  KMIGRATED_SYSFS_PARAMS "/large_folios",
		KMIGRATED_SYSFS_PARAMS "/scan_period_ms", KMIGRATED_SYSFS_PARAMS "/scan_pages",
	};
	struct kmigrated_enqueue *skel;
	int pidfd, got = 0, first_err = 0;
	DIR *dir;
	char what[96];
	int fd, err;

	fd = bpf_obj_get(HP_HOT_PAGES_PIN);
	note(r, "bpf_obj_get " HP_HOT_PAGES_PIN, fd < 0 ? errno : 0);
	fd = open(HP_HOT_PAGES_PIN, O_RDONLY);
	note(r, "open " HP_HOT_PAGES_PIN, fd < 0 ? errno : 0);
	skel = kmigrated_enqueue__open();
	if (skel) {
		bpf_program__set_autoload(skel->progs.hp_kmig_reenter, false);
		err = kmigrated_enqueue__load(skel) ? errno : 0;
		kmigrated_enqueue__destroy(skel);
	} else {
		err = errno;
	}
	note(r, "load kmigrated_enqueue.bpf.o", err);
	for (int i = 0; i < ids->nprog; i++) {
		fd = bpf_prog_get_fd_by_id(ids->prog[i]);
		if (fd >= 0)
			got++;
		else if (!first_err)
			first_err = errno;
	}
	snprintf(what, sizeof(what), "bpf_prog_get_fd_by_id, hotpaged's %d programs", ids->nprog);
	note(r, what, got ? 0 : first_err);
	snprintf(what, sizeof(what), "/proc/%d/fd", (int)daemon);
	dir = opendir(what);
	err = dir ? 0 : errno;
	if (dir)
		closedir(dir);
	snprintf(what, sizeof(what), "opendir /proc/<hotpaged>/fd");
	note(r, what, err);
	pidfd = (int)syscall(SYS_pidfd_open, daemon, 0);
	err = pidfd < 0 ? errno : 0;
	if (pidfd >= 0) {
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, 3, 0);
		err = fd < 0 ? errno : 0;
	}
	note(r, "pidfd_getfd(hotpaged, 3)", err);
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		if (access(settings[i], F_OK))
			continue;
		snprintf(what, sizeof(what), "write %s", settings[i]);
		note(r, what, write_err(settings[i]));
	}
	note(r, "kill(hotpaged, SIGTERM)", kill(daemon, SIGTERM) ? errno : 0);
}

int main(void)
{
	struct hps_ids *before = malloc(sizeof(*before)), *after = malloc(sizeof(*after));
	struct hps_ids *mine = calloc(1, sizeof(*mine));
	struct results *r =
		mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t req0, req1, pfn;
	char *page;
	struct kmt_progs *progs;
	struct hps_daemon d = { 0 };
	struct hps_writer w;
	char unpriv[32] = "?";
	int st, failed = 0;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	hp_check(r != MAP_FAILED && before && after && mine, "mmap: %s", strerror(errno));
	if (access("/sys/devices/system/node/node1/meminfo", R_OK))
		hp_skip("needs two memory nodes");
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	if (!access("/proc/sys/kernel/unprivileged_bpf_disabled", R_OK))
		kmt_read_str("/proc/sys/kernel/unprivileged_bpf_disabled", unpriv, sizeof(unpriv));
	kmt_load_or_fail("");
	progs = kmt_open_programs(false);
	hps_writer_start(&w, 64, 3, 1, 1);
	hps_ids_snapshot(before);
	{
		char scope[64];
		const char *args[] = { "-s", "scan", "-p", "backend=kmigrated", "-p", "target=0",
				       "-p", scope,  "-p", "stats=1",		NULL };

		snprintf(scope, sizeof(scope), "scope=tgids:%d", (int)w.pid);
		hps_daemon_start(&d, "privilege", args);
	}
	hp_check(!access(HP_HOT_PAGES_PIN, F_OK), "%s not pinned", HP_HOT_PAGES_PIN);
	hps_ids_snapshot(after);
	for (int i = 0; i < after->nprog; i++)
		if (!hps_ids_has(before->prog, before->nprog, after->prog[i]))
			mine->prog[mine->nprog++] = after->prog[i];
	/* The target of the child's request: a page of this process on node 1. */
	page = kmt_map_pages(1, 9);
	hp_check(!madvise(page, KMT_PAGE, MADV_DONTFORK), "madvise: %s", strerror(errno));
	kmt_place(page, 1, 1);
	kmt_pfns(page, 1, &pfn);
	req0 = kmt_stat(-1, "requests");
	fflush(stdout);
	pid = fork();
	hp_check(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
			_exit(2);
		as_nobody(r, mine, d.pid);
		{
			/* Information: an fd root handed over (inherited). */
			struct kmigrated_req req = { .pfn = pfn, .node = 0, .result = 0xff };
			LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &req,
				    .ctx_size_in = sizeof(req));

			r->inherited_err =
				bpf_prog_test_run_opts(
					bpf_program__fd(progs->enq->progs.hp_kmig_one), &opts)
					? errno
					: 0;
			r->inherited_result = req.result;
		}
		_exit(0);
	}
	hp_check(waitpid(pid, &st, 0) == pid, "waitpid: %s", strerror(errno));
	hp_check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "unprivileged child: status %#x", st);
	kmt_wait_idle(30000);
	req1 = kmt_stat(-1, "requests");
	printf("as uid %d (kernel.unprivileged_bpf_disabled=%s), %d attempts:\n", NOBODY, unpriv,
	       r->n);
	for (int i = 0; i < r->n; i++) {
		printf("  %-60s %s\n", r->a[i].what,
		       r->a[i].err ? strerror(r->a[i].err) : "ALLOWED");
		failed += !r->a[i].err;
	}
	printf("note, not a check: root's syscall program fd, inherited: %s (request result %d); "
	       "the page %s\n",
	       r->inherited_err ? strerror(r->inherited_err) : "runs",
	       r->inherited_err ? -1 : r->inherited_result,
	       kmt_count_on(page, 1, 1) ? "stayed on node 1" : "moved to node 0");
	printf("module requests during the attempts: %llu (hotpaged's own included); hotpaged %s\n",
	       (unsigned long long)(req1 - req0), hps_daemon_alive(&d) ? "still running" : "gone");
	hp_check(!failed, "%d of %d attempts succeeded as uid %d", failed, r->n, NOBODY);
	hp_check(r->n >= 8, "only %d attempts made", r->n);
	hp_check(hps_daemon_alive(&d), "hotpaged died");
	hps_daemon_stop(&d);
	w.sh->stop = 1;
	{
		long long passes, bad;

		hps_writer_finish(&w, &passes, &bad);
	}
	kmt_close_programs(progs);
	free(before);
	free(after);
	free(mine);
	hp_check(!kmt_unload(), "delete_module: %s", strerror(errno));
	hp_settings_restore();
	printf("pass\n");
	return 0;
}
