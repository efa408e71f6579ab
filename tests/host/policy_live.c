// SPDX-License-Identifier: GPL-2.0
/*
 * Named policies against a running hotpaged on this host (control plane;
 * where pages go under them is tier_policies' part, in a guest):
 *  - policies declared at start (-p policy.NAME=...) replace the default
 *    one; without any, "default" covers everything;
 *  - attach, show, list and detach live, with their refusals: bad names,
 *    bad or unknown keys, a name taken, too many, detaching what is not
 *    there; a refusal changes nothing;
 *  - `policy list` says how much resident memory no policy covers: a
 *    process of ours outside every scope is counted, inside one it is not;
 *  - stats and metrics carry a section per policy, which comes and goes
 *    with it;
 *  - random `policy attach` arguments never stop the daemon.
 */
#include <sys/mman.h>

#include "hp_ctl_test.h"
#include "hotpage/hot_pages.h"
#include "policies.h"

static char sock[128];

/* hpc_call that must fail with @want and say @needle. */
static void refused(const char *cmdline, int want, const char *needle)
{
	char *text = NULL;
	int ret = hpc_call(sock, cmdline, &text);

	hp_check(ret == want && text && strstr(text, needle),
		 "hotpagectl %s: %d '%s', expected %d and '%s'", cmdline, ret, text ? text : "",
		 want, needle);
	free(text);
}

/* The "not covered: N processes, X MiB" line of policy list. */
static void uncovered(unsigned long *procs, double *mib)
{
	char *text = hpc_ok(sock, "policy list"), *p = strstr(text, "not covered: ");

	hp_check(p && sscanf(p, "not covered: %lu processes, %lf MiB", procs, mib) == 2,
		 "policy list has no 'not covered' line:\n%s", text);
	free(text);
}

/* policy list without its last line, whose resident figures move with everyone's memory. */
static char *policy_rows(void)
{
	char *text = hpc_ok(sock, "policy list"), *p = strstr(text, "not covered: ");

	if (p)
		*p = '\0';
	return text;
}

static bool listed(const char *name)
{
	char *text = hpc_ok(sock, "policy list"), line[64];
	bool found;

	snprintf(line, sizeof(line), "\n%s ", name);
	found = strstr(text, line) != NULL;
	free(text);
	return found;
}

static void start_with_declared(void)
{
	static const char *const args[] = {
		"-s", "fault",
		"-p", "stats=0",
		"-p", "policy.db=scope=cgroup:/hotpage-test.slice demote=off",
		"-p", "policy.batch=scope=tgids:1 promote=off",
		NULL
	};
	char *text;
	pid_t d = hpc_daemon_start(sock, args, NULL);

	hpc_wait_ready(d, sock);
	hp_check(listed("db") && listed("batch") && !listed("default"),
		 "declared policies not the ones attached");
	text = hpc_ok(sock, "policy show db");
	hp_check(strstr(text, "scope=cgroup:/hotpage-test.slice\n") &&
			 strstr(text, "promote=on\n") && strstr(text, "demote=off\n"),
		 "policy show db:\n%s", text);
	free(text);
	hpc_daemon_stop(d, sock);
}

/* build/bpf/policies/NAME.bpf.o */
static void policy_obj(const char *name, char *buf, size_t len)
{
	char bin[PATH_MAX - 64];

	hpc_bin_path("hotpaged", bin, sizeof(bin));
	*strrchr(bin, '/') = '\0'; /* build/bin */
	*strrchr(bin, '/') = '\0'; /* build */
	snprintf(buf, len, "%s/bpf/policies/%s.bpf.o", bin, name);
}

/* Programs: the examples load, every bad one is refused with its reason, nothing changes. */
static void programs(void)
{
	static const struct {
		const char *obj;
		int ret;
		const char *why;
	} bad[] = {
		{ "bad_section", -EINVAL, "hp_score is in section \"tracepoint/" },
		{ "bad_verifier", -EACCES, "the kernel refused it (Permission denied): " },
		{ "bad_nomap", -ENOENT, "no map hp_score_batch" },
		{ "bad_noprog", -ENOENT, "no program named hp_score" },
		{ "bad_scores", -EINVAL, "a trial batch: it scored page 0 5000, outside 0..1000" },
		{ "bad_retval", -EINVAL, "a trial batch: it returned 7, not 0" },
		{ "bad_slow", -ETIME, "a trial batch: it took " },
	};
	char path[PATH_MAX], cmd[PATH_MAX + 64], *before, *text;

	before = policy_rows();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		policy_obj(bad[i].obj, path, sizeof(path));
		snprintf(cmd, sizeof(cmd), "policy attach p%zu bpf=%s", i, path);
		refused(cmd, bad[i].ret, bad[i].why);
	}
	refused("policy attach p bpf=/nonexistent/x.bpf.o", -ENOENT,
		"/nonexistent/x.bpf.o: No such file or directory");
	refused("policy attach p bpf=/etc/hostname", -EINVAL, "not a BPF object");
	refused("policy attach p bpf=/", -EINVAL, "not a regular file");
	refused("policy attach p bpf=recency.bpf.o", -EINVAL, "expected the absolute path");
	text = policy_rows();
	hp_check(!strcmp(text, before), "a refused program changed the list:\n%s\n%s", before,
		 text);
	free(text);
	free(before);

	policy_obj("recency", path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "policy attach fresh scope=cgroup:/web.slice bpf=%s", path);
	text = hpc_ok(sock, cmd);
	hp_check(strstr(text, "bpf=/") && strstr(text, "program: attached\n"),
		 "attach with a program answered:\n%s", text);
	free(text);
	hp_check(hpc_stat(sock, "fresh", "program_runs") == 0, "fresh: program runs counted");
	policy_obj("latency_boost", path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "policy attach boosted bpf=%s", path);
	free(hpc_ok(sock, cmd));
	hp_check(!access(HP_PIN_DIR "/hp_boost", F_OK), "latency_boost: no pinned hp_boost map");
	free(hpc_ok(sock, "policy detach fresh"));
	free(hpc_ok(sock, "policy detach boosted"));
	/* The boosts are the operator's: they outlive the policy; this test's go. */
	unlink(HP_PIN_DIR "/hp_boost");
}

static void fuzz_attach(void)
{
	static const char *const words[] = {
		"scope=",    "promote=",
		"demote=",   "tgids:",
		"cgroup:/",  "all",
		"on",	     "off",
		"1",	     "x",
		"=",	     ",",
		"..",	     "%n%s",
		"-",	     "Zz",
		"scope=all", "a.b",
		"default",   "policy",
		"attach",    "12345678901234567890123456789012345",
	};
	unsigned int seed = 4242;

	for (int i = 0; i < 400; i++) {
		char cmd[512] = "policy attach ";
		char *text = NULL;
		int nw = 1 + rand_r(&seed) % 4, ret;
		size_t used = strlen(cmd);

		for (int w = 0; w < nw; w++) {
			if (w && rand_r(&seed) % 3)
				used += (size_t)snprintf(cmd + used, sizeof(cmd) - used, " ");
			for (int k = rand_r(&seed) % 3; k >= 0; k--)
				used += (size_t)snprintf(
					cmd + used, sizeof(cmd) - used, "%s",
					words[rand_r(&seed) % (sizeof(words) / sizeof(words[0]))]);
		}
		ret = hpc_call(sock, cmd, &text);
		hp_check(ret == 0 || (text && text[0]), "'%s': %d without a reason", cmd, ret);
		free(text);
		if (ret == 0) { /* keep room for the next ones */
			char name[64] = "", det[128];

			sscanf(cmd + strlen("policy attach "), "%63s", name);
			snprintf(det, sizeof(det), "policy detach %s", name);
			free(hpc_ok(sock, det));
		}
	}
	free(hpc_ok(sock, "status"));
}

int main(void)
{
	static const char *const args[] = { "-s", "fault", "-p", "stats=0", NULL };
	char *text, name[32], cmd[160], *before;
	unsigned long procs0, procs1;
	double mib0, mib1;
	pid_t daemon, child;
	int fds[2];

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	hpc_socket_path("policies", sock, sizeof(sock));

	start_with_declared();

	daemon = hpc_daemon_start(sock, args, NULL);
	hpc_wait_ready(daemon, sock);
	text = hpc_ok(sock, "policy show default");
	hp_check(strstr(text, "scope=all\n") && strstr(text, "promote=on\n"),
		 "the default policy:\n%s", text);
	free(text);
	uncovered(&procs0, &mib0);
	hp_check(procs0 == 0, "%lu processes not covered with the default policy attached", procs0);

	/* A child with 64 MiB resident, its own: outside every scope once default is gone. */
	hp_check(!pipe(fds), "pipe: %s", strerror(errno));
	child = fork();
	hp_check(child >= 0, "fork: %s", strerror(errno));
	if (child == 0) {
		char *p = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		char c = p == MAP_FAILED ? 'x' : 'r';

		if (write(fds[1], &c, 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	{
		char c = 0;

		hp_check(read(fds[0], &c, 1) == 1 && c == 'r',
			 "the child could not map its memory");
	}

	before = policy_rows();
	refused("policy attach Bad", -EINVAL, "policy name 'Bad'");
	refused("policy attach x threshold=3", -EINVAL, "unknown key 'threshold' for a policy");
	refused("policy attach x promote=maybe", -EINVAL, "expected on or off");
	refused("policy attach x scope=tgids:abc", -EINVAL, "is not a process id");
	refused("policy attach default", -EEXIST, "attached already");
	refused("policy detach nosuch", -ENOENT,
		"no policy 'nosuch' is attached (attached: default)");
	refused("policy show nosuch", -ENOENT, "no policy 'nosuch'");
	refused("policy attach x promote", -EINVAL, "is not key=value");
	text = policy_rows();
	hp_check(!strcmp(text, before), "a refused attach changed the list:\n%s\n%s", before, text);
	free(text);
	free(before);

	for (int i = 1; i < HP_POLICIES_MAX; i++) {
		snprintf(cmd, sizeof(cmd), "policy attach p%d scope=tgids:%d", i, i);
		free(hpc_ok(sock, cmd));
	}
	refused("policy attach one-more", -ENOSPC, "the most there can be");
	for (int i = 1; i < HP_POLICIES_MAX; i++) {
		snprintf(cmd, sizeof(cmd), "policy detach p%d", i);
		free(hpc_ok(sock, cmd));
	}

	/* Scoped to the child: covered; default gone: the rest is not. */
	snprintf(cmd, sizeof(cmd), "policy attach mine scope=tgids:%d promote=off share=25%%",
		 (int)child);
	text = hpc_ok(sock, cmd);
	hp_check(strstr(text, "name=mine\n") && strstr(text, "promote=off\n") &&
			 strstr(text, "share=25%\n") && strstr(text, "promoted_pages: 0\n"),
		 "attach answered:\n%s", text);
	free(text);
	/* Its memory on the fast tier (here the one node), as its numa_maps count it. */
	hp_check(hpc_stat(sock, "mine", "fast_bytes") >= 60ULL << 20,
		 "mine: fast_bytes %llu, the child has 64 MiB",
		 (unsigned long long)hpc_stat(sock, "mine", "fast_bytes"));
	hp_check(hpc_stat(sock, "mine", "share_bytes") > 0, "mine: no share_bytes");
	printf("mine: fast_bytes %llu, share_bytes %llu (25%%)\n",
	       (unsigned long long)hpc_stat(sock, "mine", "fast_bytes"),
	       (unsigned long long)hpc_stat(sock, "mine", "share_bytes"));
	free(hpc_ok(sock, "policy detach default"));
	hp_check(!listed("default") && listed("mine"), "detach default: list wrong");
	uncovered(&procs1, &mib1);
	hp_check(procs1 > 0, "nothing reported uncovered with only a one-process policy attached");
	free(hpc_ok(sock, "policy detach mine"));
	uncovered(&procs0, &mib0);
	hp_check(procs0 == procs1 + 1 && mib0 >= mib1 + 60,
		 "the child (64 MiB) not counted once its policy went: %lu procs %.1f MiB, then "
		 "%lu %.1f MiB",
		 procs1, mib1, procs0, mib0);
	printf("not covered: %lu processes, %.1f MiB with the child's policy; %lu, %.1f MiB "
	       "without\n",
	       procs1, mib1, procs0, mib0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	/* Stats and metrics per policy, for as long as it is attached. */
	free(hpc_ok(sock, "policy attach web scope=cgroup:/web.slice"));
	hp_check(hpc_stat(sock, "web", "promoted_pages") == 0, "stats: no policy web section");
	text = hpc_ok(sock, "metrics");
	hp_check(strstr(text, "hotpage_policy_promoted_pages_total{policy=\"web\"} 0\n") != NULL &&
			 strstr(text, "hotpage_policy_held_pages_by_reason_total{policy=\"web\","
				      "reason=\"share_full\"} 0\n") != NULL,
		 "metrics: no per-policy line:\n%.2000s", text);
	hp_check(hpc_stat(sock, "web", "held_no_room") == 0, "stats: no held_no_room for web");
	free(text);
	free(hpc_ok(sock, "policy detach web"));
	text = hpc_ok(sock, "stats");
	hp_check(!strstr(text, "policy web"), "stats still has policy web:\n%s", text);
	free(text);

	programs();
	fuzz_attach();
	snprintf(name, sizeof(name), "default");
	snprintf(cmd, sizeof(cmd), "policy attach %s", name);
	free(hpc_ok(sock, cmd));
	hpc_daemon_stop(daemon, sock);
	printf("pass\n");
	return 0;
}
