/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The machine's memory topology as promotion needs it, read from sysfs:
 * nodes online, with memory, with CPUs; memory tiers
 * (/sys/devices/virtual/memory_tiering/memory_tierN/nodelist, a lower N
 * is a faster tier); node distances (/sys/devices/system/node/nodeN/
 * distance, one number per online node); free memory per node (meminfo,
 * read when asked). The root is a parameter so that tests read a fake tree.
 *
 * Top tier, as the kernel's node_is_toptier(): every tier up to and
 * including the slowest tier that holds a node with CPUs (if none does, the
 * fastest tier). Without memory_tiering in sysfs, every memory node is in
 * one tier: the kernel's own default. One tier means nothing to promote.
 */
#ifndef HOTPAGE_TOPOLOGY_H
#define HOTPAGE_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define HP_SYSFS_ROOT "/sys"
/* Nodes 0..63: node masks are one u64. */
#define HP_TOPO_MAX_NODES 64
#define HP_TOPO_NO_TIER (-1)

struct hp_topology {
	char root[256];
	__u64 online; /* bit N: node N online */
	__u64 memory; /* ... has memory (N_MEMORY) */
	__u64 cpu; /* ... has CPUs */
	__u64 top_tier; /* memory nodes in the top tier */
	bool tiers_known; /* memory_tiering was found */
	int nr_tiers;
	int tier[HP_TOPO_MAX_NODES]; /* memory_tierN's N, HP_TOPO_NO_TIER */
	unsigned int nr_cpus[HP_TOPO_MAX_NODES];
	/* distance[a][b] as sysfs gives it (10: local); 0 when unknown */
	__u8 distance[HP_TOPO_MAX_NODES][HP_TOPO_MAX_NODES];
};

/*
 * A sysfs list ("0-3,8,10-11", possibly empty or with a newline): sets bit
 * N of *mask (if mask) for each N < HP_TOPO_MAX_NODES and counts every
 * item in *count (if count; CPUs may go past 63). 0 or -EINVAL;
 * -ERANGE for a node past HP_TOPO_MAX_NODES - 1 when mask is set.
 */
int hp_topo_parse_list(const char *text, __u64 *mask, unsigned int *count);

/*
 * Read the topology under @root (HP_SYSFS_ROOT or a copy of its layout).
 * 0, or a negative errno with the reason in @err.
 */
int hp_topology_read(const char *root, struct hp_topology *topo, char *err, size_t err_len);

bool hp_topology_has_memory(const struct hp_topology *topo, int node);
bool hp_topology_is_top_tier(const struct hp_topology *topo, int node);
/* Is @node in a slower tier than @than (both memory nodes with a tier)? */
bool hp_topology_is_lower_tier(const struct hp_topology *topo, int node, int than);
/*
 * The top-tier node nearest to @node (by distance; ties: the lower id):
 * @node itself if it is top tier. For a node without memory (a CPU-only
 * node) the nearest top-tier memory node. -ENOENT when there is no
 * top-tier node, -EINVAL for a node out of range or offline.
 */
int hp_topology_nearest_top_tier(const struct hp_topology *topo, int node);
/*
 * Whether any memory lies below the top tier. When not, @why (if set)
 * says so in words, e.g. "one memory tier (memory_tier4: nodes 0)".
 */
bool hp_topology_can_promote(const struct hp_topology *topo, char *why, size_t why_len);

/*
 * Where the pages of @node go down to make room: the nearest node (by
 * distance; ties: the lower id) of the next slower tier that has memory.
 * -ENOENT when there is none (the slowest tier, or tiers unknown).
 */
int hp_topology_demotion_target(const struct hp_topology *topo, int node);

/*
 * What zoneinfo says of a node's highest populated zone (Normal, or
 * DMA32 on a small node, or Movable on hot-added memory), in bytes: the
 * zone that movable allocations, promotion's included, fill first.
 */
struct hp_node_zones {
	__u64 free; /* free pages */
	__u64 promo; /* promotion watermark, and one watermark gap (high - low) above it */
	__u64 reserve; /* lowmem reserve that a movable allocation must leave */
	/*
	 * What a movable allocation can take above the promotion watermark
	 * (free - promo - reserve, as zone_watermark_ok() judges); negative
	 * when the zone is below it.
	 */
	__s64 room;
};

/*
 * @node's zones, read now from /proc/zoneinfo (or <root>/zoneinfo under
 * a test tree): the promotion watermark is what NUMA balancing's tiering
 * mode promotes against ("promo"; high + (high - low) where the kernel
 * prints none), and free memory below a zone's lowmem reserve is not
 * there for user pages. 0 or -errno (-ENODATA: no zone of the node).
 */
int hp_topology_node_zones(const struct hp_topology *topo, int node, struct hp_node_zones *out);

/* MemFree and MemTotal of @node in bytes, read now. 0 or -errno. */
int hp_topology_node_memory(const struct hp_topology *topo, int node, __u64 *free_bytes,
			    __u64 *total_bytes);

/* "0-1,3" for @mask into @buf; returns @buf. */
char *hp_topo_format_list(__u64 mask, char *buf, size_t len);

#endif /* HOTPAGE_TOPOLOGY_H */
