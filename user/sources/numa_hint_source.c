// SPDX-License-Identifier: GPL-2.0
/* The `numa-hint` source: probing, loading and attaching bpf/numa_hint.bpf.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "catf.h"
#include "numa_hint.skel.h"
#include "numa_hint_source.h"
#include "params.h"
#include "tracefs.h"
#include "transport.h"

#define ARG_NONE 0xff
#define NUMA_BALANCING_SYSCTL "/proc/sys/kernel/numa_balancing"
#define KPROBE_PMU "/sys/bus/event_source/devices/kprobe"
#define NUMA_MAX_NODES 64 /* HP_NUMA_MAX_NODES in the BPF program */

/* Newest first: the first one the kernel's BTF has is hooked. */
static const char *const hook_funcs[] = { "numa_migrate_check", "numa_migrate_prep" };

/* The hooked function and where its arguments are (from the kernel's BTF). */
struct hook {
	char func[32];
	__u8 arg_page, arg_vma, arg_vmf, arg_addr, arg_nid;
};

struct hp_source_instance {
	struct numa_hint *skel;
	struct bpf_link *link;
	struct hp_transport *transport; /* takes what the stages hold at the end */
	enum hp_numa_hint_attach attach; /* FENTRY or KPROBE */
};

const char *hp_errno_name(int err, char *buf, size_t len)
{
	const char *name = NULL;
	int e = err < 0 ? -err : err;

	if (e == 524)
		name = "ENOTSUPP"; /* kernel-internal, returned by BPF for unsupported attach */
	else
		name = strerrorname_np(e);
	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "errno %d", e);
	return buf;
}

int hp_numa_hint_parse_param(const char *param, enum hp_numa_hint_attach *attach, char *err,
			     size_t err_len)
{
	static const char *const names[] = { "auto", "fentry", "kprobe" };
	char key[32], value[32];
	int ret;

	*attach = HP_NUMA_HINT_AUTO;
	while ((ret = hp_param_next(&param, key, sizeof(key), value, sizeof(value), err, err_len)) >
	       0) {
		bool known = false;

		if (strcmp(key, "attach") != 0) {
			snprintf(err, err_len, "numa-hint: unknown parameter '%s' (known: attach)",
				 key);
			return -EINVAL;
		}
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (!strcmp(value, names[i])) {
				*attach = (enum hp_numa_hint_attach)i;
				known = true;
			}
		}
		if (!known) {
			snprintf(err, err_len, "numa-hint: attach=%s: use auto, fentry or kprobe",
				 value);
			return -EINVAL;
		}
	}
	return ret;
}

/* ---------------------------------------------------------------- verdict */

static void balancing_note(char *buf, size_t len, int mode)
{
	switch (mode) {
	case 0:
		hp_catf(buf, len, "numa_balancing=0: no hint faults until it is enabled");
		break;
	case 1:
		hp_catf(buf, len, "numa_balancing=1");
		break;
	default:
		/* 2 (or 3): memory tiering; the kernel promotes the pages it sees itself. */
		hp_catf(buf, len, "numa_balancing=%d: the kernel promotes too", mode);
		break;
	}
}

void hp_numa_hint_decide(const struct hp_numa_hint_facts *f, struct hp_source_probe *probe)
{
	char e[32];

	memset(probe, 0, sizeof(*probe));
	if (f->numa_balancing < 0) {
		hp_catf(probe->why, sizeof(probe->why),
			"numa-hint: kernel without NUMA balancing (no %s: CONFIG_NUMA_BALANCING off), so there are no hint faults",
			NUMA_BALANCING_SYSCTL);
		return;
	}
	if (!f->func[0]) {
		hp_catf(probe->why, sizeof(probe->why),
			"numa-hint: neither numa_migrate_check (6.10+) nor numa_migrate_prep (6.1-6.9) is in the kernel's BTF (inlined or renamed in this kernel)");
		return;
	}
	if (!f->fentry_err || !f->kprobe_err) {
		probe->available = true;
		hp_catf(probe->how, sizeof(probe->how), "%s/%s",
			!f->fentry_err ? "fentry" : "kprobe", f->func);
		if (f->fentry_err && f->fentry_err != HP_NUMA_HINT_NOT_TRIED)
			hp_catf(probe->how, sizeof(probe->how), " (fentry refused: %s)",
				hp_errno_name(f->fentry_err, e, sizeof(e)));
		hp_catf(probe->how, sizeof(probe->how), "; ");
		balancing_note(probe->how, sizeof(probe->how), f->numa_balancing);
		if (!f->pfn_known)
			hp_catf(probe->how, sizeof(probe->how), "; PFN unknown (no vmemmap_base)");
		return;
	}

	hp_catf(probe->why, sizeof(probe->why), "numa-hint: ");
	if (f->fentry_err == HP_NUMA_HINT_NOT_TRIED)
		hp_catf(probe->why, sizeof(probe->why), "fentry not tried (attach=kprobe), ");
	else
		hp_catf(probe->why, sizeof(probe->why), "fentry refused (%s), ",
			hp_errno_name(f->fentry_err, e, sizeof(e)));
	if (!f->kprobe_pmu && !f->kprobe_events)
		hp_catf(probe->why, sizeof(probe->why),
			"kprobes not built in (no kprobe PMU in /sys/bus/event_source/devices, no kprobe_events in tracefs)");
	else if (f->kprobe_err == HP_NUMA_HINT_NOT_TRIED)
		hp_catf(probe->why, sizeof(probe->why), "kprobe not tried (attach=fentry)");
	else
		hp_catf(probe->why, sizeof(probe->why), "kprobe on %s refused (%s)", f->func,
			hp_errno_name(f->kprobe_err, e, sizeof(e)));
}

/* ---------------------------------------------------------------- facts */

static int read_int(const char *path, int *value)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%d", value) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

/* Possible node ids are below this: the last number of node/possible ("0-1"), plus one. */
static __u32 possible_nodes(void)
{
	FILE *f = fopen("/sys/devices/system/node/possible", "r");
	char buf[256], *p;
	long last = 0;

	if (!f)
		return 1;
	if (fgets(buf, sizeof(buf), f)) {
		p = buf + strcspn(buf, "\n");
		while (p > buf && (p[-1] >= '0' && p[-1] <= '9'))
			p--;
		last = strtol(p, NULL, 10);
	}
	fclose(f);
	return last + 1 > NUMA_MAX_NODES ? NUMA_MAX_NODES : (__u32)(last + 1);
}

/* Whether /proc/kallsyms has @name with an address (not hidden by kptr_restrict). */
static bool kallsyms_has(const char *name)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], sym[256], type;
	unsigned long long addr;
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, sym) == 3 && addr &&
		    !strcmp(sym, name))
			found = true;
	}
	fclose(f);
	return found;
}

static bool hook_from_btf(const struct btf *btf, const char *func, struct hook *h)
{
	const struct btf_type *fn, *proto;
	const struct btf_param *params;
	int id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);

	if (id <= 0)
		return false;
	fn = btf__type_by_id(btf, id);
	proto = fn ? btf__type_by_id(btf, fn->type) : NULL;
	if (!proto || !btf_is_func_proto(proto))
		return false;
	*h = (struct hook){ .arg_page = ARG_NONE,
			    .arg_vma = ARG_NONE,
			    .arg_vmf = ARG_NONE,
			    .arg_addr = ARG_NONE,
			    .arg_nid = ARG_NONE };
	snprintf(h->func, sizeof(h->func), "%s", func);
	params = btf_params(proto);
	/* By parameter name: the positions moved between 6.1 and 6.10. */
	for (__u8 i = 0; i < btf_vlen(proto) && i < 6; i++) {
		const char *name = btf__name_by_offset(btf, params[i].name_off);

		if (!name)
			continue;
		if (!strcmp(name, "page") || !strcmp(name, "folio"))
			h->arg_page = i;
		else if (!strcmp(name, "vma"))
			h->arg_vma = i;
		else if (!strcmp(name, "vmf"))
			h->arg_vmf = i;
		else if (!strcmp(name, "addr"))
			h->arg_addr = i;
		else if (!strcmp(name, "page_nid"))
			h->arg_nid = i;
	}
	return h->arg_page != ARG_NONE && h->arg_addr != ARG_NONE;
}

static bool find_hook(struct hook *h)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool found = false;

	if (!btf)
		return false;
	for (size_t i = 0; !found && i < sizeof(hook_funcs) / sizeof(hook_funcs[0]); i++)
		found = hook_from_btf(btf, hook_funcs[i], h);
	btf__free(btf);
	return found;
}

static void destroy(struct hp_source_instance *src)
{
	if (!src)
		return;
	bpf_link__destroy(src->link);
	if (src->skel)
		hp_transport_stage_remove(src->transport, src->skel->obj);
	numa_hint__destroy(src->skel);
	free(src);
}

/*
 * Open, configure, load and attach with @attach (FENTRY or KPROBE); with
 * @transport NULL (probing), the object keeps rings of its own. 0 or -errno.
 */
static int load(const struct hook *h, enum hp_numa_hint_attach attach,
		struct hp_transport *transport, const struct hp_source_opts *opts,
		struct hp_source_instance **out)
{
	struct hp_source_instance *src = calloc(1, sizeof(*src));
	struct bpf_program *prog, *unused;
	int ret;

	*out = NULL;
	if (!src)
		return -ENOMEM;
	src->attach = attach;
	src->skel = numa_hint__open();
	if (!src->skel) {
		ret = -errno;
		goto fail;
	}
	src->skel->rodata->arg_page = h->arg_page;
	src->skel->rodata->arg_vma = h->arg_vma;
	src->skel->rodata->arg_vmf = h->arg_vmf;
	src->skel->rodata->arg_addr = h->arg_addr;
	src->skel->rodata->arg_nid = h->arg_nid;
	src->skel->rodata->nr_node_ids = possible_nodes();
	if (opts && opts->sample_period)
		src->skel->rodata->default_sample_period = opts->sample_period;

	if (attach == HP_NUMA_HINT_FENTRY) {
		prog = src->skel->progs.hp_numa_fentry;
		unused = src->skel->progs.hp_numa_kprobe;
		ret = bpf_program__set_attach_target(prog, 0, h->func);
		if (ret)
			goto fail;
	} else {
		prog = src->skel->progs.hp_numa_kprobe;
		unused = src->skel->progs.hp_numa_fentry;
	}
	bpf_program__set_autoload(unused, false);
	src->transport = transport;
	ret = hp_source_load_skeleton(src->skel->skeleton, transport, opts);
	if (ret)
		goto fail;
	if (attach == HP_NUMA_HINT_FENTRY) {
		src->link = bpf_program__attach(prog);
	} else {
		LIBBPF_OPTS(bpf_kprobe_opts, kopts);
		src->link = bpf_program__attach_kprobe_opts(prog, h->func, &kopts);
	}
	if (!src->link) {
		ret = -errno;
		goto fail;
	}
	*out = src;
	return 0;
fail:
	destroy(src);
	return ret < 0 ? ret : -EINVAL;
}

/*
 * Load and attach one way; keep the result in *@keep when given (start),
 * else tear it down again (probe). libbpf stays quiet: a refusal here is an
 * expected outcome, reported through the verdict.
 */
static int attempt(const struct hook *h, enum hp_numa_hint_attach attach,
		   struct hp_transport *transport, const struct hp_source_opts *opts,
		   struct hp_source_instance **keep)
{
	libbpf_print_fn_t old = libbpf_set_print(hp_libbpf_quiet_print);
	struct hp_source_instance *src;
	int ret = load(h, attach, transport, opts, &src);

	libbpf_set_print(old);
	if (!ret && keep)
		*keep = src;
	else
		destroy(src);
	return ret;
}

static bool kprobes_present(bool *pmu, bool *events)
{
	const char *tracefs = hp_tracefs_dir(true);
	char path[256];

	*pmu = !access(KPROBE_PMU, F_OK);
	*events = false;
	if (tracefs) {
		snprintf(path, sizeof(path), "%s/kprobe_events", tracefs);
		*events = !access(path, F_OK);
	}
	return *pmu || *events;
}

/* Facts for the verdict; with @keep, the first attach that works stays attached. */
static void gather(enum hp_numa_hint_attach wanted, struct hp_numa_hint_facts *f,
		   struct hp_transport *transport, const struct hp_source_opts *opts,
		   struct hp_source_instance **keep)
{
	struct hook h;

	memset(f, 0, sizeof(*f));
	f->fentry_err = HP_NUMA_HINT_NOT_TRIED;
	f->kprobe_err = HP_NUMA_HINT_NOT_TRIED;
	if (read_int(NUMA_BALANCING_SYSCTL, &f->numa_balancing))
		f->numa_balancing = -1;
	kprobes_present(&f->kprobe_pmu, &f->kprobe_events);
	f->pfn_known = kallsyms_has("vmemmap_base");
	if (f->numa_balancing < 0 || !find_hook(&h))
		return;
	snprintf(f->func, sizeof(f->func), "%s", h.func);
	f->func_in_btf = true;
	if (wanted != HP_NUMA_HINT_KPROBE)
		f->fentry_err = attempt(&h, HP_NUMA_HINT_FENTRY, transport, opts, keep);
	if (f->fentry_err && wanted != HP_NUMA_HINT_FENTRY && (f->kprobe_pmu || f->kprobe_events))
		f->kprobe_err = attempt(&h, HP_NUMA_HINT_KPROBE, transport, opts, keep);
}

void hp_numa_hint_gather(enum hp_numa_hint_attach wanted, struct hp_numa_hint_facts *facts)
{
	gather(wanted, facts, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------- ops */

static void numa_hint_probe(struct hp_source_probe *probe)
{
	struct hp_numa_hint_facts facts;

	hp_numa_hint_gather(HP_NUMA_HINT_AUTO, &facts);
	hp_numa_hint_decide(&facts, probe);
}

static int numa_hint_start(struct hp_transport *transport, const struct hp_source_opts *opts,
			   struct hp_source_instance **out, char *err, size_t err_len)
{
	enum hp_numa_hint_attach wanted;
	struct hp_numa_hint_facts facts;
	struct hp_source_probe probe;
	int ret;

	*out = NULL;
	ret = hp_numa_hint_parse_param(opts ? opts->param : NULL, &wanted, err, err_len);
	if (!ret && opts)
		ret = hp_source_opts_check(opts, err, err_len);
	if (ret)
		return ret;
	gather(wanted, &facts, transport, opts, out);
	if (*out)
		return 0;
	hp_numa_hint_decide(&facts, &probe);
	hp_set_err(err, err_len, "%s", probe.available ? "attach failed" : probe.why);
	if (facts.kprobe_err < 0)
		return facts.kprobe_err;
	return facts.fentry_err < 0 ? facts.fentry_err : -EOPNOTSUPP;
}

static void numa_hint_stop(struct hp_source_instance *src)
{
	destroy(src);
}

static struct bpf_object *numa_hint_object(struct hp_source_instance *src)
{
	return src ? src->skel->obj : NULL;
}

const struct hp_source_ops hp_source_numa_hint = {
	.name = "numa-hint",
	.id = HP_SRC_NUMA_HINT,
	.probe = numa_hint_probe,
	.start = numa_hint_start,
	.stop = numa_hint_stop,
	.object = numa_hint_object,
};
