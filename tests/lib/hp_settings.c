// SPDX-License-Identifier: GPL-2.0
/* Kernel settings a test changes, restored however the test ends. */
#include "hp_settings.h"

/* What hp_settings_set() changed, restored at exit or on a signal. */
static struct hp_setting hp_settings[HP_SETTINGS_MAX];

static int hp_settings_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno; // NOLINT(bugprone-signal-handler): see hp_settings_on_signal()
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

void hp_settings_restore(void)
{
	for (int i = HP_SETTINGS_MAX - 1; i >= 0; i--) {
		struct hp_setting *s = &hp_settings[i];

		if (s->path && s->saved[0] && hp_settings_write(s->path, s->saved))
			// NOLINTNEXTLINE(bugprone-signal-handler): see hp_settings_on_signal()
			printf("could not restore %s to %s\n", s->path, s->saved);
		/* Same size, distinct fields: a copy (snprintf trips -Wrestrict under ASan). */
		if (s->path && s->saved[0])
			memcpy(s->restored, s->saved, sizeof(s->restored));
		s->saved[0] = '\0';
	}
}

int hp_settings_check(const char *path)
{
	char now[32] = "";
	FILE *f;

	for (int i = 0; i < HP_SETTINGS_MAX; i++) {
		const struct hp_setting *s = &hp_settings[i];

		if (!s->path || strcmp(s->path, path) != 0)
			continue;
		f = fopen(path, "r");
		if (!f || !fgets(now, sizeof(now), f))
			now[0] = '\0';
		if (f)
			fclose(f);
		now[strcspn(now, "\n")] = '\0';
		printf("%s restored to %s (reads %s)\n", path, s->restored, now);
		return strcmp(now, s->restored) ? -1 : 0;
	}
	return -1;
}

/*
 * Restores from the handler too, though stdio and errno are not
 * async-signal-safe: the test is ending anyway, and a setting left
 * changed would outlive it.
 */
static void hp_settings_on_signal(int sig)
{
	hp_settings_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int hp_settings_set(const char *path, const char *value, bool required)
{
	static bool hooked;
	struct hp_setting *s = NULL;
	char old[32] = "";
	FILE *f;
	int ret;

	if (!hooked) {
		atexit(hp_settings_restore);
		signal(SIGTERM, hp_settings_on_signal);
		signal(SIGINT, hp_settings_on_signal);
		hooked = true;
	}
	for (int i = 0; i < HP_SETTINGS_MAX && !s; i++)
		if (!hp_settings[i].path || !strcmp(hp_settings[i].path, path))
			s = &hp_settings[i];
	hp_check(s, "more than %d settings", HP_SETTINGS_MAX);
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		hp_check(!required, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (!fgets(old, sizeof(old), f))
		old[0] = '\0';
	fclose(f);
	old[strcspn(old, "\n")] = '\0';
	/* "always [madvise] never": the choice in force is the one in brackets. */
	if (strchr(old, '[') && strchr(old, ']')) {
		char *a = strchr(old, '[') + 1;

		*strchr(a, ']') = '\0';
		memmove(old, a, strlen(a) + 1);
	}
	if (!s->path || !s->saved[0]) {
		s->path = path;
		snprintf(s->saved, sizeof(s->saved), "%s", old);
	}
	ret = hp_settings_write(path, value);
	hp_check(!ret || !required, "writing %s to %s: %s", value, path, strerror(-ret));
	return ret;
}
