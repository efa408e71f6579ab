// SPDX-License-Identifier: GPL-2.0
/*
 * The published hot set (hot_pages_map.h). A refresh writes the new
 * entries first, then deletes the keys that left the set, so that a reader
 * never sees the map empty between two rounds.
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
	__u64 *stale;
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
	m->stale = calloc(2 * max, sizeof(*m->stale));
	if (!m->keys || !m->stale) {
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

int hp_hot_map_publish(struct hp_hot_map *map, const struct hp_hot_page *pages, size_t n)
{
	int fd = bpf_map__fd(map->skel->maps.hot_pages);
	size_t nr_stale = 0;
	__u64 key, next;
	int ret = 0;

	if (n > map->max)
		n = map->max;
	for (size_t i = 0; i < n; i++) {
		const struct hp_hot_page *p = &pages[i];
		struct hp_hot_entry e = {
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

		if (bpf_map_update_elem(fd, &p->pfn, &e, BPF_ANY) && !ret)
			ret = -errno;
		map->keys[i] = p->pfn;
	}
	qsort(map->keys, n, sizeof(*map->keys), cmp_u64);
	/* Collect, then delete: deleting while iterating restarts the walk. */
	if (!bpf_map_get_next_key(fd, NULL, &key)) {
		for (;;) {
			if (!bsearch(&key, map->keys, n, sizeof(*map->keys), cmp_u64) &&
			    nr_stale < 2 * map->max)
				map->stale[nr_stale++] = key;
			if (bpf_map_get_next_key(fd, &key, &next))
				break;
			key = next;
		}
	}
	for (size_t i = 0; i < nr_stale; i++)
		bpf_map_delete_elem(fd, &map->stale[i]);
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
	free(map->stale);
	free(map);
}
