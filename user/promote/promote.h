/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Promotion backends: what moves the chosen pages, up (promotion) or down
 * (demotion, to make room). Two fit behind this
 * interface: move_pages(2), which works on (process, virtual address) and
 * needs no module (promote_move_pages.c), and kmigrated.ko's batch kfunc,
 * which takes PFNs (or a process and address) from a SEC("syscall")
 * program and migrates asynchronously from per-node threads. A request
 * carries both kinds of address; each backend uses the one it needs and
 * refuses a request that lacks it (HP_PROMOTE_BAD_REQUEST).
 *
 * Each request ends with one outcome. Moved (or, for the module, queued)
 * is success; "refused" outcomes were decided before anything was moved
 * (the page is where it should be, the process is gone, the target node
 * cannot take pages...); "failed" ones were tried and did not work.
 */
#ifndef HOTPAGE_PROMOTE_H
#define HOTPAGE_PROMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct hp_promote_req {
	__u64 pfn; /* HP_PFN_UNKNOWN when not known */
	__u64 vaddr; /* address in tgid; 0 when not known */
	__u32 tgid; /* 0 when not known */
	int target_node;
	bool demote; /* to a lower tier, to make room: the module counts it apart */
};

#define HP_PROMOTE_OUTCOMES(X)                                                                     \
	X(MOVED, moved, "moved to the target node")                                                \
	X(QUEUED, queued, "queued for asynchronous migration (kmigrated)")                         \
	X(ALREADY_THERE, already_there, "already on the target node")                              \
	X(NO_PROCESS, no_process, "the process is gone (ESRCH)")                                   \
	X(NOT_PRESENT, not_present, "not in memory: never touched or swapped out (ENOENT)")        \
	X(NOT_MAPPED, not_mapped, "no page at that address, or the zero page (EFAULT)")            \
	X(BAD_NODE, bad_node, "target node offline or without memory (ENODEV, EINVAL)")            \
	X(NODE_NOT_ALLOWED, node_not_allowed, "target node outside the process's cpuset (EACCES)") \
	X(NO_PERMISSION, no_permission, "not allowed to move that process's pages (EPERM)")        \
	X(BAD_REQUEST, bad_request, "request lacks what this backend needs")                       \
	X(BAD_PFN, bad_pfn, "no such page frame, a hole or offline memory")                        \
	X(UNMOVABLE, unmovable, "not a movable page: not on an LRU list, ZONE_DEVICE")             \
	X(DUPLICATE, duplicate, "the same page is queued already")                                 \
	X(QUEUE_FULL, queue_full, "the migration queue is full")                                   \
	X(BUSY, busy, "page busy: pinned, locked or under I/O (EBUSY)")                            \
	X(SHARED, shared, "mapped by several processes: needs MPOL_MF_MOVE_ALL (EACCES)")          \
	X(UNEVICTABLE, unevictable, "mlocked or unevictable: not demoted")                         \
	X(NOMEM, nomem, "no free page on the target node (ENOMEM)")                                \
	X(NOT_MIGRATED, not_migrated, "the kernel tried and did not migrate it")                   \
	X(OTHER, other, "another error (see last_other_errno)")

#define HP_PROMOTE_OUTCOME_ENUM(id, name, text) HP_PROMOTE_##id,
enum hp_promote_outcome { HP_PROMOTE_OUTCOMES(HP_PROMOTE_OUTCOME_ENUM) HP_PROMOTE_NR_OUTCOMES };
#undef HP_PROMOTE_OUTCOME_ENUM

enum hp_promote_class {
	HP_PROMOTE_SUCCESS, /* MOVED, QUEUED */
	HP_PROMOTE_REFUSED, /* not attempted */
	HP_PROMOTE_FAILED, /* attempted, did not work */
};

struct hp_promote_result {
	/* in: NULL, or room for n outcomes; out: each request's enum hp_promote_outcome */
	__u8 *outcome;
	/* out, added to (keep one across calls for running totals): */
	__u64 count[HP_PROMOTE_NR_OUTCOMES]; /* requests per outcome */
	__u64 calls; /* system calls or program runs made */
	int last_other_errno; /* the errno behind the latest HP_PROMOTE_OTHER */
};

struct hp_promote_backend {
	const char *name; /* "move_pages", "kmigrated" */
	bool needs_vaddr; /* requests need tgid and vaddr */
	bool needs_pfn; /* requests need pfn */
	/* Pages per system call or batch: the policy's batch, updated between rounds. */
	unsigned int batch;
	/*
	 * Keep what makes a call cheap between calls (kmigrated: its loaded
	 * program, which holds the module against rmmod) until release().
	 */
	bool hold;
	/*
	 * Move reqs[0..n) to their targets. Returns how many succeeded, or a
	 * negative errno when the backend could not work at all (then
	 * nothing was counted). Every request gets an outcome otherwise.
	 */
	int (*promote)(struct hp_promote_backend *backend, const struct hp_promote_req *reqs,
		       size_t n, struct hp_promote_result *res);
	/* Drop what @hold kept; NULL when a backend keeps nothing. */
	void (*release)(struct hp_promote_backend *backend);
	/* Free what create() made; the struct itself belongs to the caller. */
	void (*destroy)(struct hp_promote_backend *backend);
	void *ctx;
};

/* "moved", "no_process", ...: stable names for counters and JSON. */
const char *hp_promote_outcome_name(enum hp_promote_outcome outcome);
/* One line for people. */
const char *hp_promote_outcome_text(enum hp_promote_outcome outcome);
enum hp_promote_class hp_promote_outcome_class(enum hp_promote_outcome outcome);

/* Count one request's outcome into @res (backends use it). */
void hp_promote_account(struct hp_promote_result *res, size_t index,
			enum hp_promote_outcome outcome);

/* The move_pages(2) backend (needs CAP_SYS_NICE for other processes). 0 or -ENOMEM. */
int hp_promote_move_pages_create(unsigned int batch, struct hp_promote_backend *out);

#endif /* HOTPAGE_PROMOTE_H */
