/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where tracefs is: classic tracepoints and legacy kprobes need it, and
 * minimal systems (initramfs guests, containers) may not have it mounted.
 */
#ifndef HOTPAGE_TRACEFS_H
#define HOTPAGE_TRACEFS_H

#include <stdbool.h>

/*
 * The tracefs directory with an events/ tree: /sys/kernel/tracing, else
 * /sys/kernel/debug/tracing; when neither is mounted and @mount_it, mounts
 * tracefs on /sys/kernel/tracing first (root only). NULL when none.
 */
const char *hp_tracefs_dir(bool mount_it);

/* Does tracefs list the tracepoint @category:@name? */
bool hp_tracefs_has_event(const char *category, const char *name);

#endif /* HOTPAGE_TRACEFS_H */
