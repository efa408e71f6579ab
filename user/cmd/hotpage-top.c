// SPDX-License-Identifier: GPL-2.0
/*
 * hotpage-top: show the user pages that take the most page faults, per
 * process, refreshed every interval. Runs the `fault` source on its own and
 * counts its events per page in userspace.
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
#include "clock.h"
#include "cli.h"
#include "fault_source.h"
#include "page_top.h"
#include "transport.h"

struct top_config {
	__u32 tgid;
	__u64 interval_ms;
	__u32 top_count;
	__u64 duration_ms; /* 0: until interrupted */
	__u32 max_pages;
	__u32 sample_period;
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
	"  -s, --sample N         count one fault in N (default: 1, every fault)\n"
	"  -a, --attach TYPE      auto, tracepoint or tp_btf (default: auto)\n"
	"  -v, --verbose          show libbpf's messages\n"
	"  -h, --help             this help\n"
	"\n"
	"Counts are cumulative since start (sampled ones with -s). LAST(s) is the\n"
	"time since the page's latest fault.\n";

static const struct option long_options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "interval", required_argument, NULL, 'i' },
	{ "top", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "max-pages", required_argument, NULL, 'm' },
	{ "sample", required_argument, NULL, 's' },
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

	while ((opt = getopt_long(argc, argv, "p:i:n:d:m:s:a:vh", long_options, NULL)) != -1) {
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
		case 's':
			err = hp_parse_u32(optarg, 1, 1U << 30, &cfg->sample_period);
			if (err)
				return bad_value("--sample", optarg, err);
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
			printf(usage, (unsigned int)HP_PAGE_TABLE_DEFAULT);
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

/* Names of processes, by tgid, read once from /proc: direct-mapped, a clash re-reads. */
#define COMM_SLOTS 1024

struct comm_slot {
	__u32 tgid;
	char comm[HP_COMM_LEN];
};

struct top_state {
	struct hp_page_table table;
	struct hp_page_top top;
	struct comm_slot comms[COMM_SLOTS];
	long page_mask;
};

static void read_comm(__u32 tgid, char *buf, size_t len)
{
	char path[64];
	FILE *file;

	snprintf(path, sizeof(path), "/proc/%u/comm", tgid);
	file = fopen(path, "r");
	if (file) {
		if (fgets(buf, (int)len, file)) {
			buf[strcspn(buf, "\n")] = '\0';
			fclose(file);
			return;
		}
		fclose(file);
	}
	snprintf(buf, len, "?");
}

/*
 * The name at the process's first event, while it most likely still runs;
 * a process that exited before that shows "?".
 */
static const char *comm_of(struct top_state *state, __u32 tgid)
{
	struct comm_slot *slot = &state->comms[tgid % COMM_SLOTS];

	if (slot->tgid != tgid || !slot->comm[0]) {
		slot->tgid = tgid;
		read_comm(tgid, slot->comm, sizeof(slot->comm));
	}
	return slot->comm;
}

static int on_event(const struct hp_event *ev, void *ctx)
{
	struct top_state *state = ctx;

	if (ev->source != HP_SRC_FAULT)
		return 0;
	comm_of(state, ev->tgid);
	hp_page_table_add(&state->table, ev->tgid, ev->addr & ~(__u64)state->page_mask, ev->ts_ns);
	return 0;
}

static void offer_page(const struct hp_page_count *entry, void *ctx)
{
	hp_page_top_offer(ctx, entry);
}

static int print_top(struct hp_source_instance *src, struct top_state *state,
		     struct hp_source_stats *prev, __u64 elapsed_ms)
{
	const struct hp_page_count *entries;
	struct hp_source_stats stats;
	char line[160], clock[16];
	time_t now = time(NULL);
	struct tm tm;
	size_t count;
	__u64 now_ns;
	int err;

	err = hp_source_read_stats(hp_source_fault.object(src), &stats);
	if (err) {
		fprintf(stderr, "hotpage-top: reading the source's counters: %s\n", strerror(-err));
		return err;
	}
	hp_page_top_reset(&state->top);
	hp_page_table_for_each(&state->table, offer_page, &state->top);
	now_ns = hp_monotonic_ns();
	entries = hp_page_top_sorted(&state->top, &count);

	strftime(clock, sizeof(clock), "%H:%M:%S", localtime_r(&now, &tm));
	printf("\n%s  faults seen %llu (+%llu)  sampled %llu (+%llu)  dropped %llu  errors %llu  "
	       "pages %zu/%zu (evicted %llu)  after %.1fs\n",
	       clock, (unsigned long long)stats.seen, (unsigned long long)(stats.seen - prev->seen),
	       (unsigned long long)stats.sampled,
	       (unsigned long long)(stats.sampled - prev->sampled),
	       (unsigned long long)stats.dropped, (unsigned long long)stats.errors,
	       state->table.len, state->table.cap, (unsigned long long)state->table.evicted,
	       (double)elapsed_ms / 1000.0);
	hp_page_top_format_header(line, sizeof(line));
	printf("%s\n", line);
	for (size_t i = 0; i < count; i++) {
		hp_page_top_format_row(line, sizeof(line), &entries[i],
				       comm_of(state, entries[i].tgid), now_ns);
		printf("%s\n", line);
	}
	fflush(stdout);
	*prev = stats;
	return 0;
}

/* Drain events for up to ms; returns early when a signal asks to exit. */
static int drain_for(struct hp_transport *transport, __u64 ms)
{
	__u64 deadline = hp_monotonic_ns() + ms * 1000000ULL;

	while (!exiting) {
		__u64 now = hp_monotonic_ns();
		int ret;

		if (now >= deadline)
			break;
		ret = hp_transport_poll(transport, (int)((deadline - now + 999999) / 1000000));
		if (ret < 0 && ret != -EINTR) {
			fprintf(stderr, "hotpage-top: reading events: %s\n", strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct top_config cfg = {
		.interval_ms = 1000,
		.top_count = 20,
		.sample_period = 1,
		.attach = HP_FAULT_ATTACH_AUTO,
	};
	struct hp_source_opts opts = { 0 };
	struct hp_transport_opts topts = { .on_event = on_event };
	struct hp_transport *transport = NULL;
	struct hp_source_instance *src = NULL;
	struct hp_source_stats prev = { 0 };
	struct top_state *state;
	struct sigaction action = { .sa_handler = on_signal };
	char err_msg[512];
	__u64 start_ns, elapsed_ms;
	__u32 tgid;
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

	state = calloc(1, sizeof(*state));
	err = state ? hp_page_table_init(&state->table,
					 cfg.max_pages ? cfg.max_pages : HP_PAGE_TABLE_DEFAULT)
		    : -ENOMEM;
	if (!err)
		err = hp_page_top_init(&state->top, cfg.top_count);
	if (err) {
		fprintf(stderr, "hotpage-top: out of memory\n");
		goto cleanup;
	}
	state->page_mask = sysconf(_SC_PAGESIZE) - 1;

	topts.ctx = state;
	err = hp_transport_new(&topts, &transport, err_msg, sizeof(err_msg));
	if (err) {
		fprintf(stderr, "hotpage-top: %s\n", err_msg);
		goto cleanup;
	}
	opts.sample_period = cfg.sample_period;
	if (cfg.tgid) {
		tgid = cfg.tgid;
		opts.filter_mode = HP_FILTER_TGIDS;
		opts.tgids = &tgid;
		opts.nr_tgids = 1;
	}
	err = hp_fault_source_start(transport, &opts, cfg.attach, &src, err_msg, sizeof(err_msg));
	if (err) {
		fprintf(stderr, "hotpage-top: %s\n", err_msg);
		goto cleanup;
	}
	if (cfg.tgid)
		printf("Counting page faults of PID %u", cfg.tgid);
	else
		printf("Counting page faults of all processes");
	printf(" (%s, 1 in %u, up to %zu pages). Ctrl-C to stop.\n",
	       hp_fault_attach_point(hp_fault_source_attach(src)), cfg.sample_period,
	       state->table.cap);
	/* Flushed: a reader of a pipe learns that the source is attached. */
	fflush(stdout);

	start_ns = hp_monotonic_ns();
	for (;;) {
		__u64 wait_ms = cfg.interval_ms;

		elapsed_ms = (hp_monotonic_ns() - start_ns) / 1000000;
		if (cfg.duration_ms) {
			/* The last table comes at the deadline, not after a full interval. */
			__u64 left_ms =
				cfg.duration_ms > elapsed_ms ? cfg.duration_ms - elapsed_ms : 0;

			if (left_ms < wait_ms)
				wait_ms = left_ms;
		}
		err = drain_for(transport, wait_ms);
		if (!err)
			err = hp_transport_consume(transport) < 0 ? -EIO : 0;
		elapsed_ms = (hp_monotonic_ns() - start_ns) / 1000000;
		if (!err)
			err = print_top(src, state, &prev, elapsed_ms);
		if (err || exiting || (cfg.duration_ms && elapsed_ms >= cfg.duration_ms))
			break;
	}

cleanup:
	hp_fault_source_stop(src);
	hp_transport_free(transport);
	if (state) {
		hp_page_table_free(&state->table);
		hp_page_top_free(&state->top);
		free(state);
	}
	return err ? 1 : 0;
}
