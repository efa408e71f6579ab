// SPDX-License-Identifier: GPL-2.0
/* Strict parsing of command-line values. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int hp_parse_u32(const char *s, __u32 min, __u32 max, __u32 *out)
{
	unsigned long long value;
	char *end;

	/* strtoull skips spaces and accepts a sign: reject both up front. */
	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	value = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || value < min || value > max)
		return -ERANGE;
	*out = (__u32)value;
	return 0;
}

/* Digits with at most one '.', and at least one digit: what strtod may then read. */
static int plain_decimal(const char *s)
{
	int digits = 0, dots = 0;

	for (; *s; s++) {
		if (isdigit((unsigned char)*s))
			digits++;
		else if (*s == '.' && !dots)
			dots++;
		else
			return 0;
	}
	return digits > 0;
}

int hp_parse_seconds(const char *s, __u64 *out_ms)
{
	double seconds;
	char *end;

	/* Also keeps out what strtod would take: signs, spaces, hex, exponents, inf, nan. */
	if (!s || !plain_decimal(s))
		return -EINVAL;
	errno = 0;
	seconds = strtod(s, &end);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || seconds > (double)HP_MAX_SECONDS)
		return -ERANGE;
	*out_ms = (__u64)(seconds * 1000.0 + 0.5);
	return 0;
}

int hp_parse_size(const char *s, __u64 *bytes, __u32 *pct)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (pct && !strcmp(end, "%")) {
		if (v > 100)
			return -ERANGE;
		*pct = (__u32)v;
		*bytes = 0;
		return 0;
	}
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1])
		return -EINVAL;
	if (v > (ULLONG_MAX >> shift))
		return -ERANGE;
	*bytes = v << shift;
	if (pct)
		*pct = 0;
	return 0;
}
