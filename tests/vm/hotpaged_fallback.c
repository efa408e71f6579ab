// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test: with backend=auto, hotpaged falls back to
 * move_pages when kmigrated.ko is unloaded under it and switches back
 * when the module is loaded again.
 *
 * The source must survive the rmmod: `scan` is the module's own (its
 * raw_tp link even holds the module, so rmmod could not get through),
 * numa-hint needs NUMA balancing (which would migrate by itself) and
 * damon runs on 6.12 only. So `fault`, re-armed: every REARM_MS the test
 * writes 4 to /proc/self/clear_refs, which write-protects its pages (the
 * soft-dirty reset), and writes each page again; each write takes a
 * write-protect fault on the page where it is, which the fault source
 * reports with (tgid, address). The pages stay put, unlike with
 * MADV_DONTNEED, whose refault would allocate a fresh page on node 0.
 *
 * Three phases, the pages moved back to node 1 before each, each ending
 * when 90% of them are on node 0 (within PHASE_DEADLINE_S): module loaded
 * (its `migrated` counter moves); rmmod while hotpaged promotes, then
 * promotion continues (pgmigrate_success and hotpaged's promoted count
 * move, the module is gone); insmod, and hotpaged logs the switch back and
 * the fresh module's `migrated` counter moves. The daemon re-checks for
 * the module every 3 s; a phase needs about two windows of 1 s.
 */
#include <pthread.h>

#include "hp_e2e.h"
#include "hp_settings.h"

#define NPAGES 2048 /* 8 MiB */
#define REARM_MS 250
#define PHASE_DEADLINE_S 60
#define DONE_PCT 90
/* The daemon looks at each round (1 s), for the module's return every 3 s: 4 s at most, 20 for a busy host. */
#define SWITCH_MS 20000

static char *region;
static volatile int rearm_stop, rearm_pause;
static volatile unsigned long rearm_rounds;

static void *rearm(void *arg)
{
	(void)arg;
	while (!rearm_stop) {
		if (!rearm_pause) {
			hp_check(!kmt_write("/proc/self/clear_refs", "4"), "clear_refs: %s",
				 strerror(errno));
			for (size_t i = 0; i < NPAGES; i++)
				(*(volatile char *)(region + i * KMT_PAGE))++;
			rearm_rounds++;
		}
		usleep(REARM_MS * 1000);
	}
	return NULL;
}

/* Back to node 1, the re-arming paused meanwhile (a fault could make a move fail). */
static void place_on_1(void)
{
	rearm_pause = 1;
	usleep(2 * REARM_MS * 1000);
	kmt_place(region, NPAGES, 1);
	rearm_pause = 0;
}

/* Waits until DONE_PCT% of the pages are on node 0; the seconds it took. */
static double wait_promoted(const struct e2e_daemon *d, const char *phase)
{
	double t0 = kmt_now_ms(), t;
	size_t on0 = 0;

	do {
		hp_check(e2e_daemon_alive(d), "%s: hotpaged exited", phase);
		usleep(500 * 1000);
		on0 = kmt_count_on(region, NPAGES, 0);
		t = (kmt_now_ms() - t0) / 1000;
	} while (on0 * 100 < NPAGES * DONE_PCT && t < PHASE_DEADLINE_S);
	printf("%s: %zu/%d pages on node 0 after %.1f s\n", phase, on0, NPAGES, t);
	fflush(stdout);
	hp_check(on0 * 100 >= NPAGES * DONE_PCT, "%s: %zu of %d pages on node 0 after %d s", phase,
		 on0, NPAGES, PHASE_DEADLINE_S);
	return t;
}

int main(void)
{
	char be[] = "backend=auto", scope[64];
	const char *argv[] = { "-s", "fault",	"-p", be,	  "-p", "target=0",
			       "-p", scope,	"-p", "period=1", "-p", "pingpong_ms=0",
			       "-p", "stats=1", NULL };
	const char *log = "/tmp/hotpaged_fallback.log";
	long long vm0, promoted0, promoted1;
	struct e2e_daemon d = { 0 };
	pthread_t thread;
	uint64_t mig;
	double t;
	char path[PATH_MAX];

	hp_require_root();
	kmt_module_path(path, sizeof(path));
	if (access("/sys/devices/system/node/node1/meminfo", R_OK))
		hp_skip("needs two memory nodes");
	if (access("/proc/self/clear_refs", W_OK))
		hp_skip("no /proc/self/clear_refs");
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	kmt_load_or_fail("");
	snprintf(scope, sizeof(scope), "scope=tgids:%d", (int)getpid());
	region = kmt_map_pages(NPAGES, 11);
	hp_check(!madvise(region, NPAGES * KMT_PAGE, MADV_DONTFORK), "madvise: %s",
		 strerror(errno));
	e2e_daemon_start(&d, log, argv);
	hp_check(e2e_log_has(log, "promotion backend: kmigrated"),
		 "hotpaged did not start on kmigrated");
	hp_check(!pthread_create(&thread, NULL, rearm, NULL), "pthread_create");

	/* 1: the module does the moving. */
	place_on_1();
	wait_promoted(&d, "kmigrated");
	mig = kmt_stat(-1, "migrated");
	printf("kmigrated: module migrated %llu\n", (unsigned long long)mig);
	hp_check(mig >= NPAGES * DONE_PCT / 100, "the module migrated %llu pages",
		 (unsigned long long)mig);

	/* 2: rmmod while hotpaged promotes; promotion goes on through move_pages. */
	place_on_1();
	usleep(300 * 1000); /* rmmod as hotpaged's next rounds send these to the module */
	hp_check(!kmt_unload(), "delete_module(kmigrated) under hotpaged: %s", strerror(errno));
	hp_check(!kmt_loaded(), "kmigrated.ko still loaded");
	t = kmt_now_ms();
	while (!e2e_log_has(log, "kmigrated -> move_pages") && kmt_now_ms() - t < SWITCH_MS)
		usleep(100 * 1000);
	hp_check(e2e_log_has(log, "kmigrated -> move_pages"),
		 "hotpaged logged no fallback within %d ms of rmmod", SWITCH_MS);
	printf("rmmod: done while hotpaged runs; it fell back after %.1f s\n",
	       (kmt_now_ms() - t) / 1000);
	sleep(2); /* a stats line (every second) with the count so far */
	promoted0 = e2e_daemon_stat(&d, "promoted");
	place_on_1();
	vm0 = kmt_vmstat("pgmigrate_success");
	wait_promoted(&d, "move_pages");
	sleep(2);
	promoted1 = e2e_daemon_stat(&d, "promoted");
	printf("move_pages: pgmigrate_success +%lld, hotpaged promoted %lld -> %lld\n",
	       kmt_vmstat("pgmigrate_success") - vm0, promoted0, promoted1);
	hp_check(kmt_vmstat("pgmigrate_success") - vm0 >= NPAGES * DONE_PCT / 100,
		 "pgmigrate_success +%lld", kmt_vmstat("pgmigrate_success") - vm0);
	hp_check(promoted1 - promoted0 >= NPAGES * DONE_PCT / 100,
		 "hotpaged promoted %lld pages on move_pages", promoted1 - promoted0);

	/* 3: insmod; hotpaged goes back to the module. */
	kmt_load_or_fail("");
	t = kmt_now_ms();
	while (!e2e_log_has(log, "move_pages -> kmigrated") && kmt_now_ms() - t < SWITCH_MS)
		usleep(100 * 1000);
	hp_check(e2e_log_has(log, "move_pages -> kmigrated"),
		 "hotpaged logged no switch back within %d ms of insmod", SWITCH_MS);
	printf("insmod: hotpaged switched back after %.1f s\n", (kmt_now_ms() - t) / 1000);
	place_on_1();
	wait_promoted(&d, "kmigrated again");
	mig = kmt_stat(-1, "migrated");
	printf("kmigrated again: module migrated %llu\n", (unsigned long long)mig);
	hp_check(mig >= NPAGES * DONE_PCT / 100, "the reloaded module migrated %llu pages",
		 (unsigned long long)mig);

	rearm_stop = 1;
	pthread_join(thread, NULL);
	printf("re-armed %lu times\n", rearm_rounds);
	e2e_daemon_stop(&d);
	munmap(region, NPAGES * KMT_PAGE);
	hp_check(!kmt_unload(), "delete_module: %s", strerror(errno));
	hp_settings_restore();
	printf("pass\n");
	return 0;
}
