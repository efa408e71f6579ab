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
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/btf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "source.h"
#include "transport.h"

/* Each defined in its user/sources/<name>_source.c. */
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

void hp_source_stats_sum(const struct hp_source_cpu *cpus, size_t ncpus,
			 struct hp_source_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t cpu = 0; cpu < ncpus; cpu++) {
		sum->seen += cpus[cpu].seen;
		sum->sampled += cpus[cpu].sampled;
		sum->emitted += cpus[cpu].emitted + cpus[cpu].taken;
		sum->dropped += cpus[cpu].dropped;
		sum->errors += cpus[cpu].errors;
	}
	/* countdown is per-CPU sampling state: a sum of it means nothing. */
}

static struct bpf_map *find_map(struct bpf_object *obj, const char *name)
{
	return obj ? bpf_object__find_map_by_name(obj, name) : NULL;
}

struct hp_source_cpu *hp_source_cpu_state_map(const struct bpf_object *obj, int prot, size_t *ncpus,
					      size_t *len)
{
	const struct bpf_map *map = obj ? bpf_object__find_map_by_name(obj, "hp_cpu_state") : NULL;
	long page = sysconf(_SC_PAGESIZE);
	void *mem;

	if (!map || bpf_map__fd(map) < 0 || page <= 0) {
		errno = ENOENT;
		return NULL;
	}
	if (bpf_map__value_size(map) != sizeof(struct hp_source_cpu)) {
		errno = EPROTO;
		return NULL;
	}
	*ncpus = bpf_map__max_entries(map);
	*len = (*ncpus * sizeof(struct hp_source_cpu) + (size_t)page - 1) & ~((size_t)page - 1);
	mem = mmap(NULL, *len, prot, MAP_SHARED, bpf_map__fd(map), 0);
	return mem == MAP_FAILED ? NULL : mem;
}

int hp_source_read_stats(struct bpf_object *obj, struct hp_source_stats *sum)
{
	struct hp_source_cpu *cpus;
	size_t ncpus, len;

	memset(sum, 0, sizeof(*sum));
	cpus = hp_source_cpu_state_map(obj, PROT_READ, &ncpus, &len);
	if (!cpus)
		return -errno;
	hp_source_stats_sum(cpus, ncpus, sum);
	munmap(cpus, len);
	return 0;
}

static int set_initial_u64(struct bpf_map *map, const void *data, size_t size, size_t offset,
			   __u64 value)
{
	char *copy = malloc(size);
	int ret;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, size);
	memcpy(copy + offset, &value, sizeof(value));
	ret = bpf_map__set_initial_value(map, copy, size);
	free(copy);
	return ret;
}

/*
 * The global @name of @obj's .rodata: its map, contents (before load the
 * initial value, after it the frozen contents), offset and size. 0 or -errno.
 */
static int rodata_var(struct bpf_object *obj, const char *name, struct bpf_map **map,
		      const void **data, size_t *data_size, size_t *offset, size_t *size)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *var;
	const struct btf_type *sec;
	int id;

	*map = find_map(obj, ".rodata");
	if (!*map || !btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, (__u32)id);
	*data = bpf_map__initial_value(*map, data_size);
	if (!*data)
		return -ENOENT;
	var = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, var++) {
		const struct btf_type *t = btf__type_by_id(btf, var->type);

		if (strcmp(btf__name_by_offset(btf, t->name_off), name) != 0)
			continue;
		if (var->offset + var->size > *data_size)
			return -EINVAL;
		*offset = var->offset;
		*size = var->size;
		return 0;
	}
	return -ENOENT;
}

/* Before load: set the 64-bit global @name of @obj's .rodata. */
static int set_rodata_u64(struct bpf_object *obj, const char *name, __u64 value)
{
	struct bpf_map *map;
	const void *data;
	size_t data_size, offset, size;
	int ret = rodata_var(obj, name, &map, &data, &data_size, &offset, &size);

	if (ret)
		return ret;
	if (size != sizeof(value))
		return -EINVAL;
	return set_initial_u64(map, data, data_size, offset, value);
}

/* The 32-bit global @name of @obj's .rodata, or @fallback. */
static __u32 rodata_u32(struct bpf_object *obj, const char *name, __u32 fallback)
{
	struct bpf_map *map;
	const void *data;
	size_t data_size, offset, size;
	__u32 value;

	if (!obj || rodata_var(obj, name, &map, &data, &data_size, &offset, &size) ||
	    size != sizeof(value))
		return fallback;
	memcpy(&value, (const char *)data + offset, sizeof(value));
	return value;
}

int hp_source_write_config(struct bpf_object *obj, const struct hp_source_config *cfg)
{
	__u32 period = cfg->sample_period;
	struct hp_source_cpu *cpus;
	size_t ncpus, len;

	if (cfg->filter_mode > HP_FILTER_CGROUP)
		return -EINVAL;
	/* The default resolved here: the programs then never read it from rodata. */
	if (!period)
		period = rodata_u32(obj, "default_sample_period", 0);
	cpus = hp_source_cpu_state_map(obj, PROT_READ | PROT_WRITE, &ncpus, &len);
	if (!cpus)
		return -errno;
	/*
	 * Word by word, next to the counters the programs are incrementing:
	 * a whole-entry update would overwrite them. The mode last, so that
	 * it never applies to the old cgroup id.
	 */
	for (size_t cpu = 0; cpu < ncpus; cpu++) {
		struct hp_source_config *dst = &cpus[cpu].config;

		__atomic_store_n(&dst->cgroup_id, cfg->cgroup_id, __ATOMIC_RELAXED);
		__atomic_store_n(&dst->sample_period, period, __ATOMIC_RELAXED);
		__atomic_store_n(&dst->filter_mode, cfg->filter_mode, __ATOMIC_RELEASE);
	}
	munmap(cpus, len);
	return 0;
}

int hp_source_set_record_flags(struct bpf_object *obj, __u16 flags)
{
	struct hp_source_cpu *cpus;
	size_t ncpus, len;

	cpus = hp_source_cpu_state_map(obj, PROT_READ | PROT_WRITE, &ncpus, &len);
	if (!cpus)
		return -errno;
	for (size_t cpu = 0; cpu < ncpus; cpu++)
		__atomic_store_n(&cpus[cpu].record_flags, flags, __ATOMIC_RELAXED);
	munmap(cpus, len);
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

/* Before load: one hp_cpu_state entry per possible CPU. */
static int size_cpu_state(struct bpf_object *obj)
{
	struct bpf_map *map = find_map(obj, "hp_cpu_state");
	int ncpus = libbpf_num_possible_cpus();

	if (!map)
		return -ENOENT;
	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	return bpf_map__set_max_entries(map, (__u32)ncpus);
}

int hp_source_prepare(struct bpf_object *obj, struct hp_transport *transport)
{
	struct bpf_map *rings = find_map(obj, "hp_rings");
	int ret;

	if (!rings)
		return -ENOENT;
	ret = size_cpu_state(obj);
	if (ret)
		return ret;
	ret = set_rodata_u64(obj, "hp_wakeup_mask",
			     hp_ring_wakeup_mask(hp_transport_ring_bytes(transport)));
	if (ret)
		return ret;
	ret = bpf_map__reuse_fd(rings, hp_transport_rings_fd(transport));
	return ret < 0 ? ret : 0;
}

int hp_source_load_skeleton(struct bpf_object_skeleton *skeleton, struct hp_transport *transport,
			    const struct hp_source_opts *opts)
{
	struct bpf_object *obj = *skeleton->obj;
	int ret;

	ret = transport ? hp_source_prepare(obj, transport) : size_cpu_state(obj);
	if (ret)
		return ret;
	ret = bpf_object__load_skeleton(skeleton);
	if (ret)
		return ret;
	if (transport) {
		ret = hp_transport_stage_add(transport, obj);
		if (ret)
			return ret;
	}
	ret = opts ? hp_source_apply_scope(obj, opts) : 0;
	if (ret)
		hp_transport_stage_remove(transport, obj);
	return ret;
}

int hp_libbpf_quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}
