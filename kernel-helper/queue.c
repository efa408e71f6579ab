// SPDX-License-Identifier: GPL-2.0
/*
 * Requests in: the kfuncs check each request and queue it on a node, and
 * the node's thread kmigrated<nid> takes batches off the queue and hands
 * them to migrate.c.
 *
 * The kfuncs may run in any context a tracing program runs in, NMI
 * included, on behalf of a page-fault path or anything else. So they
 * neither sleep, allocate nor touch any lock but their node's queue lock,
 * which, with interrupts off, they only try to take (KMIGRATED_E_BUSY when
 * that fails for a while; see kmig_trylock()); they take no page
 * reference (dropping one could free the page, which takes zone and LRU
 * locks); and they wake the thread through an irq_work, since a wake-up
 * takes scheduler locks. What they read of a
 * page (flags, node) may be stale by the time the thread looks: the
 * thread checks again under a reference.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/cpumask.h>
#include <linux/hash.h>
#include <linux/kthread.h>
#include <linux/log2.h>
#include <linux/memory_hotplug.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "internal.h"

struct kmig_node **kmig_nodes;
atomic64_t kmig_stats[KMIGRATED_NR_STATS];

/* Attempts at a contended queue lock before a kfunc gives up. */
#define KMIG_LOCK_TRIES 4096
/* Requests moved per queue lock hold by the thread. */
#define KMIG_DEQUEUE_CHUNK 64

#define KMIG_KEY_VADDR BIT_ULL(63)

/* ------------------------------------------------------- dedup set */

static inline u32 kmig_hslot(const struct kmig_node *kn, u64 k0, u64 k1)
{
	return hash_64(k0 ^ (k1 * GOLDEN_RATIO_64), kn->hbits);
}

static inline void kmig_req_key(const struct kmigrated_req *r, u64 *k0, u64 *k1)
{
	if (r->flags & KMIGRATED_REQ_VADDR) {
		*k0 = KMIG_KEY_VADDR | r->tgid;
		*k1 = r->vaddr >> PAGE_SHIFT;
	} else {
		*k0 = r->pfn + 1; /* never 0: pfns are below 2^52 */
		*k1 = 0;
	}
}

/* Adds a key; false if it is there already. The set never fills up. */
static inline bool kmig_hash_add(struct kmig_node *kn, u64 k0, u64 k1)
{
	u32 mask = (1U << kn->hbits) - 1;
	u32 i = kmig_hslot(kn, k0, k1);

	while (kn->hash[i].k0) {
		if (kn->hash[i].k0 == k0 && kn->hash[i].k1 == k1)
			return false;
		i = (i + 1) & mask;
	}
	kn->hash[i].k0 = k0;
	kn->hash[i].k1 = k1;
	return true;
}

/* Removes a key (linear probing, backward-shift deletion). */
static inline void kmig_hash_del(struct kmig_node *kn, u64 k0, u64 k1)
{
	u32 mask = (1U << kn->hbits) - 1;
	u32 i = kmig_hslot(kn, k0, k1), j, home;

	while (kn->hash[i].k0 != k0 || kn->hash[i].k1 != k1) {
		if (WARN_ON_ONCE(!kn->hash[i].k0))
			return;
		i = (i + 1) & mask;
	}
	for (j = i;;) {
		j = (j + 1) & mask;
		if (!kn->hash[j].k0)
			break;
		home = kmig_hslot(kn, kn->hash[j].k0, kn->hash[j].k1);
		/* Move j's entry into the hole at i unless its home is in (i, j]. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			kn->hash[i] = kn->hash[j];
			i = j;
		}
	}
	kn->hash[i].k0 = 0;
	kn->hash[i].k1 = 0;
}

/* ------------------------------------------------------------ queue */

u32 kmig_queue_len(struct kmig_node *kn)
{
	return READ_ONCE(kn->tail) - READ_ONCE(kn->head);
}

/*
 * Requests not done yet: queued, or taken by the thread and still being
 * migrated. What userspace waits on before it looks where its pages went.
 */
u32 kmig_pending(struct kmig_node *kn)
{
	return kmig_queue_len(kn) + READ_ONCE(kn->in_flight);
}

/*
 * The queue lock is only ever held with interrupts off. So a caller that
 * runs with interrupts on cannot have interrupted a holder on its own CPU
 * and may wait for it like any spinlock user; one with interrupts off (a
 * tracing program in an interrupt, under another irqsave lock, or inside
 * the holder's own critical section, NMI included) only tries, a bounded
 * number of times.
 */
static bool kmig_trylock(struct kmig_node *kn, unsigned long *flags)
{
	unsigned int tries = 0;

	if (!irqs_disabled() && !in_nmi()) {
		spin_lock_irqsave(&kn->lock, *flags);
		return true;
	}
	local_irq_save(*flags);
	while (!spin_trylock(&kn->lock)) {
		if (++tries >= KMIG_LOCK_TRIES) {
			local_irq_restore(*flags);
			return false;
		}
		cpu_relax();
	}
	return true;
}

/* Queues a checked request on @kn. Never sleeps, never spins unbounded. */
static enum kmigrated_result kmig_queue(struct kmig_node *kn, const struct kmigrated_req *r)
{
	enum kmigrated_result res = KMIGRATED_QUEUED;
	unsigned long flags;
	bool was_empty;
	u64 k0, k1;

	kmig_req_key(r, &k0, &k1);
	if (!kmig_trylock(kn, &flags))
		return KMIGRATED_E_BUSY;
	was_empty = kn->tail == kn->head;
	if (kn->tail - kn->head > kn->mask) {
		res = KMIGRATED_E_QUEUE_FULL;
	} else if (!kmig_hash_add(kn, k0, k1)) {
		res = KMIGRATED_E_DUPLICATE;
	} else {
		kn->ring[kn->tail & kn->mask] = *r;
		/* Pairs with the thread's READ_ONCE in kmig_queue_len(). */
		smp_store_release(&kn->tail, kn->tail + 1);
	}
	spin_unlock_irqrestore(&kn->lock, flags);
	if (res == KMIGRATED_QUEUED && was_empty)
		irq_work_queue(&kn->wake);
	return res;
}

static void kmig_wake_work(struct irq_work *work)
{
	struct kmig_node *kn = container_of(work, struct kmig_node, wake);

	wake_up(&kn->wait);
}

/*
 * Called with node @nid's queue lock held, after @taken requests came off
 * it: an attach point for tracing programs. A program here that calls a
 * request kfunc for the same node is the re-entry the lock must refuse
 * (KMIGRATED_E_BUSY) rather than deadlock on; tests attach here rather
 * than to a spinlock function that every CPU of the kernel runs, whose
 * live patching is what they would be testing instead.
 */
noinline void kmig_dequeue_locked(int nid, unsigned int taken)
{
	/* Keeps the empty call, and so the attach point, in the object. */
	asm volatile("" : : "r"(nid), "r"(taken) : "memory");
}

/* Takes up to @max requests off the queue into @out. */
static unsigned int kmig_dequeue(struct kmig_node *kn, struct kmigrated_req *out, unsigned int max)
{
	unsigned int n = 0, chunk, i;
	unsigned long flags;
	u64 k0, k1;

	while (n < max) {
		spin_lock_irqsave(&kn->lock, flags);
		chunk = min3(max - n, (unsigned int)KMIG_DEQUEUE_CHUNK, kn->tail - kn->head);
		for (i = 0; i < chunk; i++) {
			out[n] = kn->ring[kn->head & kn->mask];
			kmig_req_key(&out[n], &k0, &k1);
			kmig_hash_del(kn, k0, k1);
			kn->head++;
			n++;
		}
		kmig_dequeue_locked(kn->nid, chunk);
		spin_unlock_irqrestore(&kn->lock, flags);
		if (!chunk)
			break;
	}
	return n;
}

/* ---------------------------------------------------------- checks */

static bool kmig_node_ok(u32 node)
{
	return node < nr_node_ids && node_online(node) && node_state(node, N_MEMORY) &&
	       kmig_nodes[node];
}

/*
 * pfn_to_online_page() returns no ZONE_DEVICE page; a device pagemap
 * covering @pfn tells such a page from a hole. get_dev_pagemap() is what
 * pfn_to_online_page() itself uses for this: RCU and a percpu reference.
 */
static bool kmig_pfn_is_zone_device(u64 pfn)
{
	struct dev_pagemap *pgmap;

	if (!IS_ENABLED(CONFIG_ZONE_DEVICE) || !pfn_valid(pfn))
		return false;
	pgmap = kmig_get_dev_pagemap(pfn);
	if (!pgmap)
		return false;
	put_dev_pagemap(pgmap);
	return true;
}

/* Mlocked or otherwise unevictable: what reclaim's demotion leaves alone. */
static bool kmig_folio_pinned_in_ram(struct folio *folio)
{
	return folio_test_unevictable(folio) || folio_test_mlocked(folio);
}

/*
 * Checks one request and queues it. @r is the caller's copy; it is
 * normalised (address rounded down to its page) before it is queued.
 */
static enum kmigrated_result kmig_submit(struct kmigrated_req *r)
{
	struct kmig_node *kn = NULL;
	enum kmigrated_result res;
	struct folio *folio;
	struct page *page;

	if (r->flags & ~KMIGRATED_REQ_FLAGS) {
		res = KMIGRATED_E_INVALID;
		goto out;
	}
	if (r->flags & KMIGRATED_REQ_VADDR) {
		if (!r->tgid || r->tgid > PID_MAX_LIMIT || r->vaddr < PAGE_SIZE ||
		    r->vaddr >= TASK_SIZE_MAX) {
			res = KMIGRATED_E_INVALID;
			goto out;
		}
		if (!READ_ONCE(kmig_route_vma)) {
			res = KMIGRATED_E_ROUTE;
			goto out;
		}
		if (!kmig_node_ok(r->node)) {
			res = KMIGRATED_E_NODE;
			goto out;
		}
		r->vaddr &= PAGE_MASK;
		kn = kmig_nodes[r->node];
	} else {
		if (r->tgid) {
			res = KMIGRATED_E_INVALID;
			goto out;
		}
		if (!READ_ONCE(kmig_route_pfn)) {
			res = KMIGRATED_E_ROUTE;
			goto out;
		}
		/* Valid, present and online memory (this also rules out holes). */
		page = pfn_to_online_page(r->pfn);
		if (!page) {
			if (kmig_pfn_is_zone_device(r->pfn))
				res = KMIGRATED_E_ZONE_DEVICE;
			else
				res = KMIGRATED_E_PFN;
			goto out;
		}
		/* Racy without a reference; the thread checks again under one. */
		folio = page_folio(page);
		if (folio_is_zone_device(folio)) {
			res = KMIGRATED_E_ZONE_DEVICE;
			goto out;
		}
		kn = kmig_nodes[folio_nid(folio)];
		if (!kmig_node_ok(r->node)) {
			res = KMIGRATED_E_NODE;
			goto out;
		}
		if (folio_nid(folio) == r->node) {
			res = KMIGRATED_E_SAME_NODE;
			goto out;
		}
		if (!folio_test_lru(folio)) {
			res = KMIGRATED_E_NOT_LRU;
			goto out;
		}
		/* The kernel's own demotion (reclaim) never takes these either. */
		if ((r->flags & KMIGRATED_REQ_DEMOTE) && kmig_folio_pinned_in_ram(folio)) {
			res = KMIGRATED_E_UNEVICTABLE;
			goto out;
		}
		if (!kn) { /* memory onlined on a node after the module loaded */
			res = KMIGRATED_E_NODE;
			goto out;
		}
	}
	res = kmig_queue(kn, r);
out:
	kmig_count(kn, KMIGRATED_STAT_REQUESTS, 1);
	if (res == KMIGRATED_QUEUED)
		kmig_count(kn, KMIGRATED_STAT_ACCEPTED, 1);
	else
		kmig_count(kn, KMIGRATED_STAT_REFUSED_INVALID + res - KMIGRATED_E_INVALID, 1);
	return res;
}

/* ---------------------------------------------------------- kfuncs */

__bpf_kfunc_start_defs();

/**
 * kmigrated_ping() - Check that a BPF program reaches this module.
 * @cookie: Any value chosen by the caller.
 *
 * Lets a caller tell that its kfunc calls reach this module.
 *
 * Context: Any context a syscall or tracing program runs in. Does not sleep.
 * Return: @cookie ^ KMIGRATED_PING_MAGIC.
 */
__bpf_kfunc u64 kmigrated_ping(u64 cookie)
{
	kmig_count(NULL, KMIGRATED_STAT_KFUNC_CALLS, 1);
	return cookie ^ KMIGRATED_PING_MAGIC;
}

/**
 * kmigrated_enqueue() - Ask for the folio of a page frame to be moved.
 * @pfn: Page frame number of any page of the folio.
 * @node: Target node.
 *
 * Checks the request without a reference on the page (online memory, not
 * ZONE_DEVICE, on an LRU, on another node than @node) and queues it for
 * the thread of the page's node, which checks it again under a reference
 * and migrates it later (pfn route). The result says whether the request
 * was queued; the counters say what became of it.
 *
 * Context: Any context a syscall or tracing program runs in, NMI included.
 * Does not sleep; waits for the node's queue lock only where it cannot have
 * interrupted its holder, and otherwise gives up with KMIGRATED_E_BUSY.
 * Return: KMIGRATED_QUEUED (0), or the enum kmigrated_result refusal.
 */
__bpf_kfunc int kmigrated_enqueue(u64 pfn, u32 node)
{
	struct kmigrated_req r = { .pfn = pfn, .node = node, .flags = 0 };

	kmig_count(NULL, KMIGRATED_STAT_KFUNC_CALLS, 1);
	if (node > U16_MAX)
		r.node = U16_MAX; /* out of range either way */
	return kmig_submit(&r);
}

/**
 * kmigrated_enqueue_vaddr() - Ask for a process's page to be moved.
 * @tgid: Process.
 * @vaddr: User address, any address in the page.
 * @node: Target node.
 *
 * Checks @tgid, @vaddr and @node and queues the request for the thread of
 * @node, which migrates it later by the vma route (migrate_vma_*(),
 * anonymous memory only); the page itself is looked at only then.
 *
 * Context: Any context a syscall or tracing program runs in, NMI included.
 * Does not sleep; waits for the node's queue lock only where it cannot have
 * interrupted its holder, and otherwise gives up with KMIGRATED_E_BUSY.
 * Return: KMIGRATED_QUEUED (0), or the enum kmigrated_result refusal.
 */
__bpf_kfunc int kmigrated_enqueue_vaddr(u32 tgid, u64 vaddr, u32 node)
{
	struct kmigrated_req r = {
		.vaddr = vaddr, .tgid = tgid, .node = node, .flags = KMIGRATED_REQ_VADDR
	};

	kmig_count(NULL, KMIGRATED_STAT_KFUNC_CALLS, 1);
	if (node > U16_MAX)
		r.node = U16_MAX;
	return kmig_submit(&r);
}

/**
 * kmigrated_enqueue_batch() - Check and queue an array of requests.
 * @reqs: The requests, pfn or vaddr ones; each one's result field is written.
 * @reqs__sz: Size of @reqs in bytes (the __sz suffix tells the verifier).
 *
 * Each request, pfn or vaddr (KMIGRATED_REQ_VADDR), promotion or demotion
 * (KMIGRATED_REQ_DEMOTE), is checked and queued as by kmigrated_enqueue()
 * or kmigrated_enqueue_vaddr(), and its enum kmigrated_result written back.
 *
 * Context: Any context a syscall or tracing program runs in, NMI included.
 * Does not sleep; waits for the node's queue lock only where it cannot have
 * interrupted its holder, and otherwise gives up with KMIGRATED_E_BUSY.
 * Return: How many were queued, or -EINVAL when @reqs__sz is not a
 * multiple of the request size.
 */
__bpf_kfunc int kmigrated_enqueue_batch(struct kmigrated_req *reqs, u32 reqs__sz)
{
	u32 i, nr;
	int queued = 0;

	kmig_count(NULL, KMIGRATED_STAT_KFUNC_CALLS, 1);
	if (reqs__sz % sizeof(*reqs) || (reqs__sz && !reqs))
		return -EINVAL;
	nr = reqs__sz / sizeof(*reqs);
	for (i = 0; i < nr; i++) {
		struct kmigrated_req r = reqs[i];

		r.result = kmig_submit(&r);
		WRITE_ONCE(reqs[i].result, r.result);
		queued += r.result == KMIGRATED_QUEUED;
	}
	return queued;
}

/**
 * kmigrated_read_stats() - Copy the module's counters.
 * @stats: Where to, in enum kmigrated_stat order.
 * @stats__sz: Size of @stats in bytes; a shorter array gets the first ones.
 *
 * The totals of all nodes, as in /sys/kernel/mm/kmigrated/; each counter
 * is read on its own, so they need not add up with each other exactly.
 *
 * Context: Any context a syscall or tracing program runs in. Does not sleep.
 * Return: How many counters were copied.
 */
__bpf_kfunc int kmigrated_read_stats(u64 *stats, u32 stats__sz)
{
	u32 i, nr = min_t(u32, stats__sz / sizeof(u64), KMIGRATED_NR_STATS);

	kmig_count(NULL, KMIGRATED_STAT_KFUNC_CALLS, 1);
	if (!stats)
		return 0;
	for (i = 0; i < nr; i++)
		stats[i] = atomic64_read(&kmig_stats[i]);
	return nr;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(kmigrated_kfunc_ids)
BTF_ID_FLAGS(func, kmigrated_ping)
BTF_ID_FLAGS(func, kmigrated_enqueue)
BTF_ID_FLAGS(func, kmigrated_enqueue_vaddr)
BTF_ID_FLAGS(func, kmigrated_enqueue_batch)
BTF_ID_FLAGS(func, kmigrated_read_stats)
BTF_ID_FLAGS(func, kmigrated_scan_scope)
BTF_KFUNCS_END(kmigrated_kfunc_ids)

static const struct btf_kfunc_id_set kmigrated_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &kmigrated_kfunc_ids,
};

/*
 * Syscall programs are how the daemon submits work (run with
 * BPF_PROG_TEST_RUN); tracing (fentry/fexit) programs may call in from
 * the hotness sources.
 */
static const enum bpf_prog_type kmigrated_kfunc_prog_types[] = {
	BPF_PROG_TYPE_SYSCALL,
	BPF_PROG_TYPE_TRACING,
};

/*
 * There is no way to unregister a kfunc set: it goes away with the
 * module's BTF when the module is unloaded, and a loaded BPF program that
 * uses one of the kfuncs holds a reference on the module.
 */
int __init kmig_register_kfuncs(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(kmigrated_kfunc_prog_types); i++) {
		err = register_btf_kfunc_id_set(kmigrated_kfunc_prog_types[i],
						&kmigrated_kfunc_set);
		if (err) {
			pr_err("cannot register kfuncs for BPF program type %d: %d\n",
			       kmigrated_kfunc_prog_types[i], err);
			return err;
		}
	}
	return 0;
}

/* --------------------------------------------------------- threads */

static void kmig_account_runtime(struct kmig_node *kn)
{
	u64 now = current->se.sum_exec_runtime;

	kmig_count(kn, KMIGRATED_STAT_THREAD_NS, now - kn->runtime);
	kn->runtime = now;
}

static int kmig_thread(void *arg)
{
	struct kmig_node *kn = arg;
	unsigned int nr, i, nr_vaddr;

	kn->runtime = current->se.sum_exec_runtime;
	while (!kthread_should_stop()) {
		/* Before the dequeue, so that kmig_pending() never misses the batch. */
		WRITE_ONCE(kn->in_flight, kmig_queue_len(kn));
		nr = kmig_dequeue(kn, kn->work, READ_ONCE(kmig_batch_size));
		WRITE_ONCE(kn->in_flight, nr);
		if (!nr) {
			kmig_account_runtime(kn);
			wait_event_interruptible(kn->wait,
						 kmig_queue_len(kn) || kthread_should_stop());
			continue;
		}
		/* Pfn requests to the front, vaddr ones to the back. */
		for (i = 0, nr_vaddr = 0; i < nr; i++) {
			if (kn->work[i].flags & KMIGRATED_REQ_VADDR)
				nr_vaddr++;
		}
		if (nr_vaddr && nr_vaddr < nr) {
			unsigned int v = nr - nr_vaddr;
			struct kmigrated_req tmp;

			for (i = 0; i < nr - nr_vaddr; i++) {
				if (!(kn->work[i].flags & KMIGRATED_REQ_VADDR))
					continue;
				while (kn->work[v].flags & KMIGRATED_REQ_VADDR)
					v++;
				tmp = kn->work[i];
				kn->work[i] = kn->work[v];
				kn->work[v] = tmp;
			}
		}
		if (nr > nr_vaddr)
			kmig_migrate_pfns(kn, kn->work, nr - nr_vaddr);
		if (nr_vaddr)
			kmig_migrate_vaddrs(kn, kn->work + nr - nr_vaddr, nr_vaddr);
		WRITE_ONCE(kn->in_flight, 0);
		kmig_account_runtime(kn);
		cond_resched();
	}
	kmig_account_runtime(kn);
	return 0;
}

static void kmig_node_free(struct kmig_node *kn)
{
	if (!kn)
		return;
	kvfree(kn->ring);
	kvfree(kn->hash);
	kvfree(kn->work);
	kfree(kn->src);
	kfree(kn->dst);
	kfree(kn);
}

static struct kmig_node *kmig_node_alloc(int nid, unsigned int depth)
{
	struct kmig_node *kn;

	kn = kzalloc_node(sizeof(*kn), GFP_KERNEL, nid);
	if (!kn)
		return NULL;
	kn->nid = nid;
	spin_lock_init(&kn->lock);
	init_waitqueue_head(&kn->wait);
	init_irq_work(&kn->wake, kmig_wake_work);
	kn->mask = depth - 1;
	kn->hbits = ilog2(depth) + 1;
	kn->ring = kvcalloc(depth, sizeof(*kn->ring), GFP_KERNEL);
	kn->hash = kvcalloc(2 * depth, sizeof(*kn->hash), GFP_KERNEL);
	kn->work = kvcalloc(KMIG_BATCH_LIMIT, sizeof(*kn->work), GFP_KERNEL);
	kn->src = kcalloc(KMIG_VMA_RUN, sizeof(*kn->src), GFP_KERNEL);
	kn->dst = kcalloc(KMIG_VMA_RUN, sizeof(*kn->dst), GFP_KERNEL);
	if (!kn->ring || !kn->hash || !kn->work || !kn->src || !kn->dst) {
		kmig_node_free(kn);
		return NULL;
	}
	return kn;
}

/* Threads first stopped, then queues dropped: no page is held by a queue. */
void kmig_nodes_exit(void)
{
	int nid;

	if (!kmig_nodes)
		return;
	for (nid = 0; nid < nr_node_ids; nid++) {
		struct kmig_node *kn = kmig_nodes[nid];

		if (!kn)
			continue;
		irq_work_sync(&kn->wake);
		if (kn->thread)
			kthread_stop(kn->thread);
		kmig_count(kn, KMIGRATED_STAT_DROPPED, kmig_queue_len(kn));
	}
	for (nid = 0; nid < nr_node_ids; nid++)
		kmig_node_free(kmig_nodes[nid]);
	kfree(kmig_nodes);
	kmig_nodes = NULL;
}

int __init kmig_nodes_init(void)
{
	unsigned int depth = roundup_pow_of_two(kmig_queue_depth);
	struct task_struct *t;
	int nid;

	kmig_nodes = kcalloc(nr_node_ids, sizeof(*kmig_nodes), GFP_KERNEL);
	if (!kmig_nodes)
		return -ENOMEM;
	for_each_node_state(nid, N_MEMORY) {
		struct kmig_node *kn = kmig_node_alloc(nid, depth);

		if (!kn)
			goto err;
		kmig_nodes[nid] = kn;
		t = kthread_create_on_node(kmig_thread, kn, nid, "kmigrated%d", nid);
		if (IS_ERR(t)) {
			pr_err("cannot start kmigrated%d: %ld\n", nid, PTR_ERR(t));
			goto err;
		}
		/* Near its memory when the node has CPUs. */
		if (!cpumask_empty(cpumask_of_node(nid)))
			set_cpus_allowed_ptr(t, cpumask_of_node(nid));
		kn->thread = t;
		wake_up_process(t);
	}
	return 0;
err:
	kmig_nodes_exit();
	return -ENOMEM;
}
