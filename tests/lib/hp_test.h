/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exit-code protocol of hotpage's host and guest test programs, read by
 * tests/run: exit 0 passes, 77 skips (automake's convention), anything else
 * fails. The last line printed says why a test skipped or failed.
 */
#ifndef HP_TEST_H
#define HP_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define HP_TEST_SKIP 77

#define hp_skip(...)                                                                               \
	do {                                                                                       \
		printf("skip: " __VA_ARGS__);                                                      \
		printf("\n");                                                                      \
		fflush(stdout);                                                                    \
		exit(HP_TEST_SKIP);                                                                \
	} while (0)

#define hp_fail(...)                                                                               \
	do {                                                                                       \
		printf("fail: %s:%d: ", __FILE__, __LINE__);                                       \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		fflush(stdout);                                                                    \
		exit(1);                                                                           \
	} while (0)

/* Fail with the formatted reason unless @cond holds. */
#define hp_check(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond))                                                                       \
			hp_fail(__VA_ARGS__);                                                      \
	} while (0)

static inline void hp_require_root(void)
{
	if (geteuid() != 0)
		hp_skip("needs root (BPF and tracing)");
}

#endif /* HP_TEST_H */
