// SPDX-License-Identifier: GPL-2.0
/* Tests of the control socket: a hotpaged to talk to, and hotpagectl calls. */
#include "hp_ctl_test.h"

double hpc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void hpc_bin_path(const char *name, char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	hp_check(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	snprintf(buf, len, "%s/../../bin/%s", dirname(self), name);
	if (access(buf, X_OK))
		hp_skip("%s not built", buf);
}

void hpc_socket_path(const char *test, char *buf, size_t len)
{
	snprintf(buf, len, "/run/hotpage/test-%s-%d.sock", test, (int)getpid());
}

pid_t hpc_daemon_start(const char *sock, const char *const *args, const char *log)
{
	char path[PATH_MAX], sockarg[160];
	const char *argv[64];
	int argc = 0;
	pid_t pid;

	hpc_bin_path("hotpaged", path, sizeof(path));
	snprintf(sockarg, sizeof(sockarg), "socket=%s", sock);
	argv[argc++] = path;
	argv[argc++] = "-p";
	argv[argc++] = sockarg;
	for (size_t i = 0; args && args[i] && argc < 62; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	pid = fork();
	hp_check(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* the daemon cleans up when the test dies */
		if (log) {
			int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

			if (fd >= 0)
				dup2(fd, STDERR_FILENO);
		}
		execv(path, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

int hpc_call(const char *sock, const char *cmdline, char **text)
{
	char buf[1024], *save = NULL;
	char *argv[HP_CTL_ARGS_MAX];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", cmdline);
	for (char *w = strtok_r(buf, " ", &save); w && argc < HP_CTL_ARGS_MAX;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	return hp_ctl_call(sock, argc, argv, HPC_CALL_TIMEOUT_MS, text);
}

char *hpc_ok(const char *sock, const char *cmdline)
{
	char *text = NULL;
	int ret = hpc_call(sock, cmdline, &text);

	hp_check(ret == 0, "hotpagectl %s: %s (%s)", cmdline, text ? text : "?", strerror(-ret));
	return text;
}

void hpc_wait_ready(pid_t daemon, const char *sock)
{
	double deadline = hpc_now_ms() + HPC_START_TIMEOUT_MS;
	int status;

	while (hpc_now_ms() < deadline) {
		char *text = NULL;
		int ret;

		hp_check(waitpid(daemon, &status, WNOHANG) == 0,
			 "hotpaged exited early (status 0x%x)", status);
		ret = hpc_call(sock, "status", &text);
		free(text);
		if (!ret)
			return;
		usleep(100 * 1000);
	}
	hp_fail("hotpaged did not answer on %s within %d ms", sock, HPC_START_TIMEOUT_MS);
}

void hpc_daemon_stop(pid_t daemon, const char *sock)
{
	struct stat st;
	int status;

	hp_check(kill(daemon, SIGTERM) == 0, "kill: %s", strerror(errno));
	hp_check(waitpid(daemon, &status, 0) == daemon, "waitpid: %s", strerror(errno));
	hp_check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "hotpaged after SIGTERM: status 0x%x, expected exit 0", status);
	hp_check(stat(sock, &st) != 0, "%s still there after SIGTERM", sock);
	rmdir("/run/hotpage"); /* only when empty: a real daemon's stays */
}

/*
 * In `stats --json` text: the number of "@key" inside the object
 * "@object" (NULL: anywhere). true when found.
 */
static bool hpc_json_u64(const char *json, const char *object, const char *key, __u64 *out)
{
	char want[96];
	size_t from = 0, to = strlen(json);
	const char *hit;

	if (object) {
		snprintf(want, sizeof(want), "\"%s\":{", object);
		hit = strstr(json, want);
		if (!hit)
			return false;
		from = (size_t)(hit - json) + strlen(want);
		to = from + strcspn(json + from, "}");
	}
	snprintf(want, sizeof(want), "\"%s\":", key);
	hit = strstr(json + from, want);
	if (!hit || (size_t)(hit - json) > to)
		return false;
	return sscanf(hit + strlen(want), "%llu", (unsigned long long *)out) == 1;
}

__u64 hpc_stat(const char *sock, const char *object, const char *key)
{
	char *text = NULL;
	__u64 v = 0;
	int ret = hpc_call(sock, "stats --json", &text);

	hp_check(ret == 0, "hotpagectl stats --json: %s (%s)", text ? text : "?", strerror(-ret));

	hp_check(hpc_json_u64(text, object, key, &v), "no %s.%s in stats --json: %s",
		 object ? object : "", key, text);
	free(text);
	return v;
}
