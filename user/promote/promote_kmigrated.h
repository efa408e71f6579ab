/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kmigrated.ko promotion backend (promote.h): bpf/promote.bpf.c's
 * SEC("syscall") program run with a batch of PFN requests; the module
 * queues them and its per-node threads migrate them later (outcome
 * HP_PROMOTE_QUEUED). Create it only while the module is loaded.
 */
#ifndef HOTPAGE_PROMOTE_KMIGRATED_H
#define HOTPAGE_PROMOTE_KMIGRATED_H

#include <stddef.h>
#include <linux/types.h>

#include "promote.h"

/* 0, or a negative errno with the reason in @err (-ENOENT: module not loaded). */
int hp_promote_kmigrated_create(unsigned int batch, struct hp_promote_backend *out, char *err,
				size_t err_len);

/* The module's counter or setting @name under KMIGRATED_SYSFS_DIR. 0 or -errno. */
int hp_kmigrated_read_u64(const char *name, __u64 *value);

#endif /* HOTPAGE_PROMOTE_KMIGRATED_H */
