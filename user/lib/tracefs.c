// SPDX-License-Identifier: GPL-2.0
/* Finding (and if need be mounting) tracefs. */
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>

#include "tracefs.h"

static const char *const tracefs_roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

static const char *find_tracefs(void)
{
	char path[128];

	for (size_t i = 0; i < sizeof(tracefs_roots) / sizeof(tracefs_roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/events", tracefs_roots[i]);
		if (!access(path, F_OK))
			return tracefs_roots[i];
	}
	return NULL;
}

const char *hp_tracefs_dir(bool mount_it)
{
	const char *dir = find_tracefs();

	if (dir || !mount_it || geteuid() != 0)
		return dir;
	/* Best effort: a failure leaves the caller with NULL and its own message. */
	if (mount("tracefs", tracefs_roots[0], "tracefs", 0, NULL))
		return NULL;
	return find_tracefs();
}

bool hp_tracefs_has_event(const char *category, const char *name)
{
	const char *dir = hp_tracefs_dir(true);
	char path[256];

	if (!dir)
		return false;
	snprintf(path, sizeof(path), "%s/events/%s/%s/id", dir, category, name);
	return !access(path, F_OK);
}
