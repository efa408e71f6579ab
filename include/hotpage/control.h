/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hotpaged's control protocol (hotpagectl <-> hotpaged), over an AF_UNIX
 * SOCK_SEQPACKET socket, so that each message is one datagram: no framing
 * to get wrong, and a short or long read is visible as such.
 *
 * A message is a fixed header followed by hdr.len payload bytes, at most
 * HP_CTL_MSG_MAX bytes in all. Integers are in host byte order (the socket
 * never leaves the machine).
 *
 *   request:  type HP_CTL_REQUEST, status 0, payload the command's words,
 *             each ending in a NUL: "attach\0fault\0period=4\0"
 *   response: type HP_CTL_RESPONSE, status 0 and the command's text output,
 *             or status -errno and one line saying what was wrong
 *
 * One response per request, in order. A request the daemon cannot read
 * (wrong magic, version, type, a length that does not match the datagram,
 * too long, words not NUL-terminated, an unknown command) gets an error
 * response all the same; the connection stays open unless the peer is
 * not allowed (uid other than 0) or does not read its responses.
 */
#ifndef HOTPAGE_CONTROL_H
#define HOTPAGE_CONTROL_H

#include <linux/types.h>

#define HP_CTL_SOCKET_DEFAULT "/run/hotpage/hotpaged.sock"
#define HP_CTL_MAGIC 0x48504354u /* "HPCT" */
#define HP_CTL_VERSION 1
/* The whole datagram, header included. */
#define HP_CTL_MSG_MAX (64 * 1024)
/* Words of one request, the command's name included. */
#define HP_CTL_ARGS_MAX 64

enum hp_ctl_type {
	HP_CTL_REQUEST = 1,
	HP_CTL_RESPONSE = 2,
};

struct hp_ctl_hdr {
	__u32 magic; /* HP_CTL_MAGIC */
	__u16 version; /* HP_CTL_VERSION */
	__u16 type; /* enum hp_ctl_type */
	__s32 status; /* responses: 0 or -errno; requests: 0 */
	__u32 len; /* payload bytes after the header */
};
_Static_assert(sizeof(struct hp_ctl_hdr) == 16, "struct hp_ctl_hdr is 16 bytes on the wire");

#define HP_CTL_PAYLOAD_MAX (HP_CTL_MSG_MAX - (int)sizeof(struct hp_ctl_hdr))

#endif /* HOTPAGE_CONTROL_H */
