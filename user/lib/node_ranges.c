// SPDX-License-Identifier: GPL-2.0
/* Physical address ranges of NUMA nodes, from sysfs memory blocks. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_ranges.h"
#include "sysfile.h"

int hp_parse_block_size(const char *text, __u64 *bytes)
{
	unsigned long long v;
	char *end;

	while (isspace((unsigned char)*text))
		text++;
	if (!isxdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	/* sysfs prints it in hex without a prefix ("8000000" is 128 MiB). */
	v = strtoull(text, &end, 16);
	if (errno || end == text)
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end || !v || (v & (v - 1)))
		return -EINVAL;
	*bytes = v;
	return 0;
}

int hp_parse_memory_block_name(const char *name, __u64 *index)
{
	unsigned long long v;
	char *end;

	if (strncmp(name, "memory", 6) != 0 || !isdigit((unsigned char)name[6]))
		return -EINVAL;
	errno = 0;
	v = strtoull(name + 6, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*index = v;
	return 0;
}

static int parse_node(const char **p, unsigned long *node)
{
	char *end;

	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	errno = 0;
	*node = strtoul(*p, &end, 10);
	if (errno || *node >= HP_NODES_MAX)
		return -EINVAL;
	*p = end;
	return 0;
}

int hp_parse_nodes(const char *text, __u64 *mask)
{
	const char *p = text;
	__u64 m = 0;

	if (!strcmp(text, "all")) {
		*mask = 0; /* as hp_node_ranges_read() reads it: every node */
		return 0;
	}
	for (;;) {
		unsigned long lo, hi;

		if (parse_node(&p, &lo))
			return -EINVAL;
		hi = lo;
		if (*p == '-') {
			p++;
			if (parse_node(&p, &hi) || hi < lo)
				return -EINVAL;
		}
		for (unsigned long n = lo; n <= hi; n++)
			m |= 1ULL << n;
		if (!*p)
			break;
		if (*p != ':' && *p != ',')
			return -EINVAL;
		p++;
	}
	*mask = m;
	return 0;
}

int hp_phys_ranges_add_block(struct hp_phys_ranges *ranges, __u64 index, __u64 block_size, int node)
{
	struct hp_phys_range *v;

	if (!block_size || index > ~0ULL / block_size - 1)
		return -EOVERFLOW;
	if (ranges->nr == ranges->cap) {
		size_t cap = ranges->cap ? ranges->cap * 2 : 64;

		v = realloc(ranges->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ranges->v = v;
		ranges->cap = cap;
	}
	ranges->v[ranges->nr++] = (struct hp_phys_range){
		.start = index * block_size,
		.end = (index + 1) * block_size,
		.node = node,
	};
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct hp_phys_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->node - y->node;
}

void hp_phys_ranges_normalize(struct hp_phys_ranges *ranges)
{
	size_t out = 0;

	if (!ranges->nr)
		return;
	qsort(ranges->v, ranges->nr, sizeof(ranges->v[0]), cmp_range);
	for (size_t i = 1; i < ranges->nr; i++) {
		struct hp_phys_range *last = &ranges->v[out];
		const struct hp_phys_range *r = &ranges->v[i];

		if (r->node == last->node && r->start <= last->end) {
			if (r->end > last->end)
				last->end = r->end;
			continue;
		}
		ranges->v[++out] = *r;
	}
	ranges->nr = out + 1;
}

void hp_phys_ranges_free(struct hp_phys_ranges *ranges)
{
	free(ranges->v);
	*ranges = (struct hp_phys_ranges){ 0 };
}

int hp_phys_ranges_node(const struct hp_phys_ranges *ranges, __u64 addr)
{
	for (size_t i = 0; i < ranges->nr; i++)
		if (addr >= ranges->v[i].start && addr < ranges->v[i].end)
			return ranges->v[i].node;
	return -1;
}

__u64 hp_phys_ranges_bytes(const struct hp_phys_ranges *ranges)
{
	__u64 sum = 0;

	for (size_t i = 0; i < ranges->nr; i++)
		sum += ranges->v[i].end - ranges->v[i].start;
	return sum;
}

/* Offline blocks are skipped: DAMON finds no page to check there. */
static bool block_online(const char *sys_root, __u64 index)
{
	char path[512], state[32];

	snprintf(path, sizeof(path), "%s/memory/memory%llu/state", sys_root,
		 (unsigned long long)index);
	if (hp_read_line(path, state, sizeof(state)))
		return true; /* no state file: count it */
	return !strncmp(state, "online", 6);
}

static int read_node(const char *sys_root, int node, __u64 block_size, struct hp_phys_ranges *out)
{
	char path[512];
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/node/node%d", sys_root, node);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (!ret && (de = readdir(dir))) {
		__u64 index;

		if (hp_parse_memory_block_name(de->d_name, &index))
			continue;
		if (block_online(sys_root, index))
			ret = hp_phys_ranges_add_block(out, index, block_size, node);
	}
	closedir(dir);
	return ret;
}

int hp_node_ranges_read(const char *sys_root, __u64 node_mask, struct hp_phys_ranges *out,
			char *err, size_t err_len)
{
	char path[512], text[64] = "";
	__u64 block_size, want = node_mask ? node_mask : ~0ULL;
	int ret, found = 0;

	*out = (struct hp_phys_ranges){ 0 };
	snprintf(path, sizeof(path), "%s/memory/block_size_bytes", sys_root);
	ret = hp_read_line(path, text, sizeof(text));
	if (!ret)
		ret = hp_parse_block_size(text, &block_size);
	if (ret) {
		snprintf(err, err_len, "%s: %s (no memory block sysfs: CONFIG_MEMORY_HOTPLUG?)",
			 path, strerror(-ret));
		return ret;
	}
	for (int node = 0; node < HP_NODES_MAX; node++) {
		if (!(want & (1ULL << node)))
			continue;
		ret = read_node(sys_root, node, block_size, out);
		if (ret == -ENOENT) {
			if (node_mask & (1ULL << node)) {
				snprintf(err, err_len, "node %d does not exist (%s/node/node%d)",
					 node, sys_root, node);
				goto fail;
			}
			continue;
		}
		if (ret) {
			snprintf(err, err_len, "reading node %d's memory blocks: %s", node,
				 strerror(-ret));
			goto fail;
		}
		found++;
	}
	hp_phys_ranges_normalize(out);
	if (!out->nr) {
		snprintf(err, err_len, "no online memory on the chosen node%s",
			 found > 1 ? "s" : "");
		ret = -ENOENT;
		goto fail;
	}
	return 0;
fail:
	hp_phys_ranges_free(out);
	return ret;
}
