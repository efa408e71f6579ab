// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test (--tier boots): the exchange of tier_exchange through the
 * move_pages(2) backend, both directions, as without the module (here
 * the module still runs the scan source): -p backend=move_pages, the rest
 * of the defaults (tests/lib/hp_exchange_test.h says what is checked).
 */
#include "hp_exchange_test.h"

int main(void)
{
	static const char *const args[] = { "-p", "backend=move_pages", NULL };
	static const struct exchange_scenario s = {
		.name = "full-move_pages",
		.size = 1.3,
		.hot_frac = 0.10,
		.hot_share = 0.90,
		.rate = 100000,
		.args = args,
	};

	exchange_run(&s);
	return 0;
}
