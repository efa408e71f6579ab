// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test: when a symbol of the pfn route cannot be resolved (simulated
 * with fail_symbol=NAME), kmigrated.ko still loads, names the symbol in
 * the kernel log, serves only the vma route (pfn requests refused with
 * KMIGRATED_E_ROUTE) and still promotes pages by (tgid, address). With
 * route=pfn it refuses to load instead, naming the symbol.
 */
#include "hp_settings.h"
#include "kmigrated_test.h"

#define NPAGES 512

static struct kmt_progs *progs;
static int bad; /* kernel problem reports seen */

static void cleanup(void)
{
	if (progs)
		kmt_close_programs(progs);
	progs = NULL;
	if (kmt_loaded())
		kmt_unload();
}

static void fallback(const char *symbol, int kmsg)
{
	struct kmigrated_req *reqs = calloc(NPAGES, sizeof(*reqs));
	uint64_t *sums = calloc(NPAGES, 8), pfn, before;
	char params[128], line[512], needle[128], route[32];
	struct kmigrated_req r;
	size_t i;
	char *p;

	hp_check(reqs && sums, "calloc");
	snprintf(params, sizeof(params), "fail_symbol=%s", symbol);
	kmt_load_or_fail(params);
	snprintf(needle, sizeof(needle), "cannot resolve %s", symbol);
	hp_check(kmt_kmsg_scan(kmsg, needle, line, sizeof(line), &bad), "no '%s' in the kernel log",
		 needle);
	printf("%s: kernel log: %s\n", params, line);
	kmt_read_str(KMIGRATED_SYSFS_DIR "/route", route, sizeof(route));
	hp_check(!strcmp(route, "vma"), "%s: routes '%s', expected 'vma'", params, route);
	progs = kmt_open_programs(false);

	p = kmt_map_pages(NPAGES, 11);
	kmt_place(p, NPAGES, 1);
	kmt_sums(p, NPAGES, sums);
	kmt_pfns(p, 1, &pfn);
	r = (struct kmigrated_req){ .pfn = pfn, .node = 0 };
	hp_check(kmt_submit_one(progs, &r) == KMIGRATED_E_ROUTE,
		 "pfn request: result %u, expected route", r.result);
	for (i = 0; i < NPAGES; i++)
		reqs[i] = (struct kmigrated_req){ .vaddr = (uintptr_t)(p + i * KMT_PAGE),
						  .tgid = (uint32_t)getpid(),
						  .node = 0,
						  .flags = KMIGRATED_REQ_VADDR };
	before = kmt_stat(-1, "migrated_vma");
	hp_check(kmt_submit(progs, reqs, NPAGES) == NPAGES, "vaddr requests refused (first: %u)",
		 reqs[0].result);
	hp_check(kmt_wait_stat("migrated_vma", before + NPAGES, 60000),
		 "migrated_vma moved by %llu of %d",
		 (unsigned long long)(kmt_stat(-1, "migrated_vma") - before), NPAGES);
	hp_check(kmt_count_on(p, NPAGES, 0) == NPAGES, "%zu of %d pages on node 0",
		 kmt_count_on(p, NPAGES, 0), NPAGES);
	for (i = 0; i < NPAGES; i++)
		hp_check(kmt_page_sum(p + i * KMT_PAGE) == sums[i], "page %zu changed content", i);
	printf("%s: pfn requests refused (route), %d pages promoted by the vma route, checksums intact\n",
	       params, NPAGES);
	munmap(p, NPAGES * KMT_PAGE);
	kmt_close_programs(progs);
	progs = NULL;
	hp_check(!kmt_unload(), "unload: %s", strerror(errno));
	free(reqs);
	free(sums);
}

int main(void)
{
	char line[512];
	int kmsg, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	/* NUMA balancing would move the test's pages, or hide them behind hint PTEs. */
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", false);
	atexit(cleanup);
	kmsg = kmt_kmsg_open();
	if (kmt_loaded())
		hp_check(!kmt_unload(), "unload: %s", strerror(errno));

	fallback("migrate_pages", kmsg);
	fallback("folio_isolate_lru", kmsg);

	err = kmt_load("route=pfn fail_symbol=putback_movable_pages");
	if (!err)
		kmt_unload();
	hp_check(err == -ENOENT, "route=pfn with an unresolvable symbol: %s, expected ENOENT",
		 err ? strerror(-err) : "loaded");
	hp_check(kmt_kmsg_scan(kmsg, "needs putback_movable_pages", line, sizeof(line), &bad),
		 "no refusal message naming putback_movable_pages");
	hp_check(!kmt_loaded(), "module left loaded");
	printf("route=pfn fail_symbol=putback_movable_pages: refused (ENOENT): %s\n", line);

	kmt_kmsg_scan(kmsg, NULL, NULL, 0, &bad);
	hp_check(!bad, "%d kernel problem reports in the log", bad);
	printf("pass: without a pfn-route symbol the module serves the vma route and promotes\n");
	return 0;
}
