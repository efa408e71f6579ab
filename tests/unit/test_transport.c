// SPDX-License-Identifier: GPL-2.0
/* The transport's record checks and ring sizes (user/transport.c), and the record's layout. */
#include <errno.h>
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
	/* The hot half of an entry is one cache line; entries 128 bytes apart. */
	assert_int_equal(offsetof(struct hp_source_cpu, dropped), 64);
	assert_int_equal(sizeof(struct hp_source_cpu), 128);
	assert_int_equal(sizeof(struct hp_source_config), 16);
}

static void test_event_check_accepts_current_version(void **state)
{
	struct hp_event ev = { .version = HP_EVENT_VERSION };
	unsigned char longer[sizeof(ev) + 16];

	(void)state;
	assert_int_equal(hp_event_check(&ev, sizeof(ev)), 0);
	/* A later version may append fields: a longer record of this version passes. */
	memset(longer, 0xab, sizeof(longer));
	memcpy(longer, &ev, sizeof(ev));
	assert_int_equal(hp_event_check(longer, sizeof(longer)), 0);
}

static void test_event_check_rejects_short(void **state)
{
	struct hp_event ev = { .version = HP_EVENT_VERSION };

	(void)state;
	assert_int_equal(hp_event_check(&ev, sizeof(ev) - 1), -EMSGSIZE);
	assert_int_equal(hp_event_check(&ev, 8), -EMSGSIZE);
	assert_int_equal(hp_event_check(&ev, 0), -EMSGSIZE);
}

static void test_event_check_rejects_other_versions(void **state)
{
	struct hp_event ev = { 0 };

	(void)state;
	for (unsigned int v = 0; v < 256; v++) {
		ev.version = (__u8)v;
		assert_int_equal(hp_event_check(&ev, sizeof(ev)),
				 v == HP_EVENT_VERSION ? 0 : -EPROTO);
	}
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
	/* 1 MiB: 14563 records of 72 bytes, 1/16 is 910: every 512. */
	assert_int_equal(hp_ring_wakeup_mask(1 << 20), 511);
	/* 4 KiB: 56 records, 1/16 is 3: every 2. */
	assert_int_equal(hp_ring_wakeup_mask(4096), 1);
	/* Under 16 records: every record. */
	assert_int_equal(hp_ring_wakeup_mask(1024), 0);
	assert_int_equal(hp_ring_wakeup_mask(0), 0);
	/* 2 GiB: 29826161 records, 1/16 is 1864135: every 2^20. */
	assert_int_equal(hp_ring_wakeup_mask(1U << 31), (1 << 20) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_layout),
		cmocka_unit_test(test_event_check_accepts_current_version),
		cmocka_unit_test(test_event_check_rejects_short),
		cmocka_unit_test(test_event_check_rejects_other_versions),
		cmocka_unit_test(test_ring_bytes),
		cmocka_unit_test(test_wakeup_mask),
	};

	return cmocka_run_group_tests_name("transport", tests, NULL, NULL);
}
