/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The access event: what every hotness source (fault, numa-hint, perf,
 * damon, scan) sends to userspace, one fixed-size record per sampled
 * access, the same bytes in BPF and in the daemon. Also the per-source
 * counters and runtime configuration that all sources share.
 *
 * Transport: one BPF ring buffer per CPU, held in the array-of-maps
 * hp_rings (index: CPU id) that every source's object shares; see
 * bpf/hp_source.bpf.h for the producer side.
 */
#ifndef HOTPAGE_EVENT_H
#define HOTPAGE_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bump when the layout of struct hp_event changes; readers check it. */
#define HP_EVENT_VERSION 1

enum hp_source {
	HP_SRC_FAULT = 1, /* exceptions:page_fault_user */
	HP_SRC_NUMA_HINT = 2, /* NUMA hint faults (numa_migrate_prep/check) */
	HP_SRC_PERF = 3, /* perf sampling with PERF_SAMPLE_ADDR */
	HP_SRC_DAMON = 4, /* damon:damon_aggregated regions */
	HP_SRC_SCAN = 5, /* kmigrated.ko's accessed-bit scanner */
	HP_SRC_MAX,
};

/* struct hp_event.flags */
enum hp_event_flags {
	HP_EV_READ = 1 << 0, /* the access read */
	HP_EV_WRITE = 1 << 1, /* the access wrote */
	HP_EV_INSTR = 1 << 2, /* instruction fetch */
	HP_EV_PROT = 1 << 3, /* fault on a present page: NUMA hint, COW, protection */
	HP_EV_PHYS = 1 << 4, /* addr/end are physical addresses (DAMON paddr) */
	HP_EV_REGION = 1 << 5, /* [addr, end) is a region (DAMON), not one access */
	HP_EV_HUGE = 1 << 6, /* the access is to a huge page mapped whole; pfn is its head */
};

#define HP_PFN_UNKNOWN (~0ULL)
#define HP_NODE_UNKNOWN (-1)

/* One sampled access (or, for DAMON, one aggregated region). 64 bytes. */
struct hp_event {
	__u8 version; /* HP_EVENT_VERSION */
	__u8 source; /* enum hp_source */
	__u16 flags; /* enum hp_event_flags */
	__u16 cpu; /* CPU the access was seen on */
	__s16 cpu_node; /* that CPU's node, HP_NODE_UNKNOWN if unknown */
	__u32 tgid; /* process; 0 for kernel or physical-address sources */
	__u32 pid; /* thread */
	__u64 ts_ns; /* CLOCK_MONOTONIC; may lag by up to a tick (hp_event_clock) */
	__u64 addr; /* virtual address accessed; DAMON: region start */
	__u64 end; /* DAMON: region end (exclusive); 0 otherwise */
	__u64 pfn; /* page frame number, HP_PFN_UNKNOWN if the source lacks it */
	__s16 page_node; /* node of the page, HP_NODE_UNKNOWN if unknown */
	__u16 reserved; /* zero */
	__u32 nr_accesses; /* DAMON: nr_accesses; perf: sample weight; others: 1 */
	__u32 age; /* DAMON: region age in aggregation intervals; 0 otherwise */
	__u32 target; /* DAMON: target index; 0 otherwise */
};
_Static_assert(sizeof(struct hp_event) == 64, "struct hp_event is one 64-byte line");
_Static_assert(__builtin_offsetof(struct hp_event, pfn) == 40 &&
		       __builtin_offsetof(struct hp_event, target) == 60,
	       "struct hp_event's layout is the record's version 1");

/*
 * Counters of one source, summed over CPUs by userspace
 * (hp_source_read_stats). seen >= sampled >= emitted, and
 * sampled = emitted + dropped + errors + the records still staged (at
 * most HP_STAGE_RECORDS per CPU; none once userspace has collected them).
 */
struct hp_source_stats {
	__u64 seen; /* hook invocations */
	__u64 countdown; /* sampling state (per CPU): left 0 in sums */
	__u64 sampled; /* ... that passed the filter and the sampling period */
	__u64 emitted; /* records handed to userspace: through a ring, or taken from a stage */
	__u64 dropped; /* records lost because the ring buffer was full */
	__u64 errors; /* records lost for other reasons (no ring for the CPU, bad input) */
};
_Static_assert(sizeof(struct hp_source_stats) == 48, "struct hp_source_stats is 6 counters");

enum hp_filter_mode {
	HP_FILTER_NONE = 0, /* every process */
	HP_FILTER_TGIDS = 1, /* only tgids present in the hp_filter_tgids hash */
	HP_FILTER_CGROUP = 2, /* only tasks whose cgroup v2 id is cgroup_id */
};

/*
 * Runtime configuration of one source: userspace may rewrite it at any
 * time (hp_source_write_config copies it into every CPU's entry).
 * sample_period 0 means "the load-time default" (rodata
 * default_sample_period).
 */
struct hp_source_config {
	__u32 sample_period; /* emit one event in sample_period; 1 = all */
	__u32 filter_mode; /* enum hp_filter_mode */
	__u64 cgroup_id; /* HP_FILTER_CGROUP */
};
_Static_assert(sizeof(struct hp_source_config) == 16, "struct hp_source_config is 16 bytes");

/*
 * Records a CPU stages before it hands them to its ring in one piece
 * (bpf/hp_source.bpf.h: a ring buffer record costs as much as the rest
 * of a sampled run, whatever its size, on a virtualised host). A power of two.
 */
#define HP_STAGE_RECORDS 16

/* struct hp_source_cpu.stage: a generation (high half) and a count. */
#define HP_STAGE_COUNT(stage) ((__u32)(stage))
#define HP_STAGE_NEXT_GEN(stage) ((((stage) >> 32) + 1) << 32)

/*
 * One CPU's entry (key: CPU id) of a source's hp_cpu_state map: all that
 * the source's runs on that CPU read and write. An event that is not
 * sampled touches only the first 64 bytes (the map's values start on a
 * page: one cache line); a sampled one also its slot in staged[]; the
 * second line only when a stage goes to the ring, and on the rare paths.
 * The configuration is copied into each CPU's entry, not read from a map
 * of its own, to save that line on every run. Entries are a multiple of
 * 64 bytes: no two CPUs share a line.
 *
 * staged[0, HP_STAGE_COUNT(stage)) are records written and not yet sent.
 * The CPU's program sends them to its ring when all HP_STAGE_RECORDS are
 * written; userspace takes them from a CPU that has stopped producing
 * (user/sources/transport.c). Whoever moves stage from (gen, n) to (gen + 1, 0)
 * with a compare-and-exchange owns staged[0, n); the loser of a race
 * leaves them alone, so that no record is sent twice or lost.
 */
struct hp_source_cpu {
	__u64 seen;
	__u32 countdown;
	__u32 record_flags; /* every record's initial flags (userspace; perf: what its event samples) */
	struct hp_source_config config; /* written by userspace only */
	__u64 clock_jiffies; /* jiffies when clock_ns was read */
	__u64 clock_ns; /* bpf_ktime_get_ns() at the first record of that tick */
	__u64 sampled;
	__u64 stage; /* (generation << 32) | records in staged[] */
	/* Second line: once per stage, and the rare paths. */
	__u64 emitted; /* records the program sent to the ring */
	__u64 taken; /* records userspace took from staged[] (userspace writes it) */
	__u64 dropped;
	__u64 errors;
	__u64 flushes; /* stages sent to the ring: paces the wakeups */
	__u64 reserved[3];
	struct hp_event staged[HP_STAGE_RECORDS];
};
/* The lines the comment above promises: a run that does not sample stays in the first. */
_Static_assert(__builtin_offsetof(struct hp_source_cpu, stage) < 64 &&
		       __builtin_offsetof(struct hp_source_cpu, emitted) == 64,
	       "hp_source_cpu: the per-run fields fill the first cache line, no more");
_Static_assert(__builtin_offsetof(struct hp_source_cpu, staged) % 64 == 0 &&
		       sizeof(struct hp_source_cpu) % 64 == 0,
	       "hp_source_cpu: staged records on their own lines, no line shared by two CPUs");

/* Capacity of hp_filter_tgids. */
#define HP_FILTER_TGIDS_MAX 1024

#endif /* HOTPAGE_EVENT_H */
