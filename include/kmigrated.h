/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interface of kmigrated.ko, hotpage's kernel helper, as seen by BPF
 * programs (kfuncs), by userspace (sysfs) and by the module itself.
 *
 * Usable from the module (kernel headers), from BPF programs (with or
 * without vmlinux.h) and from userspace (uapi headers).
 */
#ifndef KMIGRATED_H
#define KMIGRATED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Module name, as for delete_module(2) and /sys/module/. */
#define KMIGRATED_MODULE_NAME "kmigrated"

/* Statistics directory; each file holds one decimal counter. */
#define KMIGRATED_SYSFS_DIR "/sys/kernel/mm/kmigrated"
/* Calls into the module's kfuncs, all of them, since the module loaded. */
#define KMIGRATED_SYSFS_KFUNC_CALLS KMIGRATED_SYSFS_DIR "/kfunc_calls"

/*
 * kmigrated_ping(cookie) returns cookie ^ KMIGRATED_PING_MAGIC (ASCII
 * "kmigratd"): a caller can tell that the call reached this module.
 */
#define KMIGRATED_PING_MAGIC 0x6b6d696772617464ULL

/*
 * Context of a SEC("syscall") program that calls kmigrated_ping(), passed
 * with bpf_prog_test_run_opts(.ctx_in); the kernel copies it back into the
 * same buffer after the run.
 */
struct kmigrated_ping_ctx {
	__u64 cookie; /* in */
	__u64 result; /* out: kmigrated_ping(cookie) */
};

#if defined(__bpf__) && defined(__ksym)
/*
 * The module's kfuncs. Plain (not __weak) externs: libbpf 1.1 refuses an
 * object with a weak kfunc extern when the module is loaded, so load the
 * module before any BPF object that calls these.
 */
extern __u64 kmigrated_ping(__u64 cookie) __ksym;
#endif

#endif /* KMIGRATED_H */
