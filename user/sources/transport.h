/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The consumer side of the sources' transport: one BPF ring buffer per
 * possible CPU, held in the array-of-maps every source object shares as
 * hp_rings (why per CPU: see bpf/hp_source.bpf.h), drained by one libbpf
 * ring_buffer manager whose epoll fd the daemon's loop waits on. A ring
 * record is a stage, HP_STAGE_RECORDS struct hp_event back to back; the
 * records a CPU staged and then stopped adding to are taken from the
 * source's hp_cpu_state (hp_transport_stage_add). Each record is checked
 * (size, version) before the callback sees it.
 */
#ifndef HOTPAGE_TRANSPORT_H
#define HOTPAGE_TRANSPORT_H

#include <stddef.h>
#include <linux/types.h>

#include "hotpage/event.h"

/* Bytes of each CPU's ring when not set: about 1,000 stages of 16 records. */
#define HP_TRANSPORT_RING_BYTES_DEFAULT (1024 * 1024)
/* Records staged on a CPU whose stage has not changed for this long are taken. */
#define HP_TRANSPORT_STAGE_IDLE_MS 20
/* How often the stages are looked at when none held records at the last look. */
#define HP_TRANSPORT_STAGE_CHECK_MS 1000

struct hp_transport;
struct bpf_object;

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
	__u64 taken; /* ... of which taken from idle CPUs' stages, not from a ring */
	__u64 bad_size; /* ring records not a whole number of struct hp_event */
	__u64 bad_version; /* records of another HP_EVENT_VERSION */
};

/* The records in a ring record of @size bytes (> 0), or -EMSGSIZE. */
int hp_ring_record_events(size_t size);

/*
 * Take the records staged in @cpu (one CPU's entry of a source's
 * hp_cpu_state) if its stage still is @stage, which the caller read:
 * copies them to @out (room for HP_STAGE_RECORDS) and returns their
 * number, counted in @cpu->taken; 0 when the producer moved on first.
 */
__u32 hp_stage_take(struct hp_source_cpu *cpu, __u64 stage, struct hp_event *out);

/* Is @bytes usable as a ring size (power of two, multiple of @page_size)? */
int hp_ring_bytes_valid(__u64 bytes, long page_size);

/*
 * The producers' hp_wakeup_mask for rings of @ring_bytes: wake the
 * consumer every 2^k stages per CPU, 2^k the largest power of two at
 * most 1/16 of the stages a ring holds (mask 0, every stage, for small
 * rings).
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
 * After load: take what @obj's CPUs leave in their stages (@obj's
 * hp_cpu_state). 0 or -errno. Before the object is destroyed, and after
 * its programs are detached, hp_transport_stage_remove() delivers what is
 * left and forgets it (0 if @obj was never added, or -errno).
 */
int hp_transport_stage_add(struct hp_transport *transport, const struct bpf_object *obj);
int hp_transport_stage_remove(struct hp_transport *transport, const struct bpf_object *obj);

/*
 * Wait up to @timeout_ms (-1: forever) for records and drain them, then
 * take the records of idle stages. Returns the number of records handled
 * (>= 0), or a negative errno (also the callback's negative return).
 * -EINTR when a signal came. With stages added it returns within
 * hp_transport_collect_ms(), records or not.
 */
int hp_transport_poll(struct hp_transport *transport, int timeout_ms);
/* Drain what is there without waiting, idle stages included; same returns. */
int hp_transport_consume(struct hp_transport *transport);
/*
 * The same, and take every stage's records, idle or not: for when the
 * producers have finished (a test's round, a benchmark's end).
 */
int hp_transport_drain(struct hp_transport *transport);
/*
 * How long a caller that waits on hp_transport_epoll_fd() itself may wait
 * before calling hp_transport_consume() for the stages: -1 when no stage
 * was added (forever), else a few milliseconds while records are staged.
 */
int hp_transport_collect_ms(const struct hp_transport *transport);

void hp_transport_read_stats(const struct hp_transport *transport,
			     struct hp_transport_stats *stats);

#endif /* HOTPAGE_TRANSPORT_H */
