// SPDX-License-Identifier: GPL-2.0
/*
 * Guest booted with tools/vmtest --tier: node 1 must sit in a lower memory
 * tier than node 0. The kernel names tiers memory_tier<N> with N derived
 * from the abstract distance, so a lower (slower) tier has a larger N.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test.h"

#define TIERS_DIR "/sys/devices/virtual/memory_tiering"

/* Does the node list @list (e.g. "0", "0-1", "0,2-3") contain @node? */
static int nodelist_has(const char *list, int node)
{
	const char *p = list;

	while (*p && *p != '\n') {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;

		if (end == p)
			return 0;
		if (*end == '-') {
			p = end + 1;
			hi = strtol(p, &end, 10);
			if (end == p)
				return 0;
		}
		if (node >= lo && node <= hi)
			return 1;
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

/* The N of the memory_tierN that holds @node, or -1. */
static int tier_of(int node)
{
	struct dirent *de;
	int tier = -1;
	DIR *dir;

	dir = opendir(TIERS_DIR);
	if (!dir)
		hp_fail("cannot open %s: %s", TIERS_DIR, strerror(errno));
	while ((de = readdir(dir))) {
		char path[512], list[256];
		int id;
		FILE *f;

		if (sscanf(de->d_name, "memory_tier%d", &id) != 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s/nodelist", TIERS_DIR, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(list, sizeof(list), f) && nodelist_has(list, node))
			tier = id;
		fclose(f);
		if (tier >= 0)
			break;
	}
	closedir(dir);
	return tier;
}

int main(void)
{
	const char *tier_boot = getenv("HOTPAGE_VM_TIER");
	int t0, t1;

	if (!tier_boot || strcmp(tier_boot, "1") != 0)
		hp_skip("not a guest booted with tools/vmtest --tier");

	t0 = tier_of(0);
	t1 = tier_of(1);
	printf("node 0: memory_tier%d, node 1: memory_tier%d\n", t0, t1);
	hp_check(t0 >= 0, "node 0 is in no memory tier");
	hp_check(t1 >= 0, "node 1 is in no memory tier");
	hp_check(t1 > t0, "node 1 (tier %d) is not in a lower tier than node 0 (tier %d)", t1, t0);
	return 0;
}
