// SPDX-License-Identifier: GPL-2.0
/* Token bucket in bytes with a caller-supplied clock. */
#include <stdint.h>

#include "token_bucket.h"

#define NSEC_PER_SEC 1000000000ULL

static void refill(struct hp_token_bucket *tb, __u64 now_ns)
{
	unsigned __int128 earned;
	__u64 add;

	if (now_ns <= tb->last_ns)
		return; /* a clock that went back earns nothing */
	earned = (unsigned __int128)(now_ns - tb->last_ns) * tb->rate + tb->carry;
	tb->last_ns = now_ns;
	if (earned / NSEC_PER_SEC >= tb->burst - tb->tokens) {
		tb->tokens = tb->burst; /* full: what would overflow is lost */
		tb->carry = 0;
		return;
	}
	add = (__u64)(earned / NSEC_PER_SEC);
	tb->tokens += add;
	tb->carry = (__u64)(earned % NSEC_PER_SEC);
}

void hp_token_bucket_init(struct hp_token_bucket *tb, __u64 rate, __u64 burst, __u64 now_ns)
{
	tb->rate = rate;
	tb->burst = burst;
	tb->tokens = rate ? burst : 0;
	tb->last_ns = now_ns;
	tb->carry = 0;
}

void hp_token_bucket_set(struct hp_token_bucket *tb, __u64 rate, __u64 burst, __u64 now_ns)
{
	refill(tb, now_ns);
	tb->rate = rate;
	tb->burst = burst;
	if (tb->tokens > burst)
		tb->tokens = burst;
	if (!rate) {
		tb->tokens = 0;
		tb->carry = 0;
	}
}

__u64 hp_token_bucket_available(struct hp_token_bucket *tb, __u64 now_ns)
{
	refill(tb, now_ns);
	return tb->tokens;
}

__u64 hp_token_bucket_take(struct hp_token_bucket *tb, __u64 want, __u64 unit, __u64 now_ns)
{
	__u64 granted;

	if (!unit)
		unit = 1;
	refill(tb, now_ns);
	granted = want < tb->tokens ? want : tb->tokens;
	granted -= granted % unit;
	tb->tokens -= granted;
	return granted;
}

__u64 hp_token_bucket_wait_ns(struct hp_token_bucket *tb, __u64 bytes, __u64 now_ns)
{
	unsigned __int128 need_ns;

	refill(tb, now_ns);
	if (bytes <= tb->tokens)
		return 0;
	if (!tb->rate || bytes > tb->burst)
		return UINT64_MAX;
	/* ceil(((bytes - tokens) * 1e9 - carry) / rate) */
	need_ns = (unsigned __int128)(bytes - tb->tokens) * NSEC_PER_SEC - tb->carry;
	need_ns = (need_ns + tb->rate - 1) / tb->rate;
	return need_ns > UINT64_MAX ? UINT64_MAX : (__u64)need_ns;
}
