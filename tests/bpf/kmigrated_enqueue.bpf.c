// SPDX-License-Identifier: GPL-2.0
/*
 * Test programs feeding kmigrated.ko's request kfuncs from both program
 * types the module registers them for:
 *  - syscall programs, run with bpf_prog_test_run_opts() as the daemon
 *    runs its own: one request, a read of the counters, or a change of
 *    the scanner's scope (batches go through the daemon's program,
 *    bpf/promote.bpf.c, so that the tests run what hotpaged runs);
 *  - an fentry program on do_getpgid(), the tracing path: each getpgid(2)
 *    of the test process submits the batch held in this object's .bss,
 *    and optionally one single request, from tracing context;
 *  - an fentry program on the module's kmig_dequeue_locked(), which a
 *    kmigrated thread calls holding its queue lock, that calls in: the
 *    re-entry the module must refuse (KMIGRATED_E_BUSY) instead of
 *    deadlocking.
 * No kernel types needed, so no vmlinux.h. Load kmigrated.ko first.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "kmigrated.h"

#define FENTRY_MAX 256

/* One request through kmigrated_enqueue() or kmigrated_enqueue_vaddr(). */
SEC("syscall")
int hp_kmig_one(struct kmigrated_req *ctx)
{
	if (ctx->flags & KMIGRATED_REQ_VADDR)
		ctx->result = kmigrated_enqueue_vaddr(ctx->tgid, ctx->vaddr, ctx->node);
	else
		ctx->result = kmigrated_enqueue(ctx->pfn, ctx->node);
	return 0;
}

struct stats_ctx {
	__u64 stats[64]; /* first: passed to the kfunc as the context itself */
	__s32 copied;
	__u32 pad;
};

SEC("syscall")
int hp_kmig_stats(struct stats_ctx *ctx)
{
	ctx->copied = kmigrated_read_stats((__u64 *)ctx, sizeof(ctx->stats));
	return 0;
}

/* The scanner's scope through its kfunc. */
struct scan_scope_ctx {
	__u32 tgid;
	__u32 op;
	__s32 result;
};

SEC("syscall")
int hp_kmig_scan_scope(struct scan_scope_ctx *ctx)
{
	ctx->result = kmigrated_scan_scope(ctx->tgid, ctx->op);
	return 0;
}

/* Tracing path: set by the test. */
__u32 fentry_tgid;
__u32 fentry_nr;
struct kmigrated_req fentry_reqs[FENTRY_MAX];
__u64 fentry_single_pfn;
__u32 fentry_single_node;
__u32 fentry_single_on;
/* Results. */
__s32 fentry_accepted;
__s32 fentry_single_result;
__u64 fentry_runs;

SEC("fentry/do_getpgid")
int hp_kmig_fentry(void *ctx)
{
	__u32 nr = fentry_nr;

	if (bpf_get_current_pid_tgid() >> 32 != fentry_tgid)
		return 0;
	fentry_runs++;
	if (nr > FENTRY_MAX)
		nr = FENTRY_MAX;
	if (nr)
		fentry_accepted =
			kmigrated_enqueue_batch(fentry_reqs, nr * sizeof(struct kmigrated_req));
	if (fentry_single_on)
		fentry_single_result = kmigrated_enqueue(fentry_single_pfn, fentry_single_node);
	return 0;
}

/* Re-entry: armed by the test; counts each result code. */
__u32 reenter_armed;
__u64 reenter_pfn;
__u32 reenter_node;
__u64 reenter_results[KMIGRATED_NR_RESULTS];

SEC("fentry/kmig_dequeue_locked")
int hp_kmig_reenter(void *ctx)
{
	__u32 res;

	if (!reenter_armed)
		return 0;
	res = (__u32)kmigrated_enqueue(reenter_pfn, reenter_node);
	if (res < KMIGRATED_NR_RESULTS)
		__sync_fetch_and_add(&reenter_results[res], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
