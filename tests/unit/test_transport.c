// SPDX-License-Identifier: GPL-2.0
/*
 * The transport's record checks, ring sizes and stage taking
 * (user/sources/transport.c), and the record's layout.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "transport.h"

static void test_record_layout(void **state)
{
	(void)state;
	/* The same 64 bytes in BPF, the daemon and the module: a change must be deliberate. */
	assert_int_equal(sizeof(struct hp_event), 64);
	assert_int_equal(offsetof(struct hp_event, ts_ns), 16);
	assert_int_equal(offsetof(struct hp_event, addr), 24);
	assert_int_equal(offsetof(struct hp_event, pfn), 40);
	assert_int_equal(offsetof(struct hp_event, page_node), 48);
	assert_int_equal(offsetof(struct hp_event, target), 60);
	assert_int_equal(sizeof(struct hp_source_stats), 48);
	/* The unsampled path's fields are one cache line; the stage on lines of its own. */
	assert_int_equal(offsetof(struct hp_source_cpu, record_flags), 12);
	assert_int_equal(offsetof(struct hp_source_cpu, stage), 56);
	assert_int_equal(offsetof(struct hp_source_cpu, emitted), 64);
	assert_int_equal(offsetof(struct hp_source_cpu, staged), 128);
	assert_int_equal(sizeof(struct hp_source_cpu) % 64, 0);
	assert_int_equal(sizeof(struct hp_source_cpu), 128 + HP_STAGE_RECORDS * 64);
	assert_int_equal(sizeof(struct hp_source_config), 16);
}

static void test_ring_record_events(void **state)
{
	(void)state;
	/* A ring record is a stage: whole records back to back. */
	assert_int_equal(hp_ring_record_events(sizeof(struct hp_event)), 1);
	assert_int_equal(hp_ring_record_events(HP_STAGE_RECORDS * sizeof(struct hp_event)),
			 HP_STAGE_RECORDS);
	assert_int_equal(hp_ring_record_events(0), -EMSGSIZE);
	assert_int_equal(hp_ring_record_events(8), -EMSGSIZE);
	assert_int_equal(hp_ring_record_events(sizeof(struct hp_event) - 1), -EMSGSIZE);
	assert_int_equal(hp_ring_record_events(sizeof(struct hp_event) + 16), -EMSGSIZE);
}

static struct hp_source_cpu *staged_entry(__u64 gen, __u32 n)
{
	struct hp_source_cpu *cpu = calloc(1, sizeof(*cpu));

	assert_non_null(cpu);
	for (__u32 i = 0; i < HP_STAGE_RECORDS; i++)
		cpu->staged[i].addr = 0x1000 * (i + 1);
	cpu->stage = gen << 32 | n;
	return cpu;
}

static void test_stage_take(void **state)
{
	struct hp_source_cpu *cpu = staged_entry(5, 3);
	struct hp_event out[HP_STAGE_RECORDS];

	(void)state;
	memset(out, 0, sizeof(out));
	assert_int_equal(hp_stage_take(cpu, cpu->stage, out), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(out[i].addr, 0x1000 * (i + 1));
	assert_int_equal(out[3].addr, 0); /* not staged: not copied */
	assert_true(cpu->stage == 6ULL << 32); /* next generation, empty */
	assert_int_equal(cpu->taken, 3);
	/* Empty now: nothing to take, nothing counted. */
	assert_int_equal(hp_stage_take(cpu, cpu->stage, out), 0);
	assert_int_equal(cpu->taken, 3);
	free(cpu);
}

static void test_stage_take_loses_race(void **state)
{
	struct hp_source_cpu *cpu = staged_entry(7, 4);
	struct hp_event out[HP_STAGE_RECORDS];
	__u64 seen = cpu->stage;

	(void)state;
	/* The producer added a record after the consumer read the stage. */
	cpu->stage++;
	assert_int_equal(hp_stage_take(cpu, seen, out), 0);
	assert_true(cpu->stage == (7ULL << 32 | 5));
	assert_int_equal(cpu->taken, 0);
	/* The producer sent the stage and refilled it to the same count (ABA). */
	cpu->stage = 8ULL << 32 | 4;
	assert_int_equal(hp_stage_take(cpu, 7ULL << 32 | 4, out), 0);
	/* A corrupt count is left alone. */
	cpu->stage = 9ULL << 32 | (HP_STAGE_RECORDS + 1);
	assert_int_equal(hp_stage_take(cpu, cpu->stage, out), 0);
	assert_int_equal(cpu->taken, 0);
	free(cpu);
}

/*
 * The producer's side of the protocol as bpf/hp_source.bpf.h runs it
 * (hp_event_reserve, hp_event_submit, hp_stage_send), racing a consumer
 * that takes whatever is staged: every record must arrive exactly once.
 */
#define RACE_RECORDS 200000
#define RACE_RECORDS_MAX (16 * RACE_RECORDS)
#define RACE_TAKES 100

struct race {
	struct hp_source_cpu *cpu;
	unsigned char *arrived; /* per record: how many times it arrived */
	bool started, done;
	__u64 takes; /* the consumer's successful takes */
	__u64 records, sent_stages, requeued;
};

static void race_arrive(struct race *r, const struct hp_event *ev)
{
	__atomic_fetch_add(&r->arrived[ev->addr], 1, __ATOMIC_RELAXED);
}

static void *race_producer(void *arg)
{
	struct race *r = arg;
	struct hp_source_cpu *cpu = r->cpu;
	__u64 i;

	while (!__atomic_load_n(&r->started, __ATOMIC_ACQUIRE))
		;
	/* Until the consumer has won the race a few times, however it was scheduled. */
	for (i = 0; i < RACE_RECORDS_MAX; i++) {
		if (i >= RACE_RECORDS && __atomic_load_n(&r->takes, __ATOMIC_RELAXED) >= RACE_TAKES)
			break;
		/*
		 * On a machine whose other CPU is busy the two threads may share
		 * one: give the consumer its turns, or it never races at all.
		 */
		if (!(i % 4096) && __atomic_load_n(&r->takes, __ATOMIC_RELAXED) < RACE_TAKES)
			sched_yield();
		__u64 stage = __atomic_load_n(&cpu->stage, __ATOMIC_RELAXED);
		__u32 n = HP_STAGE_COUNT(stage);
		__u64 next = n + 1 < HP_STAGE_RECORDS ? stage + 1 : HP_STAGE_NEXT_GEN(stage);
		struct hp_event *ev = &cpu->staged[n];

		assert_true(n < HP_STAGE_RECORDS);
		ev->addr = i;
		if (__atomic_compare_exchange_n(&cpu->stage, &stage, next, false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST)) {
			if (n + 1 == HP_STAGE_RECORDS) {
				for (int k = 0; k < HP_STAGE_RECORDS; k++)
					race_arrive(r, &cpu->staged[k]);
				r->sent_stages++;
			}
			continue;
		}
		/* Taken meanwhile: stage now holds (gen + 1, 0), and ev is not slot 0. */
		assert_int_equal(HP_STAGE_COUNT(stage), 0);
		assert_true(n > 0);
		cpu->staged[0] = *ev;
		assert_true(__atomic_compare_exchange_n(&cpu->stage, &stage, stage + 1, false,
							__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
		r->requeued++;
	}
	r->records = i;
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void test_stage_take_races_producer(void **state)
{
	struct race r = { .cpu = staged_entry(0, 0) };
	struct hp_event out[HP_STAGE_RECORDS];
	__u64 taken = 0, wrong = 0, cpu_taken;
	pthread_t producer;
	__u32 left;

	(void)state;
	r.arrived = calloc(RACE_RECORDS_MAX, 1);
	assert_non_null(r.arrived);
	assert_int_equal(pthread_create(&producer, NULL, race_producer, &r), 0);
	__atomic_store_n(&r.started, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)) {
		__u32 n =
			hp_stage_take(r.cpu, __atomic_load_n(&r.cpu->stage, __ATOMIC_ACQUIRE), out);

		for (__u32 i = 0; i < n; i++)
			race_arrive(&r, &out[i]);
		if (n)
			__atomic_fetch_add(&r.takes, 1, __ATOMIC_RELAXED);
		taken += n;
	}
	assert_int_equal(pthread_join(producer, NULL), 0);
	/* The producer has stopped: what is left is taken, as at detach. */
	left = hp_stage_take(r.cpu, r.cpu->stage, out);
	for (__u32 i = 0; i < left; i++)
		race_arrive(&r, &out[i]);
	taken += left;
	for (__u64 i = 0; i < r.records; i++) {
		if (r.arrived[i] != 1 && !wrong++)
			printf("  record %llu arrived %u times\n", (unsigned long long)i,
			       r.arrived[i]);
	}
	printf("  %llu records: %llu takes of %llu, %llu stages sent, %llu requeued, "
	       "%llu arrived other than once\n",
	       (unsigned long long)r.records, (unsigned long long)r.takes,
	       (unsigned long long)taken, (unsigned long long)r.sent_stages,
	       (unsigned long long)r.requeued, (unsigned long long)wrong);
	cpu_taken = r.cpu->taken;
	free(r.arrived);
	free(r.cpu);
	assert_int_equal(wrong, 0);
	assert_true(r.takes >= RACE_TAKES); /* the race did happen */
	assert_int_equal(cpu_taken, taken);
	assert_int_equal(r.sent_stages * HP_STAGE_RECORDS + taken, r.records);
}

static void test_ring_bytes(void **state)
{
	(void)state;
	assert_true(hp_ring_bytes_valid(4096, 4096));
	assert_true(hp_ring_bytes_valid(1 << 20, 4096));
	assert_true(hp_ring_bytes_valid(HP_TRANSPORT_RING_BYTES_DEFAULT, 4096));
	assert_true(hp_ring_bytes_valid(1ULL << 31, 4096));
	assert_false(hp_ring_bytes_valid(0, 4096));
	assert_false(hp_ring_bytes_valid(2048, 4096)); /* below a page */
	assert_false(hp_ring_bytes_valid(3 * 4096, 4096)); /* not a power of two */
	assert_false(hp_ring_bytes_valid(4096, 16384)); /* not a multiple of a 16 KiB page */
	assert_true(hp_ring_bytes_valid(65536, 16384));
	assert_false(hp_ring_bytes_valid(1ULL << 32, 4096)); /* beyond what the kernel takes */
	assert_false(hp_ring_bytes_valid(4096, 0));
}

static void test_wakeup_mask(void **state)
{
	(void)state;
	/* 1 MiB: 1016 stages of 1032 bytes, 1/16 is 63: every 32. */
	assert_int_equal(hp_ring_wakeup_mask(1 << 20), 31);
	/* 64 KiB: 63 stages, 1/16 is 3: every 2. */
	assert_int_equal(hp_ring_wakeup_mask(64 << 10), 1);
	/* Under 32 stages: every stage. */
	assert_int_equal(hp_ring_wakeup_mask(4096), 0);
	assert_int_equal(hp_ring_wakeup_mask(0), 0);
	/* 2 GiB: 2080899 stages, 1/16 is 130056: every 2^16. */
	assert_int_equal(hp_ring_wakeup_mask(1U << 31), (1 << 16) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_layout),
		cmocka_unit_test(test_ring_record_events),
		cmocka_unit_test(test_stage_take),
		cmocka_unit_test(test_stage_take_loses_race),
		cmocka_unit_test(test_stage_take_races_producer),
		cmocka_unit_test(test_ring_bytes),
		cmocka_unit_test(test_wakeup_mask),
	};

	return cmocka_run_group_tests_name("transport", tests, NULL, NULL);
}
