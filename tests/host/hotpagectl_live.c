// SPDX-License-Identifier: GPL-2.0
/*
 * hotpagectl against a running hotpaged on this host:
 *  - attach/detach: the daemon's BPF links (its fds, and the kernel's
 *    link IDs) come and go, the sources share one ring outer map, the
 *    fault counters move while attached, and no event flows with nothing
 *    attached; detaching one source leaves the other one flowing;
 *  - policy set: all or none, clear errors, exit codes 0/1/2;
 *  - a non-root client is refused (by the socket's mode, and by
 *    SO_PEERCRED when the mode would let it in);
 *  - `metrics` follows the Prometheus text exposition format;
 *  - a second daemon refuses a live socket; a stale one (SIGKILL) is
 *    replaced; SIGTERM removes it.
 */
#include <ctype.h>
#include <dirent.h>
#include <grp.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "hp_ctl_test.h"
#include "hp_toucher.h"

#define MAX_LINKS 64
#define FLOW_TIMEOUT_MS 10000

struct link {
	__u32 id, prog_id;
	char type[32];
};

static const char *sock_path;
static char sock_buf[128];

/* The BPF links @pid holds, from /proc/PID/fdinfo. */
static int daemon_links(pid_t pid, struct link *links, int max)
{
	char dir[64], path[340], line[256];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", (int)pid);
	d = opendir(dir);
	hp_check(d, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) && n < max) {
		struct link l = { 0 };
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			sscanf(line, "link_type: %31s", l.type);
			sscanf(line, "link_id: %u", &l.id);
			sscanf(line, "prog_id: %u", &l.prog_id);
		}
		fclose(f);
		if (l.id)
			links[n++] = l;
	}
	closedir(d);
	return n;
}

static int count_type(const struct link *links, int n, const char *type)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += !strcmp(links[i].type, type);
	return c;
}

/* Does the kernel still know link @id (bpftool link show would list it)? */
static bool link_exists(__u32 id)
{
	int fd = bpf_link_get_fd_by_id(id);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Wait until link @id is gone (its release may trail the close a little). */
static void wait_link_gone(__u32 id)
{
	double deadline = hpc_now_ms() + 5000;

	while (link_exists(id)) {
		hp_check(hpc_now_ms() < deadline, "link %u still exists 5 s after detach", id);
		usleep(20 * 1000);
	}
}

/* The ARRAY_OF_MAPS (hp_rings) program @prog_id uses; 0 if none. */
static __u32 rings_map_of(__u32 prog_id)
{
	__u32 map_ids[32] = { 0 };
	struct bpf_prog_info info = { .nr_map_ids = 32, .map_ids = (__u64)(unsigned long)map_ids };
	__u32 len = sizeof(info), found = 0;
	int fd = bpf_prog_get_fd_by_id(prog_id);

	hp_check(fd >= 0, "prog %u: %s", prog_id, strerror(errno));
	hp_check(!bpf_obj_get_info_by_fd(fd, &info, &len), "prog info: %s", strerror(errno));
	close(fd);
	for (__u32 i = 0; i < info.nr_map_ids && i < 32; i++) {
		struct bpf_map_info mi = { 0 };
		__u32 mlen = sizeof(mi);
		int mfd = bpf_map_get_fd_by_id(map_ids[i]);

		if (mfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &mlen) &&
		    mi.type == BPF_MAP_TYPE_ARRAY_OF_MAPS)
			found = mi.id;
		close(mfd);
	}
	return found;
}

/* Wait until @object.@key of stats grows past @from; returns the new value. */
static __u64 wait_growth(const char *object, const char *key, __u64 from)
{
	double deadline = hpc_now_ms() + FLOW_TIMEOUT_MS;
	__u64 v;

	while ((v = hpc_stat(sock_path, object, key)) <= from) {
		hp_check(hpc_now_ms() < deadline, "%s.%s stayed at %llu for %d ms", object, key,
			 (unsigned long long)v, FLOW_TIMEOUT_MS);
		usleep(100 * 1000);
	}
	return v;
}

/* Run hotpagectl -S sock @args...; its exit code, stderr into @err. */
static int run_ctl(char *err, size_t err_len, const char *const *args)
{
	char path[PATH_MAX], cmd[2048], errfile[64];
	FILE *f;
	size_t n;
	int status, len;

	hpc_bin_path("hotpagectl", path, sizeof(path));
	snprintf(errfile, sizeof(errfile), "/tmp/hotpagectl-live-%d.err", (int)getpid());
	len = snprintf(cmd, sizeof(cmd), "%s -S %s", path, sock_path);
	for (size_t i = 0; args[i]; i++)
		len += snprintf(cmd + len, sizeof(cmd) - (size_t)len, " '%s'", args[i]);
	snprintf(cmd + len, sizeof(cmd) - (size_t)len, " >/dev/null 2>%s", errfile);
	status = system(cmd);
	f = fopen(errfile, "re");
	n = f ? fread(err, 1, err_len - 1, f) : 0;
	err[n] = '\0';
	if (f)
		fclose(f);
	unlink(errfile);
	hp_check(WIFEXITED(status), "%s: status 0x%x", cmd, status);
	return WEXITSTATUS(status);
}

#define expect_ctl(code, needle, ...)                                                              \
	do {                                                                                       \
		const char *const args_[] = { __VA_ARGS__, NULL };                                 \
		char err_[1024];                                                                   \
		int rc_ = run_ctl(err_, sizeof(err_), args_);                                      \
		hp_check(rc_ == (code), "hotpagectl %s: exit %d, expected %d (%s)", args_[0], rc_, \
			 (code), err_);                                                            \
		hp_check(!(needle)[0] || strstr(err_, (needle)),                                   \
			 "hotpagectl %s: stderr lacks \"%s\": %s", args_[0], (needle), err_);      \
		printf("  hotpagectl %s ...: exit %d %.*s\n", args_[0], rc_,                       \
		       (int)strcspn(err_, "\n"), err_);                                            \
	} while (0)

static void check_attach_detach(pid_t daemon)
{
	struct link links[MAX_LINKS], perf_links[MAX_LINKS] = { 0 };
	int n, nfault, nperf;
	__u32 rings_fault, rings_perf;
	__u64 v, e1, e2;
	char *text;

	printf("attach/detach\n");
	n = daemon_links(daemon, links, MAX_LINKS);
	nfault = n;
	hp_check(n > 0, "hotpaged -s fault holds no BPF link");
	for (int i = 0; i < n; i++)
		hp_check(link_exists(links[i].id), "link %u of the daemon unknown to the kernel",
			 links[i].id);
	rings_fault = rings_map_of(links[0].prog_id);
	hp_check(rings_fault, "fault program uses no ARRAY_OF_MAPS");
	v = wait_growth("fault", "emitted", 0);
	printf("  fault: %d link(s) (%s), emitted %llu\n", n, links[0].type, (unsigned long long)v);

	free(hpc_ok(sock_path, "attach perf period=1"));
	n = daemon_links(daemon, links, MAX_LINKS);
	nperf = count_type(links, n, "perf");
	hp_check(nperf > 0 && n == nfault + nperf, "after attach perf: %d links, %d perf", n,
		 nperf);
	for (int i = 0, j = 0; i < n; i++)
		if (!strcmp(links[i].type, "perf"))
			perf_links[j++] = links[i];
	rings_perf = rings_map_of(perf_links[0].prog_id);
	hp_check(rings_perf == rings_fault, "perf uses rings map %u, fault %u: not shared",
		 rings_perf, rings_fault);
	v = wait_growth("perf", "emitted", 0);
	text = hpc_ok(sock_path, "sources");
	hp_check(strstr(text, "perf       yes       yes      1 "), "sources: perf not attached: %s",
		 text);
	free(text);
	printf("  attach perf period=1: +%d perf links, same rings map %u, emitted %llu\n", nperf,
	       rings_perf, (unsigned long long)v);

	free(hpc_ok(sock_path, "detach perf"));
	for (int i = 0; i < nperf; i++)
		wait_link_gone(perf_links[i].id);
	n = daemon_links(daemon, links, MAX_LINKS);
	hp_check(n == nfault && !count_type(links, n, "perf"), "after detach perf: %d links", n);
	v = hpc_stat(sock_path, "fault", "emitted");
	v = wait_growth("fault", "emitted", v);
	printf("  detach perf: its %d links gone from the kernel, fault still flowing (%llu)\n",
	       nperf, (unsigned long long)v);

	free(hpc_ok(sock_path, "detach fault"));
	for (int i = 0; i < n; i++)
		wait_link_gone(links[i].id);
	hp_check(daemon_links(daemon, links, MAX_LINKS) == 0, "links left with no source");
	usleep(300 * 1000); /* what was in the rings is read */
	e1 = hpc_stat(sock_path, "daemon", "events");
	usleep(1000 * 1000);
	e2 = hpc_stat(sock_path, "daemon", "events");
	hp_check(e2 == e1, "events moved with no source attached: %llu -> %llu",
		 (unsigned long long)e1, (unsigned long long)e2);
	v = hpc_stat(sock_path, "daemon", "events_staged");
	hp_check(v <= e2, "%llu events taken from stages, %llu events in all",
		 (unsigned long long)v, (unsigned long long)e2);
	text = hpc_ok(sock_path, "stats --json");
	hp_check(!strstr(text, "\"fault\":"), "detached fault still has counters: %s", text);
	free(text);
	printf("  detach fault: no link, events stay at %llu for 1 s (%llu from stages)\n",
	       (unsigned long long)e2, (unsigned long long)v);

	free(hpc_ok(sock_path, "attach fault"));
	n = daemon_links(daemon, links, MAX_LINKS);
	hp_check(n == nfault, "attach fault again: %d links, expected %d", n, nfault);
	v = wait_growth("fault", "emitted", 0);
	e2 = wait_growth("daemon", "events", e2);
	printf("  attach fault: %d link(s) back, emitted %llu, events %llu\n", n,
	       (unsigned long long)v, (unsigned long long)e2);
}

static void check_policy_and_errors(void)
{
	char *before, *after;

	printf("policy and errors\n");
	before = hpc_ok(sock_path, "policy show");
	expect_ctl(1, "threshold=0", "policy", "set", "rate_mbps=0", "threshold=0");
	expect_ctl(1, "unknown key", "policy", "set", "nosuch=1");
	after = hpc_ok(sock_path, "policy show");
	hp_check(!strcmp(before, after), "a refused policy set changed the policy:\n%s\n%s", before,
		 after);
	free(after);
	expect_ctl(0, "", "policy", "set", "rate_mbps=0", "window_ms=500");
	after = hpc_ok(sock_path, "policy show");
	hp_check(strstr(after, "rate_mbps=0\n") && strstr(after, "window_ms=500\n"),
		 "policy set not shown: %s", after);
	free(after);
	expect_ctl(0, "", "policy", "set", "rate_mbps=256", "window_ms=1000");
	free(before);
	expect_ctl(1, "no source named", "attach", "nosuch");
	expect_ctl(1, "not attached", "detach", "perf");
	expect_ctl(1, "attached already", "attach", "fault");
	expect_ctl(2, "unknown command", "frobnicate");
	expect_ctl(2, "usage", "top", "-n", "0");
	expect_ctl(2, "usage", "stats", "--xml");
	expect_ctl(2, "usage", "policy", "set");
	expect_ctl(0, "", "top", "-n", "5");
	expect_ctl(0, "", "status");
}

/* hp_ctl_call status as uid/gid 65534; its return, as the child's exit code. */
static int call_as_nobody(char *text, size_t len)
{
	int pipefd[2], status, ret;
	pid_t pid;
	ssize_t n;

	hp_check(!pipe(pipefd), "pipe: %s", strerror(errno));
	pid = fork();
	hp_check(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		char *answer = NULL;

		close(pipefd[0]);
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(100);
		ret = hpc_call(sock_path, "status", &answer);
		if (answer && write(pipefd[1], answer, strlen(answer)) < 0)
			_exit(101);
		_exit(-ret & 0x7f);
	}
	close(pipefd[1]);
	n = read(pipefd[0], text, len - 1);
	text[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	hp_check(waitpid(pid, &status, 0) == pid && WIFEXITED(status), "child: 0x%x", status);
	hp_check(WEXITSTATUS(status) < 100, "could not become nobody (%d)", WEXITSTATUS(status));
	return -WEXITSTATUS(status);
}

static void check_non_root(void)
{
	char text[512];
	__u64 refused0 = hpc_stat(sock_path, "daemon", "control_refused");
	int ret;

	printf("non-root client\n");
	ret = call_as_nobody(text, sizeof(text));
	hp_check(ret == -EACCES, "nobody on the 0600 socket: %d (%s), expected -EACCES", ret, text);
	printf("  socket mode 0600: connect refused (%s)\n", text);
	/* Prove SO_PEERCRED refuses on its own, should the mode ever let someone in. */
	hp_check(!chmod(sock_path, 0666), "chmod: %s", strerror(errno));
	ret = call_as_nobody(text, sizeof(text));
	chmod(sock_path, 0600);
	hp_check(ret == -EACCES && strstr(text, "only root"),
		 "nobody on a 0666 socket: %d (%s), expected the daemon's EACCES", ret, text);
	hp_check(hpc_stat(sock_path, "daemon", "control_refused") == refused0 + 1,
		 "control_refused did not count the refusal");
	printf("  socket mode 0666: daemon answered EACCES \"%s\"\n", text);
	free(hpc_ok(sock_path, "status"));
	printf("  root: status ok\n");
}

/* ---- Prometheus text format (exposition format 0.0.4) */

static bool metric_name_ok(const char *s, size_t n)
{
	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return false;
	return true;
}

static bool label_name_ok(const char *s, size_t n)
{
	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return !(n >= 2 && s[0] == '_' && s[1] == '_'); /* reserved */
}

#define MAX_NAMES 256

struct prom_state {
	char names[MAX_NAMES][96]; /* metric names, in order of their first line */
	char types[MAX_NAMES][16];
	bool help[MAX_NAMES], sampled[MAX_NAMES];
	int n, current; /* the metric whose lines come now */
	char series[1024][192];
	int nseries, samples;
};

static int prom_find(struct prom_state *st, const char *name, size_t len, bool add)
{
	for (int i = 0; i < st->n; i++)
		if (strlen(st->names[i]) == len && !strncmp(st->names[i], name, len))
			return i;
	hp_check(add, "metric %.*s has samples but no TYPE line before them", (int)len, name);
	hp_check(st->n < MAX_NAMES && len < sizeof(st->names[0]), "too many metric names");
	memcpy(st->names[st->n], name, len);
	st->names[st->n][len] = '\0';
	return st->n++;
}

/* "# HELP name text" or "# TYPE name type" (other comments are allowed). */
static void prom_comment(struct prom_state *st, const char *line)
{
	bool is_help = !strncmp(line, "# HELP ", 7), is_type = !strncmp(line, "# TYPE ", 7);
	const char *name = line + 7, *sp;
	size_t len;
	int i;

	if (!is_help && !is_type)
		return;
	sp = strchr(name, ' ');
	hp_check(sp, "%s: no text after the name", line);
	len = (size_t)(sp - name);
	hp_check(metric_name_ok(name, len), "%s: bad metric name", line);
	hp_check(!strncmp(name, "hotpage_", 8), "%s: not hotpage_ prefixed", line);
	i = prom_find(st, name, len, true);
	hp_check(!st->sampled[i], "%s: after the metric's samples", line);
	if (is_help) {
		hp_check(!st->help[i], "%s: second HELP", line);
		/* In HELP, only \\ and \n are escapes. */
		for (const char *p = sp + 1; *p; p++)
			if (*p == '\\') {
				hp_check(p[1] == '\\' || p[1] == 'n', "%s: bad escape in HELP",
					 line);
				p++;
			}
		st->help[i] = true;
	} else {
		hp_check(!st->types[i][0], "%s: second TYPE", line);
		hp_check(!strcmp(sp + 1, "counter") || !strcmp(sp + 1, "gauge") ||
				 !strcmp(sp + 1, "histogram") || !strcmp(sp + 1, "summary") ||
				 !strcmp(sp + 1, "untyped"),
			 "%s: unknown type", line);
		snprintf(st->types[i], sizeof(st->types[i]), "%s", sp + 1);
		if (!strcmp(sp + 1, "counter"))
			hp_check(len > 6 && !strncmp(name + len - 6, "_total", 6),
				 "%s: counter name does not end in _total", line);
	}
	st->current = i;
}

/* name{label="value",...} value [timestamp] */
static void prom_sample(struct prom_state *st, const char *line)
{
	const char *p = line, *vstart;
	char *end;
	size_t len;
	int i;

	while (*p && *p != '{' && *p != ' ')
		p++;
	len = (size_t)(p - line);
	hp_check(metric_name_ok(line, len), "%s: bad metric name", line);
	i = prom_find(st, line, len, false);
	hp_check(st->types[i][0], "%s: no TYPE line", line);
	hp_check(i == st->current, "%s: samples of %s are not together", line, st->names[i]);
	st->sampled[i] = true;
	if (*p == '{') {
		char seen[8][64];
		int nlabels = 0;

		p++;
		while (*p != '}') {
			const char *eq = strchr(p, '=');

			hp_check(eq && label_name_ok(p, (size_t)(eq - p)), "%s: bad label name",
				 line);
			for (int k = 0; k < nlabels; k++)
				hp_check(strlen(seen[k]) != (size_t)(eq - p) ||
						 strncmp(seen[k], p, (size_t)(eq - p)) != 0,
					 "%s: label repeated", line);
			snprintf(seen[nlabels < 8 ? nlabels : 7], sizeof(seen[0]), "%.*s",
				 (int)(eq - p), p);
			nlabels++;
			hp_check(eq[1] == '"', "%s: label value not quoted", line);
			for (p = eq + 2; *p != '"'; p++) {
				hp_check(*p && *p != '\n', "%s: label value not closed", line);
				if (*p == '\\') {
					hp_check(p[1] == '\\' || p[1] == '"' || p[1] == 'n',
						 "%s: bad escape in a label value", line);
					p++;
				}
			}
			p++;
			if (*p == ',')
				p++;
			else
				hp_check(*p == '}', "%s: labels not separated by ','", line);
		}
		p++;
	}
	hp_check(*p == ' ', "%s: no space before the value", line);
	vstart = p + 1;
	errno = 0;
	(void)strtod(vstart, &end);
	hp_check(end != vstart && (*end == '\0' || *end == ' ') && !errno, "%s: bad value", line);
	if (!strcmp(st->types[i], "counter"))
		hp_check(vstart[0] != '-', "%s: negative counter", line);
	len = (size_t)(vstart - 1 - line);
	for (int k = 0; k < st->nseries; k++)
		hp_check(strlen(st->series[k]) != len || strncmp(st->series[k], line, len) != 0,
			 "%s: series repeated", line);
	if (st->nseries < 1024)
		snprintf(st->series[st->nseries++], sizeof(st->series[0]), "%.*s", (int)len, line);
	st->samples++;
}

static void check_metrics(void)
{
	char *text = hpc_ok(sock_path, "metrics");
	struct prom_state *st = calloc(1, sizeof(*st));
	char *save = NULL;
	size_t len = strlen(text);

	printf("metrics\n");
	hp_check(st, "out of memory");
	st->current = -1;
	hp_check(len && text[len - 1] == '\n', "metrics does not end in a newline");
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			prom_comment(st, line);
		else
			prom_sample(st, line);
	}
	for (int i = 0; i < st->n; i++)
		hp_check(st->sampled[i], "metric %s has no sample", st->names[i]);
	free(text);
	text = hpc_ok(sock_path, "metrics");
	hp_check(strstr(text, "\nhotpage_source_emitted_total{source=\"fault\"} "),
		 "no emitted counter of the fault source");
	hp_check(strstr(text, "\nhotpage_promote_requests_by_outcome_total{outcome=\"moved\"} "),
		 "no promotion outcome counter");
	hp_check(strstr(text, "\nhotpage_module_loaded "), "no module state");
	printf("  %d metrics, %d samples: HELP/TYPE once and first, names and labels valid, "
	       "counters _total, samples grouped, no repeated series\n",
	       st->n, st->samples);
	free(text);
	free(st);
}

static void check_socket_lifecycle(pid_t *daemon, const char *const *args)
{
	char log[64];
	pid_t second;
	int status;
	struct stat st;

	printf("socket lifecycle\n");
	snprintf(log, sizeof(log), "/tmp/hotpagectl-live-%d.log", (int)getpid());
	second = hpc_daemon_start(sock_path, args, log);
	hp_check(waitpid(second, &status, 0) == second, "waitpid: %s", strerror(errno));
	hp_check(WIFEXITED(status) && WEXITSTATUS(status) != 0,
		 "a second hotpaged on a live socket: status 0x%x, expected a refusal", status);
	free(hpc_ok(sock_path, "status"));
	printf("  second daemon refused (exit %d), the first still answers\n", WEXITSTATUS(status));
	unlink(log);

	kill(*daemon, SIGKILL);
	waitpid(*daemon, &status, 0);
	hp_check(!stat(sock_path, &st) && S_ISSOCK(st.st_mode), "no stale socket after SIGKILL");
	*daemon = hpc_daemon_start(sock_path, args, NULL);
	hpc_wait_ready(*daemon, sock_path);
	hp_check(!stat(sock_path, &st) && (st.st_mode & 0777) == 0600,
		 "restarted socket mode %o, expected 600", st.st_mode & 0777);
	printf("  SIGKILL left the socket; the next start replaced it (mode 0600)\n");
}

int main(void)
{
	static const char *const args[] = {
		"-s", "fault", "-p", "stats=0", "-p", "period=1", NULL
	};
	pid_t toucher, daemon;
	struct stat st;
	int status;

	hp_require_root();
	hpc_socket_path("live", sock_buf, sizeof(sock_buf));
	sock_path = sock_buf;
	toucher = hp_toucher_start(64, 2000);
	daemon = hpc_daemon_start(sock_path, args, NULL);
	hpc_wait_ready(daemon, sock_path);
	hp_check(!stat(sock_path, &st) && (st.st_mode & 0777) == 0600 && st.st_uid == 0,
		 "socket mode %o uid %u, expected 600 root", st.st_mode & 0777, st.st_uid);
	hp_check(!stat("/run/hotpage", &st) && (st.st_mode & 0777) == 0755,
		 "/run/hotpage mode %o, expected 755", st.st_mode & 0777);

	check_attach_detach(daemon);
	check_policy_and_errors();
	check_non_root();
	check_metrics();
	check_socket_lifecycle(&daemon, args);

	hpc_daemon_stop(daemon, sock_path);
	printf("SIGTERM: exit 0, socket removed\n");
	kill(toucher, SIGKILL);
	waitpid(toucher, &status, 0);
	printf("pass\n");
	return 0;
}
