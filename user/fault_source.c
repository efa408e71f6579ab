// SPDX-License-Identifier: GPL-2.0
/* The `fault` hotness source: lifecycle of bpf/fault.bpf.c and access to its maps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fault.skel.h"
#include "fault_source.h"

#define TRACEPOINT_CATEGORY "exceptions"
#define TRACEPOINT_NAME "page_fault_user"

struct hp_fault_source {
	struct fault *skel;
	enum hp_fault_attach attach;
};

static const char *const attach_names[] = {
	[HP_FAULT_ATTACH_AUTO] = "auto",
	[HP_FAULT_ATTACH_TRACEPOINT] = "tracepoint",
	[HP_FAULT_ATTACH_TP_BTF] = "tp_btf",
};

int hp_fault_attach_parse(const char *name, enum hp_fault_attach *attach)
{
	for (size_t i = 0; i < sizeof(attach_names) / sizeof(attach_names[0]); i++) {
		if (!strcmp(name, attach_names[i])) {
			*attach = (enum hp_fault_attach)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *hp_fault_attach_name(enum hp_fault_attach attach)
{
	if ((size_t)attach >= sizeof(attach_names) / sizeof(attach_names[0]))
		return "?";
	return attach_names[attach];
}

static int tracefs_has_tracepoint(void)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[256];

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/events/%s/%s/id", roots[i], TRACEPOINT_CATEGORY,
			 TRACEPOINT_NAME);
		if (!access(path, R_OK))
			return 1;
	}
	return 0;
}

static int kernel_btf_has_tracepoint(void)
{
	return libbpf_find_vmlinux_btf_id(TRACEPOINT_NAME, BPF_TRACE_RAW_TP) > 0;
}

int hp_fault_attach_resolve(enum hp_fault_attach wanted, enum hp_fault_attach *chosen, char *err,
			    size_t err_len)
{
	switch (wanted) {
	case HP_FAULT_ATTACH_AUTO:
		if (kernel_btf_has_tracepoint()) {
			*chosen = HP_FAULT_ATTACH_TP_BTF;
			return 0;
		}
		if (tracefs_has_tracepoint()) {
			*chosen = HP_FAULT_ATTACH_TRACEPOINT;
			return 0;
		}
		snprintf(
			err, err_len,
			"tracepoint " TRACEPOINT_CATEGORY ":" TRACEPOINT_NAME
			" not found (neither in kernel BTF nor in tracefs; it exists on x86 only)");
		return -ENOENT;
	case HP_FAULT_ATTACH_TP_BTF:
		if (!kernel_btf_has_tracepoint()) {
			snprintf(
				err, err_len,
				"tp_btf/" TRACEPOINT_NAME
				" unavailable: kernel BTF (/sys/kernel/btf/vmlinux) lacks the tracepoint");
			return -ENOENT;
		}
		break;
	case HP_FAULT_ATTACH_TRACEPOINT:
		if (!tracefs_has_tracepoint()) {
			snprintf(
				err, err_len,
				"tracepoint " TRACEPOINT_CATEGORY ":" TRACEPOINT_NAME
				" not found in tracefs (is tracefs mounted? it exists on x86 only)");
			return -ENOENT;
		}
		break;
	default:
		snprintf(err, err_len, "unknown attach type %d", (int)wanted);
		return -EINVAL;
	}
	*chosen = wanted;
	return 0;
}

static void describe_error(char *err, size_t err_len, const char *what, int error)
{
	if (error == -EPERM || error == -EACCES)
		snprintf(err, err_len, "%s: %s (run as root: needs CAP_BPF and CAP_PERFMON)", what,
			 strerror(-error));
	else
		snprintf(err, err_len, "%s: %s (libbpf's messages, shown with -v, say more)", what,
			 strerror(-error));
}

int hp_fault_source_start(const struct hp_fault_source_opts *opts, struct hp_fault_source **out,
			  char *err, size_t err_len)
{
	struct hp_fault_source *src;
	struct bpf_program *prog, *unused;
	struct bpf_link *link;
	long page_size = sysconf(_SC_PAGESIZE);
	__u32 page_shift = 0;
	int ret;

	*out = NULL;
	src = calloc(1, sizeof(*src));
	if (!src) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = hp_fault_attach_resolve(opts->attach, &src->attach, err, err_len);
	if (ret)
		goto fail;

	src->skel = fault__open();
	if (!src->skel) {
		ret = -errno;
		describe_error(err, err_len, "opening the BPF object", ret);
		goto fail;
	}

	while (page_size > 1 && (1L << page_shift) < page_size)
		page_shift++;
	src->skel->rodata->target_tgid = opts->tgid;
	src->skel->rodata->page_shift = page_shift;
	ret = bpf_map__set_max_entries(src->skel->maps.hp_fault_pages,
				       opts->max_pages ? opts->max_pages : HP_FAULT_PAGES_DEFAULT);
	if (ret) {
		describe_error(err, err_len, "sizing hp_fault_pages", ret);
		goto fail;
	}

	if (src->attach == HP_FAULT_ATTACH_TP_BTF) {
		prog = src->skel->progs.hp_fault_btf;
		unused = src->skel->progs.hp_fault_tp;
	} else {
		prog = src->skel->progs.hp_fault_tp;
		unused = src->skel->progs.hp_fault_btf;
	}
	bpf_program__set_autoload(unused, false);

	ret = fault__load(src->skel);
	if (ret) {
		describe_error(err, err_len, "loading the BPF programs", ret);
		goto fail;
	}

	link = bpf_program__attach(prog);
	if (!link) {
		ret = -errno;
		describe_error(err, err_len,
			       "attaching to " TRACEPOINT_CATEGORY ":" TRACEPOINT_NAME, ret);
		goto fail;
	}
	if (src->attach == HP_FAULT_ATTACH_TP_BTF)
		src->skel->links.hp_fault_btf = link;
	else
		src->skel->links.hp_fault_tp = link;

	*out = src;
	return 0;
fail:
	hp_fault_source_destroy(src);
	return ret;
}

void hp_fault_source_destroy(struct hp_fault_source *src)
{
	if (!src)
		return;
	fault__destroy(src->skel);
	free(src);
}

enum hp_fault_attach hp_fault_source_attach(const struct hp_fault_source *src)
{
	return src->attach;
}

__u32 hp_fault_source_max_pages(const struct hp_fault_source *src)
{
	return bpf_map__max_entries(src->skel->maps.hp_fault_pages);
}

int hp_fault_source_read_stats(const struct hp_fault_source *src, struct hp_fault_stats *stats)
{
	int ncpus = libbpf_num_possible_cpus();
	struct hp_fault_stats *percpu;
	__u32 zero = 0;
	int ret = 0;

	memset(stats, 0, sizeof(*stats));
	if (ncpus < 0)
		return ncpus;
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map__lookup_elem(src->skel->maps.hp_fault_stats, &zero, sizeof(zero), percpu,
				 sizeof(*percpu) * (size_t)ncpus, 0)) {
		ret = -errno;
		goto out;
	}
	for (int cpu = 0; cpu < ncpus; cpu++) {
		stats->seen += percpu[cpu].seen;
		stats->counted += percpu[cpu].counted;
		stats->new_pages += percpu[cpu].new_pages;
		stats->dropped += percpu[cpu].dropped;
	}
out:
	free(percpu);
	return ret;
}

int hp_fault_source_for_each_page(const struct hp_fault_source *src, hp_fault_page_fn fn, void *ctx)
{
	enum { BATCH = 1024 };
	/* The hash map's batch cursor is a bucket index; room for a key keeps it generic. */
	struct hp_fault_key cursor_in = { 0 }, cursor_out = { 0 };
	int fd = bpf_map__fd(src->skel->maps.hp_fault_pages);
	struct hp_fault_key *keys = calloc(BATCH, sizeof(*keys));
	struct hp_fault_val *vals = calloc(BATCH, sizeof(*vals));
	void *in = NULL;
	int ret = -ENOMEM;

	if (!keys || !vals)
		goto out;
	for (;;) {
		__u32 count = BATCH;
		int done;

		ret = bpf_map_lookup_batch(fd, in, &cursor_out, keys, vals, &count, NULL);
		done = ret && errno == ENOENT; /* ENOENT: the last batch, possibly empty */
		if (ret && !done) {
			ret = -errno;
			goto out;
		}
		for (__u32 i = 0; i < count; i++) {
			ret = fn(&keys[i], &vals[i], ctx);
			if (ret)
				goto out;
		}
		if (done) {
			ret = 0;
			goto out;
		}
		cursor_in = cursor_out;
		in = &cursor_in;
	}
out:
	free(keys);
	free(vals);
	return ret;
}

void hp_fault_source_comm(const struct hp_fault_source *src, __u32 tgid, char *buf, size_t len)
{
	struct hp_fault_comm name;
	char path[64];
	FILE *file;

	if (!bpf_map__lookup_elem(src->skel->maps.hp_fault_comms, &tgid, sizeof(tgid), &name,
				  sizeof(name), 0)) {
		name.comm[sizeof(name.comm) - 1] = '\0';
		snprintf(buf, len, "%s", name.comm);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%u/comm", tgid);
	file = fopen(path, "r");
	if (file) {
		if (fgets(buf, (int)len, file)) {
			buf[strcspn(buf, "\n")] = '\0';
			fclose(file);
			return;
		}
		fclose(file);
	}
	snprintf(buf, len, "?");
}
