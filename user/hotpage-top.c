// SPDX-License-Identifier: GPL-2.0
/*
 * hotpage-top: show the user pages that take the most page faults, per
 * process, refreshed every interval. Runs the `fault` source on its own.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "fault_source.h"
#include "page_top.h"

struct top_config {
	__u32 tgid;
	__u64 interval_ms;
	__u32 top_count;
	__u64 duration_ms; /* 0: until interrupted */
	__u32 max_pages;
	enum hp_fault_attach attach;
	bool verbose;
};

static volatile sig_atomic_t exiting;

static const char usage[] =
	"Usage: hotpage-top [OPTION]...\n"
	"Show the user pages that take the most page faults (tracepoint\n"
	"exceptions:page_fault_user), per process, every interval. Needs root.\n"
	"\n"
	"  -p, --pid PID          only the process PID (default: all)\n"
	"  -i, --interval SECONDS refresh period, fractions allowed (default: 1)\n"
	"  -n, --top N            pages shown (default: 20)\n"
	"  -d, --duration SECONDS stop after this long; 0 runs until Ctrl-C (default: 0)\n"
	"  -m, --max-pages N      pages tracked at once, least recent evicted (default: %u)\n"
	"  -a, --attach TYPE      auto, tracepoint or tp_btf (default: auto)\n"
	"  -v, --verbose          show libbpf's messages\n"
	"  -h, --help             this help\n"
	"\n"
	"Counts are cumulative since start. LAST(s) is the time since the page's\n"
	"latest fault.\n";

static const struct option long_options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "interval", required_argument, NULL, 'i' },
	{ "top", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "max-pages", required_argument, NULL, 'm' },
	{ "attach", required_argument, NULL, 'a' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static bool verbose_libbpf;

static int print_libbpf(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose_libbpf)
		return 0;
	if (level == LIBBPF_INFO && !verbose_libbpf)
		return 0;
	return vfprintf(stderr, format, args);
}

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static int bad_value(const char *option, const char *value, int err)
{
	fprintf(stderr, "hotpage-top: %s '%s': %s\n", option, value,
		err == -ERANGE ? "out of range" : "not a valid number");
	return 2;
}

/* Returns 0 to run, 1 when help was printed, 2 on a usage error. */
static int parse_args(int argc, char **argv, struct top_config *cfg)
{
	int opt, err;

	while ((opt = getopt_long(argc, argv, "p:i:n:d:m:a:vh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			err = hp_parse_u32(optarg, 1, INT_MAX, &cfg->tgid);
			if (err)
				return bad_value("--pid", optarg, err);
			break;
		case 'i':
			err = hp_parse_seconds(optarg, &cfg->interval_ms);
			if (!err && cfg->interval_ms < 10)
				err = -ERANGE; /* below 10 ms the walk of the map dominates */
			if (err)
				return bad_value("--interval", optarg, err);
			break;
		case 'n':
			err = hp_parse_u32(optarg, 1, 100000, &cfg->top_count);
			if (err)
				return bad_value("--top", optarg, err);
			break;
		case 'd':
			err = hp_parse_seconds(optarg, &cfg->duration_ms);
			if (err)
				return bad_value("--duration", optarg, err);
			break;
		case 'm':
			err = hp_parse_u32(optarg, 1, 1U << 26, &cfg->max_pages);
			if (err)
				return bad_value("--max-pages", optarg, err);
			break;
		case 'a':
			if (hp_fault_attach_parse(optarg, &cfg->attach)) {
				fprintf(stderr,
					"hotpage-top: --attach '%s': use auto, tracepoint or tp_btf\n",
					optarg);
				return 2;
			}
			break;
		case 'v':
			cfg->verbose = true;
			break;
		case 'h':
			printf(usage, (unsigned int)HP_FAULT_PAGES_DEFAULT);
			return 1;
		default:
			fprintf(stderr, "Try 'hotpage-top --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"hotpage-top: unexpected argument '%s'\nTry 'hotpage-top --help'.\n",
			argv[optind]);
		return 2;
	}
	return 0;
}

static __u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* Sleep up to ms, returning early when a signal asks to exit. */
static void sleep_ms(__u64 ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (!exiting && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

struct collect_ctx {
	struct hp_page_top *top;
	__u64 live_pages;
};

static int collect_page(const struct hp_fault_key *key, const struct hp_fault_val *val, void *ctx)
{
	struct collect_ctx *collect = ctx;
	struct hp_page_count entry = {
		.tgid = key->tgid,
		.page = key->page,
		.faults = val->faults,
		.last_ns = val->last_ns,
	};

	collect->live_pages++;
	hp_page_top_offer(collect->top, &entry);
	return 0;
}

static int print_top(const struct hp_fault_source *src, struct hp_page_top *top,
		     struct hp_fault_stats *prev, __u64 elapsed_ms)
{
	struct collect_ctx collect = { .top = top };
	const struct hp_page_count *entries;
	struct hp_fault_stats stats;
	char line[160], comm[HP_COMM_LEN], clock[16];
	time_t now = time(NULL);
	struct tm tm;
	size_t count;
	__u64 now_ns;
	int err;

	hp_page_top_reset(top);
	err = hp_fault_source_for_each_page(src, collect_page, &collect);
	if (!err)
		err = hp_fault_source_read_stats(src, &stats);
	if (err) {
		fprintf(stderr, "hotpage-top: reading the BPF maps: %s\n", strerror(-err));
		return err;
	}
	now_ns = monotonic_ns();
	entries = hp_page_top_sorted(top, &count);

	strftime(clock, sizeof(clock), "%H:%M:%S", localtime_r(&now, &tm));
	printf("\n%s  faults seen %llu (+%llu)  counted %llu (+%llu)  dropped %llu  "
	       "pages %llu/%u (evicted %llu)  after %.1fs\n",
	       clock, (unsigned long long)stats.seen, (unsigned long long)(stats.seen - prev->seen),
	       (unsigned long long)stats.counted,
	       (unsigned long long)(stats.counted - prev->counted),
	       (unsigned long long)stats.dropped, (unsigned long long)collect.live_pages,
	       hp_fault_source_max_pages(src),
	       /* Entries leave only by LRU eviction: created minus live is what it evicted. */
	       (unsigned long long)(stats.new_pages > collect.live_pages
					    ? stats.new_pages - collect.live_pages
					    : 0),
	       (double)elapsed_ms / 1000.0);
	hp_page_top_format_header(line, sizeof(line));
	printf("%s\n", line);
	for (size_t i = 0; i < count; i++) {
		hp_fault_source_comm(src, entries[i].tgid, comm, sizeof(comm));
		hp_page_top_format_row(line, sizeof(line), &entries[i], comm, now_ns);
		printf("%s\n", line);
	}
	fflush(stdout);
	*prev = stats;
	return 0;
}

int main(int argc, char **argv)
{
	struct top_config cfg = {
		.interval_ms = 1000,
		.top_count = 20,
		.attach = HP_FAULT_ATTACH_AUTO,
	};
	struct hp_fault_source_opts opts = { 0 };
	struct hp_fault_source *src = NULL;
	struct hp_fault_stats prev = { 0 };
	struct hp_page_top top = { 0 };
	struct sigaction action = { .sa_handler = on_signal };
	char err_msg[256];
	__u64 start_ns, elapsed_ms;
	int err;

	err = parse_args(argc, argv, &cfg);
	if (err)
		return err == 1 ? 0 : err;
	verbose_libbpf = cfg.verbose;
	libbpf_set_print(print_libbpf);

	if (cfg.tgid && kill((pid_t)cfg.tgid, 0) && errno == ESRCH) {
		fprintf(stderr, "hotpage-top: no process with PID %u\n", cfg.tgid);
		return 1;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "hotpage-top: needs root (BPF programs on tracepoints need "
				"CAP_BPF and CAP_PERFMON)\n");
		return 1;
	}

	/* Handlers before attaching, so that a signal at any point takes the one exit path. */
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);

	err = hp_page_top_init(&top, cfg.top_count);
	if (err) {
		fprintf(stderr, "hotpage-top: out of memory\n");
		goto cleanup;
	}

	opts.tgid = cfg.tgid;
	opts.max_pages = cfg.max_pages;
	opts.attach = cfg.attach;
	err = hp_fault_source_start(&opts, &src, err_msg, sizeof(err_msg));
	if (err) {
		fprintf(stderr, "hotpage-top: %s\n", err_msg);
		goto cleanup;
	}
	if (cfg.tgid)
		printf("Counting page faults of PID %u", cfg.tgid);
	else
		printf("Counting page faults of all processes");
	printf(" (%s, up to %u pages). Ctrl-C to stop.\n",
	       hp_fault_attach_name(hp_fault_source_attach(src)), hp_fault_source_max_pages(src));

	start_ns = monotonic_ns();
	for (;;) {
		__u64 wait_ms = cfg.interval_ms;

		elapsed_ms = (monotonic_ns() - start_ns) / 1000000;
		if (cfg.duration_ms) {
			/* The last table comes at the deadline, not after a full interval. */
			__u64 left_ms =
				cfg.duration_ms > elapsed_ms ? cfg.duration_ms - elapsed_ms : 0;

			if (left_ms < wait_ms)
				wait_ms = left_ms;
		}
		sleep_ms(wait_ms);
		elapsed_ms = (monotonic_ns() - start_ns) / 1000000;
		err = print_top(src, &top, &prev, elapsed_ms);
		if (err || exiting || (cfg.duration_ms && elapsed_ms >= cfg.duration_ms))
			break;
	}

cleanup:
	hp_fault_source_destroy(src);
	hp_page_top_free(&top);
	return err ? 1 : 0;
}
