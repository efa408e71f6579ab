/* SPDX-License-Identifier: GPL-2.0 */
/* A source's parameter string, "key=value,key=value", one pair at a time. */
#ifndef HOTPAGE_PARAMS_H
#define HOTPAGE_PARAMS_H

#include <stddef.h>

/*
 * Take the next "key=value" from *@cursor (advanced past it and its comma)
 * into @key and @value. Returns 1 for a pair, 0 at the end, -EINVAL for a
 * malformed pair ("key", "=v", "k=") or one too long for the buffers, with
 * the reason in @err. NULL and "" have no pairs.
 */
int hp_param_next(const char **cursor, char *key, size_t key_len, char *value, size_t value_len,
		  char *err, size_t err_len);

#endif /* HOTPAGE_PARAMS_H */
