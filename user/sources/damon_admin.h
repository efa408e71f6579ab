/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Starting and stopping a DAMON context through DAMON's sysfs interface
 * (/sys/kernel/mm/damon/admin, CONFIG_DAMON_SYSFS, 5.18+).
 *
 * Ownership. DAMON's sysfs has one list of kdamonds, rebuilt whole
 * whenever nr_kdamonds is written: the kernel refuses (EBUSY) while any
 * kdamond runs, and otherwise drops every existing kdamond directory with
 * its configuration. So hotpage adds its kdamond only when every existing
 * one is its own: with another user's kdamond present, running or not, it
 * refuses with the reason and leaves DAMON alone.
 *
 * Tagging. A kdamond hotpage creates carries, as scheme 0 of its context,
 * a DAMOS "stat" scheme whose region size range is exactly
 * [HP_DAMON_TAG, HP_DAMON_TAG] bytes ("hotpage1" in ASCII, 7.5 EiB: it
 * never matches a region, so it does nothing) and whose age range is
 * [pid, pid] of the hotpage process that created it. sysfs outlives the
 * process, so after a crash the next run finds the tag, sees the owner is
 * gone, turns that kdamond off and reuses the slot; a kdamond whose owner
 * still runs is left alone (busy).
 */
#ifndef HOTPAGE_DAMON_ADMIN_H
#define HOTPAGE_DAMON_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#include "node_ranges.h"

#define HP_DAMON_ADMIN "/sys/kernel/mm/damon/admin"
#define HP_DAMON_MODULES "/sys/module"
#define HP_DAMON_TAG 0x686f747061676531ULL /* "hotpage1" */
#define HP_DAMON_SCAN_MAX 16
#define HP_DAMON_PIDS_MAX 64

enum hp_damon_ops {
	HP_DAMON_OPS_VADDR, /* processes' virtual address spaces (targets: pids) */
	HP_DAMON_OPS_PADDR, /* physical memory (one target: address ranges) */
};

/* Monitoring attributes; DAMON's defaults are 5 ms, 100 ms, 1 s, 10..1000. */
struct hp_damon_attrs {
	__u64 sample_us;
	__u64 aggr_us;
	__u64 update_us;
	__u64 min_nr_regions;
	__u64 max_nr_regions;
};

#define HP_DAMON_ATTRS_DEFAULT                                                                     \
	((struct hp_damon_attrs){ .sample_us = 5000,                                               \
				  .aggr_us = 100000,                                               \
				  .update_us = 1000000,                                            \
				  .min_nr_regions = 10,                                            \
				  .max_nr_regions = 1000 })

struct hp_damon_spec {
	enum hp_damon_ops ops;
	struct hp_damon_attrs attrs;
	const __u32 *pids; /* vaddr: one target per process */
	size_t nr_pids;
	const struct hp_phys_range *ranges; /* paddr: the regions to monitor */
	size_t nr_ranges;
};

/* One kdamond as its sysfs directory shows it. */
struct hp_damon_kdamond {
	unsigned int index;
	bool on;
	int pid; /* the kdamond thread; -1 when off */
	int nr_contexts;
	char ops[16]; /* context 0's operations, "" without a context */
	unsigned int nr_targets;
	__u32 target_pids[HP_DAMON_PIDS_MAX]; /* vaddr: pid_target of targets 0.. */
	bool tagged; /* carries hotpage's tag scheme */
	long owner; /* tagged: pid of the hotpage process that created it */
};

struct hp_damon_scan {
	unsigned int nr_kdamonds; /* as nr_kdamonds says (may exceed HP_DAMON_SCAN_MAX) */
	struct hp_damon_kdamond kd[HP_DAMON_SCAN_MAX];
};

/* A context hotpage started. */
struct hp_damon_ctx {
	char root[256];
	unsigned int index; /* kdamond index */
	int pid; /* kdamond thread id */
	enum hp_damon_ops ops;
};

/* Pure helpers (unit-tested). */

/*
 * @root/kdamonds/@kdamond/@rel; @kdamond < 0: @root/kdamonds/@rel. Returns
 * 0, or -ENAMETOOLONG.
 */
int hp_damon_path(char *buf, size_t len, const char *root, int kdamond, const char *rel);
/* "on\n" / "off\n" -> *on. 0 or -EINVAL. */
int hp_damon_parse_state(const char *text, bool *on);
/* A decimal unsigned number, optional trailing newline. 0 or -EINVAL. */
int hp_damon_parse_u64(const char *text, __u64 *value);
/* "vaddr\n" -> HP_DAMON_OPS_VADDR, "paddr" -> PADDR; others (fvaddr) -EINVAL. */
int hp_damon_parse_ops(const char *text, enum hp_damon_ops *ops);
const char *hp_damon_ops_name(enum hp_damon_ops ops);

/*
 * May hotpage add its kdamond next to what @scan shows? 0: yes, and
 * *stale has bit i set for each kdamond i of a hotpage run that is gone
 * (@alive(owner) false) to turn off first; @self's own kdamonds count as
 * stale too (a restart). -EBUSY with the reason in @why otherwise.
 */
int hp_damon_classify(const struct hp_damon_scan *scan, long self, bool (*alive)(long pid),
		      __u64 *stale, char *why, size_t why_len);

/*
 * Does one of DAMON's in-kernel users run its kdamond exclusively?
 * DAMON_STAT (on by default in Debian's 7.3 config), DAMON_RECLAIM and
 * DAMON_LRU_SORT start theirs with damon_start(..., exclusive), and while
 * one runs DAMON starts no other kdamond: turning a sysfs kdamond on
 * fails (EBUSY), whatever the sysfs list holds, since they are not in it.
 * 0: none runs; -EBUSY with the reason (which one, its pid, how to turn
 * it off) in @why. @modules_root is HP_DAMON_MODULES (tests: a copy of
 * its layout).
 */
int hp_damon_exclusive(const char *modules_root, char *why, size_t why_len);

/* sysfs operations. @root is HP_DAMON_ADMIN (tests may pass a copy of its layout). */

/* Read every kdamond's state. 0, -ENOENT (no DAMON sysfs) or another -errno; reason in @err. */
int hp_damon_scan(const char *root, struct hp_damon_scan *scan, char *err, size_t err_len);

/*
 * Create, configure, tag and turn on hotpage's kdamond (after turning off
 * stale ones; see hp_damon_classify). On failure nothing of it is left
 * behind. 0, -ENOENT (no DAMON sysfs), -EBUSY (another user's kdamond),
 * -EINVAL (spec or a target refused), or another -errno; reason in @err.
 */
int hp_damon_start(const char *root, const struct hp_damon_spec *spec, struct hp_damon_ctx *ctx,
		   char *err, size_t err_len);

/* Apply new monitoring attributes to the running context (state "commit"). */
int hp_damon_commit_attrs(const struct hp_damon_ctx *ctx, const struct hp_damon_attrs *attrs,
			  char *err, size_t err_len);

/*
 * Turn the context off and remove hotpage's kdamond (nr_kdamonds back to
 * what it was before, which is 0: see above). Touches nothing that is not
 * tagged with this process's pid. 0 or -errno; reason in @err.
 */
int hp_damon_stop(const struct hp_damon_ctx *ctx, char *err, size_t err_len);

/*
 * Remove kdamonds left by hotpage runs that are gone (a crash), when no
 * other user's kdamond is present. Returns how many were removed, or -errno.
 */
int hp_damon_reclaim_stale(const char *root, char *err, size_t err_len);

/* kill(pid, 0) says the process exists. */
bool hp_damon_pid_alive(long pid);

#endif /* HOTPAGE_DAMON_ADMIN_H */
