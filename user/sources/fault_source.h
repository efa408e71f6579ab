/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The `fault` hotness source in userspace: chooses the attach point,
 * loads bpf/fault.bpf.c into the shared rings and attaches it.
 *
 * Parameter (struct hp_source_opts.param): "attach=auto|tracepoint|tp_btf".
 * Scope: tgids and cgroup both apply (the fault runs in the faulting task).
 */
#ifndef HOTPAGE_FAULT_SOURCE_H
#define HOTPAGE_FAULT_SOURCE_H

#include <stddef.h>

#include "source.h"

extern const struct hp_source_ops hp_source_fault;

/*
 * One fault in this many is emitted unless the options say otherwise.
 * Chosen with `make bench-sources` (see README): the tracepoint's cost when
 * it does not emit is a few tens of ns, emitting adds the ring's
 * reservation and the consumer's work.
 */
#define HP_FAULT_SAMPLE_PERIOD_DEFAULT 8U

enum hp_fault_attach {
	HP_FAULT_ATTACH_AUTO, /* tp_btf where the kernel's BTF has it, else tracepoint */
	HP_FAULT_ATTACH_TRACEPOINT, /* tracepoint/exceptions/page_fault_user */
	HP_FAULT_ATTACH_TP_BTF, /* tp_btf/page_fault_user */
};

/* "auto", "tracepoint" or "tp_btf" <-> enum hp_fault_attach; parse returns 0 or -EINVAL. */
int hp_fault_attach_parse(const char *name, enum hp_fault_attach *attach);
const char *hp_fault_attach_name(enum hp_fault_attach attach);
/* "tp_btf/page_fault_user" or "tracepoint/exceptions/page_fault_user". */
const char *hp_fault_attach_point(enum hp_fault_attach attach);

/* The source's parameter string (NULL or "": auto). 0, or -EINVAL with the reason in @err. */
int hp_fault_parse_param(const char *param, enum hp_fault_attach *attach, char *err,
			 size_t err_len);

/*
 * The attach type to use for wanted (AUTO: tp_btf where the kernel's BTF has
 * the tracepoint, else tracepoint), checked to exist on the running kernel.
 * Returns 0, or -ENOENT with the reason in err.
 */
int hp_fault_attach_resolve(enum hp_fault_attach wanted, enum hp_fault_attach *chosen, char *err,
			    size_t err_len);

/*
 * Load into @transport's rings, apply @opts (period, scope) and attach, by
 * @attach; AUTO falls back to the classic tracepoint when tp_btf is
 * refused. Returns 0 and sets *out, or a negative errno with the reason
 * in @err (-ENOENT: no tracepoint; -EPERM: not privileged).
 */
int hp_fault_source_start(struct hp_transport *transport, const struct hp_source_opts *opts,
			  enum hp_fault_attach attach, struct hp_source_instance **out, char *err,
			  size_t err_len);
/* Detach and free; NULL is allowed. */
void hp_fault_source_stop(struct hp_source_instance *src);
/* The attach type in use (never AUTO). */
enum hp_fault_attach hp_fault_source_attach(const struct hp_source_instance *src);
/* Why AUTO did not get tp_btf ("" when it did, or when asked for one type). */
const char *hp_fault_source_note(const struct hp_source_instance *src);

#endif /* HOTPAGE_FAULT_SOURCE_H */
