/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Placement policy: which pages are hot enough to move up, which are idle
 * enough to make room for them, where they go, how fast, for which
 * processes. A plain value (no pointers): the daemon keeps the policy in
 * force for a round and builds changes on a copy, so a change applies
 * whole, between rounds, or not at all; nothing needs a restart.
 *
 * Settings as "key=value" (hotpagectl, the config file), with defaults:
 *
 *   threshold=6        a page is hot when it was accessed in 6 of the last
 *                      8 windows (heat.h). Windows, not accesses: the
 *                      accessed-bit scanner sees one bit per window, and a
 *                      page touched about once a second (young in ~60% of
 *                      1 s windows) gets there in 6 to 10 windows, while a
 *                      page touched once in 12 s (young in 8%) does so with
 *                      a chance of 6e-6 per window: in the bench-e2e
 *                      workloads, a few of 60 000 cold pages a minute,
 *                      against several hundred at threshold=5
 *   window_ms=1000     one window: the scanner makes one pass per window
 *                      (the source follows this setting), and heat and
 *                      idleness count in windows
 *   min_idle=8         a page of the fast tier may be demoted to make room
 *                      once no access was seen for 8 windows: a page with
 *                      no heat left at all. A page that no source ever saw
 *                      accessed is the coldest there is
 *   target=auto        auto: the top-tier node nearest to the node that
 *                      accessed the page (memory tiers and distances);
 *                      or a node number: promote everything there
 *   rate_mbps=256      at most 256 MiB/s (65536 pages/s) moved, both
 *                      directions together, as the kernel's
 *                      numa_balancing_promote_rate_limit_MBps counts MB;
 *                      0 pauses promotion and demotion
 *   batch=256          pages per move_pages(2) call or kmigrated batch
 *                      (at most 1024, the module's batch size)
 *   scope=all          all | tgids:PID,PID,... | cgroup:/PATH (cgroup v2
 *                      path, subgroups included)
 *   pingpong_ms=10000  a page moved (either way) is not moved again for
 *                      10 s: longer than the 8-window history, so that a
 *                      page comes back only on evidence from after its move
 *   headroom=auto      free memory a fast node keeps: promotion fills it
 *                      up to here, demotion makes room below it. auto: in
 *                      the node's highest zone, which movable allocations
 *                      fill first, its promotion watermark (/proc/zoneinfo
 *                      "promo", what NUMA balancing's tiering mode
 *                      promotes against, above kswapd's high watermark)
 *                      and one watermark gap more, so that the small
 *                      allocations of everyone do not take the zone below
 *                      its low watermark and wake kswapd, plus the lowmem
 *                      reserve that user pages must leave it; or a
 *                      percentage of the node, or a size (512M).
 *                      min_free= is read as headroom=.
 */
#ifndef HOTPAGE_POLICY_H
#define HOTPAGE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct hp_topology;

#define HP_POLICY_TARGET_AUTO (-1)
#define HP_POLICY_TGIDS_MAX 256
#define HP_POLICY_BATCH_MAX 1024 /* KMIGRATED_BATCH_MAX */
#define HP_POLICY_RATE_MAX_MBPS (1u << 20) /* 1 TiB/s: no limit worth the name */
#define HP_POLICY_PINGPONG_MAX_MS (24u * 3600 * 1000)
#define HP_POLICY_THRESHOLD_MAX 8 /* HP_HEAT_WINDOWS */
#define HP_POLICY_MIN_IDLE_MAX 255 /* HP_HEAT_IDLE_MAX */
#define HP_POLICY_WINDOW_MIN_MS 10
#define HP_POLICY_WINDOW_MAX_MS 3600000

enum hp_scope {
	HP_SCOPE_ALL = 0,
	HP_SCOPE_TGIDS = 1,
	HP_SCOPE_CGROUP = 2,
};

struct hp_policy {
	__u32 threshold;
	__u32 window_ms;
	int target_node; /* HP_POLICY_TARGET_AUTO or a node */
	__u32 rate_mbps; /* MiB/s; 0: paused */
	__u32 batch;
	__u32 pingpong_ms; /* 0: no guard */
	__u32 min_idle; /* windows */
	bool headroom_auto; /* the node's promotion watermark ... */
	__u32 headroom_pct; /* ... or a percentage of MemTotal ... */
	__u64 headroom_bytes; /* ... or bytes (when neither of those) */
	enum hp_scope scope;
	__u32 nr_tgids;
	__u32 tgids[HP_POLICY_TGIDS_MAX]; /* sorted, unique */
	char cgroup[256]; /* HP_SCOPE_CGROUP: "/system.slice/db.service" */
};

/* The keys, in show order; NULL-terminated. */
extern const char *const hp_policy_keys[];

void hp_policy_defaults(struct hp_policy *policy);

/* 0, or -EINVAL with the first problem in @err ("window_ms=5: ..."). */
int hp_policy_validate(const struct hp_policy *policy, char *err, size_t err_len);

/*
 * Apply one "key=value". 0, or -EINVAL with the reason in @err and
 * @policy unchanged.
 */
int hp_policy_set(struct hp_policy *policy, const char *assignment, char *err, size_t err_len);

/* Several assignments, all or none: on error @policy is unchanged. */
int hp_policy_apply(struct hp_policy *policy, const char *const *assignments, size_t n, char *err,
		    size_t err_len);

/*
 * Every setting as "key=value\n" lines, in hp_policy_keys order, which
 * hp_policy_set() reads back. Returns the length snprintf would (truncated
 * when it is >= len).
 */
int hp_policy_show(const struct hp_policy *policy, char *buf, size_t len);

/* The rate limit in bytes per second. */
__u64 hp_policy_rate_bytes(const struct hp_policy *policy);

/*
 * The free memory to keep on a node of @total_bytes whose promotion
 * watermark is @promo_bytes.
 */
__u64 hp_policy_headroom(const struct hp_policy *policy, __u64 total_bytes, __u64 promo_bytes);

/*
 * Nodes whose pages are not candidates: the target node when it is set,
 * else the top tier.
 */
__u64 hp_policy_exclude_nodes(const struct hp_policy *policy, const struct hp_topology *topo);

/*
 * Where a page on @page_node, last accessed from @access_node (or -1),
 * should go; negative when it should stay: already on the target or in
 * the top tier, node unknown, no top-tier node (-ENOENT), or the set
 * target has no memory (-ENODEV).
 */
int hp_policy_target_for(const struct hp_policy *policy, const struct hp_topology *topo,
			 int access_node, int page_node);

/*
 * Bytes that may move to @node now, above its headroom (negative when
 * below: what demotion should free), and the headroom itself. auto: zone
 * by zone from zoneinfo, free memory above each zone's promotion
 * watermark and lowmem reserve; else MemFree (sysfs) above the headroom.
 * 0 or -errno.
 */
int hp_policy_room(const struct hp_policy *policy, const struct hp_topology *topo, int node,
		   __s64 *bytes, __u64 *headroom);

/*
 * Whether the scope covers process @tgid. For a cgroup scope it reads
 * <proc_root>/<tgid>/cgroup ("/proc" or a test tree); a process that is
 * gone is outside.
 */
bool hp_policy_scope_admits(const struct hp_policy *policy, __u32 tgid, const char *proc_root);

/* Whether the scope covers process @tgid in cgroup @cgroup (NULL: unknown). */
bool hp_policy_scope_covers(const struct hp_policy *policy, __u32 tgid, const char *cgroup);

/* The cgroup v2 path of @tgid ("0::/a/b" in <proc_root>/<tgid>/cgroup). */
bool hp_policy_read_cgroup(__u32 tgid, const char *proc_root, char *path, size_t len);

/* The scope as "scope=" shows it (all, tgids:..., cgroup:...); what snprintf returns. */
int hp_policy_show_scope(const struct hp_policy *policy, char *buf, size_t len);

#endif /* HOTPAGE_POLICY_H */
