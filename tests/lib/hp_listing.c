// SPDX-License-Identifier: GPL-2.0
/* hotpage-sources' listing checked against what each source really does. */
#include "hp_listing.h"

void listing_bin_path(const char *program, char *buf, size_t len)
{
	char exe[512];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	hp_check(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	for (int i = 0; i < 3; i++) {
		slash = strrchr(exe, '/');
		hp_check(slash, "unexpected test path %s", exe);
		*slash = '\0';
	}
	snprintf(buf, len, "%s/bin/%s", exe, program);
}

static int listing_read(struct listing_line *lines, int max)
{
	char path[600], cmd[700], text[1024];
	int n = 0, status;
	FILE *out;

	listing_bin_path("hotpage-sources", path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "%s", path);
	out = popen(cmd, "r");
	hp_check(out, "popen %s: %s", cmd, strerror(errno));
	while (fgets(text, sizeof(text), out)) {
		char state[32];
		int detail_at = 0;

		text[strcspn(text, "\n")] = '\0';
		printf("| %s\n", text);
		hp_check(n < max, "more than %d lines", max);
		hp_check(sscanf(text, "%31s %31s %n", lines[n].name, state, &detail_at) == 2 &&
				 detail_at > 0,
			 "line '%s' is not NAME STATE DETAIL", text);
		hp_check(!strcmp(state, "available") || !strcmp(state, "unavailable"),
			 "%s: state '%s'", lines[n].name, state);
		lines[n].available = !strcmp(state, "available");
		snprintf(lines[n].detail, sizeof(lines[n].detail), "%s", text + detail_at);
		n++;
	}
	status = pclose(out);
	hp_check(status == 0, "hotpage-sources exited with status %#x", (unsigned int)status);
	return n;
}

/* Does the source start, with its defaults, into a fresh transport? */
static bool listing_starts(const struct hp_source_ops *ops)
{
	struct hp_transport_opts topts = { 0 };
	struct hp_source_opts opts = { 0 };
	struct hp_transport *transport = NULL;
	struct hp_source_instance *src = NULL;
	char err[256];
	int ret;

	ret = hp_transport_new(&topts, &transport, err, sizeof(err));
	hp_check(!ret, "transport: %s", err);
	ret = ops->start(transport, &opts, &src, err, sizeof(err));
	if (!ret)
		ops->stop(src);
	hp_transport_free(transport);
	return !ret;
}

int hp_listing_main(void)
{
	static const char *const names[LISTING_SOURCES] = { "fault", "numa-hint", "perf", "damon",
							    "scan" };
	static const char *const checked[] = { "fault", "perf", "scan" };
	struct listing_line lines[LISTING_SOURCES + 1];
	int n;

	hp_require_root();
	setvbuf(stdout, NULL, _IOLBF, 0);
	n = listing_read(lines, LISTING_SOURCES + 1);
	hp_check(n == LISTING_SOURCES, "%d lines, expected %d", n, LISTING_SOURCES);
	for (int i = 0; i < n; i++) {
		const char *d = lines[i].detail;

		hp_check(!strcmp(lines[i].name, names[i]), "line %d names '%s', expected '%s'",
			 i + 1, lines[i].name, names[i]);
		hp_check(strlen(d) >= 8 && !strstr(d, "(no reason given)") &&
				 strncmp(d, "(no detail)", 11) != 0,
			 "%s: detail '%s' says nothing", lines[i].name, d);
	}
	for (size_t i = 0; i < sizeof(checked) / sizeof(checked[0]); i++) {
		const struct hp_source_ops *ops = hp_source_find(checked[i]);
		bool starts;
		int line = -1;

		hp_check(ops, "no source '%s' in the registry", checked[i]);
		for (int j = 0; j < n; j++)
			if (!strcmp(lines[j].name, checked[i]))
				line = j;
		starts = listing_starts(ops);
		printf("%s: listed %s, start %s\n", checked[i],
		       lines[line].available ? "available" : "unavailable",
		       starts ? "works" : "fails");
		hp_check(starts == lines[line].available, "%s: listed %s but start %s", checked[i],
			 lines[line].available ? "available" : "unavailable",
			 starts ? "works" : "fails");
	}
	return 0;
}
