/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PFN and node of (process, virtual address) pairs, for sources that see
 * only those (fault, perf): batched reads of /proc/PID/pagemap behind a
 * small direct-mapped cache.
 *
 * pagemap shows PFNs to CAP_SYS_ADMIN only (others read 0). The node comes
 * from the PFN through the memory block ranges sysfs lists per node
 * (/sys/devices/system/node/nodeN/memoryM, see node_ranges.h): a lookup in
 * memory, no system call per event, re-read when a PFN falls outside them
 * (memory hot-added since, as dax kmem does). move_pages(2) with nodes=NULL
 * would give the node without the PFN, but costs a system call per batch
 * on top of the pagemap read that the PFN needs anyway.
 *
 * Cached translations go stale when a page moves (migration, reclaim,
 * COW): entries expire after a TTL, and whoever moves pages (the
 * promotion path) calls hp_pagemap_invalidate() for the process.
 */
#ifndef HOTPAGE_PAGEMAP_H
#define HOTPAGE_PAGEMAP_H

#include <stddef.h>
#include <linux/types.h>

#include "hotpage/event.h"

#define HP_PAGEMAP_CACHE_DEFAULT 65536 /* entries, 32 bytes each */
#define HP_PAGEMAP_WINDOW_DEFAULT 16 /* pages read around an isolated miss */
#define HP_PAGEMAP_SPAN_DEFAULT 512 /* most pages one read covers (4 KiB of pagemap) */
#define HP_PAGEMAP_TTL_DEFAULT_NS 1000000000ULL

/* pagemap entry layout (Documentation/admin-guide/mm/pagemap.rst). */
#define HP_PM_PRESENT (1ULL << 63)
#define HP_PM_SWAPPED (1ULL << 62)
#define HP_PM_PFN_MASK ((1ULL << 55) - 1)

/* Reads @n entries of @tgid's pagemap from page @vpn into @entries; entries read or -errno. */
typedef int (*hp_pagemap_read_fn)(void *ctx, __u32 tgid, __u64 vpn, __u64 *entries, size_t n);
/* The node of @pfn, or HP_NODE_UNKNOWN. */
typedef int (*hp_pfn_node_fn)(void *ctx, __u64 pfn);

struct hp_pagemap_opts {
	__u32 cache_entries; /* rounded up to a power of two; 0: the default */
	__u32 window_pages; /* power of two; 0: the default */
	__u32 span_pages; /* 0: the default */
	__u64 ttl_ns; /* 0: the default */
	hp_pagemap_read_fn read; /* NULL: /proc/<tgid>/pagemap */
	void *read_ctx;
	hp_pfn_node_fn pfn_node; /* NULL: sysfs memory block ranges */
	void *node_ctx;
};

struct hp_pagemap_stats {
	__u64 lookups; /* addresses asked for */
	__u64 hits; /* ... answered from the cache */
	__u64 reads; /* pagemap reads (system calls) */
	__u64 entries_read;
	__u64 resolved; /* addresses given a PFN */
	__u64 not_present; /* ... not mapped, or swapped out, at the read */
	__u64 no_pfn; /* present, PFN hidden (no CAP_SYS_ADMIN) */
	__u64 gone; /* the process had exited */
	__u64 errors; /* other read failures */
};

struct hp_pagemap;

/* 0, or a negative errno with the reason in @err. */
int hp_pagemap_new(const struct hp_pagemap_opts *opts, struct hp_pagemap **out, char *err,
		   size_t err_len);
void hp_pagemap_free(struct hp_pagemap *pm);

/*
 * PFN and node of @vaddr in @tgid at @now_ns (CLOCK_MONOTONIC). 0; -ENOENT
 * when not present, -EPERM when the PFN is hidden, -ESRCH when the process
 * is gone, another negative errno on a failed read. @node may come back
 * HP_NODE_UNKNOWN with a PFN.
 */
int hp_pagemap_resolve(struct hp_pagemap *pm, __u32 tgid, __u64 vaddr, __u64 now_ns, __u64 *pfn,
		       int *node);

/*
 * Fill pfn and page_node of the events that lack them (a process and a
 * virtual address, not HP_EV_PHYS), sorting the misses so that one read
 * covers neighbouring pages of a process. Returns how many got a PFN.
 */
size_t hp_pagemap_resolve_events(struct hp_pagemap *pm, struct hp_event *events, size_t n,
				 __u64 now_ns);

/* Forget @tgid's translations (after moving its pages, or at its exit). */
void hp_pagemap_invalidate(struct hp_pagemap *pm, __u32 tgid);
/* Forget every translation. */
void hp_pagemap_flush(struct hp_pagemap *pm);

void hp_pagemap_read_stats(const struct hp_pagemap *pm, struct hp_pagemap_stats *stats);

#endif /* HOTPAGE_PAGEMAP_H */
