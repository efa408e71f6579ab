// SPDX-License-Identifier: GPL-2.0
/*
 * The sources' transport, consumer side: one ring buffer per CPU in the
 * hp_rings array-of-maps, drained through one ring_buffer manager, and
 * the sources' stages, from which records of CPUs that stopped producing
 * are taken.
 *
 * Why per CPU: one ring shared by all CPUs serialises every producer on
 * its reservation spinlock and collapses to 2-3 M events/s with two or
 * more producers (see bpf/hp_source.bpf.h); with one ring per CPU each
 * producer has its own, and one epoll fd still covers them all.
 *
 * Why stages: each ring record costs a producer as much as the rest of
 * its run on a virtualised host, so a CPU writes HP_STAGE_RECORDS records into its
 * entry of the source's hp_cpu_state first and sends them as one ring
 * record. What a CPU staged and then stopped adding to would wait
 * forever; after HP_TRANSPORT_STAGE_IDLE_MS without a change the
 * consumer takes it (hp_stage_take), polling the stages at least every
 * HP_TRANSPORT_STAGE_CHECK_MS.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "source.h"
#include "transport.h"

/* One source object's hp_cpu_state, mapped, and what was last seen of each CPU's stage. */
struct stage_set {
	const struct bpf_object *obj;
	struct hp_source_cpu *cpus;
	size_t ncpus;
	size_t len;
	__u64 *last_stage; /* per CPU: the stage word last seen */
	__u64 *last_change_ns; /* per CPU: when it was first seen */
};

struct hp_transport {
	struct ring_buffer *rb;
	struct stage_set *stages;
	size_t nr_stages;
	bool staged; /* records were staged at the last look */
	int outer_fd;
	int nr_rings;
	int *ring_fds; /* kept open: the epoll registrations follow the files */
	__u32 ring_bytes;
	hp_event_fn on_event;
	void *ctx;
	struct hp_transport_stats stats;
};

int hp_ring_record_events(size_t size)
{
	if (!size || size % sizeof(struct hp_event) || size / sizeof(struct hp_event) > INT32_MAX)
		return -EMSGSIZE;
	return (int)(size / sizeof(struct hp_event));
}

__u64 hp_ring_wakeup_mask(__u32 ring_bytes)
{
	/* Each ring record, a stage, carries an 8-byte header (BPF_RINGBUF_HDR_SZ). */
	__u64 batch = (__u64)ring_bytes / (HP_STAGE_RECORDS * sizeof(struct hp_event) + 8) / 16;
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

static int deliver(struct hp_transport *transport, const struct hp_event *ev)
{
	if (ev->version != HP_EVENT_VERSION) {
		transport->stats.bad_version++;
		return 0;
	}
	transport->stats.events++;
	return transport->on_event ? transport->on_event(ev, transport->ctx) : 0;
}

/* A ring record: one stage, records back to back. */
static int on_sample(void *ctx, void *data, size_t size)
{
	struct hp_transport *transport = ctx;
	const struct hp_event *ev = data;
	int n = hp_ring_record_events(size);

	if (n < 0) {
		transport->stats.bad_size++;
		return 0;
	}
	for (int i = 0; i < n; i++) {
		int ret = deliver(transport, &ev[i]);

		if (ret < 0)
			return ret;
	}
	return 0;
}

__u32 hp_stage_take(struct hp_source_cpu *cpu, __u64 stage, struct hp_event *out)
{
	__u32 n = HP_STAGE_COUNT(stage);

	if (!n || n > HP_STAGE_RECORDS)
		return 0;
	/*
	 * The producer writes only slots from n on until the stage moves on,
	 * so these are stable; if it moved on, the exchange fails and the
	 * copy is discarded. The exchange orders the copy before it.
	 */
	memcpy(out, cpu->staged, n * sizeof(*out));
	if (!__atomic_compare_exchange_n(&cpu->stage, &stage, HP_STAGE_NEXT_GEN(stage), false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return 0;
	__atomic_fetch_add(&cpu->taken, n, __ATOMIC_RELAXED);
	return n;
}

/*
 * Take and deliver the records of @set's CPUs whose stage has not changed
 * for HP_TRANSPORT_STAGE_IDLE_MS (all of them when @all: the source is
 * detached). Records delivered, or the callback's negative return.
 */
static int stage_set_collect(struct hp_transport *transport, struct stage_set *set, bool all,
			     __u64 now)
{
	struct hp_event taken[HP_STAGE_RECORDS];
	int delivered = 0;

	for (size_t cpu = 0; cpu < set->ncpus; cpu++) {
		__u64 stage = __atomic_load_n(&set->cpus[cpu].stage, __ATOMIC_ACQUIRE);
		__u32 n;

		if (!HP_STAGE_COUNT(stage))
			continue;
		if (!all && stage != set->last_stage[cpu]) {
			set->last_stage[cpu] = stage;
			set->last_change_ns[cpu] = now;
			transport->staged = true;
			continue;
		}
		if (!all &&
		    now - set->last_change_ns[cpu] < HP_TRANSPORT_STAGE_IDLE_MS * 1000000ULL) {
			transport->staged = true;
			continue;
		}
		n = hp_stage_take(&set->cpus[cpu], stage, taken);
		if (!n) {
			transport->staged = true; /* the CPU is producing again */
			continue;
		}
		transport->stats.taken += n;
		for (__u32 i = 0; i < n; i++) {
			int ret = deliver(transport, &taken[i]);

			if (ret < 0)
				return ret;
		}
		delivered += (int)n;
	}
	return delivered;
}

static int stages_collect(struct hp_transport *transport, bool all)
{
	__u64 now = hp_monotonic_ns();
	int delivered = 0;

	transport->staged = false;
	for (size_t i = 0; i < transport->nr_stages; i++) {
		int ret = stage_set_collect(transport, &transport->stages[i], all, now);

		if (ret < 0)
			return ret;
		delivered += ret;
	}
	return delivered;
}

static void stage_set_free(struct stage_set *set)
{
	if (set->cpus)
		munmap(set->cpus, set->len);
	free(set->last_stage);
	free(set->last_change_ns);
}

int hp_transport_stage_add(struct hp_transport *transport, const struct bpf_object *obj)
{
	struct stage_set set = { .obj = obj }, *grown;

	set.cpus = hp_source_cpu_state_map(obj, PROT_READ | PROT_WRITE, &set.ncpus, &set.len);
	if (!set.cpus)
		return -errno;
	set.last_stage = calloc(set.ncpus, sizeof(*set.last_stage));
	set.last_change_ns = calloc(set.ncpus, sizeof(*set.last_change_ns));
	grown = realloc(transport->stages, (transport->nr_stages + 1) * sizeof(*grown));
	if (!set.last_stage || !set.last_change_ns || !grown) {
		if (grown)
			transport->stages = grown;
		stage_set_free(&set);
		return -ENOMEM;
	}
	transport->stages = grown;
	transport->stages[transport->nr_stages++] = set;
	return 0;
}

int hp_transport_stage_remove(struct hp_transport *transport, const struct bpf_object *obj)
{
	int ret = 0;

	if (!transport || !obj)
		return 0;
	for (size_t i = 0; i < transport->nr_stages; i++) {
		struct stage_set *set = &transport->stages[i];

		if (set->obj != obj)
			continue;
		/* What the ring holds is older than what is staged: deliver it first. */
		ret = ring_buffer__consume(transport->rb);
		if (ret >= 0)
			ret = stage_set_collect(transport, set, true, hp_monotonic_ns());
		stage_set_free(set);
		transport->stages[i] = transport->stages[--transport->nr_stages];
		return ret < 0 ? ret : 0;
	}
	return -ENOENT;
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
	for (size_t i = 0; i < transport->nr_stages; i++)
		stage_set_free(&transport->stages[i]);
	free(transport->stages);
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

int hp_transport_collect_ms(const struct hp_transport *transport)
{
	if (!transport->nr_stages)
		return -1;
	return transport->staged ? HP_TRANSPORT_STAGE_IDLE_MS : HP_TRANSPORT_STAGE_CHECK_MS;
}

/* Add the records taken from idle stages (all when @all) to @ret, the ring's count. */
static int with_stages(struct hp_transport *transport, int ret, bool all)
{
	int taken;

	if (ret < 0)
		return ret;
	taken = stages_collect(transport, all);
	if (taken < 0)
		return taken;
	return ret > INT32_MAX - taken ? INT32_MAX : ret + taken;
}

int hp_transport_poll(struct hp_transport *transport, int timeout_ms)
{
	int collect_ms = hp_transport_collect_ms(transport);

	if (collect_ms >= 0 && (timeout_ms < 0 || timeout_ms > collect_ms))
		timeout_ms = collect_ms;
	return with_stages(transport, ring_buffer__poll(transport->rb, timeout_ms), false);
}

int hp_transport_consume(struct hp_transport *transport)
{
	return with_stages(transport, ring_buffer__consume(transport->rb), false);
}

int hp_transport_drain(struct hp_transport *transport)
{
	return with_stages(transport, ring_buffer__consume(transport->rb), true);
}

void hp_transport_read_stats(const struct hp_transport *transport, struct hp_transport_stats *stats)
{
	*stats = transport->stats;
}
