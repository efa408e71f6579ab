// SPDX-License-Identifier: GPL-2.0
/* The `perf` hotness source: event choice, per-CPU perf events, bpf/perf.bpf.c. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "params.h"
#include "perf.skel.h"
#include "perf_source.h"
#include "transport.h"
#include "sysfile.h"

#define MAX_CANDIDATES 3

struct hp_source_instance {
	struct perf *skel;
	struct hp_transport *transport; /* takes what the stages hold at the end */
	struct hp_perf_choice choice;
	__u64 period;
	int nr_fds; /* possible CPUs */
	int *fds; /* per CPU, -1 when offline; owned by links[cpu] once attached */
	struct bpf_link **links;
	int nr_cpus; /* CPUs the event runs on */
	bool kctx; /* hp_perf_kctx loaded (else hp_perf) */
	char how[sizeof(((struct hp_source_probe *)0)->how)];
	char why[sizeof(((struct hp_source_probe *)0)->why)];
};

static const char *const event_names[] = {
	[HP_PERF_EVENT_AUTO] = "auto",
	[HP_PERF_EVENT_MEM_LOADS] = "mem-loads",
	[HP_PERF_EVENT_IBS_OP] = "ibs-op",
	[HP_PERF_EVENT_PAGE_FAULTS] = "page-faults",
};

const char *hp_perf_event_name(enum hp_perf_event event)
{
	if ((size_t)event >= sizeof(event_names) / sizeof(event_names[0]))
		return "?";
	return event_names[event];
}

static int parse_u64(const char *s, __u64 *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int hp_perf_parse_param(const char *param, struct hp_perf_params *params, char *err, size_t err_len)
{
	char key[32], value[64];
	int ret;

	*params = (struct hp_perf_params){ .event = HP_PERF_EVENT_AUTO };
	while ((ret = hp_param_next(&param, key, sizeof(key), value, sizeof(value), err, err_len)) >
	       0) {
		if (!strcmp(key, "event")) {
			size_t i, n = sizeof(event_names) / sizeof(event_names[0]);

			for (i = 0; i < n && strcmp(value, event_names[i]) != 0; i++)
				;
			if (i == n) {
				snprintf(
					err, err_len,
					"perf: event=%s: use auto, mem-loads, ibs-op or page-faults",
					value);
				return -EINVAL;
			}
			params->event = (enum hp_perf_event)i;
		} else if (!strcmp(key, "ldlat")) {
			__u64 v;

			/* The PEBS load latency threshold field is 16 bits; below 3 it is refused. */
			if (parse_u64(value, &v) || v < 3 || v > 65535) {
				snprintf(err, err_len, "perf: ldlat=%s: a number from 3 to 65535",
					 value);
				return -EINVAL;
			}
			params->ldlat = (__u32)v;
		} else {
			snprintf(err, err_len, "perf: unknown parameter '%s' (known: event, ldlat)",
				 key);
			return -EINVAL;
		}
	}
	return ret;
}

int hp_perf_format_apply(const char *format, __u64 value, struct perf_event_attr *attr)
{
	const char *p = strchr(format, ':');
	unsigned int shift = 0;
	__u64 *field;

	if (!p)
		return -EINVAL;
	if ((size_t)(p - format) == 6 && !strncmp(format, "config", 6))
		field = (__u64 *)&attr->config;
	else if ((size_t)(p - format) == 7 && !strncmp(format, "config1", 7))
		field = (__u64 *)&attr->config1;
	else if ((size_t)(p - format) == 7 && !strncmp(format, "config2", 7))
		field = (__u64 *)&attr->config2;
	else
		return -EINVAL;
	p++;
	/* Bits of value fill the ranges in order: low bits into the first range. */
	for (;;) {
		unsigned long lo, hi;
		char *end;
		__u64 width, mask;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		lo = strtoul(p, &end, 10);
		hi = lo;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			hi = strtoul(p, &end, 10);
			p = end;
		}
		if (hi < lo || hi > 63)
			return -EINVAL;
		width = hi - lo + 1;
		mask = width == 64 ? ~0ULL : (1ULL << width) - 1;
		*field = (*field & ~(mask << lo)) | (((value >> shift) & mask) << lo);
		shift += (unsigned int)width;
		while (*p == '\n' || *p == ' ')
			p++;
		if (!*p)
			break;
		if (*p != ',')
			return -EINVAL;
		p++;
	}
	if (shift < 64 && (value >> shift))
		return -EINVAL;
	return 0;
}

static int apply_term(const char *pmu_dir, const char *name, __u64 value,
		      struct perf_event_attr *attr, char *err, size_t err_len)
{
	char path[512], format[128];
	int ret;

	snprintf(path, sizeof(path), "%s/format/%s", pmu_dir, name);
	ret = hp_read_line(path, format, sizeof(format));
	if (!ret)
		ret = hp_perf_format_apply(format, value, attr);
	if (ret)
		snprintf(err, err_len, "%s: %s", path,
			 ret == -EINVAL ? "unreadable format or value too wide" : strerror(-ret));
	return ret;
}

int hp_perf_event_terms_apply(const char *pmu_dir, const char *terms, const char *override_name,
			      __u64 override_value, struct perf_event_attr *attr, char *err,
			      size_t err_len)
{
	const char *p = terms;
	int overridden = 0, ret;

	while (*p) {
		char name[64];
		const char *end = p + strcspn(p, ",\n"), *eq;
		size_t nlen;
		__u64 value = 1; /* a bare term ("any") sets its field to 1 */

		eq = memchr(p, '=', (size_t)(end - p));
		nlen = (size_t)((eq ? eq : end) - p);
		if (!nlen || nlen >= sizeof(name)) {
			snprintf(err, err_len, "event terms '%s': bad term", terms);
			return -EINVAL;
		}
		memcpy(name, p, nlen);
		name[nlen] = '\0';
		if (eq) {
			char text[32];
			size_t vlen = (size_t)(end - eq - 1);

			if (!vlen || vlen >= sizeof(text)) {
				snprintf(err, err_len, "event terms '%s': bad value of %s", terms,
					 name);
				return -EINVAL;
			}
			memcpy(text, eq + 1, vlen);
			text[vlen] = '\0';
			if (parse_u64(text, &value)) {
				snprintf(err, err_len, "event terms '%s': bad value of %s", terms,
					 name);
				return -EINVAL;
			}
		}
		if (override_name && !strcmp(name, override_name)) {
			value = override_value;
			overridden = 1;
		}
		ret = apply_term(pmu_dir, name, value, attr, err, err_len);
		if (ret)
			return ret;
		p = *end == ',' ? end + 1 : end;
		if (*p == '\n')
			break;
	}
	if (override_name && !overridden)
		return apply_term(pmu_dir, override_name, override_value, attr, err, err_len);
	return 0;
}

static void append(char *buf, size_t len, const char *fmt, const char *arg)
{
	size_t used = strlen(buf);

	if (used < len)
		snprintf(buf + used, len - used, fmt, arg);
}

/* One more item of a ", "-separated list. */
static void add_note(char *notes, size_t len, const char *note)
{
	append(notes, len, "%s", notes[0] ? ", " : "");
	append(notes, len, "%s", note);
}

static int pmu_type(const char *pmu_root, const char *pmu, __u32 *type)
{
	char path[512], text[32];
	__u64 v;
	int ret;

	snprintf(path, sizeof(path), "%s/%s/type", pmu_root, pmu);
	ret = hp_read_line(path, text, sizeof(text));
	if (ret)
		return ret;
	if (parse_u64(text, &v) || v > 0xffffffffULL)
		return -EINVAL;
	*type = (__u32)v;
	return 0;
}

/* Intel PEBS load latency: cpu/events/mem-loads (cpu_core/ on hybrid parts). */
static int mem_loads_candidate(const struct hp_perf_params *params, const char *pmu_root,
			       __u64 period, struct hp_perf_choice *c, char *notes,
			       size_t notes_len)
{
	static const char *const pmus[] = { "cpu", "cpu_core" };
	__u32 ldlat = params->ldlat ? params->ldlat : HP_PERF_LDLAT_DEFAULT;

	for (size_t i = 0; i < sizeof(pmus) / sizeof(pmus[0]); i++) {
		char path[600], dir[512], terms[256] = "", err[256];
		__u32 type;

		snprintf(dir, sizeof(dir), "%s/%s", pmu_root, pmus[i]);
		snprintf(path, sizeof(path), "%s/events/mem-loads", dir);
		if (hp_read_line(path, terms, sizeof(terms)))
			continue;
		*c = (struct hp_perf_choice){ .event = HP_PERF_EVENT_MEM_LOADS };
		if (pmu_type(pmu_root, pmus[i], &type) ||
		    hp_perf_event_terms_apply(dir, terms, "ldlat", ldlat, &c->attr, err,
					      sizeof(err))) {
			add_note(notes, notes_len, err);
			continue;
		}
		c->attr.type = type;
		c->attr.precise_ip = 2; /* PEBS: the address of the sampled load itself */
		c->attr.exclude_kernel = 1; /* user pages only; also what paranoid 2 allows */
		c->attr.exclude_hv = 1;
		c->attr.sample_type = PERF_SAMPLE_ADDR | PERF_SAMPLE_WEIGHT | PERF_SAMPLE_DATA_SRC;
		c->attr.sample_period = period ? period : HP_PERF_PERIOD_MEM_LOADS;
		c->event_flags = HP_EV_READ;
		snprintf(c->name, sizeof(c->name), "%s/mem-loads,ldlat=%u/ (Intel PEBS)", pmus[i],
			 ldlat);
		return 1;
	}
	if (!notes[0])
		add_note(notes, notes_len, "no cpu/events/mem-loads (Intel PEBS)");
	return 0;
}

/* AMD IBS op sampling; its period counts ops in units of 16. */
static int ibs_op_candidate(const char *pmu_root, __u64 period, struct hp_perf_choice *c,
			    char *notes, size_t notes_len)
{
	__u32 type;

	if (pmu_type(pmu_root, "ibs_op", &type)) {
		add_note(notes, notes_len, "no ibs_op (AMD IBS)");
		return 0;
	}
	*c = (struct hp_perf_choice){ .event = HP_PERF_EVENT_IBS_OP };
	c->attr.type = type;
	c->attr.sample_type = PERF_SAMPLE_ADDR | PERF_SAMPLE_WEIGHT | PERF_SAMPLE_DATA_SRC;
	period = period ? period : HP_PERF_PERIOD_IBS_OP;
	c->attr.sample_period = (period + 15) & ~15ULL;
	snprintf(c->name, sizeof(c->name), "ibs_op (AMD IBS)");
	return 1;
}

static void spe_note(const char *pmu_root, char *notes, size_t notes_len)
{
	DIR *dir = opendir(pmu_root);
	struct dirent *de;
	char spe[64] = "";

	while (dir && (de = readdir(dir)))
		if (!strncmp(de->d_name, "arm_spe_", 8))
			snprintf(spe, sizeof(spe), "%.*s", (int)sizeof(spe) - 1, de->d_name);
	if (dir)
		closedir(dir);
	if (spe[0]) {
		char note[160];

		snprintf(note, sizeof(note),
			 "%s present but its records go to an AUX buffer, "
			 "which BPF does not see",
			 spe);
		add_note(notes, notes_len, note);
		return;
	}
	add_note(notes, notes_len, "no arm_spe_N (Arm SPE)");
}

static void page_faults_candidate(__u64 period, struct hp_perf_choice *c)
{
	*c = (struct hp_perf_choice){ .event = HP_PERF_EVENT_PAGE_FAULTS };
	c->attr.type = PERF_TYPE_SOFTWARE;
	c->attr.config = PERF_COUNT_SW_PAGE_FAULTS;
	c->attr.sample_type = PERF_SAMPLE_ADDR;
	c->attr.sample_period = period ? period : HP_PERF_PERIOD_PAGE_FAULTS;
	snprintf(c->name, sizeof(c->name), "page-faults (software, PERF_COUNT_SW_PAGE_FAULTS)");
}

int hp_perf_candidates(const struct hp_perf_params *params, const char *pmu_root, __u64 period,
		       struct hp_perf_choice *out, int max, char *notes, size_t notes_len)
{
	bool auto_event = params->event == HP_PERF_EVENT_AUTO, hardware = false;
	struct hp_perf_choice c;
	char missing[256] = "";
	int n = 0;

	notes[0] = '\0';
	if ((auto_event || params->event == HP_PERF_EVENT_MEM_LOADS) && n < max &&
	    mem_loads_candidate(params, pmu_root, period, &c, missing, sizeof(missing))) {
		out[n++] = c;
		hardware = true;
	}
	if ((auto_event || params->event == HP_PERF_EVENT_IBS_OP) && n < max &&
	    ibs_op_candidate(pmu_root, period, &c, missing, sizeof(missing))) {
		out[n++] = c;
		hardware = true;
	}
	if (auto_event && !hardware) {
		spe_note(pmu_root, missing, sizeof(missing));
		snprintf(notes, notes_len, "no hardware memory sampling PMU: %s in %s", missing,
			 pmu_root);
	} else if (!hardware && params->event != HP_PERF_EVENT_PAGE_FAULTS) {
		snprintf(notes, notes_len, "%s in %s", missing, pmu_root);
	}
	if ((auto_event || params->event == HP_PERF_EVENT_PAGE_FAULTS) && n < max) {
		page_faults_candidate(period, &c);
		out[n++] = c;
	}
	return n;
}

static int perf_event_open(struct perf_event_attr *attr, int cpu)
{
	return (int)syscall(__NR_perf_event_open, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* The kernel reports "not supported" as its internal ENOTSUPP (524) from some paths. */
static const char *err_name(int err, char *buf, size_t len)
{
	if (err == -524)
		return "ENOTSUPP";
	snprintf(buf, len, "%s", strerror(-err));
	return buf;
}

static void close_fds(struct hp_source_instance *src)
{
	for (int cpu = 0; cpu < src->nr_fds; cpu++) {
		if (src->links && src->links[cpu]) {
			bpf_link__destroy(src->links[cpu]); /* also closes the perf event */
			src->links[cpu] = NULL;
		} else if (src->fds[cpu] >= 0) {
			close(src->fds[cpu]);
		}
		src->fds[cpu] = -1;
	}
	src->nr_cpus = 0;
}

/*
 * Open @c on every possible CPU, disabled (attaching enables it). Offline
 * CPUs (ENODEV) are skipped. 0, or a negative errno with the reason in @err.
 */
static int open_on_cpus(struct hp_source_instance *src, struct hp_perf_choice *c, char *err,
			size_t err_len)
{
	char name[64];

	c->attr.size = sizeof(c->attr);
	c->attr.disabled = 1;
	for (int cpu = 0; cpu < src->nr_fds; cpu++) {
		int fd = perf_event_open(&c->attr, cpu);

		if (fd < 0 && errno == ENODEV)
			continue;
		if (fd < 0 && errno == EOPNOTSUPP && c->attr.precise_ip > 1) {
			c->attr.precise_ip = 1; /* older PEBS: precise_ip 1 only */
			fd = perf_event_open(&c->attr, cpu);
		}
		if (fd < 0) {
			int ret = -errno;

			snprintf(err, err_len, "%s: perf_event_open on CPU %d: %s%s", c->name, cpu,
				 err_name(ret, name, sizeof(name)),
				 ret == -EACCES || ret == -EPERM
					 ? " (needs CAP_PERFMON, or perf_event_paranoid <= 0)"
					 : "");
			close_fds(src);
			return ret;
		}
		src->fds[cpu] = fd;
		src->nr_cpus++;
	}
	if (!src->nr_cpus) {
		snprintf(err, err_len, "%s: no online CPU", c->name);
		return -ENODEV;
	}
	return 0;
}

static bool kernel_has_kfunc(const char *name)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool found;

	if (!btf)
		return false;
	found = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
	btf__free(btf);
	return found;
}

static void describe_error(char *err, size_t err_len, const char *what, int error)
{
	if (error == -EPERM || error == -EACCES)
		snprintf(err, err_len, "%s: %s (needs root: CAP_BPF and CAP_PERFMON)", what,
			 strerror(-error));
	else
		snprintf(err, err_len, "%s: %s", what, strerror(-error));
}

/* Open, configure and load the object with one of its two programs. */
/* Deliver what the stages hold and destroy the object; the events must be closed. */
static void unload(struct hp_source_instance *src)
{
	if (src->skel)
		hp_transport_stage_remove(src->transport, src->skel->obj);
	src->transport = NULL;
	perf__destroy(src->skel);
	src->skel = NULL;
}

static int load(struct hp_source_instance *src, struct hp_transport *transport,
		const struct hp_source_opts *opts, bool kctx, char *err, size_t err_len)
{
	struct hp_source_opts bpf_opts = *opts;
	int ret;

	src->kctx = kctx;
	src->skel = perf__open();
	if (!src->skel) {
		ret = -errno;
		describe_error(err, err_len, "opening the BPF object", ret);
		return ret;
	}
	/* The perf event samples; the program emits every sample it gets. */
	src->skel->rodata->default_sample_period = 1;
	ret = hp_source_prepare(src->skel->obj, transport);
	if (ret) {
		describe_error(err, err_len, "sharing the transport's rings", ret);
		return ret;
	}
	bpf_program__set_autoload(kctx ? src->skel->progs.hp_perf : src->skel->progs.hp_perf_kctx,
				  false);
	ret = perf__load(src->skel);
	if (ret) {
		describe_error(err, err_len,
			       kctx ? "loading hp_perf_kctx" : "loading hp_perf (ctx->addr)", ret);
		return ret;
	}
	ret = hp_source_set_record_flags(src->skel->obj, src->choice.event_flags);
	if (ret) {
		describe_error(err, err_len, "setting the records' flags", ret);
		return ret;
	}
	ret = hp_transport_stage_add(transport, src->skel->obj);
	if (ret) {
		describe_error(err, err_len, "mapping the stages", ret);
		return ret;
	}
	src->transport = transport;
	bpf_opts.sample_period = 0; /* BPF level: the load-time 1 */
	ret = hp_source_apply_scope(src->skel->obj, &bpf_opts);
	if (ret)
		describe_error(err, err_len, "applying the scope", ret);
	return ret;
}

/* "default": a listing shows the probe's how next to each source's actual period. */
static void describe_how(struct hp_source_instance *src, bool default_period)
{
	snprintf(src->how, sizeof(src->how), "perf_event %.64s, %s1 in %llu, on %d CPUs%s",
		 src->choice.name, default_period ? "default " : "",
		 (unsigned long long)src->period, src->nr_cpus, src->kctx ? "" : ", ctx->addr");
}

int hp_perf_source_start(struct hp_transport *transport, const struct hp_source_opts *opts,
			 const struct hp_perf_params *params, struct hp_source_instance **out,
			 char *err, size_t err_len)
{
	struct hp_perf_choice candidates[MAX_CANDIDATES];
	char notes[256], tried[384] = "";
	struct hp_source_instance *src;
	int n, ret, ncpus = libbpf_num_possible_cpus();
	bool kctx;

	*out = NULL;
	ret = hp_source_opts_check(opts, err, err_len);
	if (ret)
		return ret;
	if (ncpus <= 0) {
		snprintf(err, err_len, "counting possible CPUs: %s", strerror(-ncpus));
		return ncpus < 0 ? ncpus : -EINVAL;
	}
	src = calloc(1, sizeof(*src));
	if (!src)
		goto nomem;
	src->fds = malloc((size_t)ncpus * sizeof(int));
	src->links = calloc((size_t)ncpus, sizeof(struct bpf_link *));
	if (!src->fds || !src->links)
		goto nomem;
	src->nr_fds = ncpus;
	for (int cpu = 0; cpu < ncpus; cpu++)
		src->fds[cpu] = -1;

	n = hp_perf_candidates(params, HP_PERF_PMU_ROOT, opts->sample_period, candidates,
			       MAX_CANDIDATES, notes, sizeof(notes));
	ret = -ENOENT;
	if (!n)
		snprintf(err, err_len, "%s", notes);
	for (int i = 0; i < n; i++) {
		ret = open_on_cpus(src, &candidates[i], err, err_len);
		if (!ret) {
			src->choice = candidates[i];
			break;
		}
		append(tried, sizeof(tried), "%s; ", err);
	}
	if (ret) {
		if (n > 1)
			snprintf(err, err_len, "%s", tried);
		goto fail;
	}
	src->period = src->choice.attr.sample_period;

	/* The sample's own record where the kernel lets BPF read it, else ctx->addr. */
	kctx = kernel_has_kfunc("bpf_cast_to_kern_ctx");
	ret = load(src, transport, opts, kctx, err, err_len);
	if (ret && kctx) {
		char first[256];

		snprintf(first, sizeof(first), "%s", err);
		unload(src);
		ret = load(src, transport, opts, false, err, err_len);
		if (!ret)
			append(tried, sizeof(tried), "%s; ", first);
	}
	if (ret)
		goto fail;
	for (int cpu = 0; cpu < ncpus; cpu++) {
		struct bpf_program *prog =
			src->kctx ? src->skel->progs.hp_perf_kctx : src->skel->progs.hp_perf;

		if (src->fds[cpu] < 0)
			continue;
		src->links[cpu] = bpf_program__attach_perf_event(prog, src->fds[cpu]);
		if (!src->links[cpu]) {
			ret = -errno;
			snprintf(notes, sizeof(notes), "attaching to %s on CPU %d",
				 src->choice.name, cpu);
			describe_error(err, err_len, notes, ret);
			goto fail;
		}
	}
	describe_how(src, !opts->sample_period);
	src->why[0] = '\0';
	append(src->why, sizeof(src->why), "%s", tried);
	append(src->why, sizeof(src->why), "%s", notes);
	*out = src;
	return 0;
nomem:
	snprintf(err, err_len, "out of memory");
	ret = -ENOMEM;
fail:
	hp_perf_source_stop(src);
	return ret;
}

void hp_perf_source_stop(struct hp_source_instance *src)
{
	if (!src)
		return;
	if (src->fds)
		close_fds(src); /* detached first: then the stages hold their last records */
	unload(src);
	free(src->fds);
	free(src->links);
	free(src);
}

const struct hp_perf_choice *hp_perf_source_choice(const struct hp_source_instance *src)
{
	return &src->choice;
}

__u64 hp_perf_source_period(const struct hp_source_instance *src)
{
	return src->period;
}

int hp_perf_source_nr_cpus(const struct hp_source_instance *src)
{
	return src->nr_cpus;
}

const char *hp_perf_source_how(const struct hp_source_instance *src)
{
	return src->how;
}

const char *hp_perf_source_why(const struct hp_source_instance *src)
{
	return src->why;
}

int hp_perf_source_set_period(struct hp_source_instance *src, __u64 period)
{
	if (!period)
		return -EINVAL;
	if (src->choice.event == HP_PERF_EVENT_IBS_OP)
		period = (period + 15) & ~15ULL;
	for (int cpu = 0; cpu < src->nr_fds; cpu++) {
		if (src->fds[cpu] < 0)
			continue;
		if (ioctl(src->fds[cpu], PERF_EVENT_IOC_PERIOD, &period))
			return -errno;
	}
	src->period = period;
	describe_how(src, false);
	return 0;
}

static struct bpf_object *perf_object(struct hp_source_instance *src)
{
	return src ? src->skel->obj : NULL;
}

static int perf_start(struct hp_transport *transport, const struct hp_source_opts *opts,
		      struct hp_source_instance **out, char *err, size_t err_len)
{
	struct hp_perf_params params;
	int ret;

	*out = NULL;
	ret = hp_perf_parse_param(opts->param, &params, err, err_len);
	if (!ret)
		ret = hp_perf_source_start(transport, opts, &params, out, err, err_len);
	return ret;
}

/* Available when a trial run works (events open, program loads and attaches), all undone. */
static void perf_probe(struct hp_source_probe *result)
{
	struct hp_transport_opts topts = { .ring_bytes = (__u32)sysconf(_SC_PAGESIZE) };
	struct hp_perf_params params = { .event = HP_PERF_EVENT_AUTO };
	struct hp_source_opts opts = { 0 };
	struct hp_transport *transport = NULL;
	struct hp_source_instance *src = NULL;
	int ret;

	*result = (struct hp_source_probe){ .available = false };
	ret = hp_transport_new(&topts, &transport, result->why, sizeof(result->why));
	if (!ret)
		ret = hp_perf_source_start(transport, &opts, &params, &src, result->why,
					   sizeof(result->why));
	if (!ret && src) {
		result->available = true;
		memcpy(result->how, src->how, sizeof(result->how));
		memcpy(result->why, src->why, sizeof(result->why));
		if (src->choice.event == HP_PERF_EVENT_PAGE_FAULTS)
			snprintf(
				result->not_default, sizeof(result->not_default),
				"without a memory-sampling PMU it samples page faults: allocations, not accesses");
	}
	hp_perf_source_stop(src);
	hp_transport_free(transport);
}

const struct hp_source_ops hp_source_perf = {
	.name = "perf",
	.id = HP_SRC_PERF,
	.probe = perf_probe,
	.start = perf_start,
	.stop = hp_perf_source_stop,
	.object = perf_object,
};
