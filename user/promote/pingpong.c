// SPDX-License-Identifier: GPL-2.0
/* The ping-pong guard (pingpong.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pingpong.h"

#define WAYS 4

struct moved_entry {
	__u64 key; /* 0: empty */
	__u64 window;
};

struct hp_moved {
	struct moved_entry *e;
	size_t mask; /* buckets - 1 */
	struct hp_moved_stats st;
};

static __u64 key_of(__u32 tgid, __u64 vaddr, __u64 pfn)
{
	__u64 k = tgid ? ((__u64)tgid << 40) ^ (vaddr >> 12) : pfn | (1ULL << 63);

	return k ? k : 1;
}

static size_t bucket_of(const struct hp_moved *m, __u64 key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 24) & m->mask;
}

int hp_moved_create(size_t entries, struct hp_moved **out)
{
	struct hp_moved *m = calloc(1, sizeof(*m));
	size_t buckets = 16;

	if (!m)
		return -ENOMEM;
	while (buckets * WAYS < entries)
		buckets <<= 1;
	m->e = calloc(buckets * WAYS, sizeof(*m->e));
	if (!m->e) {
		free(m);
		return -ENOMEM;
	}
	/* Faulted in now: later, as moves fill it, on a full fast tier. */
	memset(m->e, 0, buckets * WAYS * sizeof(*m->e));
	m->mask = buckets - 1;
	m->st.entries = buckets * WAYS;
	*out = m;
	return 0;
}

void hp_moved_destroy(struct hp_moved *m)
{
	if (!m)
		return;
	free(m->e);
	free(m);
}

void hp_moved_add(struct hp_moved *m, __u32 tgid, __u64 vaddr, __u64 pfn, __u64 window,
		  __u64 guard_windows)
{
	__u64 key = key_of(tgid, vaddr, pfn);
	struct moved_entry *b = &m->e[bucket_of(m, key) * WAYS], *slot = &b[0];

	for (int i = 0; i < WAYS; i++) {
		if (b[i].key == key || !b[i].key) {
			slot = &b[i];
			break;
		}
		if (b[i].window < slot->window)
			slot = &b[i];
	}
	if (slot->key && slot->key != key && window - slot->window < guard_windows)
		m->st.forgotten_early++;
	slot->key = key;
	slot->window = window;
	m->st.added++;
}

__u64 hp_moved_since(const struct hp_moved *m, __u32 tgid, __u64 vaddr, __u64 pfn, __u64 window)
{
	__u64 key = key_of(tgid, vaddr, pfn);
	const struct moved_entry *b = &m->e[bucket_of(m, key) * WAYS];

	for (int i = 0; i < WAYS; i++)
		if (b[i].key == key)
			return window - b[i].window;
	return ~0ULL;
}

void hp_moved_get_stats(const struct hp_moved *m, struct hp_moved_stats *stats)
{
	*stats = m->st;
}
