// SPDX-License-Identifier: GPL-2.0
/* A tiered workload: hot and cold pages over two nodes, and where they end up. */
#include <signal.h>

#include "hp_tier.h"

static uint64_t tier_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

void tier_pick_hot(struct tier_work *w, uint64_t salt)
{
	size_t run = (size_t)((double)w->o.pages * w->o.hot_frac);

	w->nhot = w->ncold = 0;
	for (size_t i = 0; i < w->o.pages; i++) {
		uint64_t h = ((uint64_t)i ^ salt) * 0x9e3779b97f4a7c15ULL;
		bool hot = w->o.contiguous
				   ? i >= w->o.pages - run
				   : (double)(h >> 40) / (double)(1ULL << 24) < w->o.hot_frac;

		w->hot[i] = hot;
		if (hot)
			w->hot_idx[w->nhot++] = i;
		else
			w->cold_idx[w->ncold++] = i;
	}
}

static void *tier_loop(void *arg)
{
	struct tier_work *w = arg;
	uint64_t s = 0x2545f4914f6cdd1dULL;
	const unsigned int per_tick = w->o.rate * TIER_TICK_MS / 1000;
	double next = kmt_now_ms();

	while (!w->stop) {
		for (unsigned int k = 0; k < per_tick; k++) {
			uint64_t r = tier_rand(&s);
			bool hot = (double)(r & 0xffff) / 65536.0 < w->o.hot_share;
			size_t i = hot ? w->hot_idx[(r >> 16) % w->nhot]
				       : w->cold_idx[(r >> 16) % w->ncold];

			(*(volatile char *)(w->p + i * KMT_PAGE))++;
		}
		w->touches += per_tick;
		next += TIER_TICK_MS;
		double now = kmt_now_ms();

		if (next > now)
			usleep((useconds_t)((next - now) * 1000));
		else
			next = now; /* behind (a loaded machine): do not burst */
	}
	return NULL;
}

/* Allocate (and free) @bytes on node 0: the kernel reclaims, or demotes, to find them. */
static void tier_node0_churn(size_t bytes)
{
	unsigned long mask = 1;
	void *chunk;

	hp_check(!set_mempolicy(MPOL_BIND, &mask, 2), "set_mempolicy: %s", strerror(errno));
	chunk = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	hp_check(!set_mempolicy(MPOL_DEFAULT, NULL, 0), "set_mempolicy: %s", strerror(errno));
	if (chunk != MAP_FAILED)
		munmap(chunk, bytes);
}

/*
 * After an allocation filled node 0, node 0 sits below its watermarks,
 * and fallbacks between page types during the fill have left its high
 * watermark boosted: kswapd demotes at the next allocation of anyone on
 * node 0, which in a run would be the run's tiering system (its own
 * memory). What kswapd moves then is the first touch's doing, not the
 * run's. So bring node 0 to where a host kept full settles: free memory
 * at the promotion watermark, as a tiering system keeps it (allocate what
 * is missing there and free it: the kernel demotes to find it), then
 * allocate a little every half second, so that a pending boost wakes
 * kswapd now, until two seconds pass without a kernel demotion (30 s at
 * most).
 */
static void tier_settle(void)
{
	long long last = -1, now;
	struct hp_topology topo;
	struct hp_node_zones z;
	char err[256];
	int quiet = 0;

	hp_check(!hp_topology_read(HP_SYSFS_ROOT, &topo, err, sizeof(err)), "topology: %s", err);
	if (!hp_topology_node_zones(&topo, 0, &z) && z.room < 0)
		tier_node0_churn((size_t)-z.room + TIER_SETTLE_CHUNK);
	for (int i = 0; i < 60 && quiet < 4; i++) {
		tier_node0_churn(TIER_SETTLE_CHUNK);
		now = kmt_vmstat("pgdemote_kswapd") + kmt_vmstat("pgdemote_direct");
		quiet = now == last ? quiet + 1 : 0;
		last = now;
		usleep(500 * 1000);
	}
}

void tier_init(struct tier_work *w, const struct tier_opts *o)
{
	memset(w, 0, sizeof(*w));
	w->o = *o;
	w->p = mmap(NULL, o->pages * KMT_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	hp_check(w->p != MAP_FAILED, "mmap %zu pages: %s", o->pages, strerror(errno));
	hp_check(!madvise(w->p, o->pages * KMT_PAGE, o->thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE),
		 "madvise: %s", strerror(errno));
	/* Not inherited by processes forked later: a write after fork would copy (COW). */
	hp_check(!madvise(w->p, o->pages * KMT_PAGE, MADV_DONTFORK), "madvise: %s",
		 strerror(errno));
	w->hot = calloc(o->pages, 1);
	w->was_on1 = calloc(o->pages, 1);
	w->hot_idx = calloc(o->pages, sizeof(*w->hot_idx));
	w->cold_idx = calloc(o->pages, sizeof(*w->cold_idx));
	hp_check(w->hot && w->was_on1 && w->hot_idx && w->cold_idx, "calloc");
	tier_pick_hot(w, o->salt);
	w->first_touch_s = kmt_now_ms();
	for (size_t i = 0; i < o->pages; i++)
		*(volatile uint64_t *)(w->p + i * KMT_PAGE) = i;
	w->first_touch_s = (kmt_now_ms() - w->first_touch_s) / 1000;
	tier_settle();
}

/* Each page's node (move_pages with nodes NULL) into @status. */
static void tier_nodes(const struct tier_work *w, int *status)
{
	kmt_move(w->p, w->o.pages, -1, status);
}

/* Remember what is on node 1 now: the hot part must move up, the cold part must not. */
static void tier_mark_start(struct tier_work *w)
{
	int *status = calloc(w->o.pages, sizeof(*status));

	hp_check(status, "calloc");
	tier_nodes(w, status);
	w->hot_on1 = w->cold_on1 = 0;
	for (size_t i = 0; i < w->o.pages; i++) {
		w->was_on1[i] = status[i] == 1;
		if (status[i] == 1) {
			if (w->hot[i])
				w->hot_on1++;
			else
				w->cold_on1++;
		}
	}
	free(status);
}

static void tier_count(const struct tier_work *w, struct tier_count *c)
{
	int *status = calloc(w->o.pages, sizeof(*status));

	hp_check(status, "calloc");
	tier_nodes(w, status);
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < w->o.pages; i++) {
		if (status[i] < 0) {
			c->absent++;
			continue;
		}
		if (status[i] != 0) {
			c->hot_down += w->hot[i] && !w->was_on1[i];
			continue;
		}
		if (w->hot[i]) {
			c->hot0++;
			c->hot_up += w->was_on1[i];
		} else {
			c->cold_up += w->was_on1[i];
		}
	}
	free(status);
}

static void tier_start(struct tier_work *w)
{
	w->stop = 0;
	w->touches = 0;
	hp_check(!pthread_create(&w->thread, NULL, tier_loop, w), "pthread_create");
}

static void tier_stop(struct tier_work *w)
{
	w->stop = 1;
	pthread_join(w->thread, NULL);
}

void tier_free(struct tier_work *w)
{
	munmap(w->p, w->o.pages * KMT_PAGE);
	free(w->hot);
	free(w->was_on1);
	free(w->hot_idx);
	free(w->cold_idx);
}

static struct hp_node_zones zones_of(int node)
{
	struct hp_topology topo;
	struct hp_node_zones z;
	char err[256];

	hp_check(!hp_topology_read(HP_SYSFS_ROOT, &topo, err, sizeof(err)), "topology: %s", err);
	hp_check(!hp_topology_node_zones(&topo, node, &z), "zoneinfo of node %d", node);
	return z;
}

uint64_t tier_zone_free(int node)
{
	return zones_of(node).free;
}

int64_t tier_zone_room(int node)
{
	return zones_of(node).room;
}

uint64_t tier_node_free(int node)
{
	char path[96], line[256], key[64];
	unsigned long long kb = 0;
	FILE *f;
	int d;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", node);
	f = fopen(path, "r");
	hp_check(f, "open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Node %d %63[^:]: %llu", &d, key, &kb) == 3 &&
		    !strcmp(key, "MemFree"))
			break;
	fclose(f);
	return (uint64_t)kb << 10;
}

void tier_vmstat(struct tier_vmstat *v)
{
	long long d;

	v->migrated = kmt_vmstat("pgmigrate_success");
	v->promoted = kmt_vmstat("pgpromote_success");
	v->demoted = 0;
	d = kmt_vmstat("pgdemote_kswapd");
	v->demoted += d > 0 ? d : 0;
	d = kmt_vmstat("pgdemote_direct");
	v->demoted += d > 0 ? d : 0;
	/* Compaction's migrations, an upper bound: pages it isolated, as sources or targets. */
	v->compacted = kmt_vmstat("compact_isolated");
	d = kmt_vmstat("thp_collapse_alloc");
	v->collapsed = d > 0 ? d : 0;
}

void tier_run(struct tier_work *w, double deadline_s, double settle_s, bool (*alive)(void *),
	      void *arg, struct tier_result *r)
{
	struct tier_vmstat v0, v1;
	struct tier_count c;
	double t0, t = 0, stop_at = deadline_s;
	int polls = 0;

	memset(r, 0, sizeof(*r));
	r->t50_s = r->t90_s = -1;
	tier_mark_start(w);
	tier_vmstat(&v0);
	printf("  touching: %zu hot pages on node 1, %zu cold\n", w->hot_on1, w->cold_on1);
	t0 = kmt_now_ms();
	tier_start(w);
	while ((kmt_now_ms() - t0) / 1000 < stop_at) {
		if (alive)
			hp_check(alive(arg), "the system under test is gone");
		usleep(500 * 1000);
		tier_count(w, &c);
		t = (kmt_now_ms() - t0) / 1000;
		if (r->t50_s < 0 && c.hot_up * 2 >= w->hot_on1)
			r->t50_s = t;
		if (r->t90_s < 0 && c.hot_up * 10 >= w->hot_on1 * 9) {
			r->t90_s = t;
			stop_at = t + settle_s < deadline_s ? t + settle_s : deadline_s;
		}
		if (++polls % 10 == 0) {
			tier_vmstat(&v1);
			printf("  %5.1f s: %zu of %zu hot pages up, %zu cold up, %zu hot down; %lld "
			       "pages moved, %lld by kernel demotion\n",
			       t, c.hot_up, w->hot_on1, c.cold_up, c.hot_down,
			       v1.migrated - v0.migrated, v1.demoted - v0.demoted);
		}
	}
	r->secs = (kmt_now_ms() - t0) / 1000;
	tier_stop(w);
	r->touches_per_s = (double)w->touches / r->secs;
	tier_vmstat(&v1);
	tier_count(w, &r->end);
	r->moved = v1.migrated - v0.migrated;
	r->kernel_promoted = v1.promoted - v0.promoted;
	r->kernel_demoted = v1.demoted - v0.demoted;
}

/*
 * Forks a child that dies with the test and runs @body, which writes one
 * byte to @ready once it is set up and never returns (ready_then_wait);
 * returns once that byte came.
 */
static pid_t spawn(void (*body)(int ready, const void *arg), const void *arg, const char *what)
{
	int fds[2];
	char c = 0;
	pid_t pid;

	hp_check(!pipe(fds), "pipe: %s", strerror(errno));
	pid = fork();
	hp_check(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[0]);
		body(fds[1], arg);
		_exit(5);
	}
	close(fds[1]);
	hp_check(read(fds[0], &c, 1) == 1, "%s failed before it was ready", what);
	close(fds[0]);
	return pid;
}

static void ready_then_wait(int ready)
{
	char c = 0;

	if (write(ready, &c, 1) != 1)
		_exit(4);
	for (;;)
		pause();
}

static void filler_body(int ready, const void *arg)
{
	uint64_t free_bytes = *(const uint64_t *)arg;
	unsigned long mask = 1;
	const size_t chunk = 1UL << 20;

	if (set_mempolicy(MPOL_BIND, &mask, 2))
		_exit(2);
	while (tier_zone_free(0) > free_bytes + chunk)
		if (mmap(NULL, chunk, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1,
			 0) == MAP_FAILED)
			_exit(3);
	ready_then_wait(ready);
}

pid_t tier_filler_start(uint64_t free_bytes)
{
	return spawn(filler_body, &free_bytes, "the filler");
}

struct idle_args {
	size_t npages;
	int node;
};

static void idle_body(int ready, const void *arg)
{
	const struct idle_args *a = arg;
	char *p = kmt_map_pages(a->npages, 11);

	kmt_place(p, a->npages, a->node);
	ready_then_wait(ready);
}

pid_t tier_idle_start(size_t npages, int node)
{
	struct idle_args a = { npages, node };

	return spawn(idle_body, &a, "the idle process");
}

uint64_t tier_headroom_bytes(void)
{
	struct hp_node_zones z = zones_of(0);

	return z.promo + z.reserve;
}
