// SPDX-License-Identifier: GPL-2.0
/*
 * hotpage-sources on the host: every source listed, in order, available or
 * unavailable with how or why, and truthful for fault, perf and scan. The
 * checks are in tests/lib/hp_listing.c.
 */
#include "hp_listing.h"

int main(void)
{
	return hp_listing_main();
}
