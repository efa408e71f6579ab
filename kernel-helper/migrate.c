// SPDX-License-Identifier: GPL-2.0
/*
 * The two migration routes, run by the threads kmigrated<nid> on batches
 * of requests taken off their queue, and the promotion rate limit.
 *
 * pfn route, like the kernel's NUMA-balancing promotion and the proposed
 * in-kernel kmigrated: take a reference on each folio, check it again
 * (it may have been freed, reused, split or moved since it was queued),
 * isolate it from its LRU (NR_ISOLATED_* up), then hand each target's list
 * to migrate_pages() in MIGRATE_ASYNC mode with reason MR_NUMA_MISPLACED
 * (MR_SYSCALL for demotion requests), which unmaps the whole batch under
 * one TLB flush (6.3+); what it leaves on the list goes back with
 * putback_movable_pages() (NR_ISOLATED_* down; migrate_pages() brings it
 * down for what it moved or put back itself).
 *
 * vma route, exported API only: migrate_vma_setup() collects and unmaps
 * the pages of a run of addresses in one anonymous vma, the module
 * allocates and fills the new pages (the caller copies, on 6.1 and 6.12
 * alike), migrate_vma_pages() switches the mappings over and
 * migrate_vma_finalize() restores what did not move.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/memory_hotplug.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/mmap_lock.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/vmstat.h>

#include "internal.h"
#include "trace.h"

/* -------------------------------------------------------- rate limit */

/*
 * A token bucket in bytes, shared by all threads: filled at
 * rate_limit_mbps, holding at most 100 ms worth; a charge may take it
 * below zero, and the thread then waits until it is back at zero.
 */
static DEFINE_SPINLOCK(kmig_rate_lock);
static s64 kmig_rate_tokens;
static u64 kmig_rate_last;

void kmig_rate_reset(void)
{
	spin_lock(&kmig_rate_lock);
	kmig_rate_tokens = 0;
	kmig_rate_last = ktime_get_ns();
	spin_unlock(&kmig_rate_lock);
}

/* Takes @bytes from the bucket; returns how long to wait, in ns. */
u64 kmig_rate_charge(u64 bytes)
{
	u64 mbps = READ_ONCE(kmig_rate_limit_mbps);
	u64 rate, now, elapsed_us, wait = 0;
	s64 burst;

	if (!mbps)
		return 0;
	rate = mbps << 20; /* bytes per second, at most 2^40 */
	burst = rate / 10;
	now = ktime_get_ns();
	spin_lock(&kmig_rate_lock);
	elapsed_us = min_t(u64, now - kmig_rate_last, NSEC_PER_SEC) / NSEC_PER_USEC;
	kmig_rate_last = now;
	kmig_rate_tokens = min_t(s64, kmig_rate_tokens + div_u64(elapsed_us * rate, USEC_PER_SEC),
				 burst);
	kmig_rate_tokens -= bytes;
	if (kmig_rate_tokens < 0)
		wait = div64_u64((u64)-kmig_rate_tokens * USEC_PER_SEC, rate) * NSEC_PER_USEC;
	spin_unlock(&kmig_rate_lock);
	return wait;
}

/* Waits @ns for the rate limit; false when the thread is told to stop. */
static bool kmig_rate_wait(struct kmig_node *kn, u64 ns)
{
	u64 end = ktime_get_ns() + ns;

	if (!ns)
		return true;
	kmig_count(kn, KMIGRATED_STAT_THROTTLED, 1);
	while (!kthread_should_stop()) {
		u64 now = ktime_get_ns();

		if (now >= end)
			return true;
		schedule_timeout_interruptible(max_t(long, nsecs_to_jiffies(end - now), 1));
	}
	return false;
}

/* --------------------------------------------------------- pfn route */

static struct folio *kmig_alloc_folio(struct folio *src, int nid)
{
	unsigned int order = folio_order(src);
	gfp_t gfp = __GFP_THISNODE;

	/* As the kernel's alloc_misplaced_dst_folio(): no reclaim for promotion. */
	if (order) {
		gfp |= GFP_TRANSHUGE_LIGHT;
	} else {
		gfp |= GFP_HIGHUSER_MOVABLE | __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN;
		gfp &= ~__GFP_RECLAIM;
	}
	return __folio_alloc_node(gfp, order, nid);
}

#ifdef KMIG_MIGRATE_FOLIO_CALLBACKS
static struct folio *kmig_alloc_dst(struct folio *src, unsigned long nid)
{
	return kmig_alloc_folio(src, nid);
}
#else
static struct page *kmig_alloc_dst(struct page *src, unsigned long nid)
{
	struct folio *dst = kmig_alloc_folio(page_folio(src), nid);

	return dst ? &dst->page : NULL;
}
#endif

static bool kmig_isolate(struct folio *folio)
{
#ifdef KMIG_ISOLATE_RETURNS_BOOL
	return kmig_sym.folio_isolate_lru(folio);
#else
	return kmig_sym.folio_isolate_lru(folio) == 0;
#endif
}

/*
 * Isolates the folio of @pfn for migration to @target and adds it to
 * @base, or to @large when it is a large folio. Returns its number of
 * pages, 0 when it is not taken (counted).
 */
static unsigned int kmig_take_pfn(struct kmig_node *kn, u64 pfn, int target, bool demote,
				  struct list_head *base, struct list_head *large)
{
	struct folio *folio;
	struct page *page;
	unsigned int nr;

	page = pfn_to_online_page(pfn);
	if (!page)
		goto gone;
	folio = page_folio(page);
	if (folio_is_zone_device(folio) || !folio_try_get(folio))
		goto gone;
	/* Split or freed and reused between page_folio() and the reference? */
	if (unlikely(page_folio(page) != folio)) {
		folio_put(folio);
		goto gone;
	}
	if (folio_nid(folio) == target) {
		folio_put(folio);
		kmig_count(kn, KMIGRATED_STAT_FAILED_SAME_NODE, 1);
		return 0;
	}
	if (folio_test_large(folio) &&
	    (!READ_ONCE(kmig_large_folios) || folio_test_hugetlb(folio))) {
		folio_put(folio);
		kmig_count(kn, KMIGRATED_STAT_FAILED_LARGE, 1);
		return 0;
	}
	if (demote && (folio_test_unevictable(folio) || folio_test_mlocked(folio))) {
		folio_put(folio);
		kmig_count(kn, KMIGRATED_STAT_FAILED_UNEVICTABLE, 1);
		return 0;
	}
	if (!folio_test_lru(folio) || !kmig_isolate(folio)) {
		folio_put(folio);
		kmig_count(kn, KMIGRATED_STAT_FAILED_ISOLATE, 1);
		return 0;
	}
	nr = folio_nr_pages(folio);
	node_stat_mod_folio(folio, NR_ISOLATED_ANON + folio_is_file_lru(folio), nr);
	list_add_tail(&folio->lru, nr > 1 ? large : base);
	/* The isolation holds its own reference. */
	folio_put(folio);
	return nr;
gone:
	kmig_count(kn, KMIGRATED_STAT_FAILED_GONE, 1);
	return 0;
}

/* The time for the batch tracepoint, 0 when nobody listens. */
static u64 kmig_batch_clock(u64 t0)
{
	return t0 ? ktime_get_ns() : 0;
}

/*
 * Migrates @list (@nr requests, @nr_pages pages); @t0: when isolation
 * began, 0 when the batch is not traced.
 */
static void kmig_migrate_list(struct kmig_node *kn, struct list_head *list, unsigned int nr,
			      unsigned int nr_pages, int target, bool demote, u64 t0)
{
	unsigned int succeeded = 0;
	u64 t1, t2, t3;

	if (list_empty(list))
		return;
	t1 = kmig_batch_clock(t0);
	/*
	 * Not MR_DEMOTION for demotions: migrate_pages() leaves NR_ISOLATED_*
	 * alone for that reason (reclaim, its caller, counts isolation its own
	 * way), and this module counted the isolation itself: the counter
	 * would grow with every page demoted until compaction and reclaim
	 * throttle forever on "too many isolated". MR_SYSCALL is what
	 * move_pages(2), the other way userspace moves pages, is counted as.
	 */
	kmig_sym.migrate_pages(list, kmig_alloc_dst, NULL, target, MIGRATE_ASYNC,
			       demote ? MR_SYSCALL : MR_NUMA_MISPLACED, &succeeded);
	t2 = kmig_batch_clock(t0);
	if (!list_empty(list))
		kmig_sym.putback_movable_pages(list);
	/*
	 * The new folios wait in this CPU's LRU batch until it fills: off
	 * their LRU, reclaim cannot age them and a request to move them on
	 * is refused, for as long as this CPU adds nothing else.
	 */
	if (succeeded && kmig_sym.lru_add_drain)
		kmig_sym.lru_add_drain();
	t3 = kmig_batch_clock(t0);
	if (t0)
		trace_kmigrated_migrate_batch(kn->nid, target, nr, nr_pages, succeeded, t1 - t0,
					      t2 - t1, t3 - t2);
	kmig_count(kn, KMIGRATED_STAT_BATCHES, 1);
	kmig_count(kn, KMIGRATED_STAT_MIGRATED, succeeded);
	if (demote)
		kmig_count(kn, KMIGRATED_STAT_DEMOTED, succeeded);
	kmig_count(kn, KMIGRATED_STAT_BYTES, (u64)succeeded << PAGE_SHIFT);
	if (nr_pages > succeeded)
		kmig_count(kn, KMIGRATED_STAT_FAILED_MIGRATE, nr_pages - succeeded);
}

/**
 * kmig_migrate_pfns - migrate a batch of pfn-route requests
 * @kn: the node whose thread runs this (the pages' node when queued)
 * @reqs: the requests; reordered
 * @nr: how many
 *
 * One migrate_pages() call per target node and direction in the batch
 * for base pages, one for large folios.
 */
void kmig_migrate_pfns(struct kmig_node *kn, struct kmigrated_req *reqs, unsigned int nr)
{
	unsigned int start = 0, end, i, nr_pages, nr_large, large_pages, taken;
	LIST_HEAD(large);
	LIST_HEAD(base);
	bool demote;
	int target;
	u64 t0;

	while (start < nr) {
		/* Gather reqs[start, end): the requests for one target and direction. */
		target = reqs[start].node;
		demote = reqs[start].flags & KMIGRATED_REQ_DEMOTE;
		for (i = end = start + 1; i < nr; i++) {
			if (reqs[i].node == target &&
			    !(reqs[i].flags & KMIGRATED_REQ_DEMOTE) == !demote) {
				swap(reqs[i], reqs[end]);
				end++;
			}
		}
		if (!kmig_rate_wait(kn, kmig_rate_charge((u64)(end - start) << PAGE_SHIFT))) {
			kmig_count(kn, KMIGRATED_STAT_DROPPED, nr - start);
			return;
		}
		nr_pages = 0;
		t0 = trace_kmigrated_migrate_batch_enabled() ? ktime_get_ns() : 0;
		nr_large = 0;
		large_pages = 0;
		for (i = start; i < end; i++) {
			taken = kmig_take_pfn(kn, reqs[i].pfn, target, demote, &base, &large);
			nr_pages += taken;
			if (taken > 1) {
				nr_large++;
				large_pages += taken;
			}
		}
		/*
		 * Large folios cost more than the one page charged for each:
		 * the rest is waited for before they move, or a batch of huge
		 * pages would pass the limit by up to 511 pages a request.
		 */
		if (nr_pages > end - start &&
		    !kmig_rate_wait(kn, kmig_rate_charge((u64)(nr_pages - (end - start))
							 << PAGE_SHIFT))) {
			kmig_sym.putback_movable_pages(&base);
			kmig_sym.putback_movable_pages(&large);
			kmig_count(kn, KMIGRATED_STAT_DROPPED, nr - start);
			return;
		}
		/*
		 * Base pages first, large folios on their own: migrate_pages()
		 * gives up on the rest of its list at the first -ENOMEM, and a
		 * full node without a free huge block fails every large folio
		 * that is not split (promotion allocates without compaction).
		 */
		kmig_migrate_list(kn, &base, end - start - nr_large, nr_pages - large_pages, target,
				  demote, t0);
		kmig_migrate_list(kn, &large, nr_large, large_pages, target, demote,
				  kmig_batch_clock(t0));
		start = end;
	}
}

/* --------------------------------------------------------- vma route */

/* The mm of process @tgid, referenced (mmput), or NULL. */
struct mm_struct *kmig_get_mm(u32 tgid)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;

	pid = find_get_pid(tgid);
	if (!pid)
		return NULL;
	task = get_pid_task(pid, PIDTYPE_TGID);
	put_pid(pid);
	if (!task)
		return NULL;
	mm = get_task_mm(task);
	put_task_struct(task);
	return mm;
}

/*
 * Migrates [start, start + npages pages) of @mm, all in one vma, to
 * @target. Returns the pages migrated; failures are counted.
 */
static unsigned int kmig_migrate_run(struct kmig_node *kn, struct vm_area_struct *vma,
				     unsigned long start, unsigned int npages, int target,
				     bool demote)
{
	struct migrate_vma args = {
		.vma = vma,
		.start = start,
		.end = start + ((unsigned long)npages << PAGE_SHIFT),
		.src = kn->src,
		.dst = kn->dst,
		.flags = MIGRATE_VMA_SELECT_SYSTEM,
	};
	unsigned int i, migrated = 0, filled = 0;

	memset(kn->src, 0, npages * sizeof(*kn->src));
	memset(kn->dst, 0, npages * sizeof(*kn->dst));
	if (migrate_vma_setup(&args)) {
		kmig_count(kn, KMIGRATED_STAT_FAILED_VMA, npages);
		return 0;
	}
	for (i = 0; i < npages; i++) {
		struct page *spage = migrate_pfn_to_page(args.src[i]);
		struct folio *src, *dst;

		if (!(args.src[i] & MIGRATE_PFN_MIGRATE) || !spage) {
			/* Not collected (busy, pinned, not present): nothing to move. */
			kmig_count(kn, KMIGRATED_STAT_FAILED_VMA, 1);
			continue;
		}
		src = page_folio(spage);
		if (folio_nid(src) == target) {
			kmig_count(kn, KMIGRATED_STAT_FAILED_SAME_NODE, 1);
			continue;
		}
		if (folio_test_large(src)) {
			kmig_count(kn, KMIGRATED_STAT_FAILED_LARGE, 1);
			continue;
		}
		if (demote && (folio_test_unevictable(src) || folio_test_mlocked(src))) {
			kmig_count(kn, KMIGRATED_STAT_FAILED_UNEVICTABLE, 1);
			continue;
		}
		dst = __folio_alloc_node(GFP_HIGHUSER_MOVABLE | __GFP_THISNODE | __GFP_NOWARN |
					 __GFP_NORETRY, 0, target);
		if (!dst) {
			kmig_count(kn, KMIGRATED_STAT_FAILED_NOMEM, 1);
			continue;
		}
		/*
		 * migrate_vma_pages() moves mappings, not contents: copy here.
		 * folio_copy() is not exported on 6.1; both folios are one page.
		 */
		folio_lock(dst);
		copy_highpage(folio_page(dst, 0), spage);
		args.dst[i] = migrate_pfn(folio_pfn(dst));
		if (args.src[i] & MIGRATE_PFN_WRITE)
			args.dst[i] |= MIGRATE_PFN_WRITE;
		filled++;
	}
	if (filled)
		migrate_vma_pages(&args);
	for (i = 0; i < npages; i++) {
		if (!args.dst[i])
			continue;
		if (args.src[i] & MIGRATE_PFN_MIGRATE)
			migrated++;
		else
			kmig_count(kn, KMIGRATED_STAT_FAILED_MIGRATE, 1);
	}
	/* Restores what did not move, frees what was not used. */
	migrate_vma_finalize(&args);
	if (filled)
		kmig_count(kn, KMIGRATED_STAT_BATCHES, 1);
	return migrated;
}

/*
 * Migrates the run of @npages contiguous pages at @start in process @tgid.
 */
static void kmig_migrate_range(struct kmig_node *kn, u32 tgid, unsigned long start,
			       unsigned int npages, int target, bool demote)
{
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	unsigned int n, migrated;
	unsigned long end = start + ((unsigned long)npages << PAGE_SHIFT);

	mm = kmig_get_mm(tgid);
	if (!mm) {
		kmig_count(kn, KMIGRATED_STAT_FAILED_VMA, npages);
		return;
	}
	mmap_read_lock(mm);
	while (start < end) {
		vma = vma_lookup(mm, start);
		if (!vma) {
			kmig_count(kn, KMIGRATED_STAT_FAILED_VMA, 1);
			start += PAGE_SIZE;
			continue;
		}
		n = (min(end, vma->vm_end) - start) >> PAGE_SHIFT;
		if (!vma_is_anonymous(vma)) {
			kmig_count(kn, KMIGRATED_STAT_FAILED_VMA, n);
		} else {
			migrated = kmig_migrate_run(kn, vma, start, n, target, demote);
			kmig_count(kn, KMIGRATED_STAT_MIGRATED, migrated);
			kmig_count(kn, KMIGRATED_STAT_MIGRATED_VMA, migrated);
			if (demote)
				kmig_count(kn, KMIGRATED_STAT_DEMOTED, migrated);
			kmig_count(kn, KMIGRATED_STAT_BYTES, (u64)migrated << PAGE_SHIFT);
		}
		start += (unsigned long)n << PAGE_SHIFT;
	}
	mmap_read_unlock(mm);
	mmput(mm);
}

/**
 * kmig_migrate_vaddrs - migrate a batch of vma-route requests
 * @kn: the node whose thread runs this (the requests' target node)
 * @reqs: the requests
 * @nr: how many
 *
 * Requests for consecutive pages of one process and target (the order in
 * which a daemon sorting its candidates sends them) go in one
 * migrate_vma_setup() call, up to KMIG_VMA_RUN pages.
 */
void kmig_migrate_vaddrs(struct kmig_node *kn, struct kmigrated_req *reqs, unsigned int nr)
{
	unsigned int i = 0, n;

	while (i < nr) {
		for (n = 1; i + n < nr && n < KMIG_VMA_RUN; n++) {
			if (reqs[i + n].tgid != reqs[i].tgid || reqs[i + n].node != reqs[i].node ||
			    reqs[i + n].flags != reqs[i].flags ||
			    reqs[i + n].vaddr != reqs[i].vaddr + ((u64)n << PAGE_SHIFT))
				break;
		}
		if (!kmig_rate_wait(kn, kmig_rate_charge((u64)n << PAGE_SHIFT))) {
			kmig_count(kn, KMIGRATED_STAT_DROPPED, nr - i);
			return;
		}
		kmig_migrate_range(kn, reqs[i].tgid, reqs[i].vaddr, n, reqs[i].node,
				   reqs[i].flags & KMIGRATED_REQ_DEMOTE);
		i += n;
	}
}
