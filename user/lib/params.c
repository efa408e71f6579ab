// SPDX-License-Identifier: GPL-2.0
/* Splitting a source's "key=value,..." parameter string. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "params.h"

int hp_param_next(const char **cursor, char *key, size_t key_len, char *value, size_t value_len,
		  char *err, size_t err_len)
{
	const char *p = *cursor, *eq, *end;
	size_t klen, vlen;

	if (!p || !*p)
		return 0;
	end = strchr(p, ',');
	if (!end)
		end = p + strlen(p);
	eq = memchr(p, '=', (size_t)(end - p));
	if (!eq || eq == p || eq + 1 == end) {
		snprintf(err, err_len, "'%.*s': expected key=value", (int)(end - p), p);
		return -EINVAL;
	}
	klen = (size_t)(eq - p);
	vlen = (size_t)(end - eq - 1);
	if (klen >= key_len || vlen >= value_len) {
		snprintf(err, err_len, "'%.*s': too long", (int)(end - p), p);
		return -EINVAL;
	}
	memcpy(key, p, klen);
	key[klen] = '\0';
	memcpy(value, eq + 1, vlen);
	value[vlen] = '\0';
	*cursor = *end ? end + 1 : end;
	return 1;
}
