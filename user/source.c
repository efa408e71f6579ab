// SPDX-License-Identifier: GPL-2.0
/*
 * The registry of hotness sources and the helpers on the maps every source
 * object carries (bpf/hp_source.bpf.h): counters, configuration, scope,
 * and the shared rings.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "source.h"
#include "transport.h"

/* Each defined in its user/<name>_source.c. */
extern const struct hp_source_ops hp_source_fault, hp_source_numa_hint, hp_source_perf,
	hp_source_damon, hp_source_scan;

const struct hp_source_ops *const hp_sources[] = {
	&hp_source_fault, &hp_source_numa_hint, &hp_source_perf,
	&hp_source_damon, &hp_source_scan,	NULL,
};

const struct hp_source_ops *hp_source_find(const char *name)
{
	for (size_t i = 0; hp_sources[i]; i++)
		if (!strcmp(hp_sources[i]->name, name))
			return hp_sources[i];
	return NULL;
}

void hp_source_stats_sum(const struct hp_source_stats *percpu, size_t ncpus,
			 struct hp_source_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t cpu = 0; cpu < ncpus; cpu++) {
		sum->seen += percpu[cpu].seen;
		sum->sampled += percpu[cpu].sampled;
		sum->emitted += percpu[cpu].emitted;
		sum->dropped += percpu[cpu].dropped;
		sum->errors += percpu[cpu].errors;
	}
	/* countdown is per-CPU sampling state: a sum of it means nothing. */
}

static struct bpf_map *find_map(struct bpf_object *obj, const char *name)
{
	return obj ? bpf_object__find_map_by_name(obj, name) : NULL;
}

int hp_source_read_stats(struct bpf_object *obj, struct hp_source_stats *sum)
{
	struct bpf_map *map = find_map(obj, "hp_stats");
	int ncpus = libbpf_num_possible_cpus();
	struct hp_source_stats *percpu;
	__u32 zero = 0;
	int ret = 0;

	memset(sum, 0, sizeof(*sum));
	if (!map)
		return -ENOENT;
	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map__lookup_elem(map, &zero, sizeof(zero), percpu, sizeof(*percpu) * (size_t)ncpus,
				 0))
		ret = -errno;
	else
		hp_source_stats_sum(percpu, (size_t)ncpus, sum);
	free(percpu);
	return ret;
}

int hp_source_write_config(struct bpf_object *obj, const struct hp_source_config *cfg)
{
	struct bpf_map *map = find_map(obj, "hp_config");
	__u32 zero = 0;

	if (!map)
		return -ENOENT;
	if (cfg->filter_mode > HP_FILTER_CGROUP)
		return -EINVAL;
	if (bpf_map__update_elem(map, &zero, sizeof(zero), cfg, sizeof(*cfg), BPF_ANY))
		return -errno;
	return 0;
}

int hp_source_opts_check(const struct hp_source_opts *opts, char *err, size_t err_len)
{
	switch (opts->filter_mode) {
	case HP_FILTER_NONE:
		return 0;
	case HP_FILTER_TGIDS:
		if (!opts->nr_tgids || !opts->tgids) {
			snprintf(err, err_len, "a tgid filter needs at least one tgid");
			return -EINVAL;
		}
		if (opts->nr_tgids > HP_FILTER_TGIDS_MAX) {
			snprintf(err, err_len, "%zu tgids: at most %d", opts->nr_tgids,
				 HP_FILTER_TGIDS_MAX);
			return -E2BIG;
		}
		for (size_t i = 0; i < opts->nr_tgids; i++) {
			if (!opts->tgids[i]) {
				snprintf(err, err_len, "tgid 0 is not a process");
				return -EINVAL;
			}
		}
		return 0;
	case HP_FILTER_CGROUP:
		if (!opts->cgroup_id) {
			snprintf(err, err_len, "a cgroup filter needs a cgroup id");
			return -EINVAL;
		}
		return 0;
	default:
		snprintf(err, err_len, "unknown filter mode %d", (int)opts->filter_mode);
		return -EINVAL;
	}
}

static bool tgid_wanted(const struct hp_source_opts *opts, __u32 tgid)
{
	if (opts->filter_mode != HP_FILTER_TGIDS)
		return false;
	for (size_t i = 0; i < opts->nr_tgids; i++)
		if (opts->tgids[i] == tgid)
			return true;
	return false;
}

/* Delete the tgids of hp_filter_tgids that @opts does not name. */
static int prune_tgids(struct bpf_map *map, const struct hp_source_opts *opts)
{
	__u32 *keys = calloc(HP_FILTER_TGIDS_MAX, sizeof(*keys));
	const __u32 *prev = NULL;
	size_t n = 0;
	int fd = bpf_map__fd(map), ret = 0;

	if (!keys)
		return -ENOMEM;
	/* Collect first: deleting during the walk would restart it. */
	while (n < HP_FILTER_TGIDS_MAX && !bpf_map_get_next_key(fd, prev, &keys[n])) {
		prev = &keys[n];
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		if (tgid_wanted(opts, keys[i]))
			continue;
		if (bpf_map_delete_elem(fd, &keys[i]) && errno != ENOENT) {
			ret = -errno;
			break;
		}
	}
	free(keys);
	return ret;
}

int hp_source_apply_scope(struct bpf_object *obj, const struct hp_source_opts *opts)
{
	struct bpf_map *tgids = find_map(obj, "hp_filter_tgids");
	struct hp_source_config cfg = {
		.sample_period = opts->sample_period,
		.filter_mode = opts->filter_mode,
		.cgroup_id = opts->cgroup_id,
	};
	char why[128];
	__u8 one = 1;
	int ret;

	ret = hp_source_opts_check(opts, why, sizeof(why));
	if (ret)
		return ret;
	if (!tgids)
		return -ENOENT;
	/*
	 * Add the new tgids, switch the mode, then remove the old ones: at no
	 * moment does a process outside both the old and the new scope pass.
	 */
	for (size_t i = 0; opts->filter_mode == HP_FILTER_TGIDS && i < opts->nr_tgids; i++)
		if (bpf_map__update_elem(tgids, &opts->tgids[i], sizeof(opts->tgids[i]), &one,
					 sizeof(one), BPF_ANY))
			return -errno;
	ret = hp_source_write_config(obj, &cfg);
	if (ret)
		return ret;
	return prune_tgids(tgids, opts);
}

int hp_source_prepare(struct bpf_object *obj, struct hp_transport *transport)
{
	struct bpf_map *rings = find_map(obj, "hp_rings");
	int ret;

	if (!rings)
		return -ENOENT;
	ret = bpf_map__reuse_fd(rings, hp_transport_rings_fd(transport));
	return ret < 0 ? ret : 0;
}

int hp_source_load_skeleton(struct bpf_object_skeleton *skeleton, struct hp_transport *transport,
			    const struct hp_source_opts *opts)
{
	struct bpf_object *obj = *skeleton->obj;
	int ret;

	if (transport) {
		ret = hp_source_prepare(obj, transport);
		if (ret)
			return ret;
	}
	ret = bpf_object__load_skeleton(skeleton);
	if (ret)
		return ret;
	return opts ? hp_source_apply_scope(obj, opts) : 0;
}
