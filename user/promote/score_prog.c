// SPDX-License-Identifier: GPL-2.0
/* A policy's BPF scoring program (score_prog.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "catf.h"
#include "clock.h"
#include "hotpage/hot_pages.h"
#include "score_prog.h"

#define VERIFIER_TAIL_BYTES 4096
#define VERIFIER_TAIL_LINES 3

struct hp_score_prog {
	struct bpf_object *obj;
	int prog_fd;
	struct hp_score_ctx *batch; /* the batch map, mapped */
	size_t batch_len;
};

/*
 * libbpf loads a program without a verifier log and, when the kernel
 * refuses it, once more with one, which it prints: the end of what it
 * prints is kept here (the log of a large program is megabytes).
 */
static char verifier_tail[VERIFIER_TAIL_BYTES];

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t have = strlen(verifier_tail), add;
	char *text, *line;

	if (level == LIBBPF_DEBUG || vasprintf(&text, fmt, ap) < 0)
		return 0;
	add = strlen(text);
	line = add >= sizeof(verifier_tail) ? text + add - (sizeof(verifier_tail) - 1) : text;
	add = strlen(line);
	if (have + add >= sizeof(verifier_tail)) {
		size_t drop = have + add - sizeof(verifier_tail) + 1;

		if (drop > have)
			drop = have;
		memmove(verifier_tail, verifier_tail + drop, have - drop + 1);
		have -= drop;
	}
	snprintf(verifier_tail + have, sizeof(verifier_tail) - have, "%s", line);
	free(text);
	return 0;
}

/* The last @lines lines of the verifier's log, on one line. */
static void log_tail(const char *log, int lines, char *out, size_t len)
{
	size_t end = strlen(log), start;
	int seen = 0;

	while (end && log[end - 1] == '\n')
		end--;
	start = end;
	while (start && seen < lines) {
		start--;
		if (log[start] == '\n' && ++seen == lines) {
			start++;
			break;
		}
	}
	snprintf(out, len, "%.*s", (int)(end - start), log + start);
	for (char *c = out; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
}

/* The batch map: one mappable entry of exactly struct hp_score_ctx. */
static int check_batch_map(const struct bpf_map *map, const char *path, char *err, size_t err_len)
{
	if (!map) {
		hp_set_err(err, err_len,
			   "%s: no map " HP_SCORE_MAP_NAME
			   " (declare it with HP_SCORE_BATCH_MAP())",
			   path);
		return -ENOENT;
	}
	if (bpf_map__type(map) != BPF_MAP_TYPE_ARRAY || bpf_map__max_entries(map) != 1 ||
	    bpf_map__value_size(map) != sizeof(struct hp_score_ctx) ||
	    !(bpf_map__map_flags(map) & BPF_F_MMAPABLE)) {
		hp_set_err(err, err_len,
			   "%s: map " HP_SCORE_MAP_NAME " is not one mappable array entry of "
			   "%zu bytes (struct hp_score_ctx of this hotpage: HP_SCORE_BATCH_MAP())",
			   path, sizeof(struct hp_score_ctx));
		return -EINVAL;
	}
	return 0;
}

static int open_object(const char *path, struct hp_score_prog *sp, char *err, size_t err_len)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = HP_PIN_DIR);
	struct bpf_program *prog, *p;
	struct stat st;
	int ret;

	if (stat(path, &st)) {
		ret = -errno;
		hp_set_err(err, err_len, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		hp_set_err(err, err_len, "%s: not a regular file", path);
		return -EINVAL;
	}
	sp->obj = bpf_object__open_file(path, &opts);
	if (!sp->obj) {
		char why[128];

		ret = -errno;
		libbpf_strerror(ret, why, sizeof(why));
		hp_set_err(err, err_len, "%s: not a BPF object libbpf can open (%s)", path, why);
		/* libbpf's own codes (4000 and up) are not errnos. */
		return ret < 0 && ret > -__LIBBPF_ERRNO__START ? ret : -EINVAL;
	}
	prog = bpf_object__find_program_by_name(sp->obj, HP_SCORE_PROG_NAME);
	if (!prog) {
		hp_set_err(err, err_len, "%s: no program named " HP_SCORE_PROG_NAME, path);
		return -ENOENT;
	}
	if (bpf_program__type(prog) != BPF_PROG_TYPE_SYSCALL) {
		hp_set_err(err, err_len,
			   "%s: " HP_SCORE_PROG_NAME " is in section \"%s\", not SEC(\"syscall\")",
			   path, bpf_program__section_name(prog));
		return -EINVAL;
	}
	ret = check_batch_map(bpf_object__find_map_by_name(sp->obj, HP_SCORE_MAP_NAME), path, err,
			      err_len);
	if (ret)
		return ret;
	/* Only hp_score runs: other programs in the object are not loaded. */
	for (p = bpf_object__next_program(sp->obj, NULL); p;
	     p = bpf_object__next_program(sp->obj, p))
		bpf_program__set_autoload(p, p == prog);
	verifier_tail[0] = '\0';
	ret = bpf_object__load(sp->obj);
	if (ret) {
		char tail[512], *end = strstr(verifier_tail, "-- END PROG LOAD LOG --");

		if (end)
			*end = '\0';
		log_tail(verifier_tail, VERIFIER_TAIL_LINES, tail, sizeof(tail));
		hp_set_err(err, err_len, "%s: the kernel refused it (%s)%s%s", path, strerror(-ret),
			   tail[0] ? ": " : "", tail);
		return ret;
	}
	sp->prog_fd = bpf_program__fd(prog);
	return 0;
}

int hp_score_prog_open(const char *path, struct hp_score_prog **out, char *err, size_t err_len)
{
	struct hp_score_prog *sp = calloc(1, sizeof(*sp));
	libbpf_print_fn_t old;
	struct hp_score_page trial = { .heat = 8, .npages = 1, .page_node = 1, .access_node = 0 };
	__s32 score;
	__u64 cpu;
	long page = sysconf(_SC_PAGESIZE);
	int ret;

	*out = NULL;
	if (!sp) {
		hp_set_err(err, err_len, "out of memory");
		return -ENOMEM;
	}
	sp->prog_fd = -1;
	old = libbpf_set_print(capture_print);
	ret = open_object(path, sp, err, err_len);
	libbpf_set_print(old);
	if (!ret) {
		sp->batch_len =
			(sizeof(*sp->batch) + (size_t)page - 1) / (size_t)page * (size_t)page;
		sp->batch = mmap(
			NULL, sp->batch_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			bpf_map__fd(bpf_object__find_map_by_name(sp->obj, HP_SCORE_MAP_NAME)), 0);
		if (sp->batch == MAP_FAILED) {
			ret = -errno;
			sp->batch = NULL;
			hp_set_err(err, err_len, "%s: mapping " HP_SCORE_MAP_NAME ": %s", path,
				   strerror(errno));
		}
	}
	if (!ret) {
		char why[256];

		ret = hp_score_prog_run(sp, &trial, 1, &score, &cpu, why, sizeof(why));
		if (ret)
			hp_set_err(err, err_len, "%s: a trial batch: %s", path, why);
	}
	if (ret) {
		hp_score_prog_close(sp);
		return ret;
	}
	*out = sp;
	return 0;
}

int hp_score_prog_run(struct hp_score_prog *sp, const struct hp_score_page *pages, size_t n,
		      __s32 *scores, __u64 *cpu_ns, char *err, size_t err_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	__u64 t;
	int ret;

	*cpu_ns = 0;
	if (!sp->batch) {
		hp_set_err(err, err_len, "its batch map is not mapped");
		return -EINVAL;
	}
	if (!n || n > HP_SCORE_BATCH) {
		hp_set_err(err, err_len, "%zu pages in a batch, not 1..%d", n, HP_SCORE_BATCH);
		return -EINVAL;
	}
	sp->batch->version = HP_SCORE_VERSION;
	sp->batch->n = (__u32)n;
	memcpy(sp->batch->page, pages, n * sizeof(*pages));
	/* What the program does not set is out of range, and says so. */
	for (size_t i = 0; i < n; i++)
		sp->batch->score[i] = HP_SCORE_MAX + 1;
	t = hp_thread_cpu_ns();
	ret = bpf_prog_test_run_opts(sp->prog_fd, &opts);
	*cpu_ns = hp_thread_cpu_ns() - t;
	if (ret) {
		hp_set_err(err, err_len, "running it: %s", strerror(-ret));
		return ret;
	}
	if (opts.retval) {
		hp_set_err(err, err_len, "it returned %d, not 0", (int)opts.retval);
		return -EINVAL;
	}
	if (*cpu_ns > HP_SCORE_BUDGET_NS) {
		hp_set_err(err, err_len,
			   "it took %llu us of CPU for %zu pages, more than the %d us a "
			   "batch may take",
			   (unsigned long long)(*cpu_ns / 1000), n, HP_SCORE_BUDGET_NS / 1000);
		return -ETIME;
	}
	for (size_t i = 0; i < n; i++) {
		__s32 s = sp->batch->score[i];

		if (s != HP_SCORE_KEEP && (s < 0 || s > HP_SCORE_MAX)) {
			hp_set_err(err, err_len,
				   "it scored page %zu %d, outside 0..%d and %d (keep)%s", i, s,
				   HP_SCORE_MAX, HP_SCORE_KEEP,
				   s == HP_SCORE_MAX + 1 ? ": it left the score unset" : "");
			return -EINVAL;
		}
		scores[i] = s;
	}
	return 0;
}

void hp_score_prog_close(struct hp_score_prog *sp)
{
	if (!sp)
		return;
	if (sp->batch)
		munmap(sp->batch, sp->batch_len);
	bpf_object__close(sp->obj);
	free(sp);
}
