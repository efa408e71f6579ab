/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The check of hotpage-sources, shared by the host and guest tests: one
 * line per source, in the registry's order (fault, numa-hint, perf, damon,
 * scan), each "NAME available|unavailable DETAIL" with a detail that says
 * how or why. And it must be true: for fault, perf and scan, a source
 * listed as available starts with the default options, and one listed as
 * unavailable does not.
 */
#ifndef HP_LISTING_H
#define HP_LISTING_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hp_test.h"
#include "source.h"
#include "transport.h"

#define LISTING_SOURCES 5

struct listing_line {
	char name[32];
	bool available;
	char detail[512];
};

/* build/bin/<program> seen from build/tests/<suite>/<test>. */
void listing_bin_path(const char *program, char *buf, size_t len);

int hp_listing_main(void);

#endif /* HP_LISTING_H */
