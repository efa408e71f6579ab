/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmigrated.ko's internal interfaces: the parts (main.c, queue.c,
 * migrate.c, syms.c) share these; include/kmigrated.h is the external one.
 */
#ifndef KMIGRATED_INTERNAL_H
#define KMIGRATED_INTERNAL_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/irq_work.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/pagewalk.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "compat.h"
#include "kmigrated.h"

/* Largest batch_size; the threads' work arrays have this many entries. */
#define KMIG_BATCH_LIMIT 4096
/* Largest rate_limit_mbps (1 TiB/s); 0 means no limit. */
#define KMIG_RATE_LIMIT_MAX BIT(20)
/* queue_depth bounds (requests per node; rounded up to a power of two). */
#define KMIG_QUEUE_DEPTH_MIN 64
#define KMIG_QUEUE_DEPTH_MAX BIT(20)
/* Scanner settings' bounds. */
#define KMIG_SCAN_PERIOD_MIN 10
#define KMIG_SCAN_PERIOD_MAX 600000
#define KMIG_SCAN_PAGES_MAX BIT(24)
#define KMIG_SCAN_TOP_EVERY_MAX 64
/* Pages one migrate_vma_setup() call covers at most (vma route). */
#define KMIG_VMA_RUN 64

/* Settings (module parameters; batch_size and rate_limit_mbps also in sysfs). */
extern unsigned int kmig_batch_size;
extern unsigned int kmig_rate_limit_mbps;
extern unsigned int kmig_queue_depth;
extern bool kmig_large_folios;

/* Routes in service, decided at load (main.c). */
extern bool kmig_route_pfn;
extern bool kmig_route_vma;

/* A slot of a node's dedup set: k0 == 0 is empty. */
struct kmig_hent {
	u64 k0;
	u64 k1;
};

/*
 * One node with memory: its queue (a ring of requests plus the set of
 * their keys, for deduplication), its thread kmigrated<nid>, its counters.
 * Pfn-route requests are queued on the node of their page, vma-route ones
 * on their target node (the page's node is not known when they come in).
 *
 * @lock is taken with interrupts off; kfuncs called with interrupts off
 * only try it (a bounded number of times), so a tracing program that
 * interrupts a holder on the same CPU is refused with KMIGRATED_E_BUSY
 * rather than deadlocked.
 */
struct kmig_node {
	int nid;
	spinlock_t lock; /* protects head, tail and the dedup set */
	u32 head; /* next to dequeue */
	u32 tail; /* next free */
	u32 mask; /* ring size - 1 */
	u32 hbits; /* log2 of the dedup set's size (twice the ring's) */
	struct kmigrated_req *ring;
	struct kmig_hent *hash;

	wait_queue_head_t wait;
	struct irq_work wake; /* kfuncs wake the thread through this */
	struct task_struct *thread;
	struct kmigrated_req *work; /* the batch the thread works on */
	u32 in_flight; /* requests of that batch not done yet */
	unsigned long *src, *dst; /* migrate_vma arrays */
	u64 runtime; /* thread CPU time already counted */

	struct kobject *kobj; /* node<N>/ in sysfs */
	atomic64_t stats[KMIGRATED_NR_STATS];
};

/* Indexed by node id, nr_node_ids entries; NULL for nodes without memory. */
extern struct kmig_node **kmig_nodes;
extern atomic64_t kmig_stats[KMIGRATED_NR_STATS];

static inline void kmig_count(struct kmig_node *kn, enum kmigrated_stat stat, u64 n)
{
	atomic64_add(n, &kmig_stats[stat]);
	if (kn)
		atomic64_add(n, &kn->stats[stat]);
}

u32 kmig_queue_len(struct kmig_node *kn);
u32 kmig_pending(struct kmig_node *kn);
void kmig_dequeue_locked(int nid, unsigned int taken);

/* queue.c: the per-node queues, their threads and the kfuncs. */
int kmig_nodes_init(void);
void kmig_nodes_exit(void);
int kmig_register_kfuncs(void);

/* migrate.c: the two routes, run by the threads. */
void kmig_migrate_pfns(struct kmig_node *kn, struct kmigrated_req *reqs, unsigned int nr);
void kmig_migrate_vaddrs(struct kmig_node *kn, struct kmigrated_req *reqs, unsigned int nr);
u64 kmig_rate_charge(u64 bytes);
void kmig_rate_reset(void);

/* syms.c: non-exported functions, resolved at load. */
struct kmig_syms {
#ifdef KMIG_ISOLATE_RETURNS_BOOL
	bool (*folio_isolate_lru)(struct folio *folio);
#else
	int (*folio_isolate_lru)(struct folio *folio);
#endif
#ifdef KMIG_MIGRATE_FOLIO_CALLBACKS
	int (*migrate_pages)(struct list_head *from, new_folio_t get_new, free_folio_t put_new,
			     unsigned long private, enum migrate_mode mode, int reason,
			     unsigned int *ret_succeeded);
#else
	int (*migrate_pages)(struct list_head *from, new_page_t get_new, free_page_t put_new,
			     unsigned long private, enum migrate_mode mode, int reason,
			     unsigned int *ret_succeeded);
#endif
	void (*putback_movable_pages)(struct list_head *l);
	void (*lru_add_drain)(void); /* optional: NULL when not found */
	/* The scanner's. */
	int (*walk_page_range)(struct mm_struct *mm, unsigned long start, unsigned long end,
			       const struct mm_walk_ops *ops, void *private);
	void (*flush_tlb_mm_range)(struct mm_struct *mm, unsigned long start, unsigned long end,
				   unsigned int stride_shift, bool freed_tables);
};

extern struct kmig_syms kmig_sym;
int kmig_resolve_symbols(const char *fail_symbol, const char **missing);
int kmig_resolve_scan_symbols(const char *fail_symbol, const char **missing);

/* scan.c: the accessed-bit scanner. */
extern unsigned int kmig_scan_period_ms;
extern unsigned int kmig_scan_pages;
extern unsigned int kmig_scan_top_every;
int kmig_scan_init(const char *fail_symbol, const char *nodes);
void kmig_scan_exit(void);
ssize_t kmig_scan_tgids_show(char *buf);
int kmig_scan_tgids_store(const char *buf);
ssize_t kmig_scan_nodes_show(char *buf);
int kmigrated_scan_scope(u32 tgid, u32 op);
struct mm_struct *kmig_get_mm(u32 tgid);

#endif /* KMIGRATED_INTERNAL_H */
