// SPDX-License-Identifier: GPL-2.0
/*
 * Aggregation benchmark (make bench-aggregate): synthetic access events into
 * the hotness table (user/hotness.c) on one core, the daemon's hot path.
 * Prints a table and writes JSON with events_per_s_uniform,
 * events_per_s_skewed and bytes_per_page (plus the other measurements).
 *
 * Streams, each into a default-budget table (64 MiB, 2.36 M pages):
 *   uniform          uniformly over 2 M pages (8 GiB; 85% of capacity)
 *   skewed           Zipf (s = 0.99, as YCSB) over the same 2 M pages
 *   skewed-overflow  Zipf (s = 0.99) over 16 M pages: the tail keeps evicting
 *   uniform-churn    uniformly over 16 M pages: most events evict a page
 * The last two measure the eviction path (it reads both candidate buckets,
 * eight cache lines); the first two the daemon's steady state.
 * Each stream runs once untimed (the table warms up), then three timed
 * passes; the median counts. The daemon's path is hp_hotness_record_batch()
 * on batches of 256 events, as drained from a ring buffer: that is the
 * headline. "single" feeds the same events one hp_hotness_record() call
 * each. Simulated time advances 100 ns per event, so windows pass and
 * decay runs (1 s window: every 10 M events).
 *
 * The benchmark stays on the CPU it starts on. Rates are per second of
 * that thread's CPU time (events_per_s_*: what one core sustains, however
 * busy the host's other cores are) and per second of wall time (*_wall;
 * lower when other work shares the core).
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotness.h"

#define EVENTS_PER_PASS (16u << 20)
#define PASSES 3
#define BATCH 256
#define SIM_NS_PER_EVENT 100
#define PFN_BASE 0x100000ULL /* 4 GiB: clear of low memory */

/* xoshiro256** : fast, good enough for workloads. */
struct rng {
	__u64 s[4];
};

static __u64 rotl(__u64 x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static __u64 rng_next(struct rng *r)
{
	__u64 result = rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rotl(r->s[3], 45);
	return result;
}

static void rng_seed(struct rng *r, __u64 seed)
{
	for (int i = 0; i < 4; i++) {
		/* splitmix64 */
		__u64 z = (seed += 0x9e3779b97f4a7c15ULL);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		r->s[i] = z ^ (z >> 31);
	}
}

static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/*
 * Zipf over ranks 1..n with exponent s, by rejection-inversion (Hörmann and
 * Derflinger 1996): O(1) per sample, no table.
 */
struct zipf {
	double s, h_x1, h_n, threshold;
	__u64 n;
};

static double zipf_h(const struct zipf *z, double x)
{
	return exp((1 - z->s) * log(x)) / (1 - z->s);
}

static double zipf_h_inv(const struct zipf *z, double x)
{
	return exp(log(x * (1 - z->s)) / (1 - z->s));
}

static void zipf_init(struct zipf *z, __u64 n, double s)
{
	z->n = n;
	z->s = s;
	z->h_x1 = zipf_h(z, 1.5) - 1;
	z->h_n = zipf_h(z, (double)n + 0.5);
	z->threshold = 2 - zipf_h_inv(z, zipf_h(z, 2.5) - exp(-s * log(2)));
}

static __u64 zipf_next(const struct zipf *z, struct rng *r)
{
	for (;;) {
		double u = z->h_n + rng_unit(r) * (z->h_x1 - z->h_n);
		double x = zipf_h_inv(z, u);
		double k = floor(x + 0.5);

		if (k < 1)
			k = 1;
		else if (k > (double)z->n)
			k = (double)z->n;
		if (k - x <= z->threshold || u >= zipf_h(z, k + 0.5) - exp(-z->s * log(k)))
			return (__u64)k;
	}
}

enum stream { STREAM_UNIFORM, STREAM_SKEWED, STREAM_SKEWED_OVERFLOW, STREAM_CHURN, NR_STREAMS };

static const char *const stream_names[NR_STREAMS] = { "uniform", "skewed", "skewed-overflow",
						      "uniform-churn" };

#define SMALL_SET (2u << 20)
#define LARGE_SET (16u << 20)

static void generate(enum stream kind, __u64 *pfns, size_t n, __u64 seed)
{
	struct zipf small, large;
	struct rng r;

	rng_seed(&r, seed);
	zipf_init(&small, SMALL_SET, 0.99);
	zipf_init(&large, LARGE_SET, 0.99);
	for (size_t i = 0; i < n; i++) {
		switch (kind) {
		case STREAM_UNIFORM:
			pfns[i] = PFN_BASE + rng_next(&r) % SMALL_SET;
			break;
		case STREAM_SKEWED:
			pfns[i] = PFN_BASE + zipf_next(&small, &r) - 1;
			break;
		case STREAM_SKEWED_OVERFLOW:
			pfns[i] = PFN_BASE + zipf_next(&large, &r) - 1;
			break;
		default:
			pfns[i] = PFN_BASE + rng_next(&r) % LARGE_SET;
			break;
		}
	}
}

static double seconds(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Events per second of CPU time and of wall time. */
struct rate {
	double cpu;
	double wall;
};

static void event_for(struct hp_event *ev, __u64 pfn)
{
	*ev = (struct hp_event){
		.version = HP_EVENT_VERSION,
		.source = HP_SRC_FAULT,
		.flags = HP_EV_READ,
		.cpu_node = 0,
		.tgid = 4242,
		.pid = 4242,
		.addr = 0x7f0000000000ULL + (pfn << 12),
		.pfn = pfn,
		.page_node = 1,
		.nr_accesses = 1,
	};
}

/* Feed one pass. */
static struct rate feed(struct hp_hotness *table, const __u64 *pfns, size_t n, __u64 *now,
			bool batch)
{
	static struct hp_event ev[BATCH];
	static struct hp_hot_input in[BATCH];
	double cpu0 = seconds(CLOCK_THREAD_CPUTIME_ID), wall0 = seconds(CLOCK_MONOTONIC);

	for (size_t i = 0; i < n; i += BATCH) {
		size_t len = n - i < BATCH ? n - i : BATCH;
		long credited = 0;

		for (size_t k = 0; k < len; k++) {
			event_for(&ev[k], pfns[i + k]);
			in[k] = (struct hp_hot_input){ .ev = &ev[k],
						       .pfn = pfns[i + k],
						       .page_node = 1 };
		}
		*now += len * SIM_NS_PER_EVENT;
		if (batch) {
			credited = hp_hotness_record_batch(table, in, len, *now);
		} else {
			for (size_t k = 0; k < len; k++)
				credited += hp_hotness_record(table, &ev[k], pfns[i + k], 1, *now);
		}
		if (credited != (long)len) {
			fprintf(stderr, "bench: %ld of %zu events credited\n", credited, len);
			exit(1);
		}
	}
	return (struct rate){ .cpu = (double)n / (seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0),
			      .wall = (double)n / (seconds(CLOCK_MONOTONIC) - wall0) };
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	struct rate batch; /* hp_hotness_record_batch() */
	struct rate single; /* one call per event */
	struct hp_hotness_stats stats;
};

/* The median of PASSES rates, CPU and wall separately. */
static struct rate median(struct rate *r)
{
	double cpu[PASSES], wall[PASSES];

	for (int p = 0; p < PASSES; p++) {
		cpu[p] = r[p].cpu;
		wall[p] = r[p].wall;
	}
	qsort(cpu, PASSES, sizeof(cpu[0]), cmp_double);
	qsort(wall, PASSES, sizeof(wall[0]), cmp_double);
	return (struct rate){ .cpu = cpu[PASSES / 2], .wall = wall[PASSES / 2] };
}

static void run_stream(enum stream kind, __u64 *pfns, struct result *res)
{
	struct rate batched[PASSES], single[PASSES];
	struct hp_hotness *table;
	__u64 now = 1000000000ULL;
	int err;

	generate(kind, pfns, EVENTS_PER_PASS, 1 + kind);
	err = hp_hotness_create(NULL, now, &table);
	if (err) {
		fprintf(stderr, "bench: hp_hotness_create: %s\n", strerror(-err));
		exit(1);
	}
	feed(table, pfns, EVENTS_PER_PASS, &now, true); /* warm-up */
	for (int p = 0; p < PASSES; p++) {
		batched[p] = feed(table, pfns, EVENTS_PER_PASS, &now, true);
		single[p] = feed(table, pfns, EVENTS_PER_PASS, &now, false);
	}
	res->batch = median(batched);
	res->single = median(single);
	hp_hotness_get_stats(table, &res->stats);
	hp_hotness_destroy(table);
}

/* Over all passes, warm-up included. */
static double evictions_per_event(const struct result *r)
{
	return (double)r->stats.evictions / ((1 + 2 * PASSES) * (double)EVENTS_PER_PASS);
}

/* Distinct random pages into a fresh table until the first eviction. */
static double fill_at_first_eviction(void)
{
	struct hp_event ev = { .version = HP_EVENT_VERSION, .source = HP_SRC_FAULT, .tgid = 1 };
	struct hp_hotness_stats st;
	struct hp_hotness *table;
	struct rng r;
	__u64 now = 1;

	rng_seed(&r, 99);
	if (hp_hotness_create(NULL, now, &table))
		exit(1);
	do {
		/* 2^40 PFNs: repeats are rare enough not to matter. */
		hp_hotness_record(table, &ev, rng_next(&r) & HP_HOT_PFN_MAX, 0, ++now);
		hp_hotness_get_stats(table, &st);
	} while (!st.evictions);
	hp_hotness_destroy(table);
	return (double)(st.tracked + 1) / (double)st.capacity;
}

/* JSON keys per stream. */
static const char *const stream_keys[NR_STREAMS] = { "uniform", "skewed", "skewed_overflow",
						     "uniform_churn" };

static int write_json(const char *path, const struct result *res, double bytes_per_page,
		      double fill)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "{\n");
	for (int s = 0; s < NR_STREAMS; s++) {
		fprintf(f, "  \"events_per_s_%s\": %.0f,\n", stream_keys[s], res[s].batch.cpu);
		fprintf(f, "  \"events_per_s_%s_wall\": %.0f,\n", stream_keys[s],
			res[s].batch.wall);
		fprintf(f, "  \"events_per_s_%s_single_call\": %.0f,\n", stream_keys[s],
			res[s].single.cpu);
		fprintf(f, "  \"events_per_s_%s_single_call_wall\": %.0f,\n", stream_keys[s],
			res[s].single.wall);
		fprintf(f, "  \"evictions_per_event_%s\": %.3f,\n", stream_keys[s],
			evictions_per_event(&res[s]));
	}
	fprintf(f, "  \"bytes_per_page\": %.2f,\n", bytes_per_page);
	fprintf(f, "  \"table_bytes\": %llu,\n", (unsigned long long)res[0].stats.bytes);
	fprintf(f, "  \"capacity_pages\": %llu,\n", (unsigned long long)res[0].stats.capacity);
	fprintf(f, "  \"fill_at_first_eviction\": %.4f,\n", fill);
	fprintf(f, "  \"events_per_pass\": %u\n}\n", EVENTS_PER_PASS);
	return fclose(f) ? -errno : 0;
}

int main(int argc, char **argv)
{
	const char *json_path = NULL;
	struct result res[NR_STREAMS];
	double fill, bytes_per_page, bytes_per_slot;
	cpu_set_t one_cpu;
	__u64 *pfns;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			json_path = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--out FILE]\n", argv[0]);
			return 2;
		}
	}
	CPU_ZERO(&one_cpu);
	CPU_SET(sched_getcpu(), &one_cpu);
	if (sched_setaffinity(0, sizeof(one_cpu), &one_cpu))
		fprintf(stderr, "bench: staying on one CPU: %s (continuing)\n", strerror(errno));
	pfns = malloc(EVENTS_PER_PASS * sizeof(*pfns));
	if (!pfns) {
		fprintf(stderr, "bench: out of memory\n");
		return 1;
	}
	for (int s = 0; s < NR_STREAMS; s++)
		run_stream(s, pfns, &res[s]);
	free(pfns);
	fill = fill_at_first_eviction();

	/* The churn stream leaves the table full: measured, not computed. */
	bytes_per_page =
		(double)res[STREAM_CHURN].stats.bytes / (double)res[STREAM_CHURN].stats.tracked;
	bytes_per_slot =
		(double)res[STREAM_CHURN].stats.bytes / (double)res[STREAM_CHURN].stats.capacity;

	printf("hotness table: %llu bytes, capacity %llu pages, %.2f bytes/page of capacity\n",
	       (unsigned long long)res[0].stats.bytes, (unsigned long long)res[0].stats.capacity,
	       bytes_per_slot);
	printf("events/s per CPU second (wall clock in parentheses)\n");
	printf("%-16s %24s %24s %10s %10s\n", "stream", "batched", "one call per event", "tracked",
	       "evict/ev");
	for (int s = 0; s < NR_STREAMS; s++)
		printf("%-16s %11.0f (%10.0f) %11.0f (%10.0f) %10llu %10.3f\n", stream_names[s],
		       res[s].batch.cpu, res[s].batch.wall, res[s].single.cpu, res[s].single.wall,
		       (unsigned long long)res[s].stats.tracked, evictions_per_event(&res[s]));
	printf("bytes per tracked page (full table): %.2f\n", bytes_per_page);
	printf("fill at the first eviction: %.1f%%\n", fill * 100);

	if (!json_path)
		return 0;
	err = write_json(json_path, res, bytes_per_page, fill);
	if (err) {
		fprintf(stderr, "bench: %s: %s\n", json_path, strerror(-err));
		return 1;
	}
	printf("wrote %s\n", json_path);
	return 0;
}
