// SPDX-License-Identifier: GPL-2.0
/*
 * hotpaged's config file (user/control/config.c): a corpus of bad lines, each
 * refused with its exact line number and a reason; the file checks; and
 * the shipped etc/hotpaged.conf, whose documented values must be the
 * compiled defaults.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "daemon.h"

/* Every bad line goes after this prefix, so it is line 4; "top" is set on line 3. */
static const char prefix[] = "# a comment\n\ntop = 10\n";
#define BAD_LINE 4

struct bad_case {
	const char *line; /* the bad line, without its newline */
	size_t len; /* 0: strlen(line); else the line holds NUL bytes */
	const char *reason; /* a part of the expected reason */
};

#define BAD(l, r)                                                                                  \
	{                                                                                          \
		l, 0, r                                                                            \
	}
#define BAD_BIN(l, r)                                                                              \
	{                                                                                          \
		l, sizeof(l) - 1, r                                                                \
	}

static const struct bad_case bad_cases[] = {
	/* threshold: 1..8 */
	BAD("threshold = x", "threshold=x: not a whole number"),
	BAD("threshold = -1", "threshold=-1: not a whole number"),
	BAD("threshold = 0", "out of range"), BAD("threshold = 9", "out of range"),
	BAD("threshold = 99999999999999999999999", "out of range"),
	BAD("threshold =", "threshold=: not a whole number"),
	BAD("threshold = 2x", "not a whole number"), BAD("threshold = 2 3", "not a whole number"),
	BAD("threshold = 0x10", "not a whole number"), BAD("threshold = +2", "not a whole number"),
	BAD("threshold = 2.5", "not a whole number"),
	BAD("threshold = 2 # hot", "not a whole number"),
	/* window_ms: 10..3600000 */
	BAD("window_ms = 9", "out of range"), BAD("window_ms = 3600001", "out of range"),
	BAD("window_ms = -5", "not a whole number"), BAD("window_ms = abc", "not a whole number"),
	BAD("window_ms = ", "not a whole number"), BAD("window_ms = 1000ms", "not a whole number"),
	BAD("window_ms = 4294967296", "out of range"),
	/* target: auto or 0..63 */
	BAD("target = -1", "target=-1"), BAD("target = 64", "out of range"),
	BAD("target = node0", "not a whole number"), BAD("target =", "target="),
	BAD("target = auto1", "target=auto1"), BAD("target = AUTO", "target=AUTO"),
	BAD("target = 1 2", "target=1 2"),
	/* rate_mbps: 0..1048576 */
	BAD("rate_mbps = -1", "not a whole number"), BAD("rate_mbps = 1048577", "out of range"),
	BAD("rate_mbps = 18446744073709551616", "out of range"),
	BAD("rate_mbps =", "not a whole number"), BAD("rate_mbps = fast", "not a whole number"),
	BAD("rate_mbps = 256M", "not a whole number"),
	/* batch: 1..1024 */
	BAD("batch = 0", "out of range"), BAD("batch = 1025", "out of range"),
	BAD("batch = -1", "not a whole number"), BAD("batch =", "not a whole number"),
	BAD("batch = x", "not a whole number"),
	/* scope */
	BAD("scope =", "scope=: expected all"), BAD("scope = some", "scope=some: expected all"),
	BAD("scope = ALL", "scope=ALL"), BAD("scope = tgids:", "expected process ids"),
	BAD("scope = tgids:0", "not a process id"),
	BAD("scope = tgids:1,,2", "expected process ids"),
	BAD("scope = tgids:abc", "not a process id"), BAD("scope = tgids:-1", "not a process id"),
	BAD("scope = tgids:99999999999", "not a process id"),
	BAD("scope = cgroup:", "cgroup v2 path"),
	BAD("scope = cgroup:relative/path", "cgroup v2 path"),
	BAD("scope = cgroup:/a/../b", "'..'"), BAD("scope = cgroup:/a,b", "'..', ','"),
	/* pingpong_ms: 0..86400000 */
	BAD("pingpong_ms = -1", "not a whole number"),
	BAD("pingpong_ms = 86400001", "out of range"), BAD("pingpong_ms =", "not a whole number"),
	BAD("pingpong_ms = 1e3", "not a whole number"),
	/* headroom (and its old name min_free): auto, 0..100% or a size */
	BAD("headroom =", "headroom=: expected auto, a percentage"),
	BAD("headroom = 101%", "0..100%"), BAD("headroom = 5%%", "expected auto, a percentage"),
	BAD("headroom = 5X", "expected auto"), BAD("headroom = -5%", "expected auto"),
	BAD("headroom = %", "expected auto"), BAD("headroom = Auto", "expected auto"),
	BAD("headroom = 99999999999999999999G", "too large"),
	BAD("headroom = 99999999999T", "too large"), BAD("headroom = 1KB", "expected auto"),
	BAD("min_free = 101%", "min_free=101%: a percentage must be 0..100%"),
	/* min_idle: 1..255 windows */
	BAD("min_idle = 0", "out of range"), BAD("min_idle = 256", "out of range"),
	BAD("min_idle = x", "not a whole number"),
	/* backend */
	BAD("backend =", "backend is auto, move_pages or kmigrated"),
	BAD("backend = bpf", "backend is auto, move_pages or kmigrated"),
	BAD("backend = AUTO", "backend is auto"), BAD("backend = move_pages2", "backend is auto"),
	BAD("backend = kmig rated", "backend is auto"),
	/* period: 0..2^24 */
	BAD("period = -1", "period is 0 (default) or 1..16777216"),
	BAD("period = 16777217", "period is 0"), BAD("period = 4294967297", "period is 0"),
	BAD("period =", "period is 0"), BAD("period = x", "period is 0"),
	/* top: 1..65536 */
	BAD("top = 20", "top is set twice (first on line 3)"),
	/* stats: 0..86400 */
	BAD("stats = 86401", "stats is 0..86400 seconds"), BAD("stats = -1", "stats is 0..86400"),
	BAD("stats =", "stats is 0..86400"), BAD("stats = 5s", "stats is 0..86400"),
	/* sources */
	BAD("sources =", "sources: expected a comma-separated list"),
	BAD("sources = bogus", "no source named 'bogus'"),
	BAD("sources = FAULT", "no source named 'FAULT'"),
	BAD("sources = fault,,scan", "empty item"),
	BAD("sources = fault,fault", "'fault' is listed twice"), BAD("sources = ,", "empty item"),
	BAD("sources = fault,", "empty item"), BAD("sources = fault, ,scan", "no source named ''"),
	/* the shape of a line */
	BAD("colour = red", "unknown key 'colour'"), BAD("Top = 1", "'Top' is not a key"),
	BAD("to p = 1", "'to p' is not a key"), BAD("= 5", "'' is not a key"),
	BAD("threshold 2", "expected 'key = value'"), BAD("threshold", "expected 'key = value'"),
	BAD("[hotpaged]", "expected 'key = value'"),
	BAD("threshold == 2", "threshold== 2: not a whole number"),
	BAD("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = 1", "is not a key"),
	/* named policies */
	BAD("policy.Db = scope=all", "'policy.Db' is not a key"),
	BAD("policy.db = threshold=3", "unknown key 'threshold' for a policy"),
	BAD("policy.db = promote=sometimes", "promote=sometimes: expected on or off"),
	BAD("policy.db = scope=cgroup:db", "scope=cgroup:db: expected a cgroup v2 path"),
	BAD("policy. = scope=all", "policy name ''"),
	BAD("policy.db = promote", "'promote' is not key=value"),
	/* bytes a text file does not hold */
	BAD_BIN("threshold = 2\0", "NUL byte at column 14"),
	BAD_BIN("thres\0hold = 2", "NUL byte at column 6"),
	BAD_BIN("# a comment with a NUL \0 in it", "NUL byte"),
	BAD("threshold = 2\r", "carriage return at column 14 (CRLF"),
	BAD("\r", "carriage return at column 1"),
	BAD("\x01\x02\xff\xfe", "control character 0x01 at column 1"),
	BAD("\x1b[31mtop = 1", "control character 0x1b"),
	BAD("# bell \x07", "control character 0x07"),
	BAD("threshold = 2\x7f", "control character 0x7f"), BAD("\xff\xfe\xfd = 1", "is not a key"),
	BAD("threshold = \xc3\xa9", "not a whole number"),
	BAD("\xef\xbb\xbfthreshold = 2", "is not a key"), /* a UTF-8 byte-order mark */
};

static void parse_defaults(const char *text, size_t len, int *ret, int *line, char *err,
			   size_t err_len, struct hp_daemon_opts *opts)
{
	static struct hp_config cfg;

	hp_daemon_opts_defaults(opts);
	*ret = hp_config_parse(&cfg, opts, "test.conf", text, len, line, err, err_len);
}

static void test_bad_corpus(void **state)
{
	struct hp_daemon_opts opts;
	char text[4096], err[1024], want[64];
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t len = c->len ? c->len : strlen(c->line);
		int ret, line = -1;

		memcpy(text, prefix, sizeof(prefix) - 1);
		memcpy(text + sizeof(prefix) - 1, c->line, len);
		/* A good line after the bad one: the parse must stop at the first problem. */
		memcpy(text + sizeof(prefix) - 1 + len, "\nbatch = 8\n", 11);
		err[0] = '\0';
		parse_defaults(text, sizeof(prefix) - 1 + len + 11, &ret, &line, err, sizeof(err),
			       &opts);
		snprintf(want, sizeof(want), "test.conf:%d: ", BAD_LINE);
		if (ret != -EINVAL || line != BAD_LINE || strncmp(err, want, strlen(want)) ||
		    strlen(err) <= strlen(want) || !strstr(err, c->reason))
			fail_msg("case %zu '%s': ret %d line %d err '%s' (want line %d, '%s')", i,
				 c->line, ret, line, err, BAD_LINE, c->reason);
		/* The line after the bad one was not applied. */
		assert_int_equal(opts.policy.batch, 256);
		n++;
	}
	printf("# %zu bad lines refused with their line number and reason\n", n);
	assert_true(n >= 100);
}

static void test_long_lines(void **state)
{
	struct hp_daemon_opts opts;
	char *text = malloc(3 * HP_CONFIG_LINE_MAX);
	char err[4 * HP_CONFIG_LINE_MAX];
	int ret, line;

	(void)state;
	assert_non_null(text);
	/* A comment of exactly HP_CONFIG_LINE_MAX bytes is fine... */
	text[0] = '#';
	memset(text + 1, 'x', HP_CONFIG_LINE_MAX - 1);
	memcpy(text + HP_CONFIG_LINE_MAX, "\nbatch = 8\n", 11);
	parse_defaults(text, HP_CONFIG_LINE_MAX + 11, &ret, &line, err, sizeof(err), &opts);
	assert_int_equal(ret, 0);
	assert_int_equal(opts.policy.batch, 8);
	/* ... one byte more is not, and neither is a long value. */
	memcpy(text, "batch = 8\n#", 11);
	memset(text + 11, 'x', HP_CONFIG_LINE_MAX);
	parse_defaults(text, 11 + HP_CONFIG_LINE_MAX, &ret, &line, err, sizeof(err), &opts);
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(line, 2);
	assert_string_equal(err, "test.conf:2: line longer than 1024 bytes");

	memcpy(text, "\n\n\nthreshold = ", 15);
	memset(text + 15, '7', 2 * HP_CONFIG_LINE_MAX);
	parse_defaults(text, 15 + 2 * HP_CONFIG_LINE_MAX, &ret, &line, err, sizeof(err), &opts);
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(line, 4);
	assert_string_equal(err, "test.conf:4: line longer than 1024 bytes");
	/* Long but within the limit: the value's own check speaks. */
	memcpy(text, "threshold = ", 12);
	memset(text + 12, '7', 1000);
	parse_defaults(text, 1012, &ret, &line, err, sizeof(err), &opts);
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(line, 1);
	assert_non_null(strstr(err, "out of range"));
	free(text);
}

/* Random bytes: refused or accepted, never a crash; a refusal has a line and a reason. */
static void test_binary_garbage(void **state)
{
	struct hp_daemon_opts opts;
	char text[2048], err[1024];
	static const char alphabet[] = " =#\nabcdefghijklmnopqrstuvwxyz_0123456789%:,/";
	unsigned int seed = 12345;
	int refused = 0;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(text));
		int ret, line, lines = 1;

		for (size_t i = 0; i < len; i++) {
			/* Mostly printable, so that some lines get as far as the setters. */
			int r = rand_r(&seed);

			text[i] = (char)(r % 4 ? alphabet[(size_t)r % (sizeof(alphabet) - 1)]
					       : r >> 8);
			if (text[i] == '\n' && i + 1 < len)
				lines++;
		}
		err[0] = '\0';
		parse_defaults(text, len, &ret, &line, err, sizeof(err), &opts);
		if (ret) {
			char want[32];

			assert_int_equal(ret, -EINVAL);
			assert_in_range(line, 1, lines);
			snprintf(want, sizeof(want), "test.conf:%d: ", line);
			assert_int_equal(strncmp(err, want, strlen(want)), 0);
			assert_true(strlen(err) > strlen(want));
			refused++;
		}
	}
	printf("# %d of 2000 random files refused\n", refused);
	assert_true(refused > 1000);
}

static void test_good_files(void **state)
{
	static const char text[] = "# every key\n"
				   "\t threshold\t=\t3  \n"
				   "window_ms=500\n"
				   "target = 1\n"
				   "rate_mbps = 0\n"
				   "batch = 64\n"
				   "scope = tgids:20,10,20\n"
				   "pingpong_ms = 0\n"
				   "headroom = 512M\n"
				   "min_idle = 12\n"
				   "backend = move_pages\n"
				   "period = 16\n"
				   "top = 4096\n"
				   "stats = 0\n"
				   "sources = fault , scan\n"
				   "policy.db = scope=cgroup:/system.slice/db.service demote=off\n"
				   "policy.batch-jobs = promote=off\tscope=tgids:7\n"
				   "   # indented comment\n"
				   "\n"
				   "# no newline at the end:\n"
				   "#x";
	struct hp_daemon_opts opts;
	char err[256] = "";
	int ret, line = -1;

	(void)state;
	parse_defaults(text, sizeof(text) - 1, &ret, &line, err, sizeof(err), &opts);
	assert_int_equal(ret, 0);
	assert_string_equal(err, "");
	assert_int_equal(line, 0);
	assert_int_equal(opts.policy.threshold, 3);
	assert_int_equal(opts.policies.n, 2);
	assert_string_equal(opts.policies.p[0].name, "db");
	assert_int_equal(opts.policies.p[0].scope.scope, HP_SCOPE_CGROUP);
	assert_true(opts.policies.p[0].promote && !opts.policies.p[0].demote);
	assert_string_equal(opts.policies.p[1].name, "batch-jobs");
	assert_true(!opts.policies.p[1].promote && opts.policies.p[1].demote);
	assert_int_equal(opts.policies.p[1].scope.nr_tgids, 1);
	assert_int_equal(opts.policy.window_ms, 500);
	assert_int_equal(opts.policy.target_node, 1);
	assert_int_equal(opts.policy.rate_mbps, 0);
	assert_int_equal(opts.policy.batch, 64);
	assert_int_equal(opts.policy.scope, HP_SCOPE_TGIDS);
	assert_int_equal(opts.policy.nr_tgids, 2);
	assert_int_equal(opts.policy.pingpong_ms, 0);
	assert_int_equal(opts.policy.headroom_bytes, 512ULL << 20);
	assert_false(opts.policy.headroom_auto);
	assert_int_equal(opts.policy.min_idle, 12);
	assert_int_equal(opts.backend, HP_BACKEND_MOVE_PAGES);
	assert_int_equal(opts.period, 16);
	assert_int_equal(opts.top, 4096);
	assert_int_equal(opts.stats_s, 0);
	assert_int_equal(opts.nr_sources, 2);
	assert_string_equal(opts.sources[0], "fault");
	assert_string_equal(opts.sources[1], "scan");

	/* Empty and comment-only files change nothing. */
	parse_defaults("", 0, &ret, &line, err, sizeof(err), &opts);
	assert_int_equal(ret, 0);
	parse_defaults("#\n\n  \n\t\n", 7, &ret, &line, err, sizeof(err), &opts);
	assert_int_equal(ret, 0);
	assert_int_equal(opts.top, HP_DAEMON_TOP_DEFAULT);
}

/* A scratch directory with files of every kind. */
static char dir[] = "/tmp/hp-config-XXXXXX";

static void put(const char *name, const char *text, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int load(const char *name, bool missing_ok, int *line, char *err, size_t err_len)
{
	static struct hp_config cfg;
	struct hp_daemon_opts opts;
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	hp_daemon_opts_defaults(&opts);
	err[0] = '\0';
	return hp_config_load(&cfg, &opts, path, missing_ok, line, err, err_len);
}

static void expect_file_error(const char *name, int ret_want, int line_want, const char *reason)
{
	char err[1024], want[512];
	int line = -1, ret = load(name, false, &line, err, sizeof(err));

	if (line_want)
		snprintf(want, sizeof(want), "%s/%s:%d: %s", dir, name, line_want, reason);
	else
		snprintf(want, sizeof(want), "%s/%s: %s", dir, name, reason);
	if (ret != ret_want || line != line_want || strncmp(err, want, strlen(want)))
		fail_msg("%s: ret %d line %d err '%s' (want %d, %d, '%s')", name, ret, line, err,
			 ret_want, line_want, want);
}

static void test_files(void **state)
{
	char err[1024], path[256];
	int fd, line = -1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	put("good.conf", "top = 7\n", 0644);
	assert_int_equal(load("good.conf", false, &line, err, sizeof(err)), 0);
	put("bad.conf", "top = 7\n\n# x\nbatch = 2000\n", 0600);
	expect_file_error("bad.conf", -EINVAL, 4, "batch=2000: out of range");

	/* The default path may be absent; a path given with -c may not. */
	assert_int_equal(load("absent.conf", true, &line, err, sizeof(err)), 1);
	expect_file_error("absent.conf", -ENOENT, 0, "cannot open: No such file or directory");
	expect_file_error("good.conf/x", -ENOTDIR, 0, "cannot open: Not a directory");

	snprintf(path, sizeof(path), "%s/dir.conf", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	expect_file_error("dir.conf", -EINVAL, 0, "not a regular file");
	/* A FIFO nobody writes to is refused at once, not waited on. */
	snprintf(path, sizeof(path), "%s/fifo.conf", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	expect_file_error("fifo.conf", -EINVAL, 0, "not a regular file");
	snprintf(path, sizeof(path), "%s/null.conf", dir);
	assert_int_equal(symlink("/dev/null", path), 0);
	expect_file_error("null.conf", -EINVAL, 0, "not a regular file");
	snprintf(path, sizeof(path), "%s/loop.conf", dir);
	assert_int_equal(symlink("loop.conf", path), 0);
	expect_file_error("loop.conf", -ELOOP, 0, "cannot open: Too many levels of symbolic links");
	/* A symlink to a good file is fine (/etc/hotpage/hotpaged.conf -> ...). */
	snprintf(path, sizeof(path), "%s/link.conf", dir);
	assert_int_equal(symlink("good.conf", path), 0);
	assert_int_equal(load("link.conf", false, &line, err, sizeof(err)), 0);

	put("open.conf", "top = 7\n", 0666);
	expect_file_error("open.conf", -EINVAL, 0, "writable by every user (mode 0666)");
	/* A huge file (sparse: NUL bytes) is refused before it is read. */
	snprintf(path, sizeof(path), "%s/huge.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, HP_CONFIG_FILE_MAX + 1), 0);
	close(fd);
	expect_file_error("huge.conf", -EINVAL, 0, "larger than 1048576 bytes");
	/* At the limit it is read, and the NULs are refused on line 1. */
	assert_int_equal(truncate(path, HP_CONFIG_FILE_MAX), 0);
	expect_file_error("huge.conf", -EINVAL, 1, "line longer than 1024 bytes");
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "top = 7\nbatch = 1\0\n", 20), 20);
	close(fd);
	expect_file_error("huge.conf", -EINVAL, 2, "NUL byte at column 10");

	{
		static const char *const names[] = { "good.conf", "bad.conf",  "dir.conf",
						     "fifo.conf", "null.conf", "loop.conf",
						     "link.conf", "open.conf", "huge.conf" };

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			assert_int_equal(i == 2 ? rmdir(path) : unlink(path), 0);
		}
		assert_int_equal(rmdir(dir), 0);
	}
}

/* etc/hotpaged.conf seen from build/tests/unit/test_config. */
static void shipped_path(char *buf, size_t len)
{
	char exe[512];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(n > 0);
	exe[n] = '\0';
	for (int i = 0; i < 4; i++) {
		char *slash = strrchr(exe, '/');

		assert_non_null(slash);
		*slash = '\0';
	}
	snprintf(buf, len, "%s/etc/hotpaged.conf", exe);
}

/*
 * The shipped file parses, changes nothing (everything is commented out),
 * documents every key, and its documented values, uncommented, are the
 * compiled defaults.
 */
static void test_shipped_file(void **state)
{
	static const char *const daemon_keys[] = { "backend", "period", "top", "stats" };
	static struct hp_config cfg;
	struct hp_daemon_opts defaults, opts;
	char path[600], err[1024] = "", show_a[1024], show_b[1024];
	char *text = malloc(HP_CONFIG_FILE_MAX), *uncommented = malloc(HP_CONFIG_FILE_MAX);
	size_t len, out = 0;
	FILE *f;
	int line = -1, settings = 0;

	(void)state;
	assert_non_null(text);
	assert_non_null(uncommented);
	shipped_path(path, sizeof(path));
	hp_daemon_opts_defaults(&defaults);
	hp_daemon_opts_defaults(&opts);
	if (hp_config_load(&cfg, &opts, path, false, &line, err, sizeof(err)))
		fail_msg("%s", err);
	assert_memory_equal(&opts.policy, &defaults.policy, offsetof(struct hp_policy, cgroup));

	f = fopen(path, "r");
	assert_non_null(f);
	len = fread(text, 1, HP_CONFIG_FILE_MAX, f);
	fclose(f);
	/* "#key = value" lines (no space after '#') are the documented settings. */
	for (size_t i = 0; i < len;) {
		size_t n = strcspn(text + i, "\n");

		if (text[i] == '#' && i + 1 < len && text[i + 1] >= 'a' && text[i + 1] <= 'z') {
			memcpy(uncommented + out, text + i + 1, n - 1);
			out += n - 1;
			uncommented[out++] = '\n';
			settings++;
		}
		i += n + 1;
	}
	hp_daemon_opts_defaults(&opts);
	if (hp_config_parse(&cfg, &opts, "uncommented", uncommented, out, &line, err, sizeof(err)))
		fail_msg("%s", err);
	/* Each policy key once, plus the daemon's: the parse refused any repeat. */
	{
		size_t expected = sizeof(daemon_keys) / sizeof(daemon_keys[0]);

		for (size_t i = 0; hp_policy_keys[i]; i++)
			expected++;
		assert_int_equal(settings, (int)expected);
	}
	for (size_t i = 0; i < sizeof(daemon_keys) / sizeof(daemon_keys[0]); i++) {
		char want[64];

		snprintf(want, sizeof(want), "\n#%s = ", daemon_keys[i]);
		if (!strstr(text, want))
			fail_msg("%s is not documented in %s", daemon_keys[i], path);
	}
	/* "sources" and "socket" have no literal default: documented as examples. */
	assert_non_null(strstr(text, "\n# sources = "));
	assert_non_null(strstr(text, "\n# socket = /run/hotpage/hotpaged.sock"));

	hp_policy_show(&opts.policy, show_a, sizeof(show_a));
	hp_policy_show(&defaults.policy, show_b, sizeof(show_b));
	assert_string_equal(show_a, show_b);
	assert_int_equal(opts.backend, defaults.backend);
	assert_int_equal(opts.period, defaults.period);
	assert_int_equal(opts.top, defaults.top);
	assert_int_equal(opts.stats_s, defaults.stats_s);
	assert_int_equal(opts.nr_sources, defaults.nr_sources);
	printf("# %d documented settings equal the compiled defaults\n", settings);
	free(text);
	free(uncommented);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_corpus),     cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_binary_garbage), cmocka_unit_test(test_good_files),
		cmocka_unit_test(test_files),	       cmocka_unit_test(test_shipped_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
