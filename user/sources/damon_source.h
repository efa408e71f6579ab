/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The `damon` hotness source: DAMON's aggregated regions as HP_EV_REGION
 * records (bpf/damon.bpf.c on damon:damon_aggregated), from a DAMON
 * context hotpage starts and stops itself (user/sources/damon_admin.c) or from an
 * existing kdamond it only observes.
 *
 * Parameters (struct hp_source_opts.param, "key=value,..."):
 *   ops=vaddr|paddr     default: vaddr when the scope is a list of tgids
 *                       (they become the targets), paddr otherwise
 *   nodes=LIST          paddr: the nodes whose memory to monitor ("1",
 *                       "0-1", "0:2"; default all)
 *   kdamond=N           observe kdamond N, which someone else runs, instead
 *                       of starting one (its configuration is not touched)
 *   sample_us=, aggr_us=, update_us=, min_regions=, max_regions=
 *                       monitoring attributes (DAMON's defaults otherwise)
 *   attach=auto|tp_btf|tracepoint
 *
 * Scope: with tgids, vaddr monitors exactly those processes, so the tgid
 * filter holds by construction (each region's tgid is its target's pid).
 * paddr regions belong to no process (tgid 0). A cgroup scope is refused:
 * the tracepoint runs in the kdamond thread, whose cgroup says nothing
 * about the memory, and DAMON monitors processes or physical memory, not
 * cgroups (memcg appears only in DAMOS filters).
 *
 * Lifetime: DAMON stops a vaddr kdamond by itself once all its processes
 * have exited; the source then stays attached but silent, and stop() still
 * removes the kdamond. An observed kdamond that restarts gets a new thread
 * id, which the source does not follow (start it again).
 */
#ifndef HOTPAGE_DAMON_SOURCE_H
#define HOTPAGE_DAMON_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "damon_admin.h"
#include "source.h"

extern const struct hp_source_ops hp_source_damon;

enum hp_damon_attach {
	HP_DAMON_ATTACH_AUTO, /* tp_btf where the kernel's BTF has the tracepoint */
	HP_DAMON_ATTACH_TP_BTF,
	HP_DAMON_ATTACH_TRACEPOINT,
};

enum hp_damon_mode {
	HP_DAMON_MODE_AUTO, /* vaddr with tgids, else paddr */
	HP_DAMON_MODE_VADDR,
	HP_DAMON_MODE_PADDR,
	HP_DAMON_MODE_OBSERVE, /* kdamond=N */
};

struct hp_damon_params {
	enum hp_damon_mode mode;
	__u64 node_mask; /* paddr; 0: every node */
	unsigned int kdamond; /* observe */
	struct hp_damon_attrs attrs;
	enum hp_damon_attach attach;
};

/* Parse @param (NULL or "" for the defaults). 0, or -EINVAL with the reason in @err. */
int hp_damon_parse_params(const char *param, struct hp_damon_params *params, char *err,
			  size_t err_len);

/* What the probe found out; hp_damon_decide() turns it into a verdict. */
struct hp_damon_facts {
	bool sysfs; /* HP_DAMON_ADMIN exists */
	bool tp_btf; /* the kernel's BTF has the tracepoint */
	bool tp_tracefs; /* tracefs lists damon:damon_aggregated */
	int attach_err; /* loading and attaching the program: 0 or -errno (1: not tried) */
	char attach_how[48]; /* "tp_btf/damon_aggregated" or "tracepoint/damon/damon_aggregated" */
	int admin_err; /* 0: hotpage may start a kdamond; -EBUSY etc. with admin_why */
	char admin_why[256];
	unsigned int stale; /* kdamonds of gone hotpage runs that start would remove */
};

/* Availability and how, or the exact reason it cannot run. Pure. */
void hp_damon_decide(const struct hp_damon_facts *facts, struct hp_source_probe *probe);
/* Find the facts on the running kernel (loads and attaches the program once). */
void hp_damon_gather(struct hp_damon_facts *facts);

#endif /* HOTPAGE_DAMON_SOURCE_H */
