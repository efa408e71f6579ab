// SPDX-License-Identifier: GPL-2.0
/*
 * hotpage-sources: list every hotness source this build knows, whether it
 * can run on this kernel with these privileges, and how (the attach point
 * or event probing chose) or why not.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "source.h"

static const char usage[] =
	"Usage: hotpage-sources [-v]\n"
	"List hotpage's hotness sources: available or unavailable on this kernel,\n"
	"and how (attach point, event) or why not. Each probe loads and attaches\n"
	"its programs for a moment, so run it as root to see what root can run.\n"
	"\n"
	"  -v, --verbose   show libbpf's messages\n"
	"  -h, --help      this help\n"
	"\n"
	"Output: one line per source, NAME STATE DETAIL, where STATE is available\n"
	"or unavailable and DETAIL is how it runs (with notes in parentheses) or\n"
	"why it cannot. Exit status 0 when the listing was printed.\n";

static bool verbose;

static int print_libbpf(enum libbpf_print_level level, const char *format, va_list args)
{
	/* A probe's failure is reported in its line; libbpf's own words only with -v. */
	if (!verbose)
		return 0;
	(void)level;
	return vfprintf(stderr, format, args);
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "vh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'v':
			verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'hotpage-sources --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hotpage-sources: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	libbpf_set_print(print_libbpf);
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (size_t i = 0; hp_sources[i]; i++) {
		const struct hp_source_ops *ops = hp_sources[i];
		struct hp_source_probe probe;

		memset(&probe, 0, sizeof(probe));
		ops->probe(&probe);
		if (probe.available)
			printf("%-10s %-11s %s%s%s%s\n", ops->name, "available",
			       probe.how[0] ? probe.how : "(no detail)", probe.why[0] ? " (" : "",
			       probe.why, probe.why[0] ? ")" : "");
		else
			printf("%-10s %-11s %s\n", ops->name, "unavailable",
			       probe.why[0] ? probe.why : "(no reason given)");
	}
	return 0;
}
