/* SPDX-License-Identifier: GPL-2.0 */
/* Strict parsing of command-line values, shared by hotpage's programs. */
#ifndef HOTPAGE_CLI_H
#define HOTPAGE_CLI_H

#include <linux/types.h>

/* Longest duration accepted: one year, so that milliseconds never overflow. */
#define HP_MAX_SECONDS (365ULL * 24 * 3600)

/*
 * Decimal unsigned integer in [min, max], nothing else (no sign, no spaces,
 * no trailing characters). Returns 0, -EINVAL (not a number) or -ERANGE.
 */
int hp_parse_u32(const char *s, __u32 min, __u32 max, __u32 *out);

/*
 * Non-negative seconds, fractions allowed ("2", "0.5"), at most
 * HP_MAX_SECONDS, rounded to milliseconds. Returns 0, -EINVAL or -ERANGE.
 */
int hp_parse_seconds(const char *s, __u64 *out_ms);

#endif /* HOTPAGE_CLI_H */
