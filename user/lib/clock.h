/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CLOCK_MONOTONIC readings for userspace: the clock of struct
 * hp_event.ts_ns (bpf_ktime_get_ns), so records and local times compare;
 * and the thread's CPU time.
 */
#ifndef HOTPAGE_CLOCK_H
#define HOTPAGE_CLOCK_H

#include <time.h>
#include <linux/types.h>

static inline __u64 hp_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static inline __u64 hp_monotonic_ms(void)
{
	return hp_monotonic_ns() / 1000000ULL;
}

/* The calling thread's CPU time, for the daemon's account of its own cost. */
static inline __u64 hp_thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

#endif /* HOTPAGE_CLOCK_H */
