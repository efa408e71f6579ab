// SPDX-License-Identifier: GPL-2.0
/*
 * The `fault` source reports every user page fault of the processes in
 * scope, and only theirs: a child write-touches NR_PAGES fresh anonymous
 * pages while the source filters on the child's tgid and samples every
 * fault, and the parent faults on pages of its own meanwhile. Each event
 * must carry the child, an address in its mapping, a write, a CPU and its
 * node, a time inside the run. Run once per attach type the kernel offers;
 * then hotpage-top, which counts the same events per page, must show the
 * child's pages.
 */
#include <stdio.h>
#include <string.h>

#include "fault_source.h"
#include "hp_live.h"

#define NR_PAGES 4096
#define PARENT_PAGES 256
/* The longest tick, CONFIG_HZ=100: how far a record's time may lag its fault. */
#define TICK_MAX_NS 10000000ULL

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static void run(enum hp_fault_attach attach)
{
	struct hp_collector events = { 0 };
	struct hp_transport *transport = hp_collect_transport(&events);
	struct hp_source_instance *src = NULL;
	struct hp_child child = hp_child_start(NR_PAGES);
	__u32 tgid = (__u32)child.pid;
	struct hp_source_opts opts = {
		.sample_period = 1,
		.filter_mode = HP_FILTER_TGIDS,
		.tgids = &tgid,
		.nr_tgids = 1,
	};
	struct hp_source_stats stats;
	struct hp_tally t;
	__u64 base, t0, t1, not_write = 0, bad_cpu = 0, bad_time = 0;
	int ncpus = libbpf_num_possible_cpus();
	char err[512];
	int ret;

	ret = hp_fault_source_start(transport, &opts, attach, &src, err, sizeof(err));
	if (ret == -ENOENT || ret == -EPERM || ret == -EACCES || ret == -EOPNOTSUPP) {
		hp_child_stop(&child);
		hp_skip("%s", err);
	}
	hp_check(!ret, "starting the fault source (%s): %s", hp_fault_attach_name(attach), err);

	t0 = now_ns();
	hp_child_go(&child);
	hp_fault_pages_here(PARENT_PAGES);
	base = hp_child_wait(&child);
	t1 = now_ns();
	hp_drain(transport);
	ret = hp_source_read_stats(hp_source_fault.object(src), &stats);
	hp_check(!ret, "reading hp_cpu_state: %s", strerror(-ret));

	t = hp_tally_events(&events, HP_SRC_FAULT, &child, base);
	for (size_t i = 0; i < events.len; i++) {
		const struct hp_event *ev = &events.v[i];

		if (ev->tgid != tgid || ev->addr < base ||
		    ev->addr >= base + (__u64)NR_PAGES * child.page_size)
			continue;
		/* A first write to an anonymous page: not present, a write, not a fetch. */
		if (ev->flags != HP_EV_WRITE)
			not_write++;
		if ((int)ev->cpu >= ncpus || ev->cpu_node < 0)
			bad_cpu++;
		/* A record's time may lag its fault by up to a tick (hp_event_clock). */
		if (ev->ts_ns + TICK_MAX_NS < t0 || ev->ts_ns > t1)
			bad_time++;
	}
	printf("%s: child %d, %d pages at %#llx: %llu events on %llu pages, %llu elsewhere in "
	       "the child; stats seen %llu sampled %llu emitted %llu dropped %llu errors %llu\n",
	       hp_fault_attach_point(hp_fault_source_attach(src)), child.pid, NR_PAGES,
	       (unsigned long long)base, (unsigned long long)t.inside, (unsigned long long)t.pages,
	       (unsigned long long)t.outside, (unsigned long long)stats.seen,
	       (unsigned long long)stats.sampled, (unsigned long long)stats.emitted,
	       (unsigned long long)stats.dropped, (unsigned long long)stats.errors);

	hp_check(t.other == 0, "%llu events of another process (tgid %u)",
		 (unsigned long long)t.other, t.other_tgid);
	hp_check(t.wrong_source == 0, "%llu events of another source",
		 (unsigned long long)t.wrong_source);
	hp_check(t.bad_fields == 0, "%llu events with wrong fields: %s",
		 (unsigned long long)t.bad_fields, t.bad_why);
	hp_check(t.pages == NR_PAGES, "%llu of the %d touched pages reported",
		 (unsigned long long)t.pages, NR_PAGES);
	hp_check(t.inside >= NR_PAGES, "%llu events in the mapping, expected >= %d",
		 (unsigned long long)t.inside, NR_PAGES);
	hp_check(not_write == 0, "%llu events in the mapping not flagged as a plain write",
		 (unsigned long long)not_write);
	hp_check(bad_cpu == 0, "%llu events with a bad CPU or node", (unsigned long long)bad_cpu);
	hp_check(bad_time == 0, "%llu events stamped outside the run",
		 (unsigned long long)bad_time);
	/* The parent's faults ran the program but were filtered out. */
	hp_check(stats.seen >= stats.sampled + PARENT_PAGES,
		 "seen %llu, sampled %llu: the parent's %d faults were not seen",
		 (unsigned long long)stats.seen, (unsigned long long)stats.sampled, PARENT_PAGES);
	hp_check_balanced("fault", &stats);
	hp_check(stats.dropped == 0 && stats.errors == 0, "dropped %llu, errors %llu",
		 (unsigned long long)stats.dropped, (unsigned long long)stats.errors);
	hp_check(stats.emitted == events.len, "emitted %llu but %zu events arrived",
		 (unsigned long long)stats.emitted, events.len);

	hp_fault_source_stop(src);
	hp_transport_free(transport);
	hp_child_stop(&child);
	hp_collector_free(&events);
}

/* hotpage-top next to this test: build/bin/hotpage-top from build/tests/host/. */
static void top_path(char *buf, size_t len)
{
	char exe[512];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	hp_check(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	for (int i = 0; i < 3; i++) {
		slash = strrchr(exe, '/');
		hp_check(slash, "unexpected test path %s", exe);
		*slash = '\0';
	}
	snprintf(buf, len, "%s/bin/hotpage-top", exe);
}

/* hotpage-top -p CHILD shows the child's pages, one fault each. */
static void run_top(void)
{
	struct hp_child child = hp_child_start(NR_PAGES);
	char path[600], cmd[700], line[256];
	__u64 base = 0, rows = 0, in_mapping = 0, bad_count = 0;
	FILE *out;

	top_path(path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "%s -p %d -d 2 -i 2 -n 10 2>&1", path, child.pid);
	out = popen(cmd, "r");
	hp_check(out, "popen %s: %s", cmd, strerror(errno));
	/* Its first line comes once the source is attached. */
	hp_check(fgets(line, sizeof(line), out), "hotpage-top printed nothing");
	fputs(line, stdout);
	hp_check(strstr(line, "Counting page faults"), "hotpage-top: %s", line);
	base = hp_child_touch(&child);
	while (fgets(line, sizeof(line), out)) {
		unsigned int tgid;
		unsigned long long addr, faults;
		char comm[32];
		double last;

		fputs(line, stdout);
		if (sscanf(line, "%u %31s %llx %llu %lf", &tgid, comm, &addr, &faults, &last) != 5)
			continue;
		rows++;
		if (tgid == (unsigned int)child.pid && addr >= base &&
		    addr < base + (__u64)NR_PAGES * child.page_size) {
			in_mapping++;
			if (faults != 1)
				bad_count++;
		}
	}
	hp_check(pclose(out) == 0, "hotpage-top failed");
	hp_child_stop(&child);
	hp_check(rows == 10, "hotpage-top printed %llu rows, expected 10",
		 (unsigned long long)rows);
	hp_check(in_mapping >= 1, "no row of the child's mapping");
	hp_check(bad_count == 0, "%llu rows with a count other than 1",
		 (unsigned long long)bad_count);
}

int main(void)
{
	static const enum hp_fault_attach attaches[] = { HP_FAULT_ATTACH_TRACEPOINT,
							 HP_FAULT_ATTACH_TP_BTF };
	char reasons[2][256];
	int runs = 0;

	hp_require_root();
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* Each attach type the kernel has; tp_btf needs the tracepoint in the kernel's BTF. */
	for (size_t i = 0; i < sizeof(attaches) / sizeof(attaches[0]); i++) {
		enum hp_fault_attach chosen;

		if (hp_fault_attach_resolve(attaches[i], &chosen, reasons[i], sizeof(reasons[i]))) {
			printf("%s not run: %s\n", hp_fault_attach_name(attaches[i]), reasons[i]);
			continue;
		}
		run(chosen);
		runs++;
	}
	if (!runs)
		hp_skip("%s; %s", reasons[0], reasons[1]);
	run_top();
	return 0;
}
