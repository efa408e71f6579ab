// SPDX-License-Identifier: GPL-2.0
/* A child whose writes the fault source sees as heat on any machine. */
#include "hp_toucher.h"

/* The page size, set in the toucher child before its handler can run. */
static long hp_toucher_page;

static void hp_toucher_segv(int sig, siginfo_t *si, void *uc)
{
	uintptr_t page = (uintptr_t)si->si_addr & ~((uintptr_t)hp_toucher_page - 1);

	(void)sig;
	(void)uc;
	if (mprotect((void *)page, (size_t)hp_toucher_page, PROT_READ | PROT_WRITE))
		_exit(3);
}

pid_t hp_toucher_start(long npages, unsigned int pause_us)
{
	pid_t pid = fork();

	hp_check(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		struct sigaction sa = { .sa_sigaction = hp_toucher_segv, .sa_flags = SA_SIGINFO };
		char *p;

		prctl(PR_SET_PDEATHSIG, SIGKILL); /* the test may fail and exit */
		hp_toucher_page = sysconf(_SC_PAGESIZE);
		p = mmap(NULL, (size_t)(npages * hp_toucher_page), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (p == MAP_FAILED || sigaction(SIGSEGV, &sa, NULL))
			_exit(1);
		for (unsigned int n = 0;; n++) {
			if (mprotect(p, (size_t)(npages * hp_toucher_page), PROT_READ))
				_exit(2);
			for (long i = 0; i < npages; i++)
				p[i * hp_toucher_page] = (char)n;
			usleep(pause_us);
		}
	}
	return pid;
}
