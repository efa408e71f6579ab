/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The `fault` hotness source in userspace: configures, loads and attaches
 * bpf/fault.bpf.c, and reads its maps.
 */
#ifndef HOTPAGE_FAULT_SOURCE_H
#define HOTPAGE_FAULT_SOURCE_H

#include <stddef.h>
#include "hotpage/fault.h"

enum hp_fault_attach {
	HP_FAULT_ATTACH_AUTO, /* tp_btf where the kernel's BTF has it, else tracepoint */
	HP_FAULT_ATTACH_TRACEPOINT, /* tracepoint/exceptions/page_fault_user */
	HP_FAULT_ATTACH_TP_BTF, /* tp_btf/page_fault_user */
};

struct hp_fault_source_opts {
	__u32 tgid; /* count only this process; 0: all */
	__u32 max_pages; /* capacity of hp_fault_pages; 0: HP_FAULT_PAGES_DEFAULT */
	enum hp_fault_attach attach;
};

struct hp_fault_source;

/* Called for each (page, count) entry; a non-zero return stops the walk and is returned. */
typedef int (*hp_fault_page_fn)(const struct hp_fault_key *key, const struct hp_fault_val *val,
				void *ctx);

/* "auto", "tracepoint" or "tp_btf" <-> enum hp_fault_attach; parse returns 0 or -EINVAL. */
int hp_fault_attach_parse(const char *name, enum hp_fault_attach *attach);
const char *hp_fault_attach_name(enum hp_fault_attach attach);

/*
 * The attach type to use for wanted (AUTO: tp_btf where the kernel's BTF has
 * the tracepoint, else tracepoint), checked to exist on the running kernel.
 * Returns 0, or -ENOENT with the reason in err.
 */
int hp_fault_attach_resolve(enum hp_fault_attach wanted, enum hp_fault_attach *chosen, char *err,
			    size_t err_len);

/*
 * Open, configure, load and attach the source. Returns 0 and sets *out, or a
 * negative errno and writes the reason to err (e.g. -ENOENT: tracepoint
 * missing, -EPERM: not privileged).
 */
int hp_fault_source_start(const struct hp_fault_source_opts *opts, struct hp_fault_source **out,
			  char *err, size_t err_len);
/* Detach and free; NULL is allowed. */
void hp_fault_source_destroy(struct hp_fault_source *src);

/* The attach type in use (never AUTO) and the capacity of the page map. */
enum hp_fault_attach hp_fault_source_attach(const struct hp_fault_source *src);
__u32 hp_fault_source_max_pages(const struct hp_fault_source *src);

/* Counters summed over the CPUs. Returns 0 or a negative errno. */
int hp_fault_source_read_stats(const struct hp_fault_source *src, struct hp_fault_stats *stats);

/* Walk hp_fault_pages (a snapshot per batch; entries may change meanwhile). */
int hp_fault_source_for_each_page(const struct hp_fault_source *src, hp_fault_page_fn fn,
				  void *ctx);

/*
 * Name of process tgid: from hp_fault_comms, else /proc/<tgid>/comm, else "?".
 * Always NUL-terminates buf (len > 0).
 */
void hp_fault_source_comm(const struct hp_fault_source *src, __u32 tgid, char *buf, size_t len);

#endif /* HOTPAGE_FAULT_SOURCE_H */
