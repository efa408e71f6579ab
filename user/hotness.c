// SPDX-License-Identifier: GPL-2.0
/* Per-PFN hotness table: two-choice bucketed hashing, sampled eviction, lazy decay. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hotness.h"

/*
 * Memory layout: a bucket is 256 bytes (four cache lines) and holds nine
 * pages. Line 0 holds the keys, so that a lookup reads one line per
 * bucket; each page's other fields are a 23-byte record after them:
 *
 *   pfn_lo[9] u32, pfn_hi[9] u8     5 B/page   PFN, 40 bits (4 PiB of 4 KiB)
 *   used u16, spilled u16           4 B/bucket occupancy bits, spill count
 *   per page (packed):
 *     freq u16                      2   decayed access count, saturating
 *     last_seen u32                 4   ms since the table's base
 *     since u32                     4   ms: first seen, or migrated here
 *     tgid u32                      4   last process that touched it
 *     vpn_lo u32 + vpn_hi u16       6   virtual page number, 45 bits (LA57),
 *                                       and the HAS_VADDR / MIGRATED flags
 *     page_node, access_node u8     2   255: unknown
 *     sources u8                    1   bit (1 << enum hp_source)
 *
 * 9 x 28 + 4 = 256, plus one bit per bucket in an occupancy bitmap that
 * lets the rounds' walks skip empty buckets: the table costs 256.125 / 9
 * = 28.5 bytes per page it can hold, and there is no other index.
 *
 * A PFN hashes to two buckets and goes to the emptier one (two choices
 * keep buckets level: the first eviction comes at 74% full, and by 85%
 * full 0.06% of inserts have had to evict, 1.5% by 95%). A page placed in
 * its second bucket is counted in its first's spill count, so a lookup
 * reads the second bucket only when some page may have spilled from the
 * first. When both are full, the coldest of their 18 pages (lowest
 * decayed frequency, then the oldest access) is evicted: a sampled LFU
 * with a fixed cost per insert, like Redis's approximate eviction, with no
 * global order to maintain.
 *
 * Time: u32 milliseconds since base_ns. Before they reach 2^31 (24.8
 * days) the base moves forward by whole windows and every entry is
 * shifted (rebase: one pass per ~12 days); entries older than the shift
 * have decayed to nothing anyway, since windows are at most an hour.
 */

#define PAGE_SHIFT_4K 12
#define NSEC_PER_MSEC 1000000ULL
#define SLOTS HP_HOT_BUCKET_SLOTS
#define FULL_MASK ((1u << SLOTS) - 1)
#define NODE_NONE 255
#define VPN_BITS 45
#define VPN_HI_MASK 0x1fffu /* vpn bits 32..44 */
#define FLAG_HAS_VADDR 0x2000u
#define FLAG_MIGRATED 0x4000u
#define FREQ_MAX 0xffffu
#define SPILL_SATURATED 0xffffu
#define REBASE_AT_MS (1ULL << 31)
#define REBASE_KEEP_MS (1ULL << 30)
#define MAX_HALVINGS 16 /* a u16 halved 16 times is 0 */
#define HUGE_PAGE_SIZE (2ULL << 20)
#define BATCH_LOOKAHEAD 8

struct hp_hot_entry {
	__u16 freq;
	__u32 last_seen;
	__u32 since;
	__u32 tgid;
	__u32 vpn_lo;
	__u16 vpn_hi; /* VPN_HI_MASK bits, FLAG_* */
	__u8 page_node;
	__u8 access_node;
	__u8 sources;
} __attribute__((packed));

struct hp_hot_bucket {
	__u32 pfn_lo[SLOTS];
	__u16 used; /* bit i: slot i holds a page */
	__u16 spilled; /* pages homed here that live in their second bucket */
	__u8 pfn_hi[SLOTS];
	struct hp_hot_entry slot[SLOTS];
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct hp_hot_entry) == 23, "hotness entry must stay 23 bytes");
_Static_assert(sizeof(struct hp_hot_bucket) == 256, "hotness bucket must stay 256 bytes");
_Static_assert(HP_HOT_BUCKET_SLOTS == 9, "bucket layout assumes nine slots");

struct hp_hotness {
	struct hp_hot_bucket *buckets;
	/*
	 * Bit b: bucket b holds a page. The rounds' walks (candidates, top,
	 * rebase) visit only these: a table sized for millions of pages that
	 * tracks thousands costs them a few words, not every bucket's line.
	 */
	__u64 *occupied;
	__u64 nr_buckets;
	__u64 base_ns;
	__u64 bytes;
	__u64 window_recip; /* ceil(2^64 / window_ms): epochs without a division */
	__u32 window_ms;
	__u32 max_range_pages;
	struct hp_hotness_stats counters; /* capacity, bytes and window are filled on read */
};

/* A page's place: its bucket and slot. */
struct loc {
	struct hp_hot_bucket *b;
	unsigned int i;
};

static inline void occupied_set(struct hp_hotness *t, const struct hp_hot_bucket *b)
{
	__u64 i = (__u64)(b - t->buckets);

	t->occupied[i / 64] |= 1ULL << (i % 64);
}

static inline void occupied_clear(struct hp_hotness *t, const struct hp_hot_bucket *b)
{
	__u64 i = (__u64)(b - t->buckets);

	t->occupied[i / 64] &= ~(1ULL << (i % 64));
}

static inline __u64 occupied_words(const struct hp_hotness *t)
{
	return (t->nr_buckets + 63) / 64;
}

/* Each bucket that holds a page, in order: for (b = ...; b != NO_BUCKET; b = next). */
#define NO_BUCKET UINT64_MAX
static __u64 next_occupied(const struct hp_hotness *t, __u64 from)
{
	__u64 w = from / 64, words = occupied_words(t);
	__u64 m;

	if (w >= words)
		return NO_BUCKET;
	m = t->occupied[w] & (~0ULL << (from % 64));
	while (!m) {
		if (++w >= words)
			return NO_BUCKET;
		m = t->occupied[w];
	}
	return w * 64 + (__u64)__builtin_ctzll(m);
}

/* murmur3's 64-bit finalizer: PFNs are sequential, buckets must not be. */
static inline __u64 mix64(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Lemire's multiply-shift range reduction: any bucket count, no division. */
static inline __u64 reduce(__u32 hash, __u64 n)
{
	return ((__u64)hash * n) >> 32;
}

static inline void buckets_of(const struct hp_hotness *t, __u64 pfn, struct hp_hot_bucket **first,
			      struct hp_hot_bucket **second)
{
	__u64 h = mix64(pfn), b1 = reduce((__u32)h, t->nr_buckets);
	__u64 b2 = reduce((__u32)(h >> 32), t->nr_buckets);

	if (b2 == b1)
		b2 = b1 + 1 < t->nr_buckets ? b1 + 1 : 0;
	*first = &t->buckets[b1];
	*second = &t->buckets[b2];
}

static inline __u64 slot_pfn(const struct hp_hot_bucket *b, unsigned int i)
{
	return (__u64)b->pfn_hi[i] << 32 | b->pfn_lo[i];
}

static inline __u8 node_pack(int node)
{
	return node < 0 || node >= NODE_NONE ? NODE_NONE : (__u8)node;
}

static inline int node_unpack(__u8 node)
{
	return node == NODE_NONE ? HP_NODE_UNKNOWN : node;
}

static inline __u8 source_bit(unsigned int source)
{
	return source > 0 && source < 8 ? (__u8)(1u << source) : 0;
}

static inline void entry_set_vaddr(struct hp_hot_entry *e, __u64 vaddr)
{
	__u64 vpn = vaddr >> PAGE_SHIFT_4K;

	e->vpn_hi &= (__u16) ~(VPN_HI_MASK | FLAG_HAS_VADDR);
	e->vpn_lo = 0;
	if (!vaddr || vpn >> VPN_BITS)
		return;
	e->vpn_lo = (__u32)vpn;
	e->vpn_hi |= (__u16)((vpn >> 32) & VPN_HI_MASK) | FLAG_HAS_VADDR;
}

static inline __u64 entry_vaddr(const struct hp_hot_entry *e)
{
	if (!(e->vpn_hi & FLAG_HAS_VADDR))
		return 0;
	return ((__u64)(e->vpn_hi & VPN_HI_MASK) << 32 | e->vpn_lo) << PAGE_SHIFT_4K;
}

/* t / window_ms, exact for every u32 t (the error of the reciprocal stays below 1 / window_ms). */
static inline __u64 epoch_of(const struct hp_hotness *t, __u32 ms)
{
	return (__u64)(((unsigned __int128)ms * t->window_recip) >> 64);
}

static inline __u32 decayed_freq(const struct hp_hotness *t, const struct hp_hot_entry *e,
				 __u64 now_epoch)
{
	__u64 then_epoch = epoch_of(t, e->last_seen), halvings;

	if (now_epoch <= then_epoch)
		return e->freq;
	halvings = now_epoch - then_epoch;
	return halvings >= MAX_HALVINGS ? 0 : e->freq >> halvings;
}

/* Eviction order: lower is colder (decayed frequency, then last access). */
static inline __u64 warmth(const struct hp_hotness *t, const struct hp_hot_entry *e,
			   __u64 now_epoch)
{
	return (__u64)decayed_freq(t, e, now_epoch) << 32 | e->last_seen;
}

static inline __u64 read_ms(const struct hp_hotness *t, __u64 now_ns)
{
	return now_ns > t->base_ns ? (now_ns - t->base_ns) / NSEC_PER_MSEC : 0;
}

static void rebase(struct hp_hotness *t, __u64 now_ms)
{
	__u64 shift = (now_ms - REBASE_KEEP_MS) / t->window_ms * t->window_ms;

	for (__u64 b = next_occupied(t, 0); b != NO_BUCKET; b = next_occupied(t, b + 1)) {
		struct hp_hot_bucket *bucket = &t->buckets[b];

		for (unsigned int m = bucket->used; m; m &= m - 1) {
			struct hp_hot_entry *e = &bucket->slot[__builtin_ctz(m)];

			if (e->last_seen >= shift) {
				e->last_seen -= (__u32)shift;
			} else {
				/* Idle for over 2^30 ms, that is more than 16 windows. */
				e->last_seen = 0;
				e->freq = 0;
			}
			e->since = e->since >= shift ? e->since - (__u32)shift : 0;
		}
	}
	t->base_ns += shift * NSEC_PER_MSEC;
	t->counters.rebases++;
}

/* The table's clock for writes: it fits in a u32, rebasing when needed. */
static __u32 write_ms(struct hp_hotness *t, __u64 now_ns)
{
	__u64 ms = read_ms(t, now_ns);

	if (ms >= REBASE_AT_MS) {
		rebase(t, ms);
		ms = read_ms(t, now_ns);
	}
	return (__u32)ms;
}

/* Slot of @pfn in @b, or -1. Reads only the bucket's first cache line. */
static inline int find_in(const struct hp_hot_bucket *b, __u32 lo, __u8 hi)
{
	unsigned int match = 0;

	for (unsigned int i = 0; i < SLOTS; i++)
		match |= (unsigned int)(b->pfn_lo[i] == lo) << i;
	for (match &= b->used; match; match &= match - 1) {
		unsigned int i = __builtin_ctz(match);

		if (b->pfn_hi[i] == hi)
			return (int)i;
	}
	return -1;
}

static bool find(const struct hp_hotness *t, __u64 pfn, struct loc *where)
{
	__u32 lo = (__u32)pfn;
	__u8 hi = (__u8)(pfn >> 32);
	struct hp_hot_bucket *b1, *b2;
	int i;

	if (pfn > HP_HOT_PFN_MAX)
		return false;
	buckets_of(t, pfn, &b1, &b2);
	i = find_in(b1, lo, hi);
	where->b = b1;
	if (i < 0 && b1->spilled) {
		i = find_in(b2, lo, hi);
		where->b = b2;
	}
	where->i = (unsigned int)i;
	return i >= 0;
}

static void spill_inc(struct hp_hot_bucket *b)
{
	if (b->spilled != SPILL_SATURATED)
		b->spilled++;
}

/* A saturated count stays: lookups keep checking the second bucket. */
static void spill_dec(struct hp_hot_bucket *b)
{
	if (b->spilled != SPILL_SATURATED && b->spilled)
		b->spilled--;
}

/*
 * Free a slot. A removed page that had spilled lowers its first bucket's
 * spill count; an evicted one does not, as that would read a third bucket
 * at random per eviction: the count is an upper bound (never below the
 * pages that did spill), which is all lookups need.
 */
static void drop(struct hp_hotness *t, const struct loc *at, bool evicting)
{
	if (!evicting) {
		struct hp_hot_bucket *home, *other;

		buckets_of(t, slot_pfn(at->b, at->i), &home, &other);
		if (home != at->b)
			spill_dec(home);
	}
	at->b->used &= (__u16) ~(1u << at->i);
	if (!at->b->used)
		occupied_clear(t, at->b);
	t->counters.tracked--;
}

static inline unsigned int free_slots(const struct hp_hot_bucket *b)
{
	/* Not __builtin_popcount: without -mpopcnt that is a call into libgcc. */
	unsigned int v = b->used, n = 0;

	for (; v; v &= v - 1)
		n++;
	return SLOTS - n;
}

/*
 * The place of @pfn, found or made (then *created is set, and the entry is
 * zeroed but for its key). When both buckets are full the coldest of their
 * pages makes room, counted.
 */
static struct hp_hot_entry *find_or_insert(struct hp_hotness *t, __u64 pfn, __u64 now_epoch,
					   bool *created)
{
	__u32 lo = (__u32)pfn;
	__u8 hi = (__u8)(pfn >> 32);
	struct hp_hot_bucket *b1, *b2;
	struct hp_hot_entry *e;
	struct loc at = { 0 };
	int i;

	buckets_of(t, pfn, &b1, &b2);
	i = find_in(b1, lo, hi);
	if (i >= 0) {
		*created = false;
		return &b1->slot[i];
	}
	if (b1->spilled) {
		i = find_in(b2, lo, hi);
		if (i >= 0) {
			*created = false;
			return &b2->slot[i];
		}
	}
	*created = true;

	if (free_slots(b1) || free_slots(b2)) {
		at.b = free_slots(b1) >= free_slots(b2) ? b1 : b2;
	} else {
		__u64 coldest = UINT64_MAX;

		for (unsigned int s = 0; s < 2 * SLOTS; s++) {
			struct hp_hot_bucket *b = s < SLOTS ? b1 : b2;
			__u64 w = warmth(t, &b->slot[s % SLOTS], now_epoch);

			if (w < coldest) {
				coldest = w;
				at.b = b;
				at.i = s % SLOTS;
			}
		}
		drop(t, &at, true);
		t->counters.evictions++;
	}
	at.i = __builtin_ctz(~(unsigned int)at.b->used & FULL_MASK);
	at.b->used |= (__u16)(1u << at.i);
	occupied_set(t, at.b);
	at.b->pfn_lo[at.i] = lo;
	at.b->pfn_hi[at.i] = hi;
	if (at.b == b2)
		spill_inc(b1);
	t->counters.tracked++;
	t->counters.inserts++;
	e = &at.b->slot[at.i];
	memset(e, 0, sizeof(*e));
	e->page_node = NODE_NONE;
	e->access_node = NODE_NONE;
	return e;
}

/* What one credit brings to a page. */
struct credit {
	__u64 pfn;
	__u64 vaddr; /* 0: unknown */
	__u32 tgid; /* 0: unknown */
	__u32 accesses;
	__u8 page_node;
	__u8 access_node;
	__u8 source_bit;
};

/* The clock of one write call. */
struct now {
	__u32 ms;
	__u64 epoch;
};

static struct now write_now(struct hp_hotness *t, __u64 now_ns)
{
	struct now now = { .ms = write_ms(t, now_ns) };

	now.epoch = now.ms / t->window_ms;
	return now;
}

static void credit_page(struct hp_hotness *t, const struct credit *c, const struct now *now)
{
	bool created;
	struct hp_hot_entry *e = find_or_insert(t, c->pfn, now->epoch, &created);
	__u32 freq = created ? 0 : decayed_freq(t, e, now->epoch);

	freq += c->accesses;
	e->freq = freq > FREQ_MAX ? FREQ_MAX : (__u16)freq;
	if (created)
		e->since = now->ms;
	e->last_seen = now->ms;
	e->sources |= c->source_bit;
	if (c->page_node != NODE_NONE)
		e->page_node = c->page_node;
	if (c->access_node != NODE_NONE)
		e->access_node = c->access_node;
	/* Physical sources (DAMON) know no process: keep what others said. */
	if (c->tgid) {
		if (c->tgid != e->tgid || c->vaddr)
			entry_set_vaddr(e, c->vaddr);
		e->tgid = c->tgid;
	}
	t->counters.credited++;
}

int hp_hotness_create(const struct hp_hotness_opts *opts, __u64 now_ns, struct hp_hotness **out)
{
	__u64 budget = opts && opts->budget_bytes ? opts->budget_bytes : HP_HOT_BUDGET_DEFAULT;
	__u32 window = opts && opts->window_ms ? opts->window_ms : HP_HOT_WINDOW_DEFAULT_MS;
	__u32 range =
		opts && opts->max_range_pages ? opts->max_range_pages : HP_HOT_RANGE_PAGES_DEFAULT;
	struct hp_hotness *t;
	__u64 nr_buckets, size, words;
	void *mem;
	int err;

	*out = NULL;
	if (window < HP_HOT_WINDOW_MIN_MS || window > HP_HOT_WINDOW_MAX_MS)
		return -EINVAL;
	if (budget <= sizeof(*t))
		return -EINVAL;
	/* A bucket costs its 256 bytes and one bit of the occupancy bitmap. */
	nr_buckets = (budget - sizeof(*t)) / sizeof(struct hp_hot_bucket);
	while (nr_buckets &&
	       nr_buckets * sizeof(struct hp_hot_bucket) + (nr_buckets + 63) / 64 * sizeof(__u64) >
		       budget - sizeof(*t))
		nr_buckets--;
	/* Two buckets at least: a page needs its two choices. */
	if (nr_buckets < 2)
		return -EINVAL;
	if (nr_buckets > UINT32_MAX)
		nr_buckets = UINT32_MAX;
	size = nr_buckets * sizeof(struct hp_hot_bucket);
	words = (nr_buckets + 63) / 64;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->occupied = calloc(words, sizeof(*t->occupied));
	if (!t->occupied) {
		free(t);
		return -ENOMEM;
	}
	/* Huge pages spare a TLB miss per random access into a big table. */
	err = posix_memalign(&mem, size >= HUGE_PAGE_SIZE ? HUGE_PAGE_SIZE : 64, size);
	if (err) {
		free(t->occupied);
		free(t);
		return -err;
	}
	if (size >= HUGE_PAGE_SIZE)
		madvise(mem, size, MADV_HUGEPAGE); /* a hint: failure costs speed only */
	memset(mem, 0, size);
	t->buckets = mem;
	t->nr_buckets = nr_buckets;
	t->base_ns = now_ns;
	t->max_range_pages = range;
	t->bytes = sizeof(*t) + size + words * sizeof(*t->occupied);
	hp_hotness_set_window(t, window);
	*out = t;
	return 0;
}

void hp_hotness_destroy(struct hp_hotness *table)
{
	if (!table)
		return;
	free(table->buckets);
	free(table->occupied);
	free(table);
}

int hp_hotness_set_window(struct hp_hotness *table, __u32 window_ms)
{
	if (window_ms < HP_HOT_WINDOW_MIN_MS || window_ms > HP_HOT_WINDOW_MAX_MS)
		return -EINVAL;
	table->window_ms = window_ms;
	table->window_recip = UINT64_MAX / window_ms + 1;
	return 0;
}

void hp_hotness_clear(struct hp_hotness *table)
{
	memset(table->buckets, 0, table->nr_buckets * sizeof(struct hp_hot_bucket));
	memset(table->occupied, 0, occupied_words(table) * sizeof(*table->occupied));
	table->counters.tracked = 0;
}

int hp_hotness_credit_range(struct hp_hotness *table, const struct hp_hot_range *range,
			    __u64 now_ns)
{
	struct credit c = {
		.tgid = range->tgid,
		.accesses = range->accesses,
		.page_node = node_pack(range->page_node),
		.access_node = node_pack(range->access_node),
		.source_bit = source_bit(range->source),
	};
	__u64 stride, credited = 0;
	struct now now;

	if (!range->nr_pages || range->first_pfn > HP_HOT_PFN_MAX ||
	    range->nr_pages - 1 > HP_HOT_PFN_MAX - range->first_pfn) {
		table->counters.rejected++;
		return -EINVAL;
	}
	if (!range->accesses)
		return 0;
	now = write_now(table, now_ns);
	stride = (range->nr_pages + table->max_range_pages - 1) / table->max_range_pages;
	for (__u64 i = 0; i < range->nr_pages; i += stride) {
		c.pfn = range->first_pfn + i;
		c.vaddr = range->first_vaddr ? range->first_vaddr + (i << PAGE_SHIFT_4K) : 0;
		credit_page(table, &c, &now);
		credited++;
	}
	table->counters.range_pages_skipped += range->nr_pages - credited;
	return (int)credited;
}

static int record_region(struct hp_hotness *table, const struct hp_event *ev, int page_node,
			 __u64 now_ns)
{
	struct hp_hot_range range = {
		.first_pfn = ev->addr >> PAGE_SHIFT_4K,
		.accesses = ev->nr_accesses,
		.tgid = ev->tgid,
		.page_node = page_node,
		.access_node = ev->cpu_node,
		.source = ev->source,
	};

	if (!(ev->flags & HP_EV_PHYS) || ev->end <= ev->addr) {
		table->counters.rejected++;
		return -EINVAL;
	}
	range.nr_pages = ((ev->end - 1) >> PAGE_SHIFT_4K) - range.first_pfn + 1;
	return hp_hotness_credit_range(table, &range, now_ns);
}

/* One access event as a credit; false (counted) when it has no usable PFN. */
static bool access_credit(struct hp_hotness *table, const struct hp_event *ev, __u64 pfn,
			  int page_node, struct credit *c)
{
	if (pfn == HP_PFN_UNKNOWN)
		pfn = ev->pfn;
	if (pfn > HP_HOT_PFN_MAX) {
		table->counters.rejected++;
		return false;
	}
	c->pfn = pfn;
	c->vaddr = ev->flags & HP_EV_PHYS ? 0 : ev->addr;
	c->tgid = ev->tgid;
	c->accesses = 1;
	c->page_node = node_pack(page_node != HP_NODE_UNKNOWN ? page_node : ev->page_node);
	c->access_node = node_pack(ev->cpu_node);
	c->source_bit = source_bit(ev->source);
	return true;
}

int hp_hotness_record(struct hp_hotness *table, const struct hp_event *ev, __u64 pfn, int page_node,
		      __u64 now_ns)
{
	struct credit c;
	struct now now;

	if (ev->flags & HP_EV_REGION)
		return record_region(table, ev,
				     page_node != HP_NODE_UNKNOWN ? page_node : ev->page_node,
				     now_ns);
	if (!access_credit(table, ev, pfn, page_node, &c))
		return -EINVAL;
	now = write_now(table, now_ns);
	credit_page(table, &c, &now);
	return 1;
}

/*
 * The prefetch helpers are always inlined: as calls, GCC finds them free
 * of side effects (a prefetch is not one) and deletes them.
 */
static inline __attribute__((always_inline)) void prefetch_buckets(const struct hp_hotness *t,
								   __u64 pfn)
{
	struct hp_hot_bucket *b1, *b2;

	buckets_of(t, pfn, &b1, &b2);
	__builtin_prefetch(b1, 1);
	__builtin_prefetch(b2, 1);
}

void hp_hotness_prefetch(const struct hp_hotness *table, __u64 pfn)
{
	prefetch_buckets(table, pfn);
}

/* Second prefetch stage: the keys are in cache; fetch the lines the credit will write. */
static inline __attribute__((always_inline)) void prefetch_entry(const struct hp_hotness *t,
								 __u64 pfn)
{
	struct hp_hot_bucket *b1, *b2, *b;
	int i;

	if (pfn > HP_HOT_PFN_MAX)
		return;
	buckets_of(t, pfn, &b1, &b2);
	b = b1;
	i = find_in(b1, (__u32)pfn, (__u8)(pfn >> 32));
	if (i < 0 && b1->spilled) {
		b = b2;
		i = find_in(b2, (__u32)pfn, (__u8)(pfn >> 32));
	}
	if (i < 0) {
		if (!free_slots(b1) && !free_slots(b2)) {
			/* Eviction reads every page of both buckets. */
			for (unsigned int line = 1; line < 4; line++) {
				__builtin_prefetch((const char *)b1 + 64 * line, 1);
				__builtin_prefetch((const char *)b2 + 64 * line, 1);
			}
			return;
		}
		b = free_slots(b1) >= free_slots(b2) ? b1 : b2;
		i = __builtin_ctz(~(unsigned int)b->used & FULL_MASK);
	}
	__builtin_prefetch(&b->slot[i], 1);
	__builtin_prefetch((const char *)&b->slot[i] + sizeof(b->slot[i]) - 1, 1);
}

/*
 * Software pipeline: the bucket lines of event i + 2L, the page's lines of
 * event i + L, the credit of event i; each stage's loads are in flight
 * while the others run, where one event at a time waits for memory twice.
 * Regions are credited in place (they are rare and long).
 */
long hp_hotness_record_batch(struct hp_hotness *table, const struct hp_hot_input *in, size_t n,
			     __u64 now_ns)
{
	const size_t ahead = BATCH_LOOKAHEAD;
	struct now now = write_now(table, now_ns);
	long credited = 0;

	for (size_t i = 0; i < n + 2 * ahead; i++) {
		if (i < n && !(in[i].ev->flags & HP_EV_REGION))
			prefetch_buckets(table,
					 in[i].pfn != HP_PFN_UNKNOWN ? in[i].pfn : in[i].ev->pfn);
		if (i >= ahead && i - ahead < n) {
			const struct hp_hot_input *x = &in[i - ahead];

			if (!(x->ev->flags & HP_EV_REGION))
				prefetch_entry(table,
					       x->pfn != HP_PFN_UNKNOWN ? x->pfn : x->ev->pfn);
		}
		if (i >= 2 * ahead) {
			const struct hp_hot_input *x = &in[i - 2 * ahead];
			struct credit c;
			int r;

			if (x->ev->flags & HP_EV_REGION) {
				r = record_region(table, x->ev,
						  x->page_node != HP_NODE_UNKNOWN
							  ? x->page_node
							  : x->ev->page_node,
						  now_ns);
				/* A rebase inside moves the base: take the clock again. */
				now = write_now(table, now_ns);
				credited += r > 0 ? r : 0;
			} else if (access_credit(table, x->ev, x->pfn, x->page_node, &c)) {
				credit_page(table, &c, &now);
				credited++;
			}
		}
	}
	return credited;
}

static void unpack(const struct hp_hotness *t, const struct hp_hot_bucket *b, unsigned int i,
		   __u64 now_epoch, struct hp_hot_page *page)
{
	const struct hp_hot_entry *e = &b->slot[i];

	page->pfn = slot_pfn(b, i);
	page->vaddr = entry_vaddr(e);
	page->first_seen_ns = t->base_ns + e->since * NSEC_PER_MSEC;
	page->last_seen_ns = t->base_ns + e->last_seen * NSEC_PER_MSEC;
	page->tgid = e->tgid;
	page->freq = decayed_freq(t, e, now_epoch);
	page->page_node = node_unpack(e->page_node);
	page->access_node = node_unpack(e->access_node);
	page->sources = e->sources;
	page->migrated = e->vpn_hi & FLAG_MIGRATED;
}

bool hp_hotness_lookup(const struct hp_hotness *table, __u64 pfn, __u64 now_ns,
		       struct hp_hot_page *page)
{
	struct loc at;

	if (!find(table, pfn, &at))
		return false;
	unpack(table, at.b, at.i, read_ms(table, now_ns) / table->window_ms, page);
	return true;
}

int hp_hotness_remove(struct hp_hotness *table, __u64 pfn)
{
	struct loc at;

	if (!find(table, pfn, &at))
		return -ENOENT;
	drop(table, &at, false);
	table->counters.removals++;
	return 0;
}

int hp_hotness_mark_migrated(struct hp_hotness *table, __u64 pfn, __u64 new_pfn, int new_node,
			     __u64 now_ns)
{
	struct now now = write_now(table, now_ns);
	struct hp_hot_entry moved, *e;
	struct loc at;
	bool created;

	if (!find(table, pfn, &at))
		return -ENOENT;
	table->counters.migrations++;
	e = &at.b->slot[at.i];
	if (new_pfn == HP_PFN_UNKNOWN || new_pfn == pfn || new_pfn > HP_HOT_PFN_MAX) {
		e->freq = 0;
		e->last_seen = now.ms;
		e->since = now.ms;
		e->vpn_hi |= FLAG_MIGRATED;
		return 0;
	}

	moved = *e;
	drop(table, &at, false);
	e = find_or_insert(table, new_pfn, now.epoch, &created);
	if (created) {
		table->counters.inserts--; /* the page was tracked already */
		*e = moved;
	} else {
		/* Events about the new frame came first: merge, keep the hotter count. */
		if (decayed_freq(table, &moved, now.epoch) > decayed_freq(table, e, now.epoch)) {
			e->freq = moved.freq;
			e->last_seen = moved.last_seen;
		}
		e->sources |= moved.sources;
		if (!e->tgid) {
			e->tgid = moved.tgid;
			e->vpn_lo = moved.vpn_lo;
			e->vpn_hi = moved.vpn_hi;
		}
		if (e->access_node == NODE_NONE)
			e->access_node = moved.access_node;
	}
	e->page_node = node_pack(new_node);
	e->since = now.ms;
	e->vpn_hi |= FLAG_MIGRATED;
	return 0;
}

/* Ranking for queries: hotter first; -1 when a ranks before b. */
static int rank(const struct hp_hot_page *a, const struct hp_hot_page *b)
{
	if (a->freq != b->freq)
		return a->freq > b->freq ? -1 : 1;
	if (a->last_seen_ns != b->last_seen_ns)
		return a->last_seen_ns > b->last_seen_ns ? -1 : 1;
	if (a->pfn != b->pfn)
		return a->pfn < b->pfn ? -1 : 1;
	return 0;
}

static int rank_qsort(const void *a, const void *b)
{
	return rank(a, b);
}

static void swap_pages(struct hp_hot_page *a, struct hp_hot_page *b)
{
	struct hp_hot_page tmp = *a;

	*a = *b;
	*b = tmp;
}

/* Min-heap on rank: the coldest kept page at the root. */
static void heap_sift_down(struct hp_hot_page *heap, size_t len, size_t i)
{
	for (;;) {
		size_t left = 2 * i + 1, right = left + 1, coldest = i;

		if (left < len && rank(&heap[left], &heap[coldest]) > 0)
			coldest = left;
		if (right < len && rank(&heap[right], &heap[coldest]) > 0)
			coldest = right;
		if (coldest == i)
			return;
		swap_pages(&heap[i], &heap[coldest]);
		i = coldest;
	}
}

static void heap_sift_up(struct hp_hot_page *heap, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (rank(&heap[i], &heap[parent]) <= 0)
			return;
		swap_pages(&heap[i], &heap[parent]);
		i = parent;
	}
}

static bool selected(const struct hp_hotness *t, const struct hp_hot_entry *e,
		     const struct hp_hot_query *q, __u64 now_ms, __u64 now_epoch)
{
	if (decayed_freq(t, e, now_epoch) < q->min_freq)
		return false;
	if (e->page_node == NODE_NONE) {
		if (q->skip_unknown_node)
			return false;
	} else if (e->page_node < 64 && (q->exclude_nodes >> e->page_node & 1)) {
		return false;
	}
	if ((e->vpn_hi & FLAG_MIGRATED) && q->guard_ms && now_ms < (__u64)e->since + q->guard_ms)
		return false;
	return true;
}

size_t hp_hotness_candidates(const struct hp_hotness *table, const struct hp_hot_query *query,
			     __u64 now_ns, struct hp_hot_page *out, size_t max, size_t *matched)
{
	__u64 now_ms = read_ms(table, now_ns), now_epoch = now_ms / table->window_ms;
	size_t len = 0, count = 0;

	for (__u64 b = next_occupied(table, 0); b != NO_BUCKET; b = next_occupied(table, b + 1)) {
		const struct hp_hot_bucket *bucket = &table->buckets[b];

		for (unsigned int m = bucket->used; m; m &= m - 1) {
			unsigned int i = __builtin_ctz(m);
			struct hp_hot_page page;

			if (!selected(table, &bucket->slot[i], query, now_ms, now_epoch))
				continue;
			unpack(table, bucket, i, now_epoch, &page);
			if (query->admit && !query->admit(&page, query->arg))
				continue;
			count++;
			if (len < max) {
				out[len] = page;
				heap_sift_up(out, len++);
			} else if (max && rank(&page, &out[0]) < 0) {
				out[0] = page;
				heap_sift_down(out, len, 0);
			}
		}
	}
	if (len)
		qsort(out, len, sizeof(*out), rank_qsort);
	if (matched)
		*matched = count;
	return len;
}

size_t hp_hotness_top(const struct hp_hotness *table, __u64 now_ns, struct hp_hot_page *out,
		      size_t max)
{
	const struct hp_hot_query all = { 0 };

	return hp_hotness_candidates(table, &all, now_ns, out, max, NULL);
}

void hp_hotness_get_stats(const struct hp_hotness *table, struct hp_hotness_stats *stats)
{
	*stats = table->counters;
	stats->capacity = table->nr_buckets * SLOTS;
	stats->bytes = table->bytes;
	stats->window_ms = table->window_ms;
}
