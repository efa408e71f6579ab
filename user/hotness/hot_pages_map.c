// SPDX-License-Identifier: GPL-2.0
/*
 * The published hot set (hot_pages_map.h). A refresh writes the new
 * entries first, then deletes the keys that left the set since the last
 * refresh, so that a reader never sees the map empty between two rounds.
 * Both in one batch each: a refresh is a few system calls, not one per
 * entry, whatever the size of the set.
 */
#include <errno.h>
#include <libgen.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hot_pages.skel.h"
#include "hot_pages_map.h"
#include "hotpage/hot_pages.h"

struct hp_hot_map {
	struct hot_pages *skel;
	char pin[256];
	char dir[256];
	size_t max;
	size_t entries;
	__u64 *keys; /* sorted keys of the last publish */
	__u64 *next; /* this publish's, sorted */
	__u64 *stale;
	struct hp_hot_entry *values;
	size_t nkeys;
	bool no_batch; /* the kernel refused batch operations: one call per entry */
};

static int ensure_bpffs(const char *dir, char *err, size_t err_len)
{
	char root[256];
	struct statfs st;

	snprintf(root, sizeof(root), "%s", dir);
	dirname(root);
	if (statfs(root, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir(root, 0700) && errno != EEXIST) {
		snprintf(err, err_len, "mkdir %s: %s", root, strerror(errno));
		return -errno;
	}
	if (mount("bpf", root, "bpf", 0, "mode=0700")) {
		snprintf(err, err_len, "mounting bpffs at %s: %s", root, strerror(errno));
		return -errno;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

int hp_hot_map_open(const char *pin_path, size_t max, struct hp_hot_map **out, char *err,
		    size_t err_len)
{
	struct hp_hot_map *m;
	char tmp[256];
	int ret;

	*out = NULL;
	if (!max || max > HP_HOT_PAGES_MAX) {
		snprintf(err, err_len, "hot map size %zu: must be 1..%d", max, HP_HOT_PAGES_MAX);
		return -EINVAL;
	}
	if (strlen(pin_path) >= sizeof(m->pin)) {
		snprintf(err, err_len, "pin path too long: %s", pin_path);
		return -ENAMETOOLONG;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	m->max = max;
	snprintf(m->pin, sizeof(m->pin), "%s", pin_path);
	snprintf(tmp, sizeof(tmp), "%s", pin_path);
	snprintf(m->dir, sizeof(m->dir), "%s", dirname(tmp));
	m->keys = calloc(max, sizeof(*m->keys));
	m->next = calloc(max, sizeof(*m->next));
	m->stale = calloc(max, sizeof(*m->stale));
	m->values = calloc(max, sizeof(*m->values));
	if (!m->keys || !m->next || !m->stale || !m->values) {
		snprintf(err, err_len, "out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	ret = ensure_bpffs(m->dir, err, err_len);
	if (ret)
		goto fail;
	if (mkdir(m->dir, 0700) && errno != EEXIST) {
		ret = -errno;
		snprintf(err, err_len, "mkdir %s: %s", m->dir, strerror(errno));
		goto fail;
	}
	/* A pin at our path is ours, left by a daemon that was killed. */
	if (unlink(m->pin) && errno != ENOENT) {
		ret = -errno;
		snprintf(err, err_len, "removing stale pin %s: %s", m->pin, strerror(errno));
		goto fail;
	}
	m->skel = hot_pages__open();
	if (!m->skel) {
		ret = -errno;
		snprintf(err, err_len, "opening the hot_pages object: %s", strerror(errno));
		goto fail;
	}
	/* Room for the old set and the new one: new entries go in before old ones leave. */
	ret = bpf_map__set_max_entries(m->skel->maps.hot_pages, (__u32)(2 * max));
	if (!ret)
		ret = hot_pages__load(m->skel);
	if (ret) {
		snprintf(err, err_len, "loading the hot_pages map: %s", strerror(-ret));
		goto fail;
	}
	ret = bpf_map__pin(m->skel->maps.hot_pages, m->pin);
	if (ret) {
		snprintf(err, err_len, "pinning %s: %s", m->pin, strerror(-ret));
		goto fail;
	}
	*out = m;
	return 0;
fail:
	hp_hot_map_close(m);
	return ret;
}

/* What the kernel returns for an operation a map type lacks; no libc names it. */
#define KERNEL_ENOTSUPP 524

/* Batch operations where the kernel has them (5.6+), else one call per entry. */
static int update_entries(struct hp_hot_map *map, int fd, __u64 *keys, size_t n)
{
	__u32 count = (__u32)n;
	int ret = 0;

	if (!n)
		return 0;
	if (!map->no_batch) {
		ret = bpf_map_update_batch(fd, keys, map->values, &count, NULL);
		if (!ret)
			return 0;
		if (ret != -EINVAL && ret != -EOPNOTSUPP && ret != -KERNEL_ENOTSUPP)
			return ret;
		map->no_batch = true;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &keys[i], &map->values[i], BPF_ANY) && !ret)
			ret = -errno;
	return ret;
}

static void delete_entries(struct hp_hot_map *map, int fd, __u64 *keys, size_t n)
{
	__u32 count = (__u32)n;

	if (!n)
		return;
	/* A key already gone (removed by hand) stops a batch: the rest one by one. */
	if (!map->no_batch && !bpf_map_delete_batch(fd, keys, &count, NULL))
		return;
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &keys[i]);
}

int hp_hot_map_publish(struct hp_hot_map *map, const struct hp_hot_page *pages, size_t n)
{
	int fd = bpf_map__fd(map->skel->maps.hot_pages);
	size_t nr_stale = 0, i = 0, j = 0, unique;
	__u64 *swap;
	int ret;

	if (n > map->max)
		n = map->max;
	for (size_t k = 0; k < n; k++) {
		const struct hp_hot_page *p = &pages[k];

		map->next[k] = p->pfn;
		map->values[k] = (struct hp_hot_entry){
			.heat = p->heat,
			.tgid = p->tgid,
			.last_seen_ms = p->last_seen_ns / 1000000ULL,
			.vaddr = p->vaddr,
			.node = p->page_node,
			.access_node = p->access_node,
			.sources = p->sources,
			.migrated = p->migrated,
			.npages = p->npages ? p->npages : 1,
		};
	}
	ret = update_entries(map, fd, map->next, n);
	unique = n ? 1 : 0;
	/* The keys of the last publish that are not in this one: both lists sorted. */
	qsort(map->next, n, sizeof(*map->next), cmp_u64);
	for (size_t k = 1; k < n; k++) /* a page listed twice is one key */
		if (map->next[k] != map->next[unique - 1])
			map->next[unique++] = map->next[k];
	n = unique;
	while (i < map->nkeys) {
		if (j < n && map->next[j] < map->keys[i]) {
			j++;
		} else if (j < n && map->next[j] == map->keys[i]) {
			i++;
			j++;
		} else {
			map->stale[nr_stale++] = map->keys[i++];
		}
	}
	delete_entries(map, fd, map->stale, nr_stale);
	swap = map->keys;
	map->keys = map->next;
	map->next = swap;
	map->nkeys = n;
	map->entries = n;
	return ret;
}

size_t hp_hot_map_entries(const struct hp_hot_map *map)
{
	return map->entries;
}

void hp_hot_map_close(struct hp_hot_map *map)
{
	if (!map)
		return;
	if (map->skel) {
		unlink(map->pin);
		rmdir(map->dir); /* fails, as it should, while something else is pinned there */
		hot_pages__destroy(map->skel);
	}
	free(map->keys);
	free(map->next);
	free(map->stale);
	free(map->values);
	free(map);
}
