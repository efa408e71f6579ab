// SPDX-License-Identifier: GPL-2.0
/* Named policies (policies.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "catf.h"
#include "cli.h"
#include "policies.h"

const char *const hp_named_policy_keys[] = { "scope", "promote", "demote", "share", "bpf", NULL };

/* Names go in commands, logs and metric labels: short, plain, no quoting needed. */
static bool valid_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || len >= HP_POLICY_NAME_MAX)
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == len;
}

static int parse_switch(const char *key, const char *value, bool *out, char *err, size_t err_len)
{
	if (!strcmp(value, "on") || !strcmp(value, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(value, "off") || !strcmp(value, "0")) {
		*out = false;
		return 0;
	}
	hp_set_err(err, err_len, "%s=%.64s: expected on or off", key, value);
	return -EINVAL;
}

static int parse_share(struct hp_named_policy *p, const char *value, char *err, size_t err_len)
{
	__u64 bytes;
	__u32 pct;
	int ret;

	if (!strcmp(value, "none")) {
		p->has_share = false;
		p->share_bytes = 0;
		p->share_pct = 0;
		return 0;
	}
	ret = hp_parse_size(value, &bytes, &pct);
	if (ret) {
		hp_set_err(
			err, err_len, "share=%.64s: %s", value,
			ret == -ERANGE && strchr(value, '%') ? "a percentage must be 0..100%"
			: ret == -ERANGE
				? "too large"
				: "expected none, a percentage of the fast tier (25%) or a size in bytes, K, M, G or T (512M)");
		return -EINVAL;
	}
	p->has_share = true;
	p->share_bytes = bytes;
	p->share_pct = pct;
	return 0;
}

static int set_key(struct hp_named_policy *p, const char *kv, char *err, size_t err_len)
{
	const char *eq = strchr(kv, '=');
	char key[16];
	size_t len;

	if (!eq || eq == kv) {
		hp_set_err(err, err_len, "'%.64s' is not key=value", kv);
		return -EINVAL;
	}
	len = (size_t)(eq - kv);
	if (len >= sizeof(key))
		len = sizeof(key) - 1;
	memcpy(key, kv, len);
	key[len] = '\0';
	if (!strcmp(key, "scope"))
		return hp_policy_set(&p->scope, kv, err, err_len);
	if (!strcmp(key, "promote"))
		return parse_switch(key, eq + 1, &p->promote, err, err_len);
	if (!strcmp(key, "demote"))
		return parse_switch(key, eq + 1, &p->demote, err, err_len);
	if (!strcmp(key, "share"))
		return parse_share(p, eq + 1, err, err_len);
	if (!strcmp(key, "bpf")) {
		const char *path = eq + 1;

		if (path[0] != '/' || strlen(path) >= sizeof(p->bpf)) {
			hp_set_err(err, err_len,
				   "bpf=%.64s: expected the absolute path of a BPF object, at most "
				   "%zu bytes",
				   path, sizeof(p->bpf) - 1);
			return -EINVAL;
		}
		snprintf(p->bpf, sizeof(p->bpf), "%s", path);
		return 0;
	}
	hp_set_err(
		err, err_len,
		"unknown key '%.16s' for a policy (keys: scope, promote, demote, share, bpf; the "
		"host's settings are 'policy set')",
		key);
	return -EINVAL;
}

int hp_policies_attach(struct hp_policies *ps, const char *name, const char *const *kv, size_t n,
		       char *err, size_t err_len)
{
	struct hp_named_policy p = { .promote = true, .demote = true };

	if (!valid_name(name)) {
		hp_set_err(err, err_len,
			   "policy name '%.64s': 1 to %d of a-z, 0-9, '_', '.', '-', starting with "
			   "a letter or digit",
			   name, HP_POLICY_NAME_MAX - 1);
		return -EINVAL;
	}
	if (hp_policies_find(ps, name)) {
		hp_set_err(err, err_len, "policy '%s' is attached already (detach it first)", name);
		return -EEXIST;
	}
	if (ps->n >= HP_POLICIES_MAX) {
		hp_set_err(err, err_len, "%d policies are attached, the most there can be",
			   HP_POLICIES_MAX);
		return -ENOSPC;
	}
	snprintf(p.name, sizeof(p.name), "%s", name);
	hp_policy_defaults(&p.scope);
	for (size_t i = 0; i < n; i++) {
		int ret = set_key(&p, kv[i], err, err_len);

		if (ret)
			return ret;
	}
	ps->p[ps->n++] = p;
	return 0;
}

int hp_policies_detach(struct hp_policies *ps, const char *name, char *err, size_t err_len)
{
	char names[HP_POLICIES_MAX * HP_POLICY_NAME_MAX] = "";
	size_t used = 0;

	for (size_t i = 0; i < ps->n; i++) {
		if (strcmp(ps->p[i].name, name) != 0)
			continue;
		memmove(&ps->p[i], &ps->p[i + 1], (ps->n - i - 1) * sizeof(ps->p[0]));
		ps->n--;
		return 0;
	}
	for (size_t i = 0; i < ps->n && used < sizeof(names); i++)
		used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
					 ps->p[i].name);
	hp_set_err(err, err_len, "no policy '%.64s' is attached (attached: %s)", name,
		   ps->n ? names : "none");
	return -ENOENT;
}

const struct hp_named_policy *hp_policies_find(const struct hp_policies *ps, const char *name)
{
	for (size_t i = 0; i < ps->n; i++)
		if (!strcmp(ps->p[i].name, name))
			return &ps->p[i];
	return NULL;
}

__u64 hp_named_policy_share(const struct hp_named_policy *p, __u64 fast_bytes)
{
	if (!p->has_share)
		return UINT64_MAX;
	if (p->share_pct)
		return fast_bytes / 100 * p->share_pct + fast_bytes % 100 * p->share_pct / 100;
	return p->share_bytes;
}

__u64 hp_named_policy_held(const struct hp_named_policy *p)
{
	__u64 sum = 0;

	for (int r = 0; r < HP_HOLD_NR; r++)
		sum += p->held[r];
	return sum;
}

bool hp_policies_have_share(const struct hp_policies *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->p[i].has_share)
			return true;
	return false;
}

bool hp_policies_need_cgroup(const struct hp_policies *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->p[i].scope.scope == HP_SCOPE_CGROUP)
			return true;
	return false;
}

/* Higher is more specific: process ids, then cgroups by depth, then all. */
static unsigned int specificity(const struct hp_named_policy *p)
{
	unsigned int depth = 0;

	switch (p->scope.scope) {
	case HP_SCOPE_TGIDS:
		return ~0u;
	case HP_SCOPE_CGROUP:
		for (const char *c = p->scope.cgroup; *c; c++)
			depth += *c == '/' && c[1];
		return 1 + depth;
	default:
		return 0;
	}
}

int hp_policies_match(const struct hp_policies *ps, __u32 tgid, const char *cgroup)
{
	unsigned int best_spec = 0;
	int best = -1;

	for (size_t i = 0; i < ps->n; i++) {
		unsigned int spec = specificity(&ps->p[i]);

		if ((best < 0 || spec > best_spec) &&
		    hp_policy_scope_covers(&ps->p[i].scope, tgid, cgroup)) {
			best = (int)i;
			best_spec = spec;
		}
	}
	return best;
}

void hp_named_policy_show_share(const struct hp_named_policy *p, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	__u64 v = p->share_bytes;
	int u = -1;

	if (!p->has_share) {
		snprintf(buf, len, "none");
		return;
	}
	if (p->share_pct) {
		snprintf(buf, len, "%u%%", p->share_pct);
		return;
	}
	/* The largest unit that says it exactly, as it reads back. */
	while (u < 3 && v && !(v & 1023)) {
		v >>= 10;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)v, units[u]);
}

int hp_named_policy_show(const struct hp_named_policy *p, char *buf, size_t len)
{
	char scope[HP_POLICY_TGIDS_MAX * 11 + 16];

	char share[32];

	hp_policy_show_scope(&p->scope, scope, sizeof(scope));
	hp_named_policy_show_share(p, share, sizeof(share));
	return snprintf(buf, len, "name=%s\nscope=%s\npromote=%s\ndemote=%s\nshare=%s\n%s%s%s",
			p->name, scope, p->promote ? "on" : "off", p->demote ? "on" : "off", share,
			p->bpf[0] ? "bpf=" : "", p->bpf, p->bpf[0] ? "\n" : "");
}
