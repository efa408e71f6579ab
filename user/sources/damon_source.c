// SPDX-License-Identifier: GPL-2.0
/* The `damon` source: probing, the DAMON context, and bpf/damon.bpf.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "damon.skel.h"
#include "catf.h"
#include "damon_source.h"
#include "hotpage/damon.h"
#include "params.h"
#include "tracefs.h"
#include "transport.h"

#define TP_CATEGORY "damon"
#define TP_NAME "damon_aggregated"
#define NOT_TRIED 1

struct hp_source_instance {
	struct damon *skel;
	struct bpf_link *link;
	struct hp_transport *transport; /* takes what the stages hold at the end */
	bool managed; /* hotpage started the kdamond (else observes one) */
	struct hp_damon_ctx ctx;
};

/* ---------------------------------------------------------------- params */

int hp_damon_parse_params(const char *param, struct hp_damon_params *p, char *err, size_t err_len)
{
	char key[32], value[64];
	int ret;

	*p = (struct hp_damon_params){ .attrs = HP_DAMON_ATTRS_DEFAULT };
	while ((ret = hp_param_next(&param, key, sizeof(key), value, sizeof(value), err, err_len)) >
	       0) {
		__u64 v = 0;
		int bad = 0;

		if (!strcmp(key, "ops")) {
			if (!strcmp(value, "vaddr"))
				p->mode = HP_DAMON_MODE_VADDR;
			else if (!strcmp(value, "paddr"))
				p->mode = HP_DAMON_MODE_PADDR;
			else
				bad = 1;
		} else if (!strcmp(key, "nodes")) {
			bad = hp_parse_nodes(value, &p->node_mask);
		} else if (!strcmp(key, "kdamond")) {
			bad = hp_damon_parse_u64(value, &v) || v >= HP_DAMON_SCAN_MAX;
			p->mode = HP_DAMON_MODE_OBSERVE;
			p->kdamond = (unsigned int)v;
		} else if (!strcmp(key, "attach")) {
			if (!strcmp(value, "auto"))
				p->attach = HP_DAMON_ATTACH_AUTO;
			else if (!strcmp(value, "tp_btf"))
				p->attach = HP_DAMON_ATTACH_TP_BTF;
			else if (!strcmp(value, "tracepoint"))
				p->attach = HP_DAMON_ATTACH_TRACEPOINT;
			else
				bad = 1;
		} else if (!strcmp(key, "sample_us")) {
			bad = hp_damon_parse_u64(value, &p->attrs.sample_us);
		} else if (!strcmp(key, "aggr_us")) {
			bad = hp_damon_parse_u64(value, &p->attrs.aggr_us);
		} else if (!strcmp(key, "update_us")) {
			bad = hp_damon_parse_u64(value, &p->attrs.update_us);
		} else if (!strcmp(key, "min_regions")) {
			bad = hp_damon_parse_u64(value, &p->attrs.min_nr_regions);
		} else if (!strcmp(key, "max_regions")) {
			bad = hp_damon_parse_u64(value, &p->attrs.max_nr_regions);
		} else {
			snprintf(
				err, err_len,
				"damon: unknown parameter '%s' (known: ops, nodes, kdamond, attach, sample_us, aggr_us, update_us, min_regions, max_regions)",
				key);
			return -EINVAL;
		}
		if (bad) {
			snprintf(err, err_len, "damon: bad value '%s' for %s", value, key);
			return -EINVAL;
		}
	}
	return ret;
}

/* ---------------------------------------------------------------- verdict */

void hp_damon_decide(const struct hp_damon_facts *f, struct hp_source_probe *probe)
{
	char *why;
	size_t len = sizeof(probe->why);

	memset(probe, 0, sizeof(*probe));
	why = probe->why;
	if (!f->sysfs && !f->tp_btf && !f->tp_tracefs) {
		hp_catf(why, len,
			"damon: kernel without DAMON (no %s, no " TP_CATEGORY ":" TP_NAME
			" tracepoint: CONFIG_DAMON off)",
			HP_DAMON_ADMIN);
		return;
	}
	if (!f->tp_btf && !f->tp_tracefs) {
		hp_catf(why, len,
			"damon: no " TP_CATEGORY ":" TP_NAME
			" tracepoint (neither in the kernel's BTF nor in tracefs)");
		return;
	}
	if (f->attach_err && f->attach_err != NOT_TRIED) {
		hp_catf(why, len, "damon: %s refused: %s", f->attach_how, strerror(-f->attach_err));
		return;
	}
	if (!f->sysfs) {
		hp_catf(why, len,
			"damon: DAMON's sysfs interface is absent (no %s: CONFIG_DAMON_SYSFS off)",
			HP_DAMON_ADMIN);
		return;
	}
	if (f->admin_err) {
		hp_catf(why, len, "damon: %s", f->admin_why);
		return;
	}
	probe->available = true;
	hp_catf(probe->how, sizeof(probe->how), "%s; sysfs kdamond (paddr or vaddr)",
		f->attach_how);
	if (f->stale)
		hp_catf(probe->how, sizeof(probe->how), "; %u stale hotpage kdamond%s to remove",
			f->stale, f->stale == 1 ? "" : "s");
}

/* ---------------------------------------------------------------- BPF */

/* As libbpf resolves tp_btf/NAME: the typedef btf_trace_NAME (found quietly here). */
static bool btf_has_tracepoint(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool found;

	if (!btf)
		return false;
	found = btf__find_by_name_kind(btf, "btf_trace_" TP_NAME, BTF_KIND_TYPEDEF) > 0;
	btf__free(btf);
	return found;
}

static int resolve_attach(enum hp_damon_attach wanted, enum hp_damon_attach *chosen)
{
	bool btf = btf_has_tracepoint();
	bool tracefs = hp_tracefs_has_event(TP_CATEGORY, TP_NAME);

	switch (wanted) {
	case HP_DAMON_ATTACH_AUTO:
		*chosen = btf ? HP_DAMON_ATTACH_TP_BTF : HP_DAMON_ATTACH_TRACEPOINT;
		return btf || tracefs ? 0 : -ENOENT;
	case HP_DAMON_ATTACH_TP_BTF:
		*chosen = wanted;
		return btf ? 0 : -ENOENT;
	case HP_DAMON_ATTACH_TRACEPOINT:
		*chosen = wanted;
		return tracefs ? 0 : -ENOENT;
	}
	return -EINVAL;
}

static const char *attach_how(enum hp_damon_attach attach)
{
	return attach == HP_DAMON_ATTACH_TP_BTF ? "tp_btf/" TP_NAME
						: "tracepoint/" TP_CATEGORY "/" TP_NAME;
}

static void destroy_bpf(struct hp_source_instance *src)
{
	bpf_link__destroy(src->link);
	src->link = NULL;
	if (src->skel)
		hp_transport_stage_remove(src->transport, src->skel->obj);
	damon__destroy(src->skel);
	src->skel = NULL;
}

/* Open, load, scope, attach. @transport NULL: probing, with rings of its own. */
static int load(struct hp_source_instance *src, enum hp_damon_attach attach,
		struct hp_transport *transport, const struct hp_source_opts *opts)
{
	struct bpf_program *prog, *unused;
	long page_size = sysconf(_SC_PAGESIZE);
	__u32 shift = 0;
	int ret;

	src->skel = damon__open();
	if (!src->skel)
		return -errno;
	while (page_size > 1 && (1L << shift) < page_size)
		shift++;
	src->skel->rodata->page_shift = shift;
	if (opts && opts->sample_period)
		src->skel->rodata->default_sample_period = opts->sample_period;
	if (attach == HP_DAMON_ATTACH_TP_BTF) {
		prog = src->skel->progs.hp_damon_btf;
		unused = src->skel->progs.hp_damon_tp;
	} else {
		prog = src->skel->progs.hp_damon_tp;
		unused = src->skel->progs.hp_damon_btf;
	}
	bpf_program__set_autoload(unused, false);
	src->transport = transport;
	ret = hp_source_load_skeleton(src->skel->skeleton, transport, opts);
	if (ret)
		return ret;
	src->link = bpf_program__attach(prog);
	return src->link ? 0 : -errno;
}

/* ---------------------------------------------------------------- facts */

void hp_damon_gather(struct hp_damon_facts *f)
{
	enum hp_damon_attach attach;
	struct hp_damon_scan scan;
	struct hp_source_instance src = { 0 };
	libbpf_print_fn_t old;
	__u64 stale = 0;

	memset(f, 0, sizeof(*f));
	f->attach_err = NOT_TRIED;
	f->sysfs = !access(HP_DAMON_ADMIN, F_OK);
	f->tp_btf = btf_has_tracepoint();
	f->tp_tracefs = hp_tracefs_has_event(TP_CATEGORY, TP_NAME);
	if (!resolve_attach(HP_DAMON_ATTACH_AUTO, &attach)) {
		snprintf(f->attach_how, sizeof(f->attach_how), "%s", attach_how(attach));
		old = libbpf_set_print(hp_libbpf_quiet_print);
		f->attach_err = load(&src, attach, NULL, NULL);
		libbpf_set_print(old);
		destroy_bpf(&src);
	}
	if (!f->sysfs)
		return;
	f->admin_err = hp_damon_scan(HP_DAMON_ADMIN, &scan, f->admin_why, sizeof(f->admin_why));
	if (!f->admin_err)
		f->admin_err = hp_damon_classify(&scan, (long)getpid(), hp_damon_pid_alive, &stale,
						 f->admin_why, sizeof(f->admin_why));
	if (!f->admin_err)
		f->admin_err =
			hp_damon_exclusive(HP_DAMON_MODULES, f->admin_why, sizeof(f->admin_why));
	for (; stale; stale &= stale - 1)
		f->stale++;
}

/* ---------------------------------------------------------------- ops */

static void damon_probe(struct hp_source_probe *probe)
{
	struct hp_damon_facts facts;

	hp_damon_gather(&facts);
	hp_damon_decide(&facts, probe);
}

/* Tell the program which kdamond is ours and whose each vaddr target is. */
static int register_kdamond(struct hp_source_instance *src, int pid, unsigned int index, bool paddr,
			    const __u32 *pids, size_t nr_pids)
{
	struct hp_damon_kd kd = { .flags = paddr ? HP_DAMON_KD_PADDR : 0, .index = index };
	__u32 tid = (__u32)pid;
	int ret;

	ret = bpf_map__update_elem(src->skel->maps.hp_damon_kd, &tid, sizeof(tid), &kd, sizeof(kd),
				   BPF_ANY);
	for (size_t i = 0; !ret && !paddr && i < nr_pids; i++) {
		struct hp_damon_tgt_key key = { .kdamond_tid = tid, .target = (__u32)i };

		ret = bpf_map__update_elem(src->skel->maps.hp_damon_tgt, &key, sizeof(key),
					   &pids[i], sizeof(pids[i]), BPF_ANY);
	}
	return ret ? -errno : 0;
}

static int start_observe(struct hp_source_instance *src, const struct hp_damon_params *p, char *err,
			 size_t err_len)
{
	struct hp_damon_scan scan;
	const struct hp_damon_kdamond *kd;
	int ret;

	ret = hp_damon_scan(HP_DAMON_ADMIN, &scan, err, err_len);
	if (ret)
		return ret;
	if (p->kdamond >= scan.nr_kdamonds) {
		hp_set_err(err, err_len, "kdamond=%u: there are %u kdamonds", p->kdamond,
			   scan.nr_kdamonds);
		return -ENOENT;
	}
	kd = &scan.kd[p->kdamond];
	if (!kd->on || kd->pid <= 0) {
		hp_set_err(err, err_len, "kdamond %u is off: nothing to observe", p->kdamond);
		return -ENOENT;
	}
	return register_kdamond(src, kd->pid, kd->index, !strcmp(kd->ops, "paddr"), kd->target_pids,
				kd->nr_targets);
}

static int start_managed(struct hp_source_instance *src, const struct hp_source_opts *opts,
			 const struct hp_damon_params *p, char *err, size_t err_len)
{
	struct hp_damon_spec spec = { .attrs = p->attrs };
	struct hp_phys_ranges ranges = { 0 };
	int ret;

	if (p->mode == HP_DAMON_MODE_VADDR ||
	    (p->mode == HP_DAMON_MODE_AUTO && opts->filter_mode == HP_FILTER_TGIDS)) {
		spec.ops = HP_DAMON_OPS_VADDR;
		spec.pids = opts->tgids;
		spec.nr_pids = opts->filter_mode == HP_FILTER_TGIDS ? opts->nr_tgids : 0;
		if (!spec.nr_pids) {
			hp_set_err(err, err_len, "ops=vaddr needs processes (a tgid scope)");
			return -EINVAL;
		}
	} else {
		spec.ops = HP_DAMON_OPS_PADDR;
		ret = hp_node_ranges_read(HP_SYSFS_SYSTEM, p->node_mask, &ranges, err, err_len);
		if (ret)
			return ret;
		spec.ranges = ranges.v;
		spec.nr_ranges = ranges.nr;
	}
	/* Before touching sysfs: its kdamond could not be turned on anyway. */
	ret = hp_damon_exclusive(HP_DAMON_MODULES, err, err_len);
	if (!ret)
		ret = hp_damon_start(HP_DAMON_ADMIN, &spec, &src->ctx, err, err_len);
	hp_phys_ranges_free(&ranges);
	if (ret)
		return ret;
	src->managed = true;
	return register_kdamond(src, src->ctx.pid, src->ctx.index, spec.ops == HP_DAMON_OPS_PADDR,
				spec.pids, spec.nr_pids);
}

static void damon_stop(struct hp_source_instance *src)
{
	char err[256];

	if (!src)
		return;
	/* Detach first: the context's last regions are of no use now. */
	destroy_bpf(src);
	if (src->managed && hp_damon_stop(&src->ctx, err, sizeof(err)))
		fprintf(stderr, "damon: stopping kdamond %u: %s\n", src->ctx.index, err);
	free(src);
}

static int damon_start(struct hp_transport *transport, const struct hp_source_opts *opts,
		       struct hp_source_instance **out, char *err, size_t err_len)
{
	static const struct hp_source_opts none = { 0 };
	struct hp_damon_params p;
	enum hp_damon_attach attach = HP_DAMON_ATTACH_AUTO;
	struct hp_source_instance *src;
	int ret;

	*out = NULL;
	if (!opts)
		opts = &none;
	ret = hp_damon_parse_params(opts->param, &p, err, err_len);
	if (!ret)
		ret = hp_source_opts_check(opts, err, err_len);
	if (ret)
		return ret;
	if (opts->filter_mode == HP_FILTER_CGROUP) {
		hp_set_err(
			err, err_len,
			"a cgroup scope does not apply: regions come from the kdamond thread, and DAMON monitors processes or physical memory");
		return -EOPNOTSUPP;
	}
	ret = resolve_attach(p.attach, &attach);
	if (ret) {
		hp_set_err(err, err_len, "no %s (kernel without DAMON, or tracefs not mounted)",
			   attach_how(attach));
		return ret;
	}
	src = calloc(1, sizeof(*src));
	if (!src)
		return -ENOMEM;
	ret = load(src, attach, transport, opts);
	if (ret) {
		hp_set_err(err, err_len, "loading %s: %s", attach_how(attach), strerror(-ret));
		goto fail;
	}
	ret = p.mode == HP_DAMON_MODE_OBSERVE ? start_observe(src, &p, err, err_len)
					      : start_managed(src, opts, &p, err, err_len);
	if (ret)
		goto fail;
	*out = src;
	return 0;
fail:
	damon_stop(src);
	return ret;
}

static struct bpf_object *damon_object(struct hp_source_instance *src)
{
	return src ? src->skel->obj : NULL;
}

const struct hp_source_ops hp_source_damon = {
	.name = "damon",
	.id = HP_SRC_DAMON,
	.probe = damon_probe,
	.start = damon_start,
	.stop = damon_stop,
	.object = damon_object,
};
