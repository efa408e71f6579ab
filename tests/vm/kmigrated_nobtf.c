// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test: kmigrated.ko without its .BTF section refuses to load, with
 * ENOEXEC and a kernel log line that says why, and leaves nothing behind;
 * the intact module still loads afterwards.
 *
 * A module without BTF would otherwise load "successfully" with kfuncs no
 * BPF program can find. The stripped copy is made with objcopy in /tmp.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hp_test.h"
#include "kmigrated.h"
#include "kmigrated_test.h"

/* The module's pr_err() when it finds no BTF (kernel-helper/kmigrated.c). */
#define NOBTF_MESSAGE "kmigrated: module has no BTF (.BTF section)"
#define NOBTF_ERRNO ENOEXEC

static char tmpdir[64];
static char stripped[PATH_MAX];
static bool module_ours;

/* Whether the ELF file at @path has a section called @name (-1: not ELF64). */
static int elf_has_section(const char *path, const char *name)
{
	size_t name_size = strlen(name) + 1;
	const Elf64_Shdr *sh, *shstr;
	const Elf64_Ehdr *eh;
	const char *map;
	struct stat st;
	int fd, found = -1;
	unsigned int i;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || (size_t)st.st_size < sizeof(*eh)) {
		close(fd);
		return -1;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	eh = (const Elf64_Ehdr *)map;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(*sh) || eh->e_shstrndx >= eh->e_shnum ||
	    eh->e_shoff + (size_t)eh->e_shnum * sizeof(*sh) > (size_t)st.st_size)
		goto out;
	sh = (const Elf64_Shdr *)(map + eh->e_shoff);
	shstr = &sh[eh->e_shstrndx];
	if (shstr->sh_offset + shstr->sh_size > (size_t)st.st_size)
		goto out;
	found = 0;
	for (i = 0; i < eh->e_shnum && !found; i++)
		found = sh[i].sh_name + name_size <= shstr->sh_size &&
			memcmp(map + shstr->sh_offset + sh[i].sh_name, name, name_size) == 0;
out:
	munmap((void *)map, st.st_size);
	return found;
}

/* objcopy --remove-section=.BTF @src @dst; skips the test without objcopy. */
static void strip_btf(const char *src, const char *dst)
{
	char *argv[] = { "objcopy", "--remove-section=.BTF", (char *)src, (char *)dst, NULL };
	int err, status;
	pid_t pid;

	err = posix_spawnp(&pid, "objcopy", NULL, NULL, argv, environ);
	if (err == ENOENT)
		hp_skip("objcopy (binutils) not found");
	hp_check(!err, "spawning objcopy: %s", strerror(err));
	hp_check(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	hp_check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "objcopy failed (status %#x)",
		 status);
}

/*
 * The kernel log records written since @fd was opened at the end of
 * /dev/kmsg: copies the first one that contains @needle into @line.
 */
static bool kmsg_find(int fd, const char *needle, char *line, size_t size)
{
	char rec[8192];

	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);

		if (n < 0 && errno == EPIPE) /* overwritten records: go on */
			continue;
		if (n <= 0)
			return false;
		rec[n] = '\0';
		if (strstr(rec, needle)) {
			/* "prio,seq,usec,flags;message\n[continuation]" */
			const char *msg = strchr(rec, ';');

			snprintf(line, size, "%.*s", (int)strcspn(msg ? msg + 1 : rec, "\n"),
				 msg ? msg + 1 : rec);
			return true;
		}
	}
}

static void cleanup(void)
{
	if (module_ours && kmt_loaded())
		kmt_unload();
	if (stripped[0])
		unlink(stripped);
	if (tmpdir[0])
		rmdir(tmpdir);
}

int main(void)
{
	char path[PATH_MAX], line[1024];
	int kmsg, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hp_require_root();
	kmt_module_path(path, sizeof(path));
	atexit(cleanup);

	if (kmt_loaded()) {
		printf("kmigrated is loaded already; removing it first\n");
		err = kmt_unload();
		hp_check(!err, "delete_module(kmigrated): %s", strerror(-err));
	}

	hp_check(elf_has_section(path, ".BTF") == 1, "%s has no .BTF section to begin with", path);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kmigrated-nobtf.XXXXXX");
	hp_check(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	snprintf(stripped, sizeof(stripped), "%s/kmigrated.ko", tmpdir);
	strip_btf(path, stripped);
	hp_check(elf_has_section(stripped, ".BTF") == 0, "objcopy left .BTF in %s", stripped);
	hp_check(elf_has_section(stripped, ".BTF_ids") == 1, "objcopy removed .BTF_ids too");
	printf("stripped .BTF: %s\n", stripped);

	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	hp_check(kmsg >= 0, "open /dev/kmsg: %s", strerror(errno));
	hp_check(lseek(kmsg, 0, SEEK_END) >= 0, "seek /dev/kmsg: %s", strerror(errno));

	err = kmt_load_file(stripped, "");
	if (!err)
		module_ours = true;
	hp_check(err, "finit_module of the module without BTF succeeded");
	hp_check(err == -NOBTF_ERRNO, "finit_module failed with %s, expected %s", strerror(-err),
		 strerror(NOBTF_ERRNO));
	printf("finit_module refused it: errno %d (%s)\n", -err, strerror(-err));

	hp_check(kmsg_find(kmsg, NOBTF_MESSAGE, line, sizeof(line)), "no '%s' in the kernel log",
		 NOBTF_MESSAGE);
	close(kmsg);
	printf("kernel log: %s\n", line);

	hp_check(!kmt_loaded(), "/sys/module/kmigrated present after the refused load");
	hp_check(access(KMIGRATED_SYSFS_DIR, F_OK) != 0 && errno == ENOENT,
		 "%s present after the refused load", KMIGRATED_SYSFS_DIR);

	/* The refusal leaves nothing that stops the real module. */
	err = kmt_load_file(path, "");
	hp_check(!err, "finit_module(%s) after the refusal: %s", path, strerror(-err));
	module_ours = true;
	err = kmt_unload();
	hp_check(!err, "delete_module(kmigrated): %s", strerror(-err));
	module_ours = false;
	printf("the module with BTF still loads and unloads\n");

	printf("pass: a module without BTF is refused with errno %d and a log line\n", NOBTF_ERRNO);
	return 0;
}
