/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Named policies: which processes' pages hotpage moves, and which way.
 * Several are attached at once, each with a scope (policy.h: all,
 * tgids:..., cgroup:/PATH) and its own switches and counters; a page
 * belongs to the most specific scope that covers its process (process
 * ids, then the deepest cgroup, then all; among equals, the one attached
 * first). A page that no policy covers is left where it is, both ways.
 *
 * The host-wide settings (threshold, window, rate, headroom, ...) stay in
 * struct hp_policy; a named policy says only whose pages and which way:
 *
 *   scope=all          all | tgids:PID,PID,... | cgroup:/PATH
 *   promote=on         off: its pages are never moved up
 *   demote=on          off: its pages are never moved down to make room
 *   share=none         its part of the fast tier: a size (512M) or a
 *                      percentage of the fast tier's memory (25%). Its
 *                      hottest pages up to the share; over it, its
 *                      coldest go down first, to the share. none: no
 *                      bound of its own.
 *   bpf=FILE.bpf.o     rank its hot pages with this BPF program
 *                      (hotpage/policy_score.h) instead of by heat; an
 *                      absolute path. The daemon loads it (prog).
 *
 * A plain value like struct hp_policy: the daemon changes a copy and
 * takes it whole.
 */
#ifndef HOTPAGE_POLICIES_H
#define HOTPAGE_POLICIES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "exchange.h"
#include "policy.h"

struct hp_score_prog;

#define HP_POLICIES_MAX 16
#define HP_POLICY_NAME_MAX 32 /* with the NUL */
#define HP_POLICY_DEFAULT_NAME "default"

#define HP_POLICY_BPF_PATH_MAX 512

struct hp_named_policy {
	char name[HP_POLICY_NAME_MAX];
	struct hp_policy scope; /* its scope fields only */
	bool promote, demote;
	char bpf[HP_POLICY_BPF_PATH_MAX]; /* "": the built-in order */
	bool has_share;
	__u32 share_pct; /* of the fast tier's memory, or */
	__u64 share_bytes; /* bytes, when share_pct is 0 */
	/* the daemon's: the loaded program, NULL when none or detached, and why */
	struct hp_score_prog *prog;
	char prog_detached[256];
	__u64 prog_runs, prog_cpu_ns;
	/* base pages, since it was attached */
	__u64 promoted, demoted;
	__u64 held[HP_HOLD_NR]; /* hot pages held back, by reason */
	__u64 fast_pages; /* its pages on the fast tier, when last measured */
	bool over_share; /* fast_pages above its share then */
};

struct hp_policies {
	size_t n;
	struct hp_named_policy p[HP_POLICIES_MAX];
};

/* The keys a named policy takes, in show order; NULL-terminated. */
extern const char *const hp_named_policy_keys[];

/*
 * Attach a policy @name with @n "key=value" settings. 0, or -EINVAL (bad
 * name or setting), -EEXIST (the name is taken), -ENOSPC (HP_POLICIES_MAX
 * attached) with the reason in @err; @ps is unchanged on error.
 */
int hp_policies_attach(struct hp_policies *ps, const char *name, const char *const *kv, size_t n,
		       char *err, size_t err_len);

/* 0, or -ENOENT with the names attached in @err. */
int hp_policies_detach(struct hp_policies *ps, const char *name, char *err, size_t err_len);

/* The policy called @name, or NULL. */
const struct hp_named_policy *hp_policies_find(const struct hp_policies *ps, const char *name);

/* @p's share in bytes of a fast tier of @fast_bytes; UINT64_MAX when it has none. */
__u64 hp_named_policy_share(const struct hp_named_policy *p, __u64 fast_bytes);

/* Hot pages of @p held back, all reasons. */
__u64 hp_named_policy_held(const struct hp_named_policy *p);

/* Whether some policy has a share. */
bool hp_policies_have_share(const struct hp_policies *ps);

/* Whether some policy's scope is a cgroup (matching then needs the process's cgroup). */
bool hp_policies_need_cgroup(const struct hp_policies *ps);

/*
 * The index of the policy that covers process @tgid, whose cgroup v2
 * path is @cgroup (NULL when unknown or not needed), or -1 when none does.
 */
int hp_policies_match(const struct hp_policies *ps, __u32 tgid, const char *cgroup);

/* @p's share= as it reads back: none, 25% or a size (512M). */
void hp_named_policy_show_share(const struct hp_named_policy *p, char *buf, size_t len);

/*
 * @p's settings as "key=value\n" lines in hp_named_policy_keys order
 * (what attach reads back), after "name=". Returns what snprintf would.
 */
int hp_named_policy_show(const struct hp_named_policy *p, char *buf, size_t len);

#endif /* HOTPAGE_POLICIES_H */
