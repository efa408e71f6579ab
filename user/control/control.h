/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket (include/hotpage/control.h): message encoding and
 * decoding, the command syntax both ends check, the server hotpaged runs
 * in its event loop, and the client call hotpagectl makes.
 *
 * The server never blocks: the listener and every client are
 * non-blocking, a client whose responses do not fit its socket buffer is
 * dropped, clients idle longer than HP_CTL_IDLE_MS are closed, and at most
 * HP_CTL_CLIENTS_MAX are served at once (more get EBUSY and are closed).
 */
#ifndef HOTPAGE_USER_CONTROL_H
#define HOTPAGE_USER_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "hotpage/control.h"

#define HP_CTL_CLIENTS_MAX 32
#define HP_CTL_IDLE_MS 10000
/* Requests served per hp_ctl_server_serve() call: ingestion comes first. */
#define HP_CTL_SERVE_BATCH 4

/* ---- messages */

/*
 * Header and payload into @buf (@cap bytes). Returns the message length,
 * or -EMSGSIZE when it does not fit in @cap or HP_CTL_MSG_MAX.
 */
int hp_ctl_encode(void *buf, size_t cap, enum hp_ctl_type type, int status, const void *payload,
		  size_t len);

/*
 * Check the @n-byte datagram in @buf is a message of @type: 0 and
 * @hdr and @payload set, or -errno with the reason in @err: -EBADMSG (short,
 * wrong magic, length not matching), -EPROTONOSUPPORT (version), -EPROTO
 * (type), -EMSGSIZE (larger than HP_CTL_MSG_MAX).
 */
int hp_ctl_decode(const void *buf, size_t n, enum hp_ctl_type type, struct hp_ctl_hdr *hdr,
		  const char **payload, char *err, size_t err_len);

/*
 * A request's payload as words (pointers into @payload, which must stay):
 * the count, or -EINVAL (empty, not NUL-terminated, an empty word) or
 * -E2BIG (more than @max words), the reason in @err.
 */
int hp_ctl_split(const char *payload, size_t len, const char **argv, int max, char *err,
		 size_t err_len);

/* @argc words as a request payload into @buf: the length or -EMSGSIZE. */
int hp_ctl_join(int argc, char *const *argv, char *buf, size_t cap);

/* ---- commands */

/*
 * Is @argv (the command and its arguments) a command of the protocol with
 * the right arguments? 0, or -EINVAL with the usage line in @err (an
 * unknown command: -EOPNOTSUPP). Both ends check: hotpagectl for exit
 * code 2, the daemon against clients that do not.
 */
int hp_ctl_check(int argc, const char *const *argv, char *err, size_t err_len);
/* The usage of every command, one per line. */
extern const char hp_ctl_usage[];

/* Text output of a command being served, limited to a payload's size. */
struct hp_ctl_out {
	char *buf;
	size_t len, cap;
	bool overflow;
};

void hp_ctl_printf(struct hp_ctl_out *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- server */

struct hp_ctl_server;

/*
 * Serve one request: @argv passed hp_ctl_check(). Write the output to
 * @out and return 0, or return -errno with one line of reason in @out.
 */
typedef int (*hp_ctl_handler)(void *ctx, int argc, const char *const *argv, struct hp_ctl_out *out);

/*
 * Listen at @path: its directory made 0755 if missing, the socket 0600. A
 * socket nobody listens on (a killed daemon's) is replaced; a live one is
 * -EADDRINUSE. 0, or -errno with the reason in @err.
 */
int hp_ctl_server_open(const char *path, hp_ctl_handler handler, void *ctx,
		       struct hp_ctl_server **out, char *err, size_t err_len);
/* Close every client and the listener, unlink the socket; NULL is a no-op. */
void hp_ctl_server_close(struct hp_ctl_server *srv);
/* Readable when a client connects or writes: for the caller's epoll. */
int hp_ctl_server_fd(const struct hp_ctl_server *srv);
/*
 * Accept, read and answer what is waiting, without blocking, at most
 * HP_CTL_SERVE_BATCH requests; close idle clients. Returns requests served.
 */
int hp_ctl_server_serve(struct hp_ctl_server *srv);

struct hp_ctl_server_stats {
	__u64 accepted, refused, busy, requests, errors, dropped, idle_closed;
	__u32 clients;
};
void hp_ctl_server_stats(const struct hp_ctl_server *srv, struct hp_ctl_server_stats *stats);

/* ---- both ends */

struct sockaddr_un;
/* The socket address of @path: 0, or -ENAMETOOLONG when it does not fit. */
int hp_ctl_fill_addr(const char *path, struct sockaddr_un *addr);

/* ---- client */

/*
 * Send @argv to the daemon at @path and wait up to @timeout_ms for the
 * answer. Returns the response's status (0 or -errno from the daemon)
 * with its text in *@text (malloc'ed, NUL-terminated), or a transport
 * error (-errno, *@text a message too).
 */
int hp_ctl_call(const char *path, int argc, char *const *argv, int timeout_ms, char **text);

#endif /* HOTPAGE_USER_CONTROL_H */
