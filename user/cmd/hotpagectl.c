// SPDX-License-Identifier: GPL-2.0
/*
 * hotpagectl: control a running hotpaged through its control socket
 * (include/hotpage/control.h). Exit codes: 0 done, 1 the daemon answered
 * with an error (or could not be reached), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "heatmap.h"

/* Long enough for `sources`, which probes every source. */
#define CALL_TIMEOUT_MS 30000

static const char *socket_path = HP_CTL_SOCKET_DEFAULT;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hotpagectl [-S SOCKET] COMMAND [ARGS]\n"
		"\n"
		"  -S, --socket PATH   hotpaged's control socket (" HP_CTL_SOCKET_DEFAULT ")\n"
		"\n"
		"Commands:\n%s",
		hp_ctl_usage);
}

/* A command hotpaged serves: send it, print the answer. */
static int forward(int argc, char **argv)
{
	char err[256];
	char *text = NULL;
	int ret;

	ret = hp_ctl_check(argc, (const char *const *)argv, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "hotpagectl: %s\n", err);
		return 2;
	}
	ret = hp_ctl_call(socket_path, argc, argv, CALL_TIMEOUT_MS, &text);
	if (ret) {
		size_t len = text ? strlen(text) : 0;

		fprintf(stderr, "hotpagectl: %s%s", text ? text : strerror(-ret),
			len && text[len - 1] == '\n' ? "" : "\n");
		free(text);
		return 1;
	}
	fputs(text, stdout);
	free(text);
	return 0;
}

/* Commands by name; one that runs on this side (heatmap) has its own main. */
static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "status", forward }, { "sources", forward }, { "attach", forward },
	{ "detach", forward }, { "policy", forward },  { "stats", forward },
	{ "top", forward },    { "metrics", forward }, { "heatmap", hp_heatmap_main },
};

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* "+": options end at the command, whose own options follow it. */
	while ((c = getopt_long(argc, argv, "+S:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'S':
			socket_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, argv[optind]))
			return commands[i].run(argc - optind, argv + optind);
	fprintf(stderr, "hotpagectl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return 2;
}
