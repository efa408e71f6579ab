/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading and writing the small text files of sysfs, procfs and tracefs:
 * one value per file, as the kernel's show and store methods handle them.
 */
#ifndef HOTPAGE_SYSFILE_H
#define HOTPAGE_SYSFILE_H

#include <stddef.h>

/*
 * The first line of @path into @buf, newline stripped; "" on failure.
 * 0, -errno when it cannot be opened, -EIO when it is empty.
 */
int hp_read_line(const char *path, char *buf, size_t len);

/* All of @path (at most @len - 1 bytes) into @buf; "" on failure. 0 or -errno. */
int hp_read_text(const char *path, char *buf, size_t len);

/*
 * @text into @path in one write: a store method takes the whole value at
 * once and reports its error there. 0, -errno, or -EIO for a short write.
 */
int hp_write_text(const char *path, const char *text);

#endif /* HOTPAGE_SYSFILE_H */
