// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test (--tier boots): THP enabled=always, a contiguous hot set of
 * huge pages on a full fast tier: hot huge pages come up as whole folios
 * and cold ones make room the same way, counted in base pages
 * (tests/lib/hp_exchange_test.h says what is checked).
 */
#include "hp_exchange_test.h"

int main(void)
{
	static const struct exchange_scenario s = {
		.name = "thp",
		.size = 1.3,
		.hot_frac = 0.08,
		/*
		 * A huge page is as hot as all its base pages together: the cold
		 * huge pages get few enough touches to go idle.
		 */
		.hot_share = 0.999,
		.rate = 60000,
		.contiguous = true,
		.thp = true,
		/*
		 * Every move is a whole huge page: a few more than the exact
		 * exchange (khugepaged collapses pages of the cold half into
		 * huge pages as the run goes) weigh 512 pages each.
		 */
		.moved_x_max = 4,
	};

	exchange_run(&s);
	return 0;
}
