// SPDX-License-Identifier: GPL-2.0
/* Live source tests: a child process to watch, and the records it caused. */
#include "hp_live.h"

static void hp_child_loop(int cmd_fd, int reply_fd, size_t pages, size_t page_size)
{
	char cmd;

	prctl(PR_SET_NAME, "hp_live_child");
	while (read(cmd_fd, &cmd, 1) == 1 && cmd == 'g') {
		size_t len = pages * page_size;
		char *map =
			mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		__u64 base;

		if (map == MAP_FAILED)
			_exit(3);
		/* One fault per page: no THP / mTHP folio may cover several pages at once. */
		madvise(map, len, MADV_NOHUGEPAGE);
		for (size_t i = 0; i < pages; i++)
			((volatile char *)map)[i * page_size] = 1;
		base = (__u64)(uintptr_t)map;
		if (write(reply_fd, &base, sizeof(base)) != sizeof(base))
			_exit(4);
	}
	_exit(0);
}

struct hp_child hp_child_start(size_t pages)
{
	struct hp_child child = { .pages = pages, .page_size = (size_t)sysconf(_SC_PAGESIZE) };
	int cmd[2], reply[2];

	if (pipe(cmd) || pipe(reply))
		hp_fail("pipe: %s", strerror(errno));
	child.pid = fork();
	if (child.pid < 0)
		hp_fail("fork: %s", strerror(errno));
	if (child.pid == 0) {
		close(cmd[1]);
		close(reply[0]);
		hp_child_loop(cmd[0], reply[1], pages, child.page_size);
	}
	close(cmd[0]);
	close(reply[1]);
	child.cmd_fd = cmd[1];
	child.reply_fd = reply[0];
	return child;
}

void hp_child_go(const struct hp_child *child)
{
	if (write(child->cmd_fd, "g", 1) != 1)
		hp_fail("signalling the child: %s", strerror(errno));
}

__u64 hp_child_wait(const struct hp_child *child)
{
	__u64 base;

	if (read(child->reply_fd, &base, sizeof(base)) != sizeof(base))
		hp_fail("child %d did not answer", child->pid);
	return base;
}

__u64 hp_child_touch(const struct hp_child *child)
{
	hp_child_go(child);
	return hp_child_wait(child);
}

void hp_child_stop(struct hp_child *child)
{
	int status;

	if (child->pid <= 0)
		return;
	if (write(child->cmd_fd, "q", 1) != 1)
		kill(child->pid, SIGKILL);
	close(child->cmd_fd);
	close(child->reply_fd);
	if (waitpid(child->pid, &status, 0) == child->pid)
		hp_check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed (status %#x)",
			 (unsigned int)status);
	child->pid = 0;
}

void hp_fault_pages_here(size_t pages)
{
	size_t page_size = (size_t)sysconf(_SC_PAGESIZE), len = pages * page_size;
	char *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (map == MAP_FAILED)
		hp_fail("mmap: %s", strerror(errno));
	madvise(map, len, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < pages; i++)
		((volatile char *)map)[i * page_size] = 1;
	munmap(map, len);
}

int hp_collect(const struct hp_event *ev, void *ctx)
{
	struct hp_collector *c = ctx;

	if (c->len == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		struct hp_event *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->len++] = *ev;
	return 0;
}

void hp_collector_reset(struct hp_collector *c)
{
	c->len = 0;
}

void hp_collector_free(struct hp_collector *c)
{
	free(c->v);
	*c = (struct hp_collector){ 0 };
}

struct hp_transport *hp_collect_transport(struct hp_collector *events)
{
	struct hp_transport_opts topts = { .on_event = hp_collect, .ctx = events };
	struct hp_transport *transport = NULL;
	char err[512];
	int ret = hp_transport_new(&topts, &transport, err, sizeof(err));

	if (ret == -EPERM)
		hp_skip("%s", err);
	hp_check(!ret, "transport: %s", err);
	return transport;
}

void hp_drain(struct hp_transport *transport)
{
	int ret = hp_transport_drain(transport);

	hp_check(ret >= 0, "draining the rings: %s", strerror(-ret));
}

struct hp_tally hp_tally_events(const struct hp_collector *c, enum hp_source source,
				const struct hp_child *child, __u64 base)
{
	size_t bitmap_len = (child->pages + 7) / 8;
	unsigned char *seen = calloc(1, bitmap_len);
	struct hp_tally t = { 0 };
	__u64 end = base + (__u64)child->pages * child->page_size;

	hp_check(seen, "out of memory");
	for (size_t i = 0; i < c->len; i++) {
		const struct hp_event *ev = &c->v[i];

		if (ev->source != source) {
			t.wrong_source++;
			continue;
		}
		if (ev->tgid != (__u32)child->pid) {
			t.other++;
			t.other_tgid = ev->tgid;
			continue;
		}
		if (ev->addr < base || ev->addr >= end) {
			t.outside++;
			continue;
		}
		t.inside++;
		if (ev->pid != ev->tgid || ev->version != HP_EVENT_VERSION ||
		    ev->pfn != HP_PFN_UNKNOWN || ev->end || ev->reserved) {
			t.bad_fields++;
			snprintf(t.bad_why, sizeof(t.bad_why),
				 "pid %u tgid %u version %u pfn %#llx end %#llx", ev->pid, ev->tgid,
				 ev->version, (unsigned long long)ev->pfn,
				 (unsigned long long)ev->end);
		}
		{
			size_t page = (size_t)((ev->addr - base) / child->page_size);

			if (!(seen[page / 8] & (1U << (page % 8)))) {
				seen[page / 8] |= (unsigned char)(1U << (page % 8));
				t.pages++;
			}
		}
	}
	free(seen);
	return t;
}

void hp_check_balanced(const char *who, const struct hp_source_stats *s)
{
	hp_check(s->sampled == s->emitted + s->dropped + s->errors,
		 "%s: sampled %llu != emitted %llu + dropped %llu + errors %llu", who,
		 (unsigned long long)s->sampled, (unsigned long long)s->emitted,
		 (unsigned long long)s->dropped, (unsigned long long)s->errors);
}

int hp_within(__u64 got, __u64 want, double pct, __u64 slack)
{
	double diff = got > want ? (double)(got - want) : (double)(want - got);

	return diff <= (double)want * pct / 100.0 + (double)slack;
}
