// SPDX-License-Identifier: GPL-2.0
/* hotpaged's configuration file (config.h): read, check, apply line by line. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "source.h"

#define KEY_MAX 48 /* "policy." and a policy name */

struct seen_key {
	char name[KEY_MAX];
	int line;
};

static int fail(int *line_out, int line, char *err, size_t err_len, const char *name,
		const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* "NAME:LINE: reason" (or "NAME: reason" for the file as a whole, line 0). */
static int fail(int *line_out, int line, char *err, size_t err_len, const char *name,
		const char *fmt, ...)
{
	char reason[3 * HP_CONFIG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): see user/lib/catf.c
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(err, err_len, "%s:%d: %s", name, line, reason);
	else
		snprintf(err, err_len, "%s: %s", name, reason);
	if (line_out)
		*line_out = line;
	return -EINVAL;
}

static char *trim(char *s)
{
	char *end = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	return s;
}

static bool valid_key(const char *key)
{
	size_t len = strlen(key);

	if (!len || len >= KEY_MAX)
		return false;
	for (const char *c = key; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
		      *c == '.' || *c == '-'))
			return false;
	}
	return true;
}

/* "fault, scan": known sources, each once, into cfg->sources and opts. */
static int set_sources(struct hp_config *cfg, struct hp_daemon_opts *opts, const char *value,
		       char *reason, size_t reason_len)
{
	char *save = NULL, *tok;

	if (!*value) {
		snprintf(reason, reason_len,
			 "sources: expected a comma-separated list of sources, e.g. fault,scan");
		return -EINVAL;
	}
	snprintf(cfg->sources, sizeof(cfg->sources), "%s", value);
	opts->nr_sources = 0;
	for (tok = strtok_r(cfg->sources, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		tok = trim(tok);
		if (!hp_source_find(tok)) {
			snprintf(
				reason, reason_len,
				"sources=%s: no source named '%s' (sources: fault, numa-hint, perf, damon, scan)",
				value, tok);
			return -EINVAL;
		}
		for (size_t i = 0; i < opts->nr_sources; i++) {
			if (!strcmp(opts->sources[i], tok)) {
				snprintf(reason, reason_len, "sources=%s: '%s' is listed twice",
					 value, tok);
				return -EINVAL;
			}
		}
		if (opts->nr_sources == HP_DAEMON_MAX_SOURCES) {
			snprintf(reason, reason_len, "sources=%s: at most %d sources", value,
				 HP_DAEMON_MAX_SOURCES);
			return -EINVAL;
		}
		opts->sources[opts->nr_sources++] = tok;
	}
	/* Empty items ("fault,,scan", ",") leave no token: say so rather than skip them. */
	if (!opts->nr_sources || strstr(value, ",,") || value[0] == ',' ||
	    value[strlen(value) - 1] == ',') {
		snprintf(reason, reason_len, "sources=%s: empty item in the list", value);
		return -EINVAL;
	}
	return 0;
}

/* A byte a line may not hold; the line may hold tabs and UTF-8. */
static int bad_byte(const char *line, size_t len, char *reason, size_t reason_len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == '\0') {
			snprintf(reason, reason_len, "NUL byte at column %zu", i + 1);
			return -EINVAL;
		}
		if (c == '\r') {
			snprintf(
				reason, reason_len,
				"carriage return at column %zu (CRLF line ends? save the file with LF ends)",
				i + 1);
			return -EINVAL;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			snprintf(reason, reason_len, "control character 0x%02x at column %zu", c,
				 i + 1);
			return -EINVAL;
		}
	}
	return 0;
}

int hp_config_parse(struct hp_config *cfg, struct hp_daemon_opts *opts, const char *name,
		    const char *text, size_t len, int *line_out, char *err, size_t err_len)
{
	struct seen_key seen[HP_CONFIG_KEYS_MAX] = { 0 };
	char buf[HP_CONFIG_LINE_MAX + 1];
	char reason[3 * HP_CONFIG_LINE_MAX];
	size_t nr_seen = 0, pos = 0;
	int line = 0;

	if (line_out)
		*line_out = 0;
	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		char *s, *eq, *key, *value;

		pos += n + (nl ? 1 : 0);
		line++;
		if (n > HP_CONFIG_LINE_MAX)
			return fail(line_out, line, err, err_len, name, "line longer than %d bytes",
				    HP_CONFIG_LINE_MAX);
		if (bad_byte(start, n, reason, sizeof(reason)))
			return fail(line_out, line, err, err_len, name, "%s", reason);
		memcpy(buf, start, n);
		buf[n] = '\0';
		s = trim(buf);
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq)
			return fail(line_out, line, err, err_len, name,
				    "expected 'key = value' (or a '#' comment)");
		*eq = '\0';
		key = trim(s);
		value = trim(eq + 1);
		if (!valid_key(key))
			return fail(
				line_out, line, err, err_len, name,
				"'%s' is not a key (keys are lower-case letters, digits, '_', '.' and '-')",
				key);
		for (size_t i = 0; i < nr_seen; i++) {
			if (!strcmp(seen[i].name, key))
				return fail(line_out, line, err, err_len, name,
					    "%s is set twice (first on line %d)", key,
					    seen[i].line);
		}
		if (nr_seen == HP_CONFIG_KEYS_MAX)
			return fail(line_out, line, err, err_len, name, "more than %d keys",
				    HP_CONFIG_KEYS_MAX);
		snprintf(seen[nr_seen].name, sizeof(seen[nr_seen].name), "%s", key);
		seen[nr_seen++].line = line;

		reason[0] = '\0';
		if (!strcmp(key, "sources")) {
			if (set_sources(cfg, opts, value, reason, sizeof(reason)))
				return fail(line_out, line, err, err_len, name, "%s", reason);
			continue;
		}
		/* key and value came from one line: together they fit. */
		snprintf(cfg->assignments[nr_seen - 1], sizeof(cfg->assignments[0]), "%s=%s", key,
			 value);
		if (hp_daemon_set(opts, cfg->assignments[nr_seen - 1], reason, sizeof(reason)))
			return fail(line_out, line, err, err_len, name, "%s",
				    reason[0] ? reason : "bad value");
	}
	return 0;
}

int hp_config_load(struct hp_config *cfg, struct hp_daemon_opts *opts, const char *path,
		   bool missing_ok, int *line_out, char *err, size_t err_len)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd, ret;

	if (line_out)
		*line_out = 0;
	/* O_NONBLOCK: a FIFO at the path must not hang the start; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT && missing_ok)
			return 1;
		fail(NULL, 0, err, err_len, path, "cannot open: %s", strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		fail(NULL, 0, err, err_len, path, "cannot stat: %s", strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = fail(NULL, 0, err, err_len, path, "not a regular file");
		goto out;
	}
	/* The daemon runs as root: a file anyone can rewrite would let anyone steer it. */
	if (st.st_mode & S_IWOTH) {
		ret = fail(NULL, 0, err, err_len, path,
			   "writable by every user (mode %04o); chmod o-w it",
			   (unsigned int)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size > HP_CONFIG_FILE_MAX) {
		ret = fail(NULL, 0, err, err_len, path, "larger than %d bytes", HP_CONFIG_FILE_MAX);
		goto out;
	}
	/* One byte more than allowed, to notice a file that grew since fstat. */
	text = malloc(HP_CONFIG_FILE_MAX + 1);
	if (!text) {
		fail(NULL, 0, err, err_len, path, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t got = read(fd, text + len, HP_CONFIG_FILE_MAX + 1 - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ret = -errno;
			fail(NULL, 0, err, err_len, path, "cannot read: %s", strerror(-ret));
			goto out;
		}
		if (!got)
			break;
		len += (size_t)got;
		if (len > HP_CONFIG_FILE_MAX) {
			ret = fail(NULL, 0, err, err_len, path, "larger than %d bytes",
				   HP_CONFIG_FILE_MAX);
			goto out;
		}
	}
	ret = hp_config_parse(cfg, opts, path, text, len, line_out, err, err_len);
out:
	free(text);
	close(fd);
	return ret;
}
