/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The `numa-hint` hotness source: NUMA hint faults with their page (PFN and
 * node), from bpf/numa_hint.bpf.c on numa_migrate_check (6.10+) or
 * numa_migrate_prep (6.1 to 6.9), by fentry or, where trampolines are
 * refused, by kprobe.
 *
 * Parameter (struct hp_source_opts.param): "attach=auto|fentry|kprobe".
 * Scope: tgids and cgroup both apply; the cgroup is checked only when the
 * fault comes from the process that owns the memory (not for a remote
 * access through GUP, which runs in another task).
 */
#ifndef HOTPAGE_NUMA_HINT_SOURCE_H
#define HOTPAGE_NUMA_HINT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "source.h"

extern const struct hp_source_ops hp_source_numa_hint;

enum hp_numa_hint_attach {
	HP_NUMA_HINT_AUTO, /* fentry, else kprobe */
	HP_NUMA_HINT_FENTRY,
	HP_NUMA_HINT_KPROBE,
};

#define HP_NUMA_HINT_NOT_TRIED 1 /* a *_err value: the attach type was not attempted */

/* What the probe found out; hp_numa_hint_decide() turns it into a verdict. */
struct hp_numa_hint_facts {
	char func[32]; /* hooked function, "" when neither exists */
	bool func_in_btf; /* in the running kernel's BTF (fentry possible) */
	int fentry_err; /* 0 attached, -errno, or HP_NUMA_HINT_NOT_TRIED */
	bool kprobe_pmu; /* /sys/bus/event_source/devices/kprobe */
	bool kprobe_events; /* tracefs kprobe_events (libbpf's legacy route) */
	int kprobe_err; /* 0 attached, -errno, or HP_NUMA_HINT_NOT_TRIED */
	int numa_balancing; /* kernel.numa_balancing, -1 without the sysctl */
	bool pfn_known; /* vmemmap_base in /proc/kallsyms: PFNs can be computed */
};

/* "attach=..." -> *attach. 0, or -EINVAL with the reason in @err. */
int hp_numa_hint_parse_param(const char *param, enum hp_numa_hint_attach *attach, char *err,
			     size_t err_len);
/* Availability, attach point and notes, or the exact reason it cannot run. Pure. */
void hp_numa_hint_decide(const struct hp_numa_hint_facts *facts, struct hp_source_probe *probe);
/* Find the facts on the running kernel, trying the attach types @wanted allows. */
void hp_numa_hint_gather(enum hp_numa_hint_attach wanted, struct hp_numa_hint_facts *facts);
/* "EPERM" for -EPERM (also kernel-internal ENOTSUPP 524), "errno N" otherwise. */
const char *hp_errno_name(int err, char *buf, size_t len);

#endif /* HOTPAGE_NUMA_HINT_SOURCE_H */
