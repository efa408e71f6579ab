// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark of the `fault` and `perf` sources and their transport, on the
 * running kernel (make bench-sources):
 *
 *   slowdown   a fault-heavy loop (mmap 256 MiB, touch every page, munmap)
 *              pinned to one CPU, in rounds alternating detached / attached
 *              so that the machine's drift cancels: each attached round is
 *              compared with the mean of the detached rounds around it,
 *              the median ratio is the slowdown. A round is the least CPU
 *              time of the loop's thread over two passes, so that other
 *              processes on a busy machine count less. Sources attached system-
 *              wide at their default sampling (and at period 1 to show
 *              what sampling buys); a consumer thread on another CPU
 *              drains the rings as the daemon would.
 *   BPF cost   BPF_STATS_RUN_TIME: run_time_ns / run_cnt of the source's
 *              program over a round (its own rounds: the stats cost time);
 *              also that time per record emitted, and the floor: a program
 *              that does nothing (tests/bpf/hp_empty.bpf.c) on the same
 *              hook (perf: the event at its default period), measured
 *              the same way, each hook alone in a round of its own; then
 *              one that only counts its runs in one map line per CPU,
 *              the least a source does, and one that also writes a
 *              64-byte record per run, the least a source emitting on
 *              every run does
 *   delivery   events/s delivered to userspace and the drop rate, per
 *              source at default sampling, and for the transport alone
 *              with a test producer (tests/bpf/hp_flood.bpf.c) paced at
 *              1 M events/s, then unpaced
 *   PFN        user/sources/pagemap.c resolving the fault source's events (default
 *              period) of a 256 MiB mapping that stays mapped: ns per
 *              event as the consumer receives them, all again long after
 *              (cold struct pages, fresh cache), and from the cache
 *
 * Prints a table; --out writes the JSON (slowdown_pct, bpf_ns_per_event,
 * events_per_s, drop_pct, pfn_resolve_ns_per_event, kernel, details).
 *
 *   bench_sources [--reps N] [--out FILE]
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fault_source.h"
#include "../bpf/hp_empty.h"
#include "hp_empty.skel.h"
#include "hp_flood.skel.h"
#include "pagemap.h"
#include "perf_source.h"
#include "source.h"
#include "transport.h"

#define REGION_BYTES (256UL << 20)
#define FLOOD_RATE 1000000 /* events/s */
#define FLOOD_BATCH 1000 /* events per producer call: one call per ms */
#define FLOOD_SECONDS 3
#define PFN_BATCH 256
#define MAX_CONFIGS 8
#define BPF_COST_PASSES 2
#define FLOOR_MAX_CPUS 1024

/* ---------------------------------------------------------------- helpers */

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int print_libbpf(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, format, args);
}

/* The workload: one pass over a fresh 256 MiB region, one fault per page. */
static void fault_pass(size_t page_size)
{
	char *map = mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);

	if (map == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	madvise(map, REGION_BYTES, MADV_NOHUGEPAGE);
	for (size_t off = 0; off < REGION_BYTES; off += page_size)
		((volatile char *)map)[off] = 1;
	munmap(map, REGION_BYTES);
}

/* ---------------------------------------------------------------- consumer */

/* A thread draining the rings, as the daemon's loop would; optionally keeping events. */
struct consumer {
	struct hp_transport *transport;
	pthread_t thread;
	volatile int stop;
	int cpu;
	__u64 events[HP_SRC_MAX + 1];
	struct hp_event *keep; /* NULL: count only */
	size_t keep_len, keep_cap;
	__u32 keep_tgid;
	/* With pm: resolve the kept events as they arrive, as the daemon would. */
	struct hp_pagemap *pm;
	size_t resolved_upto;
	__u64 resolve_ns, resolved;
};

static void resolve_kept(struct consumer *c)
{
	while (c->pm && c->resolved_upto < c->keep_len) {
		size_t n = c->keep_len - c->resolved_upto;
		__u64 t0 = now_ns();

		if (n > PFN_BATCH)
			n = PFN_BATCH;
		c->resolved += hp_pagemap_resolve_events(c->pm, c->keep + c->resolved_upto, n, t0);
		c->resolve_ns += now_ns() - t0;
		c->resolved_upto += n;
	}
}

static int on_event(const struct hp_event *ev, void *ctx)
{
	struct consumer *c = ctx;

	if (ev->source <= HP_SRC_MAX)
		c->events[ev->source]++;
	if (c->keep && ev->tgid == c->keep_tgid && c->keep_len < c->keep_cap)
		c->keep[c->keep_len++] = *ev;
	return 0;
}

static void *consumer_main(void *arg)
{
	struct consumer *c = arg;

	pin_to(c->cpu);
	while (!c->stop) {
		int ret = hp_transport_poll(c->transport, 20);

		if (ret < 0 && ret != -EINTR) {
			fprintf(stderr, "bench: poll: %s\n", strerror(-ret));
			break;
		}
		resolve_kept(c);
	}
	hp_transport_consume(c->transport);
	resolve_kept(c);
	return NULL;
}

static void consumer_start(struct consumer *c)
{
	memset(c->events, 0, sizeof(c->events));
	c->keep_len = 0;
	c->resolved_upto = 0;
	c->resolve_ns = 0;
	c->resolved = 0;
	c->stop = 0;
	if (pthread_create(&c->thread, NULL, consumer_main, c)) {
		fprintf(stderr, "bench: pthread_create failed\n");
		exit(1);
	}
}

static void consumer_stop(struct consumer *c)
{
	c->stop = 1;
	pthread_join(c->thread, NULL);
}

/* ---------------------------------------------------------------- sources */

struct config {
	const char *name;
	__u32 period; /* 0: each source's default */
	/* results */
	int nratios;
	double ratios[64];
	__u64 events, sampled, dropped, faults;
	double attached_s;
	double bpf_ns[2]; /* fault, perf: ns per run */
	double bpf_ns_emitted[2]; /* fault, perf: run time per record emitted */
	__u64 bpf_runs[2], bpf_emitted[2];
	__u64 perf_period; /* in effect */
	__u32 fault_period;
	bool fault, perf; /* the sources attached */
};

/* The event the perf source chose, for the table. */
static char perf_event_name[96] = "-";
/* The hooks the sources used, for the floor round. */
static struct perf_event_attr perf_attr;
static bool perf_attr_set;
static enum hp_fault_attach fault_attach = HP_FAULT_ATTACH_AUTO;

struct running {
	struct hp_source_instance *fault, *perf;
};

static void start_sources(struct hp_transport *transport, const struct config *cfg,
			  struct running *run)
{
	struct hp_perf_params params = { .event = HP_PERF_EVENT_AUTO };
	struct hp_source_opts opts = { .sample_period = cfg->period };
	char err[512];

	*run = (struct running){ 0 };
	if (cfg->fault && hp_fault_source_start(transport, &opts, HP_FAULT_ATTACH_AUTO, &run->fault,
						err, sizeof(err))) {
		fprintf(stderr, "bench: fault: %s\n", err);
		exit(77);
	}
	if (cfg->perf &&
	    hp_perf_source_start(transport, &opts, &params, &run->perf, err, sizeof(err))) {
		fprintf(stderr, "bench: perf: %s\n", err);
		exit(77);
	}
}

static void read_stats(const struct running *run, struct hp_source_stats *sum)
{
	struct hp_source_stats s;

	memset(sum, 0, sizeof(*sum));
	if (run->fault && !hp_source_read_stats(hp_source_fault.object(run->fault), &s)) {
		sum->sampled += s.sampled;
		sum->dropped += s.dropped + s.errors;
	}
	if (run->perf && !hp_source_read_stats(hp_source_perf.object(run->perf), &s)) {
		sum->sampled += s.sampled;
		sum->dropped += s.dropped + s.errors;
	}
}

static void stop_sources(struct running *run)
{
	hp_perf_source_stop(run->perf);
	hp_fault_source_stop(run->fault);
	*run = (struct running){ 0 };
}

/* The loaded program of a source object (the other entry point is not loaded). */
static int prog_fd(struct bpf_object *obj)
{
	struct bpf_program *prog;

	bpf_object__for_each_program (prog, obj)
		if (bpf_program__fd(prog) >= 0)
			return bpf_program__fd(prog);
	return -1;
}

static void prog_runtime(int fd, __u64 *run_ns, __u64 *runs)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	*run_ns = *runs = 0;
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
		*run_ns = info.run_time_ns;
		*runs = info.run_cnt;
	}
}

/* ---------------------------------------------------------------- phases */

static __u64 thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/*
 * The workload's cost per page: CPU time of this thread (the faults, and
 * the BPF programs they run, are accounted to it; time other processes
 * take this CPU is not), the least of PASSES passes (interference only
 * ever adds).
 */
#define PASSES 2

static double timed_passes(size_t page_size, double *wall_s)
{
	double best = 0;

	for (int i = 0; i < PASSES; i++) {
		__u64 t0 = thread_cpu_ns(), w0 = now_ns();
		double ns;

		fault_pass(page_size);
		ns = (double)(thread_cpu_ns() - t0) * (double)page_size / (double)REGION_BYTES;
		if (!i || ns < best)
			best = ns;
		if (wall_s)
			*wall_s += (double)(now_ns() - w0) / 1e9;
	}
	return best;
}

/*
 * Rounds: detached, config 1, detached, config 2, ... each attached round
 * compared with the mean of the detached rounds on either side.
 */
static double slowdown_rounds(struct consumer *consumer, struct config *configs, int nconfigs,
			      int reps, size_t page_size)
{
	double detached_ns[512], prev_ns;
	int ndetached = 0;

	/* Warm-up: page tables, allocator, caches. */
	fault_pass(page_size);
	prev_ns = timed_passes(page_size, NULL);
	detached_ns[ndetached++] = prev_ns;
	for (int rep = 0; rep < reps; rep++) {
		for (int i = 0; i < nconfigs; i++) {
			struct config *cfg = &configs[i];
			struct hp_source_stats before, after;
			struct running run;
			double attached_ns, next_ns;

			start_sources(consumer->transport, cfg, &run);
			if (run.fault)
				cfg->fault_period =
					cfg->period ? cfg->period : HP_FAULT_SAMPLE_PERIOD_DEFAULT;
			if (run.perf) {
				cfg->perf_period = hp_perf_source_period(run.perf);
				snprintf(perf_event_name, sizeof(perf_event_name), "%s",
					 hp_perf_source_choice(run.perf)->name);
			}
			read_stats(&run, &before);
			consumer_start(consumer);
			attached_ns = timed_passes(page_size, &cfg->attached_s);
			consumer_stop(consumer);
			read_stats(&run, &after);
			stop_sources(&run);
			next_ns = timed_passes(page_size, NULL);

			cfg->ratios[cfg->nratios++] = attached_ns / ((prev_ns + next_ns) / 2);
			cfg->events +=
				consumer->events[HP_SRC_FAULT] + consumer->events[HP_SRC_PERF];
			cfg->sampled += after.sampled - before.sampled;
			cfg->dropped += after.dropped - before.dropped;
			cfg->faults += PASSES * (REGION_BYTES / page_size);
			if (ndetached < 512)
				detached_ns[ndetached++] = next_ns;
			prev_ns = next_ns;
			fprintf(stderr, "\r  rep %d/%d %-12s %+6.2f%%   ", rep + 1, reps, cfg->name,
				(cfg->ratios[cfg->nratios - 1] - 1) * 100);
		}
	}
	fprintf(stderr, "\r%60s\r", "");
	return median(detached_ns, ndetached);
}

static void source_emitted(struct hp_source_instance *src, const struct hp_source_ops *ops,
			   __u64 *emitted)
{
	struct hp_source_stats s;

	*emitted = src && !hp_source_read_stats(ops->object(src), &s) ? s.emitted : 0;
}

/* BPF_STATS_RUN_TIME over BPF_COST_PASSES passes per configuration, in rounds of their own. */
static int bpf_cost(struct consumer *consumer, struct config *configs, int nconfigs,
		    size_t page_size)
{
	int stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	if (stats_fd < 0)
		return -errno;
	for (int i = 0; i < nconfigs; i++) {
		struct config *cfg = &configs[i];
		struct running run;
		__u64 ns0[2], runs0[2], ns1[2], runs1[2], em0[2], em1[2];
		int fds[2];

		start_sources(consumer->transport, cfg, &run);
		if (run.fault)
			fault_attach = hp_fault_source_attach(run.fault);
		/* The floor runs at the perf event's default period: the headline's. */
		if (run.perf && !perf_attr_set) {
			perf_attr = hp_perf_source_choice(run.perf)->attr;
			perf_attr_set = true;
		}
		fds[0] = run.fault ? prog_fd(hp_source_fault.object(run.fault)) : -1;
		fds[1] = run.perf ? prog_fd(hp_source_perf.object(run.perf)) : -1;
		for (int s = 0; s < 2; s++)
			prog_runtime(fds[s], &ns0[s], &runs0[s]);
		source_emitted(run.fault, &hp_source_fault, &em0[0]);
		source_emitted(run.perf, &hp_source_perf, &em0[1]);
		consumer_start(consumer);
		for (int pass = 0; pass < BPF_COST_PASSES; pass++)
			fault_pass(page_size);
		consumer_stop(consumer);
		source_emitted(run.fault, &hp_source_fault, &em1[0]);
		source_emitted(run.perf, &hp_source_perf, &em1[1]);
		for (int s = 0; s < 2; s++) {
			prog_runtime(fds[s], &ns1[s], &runs1[s]);
			cfg->bpf_runs[s] = runs1[s] - runs0[s];
			cfg->bpf_emitted[s] = em1[s] - em0[s];
			cfg->bpf_ns[s] = cfg->bpf_runs[s] ? (double)(ns1[s] - ns0[s]) /
								    (double)cfg->bpf_runs[s]
							  : 0;
			cfg->bpf_ns_emitted[s] =
				cfg->bpf_emitted[s]
					? (double)(ns1[s] - ns0[s]) / (double)cfg->bpf_emitted[s]
					: 0;
		}
		stop_sources(&run);
	}
	close(stats_fd);
	return 0;
}

/*
 * Attach @prog to the fault source's hook (@perf false) or to the perf
 * source's event on every online CPU (same attributes); the links into
 * @links, their number returned, or -errno.
 */
static int floor_attach(struct bpf_program *prog, bool perf, struct bpf_link **links)
{
	int ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN), nlinks = 0;

	if (!perf) {
		links[0] = bpf_program__attach(prog);
		return links[0] ? 1 : -errno;
	}
	if (ncpus > FLOOR_MAX_CPUS)
		ncpus = FLOOR_MAX_CPUS;
	for (int cpu = 0; cpu < ncpus; cpu++) {
		int pfd = (int)syscall(__NR_perf_event_open, &perf_attr, -1, cpu, -1,
				       PERF_FLAG_FD_CLOEXEC);

		if (pfd < 0)
			continue; /* offline CPU: the source skipped it too */
		links[nlinks] = bpf_program__attach_perf_event(prog, pfd);
		if (!links[nlinks]) {
			int ret = -errno;

			close(pfd);
			while (nlinks)
				bpf_link__destroy(links[--nlinks]);
			return ret;
		}
		nlinks++;
	}
	return nlinks;
}

/* What the floor programs do per run. */
enum floor_kind {
	FLOOR_EMPTY, /* nothing */
	FLOOR_COUNT, /* count the run in one map line */
	FLOOR_RECORD, /* that, and write a 64-byte record */
	FLOOR_KINDS,
};

/* @prog: the programs' name stem in hp_empty.bpf.c (hp_<prog>_{btf,tp,perf}). */
static const struct {
	const char *what, *key, *prog;
} floor_rows[FLOOR_KINDS] = {
	[FLOOR_EMPTY] = { "empty (the floor: BPF_STATS' clock reads)", "bpf_floor_ns_per_run",
			  "empty" },
	[FLOOR_COUNT] = { "counting runs in one map line per CPU", "bpf_count_ns_per_run", "line" },
	[FLOOR_RECORD] = { "counting, and writing a 64-byte record per run",
			   "bpf_count_record_ns_per_run", "record" },
};

/* hp_empty.bpf.c's program hp_<stem>_<hook>, or NULL. */
static struct bpf_program *floor_prog(struct hp_empty *skel, const char *stem, const char *hook)
{
	char name[64];

	snprintf(name, sizeof(name), "hp_%s_%s", stem, hook);
	return bpf_object__find_program_by_name(skel->obj, name);
}

/*
 * The floor: an empty program on the fault source's tracepoint, then one
 * on the perf source's event, each alone in a round of its own like the
 * sources (a program on the other hook would warm what this one's runs
 * touch, the clock above all); or programs that do @kind's work instead.
 * ns per run into floor[0] (fault) and floor[1] (perf).
 */
static int bpf_floor(struct consumer *consumer, size_t page_size, enum floor_kind kind,
		     double floor[2])
{
	struct bpf_link *links[FLOOR_MAX_CPUS];
	struct bpf_program *progs[2], *prog;
	struct hp_empty *skel = NULL;
	int ncpus = libbpf_num_possible_cpus();
	int nlinks, stats_fd, ret = 0;

	floor[0] = floor[1] = 0;
	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	skel = hp_empty__open();
	if (!skel)
		return -errno;
	progs[0] = floor_prog(skel, floor_rows[kind].prog,
			      fault_attach == HP_FAULT_ATTACH_TRACEPOINT ? "tp" : "btf");
	progs[1] = floor_prog(skel, floor_rows[kind].prog, "perf");
	if (!progs[0] || !progs[1]) {
		hp_empty__destroy(skel);
		return -ENOENT;
	}
	/* Load only the two measured: the other fault hook may not exist here. */
	bpf_object__for_each_program (prog, skel->obj)
		bpf_program__set_autoload(prog, prog == progs[0] || prog == progs[1]);
	ret = bpf_map__set_max_entries(skel->maps.hp_records, (__u32)ncpus * HP_RECORD_SLOTS);
	if (!ret)
		ret = hp_empty__load(skel);
	for (int s = 0; !ret && s < 2; s++) {
		__u64 ns0, runs0, ns1, runs1;

		if (s == 1 && !perf_attr_set)
			break;
		nlinks = floor_attach(progs[s], s == 1, links);
		if (nlinks < 0) {
			ret = nlinks;
			break;
		}
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd >= 0) {
			prog_runtime(bpf_program__fd(progs[s]), &ns0, &runs0);
			consumer_start(consumer);
			for (int pass = 0; pass < BPF_COST_PASSES; pass++)
				fault_pass(page_size);
			consumer_stop(consumer);
			prog_runtime(bpf_program__fd(progs[s]), &ns1, &runs1);
			floor[s] =
				runs1 > runs0 ? (double)(ns1 - ns0) / (double)(runs1 - runs0) : 0;
			close(stats_fd);
		} else {
			ret = -errno;
		}
		/* A perf link owns its event fd: destroying it closes the event. */
		while (nlinks)
			bpf_link__destroy(links[--nlinks]);
	}
	hp_empty__destroy(skel);
	return ret;
}

struct flood_result {
	double delivered_per_s, drop_pct;
	__u64 sampled, dropped;
};

/* The transport alone: hp_flood emits into the ring of the producer's CPU. */
static int flood(struct consumer *consumer, int producer_cpu, __u64 rate, double seconds,
		 struct flood_result *out)
{
	struct {
		__u32 n;
	} args = { .n = FLOOD_BATCH };
	LIBBPF_OPTS(bpf_test_run_opts, topts, .ctx_in = &args, .ctx_size_in = sizeof(args));
	struct hp_source_stats before, after;
	struct hp_flood *skel = hp_flood__open();
	__u64 interval_ns = rate ? 1000000000ULL * FLOOD_BATCH / rate : 0, t0, deadline, elapsed;
	int fd, ret;

	if (!skel)
		return -errno;
	ret = hp_source_prepare(skel->obj, consumer->transport);
	if (!ret)
		ret = hp_flood__load(skel);
	if (!ret)
		ret = hp_transport_stage_add(consumer->transport, skel->obj);
	if (ret) {
		hp_flood__destroy(skel);
		return ret;
	}
	fd = bpf_program__fd(skel->progs.hp_flood);
	hp_source_read_stats(skel->obj, &before);
	consumer_start(consumer);
	pin_to(producer_cpu);
	t0 = now_ns();
	deadline = t0;
	while (now_ns() - t0 < (__u64)(seconds * 1e9)) {
		if (bpf_prog_test_run_opts(fd, &topts)) {
			ret = -errno;
			break;
		}
		if (!interval_ns)
			continue;
		deadline += interval_ns;
		{
			struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000000ULL),
					       .tv_nsec = (long)(deadline % 1000000000ULL) };

			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
	}
	elapsed = now_ns() - t0;
	consumer_stop(consumer);
	hp_source_read_stats(skel->obj, &after);
	out->sampled = after.sampled - before.sampled;
	out->dropped = after.dropped + after.errors - before.dropped - before.errors;
	out->delivered_per_s = (double)consumer->events[HP_SRC_MAX] * 1e9 / (double)elapsed;
	out->drop_pct = out->sampled ? 100.0 * (double)out->dropped / (double)out->sampled : 0;
	hp_transport_stage_remove(consumer->transport, skel->obj);
	hp_flood__destroy(skel);
	return ret;
}

struct pfn_result {
	double online_ns, cold_ns, cached_ns;
	size_t events;
	__u64 resolved;
};

/* Resolve @events again in batches with @pm; ns per event. */
static double resolve_again(struct hp_pagemap *pm, struct hp_event *events, size_t n)
{
	__u64 total_ns = 0;

	for (size_t i = 0; i < n; i += PFN_BATCH) {
		size_t k = n - i < PFN_BATCH ? n - i : PFN_BATCH;
		__u64 t0 = now_ns();

		for (size_t j = i; j < i + k; j++) {
			events[j].pfn = HP_PFN_UNKNOWN;
			events[j].page_node = HP_NODE_UNKNOWN;
		}
		hp_pagemap_resolve_events(pm, events + i, k, t0);
		total_ns += now_ns() - t0;
	}
	return n ? (double)total_ns / (double)n : 0;
}

/*
 * The fault source's events (default period) of a 256 MiB mapping that
 * stays: resolved by the consumer as they arrive (the daemon's case, the
 * headline), then all again with a fresh cache long after the faults
 * (cold), then once more (from the cache).
 */
static int pfn_cost(struct consumer *consumer, size_t page_size, struct pfn_result *out)
{
	size_t pages = REGION_BYTES / page_size;
	__u32 tgid = (__u32)getpid();
	struct hp_source_opts opts = {
		.filter_mode = HP_FILTER_TGIDS,
		.tgids = &tgid,
		.nr_tgids = 1,
	};
	struct hp_pagemap_opts pm_opts = { 0 };
	struct hp_source_instance *src = NULL;
	struct hp_pagemap *pm = NULL;
	char err[512];
	char *map;
	int ret = 0;

	consumer->keep_cap = pages + 1024;
	consumer->keep = calloc(consumer->keep_cap, sizeof(*consumer->keep));
	consumer->keep_tgid = tgid;
	if (!consumer->keep)
		return -ENOMEM;
	if (hp_pagemap_new(&pm_opts, &consumer->pm, err, sizeof(err)) ||
	    hp_fault_source_start(consumer->transport, &opts, HP_FAULT_ATTACH_AUTO, &src, err,
				  sizeof(err))) {
		fprintf(stderr, "bench: %s\n", err);
		ret = -EINVAL;
		goto out;
	}
	map = mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	madvise(map, REGION_BYTES, MADV_NOHUGEPAGE);
	consumer_start(consumer);
	for (size_t off = 0; off < REGION_BYTES; off += page_size)
		((volatile char *)map)[off] = 1;
	usleep(100 * 1000);
	consumer_stop(consumer);
	out->events = consumer->keep_len;
	out->resolved = consumer->resolved;
	out->online_ns =
		consumer->keep_len ? (double)consumer->resolve_ns / (double)consumer->keep_len : 0;
	if (!hp_pagemap_new(&pm_opts, &pm, err, sizeof(err))) {
		out->cold_ns = resolve_again(pm, consumer->keep, consumer->keep_len);
		out->cached_ns = resolve_again(pm, consumer->keep, consumer->keep_len);
		hp_pagemap_free(pm);
	}
	munmap(map, REGION_BYTES);
out:
	hp_fault_source_stop(src);
	hp_pagemap_free(consumer->pm);
	consumer->pm = NULL;
	free(consumer->keep);
	consumer->keep = NULL;
	return ret;
}

/* ---------------------------------------------------------------- main */

static const char usage[] = "Usage: bench_sources [--reps N] [--out FILE]\n"
			    "Benchmark of the fault and perf sources; run as root.\n";

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "reps", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config configs[] = {
		{ .name = "fault", .fault = true },
		{ .name = "perf", .perf = true },
		{ .name = "fault+perf", .fault = true, .perf = true },
		{ .name = "fault p=1", .fault = true, .period = 1 },
		{ .name = "perf p=1", .perf = true, .period = 1 },
	};
	int nconfigs = (int)(sizeof(configs) / sizeof(configs[0]));
	struct hp_transport_opts topts = { .on_event = on_event };
	struct consumer consumer = { 0 };
	struct flood_result paced = { 0 }, unpaced = { 0 };
	struct pfn_result pfn = { 0 };
	size_t page_size = (size_t)sysconf(_SC_PAGESIZE);
	int ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN), reps = 6, opt, ret;
	double detached_ns, worst_slowdown = 0, worst_bpf = 0, floor[FLOOR_KINDS][2] = { { 0 } };
	const char *out_path = NULL;
	struct utsname uts;
	char err[512];
	FILE *out;

	while ((opt = getopt_long(argc, argv, "r:o:h", long_options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			reps = atoi(optarg);
			if (reps < 1 || reps > 60) {
				fprintf(stderr, "bench_sources: --reps 1..60\n");
				return 2;
			}
			break;
		case 'o':
			out_path = optarg;
			break;
		default:
			fputs(usage, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench_sources: needs root\n");
		return 77;
	}
	libbpf_set_print(print_libbpf);
	uname(&uts);
	setvbuf(stdout, NULL, _IOLBF, 0);

	topts.ctx = &consumer;
	ret = hp_transport_new(&topts, &consumer.transport, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "bench_sources: %s\n", err);
		return 1;
	}
	/* The workload on the last CPU, the consumer on the first. */
	consumer.cpu = 0;
	pin_to(ncpus > 1 ? ncpus - 1 : 0);

	printf("hotpage sources benchmark: kernel %s, %d CPUs, %zu-byte pages, rings of %u "
	       "bytes per CPU\n",
	       uts.release, ncpus, page_size, hp_transport_ring_bytes(consumer.transport));
	printf("workload: mmap %lu MiB, touch every page, munmap; %d reps of %d configurations "
	       "between detached rounds\n",
	       REGION_BYTES >> 20, reps, nconfigs);
	detached_ns = slowdown_rounds(&consumer, configs, nconfigs, reps, page_size);
	ret = bpf_cost(&consumer, configs, nconfigs, page_size);
	if (ret)
		fprintf(stderr, "bench: BPF_STATS_RUN_TIME: %s\n", strerror(-ret));
	for (int kind = 0; kind < FLOOR_KINDS; kind++) {
		ret = bpf_floor(&consumer, page_size, (enum floor_kind)kind, floor[kind]);
		if (ret)
			fprintf(stderr, "bench: floor (%s): %s\n", floor_rows[kind].what,
				strerror(-ret));
	}
	ret = flood(&consumer, ncpus > 1 ? ncpus - 1 : 0, FLOOD_RATE, FLOOD_SECONDS, &paced);
	if (!ret)
		ret = flood(&consumer, ncpus > 1 ? ncpus - 1 : 0, 0, 1, &unpaced);
	if (ret)
		fprintf(stderr, "bench: flood: %s\n", strerror(-ret));
	ret = pfn_cost(&consumer, page_size, &pfn);
	if (ret)
		fprintf(stderr, "bench: PFN resolution: %s\n", strerror(-ret));

	printf("\ndetached: %.0f ns of CPU per fault (median)\n", detached_ns);
	printf("perf event: %s\n\n", perf_event_name);
	printf("%-12s %7s %10s %12s %12s %12s %12s %7s\n", "source", "1 in", "slowdown%",
	       "bpf ns/run", "ns/emitted", "runs/fault", "events/s", "drop%");
	for (int i = 0; i < nconfigs; i++) {
		struct config *cfg = &configs[i];
		double slowdown = (median(cfg->ratios, cfg->nratios) - 1) * 100;
		double bpf = cfg->bpf_ns[0] > cfg->bpf_ns[1] ? cfg->bpf_ns[0] : cfg->bpf_ns[1];
		__u64 runs = cfg->bpf_runs[0] + cfg->bpf_runs[1];
		__u64 emitted = cfg->bpf_emitted[0] + cfg->bpf_emitted[1];
		double total_ns = cfg->bpf_ns[0] * (double)cfg->bpf_runs[0] +
				  cfg->bpf_ns[1] * (double)cfg->bpf_runs[1];
		char period[16];

		if (cfg->fault && cfg->perf)
			snprintf(period, sizeof(period), "%u,%llu", cfg->fault_period,
				 (unsigned long long)cfg->perf_period);
		else if (cfg->fault)
			snprintf(period, sizeof(period), "%u", cfg->fault_period);
		else
			snprintf(period, sizeof(period), "%llu",
				 (unsigned long long)cfg->perf_period);
		printf("%-12s %7s %+10.2f %12.1f %12.1f %12.2f %12.0f %7.3f\n", cfg->name, period,
		       slowdown, bpf, emitted ? total_ns / (double)emitted : 0,
		       (double)runs * (double)page_size / (double)REGION_BYTES,
		       cfg->attached_s ? (double)cfg->events / cfg->attached_s : 0,
		       cfg->sampled ? 100.0 * (double)cfg->dropped / (double)cfg->sampled : 0);
		if (!cfg->period && !(cfg->fault && cfg->perf)) {
			if (slowdown > worst_slowdown)
				worst_slowdown = slowdown;
			if (bpf > worst_bpf)
				worst_bpf = bpf;
		}
	}
	printf("\nprograms alone on the same hooks (perf: default period), bpf ns/run:\n");
	for (int kind = 0; kind < FLOOR_KINDS; kind++)
		printf("  %-58s fault %6.1f   perf %6.1f\n", floor_rows[kind].what, floor[kind][0],
		       floor[kind][1]);
	printf("\ntransport alone (hp_flood, one producer CPU): paced at %d/s: %.0f events/s "
	       "delivered, %.3f%% dropped; unpaced: %.0f events/s, %.3f%% dropped\n",
	       FLOOD_RATE, paced.delivered_per_s, paced.drop_pct, unpaced.delivered_per_s,
	       unpaced.drop_pct);
	printf("PFN resolution (%zu fault events at 1 in %u of a 256 MiB mapping, %llu resolved, "
	       "batches of up to %d): %.0f ns/event as they arrive, %.0f ns/event cold afterwards, "
	       "%.0f ns/event cached\n",
	       pfn.events, HP_FAULT_SAMPLE_PERIOD_DEFAULT, (unsigned long long)pfn.resolved,
	       PFN_BATCH, pfn.online_ns, pfn.cold_ns, pfn.cached_ns);

	if (out_path) {
		out = fopen(out_path, "w");
		if (!out) {
			perror(out_path);
			return 1;
		}
		fprintf(out, "{\n  \"kernel\": \"%s\",\n  \"cpus\": %d,\n", uts.release, ncpus);
		fprintf(out, "  \"perf_event\": \"%s\",\n", perf_event_name);
		fprintf(out, "  \"slowdown_pct\": %.2f,\n  \"bpf_ns_per_event\": %.1f,\n",
			worst_slowdown, worst_bpf);
		fprintf(out, "  \"events_per_s\": %.0f,\n  \"drop_pct\": %.4f,\n",
			paced.delivered_per_s, paced.drop_pct);
		fprintf(out, "  \"pfn_resolve_ns_per_event\": %.0f,\n", pfn.online_ns);
		for (int kind = 0; kind < FLOOR_KINDS; kind++)
			fprintf(out, "  \"%s\": { \"fault\": %.1f, \"perf\": %.1f },\n",
				floor_rows[kind].key, floor[kind][0], floor[kind][1]);
		fprintf(out, "  \"detached_ns_per_fault\": %.0f,\n  \"reps\": %d,\n", detached_ns,
			reps);
		fprintf(out, "  \"sources\": {\n");
		for (int i = 0; i < nconfigs; i++) {
			struct config *cfg = &configs[i];

			fprintf(out,
				"    \"%s\": { \"period\": [%u, %llu], \"slowdown_pct\": %.2f, "
				"\"bpf_ns_per_run\": [%.1f, %.1f], \"bpf_ns_per_emitted\": [%.1f, %.1f], "
				"\"events_per_s\": %.0f, "
				"\"drop_pct\": %.4f }%s\n",
				cfg->name, cfg->fault_period, (unsigned long long)cfg->perf_period,
				(median(cfg->ratios, cfg->nratios) - 1) * 100, cfg->bpf_ns[0],
				cfg->bpf_ns[1], cfg->bpf_ns_emitted[0], cfg->bpf_ns_emitted[1],
				cfg->attached_s ? (double)cfg->events / cfg->attached_s : 0,
				cfg->sampled ? 100.0 * (double)cfg->dropped / (double)cfg->sampled
					     : 0,
				i + 1 < nconfigs ? "," : "");
		}
		fprintf(out, "  },\n");
		fprintf(out,
			"  \"transport\": { \"paced_rate\": %d, \"paced_delivered_per_s\": %.0f, "
			"\"paced_drop_pct\": %.4f, \"unpaced_delivered_per_s\": %.0f, "
			"\"unpaced_drop_pct\": %.4f },\n",
			FLOOD_RATE, paced.delivered_per_s, paced.drop_pct, unpaced.delivered_per_s,
			unpaced.drop_pct);
		fprintf(out,
			"  \"pfn\": { \"events\": %zu, \"resolved\": %llu, \"online_ns\": %.0f, "
			"\"cold_ns\": %.0f, \"cached_ns\": %.0f }\n}\n",
			pfn.events, (unsigned long long)pfn.resolved, pfn.online_ns, pfn.cold_ns,
			pfn.cached_ns);
		fclose(out);
		printf("\nwrote %s\n", out_path);
	}
	hp_transport_free(consumer.transport);
	return 0;
}
