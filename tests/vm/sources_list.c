// SPDX-License-Identifier: GPL-2.0
/*
 * hotpage-sources in a guest (Debian 6.1 and 6.12 under qemu): every source listed, in order, available or
 * unavailable with how or why, and truthful for fault, perf and scan. The
 * checks are in tests/lib/hp_listing.c.
 */
#include "hp_listing.h"

int main(void)
{
	return hp_listing_main();
}
