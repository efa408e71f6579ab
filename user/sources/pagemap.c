// SPDX-License-Identifier: GPL-2.0
/* PFN resolution from /proc/PID/pagemap: cache, batching, node lookup. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "node_ranges.h"
#include "pagemap.h"

#define FD_SLOTS 16 /* open pagemap files kept */
#define CACHE_WAYS 4 /* set-associative: a run of hot pages does not evict itself */
#define NODE_REFRESH_NS 1000000000ULL /* at most one re-read of the ranges per second */

struct cache_slot {
	__u32 tgid; /* 0: empty */
	__u32 epoch; /* valid only while equal to the cache's */
	__u64 vpn;
	__u64 pfn;
	__u64 expires_ns;
};

struct fd_slot {
	__u32 tgid; /* 0: empty */
	int fd;
	__u64 used; /* tick of the last use, for replacement */
};

/* One miss of a batch: the event's page, sorted by (tgid, vpn). */
struct miss {
	__u32 tgid;
	__u32 index; /* into the events */
	__u64 vpn;
};

struct hp_pagemap {
	struct hp_pagemap_opts opts;
	struct cache_slot *cache;
	__u32 cache_mask; /* slots - 1 */
	unsigned int set_shift; /* 64 - log2(sets) */
	__u32 epoch;
	unsigned int page_shift;
	struct fd_slot fds[FD_SLOTS];
	__u64 tick;
	__u64 *entries; /* span_pages read buffer */
	struct miss *misses;
	size_t misses_cap;
	struct hp_phys_ranges ranges;
	bool ranges_ok;
	__u64 ranges_read_ns;
	struct hp_pagemap_stats stats;
};

static void close_fd_slot(struct fd_slot *slot)
{
	if (slot->tgid)
		close(slot->fd);
	slot->tgid = 0;
	slot->fd = -1;
}

/* The open pagemap of @tgid, opening it (and closing the least recently used) if need be. */
static int pagemap_fd(struct hp_pagemap *pm, __u32 tgid)
{
	struct fd_slot *victim = &pm->fds[0];
	char path[64];
	int fd;

	pm->tick++;
	for (int i = 0; i < FD_SLOTS; i++) {
		if (pm->fds[i].tgid == tgid) {
			pm->fds[i].used = pm->tick;
			return pm->fds[i].fd;
		}
		if (pm->fds[i].used < victim->used)
			victim = &pm->fds[i];
	}
	snprintf(path, sizeof(path), "/proc/%u/pagemap", tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	close_fd_slot(victim);
	*victim = (struct fd_slot){ .tgid = tgid, .fd = fd, .used = pm->tick };
	return fd;
}

static int proc_read(void *ctx, __u32 tgid, __u64 vpn, __u64 *entries, size_t n)
{
	struct hp_pagemap *pm = ctx;
	int fd = pagemap_fd(pm, tgid);
	ssize_t got;

	if (fd < 0)
		return fd;
	got = pread(fd, entries, n * sizeof(*entries), (off_t)(vpn * sizeof(*entries)));
	if (got < 0) {
		int ret = errno == ESRCH ? -ESRCH : -errno;

		/* A reused pid would be another process: never keep the file of a dead one. */
		for (int i = 0; i < FD_SLOTS; i++)
			if (pm->fds[i].tgid == tgid)
				close_fd_slot(&pm->fds[i]);
		return ret;
	}
	return (int)((size_t)got / sizeof(*entries));
}

static int read_ranges(struct hp_pagemap *pm, __u64 now_ns, char *err, size_t err_len)
{
	struct hp_phys_ranges ranges;
	int ret;

	pm->ranges_read_ns = now_ns;
	ret = hp_node_ranges_read(HP_SYSFS_SYSTEM, 0, &ranges, err, err_len);
	if (ret)
		return ret;
	hp_phys_ranges_free(&pm->ranges);
	pm->ranges = ranges;
	pm->ranges_ok = true;
	return 0;
}

static int sysfs_pfn_node(void *ctx, __u64 pfn)
{
	struct hp_pagemap *pm = ctx;
	__u64 addr = pfn << pm->page_shift;
	int node = pm->ranges_ok ? hp_phys_ranges_node(&pm->ranges, addr) : -1;
	char err[256];

	if (node < 0) {
		/* Memory onlined since the last read (dax kmem, hotplug)? Re-read, not too often. */
		__u64 now = hp_monotonic_ns();

		if (now - pm->ranges_read_ns < NODE_REFRESH_NS ||
		    read_ranges(pm, now, err, sizeof(err)))
			return HP_NODE_UNKNOWN;
		node = hp_phys_ranges_node(&pm->ranges, addr);
	}
	return node < 0 ? HP_NODE_UNKNOWN : node;
}

int hp_pagemap_new(const struct hp_pagemap_opts *opts, struct hp_pagemap **out, char *err,
		   size_t err_len)
{
	struct hp_pagemap *pm;
	long page_size = sysconf(_SC_PAGESIZE);
	__u32 entries = 1;

	*out = NULL;
	pm = calloc(1, sizeof(*pm));
	if (!pm)
		goto nomem;
	pm->opts = *opts;
	if (!pm->opts.cache_entries)
		pm->opts.cache_entries = HP_PAGEMAP_CACHE_DEFAULT;
	if (!pm->opts.window_pages)
		pm->opts.window_pages = HP_PAGEMAP_WINDOW_DEFAULT;
	if (!pm->opts.span_pages)
		pm->opts.span_pages = HP_PAGEMAP_SPAN_DEFAULT;
	if (!pm->opts.ttl_ns)
		pm->opts.ttl_ns = HP_PAGEMAP_TTL_DEFAULT_NS;
	if (pm->opts.cache_entries > (1U << 30) ||
	    (pm->opts.window_pages & (pm->opts.window_pages - 1)) ||
	    pm->opts.window_pages > pm->opts.span_pages || pm->opts.span_pages > (1U << 20)) {
		snprintf(err, err_len,
			 "pagemap: cache of at most 2^30 entries, window a power of two "
			 "no larger than the span, span at most 2^20 pages");
		free(pm);
		return -EINVAL;
	}
	while (entries < pm->opts.cache_entries || entries < 2 * CACHE_WAYS)
		entries <<= 1;
	pm->cache_mask = entries - 1;
	pm->set_shift = 64;
	for (__u32 sets = entries / CACHE_WAYS; sets > 1; sets >>= 1)
		pm->set_shift--;
	pm->epoch = 1;
	while (page_size > 1 && (1L << pm->page_shift) < page_size)
		pm->page_shift++;
	for (int i = 0; i < FD_SLOTS; i++)
		pm->fds[i] = (struct fd_slot){ .fd = -1 };
	pm->cache = calloc(entries, sizeof(*pm->cache));
	pm->entries = calloc(pm->opts.span_pages, sizeof(*pm->entries));
	if (!pm->cache || !pm->entries)
		goto nomem;
	/* Fault the cache in now, not a page at a time on the event path (volatile: kept). */
	for (size_t off = 0; off < (size_t)entries * sizeof(*pm->cache); off += (size_t)page_size)
		((volatile char *)pm->cache)[off] = 0;
	if (!pm->opts.read) {
		pm->opts.read = proc_read;
		pm->opts.read_ctx = pm;
	}
	if (!pm->opts.pfn_node) {
		/* Without the ranges the PFNs still resolve; the nodes stay unknown. */
		read_ranges(pm, hp_monotonic_ns(), err, err_len);
		pm->opts.pfn_node = sysfs_pfn_node;
		pm->opts.node_ctx = pm;
	}
	*out = pm;
	return 0;
nomem:
	hp_pagemap_free(pm);
	snprintf(err, err_len, "out of memory");
	return -ENOMEM;
}

void hp_pagemap_free(struct hp_pagemap *pm)
{
	if (!pm)
		return;
	for (int i = 0; i < FD_SLOTS; i++)
		close_fd_slot(&pm->fds[i]);
	hp_phys_ranges_free(&pm->ranges);
	free(pm->cache);
	free(pm->entries);
	free(pm->misses);
	free(pm);
}

/* The first slot of the set of (tgid, vpn): Fibonacci hashing keeps runs of pages apart. */
static struct cache_slot *cache_set(const struct hp_pagemap *pm, __u32 tgid, __u64 vpn)
{
	__u64 h = (vpn ^ ((__u64)tgid << 40)) * 0x9e3779b97f4a7c15ULL;

	return &pm->cache[(h >> pm->set_shift) * CACHE_WAYS];
}

static bool slot_valid(const struct hp_pagemap *pm, const struct cache_slot *slot, __u64 now_ns)
{
	return slot->tgid && slot->epoch == pm->epoch && now_ns < slot->expires_ns;
}

static const struct cache_slot *cache_lookup(const struct hp_pagemap *pm, __u32 tgid, __u64 vpn,
					     __u64 now_ns)
{
	const struct cache_slot *set = cache_set(pm, tgid, vpn);

	for (int way = 0; way < CACHE_WAYS; way++)
		if (set[way].tgid == tgid && set[way].vpn == vpn &&
		    slot_valid(pm, &set[way], now_ns))
			return &set[way];
	return NULL;
}

/*
 * Only present pages with a PFN are cached: a missing page is likely to be
 * faulted in next. The way taken: the same page's, else a free or stale
 * one, else the one inserted longest ago.
 */
static void cache_insert(struct hp_pagemap *pm, __u32 tgid, __u64 vpn, __u64 pfn, __u64 now_ns)
{
	struct cache_slot *set = cache_set(pm, tgid, vpn), *slot = &set[0];

	for (int way = 0; way < CACHE_WAYS; way++) {
		if (set[way].tgid == tgid && set[way].vpn == vpn) {
			slot = &set[way];
			break;
		}
		if (!slot_valid(pm, &set[way], now_ns)) {
			slot = &set[way];
			continue;
		}
		if (slot_valid(pm, slot, now_ns) && set[way].expires_ns < slot->expires_ns)
			slot = &set[way];
	}
	*slot = (struct cache_slot){
		.tgid = tgid,
		.epoch = pm->epoch,
		.vpn = vpn,
		.pfn = pfn,
		.expires_ns = now_ns + pm->opts.ttl_ns,
	};
}

/* What one pagemap entry says: 0 with the PFN, or -ENOENT / -EPERM. */
static int decode(struct hp_pagemap *pm, __u64 entry, __u64 *pfn)
{
	if (!(entry & HP_PM_PRESENT)) {
		pm->stats.not_present++;
		return -ENOENT;
	}
	*pfn = entry & HP_PM_PFN_MASK;
	if (!*pfn) {
		pm->stats.no_pfn++;
		return -EPERM;
	}
	pm->stats.resolved++;
	return 0;
}

/*
 * Read [first, last] of @tgid's pagemap into pm->entries; a lone address
 * (@first == @last) is widened to the aligned window around it, whose
 * present pages are cached: its neighbours are likely asked for next.
 * *@start is the first page read. Returns entries read (fewer than asked
 * past the end of the address space) or -errno.
 */
static int read_span(struct hp_pagemap *pm, __u32 tgid, __u64 first, __u64 last, __u64 now_ns,
		     __u64 *start)
{
	__u64 window = pm->opts.window_pages, begin = first, end = last + 1;
	bool widen = first == last && window > 1;
	int got;

	if (widen) {
		begin = first & ~(window - 1);
		end = begin + window;
	}
	if (end - begin > pm->opts.span_pages)
		end = begin + pm->opts.span_pages;
	*start = begin;
	pm->stats.reads++;
	got = pm->opts.read(pm->opts.read_ctx, tgid, begin, pm->entries, (size_t)(end - begin));
	if (got < 0) {
		if (got == -ESRCH)
			pm->stats.gone++;
		else
			pm->stats.errors++;
		return got;
	}
	pm->stats.entries_read += (__u64)got;
	/*
	 * Caching every entry of a long run would cost a cache miss each for
	 * pages nobody asked for; the batch caches the ones its events name.
	 */
	for (int i = 0; widen && i < got; i++) {
		__u64 entry = pm->entries[i];

		if ((entry & HP_PM_PRESENT) && (entry & HP_PM_PFN_MASK))
			cache_insert(pm, tgid, begin + (__u64)i, entry & HP_PM_PFN_MASK, now_ns);
	}
	return got;
}

static int node_of(struct hp_pagemap *pm, __u64 pfn)
{
	return pm->opts.pfn_node(pm->opts.node_ctx, pfn);
}

int hp_pagemap_resolve(struct hp_pagemap *pm, __u32 tgid, __u64 vaddr, __u64 now_ns, __u64 *pfn,
		       int *node)
{
	__u64 vpn = vaddr >> pm->page_shift, start;
	const struct cache_slot *slot;
	int got, ret;

	*pfn = HP_PFN_UNKNOWN;
	*node = HP_NODE_UNKNOWN;
	pm->stats.lookups++;
	slot = cache_lookup(pm, tgid, vpn, now_ns);
	if (slot) {
		pm->stats.hits++;
		pm->stats.resolved++;
		*pfn = slot->pfn;
		*node = node_of(pm, *pfn);
		return 0;
	}
	got = read_span(pm, tgid, vpn, vpn, now_ns, &start);
	if (got < 0)
		return got;
	if (vpn - start >= (__u64)got) {
		pm->stats.not_present++;
		return -ENOENT; /* past the end of the address space */
	}
	ret = decode(pm, pm->entries[vpn - start], pfn);
	if (ret) {
		*pfn = HP_PFN_UNKNOWN;
		return ret;
	}
	*node = node_of(pm, *pfn);
	return 0;
}

static int miss_cmp(const void *a, const void *b)
{
	const struct miss *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->vpn != y->vpn)
		return x->vpn < y->vpn ? -1 : 1;
	return 0;
}

static bool wants_pfn(const struct hp_event *ev)
{
	return ev->pfn == HP_PFN_UNKNOWN && ev->tgid && !(ev->flags & HP_EV_PHYS);
}

size_t hp_pagemap_resolve_events(struct hp_pagemap *pm, struct hp_event *events, size_t n,
				 __u64 now_ns)
{
	size_t nmiss = 0, done = 0;

	if (n > pm->misses_cap) {
		struct miss *misses = realloc(pm->misses, n * sizeof(*misses));

		if (!misses) {
			/* No room to batch: one address at a time still works. */
			for (size_t i = 0; i < n; i++) {
				__u64 pfn;
				int node;

				if (!wants_pfn(&events[i]) ||
				    hp_pagemap_resolve(pm, events[i].tgid, events[i].addr, now_ns,
						       &pfn, &node))
					continue;
				events[i].pfn = pfn;
				events[i].page_node = (__s16)node;
				done++;
			}
			return done;
		}
		pm->misses = misses;
		pm->misses_cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		struct hp_event *ev = &events[i];
		const struct cache_slot *slot;
		__u64 vpn = ev->addr >> pm->page_shift;

		if (!wants_pfn(ev)) {
			if (ev->pfn != HP_PFN_UNKNOWN && ev->page_node == HP_NODE_UNKNOWN &&
			    !(ev->flags & HP_EV_REGION))
				ev->page_node = (__s16)node_of(pm, ev->pfn);
			continue;
		}
		pm->stats.lookups++;
		slot = cache_lookup(pm, ev->tgid, vpn, now_ns);
		if (slot) {
			pm->stats.hits++;
			pm->stats.resolved++;
			ev->pfn = slot->pfn;
			ev->page_node = (__s16)node_of(pm, slot->pfn);
			done++;
			continue;
		}
		pm->misses[nmiss++] =
			(struct miss){ .tgid = ev->tgid, .index = (__u32)i, .vpn = vpn };
	}
	/* Events of one process in address order (a sequential toucher) need no sort. */
	for (size_t i = 1; i < nmiss; i++) {
		if (miss_cmp(&pm->misses[i - 1], &pm->misses[i]) > 0) {
			qsort(pm->misses, nmiss, sizeof(*pm->misses), miss_cmp);
			break;
		}
	}
	for (size_t r = 0; r < nmiss;) {
		size_t end = r + 1;
		__u64 start;
		int got;

		/* One read per run of a process's misses that fits in the span. */
		while (end < nmiss && pm->misses[end].tgid == pm->misses[r].tgid &&
		       pm->misses[end].vpn - pm->misses[r].vpn < pm->opts.span_pages)
			end++;
		got = read_span(pm, pm->misses[r].tgid, pm->misses[r].vpn, pm->misses[end - 1].vpn,
				now_ns, &start);
		for (size_t i = r; got >= 0 && i < end; i++) {
			struct hp_event *ev = &events[pm->misses[i].index];
			__u64 off = pm->misses[i].vpn - start, pfn;

			if (off >= (__u64)got) {
				pm->stats.not_present++;
				continue;
			}
			if (decode(pm, pm->entries[off], &pfn))
				continue;
			if (end - r > 1)
				cache_insert(pm, pm->misses[i].tgid, pm->misses[i].vpn, pfn,
					     now_ns);
			ev->pfn = pfn;
			ev->page_node = (__s16)node_of(pm, pfn);
			done++;
		}
		r = end;
	}
	return done;
}

void hp_pagemap_invalidate(struct hp_pagemap *pm, __u32 tgid)
{
	for (__u32 i = 0; i <= pm->cache_mask; i++)
		if (pm->cache[i].tgid == tgid)
			pm->cache[i].tgid = 0;
	for (int i = 0; i < FD_SLOTS; i++)
		if (pm->fds[i].tgid == tgid)
			close_fd_slot(&pm->fds[i]);
}

void hp_pagemap_flush(struct hp_pagemap *pm)
{
	/* O(1): entries of older epochs no longer match. */
	pm->epoch++;
	if (!pm->epoch) {
		memset(pm->cache, 0, ((size_t)pm->cache_mask + 1) * sizeof(*pm->cache));
		pm->epoch = 1;
	}
}

void hp_pagemap_read_stats(const struct hp_pagemap *pm, struct hp_pagemap_stats *stats)
{
	*stats = pm->stats;
}
