/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The `perf` hotness source in userspace: picks a sampling event with a
 * data address, opens it on every online CPU and attaches bpf/perf.bpf.c.
 *
 * Event, in order of preference (event=auto):
 *   mem-loads    Intel PEBS load latency, cpu/mem-loads,ldlat=N/ (sysfs
 *                cpu/events/mem-loads, or cpu_core/ on hybrid parts)
 *   ibs-op       AMD IBS op sampling (the ibs_op PMU's type from sysfs)
 *   page-faults  the software event PERF_COUNT_SW_PAGE_FAULTS: any kernel,
 *                any machine (a VM without a virtual PMU too), but it sees
 *                faults, not accesses to mapped pages
 * Arm SPE (arm_spe_N) writes its records to an AUX buffer that a BPF
 * perf_event program does not see, so it is reported, not used.
 *
 * Sampling: struct hp_source_opts.sample_period is the perf event's period
 * (1 sample in N events, done by the PMU or the perf core, before any BPF
 * runs); the BPF-level period (hp_cpu_state) stays 1 unless changed at
 * runtime, where it thins the samples further.
 *
 * Parameters (struct hp_source_opts.param, "key=value,..."):
 *   event=auto|mem-loads|ibs-op|page-faults
 *   ldlat=N      mem-loads: minimum load latency in cycles (default 30)
 * Scope: tgids and cgroup both apply (samples run in the sampled task).
 */
#ifndef HOTPAGE_PERF_SOURCE_H
#define HOTPAGE_PERF_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/perf_event.h>

#include "source.h"

extern const struct hp_source_ops hp_source_perf;

#define HP_PERF_PMU_ROOT "/sys/bus/event_source/devices"

/* Default periods, per event (see README: make bench-sources). */
#define HP_PERF_PERIOD_PAGE_FAULTS 8U
#define HP_PERF_PERIOD_MEM_LOADS 1009U /* prime: no lockstep with loop strides */
#define HP_PERF_PERIOD_IBS_OP 65536U /* ops, of which a third or so touch memory */
#define HP_PERF_LDLAT_DEFAULT 30U /* as perf mem: loads that missed L1 */

enum hp_perf_event {
	HP_PERF_EVENT_AUTO,
	HP_PERF_EVENT_MEM_LOADS,
	HP_PERF_EVENT_IBS_OP,
	HP_PERF_EVENT_PAGE_FAULTS,
};

struct hp_perf_params {
	enum hp_perf_event event;
	__u32 ldlat; /* 0: HP_PERF_LDLAT_DEFAULT */
};

/* "event=...,ldlat=N" (NULL or "": defaults). 0, or -EINVAL with the reason in @err. */
int hp_perf_parse_param(const char *param, struct hp_perf_params *params, char *err,
			size_t err_len);
const char *hp_perf_event_name(enum hp_perf_event event);

/*
 * Set the bits of @value in the attribute fields a sysfs format spec names:
 * "config:0-7", "config1:0-15", "config:0-7,32-35", "config2:3". 0, or
 * -EINVAL for a spec this does not read or a value too wide for it.
 */
int hp_perf_format_apply(const char *format, __u64 value, struct perf_event_attr *attr);

/*
 * Apply a sysfs event description ("event=0xcd,umask=0x1,ldlat=3") of the
 * PMU in @pmu_dir, through its format/ files; a term named in @override_name
 * takes @override_value instead. 0 or a negative errno, reason in @err.
 */
int hp_perf_event_terms_apply(const char *pmu_dir, const char *terms, const char *override_name,
			      __u64 override_value, struct perf_event_attr *attr, char *err,
			      size_t err_len);

/* One candidate event: the attribute to open and what to call it. */
struct hp_perf_choice {
	enum hp_perf_event event;
	struct perf_event_attr attr;
	__u16 event_flags; /* struct hp_event flags of its samples */
	char name[96]; /* "cpu/mem-loads,ldlat=30/", "ibs_op", "page-faults" */
};

/*
 * The candidates for @params from the PMUs under @pmu_root (HP_PERF_PMU_ROOT,
 * or a copy of its layout for tests), best first, at @period (0: each
 * event's default), into @out (up to @max); returns how many. The reasons
 * hardware sampling is missing or unusable go to @notes.
 */
int hp_perf_candidates(const struct hp_perf_params *params, const char *pmu_root, __u64 period,
		       struct hp_perf_choice *out, int max, char *notes, size_t notes_len);

/*
 * Load into @transport's rings, apply @opts, open the first candidate
 * event that opens on every online CPU and attach. Returns 0 and sets
 * *out, or a negative errno with the reason in @err.
 */
int hp_perf_source_start(struct hp_transport *transport, const struct hp_source_opts *opts,
			 const struct hp_perf_params *params, struct hp_source_instance **out,
			 char *err, size_t err_len);
void hp_perf_source_stop(struct hp_source_instance *src);
/* The event in use, its period, how many CPUs it runs on. */
const struct hp_perf_choice *hp_perf_source_choice(const struct hp_source_instance *src);
__u64 hp_perf_source_period(const struct hp_source_instance *src);
int hp_perf_source_nr_cpus(const struct hp_source_instance *src);
/* "perf_event ... on N CPUs" and why this event (hardware missing, fallbacks). */
const char *hp_perf_source_how(const struct hp_source_instance *src);
const char *hp_perf_source_why(const struct hp_source_instance *src);
/* Change the event's period on every CPU without reloading (PERF_EVENT_IOC_PERIOD). */
int hp_perf_source_set_period(struct hp_source_instance *src, __u64 period);

#endif /* HOTPAGE_PERF_SOURCE_H */
