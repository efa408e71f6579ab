// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile input on hotpaged's control socket: a
 * generated corpus of random and malformed messages (truncated headers,
 * wrong magic, version or type, lying lengths, oversized, random bytes,
 * unknown commands, huge arguments, broken words, mutated requests),
 * then many concurrent clients, clients that never read and clients
 * that never write. Every message must be answered with an error (or,
 * for an empty datagram, the connection closed); the daemon must still
 * answer `status` afterwards, quickly, and its RSS must stay bounded.
 *
 * HP_FUZZ_SEED=N replays a corpus; HP_FUZZ_MESSAGES=N changes its size.
 */
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "hp_ctl_test.h"

#define MESSAGES_DEFAULT 12000
#define PER_CONNECTION 50 /* messages sent over one connection before the next */
#define ANSWER_TIMEOUT_MS 5000
#define CONCURRENT 64 /* twice HP_CTL_CLIENTS_MAX */
#define NON_READERS 8
/* Until the daemon has worked through a non-reader's queued requests. */
#define DROP_TIMEOUT_MS 30000
/*
 * The server's memory is fixed (three 64 KiB buffers, 32 client slots)
 * and per-request allocations are freed; 8 MiB leaves room for the
 * allocator's caching and stack growth, far below what one leaked buffer
 * per message (12,000 x 64 KiB = 750 MiB) would add.
 */
#define RSS_GROWTH_MAX_KB (8 * 1024)
/* A status call while all this went on: a blocked loop would take seconds. */
#define STATUS_LATENCY_MAX_MS 2000

enum kind {
	K_TRUNCATED,
	K_MAGIC,
	K_VERSION,
	K_TYPE,
	K_LENGTH_LIES,
	K_OVERSIZED,
	K_RANDOM,
	K_UNKNOWN_CMD,
	K_HUGE_ARG,
	K_BAD_WORDS,
	K_BAD_SYNTAX,
	K_MUTATED,
	K_EMPTY,
	K_NR,
};

static const char *const kind_name[K_NR] = {
	"truncated header", "wrong magic",   "wrong version",	"wrong type",	 "length lies",
	"oversized",	    "random bytes",  "unknown command", "huge argument", "broken words",
	"bad syntax",	    "mutated valid", "empty datagram",
};

struct tally {
	unsigned long sent, error, ok, closed;
};

static struct tally tally[K_NR];
static const char *sock_path;
static __u64 rng_state;

static __u64 rnd(void)
{
	/* xorshift64*: reproducible from the printed seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t rnd_below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

static void rnd_fill(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)rnd();
}

static int connect_socket(bool big_sndbuf)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	int size = 1 << 20;

	hp_check(fd >= 0, "socket: %s", strerror(errno));
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
	if (big_sndbuf) /* room for oversized messages */
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	hp_check(!connect(fd, (struct sockaddr *)&addr, sizeof(addr)), "connect %s: %s", sock_path,
		 strerror(errno));
	return fd;
}

static size_t put_header(char *buf, __u32 magic, __u16 version, __u16 type, __u32 len)
{
	struct hp_ctl_hdr h = {
		.magic = magic, .version = version, .type = type, .status = 0, .len = len
	};

	memcpy(buf, &h, sizeof(h));
	return sizeof(h);
}

/* A well-framed request whose payload is @words (@len bytes). */
static size_t framed(char *buf, const char *words, size_t len)
{
	size_t h = put_header(buf, HP_CTL_MAGIC, HP_CTL_VERSION, HP_CTL_REQUEST, (__u32)len);

	memcpy(buf + h, words, len);
	return h + len;
}

static const char *const valid[] = { "status", "stats\0--json", "top\0-n\0\x35", "policy\0show" };
static const size_t valid_len[] = { 7, 13, 9, 12 };

/* One message of @k into @buf; its length. */
static size_t generate(enum kind k, char *buf)
{
	size_t n, i, h;

	switch (k) {
	case K_TRUNCATED:
		h = put_header(buf, HP_CTL_MAGIC, HP_CTL_VERSION, HP_CTL_REQUEST, 7);
		return 1 + rnd_below(h - 1); /* 1..15 bytes of a good header */
	case K_MAGIC:
		n = framed(buf, "status", 7);
		((struct hp_ctl_hdr *)buf)->magic = (__u32)rnd() | 1; /* never HP_CTL_MAGIC... */
		if (((struct hp_ctl_hdr *)buf)->magic == HP_CTL_MAGIC)
			((struct hp_ctl_hdr *)buf)->magic ^= 2; /* ... ever */
		return n;
	case K_VERSION:
		n = framed(buf, "status", 7);
		((struct hp_ctl_hdr *)buf)->version =
			(__u16)(HP_CTL_VERSION + 1 + rnd_below(65534));
		return n;
	case K_TYPE:
		n = framed(buf, "status", 7);
		((struct hp_ctl_hdr *)buf)->type =
			rnd_below(2) ? HP_CTL_RESPONSE : (__u16)(3 + rnd_below(65000));
		return n;
	case K_LENGTH_LIES:
		n = framed(buf, "status", 7);
		do
			((struct hp_ctl_hdr *)buf)->len =
				rnd_below(2) ? (__u32)rnd() : (__u32)rnd_below(16);
		while (((struct hp_ctl_hdr *)buf)->len == 7);
		return n;
	case K_OVERSIZED:
		n = HP_CTL_MSG_MAX + 1 + rnd_below(4096);
		h = put_header(buf, HP_CTL_MAGIC, HP_CTL_VERSION, HP_CTL_REQUEST,
			       (__u32)(n - sizeof(struct hp_ctl_hdr)));
		memset(buf + h, 'a', n - h);
		buf[n - 1] = '\0';
		return n;
	case K_RANDOM:
		n = 1 + rnd_below(2048);
		rnd_fill(buf, n);
		if (n >= 4 && ((struct hp_ctl_hdr *)buf)->magic == HP_CTL_MAGIC)
			buf[0] ^= 1;
		return n;
	case K_UNKNOWN_CMD: {
		char word[40];

		n = 1 + rnd_below(32);
		for (i = 0; i < n; i++)
			word[i] = (char)('a' + rnd_below(26));
		word[n] = '\0';
		if (!hp_ctl_check(1, (const char *const[]){ word }, buf, 64))
			strcpy(word, "zzz"); /* a real command by chance */
		return framed(buf, word, strlen(word) + 1);
	}
	case K_HUGE_ARG: {
		static const char *const heads[] = { "policy\0set\0threshold=", "attach\0",
						     "detach\0", "top\0-n\0",
						     "policy\0set\0scope=tgids:" };
		static const size_t head_len[] = { 21, 7, 7, 7, 24 };
		size_t which = rnd_below(5), arg = 1000 + rnd_below(60000);
		char *p = buf + sizeof(struct hp_ctl_hdr);

		memcpy(p, heads[which], head_len[which]);
		for (i = 0; i < arg; i++)
			p[head_len[which] + i] = which == 3 || which == 4
							 ? (char)('1' + rnd_below(9))
							 : (char)('a' + rnd_below(26));
		p[head_len[which] + arg] = '\0';
		n = head_len[which] + arg + 1;
		put_header(buf, HP_CTL_MAGIC, HP_CTL_VERSION, HP_CTL_REQUEST, (__u32)n);
		return sizeof(struct hp_ctl_hdr) + n;
	}
	case K_BAD_WORDS:
		switch (rnd_below(3)) {
		case 0: /* last word not terminated */
			return framed(buf, "status", 6);
		case 1: /* empty words */
			return framed(buf, "stats\0\0--json", 14);
		default: { /* more than HP_CTL_ARGS_MAX words */
			char words[400];

			n = 0;
			for (i = 0; i < HP_CTL_ARGS_MAX + 1 + rnd_below(50); i++) {
				words[n++] = 'w';
				words[n++] = '\0';
			}
			return framed(buf, words, n);
		}
		}
	case K_BAD_SYNTAX: {
		/* Words of a request (NUL-separated), each of a known length. */
		static const struct {
			const char *words;
			size_t len;
		} bad[] = {
			{ "top\0-n\0\x30", 9 }, /* top -n 0 */
			{ "top\0-n\0\x39\x39\x39\x39\x39\x39\x39\x39\x39\x39\x39\x39", 20 },
			{ "stats\0--xml", 12 },
			{ "policy\0set", 11 },
			{ "policy\0get", 11 },
			{ "attach", 7 },
			{ "detach\0a\0b", 11 },
			{ "status\0now", 11 },
			{ "policy\0set\0threshold", 21 },
			{ "attach\0fault\0x", 15 },
		};

		i = rnd_below(10);
		return framed(buf, bad[i].words, bad[i].len);
	}
	case K_MUTATED:
		i = rnd_below(4);
		n = framed(buf, valid[i], valid_len[i]);
		for (size_t flips = 1 + rnd_below(4); flips; flips--)
			buf[rnd_below(n)] ^= (char)(1 << rnd_below(8));
		return n;
	case K_EMPTY:
	case K_NR:
		break;
	}
	return 0;
}

/* Wait for one response on @fd: 1 error, 0 ok, -1 connection closed. */
static int read_answer(int fd, char *buf, enum kind k)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct hp_ctl_hdr hdr;
	const char *payload;
	char err[256];
	ssize_t n;

	hp_check(poll(&pfd, 1, ANSWER_TIMEOUT_MS) == 1, "%s: no answer within %d ms", kind_name[k],
		 ANSWER_TIMEOUT_MS);
	n = recv(fd, buf, HP_CTL_MSG_MAX + 1, MSG_TRUNC | MSG_DONTWAIT);
	if (n <= 0)
		return -1;
	hp_check(!hp_ctl_decode(buf, (size_t)n, HP_CTL_RESPONSE, &hdr, &payload, err, sizeof(err)),
		 "%s: bad response: %s", kind_name[k], err);
	if (hdr.status) {
		hp_check(hdr.status < 0 && hdr.status > -4096 && hdr.len > 0,
			 "%s: error response with status %d and %u bytes of text", kind_name[k],
			 hdr.status, hdr.len);
		return 1;
	}
	return 0;
}

static void run_corpus(unsigned long messages, char *msg, char *ans)
{
	int fd = -1;
	unsigned long on_fd = 0;

	for (unsigned long m = 0; m < messages; m++) {
		enum kind k = (enum kind)(m % K_NR);
		size_t len = generate(k, msg);
		int r;

		if (fd < 0 || on_fd == PER_CONNECTION) {
			if (fd >= 0)
				close(fd);
			fd = connect_socket(true);
			on_fd = 0;
		}
		tally[k].sent++;
		on_fd++;
		if (send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
			hp_fail("%s: send of %zu bytes: %s", kind_name[k], len, strerror(errno));
		r = read_answer(fd, ans, k);
		if (r < 0) {
			tally[k].closed++;
			close(fd);
			fd = -1;
		} else if (r) {
			tally[k].error++;
		} else {
			tally[k].ok++;
		}
	}
	if (fd >= 0)
		close(fd);
	for (int k = 0; k < K_NR; k++) {
		/* Only a mutation may turn into a valid request; only an empty datagram reads as a hang-up. */
		if (k != K_MUTATED)
			hp_check(!tally[k].ok, "%s: %lu answered without error", kind_name[k],
				 tally[k].ok);
		if (k != K_EMPTY)
			hp_check(!tally[k].closed,
				 "%s: %lu connections closed instead of an answer", kind_name[k],
				 tally[k].closed);
	}
}

/* More clients at once than the daemon serves: each gets an answer or EBUSY. */
static void run_concurrent(char *msg, char *ans, unsigned long *answered, unsigned long *busy)
{
	int fds[CONCURRENT];

	for (int i = 0; i < CONCURRENT; i++)
		fds[i] = connect_socket(true);
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < CONCURRENT; i++) {
			enum kind k = (enum kind)rnd_below(K_EMPTY);
			size_t len;

			if (fds[i] < 0)
				continue;
			len = generate(k, msg);
			if (send(fds[i], msg, len, MSG_NOSIGNAL) != (ssize_t)len) {
				/* refused as busy and closed already: its EBUSY may wait */
			}
		}
		for (int i = 0; i < CONCURRENT; i++) {
			struct pollfd pfd = { .fd = fds[i], .events = POLLIN };
			struct hp_ctl_hdr hdr;
			const char *payload;
			char err[256];
			ssize_t n;

			if (fds[i] < 0)
				continue;
			hp_check(poll(&pfd, 1, ANSWER_TIMEOUT_MS) == 1,
				 "concurrent client %d: nothing within %d ms", i,
				 ANSWER_TIMEOUT_MS);
			n = recv(fds[i], ans, HP_CTL_MSG_MAX + 1, MSG_TRUNC | MSG_DONTWAIT);
			if (n < 0 && errno == ECONNRESET)
				n = recv(fds[i], ans, HP_CTL_MSG_MAX + 1, MSG_TRUNC | MSG_DONTWAIT);
			hp_check(n > 0, "concurrent client %d: closed without an answer (%s)", i,
				 n < 0 ? strerror(errno) : "EOF");
			hp_check(!hp_ctl_decode(ans, (size_t)n, HP_CTL_RESPONSE, &hdr, &payload,
						err, sizeof(err)),
				 "concurrent client %d: %s", i, err);
			if (hdr.status == -EBUSY) {
				(*busy)++;
				close(fds[i]);
				fds[i] = -1;
			} else {
				(*answered)++;
			}
		}
	}
	for (int i = 0; i < CONCURRENT; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	hp_check(*busy >= CONCURRENT - HP_CTL_CLIENTS_MAX,
		 "%lu clients refused as busy, expected at least %d", *busy,
		 CONCURRENT - HP_CTL_CLIENTS_MAX);
}

static double status_latency_ms(void)
{
	double t0 = hpc_now_ms();

	free(hpc_ok(sock_path, "status"));
	return hpc_now_ms() - t0;
}

/* Clients that send and never read: dropped, while status stays quick. */
static void run_non_readers(unsigned long *sent_total, unsigned long *dropped, double *worst_ms)
{
	int fds[NON_READERS];
	char req[64];
	/* A cheap request: what fills up is the answers, not the daemon's time. */
	size_t len = framed(req, "status", 7);

	/* Answers pile up unread until the daemon's send buffer for the client fills. */
	for (int i = 0; i < NON_READERS; i++)
		fds[i] = connect_socket(false);
	for (int burst = 0; burst < 20; burst++) {
		for (int i = 0; i < NON_READERS; i++)
			for (int j = 0; j < 50; j++) {
				if (send(fds[i], req, len, MSG_NOSIGNAL | MSG_DONTWAIT) !=
				    (ssize_t)len)
					break;
				(*sent_total)++;
			}
		double ms = status_latency_ms();

		if (ms > *worst_ms)
			*worst_ms = ms;
	}
	/* The daemon hangs up on each, with its answers still unread. */
	for (int i = 0; i < NON_READERS; i++) {
		struct pollfd pfd = { .fd = fds[i], .events = 0 };

		hp_check(poll(&pfd, 1, DROP_TIMEOUT_MS) == 1 && (pfd.revents & (POLLHUP | POLLERR)),
			 "non-reader %d not dropped within %d ms (%lu sent in all)", i,
			 DROP_TIMEOUT_MS, *sent_total);
		(*dropped)++;
		close(fds[i]);
	}
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	hp_check(f, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int main(void)
{
	char sock[128], scope[64];
	const char *args[] = { "-s", "fault", "-p", "stats=0", "-p", scope, NULL };
	const char *env;
	unsigned long messages = MESSAGES_DEFAULT, answered = 0, busy = 0, nr_sent = 0,
		      nr_dropped = 0, total_err = 0, total_ok = 0, total_closed = 0;
	int idle_fds[4];
	double t0, worst = 0, idle_wait;
	long rss0, rss1, rss2;
	pid_t daemon, sleeper;
	char *msg = malloc(2 * HP_CTL_MSG_MAX), *ans = malloc(HP_CTL_MSG_MAX + 1);
	__u64 seed;
	int status;

	hp_require_root();
	hp_check(msg && ans, "out of memory");
	env = getenv("HP_FUZZ_SEED");
	seed = env ? strtoull(env, NULL, 0) : (__u64)time(NULL) * 2654435761ULL;
	rng_state = seed ? seed : 1;
	env = getenv("HP_FUZZ_MESSAGES");
	if (env)
		messages = strtoul(env, NULL, 0);

	/* Scope on an idle child: the hotness table stays empty and RSS shows the server. */
	sleeper = fork();
	hp_check(sleeper >= 0, "fork: %s", strerror(errno));
	if (sleeper == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	snprintf(scope, sizeof(scope), "scope=tgids:%d", (int)sleeper);
	hpc_socket_path("fuzz", sock, sizeof(sock));
	sock_path = sock;
	daemon = hpc_daemon_start(sock, args, "/dev/null");
	hpc_wait_ready(daemon, sock);
	for (int i = 0; i < 20; i++) /* warm up: allocator and stack settle */
		free(hpc_ok(sock, "stats --json"));
	rss0 = rss_kb(daemon);
	printf("seed %llu (HP_FUZZ_SEED to replay), %lu messages, hotpaged RSS %ld KiB\n",
	       (unsigned long long)seed, messages, rss0);

	/* Clients that connect and never write: closed when idle. */
	for (int i = 0; i < 4; i++)
		idle_fds[i] = connect_socket(true);

	t0 = hpc_now_ms();
	run_corpus(messages, msg, ans);
	printf("corpus: %.0f ms\n", hpc_now_ms() - t0);
	printf("  %-18s %7s %7s %7s %7s\n", "kind", "sent", "error", "ok", "closed");
	for (int k = 0; k < K_NR; k++) {
		printf("  %-18s %7lu %7lu %7lu %7lu\n", kind_name[k], tally[k].sent, tally[k].error,
		       tally[k].ok, tally[k].closed);
		total_err += tally[k].error;
		total_ok += tally[k].ok;
		total_closed += tally[k].closed;
	}
	printf("  %-18s %7lu %7lu %7lu %7lu\n", "total", messages, total_err, total_ok,
	       total_closed);
	rss1 = rss_kb(daemon);

	run_concurrent(msg, ans, &answered, &busy);
	printf("concurrent: %d clients x 5 rounds: %lu answers, %lu refused EBUSY\n", CONCURRENT,
	       answered, busy);
	run_non_readers(&nr_sent, &nr_dropped, &worst);
	printf("non-readers: %d clients sent %lu requests without reading: %lu dropped; "
	       "status took at most %.1f ms meanwhile\n",
	       NON_READERS, nr_sent, nr_dropped, worst);
	hp_check(worst < STATUS_LATENCY_MAX_MS, "status took %.0f ms while clients did not read",
		 worst);

	idle_wait = hpc_now_ms();
	for (int i = 0; i < 4; i++) {
		struct pollfd pfd = { .fd = idle_fds[i], .events = POLLIN };
		char c;

		/* The idle limit, plus a round for the sweep, plus slack. */
		hp_check(poll(&pfd, 1, HP_CTL_IDLE_MS + 5000) == 1, "idle client %d never closed",
			 i);
		hp_check(recv(idle_fds[i], &c, 1, MSG_DONTWAIT) == 0, "idle client %d: data", i);
		close(idle_fds[i]);
	}
	printf("idle: 4 silent clients closed by the daemon (waited %.0f ms more)\n",
	       hpc_now_ms() - idle_wait);

	free(hpc_ok(sock, "status"));
	rss2 = rss_kb(daemon);
	printf("after: status answered; RSS %ld KiB -> %ld KiB after the corpus -> %ld KiB at the "
	       "end (+%ld KiB, limit +%d)\n",
	       rss0, rss1, rss2, rss2 - rss0, RSS_GROWTH_MAX_KB);
	hp_check(rss2 - rss0 < RSS_GROWTH_MAX_KB, "RSS grew by %ld KiB", rss2 - rss0);
	{
		__u64 req = hpc_stat(sock, "daemon", "control_requests");
		__u64 errs = hpc_stat(sock, "daemon", "control_errors");

		printf("daemon counted %llu requests, %llu errors\n", (unsigned long long)req,
		       (unsigned long long)errs);
	}
	hpc_daemon_stop(daemon, sock);
	kill(sleeper, SIGKILL);
	waitpid(sleeper, &status, 0);
	free(msg);
	free(ans);
	printf("pass\n");
	return 0;
}
