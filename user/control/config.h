/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hotpaged's configuration file (/etc/hotpage/hotpaged.conf): "key = value"
 * lines, '#' comments, blank lines. Each line is the daemon setting
 * "key=value" (hp_daemon_set: backend, period, top, stats, socket and the
 * policy keys of policy.h), plus "sources = fault,scan" (hotpaged -s).
 * The first problem stops the parse: an unknown or repeated key, a bad
 * value, a line without '=', a line longer than HP_CONFIG_LINE_MAX, a
 * control character or NUL byte, a file that is not a regular file or
 * cannot be read; the message is "FILE:LINE: reason".
 */
#ifndef HOTPAGE_CONFIG_H
#define HOTPAGE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon.h"

#define HP_CONFIG_DEFAULT_PATH "/etc/hotpage/hotpaged.conf"
/* Longest line, newline excluded: far above any valid setting. */
#define HP_CONFIG_LINE_MAX 1024
/* Largest file: a config is a few dozen lines; anything bigger is a mistake. */
#define HP_CONFIG_FILE_MAX (1 << 20)
/* Distinct keys a file may set (there are about 15). */
#define HP_CONFIG_KEYS_MAX 64

/*
 * The file's settings as "key=value" strings, which the options may point
 * into (opts->sources; a string setting such as socket=): keep it as long
 * as the options are used.
 */
struct hp_config {
	char sources[HP_CONFIG_LINE_MAX + 1];
	char assignments[HP_CONFIG_KEYS_MAX][HP_CONFIG_LINE_MAX + 1];
};

/*
 * Apply the settings in @text[0..len) (named @name in messages) to @opts.
 * 0, or -EINVAL with "NAME:LINE: reason" in @err and the line in *@line
 * (@line may be NULL). @opts may be partly changed on error.
 */
int hp_config_parse(struct hp_config *cfg, struct hp_daemon_opts *opts, const char *name,
		    const char *text, size_t len, int *line, char *err, size_t err_len);

/*
 * Read and apply the file at @path. 0 when applied; 1 when the file does
 * not exist and @missing_ok (the default path is optional); otherwise a
 * negative errno with "PATH: reason" or "PATH:LINE: reason" in @err.
 */
int hp_config_load(struct hp_config *cfg, struct hp_daemon_opts *opts, const char *path,
		   bool missing_ok, int *line, char *err, size_t err_len);

#endif /* HOTPAGE_CONFIG_H */
