// SPDX-License-Identifier: MIT
/*
 * seq_file.c - a growable text buffer for the /proc-style views.
 *
 * Mirrors:    fs/seq_file.c (names only)
 * Simplified: the whole view is built in memory
 * Differs:    allocation failure aborts (real OOM, never simulated OOM)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seq_file.h"

void seq_init(struct seq_file *s)
{
	s->size = 4096;
	s->count = 0;
	s->buf = malloc(s->size);
	if (!s->buf)
		abort();
	s->buf[0] = '\0';
}

void seq_release(struct seq_file *s)
{
	free(s->buf);
	s->buf = NULL;
	s->count = s->size = 0;
}

static void seq_reserve(struct seq_file *s, size_t more)
{
	if (s->count + more + 1 <= s->size)
		return;
	while (s->count + more + 1 > s->size)
		s->size *= 2;
	s->buf = realloc(s->buf, s->size);
	if (!s->buf)
		abort();
}

void seq_printf(struct seq_file *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	seq_reserve(s, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(s->buf + s->count, s->size - s->count, fmt, ap);
	va_end(ap);
	s->count += (size_t)n;
}

void seq_puts(struct seq_file *s, const char *str)
{
	size_t n = strlen(str);

	seq_reserve(s, n);
	memcpy(s->buf + s->count, str, n + 1);
	s->count += n;
}

void seq_putc(struct seq_file *s, char c)
{
	seq_reserve(s, 1);
	s->buf[s->count++] = c;
	s->buf[s->count] = '\0';
}
