/* SPDX-License-Identifier: GPL-2.0 */
/* What tests/bpf/hp_empty.bpf.c and the source benchmark share. */
#ifndef HOTPAGE_TESTS_HP_EMPTY_H
#define HOTPAGE_TESTS_HP_EMPTY_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Records per CPU that the hp_record_* programs write in turn. */
#define HP_RECORD_SLOTS 4096

/* One 64-byte line: a CPU's run count, or one record. */
struct hp_line {
	__u64 runs;
	__u64 pad[7];
};

#endif /* HOTPAGE_TESTS_HP_EMPTY_H */
