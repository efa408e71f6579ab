// SPDX-License-Identifier: GPL-2.0
/*
 * hotpaged: the hotpage daemon. Collects page accesses from the sources,
 * keeps the heat of every page and the hot set (published at
 * /sys/fs/bpf/hotpage/hot_pages), promotes hot pages from lower tiers to
 * the top tier and, when the top tier is full, demotes its idle pages
 * first to make room (daemon.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "config.h"
#include "daemon.h"

static const char usage[] =
	"Usage: hotpaged [-c FILE] [-f] [-s SOURCES] [-p key=value ...] [-d SECONDS] [-v]\n"
	"\n"
	"  -c, --config FILE   settings as key = value lines (default, when it exists:\n"
	"                      " HP_CONFIG_DEFAULT_PATH "); flags override it\n"
	"  -f, --foreground    log to stderr with a stats line every stats= seconds\n"
	"                      (without -f: the same, minus the stats lines; run it\n"
	"                      under a service manager, it does not fork)\n"
	"  -s, --sources LIST  comma-separated sources (fault,numa-hint,perf,damon,scan);\n"
	"                      default: those that report accesses and can run here\n"
	"                      (scan, numa-hint, perf on a memory-sampling PMU; damon\n"
	"                      when none of those runs)\n"
	"  -p, --param K=V     a policy setting (threshold=, window_ms=, min_idle=,\n"
	"                      target=, rate_mbps=, batch=, scope=, pingpong_ms=,\n"
	"                      headroom=)\n"
	"                      or backend=auto|move_pages|kmigrated (auto: kmigrated\n"
	"                      when the module is loaded), period=N (sources sample 1\n"
	"                      in N; default: each source's own), top=N (hot set\n"
	"                      size, 1024),\n"
	"                      stats=SECONDS (5), socket=PATH (control socket,\n"
	"                      /run/hotpage/hotpaged.sock), or policy.NAME=\"scope=...\n"
	"                      promote=on|off demote=on|off share=SIZE|N%|none\"\n"
	"                      (a named policy; with none, \"default\" covers all);\n"
	"                      repeatable\n"
	"  -d, --duration S    stop after S seconds (default: until SIGINT/SIGTERM)\n"
	"  -v, --verbose       libbpf debug output, skipped sources\n";

static volatile sig_atomic_t stop;
static bool verbose;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int print_libbpf(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, format, args);
}

static int split_sources(struct hp_daemon_opts *opts, char *list)
{
	char *save = NULL;

	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (opts->nr_sources == HP_DAEMON_MAX_SOURCES) {
			fprintf(stderr, "hotpaged: at most %d sources\n", HP_DAEMON_MAX_SOURCES);
			return -EINVAL;
		}
		opts->sources[opts->nr_sources++] = tok;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "sources", required_argument, NULL, 's' },
		{ "param", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct hp_config config;
	struct hp_daemon_opts opts;
	const char *config_path = HP_CONFIG_DEFAULT_PATH;
	bool config_given = false;
	bool sources_from_flags = false;
	struct sigaction sa = { .sa_handler = on_signal };
	bool foreground = false;
	char err[4096];
	char *end;
	int c, ret;

	hp_daemon_opts_defaults(&opts);
	/* The file first, flags on top: a first pass finds -c (and --help). */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:fs:p:d:vh", long_options, NULL)) != -1) {
		if (c == 'c') {
			config_path = optarg;
			config_given = true;
		}
		if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		}
	}
	ret = hp_config_load(&config, &opts, config_path, !config_given, NULL, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "hotpaged: %s\n", err);
		return 2;
	}
	opterr = 1;
	optind = 0;
	while ((c = getopt_long(argc, argv, "c:fs:p:d:vh", long_options, NULL)) != -1) {
		switch (c) {
		case 'c':
			break;
		case 'f':
			foreground = true;
			break;
		case 's':
			/* -s replaces the file's list; several -s add up. */
			if (!sources_from_flags)
				opts.nr_sources = 0;
			sources_from_flags = true;
			if (split_sources(&opts, optarg))
				return 2;
			break;
		case 'p':
			if (hp_daemon_set(&opts, optarg, err, sizeof(err))) {
				fprintf(stderr, "hotpaged: -p %s\n", err);
				return 2;
			}
			break;
		case 'd':
			errno = 0;
			opts.duration_s = (__u32)strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || !opts.duration_s) {
				fprintf(stderr, "hotpaged: -d %s: a number of seconds > 0\n",
					optarg);
				return 2;
			}
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (!foreground)
		opts.stats_s = 0;
	opts.verbose = verbose;
	libbpf_set_print(print_libbpf);
	/* No SA_RESTART: the ring wait returns -EINTR and the loop sees stop. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = hp_daemon_run(&opts, &stop);
	return ret ? 1 : 0;
}
