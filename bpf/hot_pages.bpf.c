// SPDX-License-Identifier: GPL-2.0
/*
 * Only a map: the hot set hotpaged publishes (include/hotpage/hot_pages.h).
 * Declared here so that the skeleton carries the key and value BTF that
 * bpftool prints as named fields.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "hotpage/hot_pages.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HP_HOT_PAGES_MAX);
	__type(key, __u64);
	__type(value, struct hp_hot_entry);
} hot_pages SEC(".maps");

char LICENSE[] SEC("license") = "GPL";
