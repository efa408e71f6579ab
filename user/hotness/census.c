// SPDX-License-Identifier: GPL-2.0
/* The census of idle pages (census.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "census.h"
#include "clock.h"
#include "heat.h"
#include "pagemap.h"

#define PAGE_4K 4096ULL
#define READ_PAGES 512 /* pagemap entries per read: 4 KiB */

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h) */
#define KPF_LRU 5
#define KPF_COMPOUND_HEAD 15
#define KPF_UNEVICTABLE 18
#define KPF_THP 22
#define KPF_MLOCKED 33

struct census_vma {
	__u64 start, end;
};

struct hp_census {
	char proc[256];
	int kpf_fd;
	int kpc_fd; /* /proc/kpagecount: how many times each frame is mapped */
	/* the processes of this cycle, ascending, and the next to visit */
	__u32 *tgids;
	size_t nr_tgids, cap_tgids, next_tgid;
	__u64 listed_ns; /* when they were listed */
	/* the process being walked */
	bool walking;
	__u32 tgid;
	int pm_fd;
	struct census_vma *vmas;
	size_t nr_vmas, cap_vmas, vma;
	__u64 addr;
	/* candidates of a call, before kpageflags and ordering */
	struct hp_victim *raw;
	size_t cap_raw;
	__u64 entries[READ_PAGES];
	struct hp_census_stats st;
};

int hp_census_new(const struct hp_census_opts *opts, struct hp_census **out)
{
	struct hp_census *c = calloc(1, sizeof(*c));
	const char *kpf = opts && opts->kpageflags ? opts->kpageflags : "/proc/kpageflags";
	const char *kpc = opts && opts->kpagecount ? opts->kpagecount : "/proc/kpagecount";

	if (!c)
		return -ENOMEM;
	snprintf(c->proc, sizeof(c->proc), "%s",
		 opts && opts->proc_root ? opts->proc_root : "/proc");
	c->kpf_fd = kpf[0] ? open(kpf, O_RDONLY | O_CLOEXEC) : -1;
	c->kpc_fd = kpc[0] ? open(kpc, O_RDONLY | O_CLOEXEC) : -1;
	c->pm_fd = -1;
	if (opts && opts->max_victims) {
		c->cap_raw = 2 * opts->max_victims;
		c->raw = calloc(c->cap_raw, sizeof(*c->raw));
		if (!c->raw) {
			hp_census_free(c);
			return -ENOMEM;
		}
		memset(c->raw, 0, c->cap_raw * sizeof(*c->raw));
	}
	*out = c;
	return 0;
}

static void stop_walking(struct hp_census *c)
{
	if (c->pm_fd >= 0)
		close(c->pm_fd);
	c->pm_fd = -1;
	c->walking = false;
}

void hp_census_free(struct hp_census *c)
{
	if (!c)
		return;
	stop_walking(c);
	if (c->kpf_fd >= 0)
		close(c->kpf_fd);
	if (c->kpc_fd >= 0)
		close(c->kpc_fd);
	free(c->tgids);
	free(c->vmas);
	free(c->raw);
	free(c);
}

void hp_census_rewind(struct hp_census *c)
{
	stop_walking(c);
	c->nr_tgids = c->next_tgid = 0;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* The processes now under proc, ascending. */
static void list_processes(struct hp_census *c)
{
	DIR *dir = opendir(c->proc);
	struct dirent *de;

	c->nr_tgids = c->next_tgid = 0;
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char *end;
		unsigned long v = strtoul(de->d_name, &end, 10);

		if (*end || !v || v > 0x7fffffff)
			continue;
		if (c->nr_tgids == c->cap_tgids) {
			size_t cap = c->cap_tgids ? 2 * c->cap_tgids : 256;
			__u32 *t = realloc(c->tgids, cap * sizeof(*t));

			if (!t)
				break;
			c->tgids = t;
			c->cap_tgids = cap;
		}
		c->tgids[c->nr_tgids++] = (__u32)v;
	}
	closedir(dir);
	qsort(c->tgids, c->nr_tgids, sizeof(*c->tgids), cmp_u32);
}

/* Mappings with pages that could be demoted: not the kernel's special ones. */
static bool vma_wanted(const char *line)
{
	return !strstr(line, "[vsyscall]") && !strstr(line, "[vvar") && !strstr(line, "[vdso]");
}

/* Open @tgid's pagemap and read its mappings; false when it has none. */
static bool start_walking(struct hp_census *c, __u32 tgid)
{
	char path[300], line[512];
	FILE *maps;

	snprintf(path, sizeof(path), "%s/%u/maps", c->proc, tgid);
	maps = fopen(path, "re");
	if (!maps)
		return false;
	c->nr_vmas = 0;
	while (fgets(line, sizeof(line), maps)) {
		unsigned long long start, end;

		if (sscanf(line, "%llx-%llx", &start, &end) != 2 || end <= start ||
		    !vma_wanted(line))
			continue;
		if (c->nr_vmas == c->cap_vmas) {
			size_t cap = c->cap_vmas ? 2 * c->cap_vmas : 64;
			struct census_vma *v = realloc(c->vmas, cap * sizeof(*v));

			if (!v)
				break;
			c->vmas = v;
			c->cap_vmas = cap;
		}
		c->vmas[c->nr_vmas].start = start;
		c->vmas[c->nr_vmas++].end = end;
	}
	fclose(maps);
	if (!c->nr_vmas)
		return false;
	snprintf(path, sizeof(path), "%s/%u/pagemap", c->proc, tgid);
	c->pm_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->pm_fd < 0)
		return false;
	c->tgid = tgid;
	c->vma = 0;
	c->addr = c->vmas[0].start;
	c->walking = true;
	c->st.processes++;
	return true;
}

static bool raw_add(struct hp_census *c, size_t *n, const struct hp_victim *v)
{
	if (*n == c->cap_raw) {
		size_t cap = c->cap_raw ? 2 * c->cap_raw : 1024;
		struct hp_victim *r = realloc(c->raw, cap * sizeof(*r));

		if (!r)
			return false;
		c->raw = r;
		c->cap_raw = cap;
	}
	c->raw[(*n)++] = *v;
	return true;
}

static bool taken_whole(const struct hp_census_query *q, __u32 tgid)
{
	return q->take_all && q->take_all(tgid, q->arg);
}

/* One read of the current process's pagemap; false when the process is done. */
static bool walk_step(struct hp_census *c, const struct hp_heat *heat,
		      const struct hp_census_query *q, size_t *budget, size_t *nraw)
{
	const struct census_vma *vma = &c->vmas[c->vma];
	__u64 n = (vma->end - c->addr) / PAGE_4K;
	unsigned int min_idle = taken_whole(q, c->tgid) ? 0 : q->min_idle;
	ssize_t got;

	if (n > READ_PAGES)
		n = READ_PAGES;
	if (n > *budget)
		n = *budget;
	got = pread(c->pm_fd, c->entries, n * sizeof(__u64), (off_t)(c->addr / PAGE_4K * 8));
	if (got <= 0)
		return false; /* gone, or nothing there */
	n = (__u64)got / sizeof(__u64);
	*budget -= n;
	c->st.pages_read += n;
	for (__u64 i = 0; i < n; i++) {
		__u64 e = c->entries[i], pfn = e & HP_PM_PFN_MASK;
		struct hp_victim v;
		int node;

		if (!(e & HP_PM_PRESENT) || !pfn)
			continue;
		node = hp_heat_node(heat, pfn);
		if (node < 0 || node >= 64 || !(q->node_mask >> node & 1))
			continue;
		v.idle = (__u16)hp_heat_idle(heat, pfn);
		if (v.idle < min_idle)
			continue;
		c->st.found++;
		v.pfn = pfn;
		v.vaddr = c->addr + i * PAGE_4K;
		v.tgid = c->tgid;
		v.npages = 1;
		v.node = (__s16)node;
		if (q->skip && q->skip(c->tgid, v.vaddr, q->arg)) {
			c->st.skipped_moved++;
			continue;
		}
		if (!raw_add(c, nraw, &v))
			break;
	}
	c->addr += n * PAGE_4K;
	if (c->addr >= vma->end) {
		if (++c->vma == c->nr_vmas)
			return false;
		c->addr = c->vmas[c->vma].start;
	}
	return true;
}

static bool kpage_flags(const struct hp_census *c, __u64 pfn, __u64 *flags)
{
	return pread(c->kpf_fd, flags, sizeof(*flags), (off_t)(pfn * 8)) == sizeof(*flags);
}

bool hp_census_huge_page(const struct hp_census *c, __u64 pfn, __u64 *head, __u32 *npages)
{
	__u64 f, hf, h = pfn & ~(__u64)(HP_HEAT_HUGE_PAGES - 1);

	if (c->kpf_fd < 0 || !kpage_flags(c, pfn, &f) || !(f & (1ULL << KPF_THP)))
		return false;
	/* Huge pages are naturally aligned: the head of a PMD-sized one is here. */
	if (!kpage_flags(c, h, &hf) || !(hf & (1ULL << KPF_COMPOUND_HEAD)) ||
	    !(hf & (1ULL << KPF_THP)))
		return false; /* a smaller large folio: migrated whole, counted as one */
	*head = h;
	*npages = HP_HEAT_HUGE_PAGES;
	return true;
}

/*
 * What the kernel says of @v's frame: false to leave it out; a page of a
 * transparent huge page becomes the huge page.
 */
static bool kernel_agrees(struct hp_census *c, const struct hp_heat *heat,
			  const struct hp_census_query *q, struct hp_victim *v)
{
	__u64 f, head, count;
	__u32 npages;

	if (q->exclusive_only && c->kpc_fd >= 0 &&
	    pread(c->kpc_fd, &count, sizeof(count), (off_t)(v->pfn * 8)) == sizeof(count) &&
	    count > 1) {
		c->st.skipped_shared++;
		return false;
	}

	if (c->kpf_fd < 0)
		return true;
	if (!kpage_flags(c, v->pfn, &f))
		return true;
	if (f & ((1ULL << KPF_UNEVICTABLE) | (1ULL << KPF_MLOCKED))) {
		c->st.skipped_unevictable++;
		return false;
	}
	if (!(f & (1ULL << KPF_LRU)) && !(f & (1ULL << KPF_THP))) {
		c->st.skipped_not_lru++;
		return false;
	}
	if (!(f & (1ULL << KPF_THP)) || !hp_census_huge_page(c, v->pfn, &head, &npages))
		return true;
	v->vaddr -= (v->pfn - head) * PAGE_4K;
	v->pfn = head;
	v->npages = npages;
	v->idle = (__u16)hp_heat_idle(heat, head);
	return true;
}

static int cmp_pfn(const void *a, const void *b)
{
	const struct hp_victim *x = a, *y = b;

	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

static int cmp_coldest(const void *a, const void *b)
{
	const struct hp_victim *x = a, *y = b;

	if (x->idle != y->idle)
		return x->idle > y->idle ? -1 : 1;
	return cmp_pfn(a, b);
}

size_t hp_census_run(struct hp_census *c, const struct hp_heat *heat,
		     const struct hp_census_query *q, struct hp_victim *out, size_t max)
{
	size_t budget = q->budget_pages, nraw = 0, n = 0;
	bool listed = false;

	c->st.calls++;
	/* Twice what is asked: some of them the kernel's flags will leave out. */
	while (budget && nraw < 2 * max) {
		if (!c->walking) {
			if (c->next_tgid >= c->nr_tgids) {
				__u64 now = hp_monotonic_ns();

				if (listed)
					break; /* one cycle per call at most */
				if (c->nr_tgids)
					c->st.cycles++;
				if (!c->nr_tgids || now - c->listed_ns >= HP_CENSUS_RELIST_NS) {
					list_processes(c);
					c->listed_ns = now;
				}
				c->next_tgid = 0;
				listed = true;
				if (!c->nr_tgids)
					break;
			}
			__u32 tgid = c->tgids[c->next_tgid++];

			if (q->admit && !q->admit(tgid, q->arg))
				continue;
			if (!start_walking(c, tgid)) {
				stop_walking(c);
				continue;
			}
		}
		if (!walk_step(c, heat, q, &budget, &nraw))
			stop_walking(c);
	}
	for (size_t i = 0; i < nraw; i++)
		if (kernel_agrees(c, heat, q, &c->raw[i]) &&
		    (c->raw[i].idle >= q->min_idle || taken_whole(q, c->raw[i].tgid)))
			c->raw[n++] = c->raw[i];
	/* Each frame once (shared pages, pages of one huge page), coldest first. */
	qsort(c->raw, n, sizeof(*c->raw), cmp_pfn);
	nraw = n;
	n = 0;
	for (size_t i = 0; i < nraw; i++)
		if (!n || c->raw[n - 1].pfn != c->raw[i].pfn)
			c->raw[n++] = c->raw[i];
	qsort(c->raw, n, sizeof(*c->raw), cmp_coldest);
	if (n > max)
		n = max;
	memcpy(out, c->raw, n * sizeof(*out));
	c->st.victims += n;
	return n;
}

void hp_census_get_stats(const struct hp_census *c, struct hp_census_stats *stats)
{
	*stats = c->st;
}
