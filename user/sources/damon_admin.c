// SPDX-License-Identifier: GPL-2.0
/* DAMON contexts through /sys/kernel/mm/damon/admin; see damon_admin.h for ownership. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "damon_admin.h"
#include "sysfile.h"

int hp_damon_path(char *buf, size_t len, const char *root, int kdamond, const char *rel)
{
	int n;

	if (kdamond < 0)
		n = snprintf(buf, len, "%s/kdamonds/%s", root, rel);
	else
		n = snprintf(buf, len, "%s/kdamonds/%d/%s", root, kdamond, rel);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* @text without trailing whitespace equals @word. */
static bool word_is(const char *text, const char *word)
{
	size_t n = strlen(word), len = strlen(text);

	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	return len == n && memcmp(text, word, n) == 0;
}

int hp_damon_parse_state(const char *text, bool *on)
{
	if (word_is(text, "on"))
		*on = true;
	else if (word_is(text, "off"))
		*on = false;
	else
		return -EINVAL;
	return 0;
}

int hp_damon_parse_u64(const char *text, __u64 *value)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno)
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -EINVAL;
	*value = v;
	return 0;
}

static const char *const ops_names[] = {
	[HP_DAMON_OPS_VADDR] = "vaddr",
	[HP_DAMON_OPS_PADDR] = "paddr",
};

int hp_damon_parse_ops(const char *text, enum hp_damon_ops *ops)
{
	for (size_t i = 0; i < sizeof(ops_names) / sizeof(ops_names[0]); i++) {
		if (word_is(text, ops_names[i])) {
			*ops = (enum hp_damon_ops)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *hp_damon_ops_name(enum hp_damon_ops ops)
{
	return (size_t)ops < sizeof(ops_names) / sizeof(ops_names[0]) ? ops_names[ops] : "?";
}

static void describe(const struct hp_damon_kdamond *kd, char *buf, size_t len)
{
	if (kd->on)
		snprintf(buf, len, "kdamond %u (pid %d%s%s)", kd->index, kd->pid,
			 kd->ops[0] ? ", " : "", kd->ops);
	else
		snprintf(buf, len, "kdamond %u (off%s%s)", kd->index, kd->ops[0] ? ", " : "",
			 kd->ops);
}

int hp_damon_classify(const struct hp_damon_scan *scan, long self, bool (*alive)(long pid),
		      __u64 *stale, char *why, size_t why_len)
{
	char what[96];

	*stale = 0;
	if (scan->nr_kdamonds > HP_DAMON_SCAN_MAX) {
		snprintf(
			why, why_len,
			"DAMON busy: %u kdamonds exist (more than hotpage ever creates), not hotpage's",
			scan->nr_kdamonds);
		return -EBUSY;
	}
	for (unsigned int i = 0; i < scan->nr_kdamonds; i++) {
		const struct hp_damon_kdamond *kd = &scan->kd[i];

		describe(kd, what, sizeof(what));
		if (!kd->tagged) {
			if (kd->on)
				snprintf(
					why, why_len,
					"DAMON busy: %s is running and is not hotpage's; DAMON's sysfs adds a kdamond only while none runs (hotpage can observe it: damon kdamond=%u)",
					what, kd->index);
			else
				snprintf(
					why, why_len,
					"DAMON busy: %s is configured and is not hotpage's; adding a kdamond rewrites every kdamond directory and would lose that configuration",
					what);
			return -EBUSY;
		}
		if (kd->owner != self && alive(kd->owner)) {
			snprintf(
				why, why_len,
				"DAMON busy: %s belongs to hotpage process %ld, which is still running",
				what, kd->owner);
			return -EBUSY;
		}
		*stale |= 1ULL << i;
	}
	return 0;
}

bool hp_damon_pid_alive(long pid)
{
	return pid > 0 && (!kill((pid_t)pid, 0) || errno == EPERM);
}

/* ------------------------------------------------------------------ sysfs */

struct sysfs {
	const char *root;
	char *err;
	size_t err_len;
};

static int kd_read(const struct sysfs *fs, int kdamond, const char *rel, char *buf, size_t len)
{
	char path[512];
	int ret = hp_damon_path(path, sizeof(path), fs->root, kdamond, rel);

	return ret ? ret : hp_read_text(path, buf, len);
}

static int kd_read_u64(const struct sysfs *fs, int kdamond, const char *rel, __u64 *value)
{
	char text[64];
	int ret = kd_read(fs, kdamond, rel, text, sizeof(text));

	return ret ? ret : hp_damon_parse_u64(text, value);
}

/* Write and, on failure, say which file refused what. */
static int kd_write(const struct sysfs *fs, int kdamond, const char *rel, const char *text)
{
	char path[512];
	int ret = hp_damon_path(path, sizeof(path), fs->root, kdamond, rel);

	if (!ret)
		ret = hp_write_text(path, text);
	if (ret)
		snprintf(fs->err, fs->err_len, "writing '%s' to %s: %s", text, path,
			 strerror(-ret));
	return ret;
}

static int kd_write_u64(const struct sysfs *fs, int kdamond, const char *rel, __u64 value)
{
	char text[32];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
	return kd_write(fs, kdamond, rel, text);
}

#define CTX0 "contexts/0/"
#define TAG_SCHEME CTX0 "schemes/0/"

static void scan_tag(const struct sysfs *fs, struct hp_damon_kdamond *kd)
{
	__u64 nr = 0, sz_min = 0, sz_max = 0, age_min = 0, age_max = 0;
	char action[32];

	if (kd_read_u64(fs, (int)kd->index, CTX0 "schemes/nr_schemes", &nr) || !nr ||
	    kd_read(fs, (int)kd->index, TAG_SCHEME "action", action, sizeof(action)) ||
	    !word_is(action, "stat") ||
	    kd_read_u64(fs, (int)kd->index, TAG_SCHEME "access_pattern/sz/min", &sz_min) ||
	    kd_read_u64(fs, (int)kd->index, TAG_SCHEME "access_pattern/sz/max", &sz_max) ||
	    kd_read_u64(fs, (int)kd->index, TAG_SCHEME "access_pattern/age/min", &age_min) ||
	    kd_read_u64(fs, (int)kd->index, TAG_SCHEME "access_pattern/age/max", &age_max))
		return;
	if (sz_min == HP_DAMON_TAG && sz_max == HP_DAMON_TAG && age_min == age_max) {
		kd->tagged = true;
		kd->owner = (long)age_min;
	}
}

static int scan_one(const struct sysfs *fs, unsigned int index, struct hp_damon_kdamond *kd)
{
	char text[64];
	__u64 v;
	int ret;

	*kd = (struct hp_damon_kdamond){ .index = index, .pid = -1 };
	ret = kd_read(fs, (int)index, "state", text, sizeof(text));
	if (!ret)
		ret = hp_damon_parse_state(text, &kd->on);
	if (ret)
		return ret;
	/* "pid" shows -1 when off: not a u64. */
	if (!kd_read(fs, (int)index, "pid", text, sizeof(text)))
		kd->pid = atoi(text);
	if (kd_read_u64(fs, (int)index, "contexts/nr_contexts", &v) || !v)
		return 0;
	kd->nr_contexts = (int)v;
	if (!kd_read(fs, (int)index, CTX0 "operations", kd->ops, sizeof(kd->ops)))
		kd->ops[strcspn(kd->ops, "\n")] = '\0';
	if (!kd_read_u64(fs, (int)index, CTX0 "targets/nr_targets", &v))
		kd->nr_targets = (unsigned int)v;
	for (unsigned int t = 0; t < kd->nr_targets && t < HP_DAMON_PIDS_MAX; t++) {
		char rel[96];

		snprintf(rel, sizeof(rel), CTX0 "targets/%u/pid_target", t);
		if (!kd_read_u64(fs, (int)index, rel, &v))
			kd->target_pids[t] = (__u32)v;
	}
	scan_tag(fs, kd);
	return 0;
}

static int scan(const struct sysfs *fs, struct hp_damon_scan *out)
{
	char path[512];
	__u64 nr;
	int ret;

	memset(out, 0, sizeof(*out));
	hp_damon_path(path, sizeof(path), fs->root, -1, "nr_kdamonds");
	if (access(fs->root, F_OK)) {
		ret = -errno;
		snprintf(
			fs->err, fs->err_len,
			"DAMON's sysfs interface is absent (no %s: kernel without CONFIG_DAMON_SYSFS)",
			fs->root);
		return ret;
	}
	ret = kd_read_u64(fs, -1, "nr_kdamonds", &nr);
	if (ret) {
		snprintf(fs->err, fs->err_len, "reading %s: %s", path, strerror(-ret));
		return ret;
	}
	out->nr_kdamonds = (unsigned int)nr;
	for (unsigned int i = 0; i < out->nr_kdamonds && i < HP_DAMON_SCAN_MAX; i++) {
		ret = scan_one(fs, i, &out->kd[i]);
		if (ret) {
			snprintf(fs->err, fs->err_len, "reading kdamond %u under %s: %s", i,
				 fs->root, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int hp_damon_scan(const char *root, struct hp_damon_scan *out, char *err, size_t err_len)
{
	struct sysfs fs = { .root = root, .err = err, .err_len = err_len };

	return scan(&fs, out);
}

/* ------------------------------------------------------ in-kernel users */

int hp_damon_exclusive(const char *modules_root, char *why, size_t why_len)
{
	static const struct {
		const char *module, *name;
	} users[] = {
		{ "damon_stat", "DAMON_STAT" },
		{ "damon_reclaim", "DAMON_RECLAIM" },
		{ "damon_lru_sort", "DAMON_LRU_SORT" },
	};
	char enabled[400], path[512], text[32], pid[48] = "";

	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		snprintf(enabled, sizeof(enabled), "%s/%s/parameters/enabled", modules_root,
			 users[i].module);
		if (hp_read_text(enabled, text, sizeof(text)) || !word_is(text, "Y"))
			continue;
		/* Enabled but not running (it failed to start): no obstacle. */
		snprintf(path, sizeof(path), "%s/%s/parameters/kdamond_pid", modules_root,
			 users[i].module);
		if (!hp_read_text(path, text, sizeof(text))) {
			if (atoi(text) <= 0)
				continue;
			snprintf(pid, sizeof(pid), " (pid %d)", atoi(text));
		}
		snprintf(
			why, why_len,
			"DAMON busy: %s runs its kdamond%s exclusively, and DAMON starts no other while it does; turn it off to use DAMON here (echo N > %s, or boot with %s.enabled=N)",
			users[i].name, pid, enabled, users[i].module);
		return -EBUSY;
	}
	return 0;
}

/* Turn off a running kdamond; it may also stop by itself meanwhile (its targets exited). */
static int turn_off(const struct sysfs *fs, unsigned int index)
{
	char text[16];
	bool on = false;
	int ret;

	if (kd_read(fs, (int)index, "state", text, sizeof(text)) ||
	    hp_damon_parse_state(text, &on) || !on)
		return 0;
	ret = kd_write(fs, (int)index, "state", "off");
	if (ret && !kd_read(fs, (int)index, "state", text, sizeof(text)) &&
	    !hp_damon_parse_state(text, &on) && !on)
		ret = 0;
	return ret;
}

/* Turn off the stale kdamonds in @stale and, when all are, remove them all. */
static int remove_stale(const struct sysfs *fs, const struct hp_damon_scan *s, __u64 stale)
{
	int ret;

	for (unsigned int i = 0; i < s->nr_kdamonds; i++) {
		if (!(stale & (1ULL << i)))
			continue;
		ret = turn_off(fs, i);
		if (ret)
			return ret;
	}
	if (s->nr_kdamonds &&
	    stale == (s->nr_kdamonds >= 64 ? ~0ULL : (1ULL << s->nr_kdamonds) - 1))
		return kd_write(fs, -1, "nr_kdamonds", "0");
	return 0;
}

static int configure(const struct sysfs *fs, const struct hp_damon_spec *spec, long self)
{
	const struct hp_damon_attrs *a = &spec->attrs;
	char rel[128];
	int ret;

	ret = kd_write(fs, 0, "contexts/nr_contexts", "1");
	if (!ret)
		ret = kd_write(fs, 0, CTX0 "operations", hp_damon_ops_name(spec->ops));
	if (!ret)
		ret = kd_write_u64(fs, 0, CTX0 "monitoring_attrs/intervals/sample_us",
				   a->sample_us);
	if (!ret)
		ret = kd_write_u64(fs, 0, CTX0 "monitoring_attrs/intervals/aggr_us", a->aggr_us);
	if (!ret)
		ret = kd_write_u64(fs, 0, CTX0 "monitoring_attrs/intervals/update_us",
				   a->update_us);
	if (!ret)
		ret = kd_write_u64(fs, 0, CTX0 "monitoring_attrs/nr_regions/max",
				   a->max_nr_regions);
	if (!ret)
		ret = kd_write_u64(fs, 0, CTX0 "monitoring_attrs/nr_regions/min",
				   a->min_nr_regions);
	if (ret)
		return ret;

	if (spec->ops == HP_DAMON_OPS_VADDR) {
		ret = kd_write_u64(fs, 0, CTX0 "targets/nr_targets", spec->nr_pids);
		for (size_t i = 0; !ret && i < spec->nr_pids; i++) {
			snprintf(rel, sizeof(rel), CTX0 "targets/%zu/pid_target", i);
			ret = kd_write_u64(fs, 0, rel, spec->pids[i]);
		}
	} else {
		/* One physical target; its regions are the ranges (the default would be the largest System RAM block). */
		ret = kd_write(fs, 0, CTX0 "targets/nr_targets", "1");
		if (!ret)
			ret = kd_write_u64(fs, 0, CTX0 "targets/0/regions/nr_regions",
					   spec->nr_ranges);
		for (size_t i = 0; !ret && i < spec->nr_ranges; i++) {
			snprintf(rel, sizeof(rel), CTX0 "targets/0/regions/%zu/start", i);
			ret = kd_write_u64(fs, 0, rel, spec->ranges[i].start);
			snprintf(rel, sizeof(rel), CTX0 "targets/0/regions/%zu/end", i);
			if (!ret)
				ret = kd_write_u64(fs, 0, rel, spec->ranges[i].end);
		}
	}
	if (ret)
		return ret;

	/* The tag (see damon_admin.h). */
	ret = kd_write(fs, 0, CTX0 "schemes/nr_schemes", "1");
	if (!ret)
		ret = kd_write(fs, 0, TAG_SCHEME "action", "stat");
	if (!ret)
		ret = kd_write_u64(fs, 0, TAG_SCHEME "access_pattern/sz/max", HP_DAMON_TAG);
	if (!ret)
		ret = kd_write_u64(fs, 0, TAG_SCHEME "access_pattern/sz/min", HP_DAMON_TAG);
	if (!ret)
		ret = kd_write_u64(fs, 0, TAG_SCHEME "access_pattern/age/max", (__u64)self);
	if (!ret)
		ret = kd_write_u64(fs, 0, TAG_SCHEME "access_pattern/age/min", (__u64)self);
	return ret;
}

static int check_spec(const struct hp_damon_spec *spec, char *err, size_t err_len)
{
	const struct hp_damon_attrs *a = &spec->attrs;

	if (spec->ops == HP_DAMON_OPS_VADDR &&
	    (!spec->nr_pids || spec->nr_pids > HP_DAMON_PIDS_MAX)) {
		snprintf(err, err_len, "vaddr monitoring needs 1 to %d processes, got %zu",
			 HP_DAMON_PIDS_MAX, spec->nr_pids);
		return -EINVAL;
	}
	if (spec->ops == HP_DAMON_OPS_PADDR && !spec->nr_ranges) {
		snprintf(err, err_len, "paddr monitoring needs at least one address range");
		return -EINVAL;
	}
	if (spec->ops != HP_DAMON_OPS_VADDR && spec->ops != HP_DAMON_OPS_PADDR) {
		snprintf(err, err_len, "unknown DAMON operations %d", (int)spec->ops);
		return -EINVAL;
	}
	/* DAMON's own rules (damon_set_attrs), checked here for a clearer message. */
	if (!a->sample_us || a->aggr_us < a->sample_us || !a->update_us || a->min_nr_regions < 3 ||
	    a->max_nr_regions < a->min_nr_regions) {
		snprintf(
			err, err_len,
			"bad DAMON attributes: need 0 < sample_us <= aggr_us, update_us > 0 and 3 <= min_nr_regions <= max_nr_regions");
		return -EINVAL;
	}
	return 0;
}

int hp_damon_start(const char *root, const struct hp_damon_spec *spec, struct hp_damon_ctx *ctx,
		   char *err, size_t err_len)
{
	struct sysfs fs = { .root = root, .err = err, .err_len = err_len };
	struct hp_damon_scan s;
	long self = (long)getpid();
	char text[32], cleanup_err[256];
	__u64 stale;
	int ret;

	memset(ctx, 0, sizeof(*ctx));
	ret = check_spec(spec, err, err_len);
	if (ret)
		return ret;
	ret = scan(&fs, &s);
	if (ret)
		return ret;
	ret = hp_damon_classify(&s, self, hp_damon_pid_alive, &stale, err, err_len);
	if (ret)
		return ret;
	ret = remove_stale(&fs, &s, stale);
	if (ret)
		return ret;

	/* Every kdamond left was ours and is gone: the list is empty now. */
	ret = kd_write(&fs, -1, "nr_kdamonds", "1");
	if (ret)
		return ret;
	snprintf(ctx->root, sizeof(ctx->root), "%s", root);
	ctx->index = 0;
	ctx->ops = spec->ops;
	ctx->pid = -1;
	ret = configure(&fs, spec, self);
	if (!ret)
		ret = kd_write(&fs, 0, "state", "on");
	if (!ret) {
		ret = kd_read(&fs, 0, "pid", text, sizeof(text));
		if (!ret)
			ctx->pid = atoi(text);
		if (ret || ctx->pid <= 0) {
			snprintf(err, err_len, "kdamond 0 did not start (pid '%s')",
				 ret ? strerror(-ret) : text);
			ret = -EIO;
		}
	}
	if (ret) {
		/* Keep the first error; the clean-up's own goes nowhere. */
		struct sysfs quiet = { .root = root,
				       .err = cleanup_err,
				       .err_len = sizeof(cleanup_err) };

		turn_off(&quiet, 0);
		kd_write(&quiet, -1, "nr_kdamonds", "0");
		return ret;
	}
	return 0;
}

int hp_damon_commit_attrs(const struct hp_damon_ctx *ctx, const struct hp_damon_attrs *attrs,
			  char *err, size_t err_len)
{
	struct sysfs fs = { .root = ctx->root, .err = err, .err_len = err_len };
	struct hp_damon_spec spec = {
		.ops = ctx->ops, .attrs = *attrs, .nr_pids = 1, .nr_ranges = 1
	};
	int i = (int)ctx->index;
	int ret;

	ret = check_spec(&spec, err, err_len);
	if (!ret)
		ret = kd_write_u64(&fs, i, CTX0 "monitoring_attrs/intervals/sample_us",
				   attrs->sample_us);
	if (!ret)
		ret = kd_write_u64(&fs, i, CTX0 "monitoring_attrs/intervals/aggr_us",
				   attrs->aggr_us);
	if (!ret)
		ret = kd_write_u64(&fs, i, CTX0 "monitoring_attrs/intervals/update_us",
				   attrs->update_us);
	if (!ret)
		ret = kd_write_u64(&fs, i, CTX0 "monitoring_attrs/nr_regions/max",
				   attrs->max_nr_regions);
	if (!ret)
		ret = kd_write_u64(&fs, i, CTX0 "monitoring_attrs/nr_regions/min",
				   attrs->min_nr_regions);
	if (!ret)
		ret = kd_write(&fs, i, "state", "commit");
	return ret;
}

int hp_damon_stop(const struct hp_damon_ctx *ctx, char *err, size_t err_len)
{
	struct sysfs fs = { .root = ctx->root, .err = err, .err_len = err_len };
	struct hp_damon_scan s;
	long self = (long)getpid();
	bool all_ours = true;
	int ret;

	if (!ctx->root[0])
		return 0;
	ret = scan(&fs, &s);
	if (ret)
		return ret;
	if (ctx->index >= s.nr_kdamonds || ctx->index >= HP_DAMON_SCAN_MAX ||
	    !s.kd[ctx->index].tagged || s.kd[ctx->index].owner != self) {
		snprintf(err, err_len,
			 "kdamond %u is no longer hotpage's (process %ld): left as it is",
			 ctx->index, self);
		return -ESRCH;
	}
	ret = turn_off(&fs, ctx->index);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < s.nr_kdamonds && i < HP_DAMON_SCAN_MAX; i++)
		if (!s.kd[i].tagged || (s.kd[i].owner != self && hp_damon_pid_alive(s.kd[i].owner)))
			all_ours = false;
	/* Another user's kdamond appeared meanwhile: removing ours would reset it too. */
	if (!all_ours || s.nr_kdamonds > HP_DAMON_SCAN_MAX)
		return 0;
	return kd_write(&fs, -1, "nr_kdamonds", "0");
}

int hp_damon_reclaim_stale(const char *root, char *err, size_t err_len)
{
	struct sysfs fs = { .root = root, .err = err, .err_len = err_len };
	struct hp_damon_scan s;
	__u64 stale;
	int ret;

	ret = scan(&fs, &s);
	if (ret)
		return ret;
	ret = hp_damon_classify(&s, (long)getpid(), hp_damon_pid_alive, &stale, err, err_len);
	if (ret)
		return ret;
	ret = remove_stale(&fs, &s, stale);
	return ret ? ret : (int)s.nr_kdamonds;
}
