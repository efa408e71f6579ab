// SPDX-License-Identifier: GPL-2.0
/*
 * The kmigrated.ko promotion backend (promote_kmigrated.h). Requests take
 * the PFN route; each batch is one bpf_prog_test_run_opts() of the
 * syscall program with a struct kmigrated_batch as context. The program is
 * loaded per promote() call and released after it: a loaded program that
 * calls the module's kfunc holds the module, and the daemon must not keep
 * `rmmod kmigrated` from working (it falls back to move_pages instead).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hotpage/event.h"
#include "kmigrated.h"
#include "promote.h"
#include "promote.skel.h"
#include "promote_kmigrated.h"
#include "sysfile.h"

struct kmig_ctx {
	struct promote *skel;
	struct kmigrated_batch batch;
};

static enum hp_promote_outcome result_outcome(__u8 r)
{
	switch (r) {
	case KMIGRATED_QUEUED:
		return HP_PROMOTE_QUEUED;
	case KMIGRATED_E_PFN:
		return HP_PROMOTE_BAD_PFN;
	case KMIGRATED_E_ZONE_DEVICE:
	case KMIGRATED_E_NOT_LRU:
		return HP_PROMOTE_UNMOVABLE;
	case KMIGRATED_E_NODE:
		return HP_PROMOTE_BAD_NODE;
	case KMIGRATED_E_SAME_NODE:
		return HP_PROMOTE_ALREADY_THERE;
	case KMIGRATED_E_DUPLICATE:
		return HP_PROMOTE_DUPLICATE;
	case KMIGRATED_E_QUEUE_FULL:
		return HP_PROMOTE_QUEUE_FULL;
	case KMIGRATED_E_BUSY:
		return HP_PROMOTE_BUSY;
	case KMIGRATED_E_INVALID:
		return HP_PROMOTE_BAD_REQUEST;
	case KMIGRATED_E_UNEVICTABLE:
		return HP_PROMOTE_UNEVICTABLE;
	default:
		return HP_PROMOTE_OTHER;
	}
}

static int kmig_run(struct kmig_ctx *c, int prog_fd, size_t per, const struct hp_promote_req *reqs,
		    size_t n, struct hp_promote_result *res)
{
	int done = 0;

	for (size_t first = 0; first < n; first += per) {
		size_t nr = n - first < per ? n - first : per;
		size_t idx[KMIGRATED_BATCH_MAX];
		__u32 k = 0;
		/* Syscall programs take no ctx_out: the kernel copies ctx_in back. */
		LIBBPF_OPTS(bpf_test_run_opts, topts, .ctx_in = &c->batch,
			    .ctx_size_in = sizeof(c->batch));
		int ret;

		for (size_t i = first; i < first + nr; i++) {
			if (reqs[i].pfn == HP_PFN_UNKNOWN || reqs[i].target_node < 0) {
				hp_promote_account(res, i, HP_PROMOTE_BAD_REQUEST);
				continue;
			}
			c->batch.reqs[k] = (struct kmigrated_req){
				.pfn = reqs[i].pfn,
				.node = (__u16)reqs[i].target_node,
				.flags = reqs[i].demote ? KMIGRATED_REQ_DEMOTE : 0,
			};
			idx[k++] = i;
		}
		if (!k)
			continue;
		c->batch.nr = k;
		c->batch.accepted = 0;
		ret = bpf_prog_test_run_opts(prog_fd, &topts);
		res->calls++;
		if (ret || c->batch.accepted < 0) {
			int e = ret ? -ret : -c->batch.accepted;

			if (!done && first == 0)
				return ret ? ret : c->batch.accepted;
			res->last_other_errno = e;
			for (__u32 j = 0; j < k; j++)
				hp_promote_account(res, idx[j], HP_PROMOTE_OTHER);
			continue;
		}
		for (__u32 j = 0; j < k; j++) {
			enum hp_promote_outcome o = result_outcome(c->batch.reqs[j].result);

			hp_promote_account(res, idx[j], o);
			if (o == HP_PROMOTE_QUEUED)
				done++;
		}
	}
	return done;
}

static int kmig_promote(struct hp_promote_backend *backend, const struct hp_promote_req *reqs,
			size_t n, struct hp_promote_result *res)
{
	struct kmig_ctx *c = backend->ctx;
	int prog_fd;
	size_t per = backend->batch && backend->batch < KMIGRATED_BATCH_MAX ? backend->batch
									    : KMIGRATED_BATCH_MAX;
	int done;

	/*
	 * A loaded program that calls the kfunc holds the module: unless the
	 * caller holds it on purpose, load it for this call only, so that
	 * rmmod gets through between rounds and the daemon can notice and
	 * fall back to move_pages. Loading costs far more than a batch.
	 */
	if (!c->skel) {
		if (access(KMIGRATED_SYSFS_DIR, F_OK))
			return -ENOENT;
		c->skel = promote__open_and_load();
		if (!c->skel)
			return errno ? -errno : -ENOENT;
	}
	prog_fd = bpf_program__fd(c->skel->progs.hp_promote_batch);
	done = kmig_run(c, prog_fd, per, reqs, n, res);
	if (!backend->hold || done < 0) {
		promote__destroy(c->skel);
		c->skel = NULL;
	}
	return done;
}

static void kmig_release(struct hp_promote_backend *backend)
{
	struct kmig_ctx *c = backend->ctx;

	if (!c)
		return;
	promote__destroy(c->skel);
	c->skel = NULL;
}

static void kmig_destroy(struct hp_promote_backend *backend)
{
	struct kmig_ctx *c = backend->ctx;

	if (!c)
		return;
	promote__destroy(c->skel);
	free(c);
	backend->ctx = NULL;
}

int hp_promote_kmigrated_create(unsigned int batch, struct hp_promote_backend *out, char *err,
				size_t err_len)
{
	struct kmig_ctx *c;
	int ret;

	/* libbpf fails on an unresolved kfunc extern: open nothing without the module. */
	if (access(KMIGRATED_SYSFS_DIR, F_OK)) {
		snprintf(err, err_len, "kmigrated.ko is not loaded (%s missing)",
			 KMIGRATED_SYSFS_DIR);
		return -ENOENT;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	c->skel = promote__open_and_load();
	if (!c->skel) {
		ret = -errno;
		snprintf(err, err_len, "loading bpf/promote.bpf.o: %s", strerror(errno));
		free(c);
		return ret;
	}
	/* Loads, so the module works; held again only while a call runs. */
	promote__destroy(c->skel);
	c->skel = NULL;
	memset(out, 0, sizeof(*out));
	out->name = "kmigrated";
	out->needs_pfn = true;
	out->batch = batch ? batch : KMIGRATED_BATCH_MAX;
	out->promote = kmig_promote;
	out->release = kmig_release;
	out->destroy = kmig_destroy;
	out->ctx = c;
	return 0;
}

int hp_kmigrated_read_u64(const char *name, __u64 *value)
{
	char path[128], buf[32];
	unsigned long long v;
	int ret;

	snprintf(path, sizeof(path), KMIGRATED_SYSFS_DIR "/%s", name);
	ret = hp_read_line(path, buf, sizeof(buf));
	if (ret)
		return ret;
	if (sscanf(buf, "%llu", &v) != 1)
		return -EINVAL;
	*value = v;
	return 0;
}
