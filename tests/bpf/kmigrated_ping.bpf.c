// SPDX-License-Identifier: GPL-2.0
/*
 * Test programs calling kmigrated.ko's kmigrated_ping() kfunc from both
 * program types the module registers it for: a syscall program (how the
 * daemon will submit requests) and an fentry (tracing) program. They need
 * no kernel types, so no vmlinux.h. Load kmigrated.ko before this object.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "kmigrated.h"

SEC("syscall")
int hp_kmig_ping(struct kmigrated_ping_ctx *ctx)
{
	ctx->result = kmigrated_ping(ctx->cookie);
	return 0;
}

/* Set by the test: only its own getpgid(2) calls ping. */
__u32 fentry_tgid;
__u64 fentry_cookie;
__u64 fentry_result;
__u64 fentry_calls;

SEC("fentry/do_getpgid")
int hp_kmig_fentry(void *ctx)
{
	if (bpf_get_current_pid_tgid() >> 32 != fentry_tgid)
		return 0;
	fentry_result = kmigrated_ping(fentry_cookie);
	fentry_calls++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
