// SPDX-License-Identifier: GPL-2.0
/*
 * hotpaged's kmigrated backend: one run of this SEC("syscall") program
 * hands a batch of requests to kmigrated.ko (user/promote/promote_kmigrated.c).
 * The kmigrated tests submit their batches through it too
 * (tests/lib/kmigrated_test.c).
 * The kfunc extern resolves only while the module is loaded, so the
 * daemon loads this object only then.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "kmigrated.h"

SEC("syscall")
int hp_promote_batch(struct kmigrated_batch *ctx)
{
	__u32 nr = ctx->nr;

	if (nr > KMIGRATED_BATCH_MAX)
		nr = KMIGRATED_BATCH_MAX;
	ctx->accepted = kmigrated_enqueue_batch((struct kmigrated_req *)ctx,
						nr * sizeof(struct kmigrated_req));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
