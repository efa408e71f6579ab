// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test (--tier boots): node 0 nearly full, its free room a little
 * over the hot set above the headroom, far below the old 5% line that
 * promotion used to stop at; hotpaged's defaults still bring the hot set
 * in (tests/lib/hp_exchange_test.h says what is checked).
 */
#include "hp_exchange_test.h"

int main(void)
{
	static const struct exchange_scenario s = {
		.name = "nearly-full",
		.size = 0.5,
		.hot_frac = 0.12,
		.hot_share = 0.90,
		.rate = 60000,
		.room_hot_sets = 1.25,
	};

	exchange_run(&s);
	return 0;
}
