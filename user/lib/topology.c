// SPDX-License-Identifier: GPL-2.0
/* Memory topology from sysfs: nodes, tiers, distances, free memory. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "topology.h"
#include "catf.h"
#include "sysfile.h"

#define NODE_DIR "devices/system/node"
#define TIER_DIR "devices/virtual/memory_tiering"

static bool valid_node(int node)
{
	return node >= 0 && node < HP_TOPO_MAX_NODES;
}

static bool in_mask(__u64 mask, int node)
{
	return valid_node(node) && (mask >> node & 1);
}

static int parse_uint(const char **p, unsigned long *v)
{
	char *end;

	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	errno = 0;
	*v = strtoul(*p, &end, 10);
	if (errno)
		return -EINVAL;
	*p = end;
	return 0;
}

int hp_topo_parse_list(const char *text, __u64 *mask, unsigned int *count)
{
	const char *p = text;
	unsigned int n = 0;
	__u64 m = 0;

	while (*p && *p != '\n') {
		unsigned long lo, hi;

		if (parse_uint(&p, &lo))
			return -EINVAL;
		hi = lo;
		if (*p == '-') {
			p++;
			if (parse_uint(&p, &hi) || hi < lo)
				return -EINVAL;
		}
		if (mask && hi >= HP_TOPO_MAX_NODES)
			return -ERANGE;
		if (hi - lo >= UINT_MAX - n)
			return -EINVAL;
		n += (unsigned int)(hi - lo + 1);
		if (mask) {
			for (unsigned long i = lo; i <= hi; i++)
				m |= 1ULL << i;
		}
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	if (*p == '\n' && p[1])
		return -EINVAL;
	if (mask)
		*mask = m;
	if (count)
		*count = n;
	return 0;
}

/* The first line of root/rel (fmt), newline stripped. 0 or -errno. */
static int read_line(const char *root, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int read_line(const char *root, char *buf, size_t len, const char *fmt, ...)
{
	char rel[PATH_MAX / 2], path[PATH_MAX];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	ret = hp_read_line(path, buf, len);
	return ret == -EIO ? 0 : ret; /* an empty file is an empty value */
}

static int read_mask(const char *root, const char *rel, __u64 *mask, char *err, size_t err_len)
{
	char line[1024];
	int ret = read_line(root, line, sizeof(line), "%s", rel);

	if (ret) {
		hp_set_err(err, err_len, "%s/%s: %s", root, rel, strerror(-ret));
		return ret;
	}
	ret = hp_topo_parse_list(line, mask, NULL);
	if (ret)
		hp_set_err(err, err_len, "%s/%s: cannot read node list '%s'%s", root, rel, line,
			   ret == -ERANGE ? " (nodes past 63 are not supported)" : "");
	return ret;
}

/* nodeN/distance: one distance per online node, in node order. */
static int read_distances(struct hp_topology *t, int node, char *err, size_t err_len)
{
	char line[1024];
	const char *p = line;
	int ret = read_line(t->root, line, sizeof(line), NODE_DIR "/node%d/distance", node);

	if (ret == -ENOENT)
		return 0; /* distances unknown: nearest falls back to the lower id */
	if (ret) {
		hp_set_err(err, err_len, "%s/" NODE_DIR "/node%d/distance: %s", t->root, node,
			   strerror(-ret));
		return ret;
	}
	for (int to = 0; to < HP_TOPO_MAX_NODES; to++) {
		unsigned long d;

		if (!in_mask(t->online, to))
			continue;
		while (*p == ' ')
			p++;
		if (parse_uint(&p, &d) || d > 255) {
			hp_set_err(err, err_len,
				   "%s/" NODE_DIR "/node%d/distance: bad distance list '%s'",
				   t->root, node, line);
			return -EINVAL;
		}
		t->distance[node][to] = (__u8)d;
	}
	return 0;
}

static int read_tiers(struct hp_topology *t, char *err, size_t err_len)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/" TIER_DIR, t->root);
	dir = opendir(path);
	if (!dir)
		return 0; /* no memory tiers: one tier, the kernel's default */
	t->tiers_known = true;
	while ((de = readdir(dir))) {
		char rel[sizeof(TIER_DIR) + sizeof(de->d_name) + 16];
		unsigned long id;
		const char *p;
		__u64 nodes;

		if (strncmp(de->d_name, "memory_tier", 11) != 0)
			continue;
		p = de->d_name + 11;
		if (parse_uint(&p, &id) || *p || id > INT_MAX)
			continue;
		snprintf(rel, sizeof(rel), TIER_DIR "/%s/nodelist", de->d_name);
		ret = read_mask(t->root, rel, &nodes, err, err_len);
		if (ret)
			break;
		if (nodes)
			t->nr_tiers++;
		for (int n = 0; n < HP_TOPO_MAX_NODES; n++) {
			if (nodes >> n & 1)
				t->tier[n] = (int)id;
		}
	}
	closedir(dir);
	return ret;
}

/* As the kernel's node_is_toptier(): tiers up to the slowest with a CPU node. */
static void find_top_tier(struct hp_topology *t)
{
	int top = -1, fastest = INT_MAX;

	if (!t->tiers_known) {
		t->top_tier = t->memory;
		return;
	}
	for (int n = 0; n < HP_TOPO_MAX_NODES; n++) {
		if (t->tier[n] == HP_TOPO_NO_TIER)
			continue;
		if (t->tier[n] < fastest)
			fastest = t->tier[n];
		if (in_mask(t->cpu, n) && t->tier[n] > top)
			top = t->tier[n];
	}
	if (top < 0)
		top = fastest;
	t->top_tier = 0;
	for (int n = 0; n < HP_TOPO_MAX_NODES; n++) {
		if (t->tier[n] != HP_TOPO_NO_TIER && t->tier[n] <= top)
			t->top_tier |= 1ULL << n;
	}
}

int hp_topology_read(const char *root, struct hp_topology *topo, char *err, size_t err_len)
{
	int ret;

	memset(topo, 0, sizeof(*topo));
	if (strlen(root) >= sizeof(topo->root)) {
		hp_set_err(err, err_len, "sysfs root too long: %s", root);
		return -ENAMETOOLONG;
	}
	snprintf(topo->root, sizeof(topo->root), "%s", root);
	for (int n = 0; n < HP_TOPO_MAX_NODES; n++)
		topo->tier[n] = HP_TOPO_NO_TIER;

	ret = read_mask(root, NODE_DIR "/online", &topo->online, err, err_len);
	if (ret == -ENOENT)
		hp_set_err(err, err_len, "%s/" NODE_DIR "/online: missing (a kernel without NUMA?)",
			   root);
	if (ret)
		return ret;
	ret = read_mask(root, NODE_DIR "/has_memory", &topo->memory, err, err_len);
	if (ret)
		return ret;
	topo->memory &= topo->online;

	for (int n = 0; n < HP_TOPO_MAX_NODES; n++) {
		char line[4096];

		if (!in_mask(topo->online, n))
			continue;
		ret = read_line(root, line, sizeof(line), NODE_DIR "/node%d/cpulist", n);
		if (!ret && hp_topo_parse_list(line, NULL, &topo->nr_cpus[n])) {
			hp_set_err(err, err_len,
				   "%s/" NODE_DIR "/node%d/cpulist: bad CPU list '%s'", root, n,
				   line);
			return -EINVAL;
		}
		if (topo->nr_cpus[n])
			topo->cpu |= 1ULL << n;
		ret = read_distances(topo, n, err, err_len);
		if (ret)
			return ret;
	}

	ret = read_tiers(topo, err, err_len);
	if (ret)
		return ret;
	if (!topo->tiers_known)
		topo->nr_tiers = topo->memory ? 1 : 0;
	find_top_tier(topo);
	topo->top_tier &= topo->memory;
	return 0;
}

bool hp_topology_has_memory(const struct hp_topology *topo, int node)
{
	return in_mask(topo->memory, node);
}

bool hp_topology_is_top_tier(const struct hp_topology *topo, int node)
{
	return in_mask(topo->top_tier, node);
}

bool hp_topology_is_lower_tier(const struct hp_topology *topo, int node, int than)
{
	if (!hp_topology_has_memory(topo, node) || !hp_topology_has_memory(topo, than))
		return false;
	if (!topo->tiers_known)
		return false;
	if (topo->tier[node] == HP_TOPO_NO_TIER || topo->tier[than] == HP_TOPO_NO_TIER)
		return false;
	return topo->tier[node] > topo->tier[than];
}

int hp_topology_nearest_top_tier(const struct hp_topology *topo, int node)
{
	int best = -ENOENT;
	unsigned int best_distance = UINT_MAX;

	if (!in_mask(topo->online, node))
		return -EINVAL;
	if (hp_topology_is_top_tier(topo, node))
		return node;
	for (int n = 0; n < HP_TOPO_MAX_NODES; n++) {
		/* Unknown distances (0) sort last, then by id. */
		unsigned int d = topo->distance[node][n] ? topo->distance[node][n] : 256;

		if (!hp_topology_is_top_tier(topo, n) || d >= best_distance)
			continue;
		best = n;
		best_distance = d;
	}
	return best;
}

char *hp_topo_format_list(__u64 mask, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (int n = 0; n < HP_TOPO_MAX_NODES; n++) {
		int end = n;

		if (!(mask >> n & 1))
			continue;
		while (end + 1 < HP_TOPO_MAX_NODES && (mask >> (end + 1) & 1))
			end++;
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used,
						 end > n ? "%s%d-%d" : "%s%d", used ? "," : "", n,
						 end);
		n = end;
	}
	return buf;
}

bool hp_topology_can_promote(const struct hp_topology *topo, char *why, size_t why_len)
{
	char nodes[128];

	if (!topo->memory) {
		hp_set_err(why, why_len, "no node has memory");
		return false;
	}
	if (topo->memory & ~topo->top_tier)
		return true;
	hp_topo_format_list(topo->memory, nodes, sizeof(nodes));
	if (!topo->tiers_known) {
		hp_set_err(
			why, why_len,
			"no memory tiers in sysfs: all memory (nodes %s) is one tier, nothing to promote",
			nodes);
	} else {
		int tier = HP_TOPO_NO_TIER;

		for (int n = 0; n < HP_TOPO_MAX_NODES && tier == HP_TOPO_NO_TIER; n++) {
			if (in_mask(topo->memory, n))
				tier = topo->tier[n];
		}
		if (topo->nr_tiers <= 1)
			hp_set_err(
				why, why_len,
				"one memory tier (memory_tier%d: nodes %s): all memory is top tier, nothing to promote",
				tier, nodes);
		else
			hp_set_err(why, why_len,
				   "all memory nodes (%s) are in the top tiers: nothing to promote",
				   nodes);
	}
	return false;
}

int hp_topology_node_memory(const struct hp_topology *topo, int node, __u64 *free_bytes,
			    __u64 *total_bytes)
{
	char path[PATH_MAX], line[256];
	bool have_free = false, have_total = false;
	FILE *f;

	if (!in_mask(topo->online, node))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/" NODE_DIR "/node%d/meminfo", topo->root, node);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* "Node 0 MemFree:         4685536 kB" */
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kb;
		char key[32];
		int id;

		if (sscanf(line, "Node %d %31[^:]: %llu kB", &id, key, &kb) != 3 || id != node)
			continue;
		if (!strcmp(key, "MemFree")) {
			*free_bytes = kb << 10;
			have_free = true;
		} else if (!strcmp(key, "MemTotal")) {
			*total_bytes = kb << 10;
			have_total = true;
		}
	}
	fclose(f);
	return have_free && have_total ? 0 : -ENODATA;
}

int hp_topology_demotion_target(const struct hp_topology *topo, int node)
{
	int best = -ENOENT, best_tier = INT_MAX;
	unsigned int best_distance = UINT_MAX;

	if (!hp_topology_has_memory(topo, node) || !topo->tiers_known ||
	    topo->tier[node] == HP_TOPO_NO_TIER)
		return -ENOENT;
	for (int n = 0; n < HP_TOPO_MAX_NODES; n++) {
		/* Unknown distances (0) sort last, then by id. */
		unsigned int d = topo->distance[node][n] ? topo->distance[node][n] : 256;
		int tier = topo->tier[n];

		if (!hp_topology_has_memory(topo, n) || tier == HP_TOPO_NO_TIER ||
		    tier <= topo->tier[node])
			continue;
		if (tier > best_tier || (tier == best_tier && d >= best_distance))
			continue;
		best = n;
		best_tier = tier;
		best_distance = d;
	}
	return best;
}

/* One zone of zoneinfo, in pages. */
struct zone_marks {
	unsigned long long free, promo, high, low, reserve, managed;
	bool have_promo;
};

/*
 * A zone's target in pages: its promotion watermark ("promo", or high +
 * (high - low), what the kernel makes it where zoneinfo has none), and
 * one more watermark gap above it: kswapd wakes when an allocation finds
 * the zone below its low watermark, and on a full node the small
 * allocations of everyone (page tables, slab, BPF programs) would
 * otherwise dip below it between rounds, each time waking kswapd to
 * demote pages of its own choosing.
 */
static unsigned long long zone_promo(const struct zone_marks *z)
{
	unsigned long long gap = z->high > z->low ? z->high - z->low : 0;

	return (z->have_promo ? z->promo : z->high + gap) + gap;
}

/*
 * Zones come in ascending order. A movable allocation takes pages from
 * the highest populated zone down to its low watermark before it falls
 * back to a lower one, and kernel allocations that then find the highest
 * zone below its low watermark wake kswapd: only the highest zone's room
 * is room (the lower zones' free pages stay where they are).
 */
static void zone_add(const struct zone_marks *z, struct hp_node_zones *out, unsigned long long page)
{
	unsigned long long promo = zone_promo(z);

	if (!z->managed)
		return;
	out->free = z->free * page;
	out->promo = promo * page;
	out->reserve = z->reserve * page;
	out->room = ((__s64)z->free - (__s64)promo - (__s64)z->reserve) * (__s64)page;
}

/* "protection: (0, 991, 991, 991, 991)": the largest, what the highest zone type must leave. */
static unsigned long long max_protection(const char *line)
{
	const char *p = strchr(line, '(');
	unsigned long long max = 0;

	while (p && *p && *p != ')') {
		char *end;
		unsigned long long v = strtoull(p + 1, &end, 10);

		if (end == p + 1)
			break;
		if (v > max)
			max = v;
		p = strchr(end, ',');
	}
	return max;
}

int hp_topology_node_zones(const struct hp_topology *topo, int node, struct hp_node_zones *out)
{
	char path[PATH_MAX], line[512];
	struct zone_marks z = { 0 };
	unsigned long long v, page = (unsigned long long)sysconf(_SC_PAGESIZE);
	bool in_node = false, zones = false;
	FILE *f;
	int id;

	memset(out, 0, sizeof(*out));
	if (!strcmp(topo->root, "/sys"))
		snprintf(path, sizeof(path), "/proc/zoneinfo");
	else
		snprintf(path, sizeof(path), "%s/zoneinfo", topo->root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char zone[32];

		/* "Node 0, zone   Normal" starts a zone; its watermarks follow. */
		if (sscanf(line, "Node %d, zone %31s", &id, zone) == 2) {
			if (in_node)
				zone_add(&z, out, page);
			z = (struct zone_marks){ 0 };
			in_node = id == node;
			zones |= in_node;
			continue;
		}
		if (!in_node)
			continue;
		if (sscanf(line, " pages free %llu", &v) == 1)
			z.free = v;
		else if (sscanf(line, " promo %llu", &v) == 1) {
			z.promo = v;
			z.have_promo = true;
		} else if (sscanf(line, " high %llu", &v) == 1)
			z.high = v;
		else if (sscanf(line, " low %llu", &v) == 1)
			z.low = v;
		else if (sscanf(line, " managed %llu", &v) == 1)
			z.managed = v;
		else if (strstr(line, "protection:"))
			z.reserve = max_protection(line);
	}
	fclose(f);
	if (in_node)
		zone_add(&z, out, page);
	return zones ? 0 : -ENODATA;
}
