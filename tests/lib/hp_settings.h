/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tests: kernel settings (sysctl, debugfs knobs) changed for a test and
 * restored at exit, also when tests/run's timeout sends SIGTERM.
 */
#ifndef HP_SETTINGS_H
#define HP_SETTINGS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_test.h"

#define HP_SETTINGS_MAX 8

struct hp_setting {
	const char *path;
	char saved[32]; /* "" when nothing to restore */
	char restored[32]; /* what hp_settings_restore() wrote back */
};

void hp_settings_restore(void);

/* After hp_settings_restore(): 0 when @path reads back its old value (printed), else -1. */
int hp_settings_check(const char *path);

/*
 * Set @path to @value, remembering the old value for exit. Returns 0, or
 * -errno when the file is missing or refuses (@required: fail the test).
 */
int hp_settings_set(const char *path, const char *value, bool required);

#endif /* HP_SETTINGS_H */
