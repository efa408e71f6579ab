// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket (control.h): messages, the command syntax both ends check,
 * and the socket's address.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"

/* ------------------------------------------------------------ messages */

int hp_ctl_encode(void *buf, size_t cap, enum hp_ctl_type type, int status, const void *payload,
		  size_t len)
{
	struct hp_ctl_hdr hdr = {
		.magic = HP_CTL_MAGIC,
		.version = HP_CTL_VERSION,
		.type = (__u16)type,
		.status = status,
		.len = (__u32)len,
	};
	size_t total = sizeof(hdr) + len;

	if (len > HP_CTL_PAYLOAD_MAX || total > cap)
		return -EMSGSIZE;
	memcpy(buf, &hdr, sizeof(hdr));
	if (len)
		memcpy((char *)buf + sizeof(hdr), payload, len);
	return (int)total;
}

int hp_ctl_decode(const void *buf, size_t n, enum hp_ctl_type type, struct hp_ctl_hdr *hdr,
		  const char **payload, char *err, size_t err_len)
{
	if (n > HP_CTL_MSG_MAX) {
		snprintf(err, err_len, "message of %zu bytes: at most %d", n, HP_CTL_MSG_MAX);
		return -EMSGSIZE;
	}
	if (n < sizeof(*hdr)) {
		snprintf(err, err_len, "message of %zu bytes: shorter than the %zu-byte header", n,
			 sizeof(*hdr));
		return -EBADMSG;
	}
	memcpy(hdr, buf, sizeof(*hdr));
	if (hdr->magic != HP_CTL_MAGIC) {
		snprintf(err, err_len, "bad magic 0x%08x: not a hotpage control message",
			 hdr->magic);
		return -EBADMSG;
	}
	if (hdr->version != HP_CTL_VERSION) {
		snprintf(err, err_len, "protocol version %u: this hotpaged speaks %d", hdr->version,
			 HP_CTL_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (hdr->type != type) {
		snprintf(err, err_len, "message type %u: expected %d", hdr->type, (int)type);
		return -EPROTO;
	}
	if ((size_t)hdr->len != n - sizeof(*hdr)) {
		snprintf(err, err_len, "header says %u payload bytes, the message has %zu",
			 hdr->len, n - sizeof(*hdr));
		return -EBADMSG;
	}
	*payload = (const char *)buf + sizeof(*hdr);
	return 0;
}

int hp_ctl_split(const char *payload, size_t len, const char **argv, int max, char *err,
		 size_t err_len)
{
	int argc = 0;
	size_t i = 0;

	if (!len) {
		snprintf(err, err_len, "empty request: no command");
		return -EINVAL;
	}
	if (payload[len - 1] != '\0') {
		snprintf(err, err_len, "request words must each end in a NUL byte");
		return -EINVAL;
	}
	while (i < len) {
		size_t wlen = strlen(payload + i);

		if (!wlen) {
			snprintf(err, err_len, "empty word %d in the request", argc + 1);
			return -EINVAL;
		}
		if (argc == max) {
			snprintf(err, err_len, "more than %d words in the request", max);
			return -E2BIG;
		}
		argv[argc++] = payload + i;
		i += wlen + 1;
	}
	return argc;
}

int hp_ctl_join(int argc, char *const *argv, char *buf, size_t cap)
{
	size_t len = 0;

	for (int i = 0; i < argc; i++) {
		size_t wlen = strlen(argv[i]) + 1;

		if (len + wlen > cap || len + wlen > HP_CTL_PAYLOAD_MAX)
			return -EMSGSIZE;
		memcpy(buf + len, argv[i], wlen);
		len += wlen;
	}
	return (int)len;
}

/* ------------------------------------------------------------ commands */

const char hp_ctl_usage[] =
	"  status\n"
	"  sources\n"
	"  attach SOURCE [period=N]\n"
	"  detach SOURCE\n"
	"  policy show [NAME]\n"
	"  policy set key=value...\n"
	"  policy list\n"
	"  policy attach NAME [scope=...] [promote=on|off] [demote=on|off]\n"
	"  policy detach NAME\n"
	"  stats [--json]\n"
	"  top [-n N]\n"
	"  metrics\n"
	"  heatmap --png FILE [--seconds S] [--width W] [--height H] [--pin PATH]\n";

/* Pages `top` shows at most: its lines stay within one response. */
#define TOP_MAX 500

struct cmd_syntax {
	const char *name;
	int min_args, max_args; /* after the name */
	const char *usage;
};

static const struct cmd_syntax cmds[] = {
	{ "status", 0, 0, "status" },
	{ "sources", 0, 0, "sources" },
	{ "attach", 1, 2, "attach SOURCE [period=N]" },
	{ "detach", 1, 1, "detach SOURCE" },
	{ "policy", 1, HP_CTL_ARGS_MAX - 1,
	  "policy show [NAME] | policy set key=value... | policy list | policy attach NAME "
	  "[key=value...] | policy detach NAME" },
	{ "stats", 0, 1, "stats [--json]" },
	{ "top", 0, 2, "top [-n N]" },
	{ "metrics", 0, 0, "metrics" },
};

static bool parse_top_n(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return !errno && end != s && !*end && v >= 1 && v <= TOP_MAX;
}

static int usage_err(const struct cmd_syntax *c, char *err, size_t err_len)
{
	snprintf(err, err_len, "usage: %s", c->usage);
	return -EINVAL;
}

int hp_ctl_check(int argc, const char *const *argv, char *err, size_t err_len)
{
	const struct cmd_syntax *c = NULL;
	int nargs = argc - 1;

	if (argc < 1) {
		snprintf(err, err_len, "no command");
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, argv[0]))
			c = &cmds[i];
	if (!c) {
		snprintf(err, err_len, "unknown command '%.64s'", argv[0]);
		return -EOPNOTSUPP;
	}
	if (nargs < c->min_args || nargs > c->max_args)
		return usage_err(c, err, err_len);
	if (!strcmp(c->name, "attach") && nargs == 2 && strncmp(argv[2], "period=", 7) != 0)
		return usage_err(c, err, err_len);
	if (!strcmp(c->name, "policy")) {
		int first_kv = 2;

		if (!strcmp(argv[1], "show"))
			return nargs <= 2 ? 0 : usage_err(c, err, err_len);
		if (!strcmp(argv[1], "list"))
			return nargs == 1 ? 0 : usage_err(c, err, err_len);
		if (!strcmp(argv[1], "detach"))
			return nargs == 2 ? 0 : usage_err(c, err, err_len);
		if (!strcmp(argv[1], "attach")) {
			if (nargs < 2 || strchr(argv[2], '='))
				return usage_err(c, err, err_len);
			first_kv = 3;
		} else if (strcmp(argv[1], "set") != 0 || nargs < 2) {
			return usage_err(c, err, err_len);
		}
		for (int i = first_kv; i < argc; i++)
			if (!strchr(argv[i], '=')) {
				snprintf(err, err_len, "policy %s: '%.64s' is not key=value",
					 argv[1], argv[i]);
				return -EINVAL;
			}
	}
	if (!strcmp(c->name, "stats") && nargs == 1 && strcmp(argv[1], "--json") != 0)
		return usage_err(c, err, err_len);
	if (!strcmp(c->name, "top") && nargs &&
	    (nargs != 2 || strcmp(argv[1], "-n") != 0 || !parse_top_n(argv[2]))) {
		snprintf(err, err_len, "usage: top [-n N] (N: 1..%d)", TOP_MAX);
		return -EINVAL;
	}
	return 0;
}

void hp_ctl_printf(struct hp_ctl_out *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (out->overflow)
		return;
	va_start(ap, fmt);
	/* clang-tidy 14 false positive across files in one run (see user/lib/catf.c). */
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	n = vsnprintf(out->buf + out->len, out->cap - out->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= out->cap - out->len) {
		out->overflow = true;
		out->buf[out->len] = '\0';
		return;
	}
	out->len += (size_t)n;
}

/* ------------------------------------------------------------ address */

int hp_ctl_fill_addr(const char *path, struct sockaddr_un *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	memcpy(addr->sun_path, path, strlen(path) + 1);
	return 0;
}
