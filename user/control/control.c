// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket (control.h): messages, command syntax, the daemon's
 * non-blocking server and the client call.
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
	"  policy show\n"
	"  policy set key=value...\n"
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
	{ "policy", 1, HP_CTL_ARGS_MAX - 1, "policy show | policy set key=value..." },
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
		if (!strcmp(argv[1], "show"))
			return nargs == 1 ? 0 : usage_err(c, err, err_len);
		if (strcmp(argv[1], "set") != 0 || nargs < 2)
			return usage_err(c, err, err_len);
		for (int i = 2; i < argc; i++)
			if (!strchr(argv[i], '=')) {
				snprintf(err, err_len, "policy set: '%.64s' is not key=value",
					 argv[i]);
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

/* ------------------------------------------------------------ server */

struct ctl_client {
	int fd; /* -1: free slot */
	__u64 last_ms;
};

struct hp_ctl_server {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd, epoll_fd;
	hp_ctl_handler handler;
	void *ctx;
	struct ctl_client clients[HP_CTL_CLIENTS_MAX];
	char *rbuf, *sbuf, *obuf; /* HP_CTL_MSG_MAX + 1, HP_CTL_MSG_MAX, HP_CTL_PAYLOAD_MAX */
	struct hp_ctl_server_stats stats;
	bool made_dir; /* the socket's directory was made by us: removed at close */
};

#define LISTENER_TAG UINT32_MAX

static int fill_addr(const char *path, struct sockaddr_un *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	memcpy(addr->sun_path, path, strlen(path) + 1);
	return 0;
}

/* Is some process listening at @path? */
static bool someone_listens(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
	close(fd);
	return live;
}

/* mkdir @path's directory (0755) if missing; *made: it was made here. */
static int make_parent(const char *path, bool *made, char *err, size_t err_len)
{
	char dir[PATH_MAX];
	char *slash;

	*made = false;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (!mkdir(dir, 0755)) {
		*made = true;
		return 0;
	}
	if (errno != EEXIST) {
		int ret = -errno;

		snprintf(err, err_len, "mkdir %s: %s", dir, strerror(errno));
		return ret;
	}
	return 0;
}

/* Bind @fd at @path, replacing a dead daemon's socket but nothing else. */
static int bind_socket(int fd, const char *path, bool *made_dir, char *err, size_t err_len)
{
	struct sockaddr_un addr;
	struct stat st;
	mode_t old;
	int ret;

	ret = fill_addr(path, &addr);
	if (ret) {
		snprintf(err, err_len, "%s: path too long for a socket", path);
		return ret;
	}
	ret = make_parent(path, made_dir, err, err_len);
	if (ret)
		return ret;
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, err_len, "%s exists and is not a socket", path);
			return -EEXIST;
		}
		if (someone_listens(&addr)) {
			snprintf(err, err_len, "%s: another hotpaged is listening", path);
			return -EADDRINUSE;
		}
		unlink(path); /* left by a daemon that was killed */
		/*
		 * That daemon made the directory too, most likely; take it
		 * over so that it goes at close (rmdir keeps a non-empty one).
		 */
		*made_dir = true;
	}
	/* Created 0600 from the start: no moment where others could connect. */
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ? -errno : 0;
	umask(old);
	if (ret) {
		snprintf(err, err_len, "bind %s: %s", path, strerror(-ret));
		return ret;
	}
	if (chmod(path, 0600)) {
		ret = -errno;
		snprintf(err, err_len, "chmod %s: %s", path, strerror(errno));
		unlink(path);
		return ret;
	}
	return 0;
}

int hp_ctl_server_open(const char *path, hp_ctl_handler handler, void *ctx,
		       struct hp_ctl_server **out, char *err, size_t err_len)
{
	struct hp_ctl_server *srv = calloc(1, sizeof(*srv));
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = LISTENER_TAG };
	int ret;

	if (!srv) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	srv->listen_fd = srv->epoll_fd = -1;
	for (int i = 0; i < HP_CTL_CLIENTS_MAX; i++)
		srv->clients[i].fd = -1;
	srv->handler = handler;
	srv->ctx = ctx;
	srv->rbuf = malloc(HP_CTL_MSG_MAX + 1);
	srv->sbuf = malloc(HP_CTL_MSG_MAX);
	srv->obuf = malloc(HP_CTL_PAYLOAD_MAX);
	if (!srv->rbuf || !srv->sbuf || !srv->obuf) {
		snprintf(err, err_len, "out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	srv->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->listen_fd < 0 || srv->epoll_fd < 0) {
		ret = -errno;
		snprintf(err, err_len, "socket: %s", strerror(errno));
		goto fail;
	}
	ret = bind_socket(srv->listen_fd, path, &srv->made_dir, err, err_len);
	if (ret)
		goto fail;
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	if (listen(srv->listen_fd, 64) ||
	    epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->listen_fd, &ev)) {
		ret = -errno;
		snprintf(err, err_len, "listen %s: %s", path, strerror(errno));
		goto fail;
	}
	*out = srv;
	return 0;
fail:
	hp_ctl_server_close(srv);
	return ret;
}

static void client_close(struct hp_ctl_server *srv, struct ctl_client *c)
{
	epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	srv->stats.clients--;
}

void hp_ctl_server_close(struct hp_ctl_server *srv)
{
	if (!srv)
		return;
	for (int i = 0; i < HP_CTL_CLIENTS_MAX; i++)
		if (srv->clients[i].fd >= 0)
			client_close(srv, &srv->clients[i]);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->path[0]) {
		unlink(srv->path);
		char *slash = strrchr(srv->path, '/');

		if (srv->made_dir && slash && slash != srv->path) {
			*slash = '\0';
			rmdir(srv->path); /* fails, harmlessly, when something else is in it */
		}
	}
	if (srv->epoll_fd >= 0)
		close(srv->epoll_fd);
	free(srv->rbuf);
	free(srv->sbuf);
	free(srv->obuf);
	free(srv);
}

int hp_ctl_server_fd(const struct hp_ctl_server *srv)
{
	return srv->epoll_fd;
}

void hp_ctl_server_stats(const struct hp_ctl_server *srv, struct hp_ctl_server_stats *stats)
{
	*stats = srv->stats;
}

/* One response; false when it could not be sent whole (then drop the client). */
static bool send_response(struct hp_ctl_server *srv, int fd, int status, const char *text,
			  size_t len)
{
	int n = hp_ctl_encode(srv->sbuf, HP_CTL_MSG_MAX, HP_CTL_RESPONSE, status, text, len);

	if (n < 0)
		return false;
	/* Never wait: a client that does not read loses its connection. */
	return send(fd, srv->sbuf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == n;
}

static bool send_error(struct hp_ctl_server *srv, int fd, int status, const char *msg)
{
	srv->stats.errors++;
	return send_response(srv, fd, status, msg, strlen(msg));
}

static void accept_clients(struct hp_ctl_server *srv)
{
	for (;;) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		struct ctl_client *slot = NULL;
		struct epoll_event ev = { .events = EPOLLIN };

		if (fd < 0)
			return; /* EAGAIN, or a client that left already */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) || cred.uid != 0) {
			srv->stats.refused++;
			send_error(srv, fd, -EACCES,
				   "permission denied: only root (uid 0) may control hotpaged");
			close(fd);
			continue;
		}
		for (int i = 0; i < HP_CTL_CLIENTS_MAX && !slot; i++)
			if (srv->clients[i].fd < 0)
				slot = &srv->clients[i];
		ev.data.u32 = slot ? (__u32)(slot - srv->clients) : 0;
		if (!slot || epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev)) {
			srv->stats.busy++;
			send_error(srv, fd, -EBUSY, "too many control clients; try again");
			close(fd);
			continue;
		}
		slot->fd = fd;
		slot->last_ms = hp_monotonic_ms();
		srv->stats.accepted++;
		srv->stats.clients++;
	}
}

/* Answer the request in rbuf (@n bytes as received); false: drop the client. */
static bool answer(struct hp_ctl_server *srv, int fd, size_t n)
{
	struct hp_ctl_out out = { .buf = srv->obuf, .cap = HP_CTL_PAYLOAD_MAX };
	const char *argv[HP_CTL_ARGS_MAX];
	struct hp_ctl_hdr hdr;
	const char *payload;
	char err[256];
	int argc, ret;

	ret = hp_ctl_decode(srv->rbuf, n, HP_CTL_REQUEST, &hdr, &payload, err, sizeof(err));
	if (!ret) {
		argc = hp_ctl_split(payload, hdr.len, argv, HP_CTL_ARGS_MAX, err, sizeof(err));
		ret = argc < 0 ? argc : hp_ctl_check(argc, argv, err, sizeof(err));
	}
	if (ret)
		return send_error(srv, fd, ret, err);
	out.buf[0] = '\0';
	ret = srv->handler(srv->ctx, argc, argv, &out);
	if (out.overflow) {
		snprintf(err, sizeof(err), "the answer is longer than %d bytes",
			 HP_CTL_PAYLOAD_MAX);
		return send_error(srv, fd, -EMSGSIZE, err);
	}
	if (ret) {
		srv->stats.errors++;
		if (!out.len)
			hp_ctl_printf(&out, "%s", strerror(-ret));
	}
	return send_response(srv, fd, ret, out.buf, out.len);
}

/* Read and answer one message of client @c; false when it is gone. */
static bool serve_client(struct hp_ctl_server *srv, struct ctl_client *c)
{
	/* MSG_TRUNC: the datagram's real length, to tell "too long" apart. */
	ssize_t n = recv(c->fd, srv->rbuf, HP_CTL_MSG_MAX + 1, MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false; /* hung up */
	c->last_ms = hp_monotonic_ms();
	srv->stats.requests++;
	return answer(srv, c->fd, (size_t)n);
}

static void close_idle(struct hp_ctl_server *srv)
{
	__u64 now = hp_monotonic_ms();

	for (int i = 0; i < HP_CTL_CLIENTS_MAX; i++) {
		struct ctl_client *c = &srv->clients[i];

		if (c->fd >= 0 && now - c->last_ms > HP_CTL_IDLE_MS) {
			client_close(srv, c);
			srv->stats.idle_closed++;
		}
	}
}

int hp_ctl_server_serve(struct hp_ctl_server *srv)
{
	struct epoll_event evs[HP_CTL_SERVE_BATCH + 1];
	int n = epoll_wait(srv->epoll_fd, evs, HP_CTL_SERVE_BATCH + 1, 0);
	int served = 0;

	for (int i = 0; i < n; i++) {
		struct ctl_client *c;

		if (evs[i].data.u32 == LISTENER_TAG) {
			accept_clients(srv);
			continue;
		}
		c = &srv->clients[evs[i].data.u32];
		if (c->fd < 0)
			continue;
		served++;
		if (!serve_client(srv, c)) {
			srv->stats.dropped++;
			client_close(srv, c);
		}
	}
	close_idle(srv);
	return served;
}

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
	ret = fill_addr(path, &addr);
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
