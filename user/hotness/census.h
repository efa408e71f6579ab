/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The census: which pages of the processes in scope sit on the nodes that
 * need room, and have been idle long enough to make it. It walks each
 * process's mappings (/proc/PID/maps) and page frames (/proc/PID/pagemap,
 * which shows them to CAP_SYS_ADMIN), a bounded number of pages per call,
 * resuming where the last call stopped, and judges each page by the heat
 * table (heat.h): a page that no source saw accessed since the daemon
 * started is the coldest of all. What it finds is checked against
 * /proc/kpageflags: pages the kernel would not demote either (mlocked,
 * unevictable, off the LRU) are left out, and a page of a transparent
 * huge page stands for the whole huge page, once.
 *
 * The walk knows (process, address) for every page it offers, so both
 * backends can use it: kmigrated by page frame, move_pages(2) by address.
 * The list of processes is read at the start of a walk through all of
 * them, and again at most every HP_CENSUS_RELIST_NS: listing /proc
 * allocates a dentry per process.
 */
#ifndef HOTPAGE_CENSUS_H
#define HOTPAGE_CENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct hp_heat;

/* A page that can make room. */
struct hp_victim {
	__u64 pfn; /* a huge page's head */
	__u64 vaddr; /* its address in tgid */
	__u32 tgid;
	__u32 npages; /* base pages: 1, or the huge page's */
	__u16 idle; /* windows since its last access (hp_heat_idle) */
	__s16 node;
};

struct hp_census_query {
	__u64 node_mask; /* nodes that need room (bit N: node N) */
	unsigned int min_idle; /* windows without an access */
	size_t budget_pages; /* pagemap entries this call may read */
	/* Whether the scope covers process @tgid (NULL: every process). */
	bool (*admit)(__u32 tgid, void *arg);
	/* Whether to pass over the page at @vaddr of @tgid (NULL: none): recently moved. */
	bool (*skip)(__u32 tgid, __u64 vaddr, void *arg);
	/*
	 * Whether to offer @tgid's pages on those nodes however recently they
	 * were used (NULL: none): its policy holds more of the fast tier than
	 * its share, and only its idle pages would shrink it no faster than
	 * they go idle. They come after the idle pages, least idle last.
	 */
	bool (*take_all)(__u32 tgid, void *arg);
	void *arg;
	/*
	 * Leave out pages mapped more than once (shared libraries, shared
	 * memory, pages shared since fork): move_pages(2) moves only what
	 * a process maps alone, and refuses the rest.
	 */
	bool exclusive_only;
};

struct hp_census_stats {
	__u64 calls;
	__u64 cycles; /* walks through every process in scope completed */
	__u64 processes; /* process visits */
	__u64 pages_read; /* pagemap entries read */
	__u64 found; /* idle pages on the nodes asked for (or any, take_all) */
	__u64 skipped_moved; /* ... passed over: moved recently */
	__u64 skipped_unevictable; /* ... left out: mlocked or unevictable */
	__u64 skipped_not_lru; /* ... left out: off the LRU (kernel, driver pages) */
	__u64 skipped_shared; /* ... left out: mapped more than once (exclusive_only) */
	__u64 victims; /* offered */
};

struct hp_census;

#define HP_CENSUS_RELIST_NS (10ULL * 1000000000ULL)

struct hp_census_opts {
	const char *proc_root; /* "/proc" (NULL), or a test tree */
	const char *kpageflags; /* "/proc/kpageflags" (NULL); "" for none */
	const char *kpagecount; /* "/proc/kpagecount" (NULL); "" for none */
	/*
	 * Victims a call is asked for at most: the memory for twice as many
	 * is allocated and faulted in at once (0: grown as needed). On a
	 * full fast tier every page the daemon faults in later comes from
	 * there, at its watermarks, and may wake kswapd.
	 */
	size_t max_victims;
};

/* 0 or -ENOMEM. */
int hp_census_new(const struct hp_census_opts *opts, struct hp_census **out);
void hp_census_free(struct hp_census *census);

/*
 * Walk on for up to q->budget_pages pages and write at most @max victims
 * into @out, coldest first (each page frame once). Returns how many.
 */
size_t hp_census_run(struct hp_census *census, const struct hp_heat *heat,
		     const struct hp_census_query *q, struct hp_victim *out, size_t max);

/*
 * The huge page @pfn belongs to, from /proc/kpageflags: true, with its
 * head and size, when @pfn is part of a transparent huge page; false for
 * a base page (or when the flags cannot be read).
 */
bool hp_census_huge_page(const struct hp_census *census, __u64 pfn, __u64 *head, __u32 *npages);

/* Start the next call from the first process again. */
void hp_census_rewind(struct hp_census *census);

void hp_census_get_stats(const struct hp_census *census, struct hp_census_stats *stats);

#endif /* HOTPAGE_CENSUS_H */
