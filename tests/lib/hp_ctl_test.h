/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the hotpagectl tests (host and guest): run build/bin/hotpaged
 * on a test socket, call it, read numbers out of its answers, stop it.
 */
#ifndef HP_CTL_TEST_H
#define HP_CTL_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "hp_test.h"

#define HPC_START_TIMEOUT_MS 20000
#define HPC_CALL_TIMEOUT_MS 10000

double hpc_now_ms(void);

/* build/bin/@name, next to build/tests/<kind>/<this test>; skip if not built. */
void hpc_bin_path(const char *name, char *buf, size_t len);

/* A socket path of this test in the default directory. */
void hpc_socket_path(const char *test, char *buf, size_t len);

/*
 * Start hotpaged with socket=@sock and the NULL-terminated @args; its
 * stderr goes to @log (or stays). Returns its pid.
 */
pid_t hpc_daemon_start(const char *sock, const char *const *args, const char *log);

/* "attach perf period=1" as words into hp_ctl_call; status, answer in *text. */
int hpc_call(const char *sock, const char *cmdline, char **text);

/* hpc_call that must succeed; the answer (free it). */
char *hpc_ok(const char *sock, const char *cmdline);

/* Wait until @daemon answers status on @sock. */
void hpc_wait_ready(pid_t daemon, const char *sock);

/* SIGTERM, exit 0, socket gone. */
void hpc_daemon_stop(pid_t daemon, const char *sock);

/* A counter of `stats --json`; fails the test when it is missing. */
__u64 hpc_stat(const char *sock, const char *object, const char *key);

#endif /* HP_CTL_TEST_H */
