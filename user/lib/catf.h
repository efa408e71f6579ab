/* SPDX-License-Identifier: GPL-2.0 */
/* Building a message, or an error's reason, into a fixed buffer. */
#ifndef HOTPAGE_CATF_H
#define HOTPAGE_CATF_H

#include <stddef.h>

/* Append printf-style text to the NUL-terminated @buf of @len bytes, truncating. */
__attribute__((format(printf, 3, 4))) void hp_catf(char *buf, size_t len, const char *fmt, ...);

/* Set the error buffer @err of @len bytes (NULL or 0: none) to printf-style text. */
__attribute__((format(printf, 3, 4))) void hp_set_err(char *err, size_t len, const char *fmt, ...);

#endif /* HOTPAGE_CATF_H */
