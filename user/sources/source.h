/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hotness sources, userspace side: one struct hp_source_ops per source
 * (user/sources/<name>_source.c), a registry that lists them (user/sources/source.c), and
 * the helpers every source uses on the maps of bpf/hp_source.bpf.h.
 */
#ifndef HOTPAGE_SOURCE_H
#define HOTPAGE_SOURCE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <bpf/libbpf.h>

#include "hotpage/event.h"

struct bpf_object;
struct bpf_map;
struct hp_transport; /* user/sources/transport.h: the per-CPU rings */

/* How to run a source; zero-initialised means the source's defaults. */
struct hp_source_opts {
	__u32 sample_period; /* 1 in N events; 0: the source's default */
	enum hp_filter_mode filter_mode;
	const __u32 *tgids; /* HP_FILTER_TGIDS: nr_tgids processes */
	size_t nr_tgids;
	__u64 cgroup_id; /* HP_FILTER_CGROUP */
	const char *param; /* source-specific "key=value,..." or NULL */
};

/* What probing found: whether the source can run here, how, or why not. */
struct hp_source_probe {
	bool available;
	char how[128]; /* chosen attach point, e.g. "tp_btf/page_fault_user" */
	char why[256]; /* reason when unavailable, e.g. "fentry refused (EPERM), kprobes not built in" */
	/*
	 * Set when the source runs only when named: what it would sample here
	 * is not access heat (page faults are allocations, not accesses).
	 */
	char not_default[128];
};

/*
 * A running source: its BPF object and links; each user/sources/<name>_source.c
 * defines it. (Not "struct hp_source": C tags share one namespace, and
 * enum hp_source in hotpage/event.h has that name.)
 */
struct hp_source_instance;

struct hp_source_ops {
	const char *name; /* "fault", "numa-hint", "perf", "damon", "scan" */
	enum hp_source id;
	/* Decide, without side effects left behind, whether and how it runs here. */
	void (*probe)(struct hp_source_probe *result);
	/*
	 * Load, attach and feed @transport; 0, or -errno with the reason in
	 * @err (the caller names the source).
	 */
	int (*start)(struct hp_transport *transport, const struct hp_source_opts *opts,
		     struct hp_source_instance **out, char *err, size_t err_len);
	/* Detach and free everything start() made; NULL is a no-op. */
	void (*stop)(struct hp_source_instance *src);
	/* The source's BPF object (for stats, config and scope maps). */
	struct bpf_object *(*object)(struct hp_source_instance *src);
};

/* All sources this build knows, in listing order; NULL-terminated. */
extern const struct hp_source_ops *const hp_sources[];
const struct hp_source_ops *hp_source_find(const char *name);

/* Helpers on the maps every source object has (bpf/hp_source.bpf.h). */
/* Sum the counters of @ncpus CPUs' entries into @sum (countdown, sampling state, left 0). */
void hp_source_stats_sum(const struct hp_source_cpu *cpus, size_t ncpus,
			 struct hp_source_stats *sum);
/* Is @opts's scope well-formed? 0, or -EINVAL / -E2BIG with the reason in @err. */
int hp_source_opts_check(const struct hp_source_opts *opts, char *err, size_t err_len);
/*
 * Map @obj's loaded hp_cpu_state (mmapable; one entry per possible CPU)
 * with @prot: the entries, their number in *@ncpus, the mapping's length
 * (for munmap) in *@len; NULL with errno set (EPROTO: another layout).
 */
struct hp_source_cpu *hp_source_cpu_state_map(const struct bpf_object *obj, int prot, size_t *ncpus,
					      size_t *len);
int hp_source_read_stats(struct bpf_object *obj, struct hp_source_stats *sum);
/* Into every CPU's entry; a sample_period of 0 is written as the object's load-time default. */
int hp_source_write_config(struct bpf_object *obj, const struct hp_source_config *cfg);
/* After load, before attach: the flags every record of @obj starts with. */
int hp_source_set_record_flags(struct bpf_object *obj, __u16 flags);
int hp_source_apply_scope(struct bpf_object *obj, const struct hp_source_opts *opts);
/*
 * Before load: make @obj's hp_rings the transport's shared outer map
 * (bpf_map__reuse_fd), size hp_cpu_state to the possible CPUs, and set
 * the wakeup batch (hp_wakeup_mask) for the transport's ring size. Each
 * source sets its own rodata (default_sample_period) through its skeleton.
 */
int hp_source_prepare(struct bpf_object *obj, struct hp_transport *transport);

/*
 * The load sequence of a source: share @transport's rings (when given),
 * load the skeleton, hand its stages to @transport
 * (hp_transport_stage_add: the caller's teardown detaches, then calls
 * hp_transport_stage_remove before it destroys the object), then apply
 * @opts's scope (when given) before anything attaches, so that no record
 * from outside the scope gets through.
 */
struct bpf_object_skeleton;
int hp_source_load_skeleton(struct bpf_object_skeleton *skeleton, struct hp_transport *transport,
			    const struct hp_source_opts *opts);

/*
 * A libbpf print callback that drops every message: set while a source is
 * probed, where a refusal is an expected outcome that the probe's verdict
 * reports. The old callback goes back right after.
 */
int hp_libbpf_quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap);

#endif /* HOTPAGE_SOURCE_H */
