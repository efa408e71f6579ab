// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: no byte lost while hotpaged moves live memory. WRITERS processes
 * each place WRITER_PAGES pages on node 1 and keep rewriting their hot
 * half, whole pages, with a per-page generation (tests/lib/hp_stress.h:
 * every pass checks each hot page against the generation written last,
 * then writes the next), while hotpaged (scan source, target=0) promotes
 * them. Once with backend=move_pages, once with backend=kmigrated.
 * Passes when at least HOT_PCT_MIN% of the hot pages moved to node 0 with
 * the writers still writing, every pass and the final check of every page
 * (hot and cold) read back what was written, and the kernel counted as
 * many migrations as pages moved.
 *
 * Then the exchange, with each backend: the writers' cold halves on node
 * 0 with an idle process's COLD_EXTRA_PAGES, a filler leaving node 0 room
 * for a tenth of the hot pages, hotpaged with its default policy
 * (target=0): the cold pages go down to make room while the hot ones come
 * up, both moving under the writers, and nothing is lost either way. The
 * idle process is the rest of a full fast tier's cold memory: node 0's
 * free memory moves by thousands of pages on its own (khugepaged's
 * collapses, the CPUs' free lists, the daemon's own tables), more than a
 * tenth of the hot pages, and the exchange must be able to make up for it.
 */
#include <signal.h>

#include "hp_settings.h"
#include "hp_stress.h"
#include "hp_tier.h"

#define WRITERS 3
#define WRITER_PAGES 2048 /* 8 MiB each */
#define HOT_DIV 2
#define HOT_PCT_MIN 90
#define DEADLINE_S 120
#define AFTER_S 3 /* writing goes on after the moves, for lost writes to show */
#define COLD_EXTRA_PAGES 8192 /* 32 MiB */

static void run(const char *backend)
{
	struct hps_writer w[WRITERS];
	struct hps_daemon d = { 0 };
	char scope[128], be[64];
	size_t hot_on = 0, nhot = 0, cold_on = 0, ncold = 0;
	long long migrated0, passes0 = 0, passes = 0, bad = 0, gens = 0, moved_k0;
	double t0;
	int kmsg = kmt_kmsg_open(), problems = 0;

	for (int i = 0; i < WRITERS; i++)
		hps_writer_start(&w[i], WRITER_PAGES, 1000u * (unsigned int)i + 7, 1, HOT_DIV);
	hps_scope_tgids(scope, sizeof(scope), w, WRITERS);
	snprintf(be, sizeof(be), "backend=%s", backend);
	for (int i = 0; i < WRITERS; i++)
		passes0 += w[i].sh->passes;
	migrated0 = kmt_vmstat("pgmigrate_success");
	moved_k0 = (long long)kmt_stat(-1, "migrated");
	{
		const char *args[] = { "-s", "scan",
				       "-p", be,
				       "-p", "target=0",
				       "-p", scope,
				       "-p", "window_ms=1000",
				       "-p", "threshold=2",
				       "-p", "pingpong_ms=60000",
				       "-p", "stats=1",
				       NULL };

		hps_daemon_start(&d, backend, args);
	}
	printf("%s: %d writers x %d pages (%d MiB) on node 1, hot 1 in %d rewritten whole each "
	       "pass, hotpaged -s scan target=0 %s\n",
	       backend, WRITERS, WRITER_PAGES, WRITERS * WRITER_PAGES * 4 / 1024, HOT_DIV, be);
	t0 = kmt_now_ms();
	for (;;) {
		size_t h, nh, c, tot_h = 0, tot_nh = 0;

		usleep(500 * 1000);
		hp_check(hps_daemon_alive(&d), "hotpaged exited (log %s)", d.log);
		for (int i = 0; i < WRITERS; i++) {
			hp_check(!w[i].sh->bad_pages, "writer %d: %lld bad pages, first %lld", i,
				 (long long)w[i].sh->bad_pages, (long long)w[i].sh->first_bad);
			hps_count_nodes(w[i].pid, (uintptr_t)w[i].area, WRITER_PAGES, 0, HOT_DIV,
					&h, &nh, &c);
			tot_h += h;
			tot_nh += nh;
		}
		if (tot_h * 100 >= tot_nh * HOT_PCT_MIN || kmt_now_ms() - t0 > DEADLINE_S * 1000.0)
			break;
	}
	printf("%s: hot pages reached node 0 in %.1f s; writers go on for %d s\n", backend,
	       (kmt_now_ms() - t0) / 1000, AFTER_S);
	sleep(AFTER_S);
	for (int i = 0; i < WRITERS; i++)
		w[i].sh->stop = 1; /* stop writing, check every page */
	usleep(200 * 1000);
	hps_daemon_stop(&d);
	for (int i = 0; i < WRITERS; i++) {
		size_t h, nh, c;
		long long p, b;

		hps_count_nodes(w[i].pid, (uintptr_t)w[i].area, WRITER_PAGES, 0, HOT_DIV, &h, &nh,
				&c);
		for (size_t j = 0; j < WRITER_PAGES; j++)
			gens += (long long)w[i].sh->gen[j] - 1;
		hot_on += h;
		nhot += nh;
		cold_on += c;
		ncold += WRITER_PAGES - nh;
		hps_writer_finish(&w[i], &p, &b);
		passes += p;
		bad += b;
	}
	migrated0 = kmt_vmstat("pgmigrate_success") - migrated0;
	moved_k0 = (long long)kmt_stat(-1, "migrated") - moved_k0;
	kmt_kmsg_scan(kmsg, NULL, NULL, 0, &problems);
	close(kmsg);
	printf("%s: %lld writer passes (%lld before hotpaged started), %lld page generations "
	       "written and checked; bad pages %lld\n",
	       backend, passes, passes0, gens, bad);
	printf("%s: moved to node 0: hot %zu/%zu (%.1f%%), cold %zu/%zu; pgmigrate_success +%lld, "
	       "kmigrated migrated +%lld; hotpaged promoted %lld\n",
	       backend, hot_on, nhot, 100.0 * (double)hot_on / (double)nhot, cold_on, ncold,
	       migrated0, moved_k0, hps_daemon_stat(&d, "promoted"));
	hp_check(!bad, "%s: %lld pages did not read back what was written", backend, bad);
	hp_check(!problems, "%s: %d kernel problem reports", backend, problems);
	hp_check(hot_on * 100 >= nhot * HOT_PCT_MIN, "%s: %zu of %zu hot pages moved in %d s",
		 backend, hot_on, nhot, DEADLINE_S);
	hp_check(migrated0 >= (long long)(hot_on + cold_on),
		 "%s: %zu pages on node 0, the kernel migrated %lld", backend, hot_on + cold_on,
		 migrated0);
	hp_check(passes > passes0 + 2 * WRITERS, "%s: writers made no progress", backend);
}

/* The writers' cold pages to node 0, where the exchange is to find them idle. */
static void place_cold(const struct hps_writer *w)
{
	void **addrs = calloc(w->npages, sizeof(*addrs));
	int *nodes = calloc(w->npages, sizeof(*nodes)),
	    *status = calloc(w->npages, sizeof(*status));
	size_t n = 0;

	hp_check(addrs && nodes && status, "calloc");
	for (size_t i = 0; i < w->npages; i++)
		if (!hps_is_hot(i, HOT_DIV))
			addrs[n++] = w->area + i * KMT_PAGE;
	hp_check(move_pages(w->pid, n, addrs, nodes, status, MPOL_MF_MOVE) >= 0,
		 "move_pages(%d): %s", (int)w->pid, strerror(errno));
	free(addrs);
	free(nodes);
	free(status);
}

/* Pages of process @pid on @node (numa_maps), for the log. */
static long long node_pages(pid_t pid, int node)
{
	char path[64], line[4096], key[16];
	long long sum = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/numa_maps", (int)pid);
	snprintf(key, sizeof(key), " N%d=", node);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *n = strstr(line, key);

		if (n)
			sum += strtoll(n + strlen(key), NULL, 10);
	}
	fclose(f);
	return sum;
}

static void run_exchange(const char *backend)
{
	struct hps_writer w[WRITERS];
	struct hps_daemon d = { 0 };
	char scope[128], be[64];
	size_t hot_on = 0, nhot = 0, cold_on = 0, ncold = 0;
	long long bad = 0, passes = 0, demoted, promoted, daemon_n0;
	pid_t filler, idle;
	double t0;
	size_t len;

	for (int i = 0; i < WRITERS; i++) {
		hps_writer_start(&w[i], WRITER_PAGES, 1000u * (unsigned int)i + 77, 1, HOT_DIV);
		place_cold(&w[i]);
	}
	idle = tier_idle_start(COLD_EXTRA_PAGES, 0);
	hps_scope_tgids(scope, sizeof(scope), w, WRITERS);
	len = strlen(scope);
	snprintf(scope + len, sizeof(scope) - len, ",%d", (int)idle);
	snprintf(be, sizeof(be), "backend=%s", backend);
	{
		const char *args[] = { "-s", "scan", "-p", be,	      "-p", "target=0",
				       "-p", scope,  "-p", "stats=1", NULL };

		hps_daemon_start(&d, backend, args);
	}
	/*
	 * The room is what is left once hotpaged has its own memory (tens of
	 * MiB of node 0, more than the cold pages), and it must not promote
	 * into the room the filler is still taking: the filler fills while
	 * hotpaged is stopped.
	 */
	hp_check(hps_wait_daemon_stat(&d, "rounds", 2, 30 * 1000.0),
		 "exchange, %s: hotpaged ran no round (log %s)", backend, d.log);
	hp_check(!kill(d.pid, SIGSTOP), "SIGSTOP: %s", strerror(errno));
	filler = tier_filler_start(tier_headroom_bytes() +
				   (uint64_t)WRITERS * WRITER_PAGES / HOT_DIV / 10 * KMT_PAGE);
	hp_check(!kill(d.pid, SIGCONT), "SIGCONT: %s", strerror(errno));
	daemon_n0 = node_pages(d.pid, 0);
	printf("exchange, %s: %d writers, hot halves on node 1, cold halves and %d idle pages on "
	       "node 0, node 0 room for a tenth of the hot pages; hotpaged has %lld pages there\n",
	       backend, WRITERS, COLD_EXTRA_PAGES, daemon_n0);
	t0 = kmt_now_ms();
	for (;;) {
		size_t h, nh, c, tot_h = 0, tot_nh = 0;

		usleep(500 * 1000);
		hp_check(hps_daemon_alive(&d), "hotpaged exited (log %s)", d.log);
		for (int i = 0; i < WRITERS; i++) {
			hp_check(!w[i].sh->bad_pages, "writer %d: %lld bad pages, first %lld", i,
				 (long long)w[i].sh->bad_pages, (long long)w[i].sh->first_bad);
			hps_count_nodes(w[i].pid, (uintptr_t)w[i].area, WRITER_PAGES, 0, HOT_DIV,
					&h, &nh, &c);
			tot_h += h;
			tot_nh += nh;
		}
		if (tot_h * 100 >= tot_nh * HOT_PCT_MIN || kmt_now_ms() - t0 > DEADLINE_S * 1000.0)
			break;
	}
	sleep(AFTER_S);
	for (int i = 0; i < WRITERS; i++)
		w[i].sh->stop = 1;
	usleep(200 * 1000);
	printf("exchange, %s: node 0 room %lld pages at the end; hotpaged has %lld pages there\n",
	       backend, (long long)tier_zone_room(0) / KMT_PAGE, node_pages(d.pid, 0));
	hps_daemon_stop(&d);
	kill(filler, SIGKILL);
	waitpid(filler, NULL, 0);
	kill(idle, SIGKILL);
	waitpid(idle, NULL, 0);
	for (int i = 0; i < WRITERS; i++) {
		size_t h, nh, c;
		long long p, b;

		hps_count_nodes(w[i].pid, (uintptr_t)w[i].area, WRITER_PAGES, 0, HOT_DIV, &h, &nh,
				&c);
		hot_on += h;
		nhot += nh;
		cold_on += c;
		ncold += WRITER_PAGES - nh;
		hps_writer_finish(&w[i], &p, &b);
		passes += p;
		bad += b;
	}
	demoted = hps_daemon_stat(&d, "demoted");
	promoted = hps_daemon_stat(&d, "promoted");
	printf("exchange, %s: after %.1f s hot %zu/%zu on node 0, writers' cold %zu/%zu still "
	       "there; hotpaged promoted %lld, demoted %lld; %lld writer passes, bad pages %lld\n",
	       backend, (kmt_now_ms() - t0) / 1000, hot_on, nhot, cold_on, ncold, promoted, demoted,
	       passes, bad);
	hp_check(!bad, "exchange, %s: %lld pages did not read back what was written", backend, bad);
	hp_check(hot_on * 100 >= nhot * HOT_PCT_MIN, "exchange, %s: %zu of %zu hot pages up",
		 backend, hot_on, nhot);
	hp_check(demoted > 0 && cold_on < ncold,
		 "exchange, %s: nothing demoted (%lld; %zu of %zu cold pages on node 0)", backend,
		 demoted, cold_on, ncold);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	if (access("/sys/devices/system/node/node1/meminfo", R_OK))
		hp_skip("needs two memory nodes");
	/* NUMA balancing would move the pages itself. */
	hp_settings_set("/proc/sys/kernel/numa_balancing", "0", true);
	kmt_load_or_fail("");
	hp_check(!kmt_set("scan_period_ms", "250"), "scan_period_ms: %s", strerror(errno));
	run("move_pages");
	run("kmigrated");
	run_exchange("move_pages");
	run_exchange("kmigrated");
	hp_check(!kmt_unload(), "delete_module: %s", strerror(errno));
	hp_settings_restore();
	printf("pass\n");
	return 0;
}
