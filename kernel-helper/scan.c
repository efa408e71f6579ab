// SPDX-License-Identifier: GPL-2.0
/*
 * The accessed-bit scanner, as in the kmmscand series: the kthread
 * kmigrated_scan wakes every scan_period_ms, walks the page tables of the
 * processes in scope (a list of tgids, or all user processes), and for
 * each PTE that maps a page on a scanned node tests and clears the
 * accessed bit. It flushes the process's TLB entries for the range it
 * cleared, once per pass, so that the next pass sees only accesses made
 * since, and reports every accessed
 * page through the tracepoint kmigrated:kmigrated_scan_access, where a
 * BPF program (bpf/scan.bpf.c) turns it into a hotpage event.
 *
 * Every node with memory is scanned by default: accesses on the lower
 * tiers say what to promote, and their absence on the top tier says what
 * can make room. Reclaim decides what is cold from the same accessed
 * bits, so the scanner hands each one it clears over to the folio
 * (folio_set_young(), as DAMON does, or folio_mark_accessed() on kernels
 * without the page idle flags): kswapd's demotion does not take a page
 * for cold because the scanner saw its access first.
 *
 * A pass visits at most scan_pages PTEs and the next one resumes where it
 * stopped (tgids in ascending order, then addresses), so the cost per
 * period is bounded whatever the scope; it shows in scan_ns. A sweep is
 * the passes that visit the whole scope once (scan_sweeps counts them):
 * a consumer that wants each page looked at once per period of its own
 * follows the sweeps.
 *
 * The accessed bit is cleared with a compare-and-exchange on a present,
 * young PTE (PMD for a huge page), so a PTE changed meanwhile (unmapped,
 * migrated, made dirty by the CPU) is left alone rather than corrupted,
 * whether or not the page-table walker holds the PTE lock (6.12 does,
 * 6.1 does not). x86 only, like the rest of the module's build.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/nodemask.h>
#include <linux/page_idle.h>
#include <linux/pagewalk.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/swap.h>
#include <linux/vmalloc.h>

#include "internal.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

unsigned int kmig_scan_period_ms = 1000;
unsigned int kmig_scan_pages = 262144;
unsigned int kmig_scan_top_every = 1;

/* Processes scanned at most per pass in "all" mode. */
#define KMIG_SCAN_ALL_MAX 4096

static bool kmig_scan_ok; /* walk_page_range and flush_tlb_mm_range found */
static nodemask_t kmig_scan_nodes; /* lower-tier nodes: the ones scanned */
static struct task_struct *kmig_scan_thread;

/* Scope; kmig_scan_lock is only tried from the kfunc. */
static DEFINE_SPINLOCK(kmig_scan_lock);
static u32 kmig_scan_tgids[KMIGRATED_SCAN_TGIDS_MAX];
static unsigned int kmig_scan_nr;
static bool kmig_scan_all;

/* Where the next pass starts; the sweeps done, and whether this one tests the top tier. */
static u32 kmig_cursor_tgid;
static unsigned long kmig_cursor_addr;
static u64 kmig_sweep;
static bool kmig_sweep_top;

static u32 *kmig_scan_list; /* KMIG_SCAN_ALL_MAX entries, the thread's */

struct kmig_scan_walk {
	u32 tgid;
	bool test_top; /* this sweep tests pages on nodes with CPUs too */
	long budget; /* PTEs this pass may still visit */
	unsigned long stop; /* where the budget ran out */
	unsigned long flush_start, flush_end;
	u64 ptes, accessed, accessed_top;
	u64 accessed_at_pause;
};

/* Tells reclaim about an access whose PTE bit the scanner cleared. */
static void kmig_scan_referenced(unsigned long pfn)
{
	struct page *page = pfn_to_online_page(pfn);
	struct folio *folio;

	if (!page)
		return;
	folio = page_folio(page);
	if (!folio_try_get(folio))
		return;
	/* Split or freed and reused between page_folio() and the reference? */
	if (likely(page_folio(page) == folio)) {
#ifdef CONFIG_PAGE_IDLE_FLAG
		folio_set_young(folio);
		folio_clear_idle(folio);
#else
		folio_mark_accessed(folio);
#endif
	}
	folio_put(folio);
}

static void kmig_scan_hit(struct kmig_scan_walk *w, unsigned long pfn, int nid, int order,
			  unsigned long addr, unsigned long start, unsigned long end)
{
	w->accessed++;
	if (!cpumask_empty(cpumask_of_node(nid)))
		w->accessed_top++;
	kmig_scan_referenced(pfn);
	if (w->flush_end <= w->flush_start) {
		w->flush_start = start;
		w->flush_end = end;
	} else {
		w->flush_start = min(w->flush_start, start);
		w->flush_end = max(w->flush_end, end);
	}
	trace_kmigrated_scan_access(pfn, nid, w->tgid, addr, order);
}

static bool kmig_scan_node(const struct kmig_scan_walk *w, unsigned long pfn, int *nid)
{
	if (!pfn_valid(pfn))
		return false;
	*nid = page_to_nid(pfn_to_page(pfn));
	return node_isset(*nid, kmig_scan_nodes) && (w->test_top || !node_state(*nid, N_CPU));
}

static int kmig_scan_pte(pte_t *ptep, unsigned long addr, unsigned long next, struct mm_walk *walk)
{
	struct kmig_scan_walk *w = walk->private;
	pte_t pte = ptep_get(ptep);
	unsigned long pfn;
	int nid;

	if (--w->budget < 0) {
		w->stop = addr;
		return 1;
	}
	if (!pte_present(pte) || pte_special(pte))
		return 0;
	pfn = pte_pfn(pte);
	if (!kmig_scan_node(w, pfn, &nid))
		return 0;
	w->ptes++;
	if (!pte_young(pte))
		return 0;
	if (cmpxchg(&ptep->pte, pte_val(pte), pte_val(pte_mkold(pte))) != pte_val(pte))
		return 0;
	kmig_scan_hit(w, pfn, nid, 0, addr, addr, addr + PAGE_SIZE);
	return 0;
}

/* Huge PMDs are tested here, whole; page tables go on to kmig_scan_pte(). */
static int kmig_scan_pmd(pmd_t *pmdp, unsigned long addr, unsigned long next, struct mm_walk *walk)
{
	struct kmig_scan_walk *w = walk->private;
	pmd_t pmd = READ_ONCE(*pmdp);
	unsigned long pfn;
	int nid;

	if (!pmd_trans_huge(pmd))
		return 0;
	walk->action = ACTION_CONTINUE; /* never split it */
	if (--w->budget < 0) {
		w->stop = addr;
		return 1;
	}
	if (!pmd_present(pmd))
		return 0;
	pfn = pmd_pfn(pmd);
	if (!kmig_scan_node(w, pfn, &nid))
		return 0;
	w->ptes++;
	if (!pmd_young(pmd))
		return 0;
	if (cmpxchg(&pmdp->pmd, pmd_val(pmd), pmd_val(pmd_mkold(pmd))) != pmd_val(pmd))
		return 0;
	kmig_scan_hit(w, pfn, nid, HPAGE_PMD_ORDER, addr & HPAGE_PMD_MASK, addr & HPAGE_PMD_MASK,
		      (addr & HPAGE_PMD_MASK) + HPAGE_PMD_SIZE);
	return 0;
}

static const struct mm_walk_ops kmig_scan_ops = {
	.pmd_entry = kmig_scan_pmd,
	.pte_entry = kmig_scan_pte,
#ifdef KMIG_WALK_OPS_LOCK
	.walk_lock = PGWALK_RDLOCK,
#endif
};

/*
 * The page tables of a vma are walked this much at a time, so that the
 * scanner can let go of the mmap lock and the CPU in between.
 */
#define KMIG_SCAN_CHUNK (16UL << 20)
/*
 * Reports between pauses: every access is one record in a consumer's
 * per-CPU ring, all from this thread's CPU, and a pass may find hundreds
 * of thousands (after a workload touched all its memory); a short sleep
 * after each batch lets the consumer drain the ring instead of the ring
 * overflowing with what a whole pass found.
 */
#define KMIG_SCAN_REPORTS_PER_PAUSE 4096

/* Whether to pause for the consumer, before the next chunk. */
static bool kmig_scan_should_pause(struct kmig_scan_walk *w)
{
	if (w->accessed - w->accessed_at_pause < KMIG_SCAN_REPORTS_PER_PAUSE)
		return false;
	w->accessed_at_pause = w->accessed;
	return true;
}

/*
 * Scans @tgid's page tables from @start; false when the budget ran out
 * (w->stop says where).
 */
static bool kmig_scan_mm(struct kmig_scan_walk *w, u32 tgid, unsigned long start)
{
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	unsigned long addr = start, end;
	bool done = true;
	int err;

	mm = kmig_get_mm(tgid);
	if (!mm)
		return true;
	w->tgid = tgid;
	w->flush_start = 0;
	w->flush_end = 0;
	mmap_read_lock(mm);
	for (vma = find_vma(mm, addr); vma; vma = find_vma(mm, addr)) {
		bool pause;

		addr = max(addr, vma->vm_start);
		if (vma->vm_flags & (VM_PFNMAP | VM_IO | VM_HUGETLB | VM_MIXEDMAP)) {
			addr = vma->vm_end;
			continue;
		}
		end = min(vma->vm_end, ALIGN(addr + 1, KMIG_SCAN_CHUNK));
		err = kmig_sym.walk_page_range(mm, addr, end, &kmig_scan_ops, w);
		if (err) {
			done = false;
			break;
		}
		addr = end;
		if (fatal_signal_pending(current) || kthread_should_stop())
			break;
		pause = kmig_scan_should_pause(w);
		if (pause || need_resched()) { /* the vma is looked up again */
			mmap_read_unlock(mm);
			if (pause) {
				kmig_count(NULL, KMIGRATED_STAT_SCAN_PAUSES, 1);
				usleep_range(2000, 4000);
			} else {
				cond_resched();
			}
			mmap_read_lock(mm);
		}
	}
	mmap_read_unlock(mm);
	/*
	 * What was cleared must miss in the TLBs for the next pass to see it:
	 * once per process and pass, not per chunk, since each flush of a
	 * range this large is an IPI to every CPU running the process, and
	 * one that the scanner waits for. Accesses through a stale entry in
	 * between go unseen; a page in use is seen again after the flush.
	 */
	if (w->flush_end > w->flush_start)
		kmig_sym.flush_tlb_mm_range(mm, w->flush_start, w->flush_end, PAGE_SHIFT, false);
	mmput(mm);
	return done;
}

static int kmig_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return (x > y) - (x < y);
}

/* The tgids in scope, ascending, into kmig_scan_list. */
static unsigned int kmig_scan_collect(void)
{
	struct task_struct *p;
	unsigned int n = 0;
	bool all;

	spin_lock_irq(&kmig_scan_lock);
	all = kmig_scan_all;
	if (!all) {
		n = kmig_scan_nr;
		memcpy(kmig_scan_list, kmig_scan_tgids, n * sizeof(u32));
	}
	spin_unlock_irq(&kmig_scan_lock);
	if (all) {
		rcu_read_lock();
		for_each_process(p) {
			if (n == KMIG_SCAN_ALL_MAX)
				break;
			if (!(p->flags & PF_KTHREAD) && p->mm)
				kmig_scan_list[n++] = p->tgid;
		}
		rcu_read_unlock();
	}
	sort(kmig_scan_list, n, sizeof(u32), kmig_cmp_u32, NULL);
	return n;
}

/*
 * Pages of the top tier are tested every scan_top_every sweeps: a page
 * there matters once it has gone cold, which takes many periods to tell,
 * while the lower tiers' pages are tested every sweep for what is hot.
 * Their accessed bits keep what happened in between, so a test after
 * several sweeps still says whether the page was used since the last.
 */
static void kmig_scan_pass(void)
{
	struct kmig_scan_walk w = { .budget = READ_ONCE(kmig_scan_pages) };
	unsigned int n = kmig_scan_collect(), i;
	bool done = true;
	u32 rem;

	if (!kmig_cursor_tgid && !kmig_cursor_addr) { /* a sweep starts */
		div_u64_rem(kmig_sweep, max(READ_ONCE(kmig_scan_top_every), 1U), &rem);
		kmig_sweep_top = !rem;
	}
	w.test_top = kmig_sweep_top;

	for (i = 0; i < n; i++) {
		u32 tgid = kmig_scan_list[i];

		if (tgid < kmig_cursor_tgid)
			continue;
		if (!kmig_scan_mm(&w, tgid, tgid == kmig_cursor_tgid ? kmig_cursor_addr : 0)) {
			kmig_cursor_tgid = tgid;
			kmig_cursor_addr = w.stop;
			done = false;
			break;
		}
		if (kthread_should_stop())
			break;
	}
	if (done) {
		kmig_cursor_tgid = 0;
		kmig_cursor_addr = 0;
		kmig_sweep++;
		kmig_count(NULL, KMIGRATED_STAT_SCAN_SWEEPS, 1);
		if (kmig_sweep_top)
			kmig_count(NULL, KMIGRATED_STAT_SCAN_TOP_SWEEPS, 1);
	}
	kmig_count(NULL, KMIGRATED_STAT_SCAN_PASSES, 1);
	kmig_count(NULL, KMIGRATED_STAT_SCAN_PTES, w.ptes);
	kmig_count(NULL, KMIGRATED_STAT_SCAN_ACCESSED, w.accessed);
	kmig_count(NULL, KMIGRATED_STAT_SCAN_ACCESSED_TOP, w.accessed_top);
}

static bool kmig_scan_idle(void)
{
	return !READ_ONCE(kmig_scan_all) && !READ_ONCE(kmig_scan_nr);
}

static int kmig_scan_fn(void *unused)
{
	u64 runtime = current->se.sum_exec_runtime, now;

	while (!kthread_should_stop()) {
		unsigned int period = max(READ_ONCE(kmig_scan_period_ms), 1U);

		schedule_timeout_interruptible(msecs_to_jiffies(period));
		if (kthread_should_stop())
			break;
		if (kmig_scan_idle())
			continue;
		kmig_scan_pass();
		now = current->se.sum_exec_runtime;
		kmig_count(NULL, KMIGRATED_STAT_SCAN_NS, now - runtime);
		runtime = now;
	}
	return 0;
}

/* ------------------------------------------------------------- scope */

/* Changes the scope; @tgid is ignored for ALL and NONE. Caller holds the lock. */
static int kmig_scan_apply(u32 tgid, u32 op)
{
	unsigned int i;

	switch (op) {
	case KMIGRATED_SCAN_ALL:
		kmig_scan_all = true;
		return 0;
	case KMIGRATED_SCAN_NONE:
		kmig_scan_all = false;
		kmig_scan_nr = 0;
		return 0;
	case KMIGRATED_SCAN_ADD:
	case KMIGRATED_SCAN_DEL:
		break;
	default:
		return -EINVAL;
	}
	if (!tgid || tgid > PID_MAX_LIMIT)
		return -EINVAL;
	for (i = 0; i < kmig_scan_nr && kmig_scan_tgids[i] != tgid; i++)
		;
	if (op == KMIGRATED_SCAN_DEL) {
		if (i < kmig_scan_nr)
			kmig_scan_tgids[i] = kmig_scan_tgids[--kmig_scan_nr];
		return 0;
	}
	if (i < kmig_scan_nr)
		return 0;
	if (kmig_scan_nr == KMIGRATED_SCAN_TGIDS_MAX)
		return -ENOSPC;
	kmig_scan_tgids[kmig_scan_nr++] = tgid;
	kmig_scan_all = false;
	return 0;
}

__bpf_kfunc_start_defs();

/**
 * kmigrated_scan_scope() - Change the accessed-bit scanner's scope.
 * @tgid: The process, for KMIGRATED_SCAN_ADD and KMIGRATED_SCAN_DEL.
 * @op: An enum kmigrated_scan_op.
 *
 * KMIGRATED_SCAN_ADD and KMIGRATED_SCAN_DEL change the list of processes
 * scanned; KMIGRATED_SCAN_ALL scans every user process, KMIGRATED_SCAN_NONE
 * none. The scanner reads its scope at the start of each pass.
 *
 * Context: Any context a syscall or tracing program runs in, NMI included.
 * Does not sleep; waits for the scope lock only where it cannot have
 * interrupted its holder, and otherwise gives up with -EBUSY.
 * Return: 0, -EINVAL (bad op or tgid), -ENOSPC (scope full), -EBUSY (the
 * scope lock is held here already), -EOPNOTSUPP (no scanner).
 */
__bpf_kfunc int kmigrated_scan_scope(u32 tgid, u32 op)
{
	unsigned long flags;
	int err, tries = 0;

	kmig_count(NULL, KMIGRATED_STAT_KFUNC_CALLS, 1);
	if (!kmig_scan_ok)
		return -EOPNOTSUPP;
	if (!irqs_disabled() && !in_nmi()) { /* cannot be nested in a holder: wait */
		spin_lock_irqsave(&kmig_scan_lock, flags);
		err = kmig_scan_apply(tgid, op);
		spin_unlock_irqrestore(&kmig_scan_lock, flags);
		return err;
	}
	local_irq_save(flags);
	while (!spin_trylock(&kmig_scan_lock)) {
		if (++tries >= 4096) {
			local_irq_restore(flags);
			return -EBUSY;
		}
		cpu_relax();
	}
	err = kmig_scan_apply(tgid, op);
	spin_unlock_irqrestore(&kmig_scan_lock, flags);
	return err;
}

__bpf_kfunc_end_defs();

/*
 * sysfs scan_tgids: "none", "all", or the tgids, space separated;
 * "unavailable" when the scanner could not start.
 */
ssize_t kmig_scan_tgids_show(char *buf)
{
	unsigned int i;
	ssize_t len = 0;

	if (!kmig_scan_ok)
		return sysfs_emit(buf, "unavailable\n");
	spin_lock_irq(&kmig_scan_lock);
	if (kmig_scan_all)
		len = sysfs_emit_at(buf, len, "all");
	else if (!kmig_scan_nr)
		len = sysfs_emit_at(buf, len, "none");
	for (i = 0; !kmig_scan_all && i < kmig_scan_nr; i++)
		len += sysfs_emit_at(buf, len, "%s%u", i ? " " : "", kmig_scan_tgids[i]);
	spin_unlock_irq(&kmig_scan_lock);
	return len + sysfs_emit_at(buf, len, "\n");
}

/* Replaces the scope; on a bad value returns -EINVAL and keeps the old one. */
int kmig_scan_tgids_store(const char *buf)
{
	u32 tgids[KMIGRATED_SCAN_TGIDS_MAX];
	unsigned int n = 0, i;
	char *copy, *s, *tok;
	int err = 0;
	bool all = false;

	if (!kmig_scan_ok)
		return -EOPNOTSUPP;
	copy = kstrdup(buf, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	s = strim(copy);
	if (!strcmp(s, "all")) {
		all = true;
	} else if (strcmp(s, "none") && *s) {
		while ((tok = strsep(&s, " \t,")) != NULL) {
			if (!*tok)
				continue;
			if (n == KMIGRATED_SCAN_TGIDS_MAX) {
				err = -ENOSPC;
				break;
			}
			if (kstrtou32(tok, 10, &tgids[n]) || !tgids[n] ||
			    tgids[n] > PID_MAX_LIMIT) {
				err = -EINVAL;
				break;
			}
			n++;
		}
	} else if (!*s) {
		err = -EINVAL;
	}
	kfree(copy);
	if (err)
		return err;
	spin_lock_irq(&kmig_scan_lock);
	kmig_scan_apply(0, KMIGRATED_SCAN_NONE);
	if (all)
		kmig_scan_apply(0, KMIGRATED_SCAN_ALL);
	for (i = 0; i < n; i++)
		kmig_scan_apply(tgids[i], KMIGRATED_SCAN_ADD);
	spin_unlock_irq(&kmig_scan_lock);
	return 0;
}

ssize_t kmig_scan_nodes_show(char *buf)
{
	return sysfs_emit(buf, "%*pbl\n", nodemask_pr_args(&kmig_scan_nodes));
}

/* ------------------------------------------------------------ module */

/**
 * kmig_scan_init - start the scanner
 * @fail_symbol: a symbol to treat as missing (testing), or NULL
 * @nodes: nodelist of the nodes to scan, or NULL for every node with memory
 *
 * A missing symbol leaves the module without a scanner (said in the log),
 * not without its other services.
 *
 * Return: 0 or -errno (bad @nodes, no memory).
 */
int kmig_scan_init(const char *fail_symbol, const char *nodes)
{
	const char *missing = NULL;
	struct task_struct *t;
	int nid;

	if (nodes && *nodes) {
		if (nodelist_parse(nodes, kmig_scan_nodes) ||
		    nodes_empty(kmig_scan_nodes)) {
			pr_err("scan_nodes=%s: not a node list\n", nodes);
			return -EINVAL;
		}
	} else {
		nodes_clear(kmig_scan_nodes);
		for_each_node_state(nid, N_MEMORY)
			node_set(nid, kmig_scan_nodes);
	}
	if (kmig_resolve_scan_symbols(fail_symbol, &missing)) {
		pr_warn("accessed-bit scanner unavailable: cannot resolve %s\n", missing);
		return 0;
	}
	kmig_scan_list = kvcalloc(KMIG_SCAN_ALL_MAX, sizeof(u32), GFP_KERNEL);
	if (!kmig_scan_list)
		return -ENOMEM;
	t = kthread_run(kmig_scan_fn, NULL, "kmigrated_scan");
	if (IS_ERR(t)) {
		kvfree(kmig_scan_list);
		kmig_scan_list = NULL;
		return PTR_ERR(t);
	}
	kmig_scan_thread = t;
	kmig_scan_ok = true;
	return 0;
}

void kmig_scan_exit(void)
{
	if (kmig_scan_thread)
		kthread_stop(kmig_scan_thread);
	kmig_scan_thread = NULL;
	kvfree(kmig_scan_list);
	kmig_scan_list = NULL;
	kmig_scan_ok = false;
}
