// SPDX-License-Identifier: GPL-2.0
/* Promotion policy: defaults, key=value parsing with validation, display, decisions. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "heat.h"
#include "policy.h"
#include "topology.h"
#include "catf.h"

const char *const hp_policy_keys[] = {
	"threshold", /* windows with an access, of the last 8 */
	"window_ms", /* one window */
	"min_idle", /* windows without an access before a demotion */
	"target", /* auto or a node */
	"rate_mbps", /* MiB/s */
	"batch", /* pages per call */
	"scope", /* all, tgids:..., cgroup:... */
	"pingpong_ms", /* no second move within */
	"headroom", /* free memory kept on a fast node */
	NULL,
};

void hp_policy_defaults(struct hp_policy *policy)
{
	memset(policy, 0, sizeof(*policy));
	policy->threshold = 6;
	policy->window_ms = 1000;
	policy->min_idle = HP_HEAT_WINDOWS;
	policy->target_node = HP_POLICY_TARGET_AUTO;
	policy->rate_mbps = 256;
	policy->batch = 256;
	policy->pingpong_ms = 10000;
	policy->headroom_auto = true;
	policy->scope = HP_SCOPE_ALL;
}

/* A u32 in [min, max] for @key, with a message naming the key and the range. */
static int parse_u32_key(const char *key, const char *value, __u32 min, __u32 max, const char *unit,
			 __u32 *out, char *err, size_t err_len)
{
	int ret = hp_parse_u32(value, min, max, out);

	if (ret == -ERANGE)
		hp_set_err(err, err_len, "%s=%s: out of range: must be %u..%u%s", key, value, min,
			   max, unit);
	else if (ret)
		hp_set_err(err, err_len, "%s=%s: not a whole number%s", key, value, unit);
	return ret ? -EINVAL : 0;
}

/* "auto", "5%" or a size: digits with an optional K, M, G or T (binary units). */
static int parse_headroom(const char *key, const char *value, struct hp_policy *p, char *err,
			  size_t err_len)
{
	__u64 bytes;
	__u32 pct;
	int ret;

	if (!strcmp(value, "auto")) {
		p->headroom_auto = true;
		p->headroom_pct = 0;
		p->headroom_bytes = 0;
		return 0;
	}
	ret = hp_parse_size(value, &bytes, &pct);
	if (ret == -ERANGE) {
		hp_set_err(err, err_len, "%s=%s: %s", key, value,
			   strchr(value, '%') ? "a percentage must be 0..100%" : "too large");
		return -EINVAL;
	}
	if (ret) {
		hp_set_err(
			err, err_len,
			"%s=%s: expected auto, a percentage (5%%) or a size in bytes, K, M, G or T (512M)",
			key, value);
		return -EINVAL;
	}
	p->headroom_auto = false;
	p->headroom_pct = pct;
	p->headroom_bytes = bytes;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static int parse_tgids(const char *list, struct hp_policy *p, char *err, size_t err_len)
{
	const char *item = list;
	__u32 n = 0;

	for (;;) {
		char buf[16];
		size_t len = strcspn(item, ",");
		__u32 tgid;

		if (!len || len >= sizeof(buf)) {
			hp_set_err(err, err_len,
				   "scope=tgids:%s: expected process ids separated by ','", list);
			return -EINVAL;
		}
		memcpy(buf, item, len);
		buf[len] = '\0';
		if (hp_parse_u32(buf, 1, INT_MAX, &tgid)) {
			hp_set_err(err, err_len, "scope=tgids:%s: '%s' is not a process id", list,
				   buf);
			return -EINVAL;
		}
		if (n == HP_POLICY_TGIDS_MAX) {
			hp_set_err(err, err_len, "scope=tgids:...: more than %d processes",
				   HP_POLICY_TGIDS_MAX);
			return -EINVAL;
		}
		p->tgids[n++] = tgid;
		if (!item[len])
			break;
		item += len + 1;
	}
	qsort(p->tgids, n, sizeof(p->tgids[0]), cmp_u32);
	p->nr_tgids = 0;
	for (__u32 i = 0; i < n; i++) {
		if (!p->nr_tgids || p->tgids[p->nr_tgids - 1] != p->tgids[i])
			p->tgids[p->nr_tgids++] = p->tgids[i];
	}
	p->scope = HP_SCOPE_TGIDS;
	p->cgroup[0] = '\0';
	return 0;
}

static int parse_cgroup(const char *path, struct hp_policy *p, char *err, size_t err_len)
{
	size_t len = strlen(path);

	if (path[0] != '/') {
		hp_set_err(
			err, err_len,
			"scope=cgroup:%s: expected a cgroup v2 path from its root, e.g. /system.slice/db.service",
			path);
		return -EINVAL;
	}
	if (len >= sizeof(p->cgroup)) {
		hp_set_err(err, err_len, "scope=cgroup:...: path longer than %zu bytes",
			   sizeof(p->cgroup) - 1);
		return -EINVAL;
	}
	if (strstr(path, "/../") || (len >= 3 && !strcmp(path + len - 3, "/..")) ||
	    strchr(path, ',') || strchr(path, '\n')) {
		hp_set_err(err, err_len, "scope=cgroup:%s: '..', ',' and newlines are not allowed",
			   path);
		return -EINVAL;
	}
	/* "/a/b/" and "/a/b" are the same group; "/" stays. */
	while (len > 1 && path[len - 1] == '/')
		len--;
	memcpy(p->cgroup, path, len);
	p->cgroup[len] = '\0';
	p->scope = HP_SCOPE_CGROUP;
	p->nr_tgids = 0;
	return 0;
}

static int parse_scope(const char *value, struct hp_policy *p, char *err, size_t err_len)
{
	if (!strcmp(value, "all")) {
		p->scope = HP_SCOPE_ALL;
		p->nr_tgids = 0;
		p->cgroup[0] = '\0';
		return 0;
	}
	if (!strncmp(value, "tgids:", 6))
		return parse_tgids(value + 6, p, err, err_len);
	if (!strncmp(value, "cgroup:", 7))
		return parse_cgroup(value + 7, p, err, err_len);
	hp_set_err(err, err_len, "scope=%s: expected all, tgids:PID,PID,... or cgroup:/PATH",
		   value);
	return -EINVAL;
}

static int parse_target(const char *value, struct hp_policy *p, char *err, size_t err_len)
{
	__u32 node;

	if (!strcmp(value, "auto")) {
		p->target_node = HP_POLICY_TARGET_AUTO;
		return 0;
	}
	if (parse_u32_key("target", value, 0, HP_TOPO_MAX_NODES - 1, " (a node, or auto)", &node,
			  err, err_len))
		return -EINVAL;
	p->target_node = (int)node;
	return 0;
}

/* Parse into @p, which may be left half-changed: callers work on a copy. */
static int set_on(struct hp_policy *p, const char *key, const char *value, char *err,
		  size_t err_len)
{
	if (!strcmp(key, "threshold"))
		return parse_u32_key(key, value, 1, HP_POLICY_THRESHOLD_MAX,
				     " windows with an access, of the last 8", &p->threshold, err,
				     err_len);
	if (!strcmp(key, "window_ms"))
		return parse_u32_key(key, value, HP_POLICY_WINDOW_MIN_MS, HP_POLICY_WINDOW_MAX_MS,
				     " milliseconds", &p->window_ms, err, err_len);
	if (!strcmp(key, "min_idle"))
		return parse_u32_key(key, value, 1, HP_POLICY_MIN_IDLE_MAX,
				     " windows without an access", &p->min_idle, err, err_len);
	if (!strcmp(key, "target"))
		return parse_target(value, p, err, err_len);
	if (!strcmp(key, "rate_mbps"))
		return parse_u32_key(key, value, 0, HP_POLICY_RATE_MAX_MBPS,
				     " MiB/s (0 pauses promotion)", &p->rate_mbps, err, err_len);
	if (!strcmp(key, "batch"))
		return parse_u32_key(key, value, 1, HP_POLICY_BATCH_MAX, " pages", &p->batch, err,
				     err_len);
	if (!strcmp(key, "scope"))
		return parse_scope(value, p, err, err_len);
	if (!strcmp(key, "pingpong_ms"))
		return parse_u32_key(key, value, 0, HP_POLICY_PINGPONG_MAX_MS,
				     " milliseconds (0: no guard)", &p->pingpong_ms, err, err_len);
	/* min_free: the name of the headroom before demotion made room below it. */
	if (!strcmp(key, "headroom") || !strcmp(key, "min_free"))
		return parse_headroom(key, value, p, err, err_len);
	hp_set_err(
		err, err_len,
		"unknown key '%s' (keys: threshold, window_ms, min_idle, target, rate_mbps, batch, scope, pingpong_ms, headroom)",
		key);
	return -EINVAL;
}

int hp_policy_validate(const struct hp_policy *p, char *err, size_t err_len)
{
	if (p->threshold < 1 || p->threshold > HP_POLICY_THRESHOLD_MAX) {
		hp_set_err(
			err, err_len,
			"threshold=%u: out of range: must be 1..%u windows with an access, of the last 8",
			p->threshold, HP_POLICY_THRESHOLD_MAX);
		return -EINVAL;
	}
	if (p->window_ms < HP_POLICY_WINDOW_MIN_MS || p->window_ms > HP_POLICY_WINDOW_MAX_MS) {
		hp_set_err(err, err_len, "window_ms=%u: out of range: must be %u..%u milliseconds",
			   p->window_ms, HP_POLICY_WINDOW_MIN_MS, HP_POLICY_WINDOW_MAX_MS);
		return -EINVAL;
	}
	if (p->min_idle < 1 || p->min_idle > HP_POLICY_MIN_IDLE_MAX) {
		hp_set_err(err, err_len,
			   "min_idle=%u: out of range: must be 1..%u windows without an access",
			   p->min_idle, HP_POLICY_MIN_IDLE_MAX);
		return -EINVAL;
	}
	if (p->target_node != HP_POLICY_TARGET_AUTO &&
	    (p->target_node < 0 || p->target_node >= HP_TOPO_MAX_NODES)) {
		hp_set_err(err, err_len, "target=%d: must be auto or a node 0..%d", p->target_node,
			   HP_TOPO_MAX_NODES - 1);
		return -EINVAL;
	}
	if (p->rate_mbps > HP_POLICY_RATE_MAX_MBPS) {
		hp_set_err(err, err_len, "rate_mbps=%u: out of range: must be 0..%u MiB/s",
			   p->rate_mbps, HP_POLICY_RATE_MAX_MBPS);
		return -EINVAL;
	}
	if (p->batch < 1 || p->batch > HP_POLICY_BATCH_MAX) {
		hp_set_err(err, err_len, "batch=%u: out of range: must be 1..%u pages", p->batch,
			   HP_POLICY_BATCH_MAX);
		return -EINVAL;
	}
	if (p->pingpong_ms > HP_POLICY_PINGPONG_MAX_MS) {
		hp_set_err(err, err_len, "pingpong_ms=%u: out of range: must be 0..%u milliseconds",
			   p->pingpong_ms, HP_POLICY_PINGPONG_MAX_MS);
		return -EINVAL;
	}
	if (p->headroom_pct > 100) {
		hp_set_err(err, err_len, "headroom=%u%%: a percentage must be 0..100%%",
			   p->headroom_pct);
		return -EINVAL;
	}
	switch (p->scope) {
	case HP_SCOPE_ALL:
		break;
	case HP_SCOPE_TGIDS:
		if (!p->nr_tgids || p->nr_tgids > HP_POLICY_TGIDS_MAX) {
			hp_set_err(err, err_len, "scope=tgids: needs 1..%d process ids",
				   HP_POLICY_TGIDS_MAX);
			return -EINVAL;
		}
		break;
	case HP_SCOPE_CGROUP:
		if (p->cgroup[0] != '/' || !memchr(p->cgroup, '\0', sizeof(p->cgroup))) {
			hp_set_err(err, err_len, "scope=cgroup: needs a path starting with /");
			return -EINVAL;
		}
		break;
	default:
		hp_set_err(err, err_len, "scope: unknown kind %d", (int)p->scope);
		return -EINVAL;
	}
	return 0;
}

int hp_policy_set(struct hp_policy *policy, const char *assignment, char *err, size_t err_len)
{
	const char *eq = strchr(assignment, '=');
	struct hp_policy next = *policy;
	char key[32];
	size_t key_len;

	if (!eq || eq == assignment) {
		hp_set_err(err, err_len, "expected key=value, got '%s'", assignment);
		return -EINVAL;
	}
	key_len = (size_t)(eq - assignment);
	if (key_len >= sizeof(key)) {
		hp_set_err(err, err_len, "unknown key '%.*s'", (int)key_len, assignment);
		return -EINVAL;
	}
	memcpy(key, assignment, key_len);
	key[key_len] = '\0';
	if (set_on(&next, key, eq + 1, err, err_len))
		return -EINVAL;
	if (hp_policy_validate(&next, err, err_len))
		return -EINVAL;
	*policy = next;
	return 0;
}

int hp_policy_apply(struct hp_policy *policy, const char *const *assignments, size_t n, char *err,
		    size_t err_len)
{
	struct hp_policy next = *policy;

	for (size_t i = 0; i < n; i++) {
		if (hp_policy_set(&next, assignments[i], err, err_len))
			return -EINVAL;
	}
	*policy = next;
	return 0;
}

int hp_policy_show_scope(const struct hp_policy *p, char *buf, size_t len)
{
	int n;

	switch (p->scope) {
	case HP_SCOPE_TGIDS:
		n = snprintf(buf, len, "tgids:");
		for (__u32 i = 0; i < p->nr_tgids; i++)
			n += snprintf(buf + ((size_t)n < len ? (size_t)n : len),
				      (size_t)n < len ? len - (size_t)n : 0, "%s%u", i ? "," : "",
				      p->tgids[i]);
		return n;
	case HP_SCOPE_CGROUP:
		return snprintf(buf, len, "cgroup:%s", p->cgroup);
	default:
		return snprintf(buf, len, "all");
	}
}

int hp_policy_show(const struct hp_policy *p, char *buf, size_t len)
{
	char target[16], headroom[32], scope[HP_POLICY_TGIDS_MAX * 11 + 16];

	if (p->target_node == HP_POLICY_TARGET_AUTO)
		snprintf(target, sizeof(target), "auto");
	else
		snprintf(target, sizeof(target), "%d", p->target_node);
	if (p->headroom_auto)
		snprintf(headroom, sizeof(headroom), "auto");
	else if (p->headroom_pct || !p->headroom_bytes)
		snprintf(headroom, sizeof(headroom), "%u%%", p->headroom_pct);
	else
		snprintf(headroom, sizeof(headroom), "%llu", (unsigned long long)p->headroom_bytes);
	hp_policy_show_scope(p, scope, sizeof(scope));
	return snprintf(buf, len,
			"threshold=%u\nwindow_ms=%u\nmin_idle=%u\ntarget=%s\nrate_mbps=%u\n"
			"batch=%u\nscope=%s\npingpong_ms=%u\nheadroom=%s\n",
			p->threshold, p->window_ms, p->min_idle, target, p->rate_mbps, p->batch,
			scope, p->pingpong_ms, headroom);
}

__u64 hp_policy_rate_bytes(const struct hp_policy *policy)
{
	return (__u64)policy->rate_mbps << 20;
}

__u64 hp_policy_headroom(const struct hp_policy *policy, __u64 total_bytes, __u64 promo_bytes)
{
	if (policy->headroom_auto)
		return promo_bytes;
	if (policy->headroom_pct)
		return (__u64)((unsigned __int128)total_bytes * policy->headroom_pct / 100);
	return policy->headroom_bytes;
}

__u64 hp_policy_exclude_nodes(const struct hp_policy *policy, const struct hp_topology *topo)
{
	if (policy->target_node != HP_POLICY_TARGET_AUTO)
		return 1ULL << policy->target_node;
	return topo->top_tier;
}

int hp_policy_target_for(const struct hp_policy *policy, const struct hp_topology *topo,
			 int access_node, int page_node)
{
	int from;

	if (page_node < 0 || page_node >= HP_TOPO_MAX_NODES)
		return -ENOENT;
	if (policy->target_node != HP_POLICY_TARGET_AUTO) {
		if (!hp_topology_has_memory(topo, policy->target_node))
			return -ENODEV;
		return policy->target_node == page_node ? -ENOENT : policy->target_node;
	}
	if (hp_topology_is_top_tier(topo, page_node))
		return -ENOENT;
	/* Towards the CPUs that use the page; without that, near where it is. */
	from = page_node;
	if (access_node >= 0 && access_node < HP_TOPO_MAX_NODES &&
	    (topo->online >> access_node & 1))
		from = access_node;
	return hp_topology_nearest_top_tier(topo, from);
}

int hp_policy_room(const struct hp_policy *policy, const struct hp_topology *topo, int node,
		   __s64 *bytes, __u64 *headroom)
{
	struct hp_node_zones z;
	__u64 free_bytes, total;
	int ret;

	if (policy->headroom_auto) {
		/* Zone by zone, as the allocator will judge the pages moved in. */
		ret = hp_topology_node_zones(topo, node, &z);
		if (ret)
			return ret;
		*headroom = z.promo + z.reserve;
		*bytes = z.room;
		return 0;
	}
	ret = hp_topology_node_memory(topo, node, &free_bytes, &total);
	if (ret)
		return ret;
	*headroom = hp_policy_headroom(policy, total, 0);
	*bytes = (__s64)free_bytes - (__s64)*headroom;
	return 0;
}

bool hp_policy_read_cgroup(__u32 tgid, const char *proc_root, char *path, size_t len)
{
	char file[PATH_MAX], line[4096];
	bool found = false;
	FILE *f;

	snprintf(file, sizeof(file), "%s/%u/cgroup", proc_root, tgid);
	f = fopen(file, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, len, "%s", line + 3);
		found = true;
	}
	fclose(f);
	return found;
}

bool hp_policy_scope_covers(const struct hp_policy *policy, __u32 tgid, const char *cgroup)
{
	size_t len;

	switch (policy->scope) {
	case HP_SCOPE_ALL:
		return true;
	case HP_SCOPE_TGIDS:
		return bsearch(&tgid, policy->tgids, policy->nr_tgids, sizeof(policy->tgids[0]),
			       cmp_u32) != NULL;
	case HP_SCOPE_CGROUP:
		if (!tgid || !cgroup)
			return false;
		if (!strcmp(policy->cgroup, "/"))
			return true;
		len = strlen(policy->cgroup);
		return !strncmp(cgroup, policy->cgroup, len) &&
		       (cgroup[len] == '\0' || cgroup[len] == '/');
	}
	return false;
}

bool hp_policy_scope_admits(const struct hp_policy *policy, __u32 tgid, const char *proc_root)
{
	char path[4096];

	if (policy->scope != HP_SCOPE_CGROUP)
		return hp_policy_scope_covers(policy, tgid, NULL);
	return tgid && hp_policy_read_cgroup(tgid, proc_root, path, sizeof(path)) &&
	       hp_policy_scope_covers(policy, tgid, path);
}
