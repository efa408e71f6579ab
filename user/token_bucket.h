/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A token bucket in bytes: promotion's rate limit. Tokens accrue at
 * rate bytes per second up to burst; moving N bytes takes N tokens. Time
 * is a parameter (CLOCK_MONOTONIC ns) so that tests drive a fake clock.
 * Fractions of a byte carry over between refills: the long-run rate is
 * exact whatever the call pattern.
 */
#ifndef HOTPAGE_TOKEN_BUCKET_H
#define HOTPAGE_TOKEN_BUCKET_H

#include <linux/types.h>

struct hp_token_bucket {
	__u64 rate; /* bytes per second; 0: nothing is ever granted */
	__u64 burst; /* most tokens held */
	__u64 tokens;
	__u64 last_ns; /* time of the last refill */
	__u64 carry; /* rate x ns not yet worth a whole byte (< 1e9) */
};

/* Start full: the first round may move a burst at once. */
void hp_token_bucket_init(struct hp_token_bucket *tb, __u64 rate, __u64 burst, __u64 now_ns);
/* Change rate and burst while running: earned tokens stay, up to the new burst. */
void hp_token_bucket_set(struct hp_token_bucket *tb, __u64 rate, __u64 burst, __u64 now_ns);
/* Tokens now. */
__u64 hp_token_bucket_available(struct hp_token_bucket *tb, __u64 now_ns);
/*
 * Take up to @want bytes in whole @unit (e.g. the page size; 0 means 1):
 * returns what was granted, a multiple of @unit, maybe 0.
 */
__u64 hp_token_bucket_take(struct hp_token_bucket *tb, __u64 want, __u64 unit, __u64 now_ns);
/* Nanoseconds until @bytes are available (0: now; UINT64_MAX: never). */
__u64 hp_token_bucket_wait_ns(struct hp_token_bucket *tb, __u64 bytes, __u64 now_ns);

#endif /* HOTPAGE_TOKEN_BUCKET_H */
