// SPDX-License-Identifier: GPL-2.0
/*
 * The `numa-hint` probe on the host tells the truth. What it should say is
 * worked out here independently: the hooked function from the kernel's
 * BTF, a bare fentry program loaded and attached by hand (as bcc's
 * libbpf-tools check), the kprobe PMU and tracefs's kprobe_events. Where
 * neither fentry nor kprobes work (as on hosts that refuse trampolines and
 * lack kprobes), the reason must name both exactly, start() must fail with
 * it, and no program of the source may stay loaded. Where one works, the
 * probe must choose it, and start() and stop() must work. (Hint faults
 * themselves are checked in the guests, which have two nodes.)
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "hp_collect.h"
#include "hp_test.h"
#include "numa_hint_source.h"
#include "tracefs.h"

/* Why the last start of a source failed. */
static char start_err[512];

static const char *hooked_function(void)
{
	static const char *const names[] = { "numa_migrate_check", "numa_migrate_prep" };
	struct btf *btf = btf__load_vmlinux_btf();
	const char *found = NULL;

	hp_check(btf, "no kernel BTF");
	for (size_t i = 0; !found && i < sizeof(names) / sizeof(names[0]); i++)
		if (btf__find_by_name_kind(btf, names[i], BTF_KIND_FUNC) > 0)
			found = names[i];
	btf__free(btf);
	return found;
}

/* 0 when a bare fentry program on @func loads and attaches, else -errno. */
static int bare_fentry(const char *func)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int id = libbpf_find_vmlinux_btf_id(func, BPF_TRACE_FENTRY);
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY,
		    .attach_btf_id = (__u32)id);
	int prog, link, ret = 0;

	hp_check(id > 0, "%s not in BTF", func);
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "hp_test_fentry", "GPL", insns, 2, &opts);
	if (prog < 0)
		return -errno;
	link = bpf_raw_tracepoint_open(NULL, prog);
	if (link < 0)
		ret = -errno;
	else
		close(link);
	close(prog);
	return ret;
}

/* Programs of the source loaded anywhere in the kernel. */
static int source_programs_loaded(void)
{
	__u32 id = 0;
	int n = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    (!strcmp(info.name, "hp_numa_fentry") || !strcmp(info.name, "hp_numa_kprobe")))
			n++;
		close(fd);
	}
	return n;
}

static void ignore(const struct hp_event *ev, void *ctx)
{
	(void)ev;
	(void)ctx;
}

int main(void)
{
	const char *tracefs, *func;
	struct hp_source_probe probe;
	struct hp_source_instance *src = NULL;
	struct hp_collect coll;
	char path[256], want[256], e[32];
	bool pmu, events;
	int fentry, ret, before;

	hp_require_root();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access("/proc/sys/kernel/numa_balancing", F_OK))
		hp_skip("kernel without NUMA balancing: nothing for numa-hint to hook");
	func = hooked_function();
	hp_check(func, "neither numa_migrate_check nor numa_migrate_prep in the kernel's BTF");
	fentry = bare_fentry(func);
	pmu = !access("/sys/bus/event_source/devices/kprobe", F_OK);
	tracefs = hp_tracefs_dir(true);
	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs ? tracefs : "/nonexistent");
	events = !access(path, F_OK);
	printf("host: %s; bare fentry: %s; kprobe PMU %s; kprobe_events %s\n", func,
	       fentry ? hp_errno_name(fentry, e, sizeof(e)) : "attached", pmu ? "yes" : "no",
	       events ? "yes" : "no");

	before = source_programs_loaded();
	hp_source_numa_hint.probe(&probe);
	printf("probe: available %d, how '%s', why '%s'\n", probe.available, probe.how, probe.why);
	hp_check(source_programs_loaded() == before, "the probe left programs loaded");

	if (fentry && !pmu && !events) {
		snprintf(
			want, sizeof(want),
			"numa-hint: fentry refused (%s), kprobes not built in (no kprobe PMU in /sys/bus/event_source/devices, no kprobe_events in tracefs)",
			hp_errno_name(fentry, e, sizeof(e)));
		hp_check(!probe.available && !strcmp(probe.why, want),
			 "probe why '%s', expected '%s'", probe.why, want);
		hp_check(!hp_collect_open(&coll, ignore, NULL), "opening the ring transport");
		ret = hp_source_numa_hint.start(coll.transport, NULL, &src, start_err,
						sizeof(start_err));
		hp_collect_close(&coll);
		hp_check(ret == fentry && !src && !strcmp(start_err, want),
			 "start returned %d ('%s'), expected %d ('%s')", ret, start_err, fentry,
			 want);
		hp_check(source_programs_loaded() == before, "a failed start left programs loaded");
		printf("pass: numa-hint unavailable here, for the stated reason\n");
		return 0;
	}

	hp_check(probe.available, "fentry %d / kprobes present, yet: %s", fentry, probe.why);
	snprintf(want, sizeof(want), "%s/%s", fentry ? "kprobe" : "fentry", func);
	hp_check(!strncmp(probe.how, want, strlen(want)), "probe how '%s', expected %s...",
		 probe.how, want);
	hp_check(!hp_collect_open(&coll, ignore, NULL), "opening the ring transport");
	ret = hp_source_numa_hint.start(coll.transport, NULL, &src, start_err, sizeof(start_err));
	hp_check(!ret && src, "start: %s", start_err);
	hp_check(source_programs_loaded() == before + 1, "started: %d programs, expected %d",
		 source_programs_loaded(), before + 1);
	hp_source_numa_hint.stop(src);
	hp_collect_close(&coll);
	hp_check(source_programs_loaded() == before, "stop left programs loaded");
	printf("pass: numa-hint attaches with %s here\n", want);
	return 0;
}
