// SPDX-License-Identifier: GPL-2.0
/* Building a message, or an error's reason, into a fixed buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "catf.h"

void hp_catf(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;

	va_start(ap, fmt);
	/*
	 * clang-tidy 14 reports this va_list as uninitialized when it analyses
	 * several files in one run (as make lint does), never for this file alone.
	 */
	if (used + 1 < len)
		// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
		vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

void hp_set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	/* The same clang-tidy false positive as above. */
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}
