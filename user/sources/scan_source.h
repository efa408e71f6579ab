/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The `scan` source: kmigrated.ko's accessed-bit scanner (see the scanner
 * part of include/kmigrated.h), read through its tracepoint by
 * bpf/scan.bpf.c. Parameters: "period_ms=N,pages=N,top_every=N" set the
 * module's scan_period_ms, scan_pages and scan_top_every; the scope (tgids, or all processes) goes
 * to the module's scan_tgids. The module's settings are restored when the
 * source stops.
 */
#ifndef HOTPAGE_SCAN_SOURCE_H
#define HOTPAGE_SCAN_SOURCE_H

#include "kmigrated.h"
#include "source.h"

#define HP_SCAN_TGIDS KMIGRATED_SYSFS_DIR "/scan_tgids"
#define HP_SCAN_PERIOD KMIGRATED_SYSFS_DIR "/scan_period_ms"
#define HP_SCAN_PAGES KMIGRATED_SYSFS_DIR "/scan_pages"
#define HP_SCAN_TOP_EVERY KMIGRATED_SYSFS_DIR "/scan_top_every"

extern const struct hp_source_ops hp_source_scan;

/* The scanner's period, while a scan source runs: 0 or -errno. */
int hp_scan_source_set_period(__u32 period_ms);

/* Sweeps per test of the top tier's pages, while a scan source runs: 0 or -errno. */
int hp_scan_source_set_top_every(unsigned int every);

#endif /* HOTPAGE_SCAN_SOURCE_H */
