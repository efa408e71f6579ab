// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test: kmigrated.ko loads, a syscall BPF program and an fentry
 * program call its kmigrated_ping() kfunc, /sys/kernel/mm/kmigrated/
 * kfunc_calls counts every call, and the module unloads cleanly once the
 * programs are gone.
 *
 * Runs as root in a guest booted with the kernel the module was built for
 * (tools/vmtest); the module is build/kmod/$(uname -r)/kmigrated.ko.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hp_test.h"
#include "kmigrated.h"
#include "kmigrated_test.h"
#include "kmigrated_ping.skel.h"

#define N_CALLS 1000 /* syscall program runs */
#define N_FENTRY 100 /* getpgid(2) calls, each running the fentry program */

static struct kmigrated_ping *skel;
static bool module_ours;

static void cleanup(void)
{
	if (skel)
		kmigrated_ping__destroy(skel);
	skel = NULL;
	if (module_ours && kmt_loaded())
		kmt_unload();
}

int main(void)
{
	char path[PATH_MAX];
	uint64_t calls0, calls1, calls2;
	double t0, t_load, t_skel, t_runs, t_unload;
	int prog_fd, err, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	kmt_module_path(path, sizeof(path));
	atexit(cleanup);

	if (kmt_loaded()) {
		printf("kmigrated is loaded already; removing it first\n");
		err = kmt_unload();
		hp_check(!err, "delete_module(kmigrated): %s", strerror(-err));
	}

	t0 = kmt_now_ms();
	err = kmt_load_file(path, "");
	t_load = kmt_now_ms() - t0;
	hp_check(!err, "finit_module(%s): %s", path, strerror(-err));
	module_ours = true;
	printf("loaded %s in %.1f ms\n", path, t_load);

	hp_check(kmt_loaded(), "/sys/module/kmigrated missing after load");
	hp_check(access("/sys/kernel/btf/" KMIGRATED_MODULE_NAME, R_OK) == 0,
		 "module BTF not registered (/sys/kernel/btf/kmigrated): %s", strerror(errno));
	calls0 = kmt_read_u64(KMIGRATED_SYSFS_KFUNC_CALLS);
	hp_check(calls0 == 0, "kfunc_calls is %llu right after load, expected 0",
		 (unsigned long long)calls0);

	t0 = kmt_now_ms();
	skel = kmigrated_ping__open_and_load();
	t_skel = kmt_now_ms() - t0;
	hp_check(skel, "loading the BPF program that calls kmigrated_ping: %s", strerror(errno));
	prog_fd = bpf_program__fd(skel->progs.hp_kmig_ping);
	printf("BPF object open+load %.1f ms\n", t_skel);

	t0 = kmt_now_ms();
	for (i = 0; i < N_CALLS; i++) {
		uint64_t cookie = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
		struct kmigrated_ping_ctx ctx = { .cookie = cookie, .result = 0 };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));

		err = bpf_prog_test_run_opts(prog_fd, &opts);
		hp_check(!err, "run %d: bpf_prog_test_run_opts: %s", i, strerror(errno));
		hp_check(opts.retval == 0, "run %d: program returned %u", i, opts.retval);
		hp_check(ctx.cookie == cookie, "run %d: cookie changed", i);
		hp_check(ctx.result == (cookie ^ KMIGRATED_PING_MAGIC),
			 "run %d: kmigrated_ping(%#llx) = %#llx, expected %#llx", i,
			 (unsigned long long)cookie, (unsigned long long)ctx.result,
			 (unsigned long long)(cookie ^ KMIGRATED_PING_MAGIC));
	}
	t_runs = kmt_now_ms() - t0;
	calls1 = kmt_read_u64(KMIGRATED_SYSFS_KFUNC_CALLS);
	printf("%d syscall program runs in %.1f ms (%.1f us each); kfunc_calls %llu -> %llu\n",
	       N_CALLS, t_runs, t_runs * 1e3 / N_CALLS, (unsigned long long)calls0,
	       (unsigned long long)calls1);
	hp_check(calls1 - calls0 == N_CALLS, "kfunc_calls moved by %llu, expected %d",
		 (unsigned long long)(calls1 - calls0), N_CALLS);

	/* The tracing program type: fentry on do_getpgid, our process only. */
	skel->bss->fentry_tgid = (uint32_t)getpid();
	skel->links.hp_kmig_fentry = bpf_program__attach(skel->progs.hp_kmig_fentry);
	hp_check(skel->links.hp_kmig_fentry, "attaching fentry/do_getpgid: %s", strerror(errno));
	for (i = 0; i < N_FENTRY; i++) {
		uint64_t cookie = ~0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);

		skel->bss->fentry_cookie = cookie;
		hp_check(syscall(SYS_getpgid, 0) >= 0, "getpgid: %s", strerror(errno));
		hp_check(skel->bss->fentry_calls == (uint64_t)i + 1,
			 "getpgid call %d: fentry program ran %llu times", i + 1,
			 (unsigned long long)skel->bss->fentry_calls);
		hp_check(skel->bss->fentry_result == (cookie ^ KMIGRATED_PING_MAGIC),
			 "fentry: kmigrated_ping(%#llx) = %#llx, expected %#llx",
			 (unsigned long long)cookie, (unsigned long long)skel->bss->fentry_result,
			 (unsigned long long)(cookie ^ KMIGRATED_PING_MAGIC));
	}
	bpf_link__destroy(skel->links.hp_kmig_fentry);
	skel->links.hp_kmig_fentry = NULL;
	calls2 = kmt_read_u64(KMIGRATED_SYSFS_KFUNC_CALLS);
	printf("%d fentry program runs; kfunc_calls %llu -> %llu\n", N_FENTRY,
	       (unsigned long long)calls1, (unsigned long long)calls2);
	hp_check(calls2 - calls1 == N_FENTRY, "kfunc_calls moved by %llu, expected %d",
		 (unsigned long long)(calls2 - calls1), N_FENTRY);

	kmigrated_ping__destroy(skel);
	skel = NULL;

	t0 = kmt_now_ms();
	err = kmt_unload();
	t_unload = kmt_now_ms() - t0;
	hp_check(!err, "delete_module(kmigrated) after the programs were closed: %s",
		 strerror(-err));
	module_ours = false;
	/* Freeing a BPF program, and its module reference, waits for RCU. */
	printf("unloaded in %.1f ms (after the programs were freed)\n", t_unload);
	hp_check(!kmt_loaded(), "/sys/module/kmigrated still present after unload");
	hp_check(access(KMIGRATED_SYSFS_DIR, F_OK) != 0 && errno == ENOENT,
		 "%s still present after unload", KMIGRATED_SYSFS_DIR);

	printf("pass: %d kfunc calls (syscall and fentry) counted, results match, clean unload\n",
	       N_CALLS + N_FENTRY);
	return 0;
}
