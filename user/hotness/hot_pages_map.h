/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The published hot set: bpf/hot_pages.bpf.c's map, loaded and pinned at
 * HP_HOT_PAGES_PIN (bpffs mounted at /sys/fs/bpf when it is not), and
 * rewritten with the hottest pages every round.
 */
#ifndef HOTPAGE_HOT_PAGES_MAP_H
#define HOTPAGE_HOT_PAGES_MAP_H

#include <stddef.h>

#include "hotset.h"

struct hp_hot_map;

/*
 * Mount bpffs if needed, remove a stale pin left at @pin_path (ours, from
 * a killed daemon), load the map with room for @max entries and pin it.
 * 0, or a negative errno with the reason in @err.
 */
int hp_hot_map_open(const char *pin_path, size_t max, struct hp_hot_map **out, char *err,
		    size_t err_len);
/* Make the map hold exactly @pages[0..n) (n is capped to the map's size). 0 or -errno. */
int hp_hot_map_publish(struct hp_hot_map *map, const struct hp_hot_page *pages, size_t n);
/* Entries after the last publish. */
size_t hp_hot_map_entries(const struct hp_hot_map *map);
/* Unpin (and remove the pin directory when empty), then free. NULL is a no-op. */
void hp_hot_map_close(struct hp_hot_map *map);

#endif /* HOTPAGE_HOT_PAGES_MAP_H */
