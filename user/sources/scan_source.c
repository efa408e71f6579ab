// SPDX-License-Identifier: GPL-2.0
/*
 * The `scan` hotness source: accessed-bit scanning by kmigrated.ko's
 * scanner thread, reported through the module's tracepoint and turned
 * into hp_event records by bpf/scan.bpf.c. It needs the module loaded
 * (with its scanner: the module logs why when the scanner cannot start)
 * and nothing else: no PMU, NUMA balancing on or off.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "catf.h"
#include "scan.skel.h"
#include "params.h"
#include "scan_source.h"
#include "tracefs.h"
#include "transport.h"
#include "sysfile.h"

struct hp_source_instance {
	struct scan *skel;
	struct bpf_link *link;
	struct hp_transport *transport; /* takes what the stages hold at the end */
	char old_scope[1024]; /* the module's settings before start */
	char old_period[32];
	char old_pages[32];
	char old_top_every[32];
};

static void destroy_bpf(struct hp_source_instance *src)
{
	bpf_link__destroy(src->link);
	src->link = NULL;
	if (src->skel)
		hp_transport_stage_remove(src->transport, src->skel->obj);
	scan__destroy(src->skel);
	src->skel = NULL;
}

/* Open, load, scope, attach. @transport NULL: probing, with rings of its own. */
static int load(struct hp_source_instance *src, struct hp_transport *transport,
		const struct hp_source_opts *opts)
{
	int ret;

	src->skel = scan__open();
	if (!src->skel)
		return -errno;
	if (opts && opts->sample_period)
		src->skel->rodata->default_sample_period = opts->sample_period;
	src->transport = transport;
	ret = hp_source_load_skeleton(src->skel->skeleton, transport, opts);
	if (ret)
		return ret;
	src->link = bpf_program__attach(src->skel->progs.hp_scan);
	return src->link ? 0 : -errno;
}

/* Why the scanner cannot be used, or "" when it can. */
static void scanner_state(char *why, size_t len)
{
	char scope[64];

	why[0] = '\0';
	if (access("/sys/module/" KMIGRATED_MODULE_NAME, F_OK)) {
		snprintf(why, len,
			 "kmigrated.ko is not loaded (no /sys/module/" KMIGRATED_MODULE_NAME ")");
		return;
	}
	if (hp_read_line(HP_SCAN_TGIDS, scope, sizeof(scope))) {
		snprintf(why, len, "kmigrated.ko has no scanner (no %s): an older module?",
			 HP_SCAN_TGIDS);
		return;
	}
	if (!strcmp(scope, "unavailable")) {
		snprintf(
			why, len,
			"kmigrated.ko's scanner did not start (its symbols did not resolve: see the kernel log)");
		return;
	}
	if (!hp_tracefs_has_event(KMIGRATED_MODULE_NAME, KMIGRATED_SCAN_TP))
		snprintf(why, len, "no tracepoint " KMIGRATED_MODULE_NAME ":" KMIGRATED_SCAN_TP);
}

static void scan_probe(struct hp_source_probe *result)
{
	struct hp_source_instance src = { 0 };
	libbpf_print_fn_t old;
	int err;

	*result = (struct hp_source_probe){ .available = false };
	scanner_state(result->why, sizeof(result->why));
	if (result->why[0])
		return;
	old = libbpf_set_print(hp_libbpf_quiet_print);
	err = load(&src, NULL, NULL);
	libbpf_set_print(old);
	destroy_bpf(&src);
	if (err) {
		snprintf(result->why, sizeof(result->why),
			 "raw_tp/" KMIGRATED_SCAN_TP " refused: %s", strerror(-err));
		return;
	}
	result->available = true;
	snprintf(result->how, sizeof(result->how), "raw_tp/" KMIGRATED_SCAN_TP " (kmigrated.ko%s)",
		 access(HP_SCAN_TOP_EVERY, F_OK)
			 ? "; an older module, without scan_top_every: the top tier at every sweep"
			 : "");
}

/* "period_ms=N,pages=N,top_every=N" to the module's settings. */
static int apply_params(const char *param, char *err, size_t err_len)
{
	char key[32], value[32];
	int ret;

	while ((ret = hp_param_next(&param, key, sizeof(key), value, sizeof(value), err, err_len)) >
	       0) {
		const char *path;

		if (!strcmp(key, "period_ms"))
			path = HP_SCAN_PERIOD;
		else if (!strcmp(key, "pages"))
			path = HP_SCAN_PAGES;
		else if (!strcmp(key, "top_every") && access(HP_SCAN_TOP_EVERY, F_OK))
			continue; /* an older module: it tests the top tier at every sweep */
		else if (!strcmp(key, "top_every"))
			path = HP_SCAN_TOP_EVERY;
		else {
			hp_set_err(err, err_len,
				   "unknown parameter '%s' (known: period_ms, pages, top_every)",
				   key);
			return -EINVAL;
		}
		ret = hp_write_text(path, value);
		if (ret) {
			hp_set_err(err, err_len, "%s=%s: %s", key, value, strerror(-ret));
			return ret;
		}
	}
	return ret;
}

/* The module's scope: the tgids of @opts, or every process. */
static int set_scope(const struct hp_source_opts *opts, char *err, size_t err_len)
{
	char buf[1024] = "all";
	size_t i, len = 0;
	int ret;

	if (opts->filter_mode == HP_FILTER_TGIDS) {
		if (opts->nr_tgids > KMIGRATED_SCAN_TGIDS_MAX) {
			hp_set_err(err, err_len, "%zu processes; the scanner takes at most %d",
				   opts->nr_tgids, KMIGRATED_SCAN_TGIDS_MAX);
			return -E2BIG;
		}
		for (i = 0; i < opts->nr_tgids && len < sizeof(buf) - 16; i++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%u", i ? " " : "",
						opts->tgids[i]);
	}
	ret = hp_write_text(HP_SCAN_TGIDS, buf);
	if (ret)
		hp_set_err(err, err_len, "%s: %s", HP_SCAN_TGIDS, strerror(-ret));
	return ret;
}

/* Leave the scanner as found (nothing to do when the module went away meanwhile). */
static void restore_settings(const struct hp_source_instance *src)
{
	if (src->old_scope[0])
		hp_write_text(HP_SCAN_TGIDS, src->old_scope);
	if (src->old_period[0])
		hp_write_text(HP_SCAN_PERIOD, src->old_period);
	if (src->old_pages[0])
		hp_write_text(HP_SCAN_PAGES, src->old_pages);
	if (src->old_top_every[0])
		hp_write_text(HP_SCAN_TOP_EVERY, src->old_top_every);
}

static int scan_start(struct hp_transport *transport, const struct hp_source_opts *opts,
		      struct hp_source_instance **out, char *err, size_t err_len)
{
	struct hp_source_instance *src;
	int ret;

	*out = NULL;
	scanner_state(err, err_len);
	if (err[0])
		return -ENOENT;
	src = calloc(1, sizeof(*src));
	if (!src)
		return -ENOMEM;
	ret = hp_read_line(HP_SCAN_TGIDS, src->old_scope, sizeof(src->old_scope));
	if (!ret)
		ret = hp_read_line(HP_SCAN_PERIOD, src->old_period, sizeof(src->old_period));
	if (!ret)
		ret = hp_read_line(HP_SCAN_PAGES, src->old_pages, sizeof(src->old_pages));
	if (!ret && !access(HP_SCAN_TOP_EVERY, F_OK))
		ret = hp_read_line(HP_SCAN_TOP_EVERY, src->old_top_every,
				   sizeof(src->old_top_every));
	if (ret)
		hp_set_err(err, err_len, "reading the scanner's settings: %s", strerror(-ret));
	if (!ret)
		ret = apply_params(opts->param, err, err_len);
	if (!ret) {
		ret = load(src, transport, opts);
		if (ret)
			hp_set_err(err, err_len, "loading raw_tp/" KMIGRATED_SCAN_TP ": %s",
				   strerror(-ret));
	}
	if (!ret)
		ret = set_scope(opts, err, err_len);
	if (ret) {
		destroy_bpf(src);
		restore_settings(src);
		free(src);
		return ret;
	}
	*out = src;
	return 0;
}

static void scan_stop(struct hp_source_instance *src)
{
	if (!src)
		return;
	destroy_bpf(src);
	restore_settings(src);
	free(src);
}

int hp_scan_source_set_period(__u32 period_ms)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", period_ms);
	return hp_write_text(HP_SCAN_PERIOD, buf);
}

int hp_scan_source_set_top_every(unsigned int every)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", every);
	return hp_write_text(HP_SCAN_TOP_EVERY, buf);
}

static struct bpf_object *scan_object(struct hp_source_instance *src)
{
	return src && src->skel ? src->skel->obj : NULL;
}

const struct hp_source_ops hp_source_scan = {
	.name = "scan",
	.id = HP_SRC_SCAN,
	.probe = scan_probe,
	.start = scan_start,
	.stop = scan_stop,
	.object = scan_object,
};
