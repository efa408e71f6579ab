// SPDX-License-Identifier: GPL-2.0
/*
 * The control protocol (user/control/control.c): encoding and decoding of
 * messages, request words, the command syntax, bounded output, and the
 * daemon's socket= key.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control.h"
#include "daemon.h"

static char buf[HP_CTL_MSG_MAX + 16];
static char big[HP_CTL_MSG_MAX];

static void test_roundtrip(void **state)
{
	struct hp_ctl_hdr hdr;
	const char *payload;
	char err[256];
	int n;

	(void)state;
	n = hp_ctl_encode(buf, sizeof(buf), HP_CTL_RESPONSE, -ENOENT, "no such", 7);
	assert_int_equal(n, (int)sizeof(hdr) + 7);
	assert_int_equal(
		hp_ctl_decode(buf, (size_t)n, HP_CTL_RESPONSE, &hdr, &payload, err, sizeof(err)),
		0);
	assert_int_equal(hdr.magic, HP_CTL_MAGIC);
	assert_int_equal(hdr.version, HP_CTL_VERSION);
	assert_int_equal(hdr.status, -ENOENT);
	assert_int_equal(hdr.len, 7);
	assert_memory_equal(payload, "no such", 7);
	/* An empty payload is a message too. */
	n = hp_ctl_encode(buf, sizeof(buf), HP_CTL_REQUEST, 0, NULL, 0);
	assert_int_equal(n, (int)sizeof(hdr));
	assert_int_equal(
		hp_ctl_decode(buf, (size_t)n, HP_CTL_REQUEST, &hdr, &payload, err, sizeof(err)), 0);
	assert_int_equal(hdr.len, 0);
	/* The largest payload fits exactly; one more byte does not. */
	n = hp_ctl_encode(buf, sizeof(buf), HP_CTL_RESPONSE, 0, big, HP_CTL_PAYLOAD_MAX);
	assert_int_equal(n, HP_CTL_MSG_MAX);
	assert_int_equal(hp_ctl_encode(buf, sizeof(buf), HP_CTL_RESPONSE, 0, buf + 1000,
				       HP_CTL_PAYLOAD_MAX + 1),
			 -EMSGSIZE);
	assert_int_equal(hp_ctl_encode(buf, 20, HP_CTL_RESPONSE, 0, "12345", 5), -EMSGSIZE);
}

static int decode_err(const void *msg, size_t n, enum hp_ctl_type type, char *err, size_t len)
{
	struct hp_ctl_hdr hdr;
	const char *payload;

	return hp_ctl_decode(msg, n, type, &hdr, &payload, err, len);
}

static void test_decode_refusals(void **state)
{
	struct hp_ctl_hdr h = { HP_CTL_MAGIC, HP_CTL_VERSION, HP_CTL_REQUEST, 0, 4 };
	char err[256];

	(void)state;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), "top", 4);
	assert_int_equal(decode_err(buf, sizeof(h) + 4, HP_CTL_REQUEST, err, sizeof(err)), 0);
	/* Truncated header, at every length. */
	for (size_t n = 0; n < sizeof(h); n++) {
		assert_int_equal(decode_err(buf, n, HP_CTL_REQUEST, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, "shorter than"));
	}
	/* The length field lies, either way. */
	assert_int_equal(decode_err(buf, sizeof(h) + 3, HP_CTL_REQUEST, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "says 4 payload bytes"));
	assert_int_equal(decode_err(buf, sizeof(h) + 5, HP_CTL_REQUEST, err, sizeof(err)),
			 -EBADMSG);
	/* Wrong type: a response where a request belongs. */
	assert_int_equal(decode_err(buf, sizeof(h) + 4, HP_CTL_RESPONSE, err, sizeof(err)),
			 -EPROTO);
	/* Oversized, whatever the header says. */
	assert_int_equal(decode_err(buf, HP_CTL_MSG_MAX + 1, HP_CTL_REQUEST, err, sizeof(err)),
			 -EMSGSIZE);
	h.version = 2;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(decode_err(buf, sizeof(h) + 4, HP_CTL_REQUEST, err, sizeof(err)),
			 -EPROTONOSUPPORT);
	assert_non_null(strstr(err, "version 2"));
	h.version = HP_CTL_VERSION;
	h.magic = 0x12345678;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(decode_err(buf, sizeof(h) + 4, HP_CTL_REQUEST, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "magic"));
}

static void test_split_join(void **state)
{
	char *words[] = { "policy", "set", "rate_mbps=0", "threshold=4" };
	const char *argv[HP_CTL_ARGS_MAX];
	char payload[256], err[256];
	int len;

	(void)state;
	len = hp_ctl_join(4, words, payload, sizeof(payload));
	assert_int_equal(len, 7 + 4 + 12 + 12);
	assert_int_equal(
		hp_ctl_split(payload, (size_t)len, argv, HP_CTL_ARGS_MAX, err, sizeof(err)), 4);
	for (int i = 0; i < 4; i++)
		assert_string_equal(argv[i], words[i]);
	assert_int_equal(hp_ctl_join(4, words, payload, 10), -EMSGSIZE);
	/* Refusals: empty, unterminated, empty word, too many words. */
	assert_int_equal(hp_ctl_split("", 0, argv, 8, err, sizeof(err)), -EINVAL);
	assert_int_equal(hp_ctl_split("status", 6, argv, 8, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "NUL"));
	assert_int_equal(hp_ctl_split("top\0\0", 5, argv, 8, err, sizeof(err)), -EINVAL);
	assert_int_equal(hp_ctl_split("\0", 1, argv, 8, err, sizeof(err)), -EINVAL);
	assert_int_equal(hp_ctl_split("a\0b\0c\0", 6, argv, 2, err, sizeof(err)), -E2BIG);
	assert_int_equal(hp_ctl_split("a\0b\0c\0", 6, argv, 3, err, sizeof(err)), 3);
}

static int check(const char *line)
{
	char copy[256], err[256], *save = NULL;
	const char *argv[HP_CTL_ARGS_MAX];
	int argc = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	return hp_ctl_check(argc, argv, err, sizeof(err));
}

static void test_command_syntax(void **state)
{
	static const char *const good[] = {
		"status",
		"sources",
		"attach fault",
		"attach perf period=4",
		"detach fault",
		"policy show",
		"policy show db",
		"policy list",
		"policy attach db",
		"policy attach db scope=cgroup:/db promote=on demote=off",
		"policy detach db",
		"policy set rate_mbps=0",
		"policy set threshold=3 window_ms=500 scope=all",
		"stats",
		"stats --json",
		"top",
		"top -n 1",
		"top -n 500",
		"metrics",
	};
	static const char *const bad[] = {
		"status now",
		"sources x",
		"attach",
		"attach fault 4",
		"attach fault period=4 x",
		"detach",
		"detach a b",
		"policy",
		"policy show x y",
		"policy list x",
		"policy attach",
		"policy attach scope=all",
		"policy attach db promote",
		"policy detach",
		"policy detach a b",
		"policy set",
		"policy set threshold",
		"policy get",
		"stats --xml",
		"stats --json x",
		"top -n",
		"top -n 0",
		"top -n 501",
		"top -n 5x",
		"top -n -1",
		"top 5",
		"metrics x",
	};
	const char *none[] = { NULL };
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(check(good[i]), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (check(bad[i]) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
	}
	assert_int_equal(check("frobnicate"), -EOPNOTSUPP);
	assert_int_equal(check("heatmap --png x"), -EOPNOTSUPP); /* hotpagectl's own */
	assert_int_equal(hp_ctl_check(0, none, err, sizeof(err)), -EINVAL);
}

static void test_out_bounded(void **state)
{
	char small[8];
	struct hp_ctl_out out = { .buf = small, .cap = sizeof(small) };

	(void)state;
	hp_ctl_printf(&out, "%s", "abc");
	hp_ctl_printf(&out, "%d", 1234);
	assert_false(out.overflow);
	assert_string_equal(small, "abc1234");
	hp_ctl_printf(&out, "x");
	assert_true(out.overflow);
	assert_int_equal(out.len, 7);
	assert_string_equal(small, "abc1234");
}

static void test_daemon_socket_key(void **state)
{
	struct hp_daemon_opts opts;
	char err[256];
	char longpath[200];

	(void)state;
	hp_daemon_opts_defaults(&opts);
	assert_string_equal(opts.socket_path, "");
	assert_int_equal(hp_daemon_set(&opts, "socket=/tmp/x.sock", err, sizeof(err)), 0);
	assert_string_equal(opts.socket_path, "/tmp/x.sock");
	assert_int_equal(hp_daemon_set(&opts, "socket=relative.sock", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "absolute"));
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	{
		char assignment[256];

		snprintf(assignment, sizeof(assignment), "socket=%s", longpath);
		assert_int_equal(hp_daemon_set(&opts, assignment, err, sizeof(err)), -EINVAL);
	}
	assert_string_equal(opts.socket_path, "/tmp/x.sock");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),   cmocka_unit_test(test_decode_refusals),
		cmocka_unit_test(test_split_join),  cmocka_unit_test(test_command_syntax),
		cmocka_unit_test(test_out_bounded), cmocka_unit_test(test_daemon_socket_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
