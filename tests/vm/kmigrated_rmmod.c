// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test: kmigrated.ko unloads under a steady stream of requests, with
 * requests queued and in flight, and leaks nothing.
 *
 * A producer thread keeps loading the request programs and pushing
 * batches for this process's pages (moved back to node 1 each round); the
 * module runs at 4 MB/s so that its queues stay full. Meanwhile the main
 * thread calls delete_module(2) until it succeeds (each loaded program
 * holds the module; it gets through between two program lifetimes).
 * Afterwards: the module and its sysfs directory are gone, its unload
 * message reports the requests it dropped, no page stays isolated, the
 * pages hold their contents and, once unmapped, are free again (no page
 * reference leaked: /proc/kpagecount), the kernel logged no problem, and
 * the module loads and promotes again.
 */
#include <pthread.h>

#include "hp_settings.h"
#include "kmigrated_test.h"

#define NPAGES 4096

static char *region;
static volatile int stop;
static long pushed, accepted, rounds;

static void cleanup(void)
{
	stop = 1;
	if (kmt_loaded())
		kmt_unload();
}

static void *producer(void *arg)
{
	struct kmigrated_req *reqs = calloc(NPAGES, sizeof(*reqs));
	uint64_t *pfns = calloc(NPAGES, 8);
	int *status = calloc(NPAGES, sizeof(int));
	int i, k;

	(void)arg;
	hp_check(reqs && pfns && status, "calloc");
	while (!stop) {
		struct kmt_progs *progs = kmt_try_open_programs(false);

		/* The module is gone (or going): its kfuncs are. */
		if (!progs)
			break;
		for (k = 0; k < 4 && !stop; k++) {
			/* Racing kmigrated: pages under migration report -ENOENT. */
			kmt_move(region, NPAGES, 1, status);
			kmt_move(region, 1, 1, status);
			kmt_pfns(region, NPAGES, pfns);
			for (i = 0; i < NPAGES; i++)
				reqs[i] = (struct kmigrated_req){ .pfn = pfns[i], .node = 0 };
			accepted += kmt_submit(progs, reqs, NPAGES);
			pushed += NPAGES;
		}
		kmt_close_programs(progs);
		rounds++;
	}
	free(reqs);
	free(pfns);
	free(status);
	return NULL;
}

/* Pages of @pfns that something still holds (kpagecount > 0). */
static size_t held(const uint64_t *pfns, size_t n)
{
	int fd = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	size_t i, count = 0;

	hp_check(fd >= 0, "open /proc/kpagecount: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		uint64_t c = 0;

		hp_check(pread(fd, &c, 8, (off_t)(pfns[i] * 8)) == 8, "pread kpagecount: %s",
			 strerror(errno));
		count += c > 0;
	}
	close(fd);
	return count;
}

int main(void)
{
	uint64_t *pfns = calloc(NPAGES, 8), *sums = calloc(NPAGES, 8), queued = 0;
	char line[512] = "";
	struct kmt_progs *progs;
	struct kmigrated_req req;
	pthread_t thr;
	double t0, t_unload;
	size_t i, still;
	int kmsg, bad = 0, err = 0, tries = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	/* NUMA balancing would move the test's pages, or hide them behind hint PTEs. */
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", false);
	hp_check(pfns && sums, "calloc");
	atexit(cleanup);
	kmsg = kmt_kmsg_open();
	kmt_load_or_fail("rate_limit_mbps=4 queue_depth=4096");
	region = kmt_map_pages(NPAGES, 5);
	kmt_sums(region, NPAGES, sums);

	hp_check(!pthread_create(&thr, NULL, producer, NULL), "pthread_create");
	usleep(2000 * 1000);
	/*
	 * A round (move 4096 pages to node 1, one TLB shootdown each on 6.1,
	 * then push them) can take longer than that on a slow TCG host.
	 */
	for (i = 0; i < 600 && !(rounds >= 1 || pushed > 0); i++)
		usleep(100 * 1000);
	hp_check(rounds >= 1 || pushed > 0, "the producer has not pushed anything in 62 s");

	printf("unloading; libbpf's 'failed to find BTF for kernel function' that follows is the producer finding the module gone\n");
	t0 = kmt_now_ms();
	for (;;) {
		if (kmt_loaded())
			queued = kmt_stat(-1, KMIGRATED_SYSFS_QUEUED);
		if (syscall(SYS_delete_module, KMIGRATED_MODULE_NAME, O_NONBLOCK) == 0)
			break;
		err = errno;
		hp_check(err == EAGAIN || err == EBUSY || err == EWOULDBLOCK, "delete_module: %s",
			 strerror(err));
		hp_check(kmt_now_ms() - t0 < 60000, "module still busy after 60 s of tries");
		tries++;
		usleep(2000);
	}
	t_unload = kmt_now_ms() - t0;
	stop = 1;
	pthread_join(thr, NULL);
	printf("unloaded after %.0f ms and %d tries, under a stream of %ld requests (%ld queued) in %ld program lifetimes; about %llu queued just before\n",
	       t_unload, tries, pushed, accepted, rounds, (unsigned long long)queued);

	hp_check(!kmt_loaded(), "/sys/module/kmigrated still there");
	hp_check(access(KMIGRATED_SYSFS_DIR, F_OK) != 0, "%s still there", KMIGRATED_SYSFS_DIR);
	hp_check(kmt_kmsg_scan(kmsg, "kmigrated: unloaded:", line, sizeof(line), &bad),
		 "no unload message in the kernel log");
	printf("kernel log: %s\n", line);
	hp_check(!bad, "%d kernel problem reports in the log", bad);
	hp_check(kmt_isolated() == 0, "%lld pages still isolated after the unload", kmt_isolated());
	for (i = 0; i < NPAGES; i++)
		hp_check(kmt_page_sum(region + i * KMT_PAGE) == sums[i], "page %zu changed content",
			 i);
	kmt_pfns(region, NPAGES, pfns);
	munmap(region, NPAGES * KMT_PAGE);
	usleep(100 * 1000);
	still = held(pfns, NPAGES);
	printf("after munmap, %zu of %d pages still referenced\n", still, NPAGES);
	hp_check(still < NPAGES / 20,
		 "%zu of %d unmapped pages still referenced: leaked references", still, NPAGES);

	/* It loads and works again. */
	kmt_load_or_fail("");
	progs = kmt_open_programs(false);
	region = kmt_map_pages(16, 6);
	kmt_place(region, 16, 1);
	kmt_pfns(region, 1, pfns);
	req = (struct kmigrated_req){ .pfn = pfns[0], .node = 0 };
	hp_check(kmt_submit_one(progs, &req) == KMIGRATED_QUEUED,
		 "request after reload refused: %u", req.result);
	hp_check(kmt_wait_stat("migrated", 1, 10000), "nothing migrated after the reload");
	kmt_close_programs(progs);
	hp_check(!kmt_unload(), "unload: %s", strerror(errno));
	kmt_kmsg_scan(kmsg, NULL, NULL, 0, &bad);
	hp_check(!bad, "%d kernel problem reports in the log", bad);
	printf("pass: unloaded under load, nothing isolated or leaked, reloads and works\n");
	return 0;
}
