// SPDX-License-Identifier: GPL-2.0
/*
 * Aggregation benchmark (make bench-aggregate): the heat table
 * (user/hotness/heat.c), the daemon's per-page state, on one core, at three
 * memory sizes: 1 M, 16 M and 268 M pages of 4 KiB (4 GiB, 64 GiB and
 * 1 TiB), split over two nodes (a fast one and a slow one, a quarter and
 * three quarters) with a hole between, as hot-added CXL memory sits.
 *
 * Per size:
 *   bytes/page   what the table allocates, per page of memory
 *   events/s     accesses credited per second of the thread's CPU time
 *                (drawing the frames, beforehand, is not timed), page
 *                frames drawn uniformly over all memory (every
 *                credit misses the caches at the larger sizes: the worst
 *                case), in batches of 4096 as the daemon drains a ring
 *   skewed/s     the same, Zipf (s = 0.99, as YCSB) over all memory
 *   window_ms    a window's end (hp_heat_advance: its sweep slice)
 *   hottest_ms   the 65536 hottest pages of the slow node (a promotion
 *                scan over a whole node, which the daemon does not need:
 *                it keeps its candidates as events make them hot)
 *   coldest_ms   the 65536 coldest pages of the fast node (a demotion
 *                scan over a whole node)
 *
 * Windows pass during the run (one every 2^22 events), so the history
 * shifts and the sweep runs. Three passes per measurement, the median
 * counts. Rates are per second of CPU time of this thread (what one core
 * sustains, whatever else the host runs).
 *
 *   bench_aggregate [--out FILE] [--max-pages N]
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heat.h"
#include "hp_test.h"

#define EVENTS (1U << 24)
#define BATCH 4096
#define PASSES 3
#define WINDOW_EVENTS (1U << 22)
#define SELECT_N 65536
#define ZIPF_RANKS (1U << 20)

struct size_row {
	const char *name;
	__u64 pages;
	double bytes_per_page;
	double events_per_s, skewed_per_s;
	double window_ms, hottest_ms, coldest_ms;
};

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static __u64 rng(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, PASSES, sizeof(*v), cmp_double);
	return v[PASSES / 2];
}

/* Zipf ranks by inversion of a precomputed CDF, mapped over memory by a hash. */
struct zipf {
	double *cdf;
};

static void zipf_init(struct zipf *z)
{
	double sum = 0;

	z->cdf = malloc(ZIPF_RANKS * sizeof(*z->cdf));
	hp_check(z->cdf, "malloc");
	for (__u32 k = 0; k < ZIPF_RANKS; k++) {
		sum += 1.0 / pow((double)k + 1, 0.99);
		z->cdf[k] = sum;
	}
	for (__u32 k = 0; k < ZIPF_RANKS; k++)
		z->cdf[k] /= sum;
}

static __u64 zipf_draw(const struct zipf *z, __u64 *s, __u64 pages)
{
	double u = (double)(rng(s) >> 11) / (double)(1ULL << 53);
	__u32 lo = 0, hi = ZIPF_RANKS - 1;

	while (lo < hi) {
		__u32 mid = lo + (hi - lo) / 2;

		if (z->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* A rank's page: a hash of the rank, with a low-order spread within it. */
	return ((__u64)lo * 0x9e3779b97f4a7c15ULL + (rng(s) & 1023)) % pages;
}

/* Node 0: the first quarter; node 1: the rest, 64 GiB further up. */
static void make_ranges(__u64 pages, struct hp_phys_ranges *r, __u64 *first1)
{
	__u64 n0 = pages / 4, block = 128ULL << 20, gap = 64ULL << 30;
	__u64 blocks0 = (n0 << 12) / block, blocks1 = ((pages - n0) << 12) / block;

	memset(r, 0, sizeof(*r));
	for (__u64 b = 0; b < blocks0; b++)
		hp_check(!hp_phys_ranges_add_block(r, b, block, 0), "ranges");
	for (__u64 b = 0; b < blocks1; b++)
		hp_check(!hp_phys_ranges_add_block(r, (gap + (blocks0 * block)) / block + b, block,
						   1),
			 "ranges");
	hp_phys_ranges_normalize(r);
	*first1 = (gap + blocks0 * block) >> 12;
}

static __u64 frame_of(__u64 i, __u64 pages, __u64 first1)
{
	return i < pages / 4 ? i : first1 + (i - pages / 4);
}

static double ingest(struct hp_heat *h, __u64 pages, __u64 first1, const struct zipf *z, __u64 seed)
{
	static __u64 batch[BATCH];
	double spent = 0, t0;
	__u64 s = seed;

	for (__u32 done = 0; done < EVENTS; done += BATCH) {
		/* Drawing the frames is the benchmark's, not the daemon's: not timed. */
		for (__u32 i = 0; i < BATCH; i++)
			batch[i] = frame_of(z ? zipf_draw(z, &s, pages) : rng(&s) % pages, pages,
					    first1);
		t0 = cpu_s();
		/* As the daemon ingests a batch: prefetching ahead of the touches. */
		for (__u32 i = 0; i < HP_HEAT_PREFETCH_AHEAD; i++)
			hp_heat_prefetch(h, batch[i]);
		for (__u32 i = 0; i < BATCH; i++) {
			if (i + HP_HEAT_PREFETCH_AHEAD < BATCH)
				hp_heat_prefetch(h, batch[i + HP_HEAT_PREFETCH_AHEAD]);
			hp_heat_touch(h, batch[i], 1);
		}
		if ((done + BATCH) % WINDOW_EVENTS == 0)
			hp_heat_advance(h);
		spent += cpu_s() - t0;
	}
	return EVENTS / spent;
}

static void run_size(struct size_row *row, const struct zipf *z)
{
	struct hp_heat_select hot = { .node_mask = 1ULL << 1, .min_heat = 1 };
	struct hp_heat_select cold = { .node_mask = 1ULL << 0, .coldest = true, .min_idle = 1 };
	double ev[PASSES], sk[PASSES], win[PASSES], hs[PASSES], cs[PASSES];
	struct hp_phys_ranges r;
	struct hp_heat_stats st;
	struct hp_heat *h;
	__u64 *out = malloc(SELECT_N * sizeof(*out)), first1;

	hp_check(out, "malloc");
	make_ranges(row->pages, &r, &first1);
	hp_check(!hp_heat_create(&r, &h), "hp_heat_create for %llu pages",
		 (unsigned long long)row->pages);
	hp_heat_get_stats(h, &st);
	row->bytes_per_page = (double)st.bytes / (double)st.pages;
	ingest(h, row->pages, first1, NULL, 1); /* warm: the table's pages touched once */
	for (int p = 0; p < PASSES; p++) {
		double t;
		size_t n;

		ev[p] = ingest(h, row->pages, first1, NULL, 7 + (__u64)p);
		sk[p] = ingest(h, row->pages, first1, z, 77 + (__u64)p);
		t = cpu_s();
		hp_heat_advance(h);
		win[p] = (cpu_s() - t) * 1e3;
		t = cpu_s();
		n = hp_heat_select(h, &hot, out, SELECT_N);
		hs[p] = (cpu_s() - t) * 1e3;
		hp_check(n > 0, "no hot page found");
		t = cpu_s();
		n = hp_heat_select(h, &cold, out, SELECT_N);
		cs[p] = (cpu_s() - t) * 1e3;
		hp_check(n == SELECT_N, "only %zu cold pages found", n);
	}
	row->events_per_s = median(ev);
	row->skewed_per_s = median(sk);
	row->window_ms = median(win);
	row->hottest_ms = median(hs);
	row->coldest_ms = median(cs);
	hp_heat_destroy(h);
	hp_phys_ranges_free(&r);
	free(out);
}

int main(int argc, char **argv)
{
	struct size_row rows[] = {
		{ .name = "1m", .pages = 1ULL << 20 },
		{ .name = "16m", .pages = 16ULL << 20 },
		{ .name = "268m", .pages = 268435456ULL },
	};
	const char *out = NULL;
	__u64 max_pages = ~0ULL;
	struct zipf z;
	size_t nr = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--max-pages") && i + 1 < argc)
			max_pages = strtoull(argv[++i], NULL, 0);
		else
			hp_fail("usage: bench_aggregate [--out FILE] [--max-pages N]");
	}
	zipf_init(&z);
	printf("%-6s %12s %8s %14s %14s %10s %11s %11s\n", "pages", "memory", "B/page", "events/s",
	       "skewed/s", "window_ms", "hottest_ms", "coldest_ms");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rows[i].pages > max_pages)
			break;
		run_size(&rows[i], &z);
		nr++;
		printf("%-6s %9.0f GiB %8.3f %14.0f %14.0f %10.2f %11.1f %11.1f\n", rows[i].name,
		       (double)(rows[i].pages << 12) / (1ULL << 30), rows[i].bytes_per_page,
		       rows[i].events_per_s, rows[i].skewed_per_s, rows[i].window_ms,
		       rows[i].hottest_ms, rows[i].coldest_ms);
	}
	if (out) {
		FILE *f = fopen(out, "w");

		hp_check(f, "open %s: %s", out, strerror(errno));
		fprintf(f, "{\n");
		for (size_t i = 0; i < nr; i++)
			fprintf(f,
				"  \"bytes_per_page_%s\": %.4f, \"events_per_s_%s\": %.0f, "
				"\"events_per_s_skewed_%s\": %.0f, \"window_ms_%s\": %.3f, "
				"\"hottest_ms_%s\": %.2f, \"coldest_ms_%s\": %.2f, "
				"\"round_ms_%s\": %.2f,\n",
				rows[i].name, rows[i].bytes_per_page, rows[i].name,
				rows[i].events_per_s, rows[i].name, rows[i].skewed_per_s,
				rows[i].name, rows[i].window_ms, rows[i].name, rows[i].hottest_ms,
				rows[i].name, rows[i].coldest_ms, rows[i].name,
				rows[i].hottest_ms > rows[i].coldest_ms ? rows[i].hottest_ms
									: rows[i].coldest_ms);
		fprintf(f, "  \"select_n\": %d, \"events_per_pass\": %u\n}\n", SELECT_N, EVENTS);
		fclose(f);
	}
	free(z.cdf);
	return 0;
}
