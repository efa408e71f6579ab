/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmigrated's tracepoint: the accessed-bit scanner reports each accessed
 * lower-tier page through it (bpf/scan.bpf.c attaches a raw_tp program).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kmigrated

#if !defined(KMIGRATED_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define KMIGRATED_TRACE_H

#include <linux/tracepoint.h>

/*
 * kmigrated_scan_access - a PTE of process @tgid at @addr maps the page
 * @pfn on node @nid, and was found accessed (then cleared) by the scanner.
 */
TRACE_EVENT(kmigrated_scan_access,
	TP_PROTO(u64 pfn, int nid, u32 tgid, u64 addr),
	TP_ARGS(pfn, nid, tgid, addr),
	TP_STRUCT__entry(
		__field(u64, pfn)
		__field(u64, addr)
		__field(int, nid)
		__field(u32, tgid)
	),
	TP_fast_assign(
		__entry->pfn = pfn;
		__entry->addr = addr;
		__entry->nid = nid;
		__entry->tgid = tgid;
	),
	TP_printk("pfn=%#llx nid=%d tgid=%u addr=%#llx", __entry->pfn, __entry->nid,
		  __entry->tgid, __entry->addr)
);

#endif /* KMIGRATED_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
