// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket (control.h): the daemon's non-blocking server.
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

	ret = hp_ctl_fill_addr(path, &addr);
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
