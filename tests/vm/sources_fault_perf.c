// SPDX-License-Identifier: GPL-2.0
/*
 * `fault` and `perf` (software page-fault event) live in a guest (Debian 6.1 and 6.12 under qemu, no PMU): every
 * fault of the process in scope reported, sampling periods honoured and
 * changeable at runtime, other processes filtered out, every emitted
 * record delivered. The checks are in tests/lib/hp_sources_live.c.
 */
#include "hp_sources_live.h"

int main(void)
{
	return hp_sources_live_main();
}
