// SPDX-License-Identifier: GPL-2.0
/*
 * The move_pages(2) promotion backend: requests grouped by process and
 * target node, one call per batch of addresses.
 *
 * Each batch costs two calls: a query (nodes = NULL) that finds pages
 * already on the target, not present or not mapped, which are refused
 * without a move; then the move of the rest. The move reports a node per
 * page on success and an errno per page on failure; when the kernel's
 * migration fails partway it returns the number of pages left and leaves
 * their status unwritten (do_pages_move()), so statuses start out as a
 * sentinel and the unwritten ones are asked again.
 */
#include <errno.h>
#include <limits.h>
#include <numaif.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hotpage/event.h"
#include "promote.h"

#define STATUS_UNWRITTEN INT_MIN

struct move_pages_ctx {
	size_t *order; /* request indices sorted by (tgid, target, vaddr) */
	size_t order_cap;
	void **pages;
	int *nodes;
	int *status;
	size_t *index; /* request index of each page in a call */
	size_t batch_cap;
	__u64 page_mask;
};

/* For qsort: the requests being sorted. */
static const struct hp_promote_req *sort_reqs;

static int cmp_req(const void *a, const void *b)
{
	const struct hp_promote_req *x = &sort_reqs[*(const size_t *)a];
	const struct hp_promote_req *y = &sort_reqs[*(const size_t *)b];

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->target_node != y->target_node)
		return x->target_node < y->target_node ? -1 : 1;
	if (x->vaddr != y->vaddr)
		return x->vaddr < y->vaddr ? -1 : 1;
	return 0;
}

/* The outcome of a whole call that failed with @err (errno). */
static enum hp_promote_outcome call_outcome(int err, struct hp_promote_result *res)
{
	switch (err) {
	case ESRCH:
		return HP_PROMOTE_NO_PROCESS;
	case EPERM:
		return HP_PROMOTE_NO_PERMISSION;
	case ENODEV:
	case EINVAL: /* with valid arguments: a node past MAX_NUMNODES */
		return HP_PROMOTE_BAD_NODE;
	case EACCES:
		return HP_PROMOTE_NODE_NOT_ALLOWED;
	case ENOMEM:
		return HP_PROMOTE_NOMEM;
	default:
		res->last_other_errno = err;
		return HP_PROMOTE_OTHER;
	}
}

/* The outcome of one page's status after a move to @target. */
static enum hp_promote_outcome status_outcome(int status, int target, struct hp_promote_result *res)
{
	if (status == target)
		return HP_PROMOTE_MOVED;
	if (status >= 0)
		return HP_PROMOTE_NOT_MIGRATED;
	switch (-status) {
	case ENOENT:
		return HP_PROMOTE_NOT_PRESENT;
	case EFAULT:
		return HP_PROMOTE_NOT_MAPPED;
	case EBUSY:
		return HP_PROMOTE_BUSY;
	case EACCES:
		return HP_PROMOTE_SHARED;
	case ENOMEM:
		return HP_PROMOTE_NOMEM;
	case EIO: /* could not be written back */
	case EINVAL: /* a dirty page that cannot be moved */
	case EAGAIN:
		return HP_PROMOTE_NOT_MIGRATED;
	default:
		res->last_other_errno = -status;
		return HP_PROMOTE_OTHER;
	}
}

static void fill_status(int *status, size_t n)
{
	for (size_t i = 0; i < n; i++)
		status[i] = STATUS_UNWRITTEN;
}

/*
 * One batch: reqs[idx[0..n)] all of @tgid, to @target. Returns the pages
 * moved.
 */
static size_t move_batch(struct move_pages_ctx *c, const struct hp_promote_req *reqs,
			 const size_t *idx, size_t n, __u32 tgid, int target,
			 struct hp_promote_result *res)
{
	size_t todo = 0, moved = 0, unwritten = 0;
	long ret;

	for (size_t k = 0; k < n; k++)
		c->pages[k] = (void *)(uintptr_t)(reqs[idx[k]].vaddr & c->page_mask);
	fill_status(c->status, n);
	res->calls++;
	ret = move_pages((int)tgid, n, c->pages, NULL, c->status, 0);
	if (ret < 0) {
		enum hp_promote_outcome o = call_outcome(errno, res);

		for (size_t k = 0; k < n; k++)
			hp_promote_account(res, idx[k], o);
		return 0;
	}
	/* Keep the pages worth moving, in place at the front. */
	for (size_t k = 0; k < n; k++) {
		int s = c->status[k];

		if (s == target) {
			hp_promote_account(res, idx[k], HP_PROMOTE_ALREADY_THERE);
		} else if (s < 0) {
			hp_promote_account(res, idx[k], status_outcome(s, target, res));
		} else {
			c->pages[todo] = c->pages[k];
			c->index[todo] = idx[k];
			c->nodes[todo] = target;
			todo++;
		}
	}
	if (!todo)
		return 0;

	fill_status(c->status, todo);
	res->calls++;
	ret = move_pages((int)tgid, todo, c->pages, c->nodes, c->status, MPOL_MF_MOVE);
	if (ret < 0) {
		enum hp_promote_outcome o = call_outcome(errno, res);

		for (size_t k = 0; k < todo; k++) {
			int s = c->status[k];

			hp_promote_account(res, c->index[k],
					   s == STATUS_UNWRITTEN ? o
								 : status_outcome(s, target, res));
			moved += s == target;
		}
		return moved;
	}
	/* Account the written statuses; gather the pages whose status was not written. */
	for (size_t k = 0; k < todo; k++) {
		int s = c->status[k];

		if (s == STATUS_UNWRITTEN) {
			c->pages[unwritten] = c->pages[k];
			c->index[unwritten++] = c->index[k];
			continue;
		}
		hp_promote_account(res, c->index[k], status_outcome(s, target, res));
		moved += s == target;
	}
	if (!unwritten)
		return moved;
	/* The migration failed partway (ret > 0): ask where those pages are now. */
	fill_status(c->nodes, unwritten);
	res->calls++;
	if (move_pages((int)tgid, unwritten, c->pages, NULL, c->nodes, 0) < 0)
		fill_status(c->nodes, unwritten);
	for (size_t k = 0; k < unwritten; k++) {
		enum hp_promote_outcome o =
			c->nodes[k] == target ? HP_PROMOTE_MOVED : HP_PROMOTE_NOT_MIGRATED;

		hp_promote_account(res, c->index[k], o);
		moved += o == HP_PROMOTE_MOVED;
	}
	return moved;
}

static int reserve(struct move_pages_ctx *c, size_t n, size_t batch)
{
	if (n > c->order_cap) {
		size_t *order = realloc(c->order, n * sizeof(*order));

		if (!order)
			return -ENOMEM;
		c->order = order;
		c->order_cap = n;
	}
	if (batch > c->batch_cap) {
		void **pages = realloc(c->pages, batch * sizeof(*pages));
		int *nodes, *status;
		size_t *index;

		if (!pages)
			return -ENOMEM;
		c->pages = pages;
		nodes = realloc(c->nodes, batch * sizeof(*nodes));
		if (!nodes)
			return -ENOMEM;
		c->nodes = nodes;
		status = realloc(c->status, batch * sizeof(*status));
		if (!status)
			return -ENOMEM;
		c->status = status;
		index = realloc(c->index, batch * sizeof(*index));
		if (!index)
			return -ENOMEM;
		c->index = index;
		c->batch_cap = batch;
	}
	return 0;
}

static int move_pages_promote(struct hp_promote_backend *backend, const struct hp_promote_req *reqs,
			      size_t n, struct hp_promote_result *res)
{
	struct move_pages_ctx *c = backend->ctx;
	size_t batch = backend->batch ? backend->batch : 1, valid = 0, moved = 0;
	int err;

	err = reserve(c, n, batch);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		if (!reqs[i].tgid || !reqs[i].vaddr || reqs[i].tgid > INT_MAX)
			hp_promote_account(res, i, HP_PROMOTE_BAD_REQUEST);
		else if (reqs[i].target_node < 0)
			hp_promote_account(res, i, HP_PROMOTE_BAD_NODE);
		else
			c->order[valid++] = i;
	}
	sort_reqs = reqs;
	qsort(c->order, valid, sizeof(c->order[0]), cmp_req);
	sort_reqs = NULL;

	for (size_t start = 0; start < valid;) {
		const struct hp_promote_req *first = &reqs[c->order[start]];
		size_t end = start;

		while (end < valid && end - start < batch &&
		       reqs[c->order[end]].tgid == first->tgid &&
		       reqs[c->order[end]].target_node == first->target_node)
			end++;
		moved += move_batch(c, reqs, c->order + start, end - start, first->tgid,
				    first->target_node, res);
		start = end;
	}
	return moved > INT_MAX ? INT_MAX : (int)moved;
}

static void move_pages_destroy(struct hp_promote_backend *backend)
{
	struct move_pages_ctx *c = backend->ctx;

	if (!c)
		return;
	free(c->order);
	free(c->pages);
	free(c->nodes);
	free(c->status);
	free(c->index);
	free(c);
	backend->ctx = NULL;
}

int hp_promote_move_pages_create(unsigned int batch, struct hp_promote_backend *out)
{
	struct move_pages_ctx *c = calloc(1, sizeof(*c));
	long page_size = sysconf(_SC_PAGESIZE);

	if (!c)
		return -ENOMEM;
	c->page_mask = ~((__u64)(page_size > 0 ? page_size : 4096) - 1);
	memset(out, 0, sizeof(*out));
	out->name = "move_pages";
	out->needs_vaddr = true;
	out->batch = batch ? batch : 1;
	out->promote = move_pages_promote;
	out->destroy = move_pages_destroy;
	out->ctx = c;
	return 0;
}
