// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test: the VM has the NUMA layout hotpage's tests assume. Node 0
 * has all the CPUs, node 1 has memory and no CPU (a CXL-like, memory-only
 * node). Read from sysfs, cross-checked with libnuma.
 */
#include <errno.h>
#include <numa.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_test.h"

#define NODE_DIR "/sys/devices/system/node"

/* The first line of @path, without its newline. */
static void read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");

	hp_check(f, "open %s: %s", path, strerror(errno));
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* "Node N MemTotal:  1048576 kB" from nodeN/meminfo, in kB. */
static unsigned long long node_mem_total_kb(int node)
{
	unsigned long long kb = 0;
	char path[128], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), NODE_DIR "/node%d/meminfo", node);
	f = fopen(path, "r");
	hp_check(f, "node %d: open %s: %s", node, path, strerror(errno));
	while (!found && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "MemTotal:");
		char *end;

		if (!p)
			continue;
		errno = 0;
		kb = strtoull(p + strlen("MemTotal:"), &end, 10);
		found = !errno && end != p + strlen("MemTotal:");
	}
	fclose(f);
	hp_check(found, "node %d: no MemTotal in %s", node, path);
	return kb;
}

static void node_cpulist(int node, char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), NODE_DIR "/node%d/cpulist", node);
	read_line(path, buf, size);
}

int main(void)
{
	char online[256], cpus0[256], cpus1[256], possible[256];
	unsigned long long mem0, mem1;
	struct bitmask *mask;
	int w0, w1, ncpus;

	setvbuf(stdout, NULL, _IOLBF, 0);
	read_line(NODE_DIR "/possible", possible, sizeof(possible));
	hp_check(access(NODE_DIR "/node1", F_OK) == 0, "no node 1 (possible nodes: %s)", possible);

	read_line("/sys/devices/system/cpu/online", online, sizeof(online));
	node_cpulist(0, cpus0, sizeof(cpus0));
	node_cpulist(1, cpus1, sizeof(cpus1));
	mem0 = node_mem_total_kb(0);
	mem1 = node_mem_total_kb(1);
	printf("nodes %s; cpus online %s\n", possible, online);
	printf("node 0: cpus '%s', MemTotal %llu kB\n", cpus0, mem0);
	printf("node 1: cpus '%s', MemTotal %llu kB\n", cpus1, mem1);

	hp_check(mem1 > 0, "node 1 has no memory");
	hp_check(cpus1[0] == '\0', "node 1 has CPUs: %s", cpus1);
	hp_check(strcmp(cpus0, online) == 0, "node 0 has CPUs '%s', not all online CPUs '%s'",
		 cpus0, online);

	hp_check(numa_available() != -1, "libnuma: NUMA not available");
	hp_check(numa_max_node() >= 1, "libnuma: highest node %d", numa_max_node());
	hp_check(numa_node_size64(1, NULL) > 0, "libnuma: node 1 has no memory");
	mask = numa_allocate_cpumask();
	hp_check(mask, "numa_allocate_cpumask failed");
	hp_check(numa_node_to_cpus(0, mask) == 0, "numa_node_to_cpus(0): %s", strerror(errno));
	w0 = (int)numa_bitmask_weight(mask);
	hp_check(numa_node_to_cpus(1, mask) == 0, "numa_node_to_cpus(1): %s", strerror(errno));
	w1 = (int)numa_bitmask_weight(mask);
	numa_free_cpumask(mask);
	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	hp_check(w0 == ncpus && w1 == 0, "libnuma: node 0 has %d CPUs, node 1 %d, online %d", w0,
		 w1, ncpus);
	printf("libnuma: node 0 %d CPUs, node 1 none; distance 0->1 %d\n", w0, numa_distance(0, 1));

	printf("pass: node 1 is memory-only (%llu kB), node 0 has all %d CPUs\n", mem1, ncpus);
	return 0;
}
