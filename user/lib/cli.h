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

/*
 * A size: digits with an optional K, M, G or T (binary units) into
 * @bytes, or with @pct non-NULL also a percentage "N%" (0..100) into
 * @pct (@bytes then 0; @pct is 0 for a size). Returns 0, -EINVAL (not a
 * size) or -ERANGE (too large, or a percentage above 100).
 */
int hp_parse_size(const char *s, __u64 *bytes, __u32 *pct);

#endif /* HOTPAGE_CLI_H */
