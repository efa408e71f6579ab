// SPDX-License-Identifier: GPL-2.0
/* The `fault` hotness source: attach point, lifecycle of bpf/fault.bpf.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fault.skel.h"
#include "fault_source.h"
#include "params.h"
#include "tracefs.h"
#include "transport.h"

#define TRACEPOINT_CATEGORY "exceptions"
#define TRACEPOINT_NAME "page_fault_user"

struct hp_source_instance {
	struct fault *skel;
	enum hp_fault_attach attach;
	struct hp_transport *transport; /* takes what the stages hold at the end */
	char note[288]; /* why AUTO fell back to the classic tracepoint */
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

const char *hp_fault_attach_point(enum hp_fault_attach attach)
{
	switch (attach) {
	case HP_FAULT_ATTACH_TP_BTF:
		return "tp_btf/" TRACEPOINT_NAME;
	case HP_FAULT_ATTACH_TRACEPOINT:
		return "tracepoint/" TRACEPOINT_CATEGORY "/" TRACEPOINT_NAME;
	default:
		return "?";
	}
}

int hp_fault_parse_param(const char *param, enum hp_fault_attach *attach, char *err, size_t err_len)
{
	char key[32], value[32];
	int ret;

	*attach = HP_FAULT_ATTACH_AUTO;
	while ((ret = hp_param_next(&param, key, sizeof(key), value, sizeof(value), err, err_len)) >
	       0) {
		if (strcmp(key, "attach") != 0) {
			snprintf(err, err_len, "fault: unknown parameter '%s' (known: attach)",
				 key);
			return -EINVAL;
		}
		if (hp_fault_attach_parse(value, attach)) {
			snprintf(err, err_len, "fault: attach=%s: use auto, tracepoint or tp_btf",
				 value);
			return -EINVAL;
		}
	}
	return ret;
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
		if (hp_tracefs_has_event(TRACEPOINT_CATEGORY, TRACEPOINT_NAME)) {
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
		if (!hp_tracefs_has_event(TRACEPOINT_CATEGORY, TRACEPOINT_NAME)) {
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
		snprintf(err, err_len, "%s: %s (needs root: CAP_BPF and CAP_PERFMON)", what,
			 strerror(-error));
	else
		snprintf(err, err_len, "%s: %s", what, strerror(-error));
}

/* One attempt with one attach type; on failure everything is undone. */
static int start_one(struct hp_transport *transport, const struct hp_source_opts *opts,
		     enum hp_fault_attach attach, struct hp_source_instance **out, char *err,
		     size_t err_len)
{
	struct hp_source_instance *src;
	struct bpf_program *prog, *unused;
	struct bpf_link *link;
	char what[96];
	int ret;

	src = calloc(1, sizeof(*src));
	if (!src) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	src->attach = attach;
	src->skel = fault__open();
	if (!src->skel) {
		ret = -errno;
		describe_error(err, err_len, "opening the BPF object", ret);
		goto fail;
	}
	src->skel->rodata->default_sample_period =
		opts->sample_period ? opts->sample_period : HP_FAULT_SAMPLE_PERIOD_DEFAULT;
	ret = hp_source_prepare(src->skel->obj, transport);
	if (ret) {
		describe_error(err, err_len, "sharing the transport's rings", ret);
		goto fail;
	}
	if (attach == HP_FAULT_ATTACH_TP_BTF) {
		prog = src->skel->progs.hp_fault_btf;
		unused = src->skel->progs.hp_fault_tp;
	} else {
		prog = src->skel->progs.hp_fault_tp;
		unused = src->skel->progs.hp_fault_btf;
	}
	bpf_program__set_autoload(unused, false);
	ret = fault__load(src->skel);
	if (ret) {
		snprintf(what, sizeof(what), "loading %s", hp_fault_attach_point(attach));
		describe_error(err, err_len, what, ret);
		goto fail;
	}
	ret = hp_transport_stage_add(transport, src->skel->obj);
	if (ret) {
		describe_error(err, err_len, "mapping the stages", ret);
		goto fail;
	}
	src->transport = transport;
	/* Scope before attach: no event escapes the filter in between. */
	ret = hp_source_apply_scope(src->skel->obj, opts);
	if (ret) {
		describe_error(err, err_len, "applying the scope", ret);
		goto fail;
	}
	link = bpf_program__attach(prog);
	if (!link) {
		ret = -errno;
		snprintf(what, sizeof(what), "attaching %s", hp_fault_attach_point(attach));
		describe_error(err, err_len, what, ret);
		goto fail;
	}
	if (attach == HP_FAULT_ATTACH_TP_BTF)
		src->skel->links.hp_fault_btf = link;
	else
		src->skel->links.hp_fault_tp = link;
	*out = src;
	return 0;
fail:
	hp_fault_source_stop(src);
	return ret;
}

int hp_fault_source_start(struct hp_transport *transport, const struct hp_source_opts *opts,
			  enum hp_fault_attach attach, struct hp_source_instance **out, char *err,
			  size_t err_len)
{
	enum hp_fault_attach chosen;
	char first[256];
	int ret;

	*out = NULL;
	ret = hp_source_opts_check(opts, err, err_len);
	if (ret)
		return ret;
	ret = hp_fault_attach_resolve(attach, &chosen, err, err_len);
	if (ret)
		return ret;
	ret = start_one(transport, opts, chosen, out, err, err_len);
	if (!ret || attach != HP_FAULT_ATTACH_AUTO || chosen != HP_FAULT_ATTACH_TP_BTF ||
	    !hp_tracefs_has_event(TRACEPOINT_CATEGORY, TRACEPOINT_NAME))
		return ret;
	/* tp_btf refused (e.g. no trampolines for this program type here): the classic one. */
	snprintf(first, sizeof(first), "%s", err);
	ret = start_one(transport, opts, HP_FAULT_ATTACH_TRACEPOINT, out, err, err_len);
	if (ret) {
		size_t len = strlen(err);

		snprintf(err + len, err_len - len, "; before that, %s", first);
		return ret;
	}
	snprintf((*out)->note, sizeof((*out)->note), "tp_btf refused: %s", first);
	return 0;
}

void hp_fault_source_stop(struct hp_source_instance *src)
{
	if (!src)
		return;
	if (src->skel) {
		/* Detached first: then the stages hold their last records. */
		bpf_link__destroy(src->skel->links.hp_fault_btf);
		bpf_link__destroy(src->skel->links.hp_fault_tp);
		src->skel->links.hp_fault_btf = NULL;
		src->skel->links.hp_fault_tp = NULL;
		hp_transport_stage_remove(src->transport, src->skel->obj);
	}
	fault__destroy(src->skel);
	free(src);
}

enum hp_fault_attach hp_fault_source_attach(const struct hp_source_instance *src)
{
	return src->attach;
}

const char *hp_fault_source_note(const struct hp_source_instance *src)
{
	return src->note;
}

static struct bpf_object *fault_object(struct hp_source_instance *src)
{
	return src ? src->skel->obj : NULL;
}

static int fault_start(struct hp_transport *transport, const struct hp_source_opts *opts,
		       struct hp_source_instance **out, char *err, size_t err_len)
{
	enum hp_fault_attach attach;
	int ret;

	*out = NULL;
	ret = hp_fault_parse_param(opts->param, &attach, err, err_len);
	if (!ret)
		ret = hp_fault_source_start(transport, opts, attach, out, err, err_len);
	return ret;
}

/*
 * Available when a trial run works: the attach point resolves, and the
 * program loads and attaches (which needs the privileges) into a small
 * transport of its own, all undone before returning.
 */
static void fault_probe(struct hp_source_probe *result)
{
	struct hp_transport_opts topts = { .ring_bytes = (__u32)sysconf(_SC_PAGESIZE) };
	struct hp_source_opts opts = { 0 };
	struct hp_transport *transport = NULL;
	struct hp_source_instance *src = NULL;
	int ret;

	*result = (struct hp_source_probe){ .available = false };
	ret = hp_transport_new(&topts, &transport, result->why, sizeof(result->why));
	if (!ret)
		ret = hp_fault_source_start(transport, &opts, HP_FAULT_ATTACH_AUTO, &src,
					    result->why, sizeof(result->why));
	if (!ret && src) {
		result->available = true;
		snprintf(
			result->not_default, sizeof(result->not_default),
			"most page faults are allocations, not accesses; NUMA hint faults come from numa-hint");
		snprintf(result->how, sizeof(result->how), "%s, default 1 in %u faults",
			 hp_fault_attach_point(src->attach), HP_FAULT_SAMPLE_PERIOD_DEFAULT);
		if (src->note[0])
			snprintf(result->why, sizeof(result->why), "%.*s",
				 (int)sizeof(result->why) - 1, src->note);
		else if (src->attach == HP_FAULT_ATTACH_TRACEPOINT)
			snprintf(result->why, sizeof(result->why),
				 "kernel BTF lacks the tracepoint: no tp_btf");
		else
			result->why[0] = '\0';
	}
	hp_fault_source_stop(src);
	hp_transport_free(transport);
}

const struct hp_source_ops hp_source_fault = {
	.name = "fault",
	.id = HP_SRC_FAULT,
	.probe = fault_probe,
	.start = fault_start,
	.stop = hp_fault_source_stop,
	.object = fault_object,
};
