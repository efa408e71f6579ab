/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interface of kmigrated.ko, hotpage's kernel helper, as seen by BPF
 * programs (kfuncs), by userspace (sysfs) and by the module itself.
 *
 * Usable from the module (kernel headers), from BPF programs (with or
 * without vmlinux.h) and from userspace (uapi headers).
 *
 * Requests: a BPF program asks for a page to be promoted (moved to a
 * target node) by calling kmigrated_enqueue() with its PFN (the "pfn"
 * route: isolate + migrate_pages from a per-node kthread), or
 * kmigrated_enqueue_vaddr() with a process and a user address (the "vma"
 * route: the exported migrate_vma_* API; anonymous memory only), or
 * kmigrated_enqueue_batch() with an array of struct kmigrated_req. Each
 * request is checked at once and queued or refused with one of the
 * enum kmigrated_result codes; the migration itself happens later, in
 * the kthread kmigrated<nid> of the page's node (pfn route) or of the
 * target node (vma route), and its outcome shows in the counters.
 */
#ifndef KMIGRATED_H
#define KMIGRATED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Module name, as for delete_module(2) and /sys/module/. */
#define KMIGRATED_MODULE_NAME "kmigrated"

/*
 * Statistics and settings directory. Each counter file holds one decimal
 * number; the same counters, for one node, are in node<N>/ (a request is
 * accounted to the node whose queue it went to, or was refused from; a
 * request refused before a node was known counts in the totals only).
 * Writable files: batch_size, rate_limit_mbps (also module parameters).
 */
#define KMIGRATED_SYSFS_DIR "/sys/kernel/mm/kmigrated"
/* Calls into the module's kfuncs, all of them, since the module loaded. */
#define KMIGRATED_SYSFS_KFUNC_CALLS KMIGRATED_SYSFS_DIR "/kfunc_calls"
#define KMIGRATED_SYSFS_PARAMS "/sys/module/" KMIGRATED_MODULE_NAME "/parameters"

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

/* What the module does with a request: 0 queued, else why it refused it. */
enum kmigrated_result {
	KMIGRATED_QUEUED = 0,
	KMIGRATED_E_INVALID = 1, /* unknown flags, bad tgid or address */
	KMIGRATED_E_PFN = 2, /* no such PFN, a hole, or offline memory */
	KMIGRATED_E_ZONE_DEVICE = 3, /* ZONE_DEVICE page (pmem, device memory) */
	KMIGRATED_E_NODE = 4, /* target node invalid, offline or without memory */
	KMIGRATED_E_SAME_NODE = 5, /* the page is on the target node already */
	KMIGRATED_E_NOT_LRU = 6, /* not on an LRU: kernel, slab, free, just migrated */
	KMIGRATED_E_DUPLICATE = 7, /* the same page is queued already */
	KMIGRATED_E_QUEUE_FULL = 8, /* the node's queue is full */
	KMIGRATED_E_BUSY = 9, /* queue lock held too long (re-entry from tracing) */
	KMIGRATED_E_ROUTE = 10, /* the request's route is not in service */
	KMIGRATED_E_UNEVICTABLE = 11, /* demotion of an mlocked or unevictable page */
	KMIGRATED_NR_RESULTS
};

/* struct kmigrated_req.flags */
#define KMIGRATED_REQ_VADDR 0x01 /* vaddr route: (tgid, vaddr) instead of pfn */
#define KMIGRATED_REQ_DEMOTE 0x02 /* to a lower tier: making room, not a promotion */
#define KMIGRATED_REQ_FLAGS 0x03 /* all valid flags */

/* One request, as kmigrated_enqueue_batch() takes them. */
struct kmigrated_req {
	union {
		__u64 pfn; /* page frame number (pfn route) */
		__u64 vaddr; /* user virtual address in tgid (KMIGRATED_REQ_VADDR) */
	};
	__u32 tgid; /* process (KMIGRATED_REQ_VADDR); 0 otherwise */
	__u16 node; /* target node */
	__u8 flags; /* KMIGRATED_REQ_* */
	__u8 result; /* out: enum kmigrated_result */
};

#ifndef __bpf__
/* The module, the daemon and the BPF programs all see these bytes. */
_Static_assert(sizeof(struct kmigrated_req) == 16, "struct kmigrated_req is 16 bytes");
_Static_assert(__builtin_offsetof(struct kmigrated_req, result) == 15,
	       "kmigrated_req.result is its last byte");
#endif

/*
 * Context of a SEC("syscall") program that submits a batch with
 * kmigrated_enqueue_batch() (tests/bpf/kmigrated_enqueue.bpf.c); at most
 * KMIGRATED_BATCH_MAX requests per run. The program passes the context
 * itself as the array, with nr * sizeof(struct kmigrated_req) as size.
 */
#define KMIGRATED_BATCH_MAX 1024
struct kmigrated_batch {
	/* First: the verifier lets only an unmodified context pointer go to a kfunc. */
	struct kmigrated_req reqs[KMIGRATED_BATCH_MAX];
	__u32 nr; /* in: requests in reqs[] */
	__s32 accepted; /* out: kmigrated_enqueue_batch()'s return */
};

#ifndef __bpf__
_Static_assert(__builtin_offsetof(struct kmigrated_batch, reqs) == 0,
	       "the batch's requests start the context");
_Static_assert(sizeof(struct kmigrated_batch) == KMIGRATED_BATCH_MAX * 16 + 8,
	       "struct kmigrated_batch has no padding");
#endif

/*
 * The counters, in sysfs order (file name = second column). refused_*
 * follow enum kmigrated_result; failed_* are the kthreads' outcomes.
 */
#define KMIGRATED_STATS(X)                                                                         \
	X(KFUNC_CALLS, kfunc_calls) /* kfunc calls, all kfuncs */                                  \
	X(REQUESTS, requests) /* requests checked */                                               \
	X(ACCEPTED, accepted) /* requests queued */                                                \
	X(REFUSED_INVALID, refused_invalid)                                                        \
	X(REFUSED_PFN, refused_pfn)                                                                \
	X(REFUSED_ZONE_DEVICE, refused_zone_device)                                                \
	X(REFUSED_NODE, refused_node)                                                              \
	X(REFUSED_SAME_NODE, refused_same_node)                                                    \
	X(REFUSED_NOT_LRU, refused_not_lru)                                                        \
	X(REFUSED_DUPLICATE, refused_duplicate)                                                    \
	X(REFUSED_QUEUE_FULL, refused_queue_full)                                                  \
	X(REFUSED_BUSY, refused_busy)                                                              \
	X(REFUSED_ROUTE, refused_route)                                                            \
	X(REFUSED_UNEVICTABLE, refused_unevictable)                                                \
	X(MIGRATED, migrated) /* base pages migrated, both routes */                               \
	X(MIGRATED_VMA, migrated_vma) /* of which through the vma route */                         \
	X(DEMOTED, demoted) /* of which by demotion requests */                                    \
	X(FAILED_GONE, failed_gone) /* page freed or reused since it was queued */                 \
	X(FAILED_SAME_NODE, failed_same_node) /* on the target node by then */                     \
	X(FAILED_ISOLATE, failed_isolate) /* could not be taken off its LRU */                     \
	X(FAILED_LARGE, failed_large) /* large folio, skipped (large_folios=0, vma route) */       \
	X(FAILED_MIGRATE, failed_migrate) /* isolated but not migrated (pages) */                  \
	X(FAILED_NOMEM, failed_nomem) /* no destination page (vma route) */                        \
	X(FAILED_VMA, failed_vma) /* no process, no vma, not anonymous, not collected */           \
	X(FAILED_UNEVICTABLE, failed_unevictable) /* demotion: mlocked since it was queued */      \
	X(DROPPED, dropped) /* still queued when the module was unloaded */                        \
	X(BATCHES, batches) /* migrate_pages / migrate_vma_pages calls */                          \
	X(BYTES, bytes) /* bytes migrated */                                                       \
	X(THROTTLED, throttled) /* waits for the rate limit */                                     \
	X(THREAD_NS, thread_ns) /* CPU time of the kmigrated threads, ns */                        \
	X(SCAN_PASSES, scan_passes) /* accessed-bit scanner: passes */                             \
	X(SCAN_SWEEPS, scan_sweeps) /* ... passes that finished a walk of the whole scope */       \
	X(SCAN_PAUSES, scan_pauses) /* ... pauses for the consumer of its reports */               \
	X(SCAN_PTES, scan_ptes) /* PTEs of scanned nodes' pages tested */                          \
	X(SCAN_ACCESSED, scan_accessed) /* ... found accessed, cleared and reported */             \
	X(SCAN_ACCESSED_TOP, scan_accessed_top) /* ... of which on nodes with CPUs */              \
	X(SCAN_NS, scan_ns) /* CPU time of the scanner thread, ns */                               \
	X(SCAN_TOP_SWEEPS, scan_top_sweeps) /* sweeps that tested the top tier's pages too */

#define KMIGRATED_STAT_ENUM(id, name) KMIGRATED_STAT_##id,
enum kmigrated_stat { KMIGRATED_STATS(KMIGRATED_STAT_ENUM) KMIGRATED_NR_STATS };
#undef KMIGRATED_STAT_ENUM

/* The refused_* counters, one per refusal, in enum kmigrated_result order. */
#define KMIGRATED_STAT_REFUSED_FIRST KMIGRATED_STAT_REFUSED_INVALID
#define KMIGRATED_STAT_REFUSED_LAST KMIGRATED_STAT_REFUSED_UNEVICTABLE
#ifndef __bpf__
_Static_assert(KMIGRATED_STAT_REFUSED_LAST - KMIGRATED_STAT_REFUSED_FIRST ==
		       KMIGRATED_NR_RESULTS - 2,
	       "one refused_* counter per refusal, in result order");
#endif

/*
 * The accessed-bit scanner (kthread kmigrated_scan): every scan_period_ms
 * it walks the page tables of the processes in scope, up to scan_pages
 * PTEs per pass (resuming where the last pass stopped), tests and clears
 * the accessed bit of each PTE mapping a page on a scanned node (every
 * node with memory, unless scan_nodes says otherwise: the lower tiers
 * for what to promote, the top tier for what has gone cold; the top tier's
 * pages, on nodes with CPUs, only every scan_top_every sweeps), flushes
 * the TLB for what it cleared, and reports each accessed page through the
 * tracepoint kmigrated:kmigrated_scan_access (raw_tp arguments: pfn, nid,
 * tgid, addr, order; order 0 for a base page, the PMD order for a huge
 * page mapped by one PMD, whose head pfn it reports). Scope: sysfs
 * scan_tgids ("none", "all" or tgids) or the kmigrated_scan_scope() kfunc.
 */
#define KMIGRATED_SCAN_TP "kmigrated_scan_access"
#define KMIGRATED_SCAN_TGIDS_MAX 64
enum kmigrated_scan_op {
	KMIGRATED_SCAN_ADD = 0, /* add tgid to the scope */
	KMIGRATED_SCAN_DEL = 1, /* remove tgid */
	KMIGRATED_SCAN_ALL = 2, /* every process */
	KMIGRATED_SCAN_NONE = 3, /* no process: the scanner idles */
};

/* Requests not done yet, queued or being migrated: sysfs only, not a counter. */
#define KMIGRATED_SYSFS_QUEUED "queued"

#if defined(__bpf__) && defined(__ksym)
/*
 * The module's kfuncs. Plain (not __weak) externs: libbpf 1.1 refuses an
 * object with a weak kfunc extern when the module is loaded, so load the
 * module before any BPF object that calls these.
 *
 * kmigrated_enqueue*() return an enum kmigrated_result (0: queued);
 * kmigrated_enqueue_batch() writes each request's result and returns how
 * many it queued, or -EINVAL when reqs__sz is not a whole number of
 * requests. kmigrated_read_stats() copies the totals, in enum
 * kmigrated_stat order, and returns how many it copied.
 */
extern __u64 kmigrated_ping(__u64 cookie) __ksym;
extern int kmigrated_enqueue(__u64 pfn, __u32 node) __ksym;
extern int kmigrated_enqueue_vaddr(__u32 tgid, __u64 vaddr, __u32 node) __ksym;
extern int kmigrated_enqueue_batch(struct kmigrated_req *reqs, __u32 reqs__sz) __ksym;
extern int kmigrated_read_stats(__u64 *stats, __u32 stats__sz) __ksym;
/* 0, -EINVAL (bad op or tgid), -ENOSPC (scope full) or -EBUSY. */
extern int kmigrated_scan_scope(__u32 tgid, __u32 op) __ksym;
#endif

#endif /* KMIGRATED_H */
