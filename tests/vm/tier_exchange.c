// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test (--tier boots): hotpaged's defaults on a full fast tier, the
 * hot set scattered over the workload (tests/lib/hp_exchange_test.h says
 * what is checked).
 */
#include "hp_exchange_test.h"

int main(void)
{
	static const struct exchange_scenario s = {
		.name = "full-scattered",
		.size = 1.3,
		.hot_frac = 0.10,
		.hot_share = 0.90,
		.rate = 100000,
	};

	exchange_run(&s);
	return 0;
}
