// SPDX-License-Identifier: GPL-2.0
/*
 * The sources' transport, consumer side: one ring buffer per CPU in the
 * hp_rings array-of-maps, drained through one ring_buffer manager.
 *
 * Why per CPU: one ring shared by all CPUs serialises every producer on
 * its reservation spinlock and collapses to 2-3 M events/s with two or
 * more producers (see bpf/hp_source.bpf.h); with one ring per CPU each
 * producer has its own, and one epoll fd still covers them all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "transport.h"

struct hp_transport {
	struct ring_buffer *rb;
	int outer_fd;
	int nr_rings;
	int *ring_fds; /* kept open: the epoll registrations follow the files */
	__u32 ring_bytes;
	hp_event_fn on_event;
	void *ctx;
	struct hp_transport_stats stats;
};

int hp_event_check(const void *data, size_t size)
{
	const struct hp_event *ev = data;

	if (size < sizeof(*ev))
		return -EMSGSIZE;
	if (ev->version != HP_EVENT_VERSION)
		return -EPROTO;
	return 0;
}

__u64 hp_ring_wakeup_mask(__u32 ring_bytes)
{
	/* Each record carries the ring's 8-byte header (BPF_RINGBUF_HDR_SZ). */
	__u64 batch = (__u64)ring_bytes / (sizeof(struct hp_event) + 8) / 16;
	__u64 pow2 = 1;

	while (pow2 * 2 <= batch)
		pow2 *= 2;
	return pow2 - 1;
}

int hp_ring_bytes_valid(__u64 bytes, long page_size)
{
	if (page_size <= 0 || bytes < (__u64)page_size || bytes > (1ULL << 31))
		return 0;
	return !(bytes & (bytes - 1)) && !(bytes % (__u64)page_size);
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct hp_transport *transport = ctx;
	int ret = hp_event_check(data, size);

	if (ret == -EMSGSIZE) {
		transport->stats.bad_size++;
		return 0;
	}
	if (ret) {
		transport->stats.bad_version++;
		return 0;
	}
	transport->stats.events++;
	return transport->on_event ? transport->on_event(data, transport->ctx) : 0;
}

int hp_transport_new(const struct hp_transport_opts *opts, struct hp_transport **out, char *err,
		     size_t err_len)
{
	LIBBPF_OPTS(bpf_map_create_opts, outer_opts);
	long page_size = sysconf(_SC_PAGESIZE);
	struct hp_transport *transport;
	int ncpus = libbpf_num_possible_cpus();
	int ret;

	*out = NULL;
	if (ncpus <= 0) {
		snprintf(err, err_len, "counting possible CPUs: %s", strerror(-ncpus));
		return ncpus < 0 ? ncpus : -EINVAL;
	}
	transport = calloc(1, sizeof(*transport));
	if (!transport) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	transport->outer_fd = -1;
	transport->ring_bytes =
		opts->ring_bytes ? opts->ring_bytes : HP_TRANSPORT_RING_BYTES_DEFAULT;
	transport->on_event = opts->on_event;
	transport->ctx = opts->ctx;
	if (!hp_ring_bytes_valid(transport->ring_bytes, page_size)) {
		snprintf(
			err, err_len,
			"ring size %u: must be a power of two and a multiple of the page size (%ld)",
			transport->ring_bytes, page_size);
		ret = -EINVAL;
		goto fail;
	}
	transport->ring_fds = malloc((size_t)ncpus * sizeof(int));
	if (!transport->ring_fds) {
		snprintf(err, err_len, "out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	for (int cpu = 0; cpu < ncpus; cpu++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "hp_ring", 0, 0,
					transport->ring_bytes, NULL);

		if (fd < 0) {
			ret = -errno;
			snprintf(err, err_len,
				 "creating the ring buffer of CPU %d (%u bytes): %s%s", cpu,
				 transport->ring_bytes, strerror(-ret),
				 ret == -EPERM ? " (needs CAP_BPF)" : "");
			goto fail;
		}
		transport->ring_fds[transport->nr_rings++] = fd;
	}

	/* The first ring is the template of the outer map's values. */
	outer_opts.inner_map_fd = transport->ring_fds[0];
	transport->outer_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "hp_rings", sizeof(__u32),
					     sizeof(__u32), (__u32)ncpus, &outer_opts);
	if (transport->outer_fd < 0) {
		ret = -errno;
		snprintf(err, err_len, "creating hp_rings: %s", strerror(-ret));
		goto fail;
	}
	for (__u32 cpu = 0; cpu < (__u32)ncpus; cpu++) {
		if (bpf_map_update_elem(transport->outer_fd, &cpu, &transport->ring_fds[cpu], 0)) {
			ret = -errno;
			snprintf(err, err_len, "hp_rings[%u]: %s", cpu, strerror(-ret));
			goto fail;
		}
		if (!transport->rb) {
			transport->rb = ring_buffer__new(transport->ring_fds[cpu], on_sample,
							 transport, NULL);
			ret = transport->rb ? 0 : -errno;
		} else {
			ret = ring_buffer__add(transport->rb, transport->ring_fds[cpu], on_sample,
					       transport);
		}
		if (ret) {
			snprintf(err, err_len, "mapping the ring buffer of CPU %u: %s", cpu,
				 strerror(-ret));
			goto fail;
		}
	}
	*out = transport;
	return 0;
fail:
	hp_transport_free(transport);
	return ret;
}

void hp_transport_free(struct hp_transport *transport)
{
	if (!transport)
		return;
	ring_buffer__free(transport->rb);
	if (transport->outer_fd >= 0)
		close(transport->outer_fd);
	for (int i = 0; i < transport->nr_rings; i++)
		close(transport->ring_fds[i]);
	free(transport->ring_fds);
	free(transport);
}

int hp_transport_rings_fd(const struct hp_transport *transport)
{
	return transport->outer_fd;
}

int hp_transport_epoll_fd(const struct hp_transport *transport)
{
	return ring_buffer__epoll_fd(transport->rb);
}

int hp_transport_nr_rings(const struct hp_transport *transport)
{
	return transport->nr_rings;
}

__u32 hp_transport_ring_bytes(const struct hp_transport *transport)
{
	return transport->ring_bytes;
}

int hp_transport_poll(struct hp_transport *transport, int timeout_ms)
{
	return ring_buffer__poll(transport->rb, timeout_ms);
}

int hp_transport_consume(struct hp_transport *transport)
{
	return ring_buffer__consume(transport->rb);
}

void hp_transport_read_stats(const struct hp_transport *transport, struct hp_transport_stats *stats)
{
	*stats = transport->stats;
}
