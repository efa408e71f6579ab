// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket (control.h): the client's call, one request and its
 * response.
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

/* ------------------------------------------------------------ client */

static int call_fail(char **text, int ret, const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg, strerror(-ret));
	*text = strdup(msg);
	return ret;
}

int hp_ctl_call(const char *path, int argc, char *const *argv, int timeout_ms, char **text)
{
	struct sockaddr_un addr;
	struct pollfd pfd = { .fd = -1, .events = POLLIN };
	struct hp_ctl_hdr hdr;
	const char *payload;
	char *buf = malloc(HP_CTL_MSG_MAX + 1);
	char *words = malloc(HP_CTL_PAYLOAD_MAX);
	char err[256];
	int send_err = 0;
	ssize_t n;
	int len, ret;

	*text = NULL;
	if (!buf || !words) {
		ret = call_fail(text, -ENOMEM, "%s%s", "");
		goto out;
	}
	ret = hp_ctl_fill_addr(path, &addr);
	if (ret) {
		call_fail(text, ret, "%s: %s", path);
		goto out;
	}
	len = hp_ctl_join(argc, argv, words, HP_CTL_PAYLOAD_MAX);
	if (len < 0) {
		ret = call_fail(text, len, "%srequest: %s", "");
		goto out;
	}
	len = hp_ctl_encode(buf, HP_CTL_MSG_MAX, HP_CTL_REQUEST, 0, words, (size_t)len);
	pfd.fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (pfd.fd < 0 || connect(pfd.fd, (struct sockaddr *)&addr, sizeof(addr))) {
		ret = call_fail(text, -errno, "cannot reach hotpaged at %s: %s", path);
		goto out;
	}
	/* A refused client may find its error answer waiting instead: read it. */
	if (send(pfd.fd, buf, (size_t)len, MSG_NOSIGNAL) != len)
		send_err = -errno;
	ret = poll(&pfd, 1, send_err ? 0 : timeout_ms);
	if (ret <= 0) {
		if (send_err)
			ret = call_fail(text, send_err, "sending to %s: %s", path);
		else
			ret = call_fail(text, ret ? -errno : -ETIMEDOUT, "no answer from %s: %s",
					path);
		goto out;
	}
	n = recv(pfd.fd, buf, HP_CTL_MSG_MAX + 1, MSG_TRUNC | MSG_DONTWAIT);
	/*
	 * A daemon that refused us and closed while our request was unread
	 * leaves ECONNRESET pending ahead of its answer: read past it.
	 */
	if (n < 0 && errno == ECONNRESET)
		n = recv(pfd.fd, buf, HP_CTL_MSG_MAX + 1, MSG_TRUNC | MSG_DONTWAIT);
	if (n <= 0) {
		ret = call_fail(text, n ? -errno : -ECONNRESET, "reading from %s: %s", path);
		goto out;
	}
	ret = hp_ctl_decode(buf, (size_t)n, HP_CTL_RESPONSE, &hdr, &payload, err, sizeof(err));
	if (ret) {
		ret = call_fail(text, ret, "bad answer from hotpaged (%s): %s", err);
		goto out;
	}
	*text = strndup(payload, hdr.len);
	ret = *text ? hdr.status : -ENOMEM;
out:
	if (pfd.fd >= 0)
		close(pfd.fd);
	free(buf);
	free(words);
	return ret;
}
