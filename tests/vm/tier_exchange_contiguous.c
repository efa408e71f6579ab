// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test (--tier boots): hotpaged's defaults on a full fast tier, the
 * hot set one run of pages, a smaller share of a smaller workload and a
 * stronger skew than tier_exchange (tests/lib/hp_exchange_test.h says
 * what is checked).
 */
#include "hp_exchange_test.h"

int main(void)
{
	static const struct exchange_scenario s = {
		.name = "full-contiguous",
		.size = 1.25,
		.hot_frac = 0.06,
		.hot_share = 0.95,
		.rate = 60000,
		.contiguous = true,
	};

	exchange_run(&s);
	return 0;
}
