/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The consumer side of the sources' transport: one BPF ring buffer per
 * possible CPU, held in the array-of-maps every source object shares as
 * hp_rings (why per CPU: see bpf/hp_source.bpf.h), drained by one libbpf
 * ring_buffer manager whose epoll fd the daemon's loop waits on. Each
 * record is checked (size, version) before the callback sees it.
 */
#ifndef HOTPAGE_TRANSPORT_H
#define HOTPAGE_TRANSPORT_H

#include <stddef.h>
#include <linux/types.h>

#include "hotpage/event.h"

/* Bytes of each CPU's ring when not set: about 14,500 records. */
#define HP_TRANSPORT_RING_BYTES_DEFAULT (1024 * 1024)

struct hp_transport;

/* Called for each valid record; a negative return stops the drain and is returned. */
typedef int (*hp_event_fn)(const struct hp_event *ev, void *ctx);

struct hp_transport_opts {
	/* Each CPU's ring: a power of two, at least the page size; 0: the default. */
	__u32 ring_bytes;
	hp_event_fn on_event;
	void *ctx;
};

/* Counters of the consumer side (the producer side counts in each source's hp_cpu_state). */
struct hp_transport_stats {
	__u64 events; /* valid records handed to on_event */
	__u64 bad_size; /* records shorter than struct hp_event */
	__u64 bad_version; /* records of another HP_EVENT_VERSION */
};

/*
 * 0 when @data (@size bytes, as the ring handed it) is a struct hp_event
 * this build understands; -EMSGSIZE when too short, -EPROTO for another
 * version. Longer records are accepted: a later version may append.
 */
int hp_event_check(const void *data, size_t size);

/* Is @bytes usable as a ring size (power of two, multiple of @page_size)? */
int hp_ring_bytes_valid(__u64 bytes, long page_size);

/*
 * The producers' hp_wakeup_mask for rings of @ring_bytes: wake the
 * consumer every 2^k records per CPU, 2^k the largest power of two at
 * most 1/16 of a ring's records (mask 0, every record, for tiny rings).
 */
__u64 hp_ring_wakeup_mask(__u32 ring_bytes);

/* Create the rings and the outer map. 0, or a negative errno with the reason in @err. */
int hp_transport_new(const struct hp_transport_opts *opts, struct hp_transport **out, char *err,
		     size_t err_len);
/* Free; NULL is allowed. Sources using the rings must be stopped first. */
void hp_transport_free(struct hp_transport *transport);

/* The outer ARRAY_OF_MAPS (for bpf_map__reuse_fd of each source's hp_rings). */
int hp_transport_rings_fd(const struct hp_transport *transport);
/* Readable when some ring has data: for the caller's own epoll/poll loop. */
int hp_transport_epoll_fd(const struct hp_transport *transport);
int hp_transport_nr_rings(const struct hp_transport *transport);
__u32 hp_transport_ring_bytes(const struct hp_transport *transport);

/*
 * Wait up to @timeout_ms (-1: forever) for records and drain them. Returns
 * the number of records handled (>= 0), or a negative errno (also the
 * callback's negative return). -EINTR when a signal came.
 */
int hp_transport_poll(struct hp_transport *transport, int timeout_ms);
/* Drain what is there without waiting; same returns. */
int hp_transport_consume(struct hp_transport *transport);

void hp_transport_read_stats(const struct hp_transport *transport,
			     struct hp_transport_stats *stats);

#endif /* HOTPAGE_TRANSPORT_H */
