/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A child process whose page accesses the `fault` source sees as heat on
 * any machine: it keeps its pages read-only and writes them, and its
 * SIGSEGV handler makes each page writable again. Each write is a fault
 * on a present page (HP_EV_PROT), as NUMA hint faults and copy-on-write
 * are, not an allocation (which hotpaged does not count as heat). For the
 * host tests, where no other access source may run (no PMU, no module,
 * no kprobes).
 */
#ifndef HP_TOUCHER_H
#define HP_TOUCHER_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "hp_test.h"

/* Forks the toucher: @npages pages, each written once per sweep, until killed. */
pid_t hp_toucher_start(long npages, unsigned int pause_us);

#endif /* HP_TOUCHER_H */
