/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmigrated's tracepoints: the accessed-bit scanner reports each accessed
 * page through one (bpf/scan.bpf.c attaches a raw_tp program); the other
 * times each migration batch of the pfn route.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kmigrated

#if !defined(KMIGRATED_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define KMIGRATED_TRACE_H

#include <linux/tracepoint.h>

/*
 * kmigrated_scan_access - a PTE (@order 0) or a PMD (@order > 0, @pfn the
 * head of the huge page) of process @tgid at @addr maps the page @pfn on
 * node @nid, and was found accessed (then cleared) by the scanner.
 */
TRACE_EVENT(kmigrated_scan_access,

	TP_PROTO(u64 pfn, int nid, u32 tgid, u64 addr, int order),

	TP_ARGS(pfn, nid, tgid, addr, order),

	TP_STRUCT__entry(
		__field(u64, pfn)
		__field(u64, addr)
		__field(int, nid)
		__field(u32, tgid)
		__field(int, order)
	),

	TP_fast_assign(
		__entry->pfn = pfn;
		__entry->addr = addr;
		__entry->nid = nid;
		__entry->tgid = tgid;
		__entry->order = order;
	),

	TP_printk("pfn=%#llx nid=%d tgid=%u addr=%#llx order=%d", __entry->pfn, __entry->nid,
		  __entry->tgid, __entry->addr, __entry->order)
);

/*
 * kmigrated_migrate_batch - thread kmigrated@nid ran one migrate_pages()
 * batch of the pfn route to node @target: @nr requests, @isolated pages
 * taken off their LRU, @succeeded of them migrated; time spent isolating,
 * in migrate_pages() and putting back what was left, in ns.
 */
TRACE_EVENT(kmigrated_migrate_batch,

	TP_PROTO(int nid, int target, unsigned int nr, unsigned int isolated,
		 unsigned int succeeded, u64 isolate_ns, u64 migrate_ns, u64 putback_ns),

	TP_ARGS(nid, target, nr, isolated, succeeded, isolate_ns, migrate_ns, putback_ns),

	TP_STRUCT__entry(
		__field(u64, isolate_ns)
		__field(u64, migrate_ns)
		__field(u64, putback_ns)
		__field(int, nid)
		__field(int, target)
		__field(unsigned int, nr)
		__field(unsigned int, isolated)
		__field(unsigned int, succeeded)
	),

	TP_fast_assign(
		__entry->isolate_ns = isolate_ns;
		__entry->migrate_ns = migrate_ns;
		__entry->putback_ns = putback_ns;
		__entry->nid = nid;
		__entry->target = target;
		__entry->nr = nr;
		__entry->isolated = isolated;
		__entry->succeeded = succeeded;
	),

	TP_printk("nid=%d target=%d nr=%u isolated=%u succeeded=%u isolate_ns=%llu migrate_ns=%llu putback_ns=%llu",
		  __entry->nid, __entry->target, __entry->nr, __entry->isolated,
		  __entry->succeeded, __entry->isolate_ns, __entry->migrate_ns,
		  __entry->putback_ns)
);

#endif /* KMIGRATED_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
