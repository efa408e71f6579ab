/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Physical address ranges of NUMA nodes, from the memory blocks sysfs lists
 * under /sys/devices/system/node/nodeN/memoryM (block M covers
 * [M * block_size, (M + 1) * block_size), block_size_bytes in hex under
 * /sys/devices/system/memory). Used to point DAMON's paddr operations at
 * the memory of chosen nodes.
 */
#ifndef HOTPAGE_NODE_RANGES_H
#define HOTPAGE_NODE_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define HP_SYSFS_SYSTEM "/sys/devices/system"
#define HP_NODES_MAX 64

struct hp_phys_range {
	__u64 start;
	__u64 end; /* exclusive */
	int node;
};

struct hp_phys_ranges {
	struct hp_phys_range *v;
	size_t nr;
	size_t cap;
};

/* block_size_bytes' text (hex, with or without 0x, trailing newline allowed). 0 or -EINVAL. */
int hp_parse_block_size(const char *text, __u64 *bytes);
/* "memory42" -> 42; other names (memory_failure, ...) -> -EINVAL. */
int hp_parse_memory_block_name(const char *name, __u64 *index);
/*
 * A node list: "all", "N", "N-M", or such items joined by ':' or ','
 * (':' fits inside a source's "key=value,..." parameter). Sets bit N of
 * *mask for each node; "all" sets *mask to 0, which hp_node_ranges_read()
 * reads as every node. 0 or -EINVAL (also for nodes >= HP_NODES_MAX).
 */
int hp_parse_nodes(const char *text, __u64 *mask);

/* Append block @index of @block_size bytes on @node. 0 or -ENOMEM / -EOVERFLOW. */
int hp_phys_ranges_add_block(struct hp_phys_ranges *ranges, __u64 index, __u64 block_size,
			     int node);
/* Sort by start and merge ranges of the same node that touch or overlap. */
void hp_phys_ranges_normalize(struct hp_phys_ranges *ranges);
void hp_phys_ranges_free(struct hp_phys_ranges *ranges);
/* The node whose range holds @addr, or -1. */
int hp_phys_ranges_node(const struct hp_phys_ranges *ranges, __u64 addr);
/* Bytes covered. */
__u64 hp_phys_ranges_bytes(const struct hp_phys_ranges *ranges);

/*
 * The online memory of the nodes in @node_mask (0: every node), read under
 * @sys_root (HP_SYSFS_SYSTEM, or a copy of its layout for tests), normalized.
 * 0, or a negative errno with the reason in @err.
 */
int hp_node_ranges_read(const char *sys_root, __u64 node_mask, struct hp_phys_ranges *out,
			char *err, size_t err_len);

#endif /* HOTPAGE_NODE_RANGES_H */
