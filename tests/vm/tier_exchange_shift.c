// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test (--tier boots): on a full fast tier under hotpaged's
 * defaults, the hot set moves to other pages once the first one is up:
 * the old hot pages make room for the new ones, without pages going back
 * and forth (tests/lib/hp_exchange_test.h says what is checked).
 */
#include "hp_exchange_test.h"

int main(void)
{
	static const struct exchange_scenario s = {
		.name = "shift",
		.size = 1.35,
		.hot_frac = 0.05,
		.hot_share = 0.85,
		.rate = 80000,
		.shift = true,
	};

	exchange_run(&s);
	return 0;
}
