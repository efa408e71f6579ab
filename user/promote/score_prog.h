/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A policy's BPF scoring program (include/hotpage/policy_score.h): loaded
 * from its object file, checked with a trial batch, then run on batches
 * of candidates. Every refusal says why, in words an operator can act on
 * (the verifier's last lines when it refused the program).
 */
#ifndef HOTPAGE_SCORE_PROG_H
#define HOTPAGE_SCORE_PROG_H

#include <stddef.h>
#include <linux/types.h>

#include "hotpage/policy_score.h"

struct hp_score_prog;

/*
 * Open and load @path, and score one trial page with it. 0, or -errno
 * with the reason in @err: the file (-ENOENT, -EACCES, -EINVAL: not an
 * object), what it lacks (-ENOENT: hp_score or its batch map; -EINVAL:
 * not a syscall program, a batch map of the wrong shape), the kernel's
 * refusal (its errno, with the verifier's words), or the trial (-EINVAL,
 * -ETIME).
 */
int hp_score_prog_open(const char *path, struct hp_score_prog **out, char *err, size_t err_len);

/*
 * Score @n pages (at most HP_SCORE_BATCH) into @scores. 0, or -errno with
 * the reason in @err: the run failed, returned non-zero, scored out of
 * range (-EINVAL), or took more than HP_SCORE_BUDGET_NS of CPU (-ETIME).
 * *@cpu_ns: the CPU the run took.
 */
int hp_score_prog_run(struct hp_score_prog *sp, const struct hp_score_page *pages, size_t n,
		      __s32 *scores, __u64 *cpu_ns, char *err, size_t err_len);

void hp_score_prog_close(struct hp_score_prog *sp);

#endif /* HOTPAGE_SCORE_PROG_H */
