/* SPDX-License-Identifier: MIT */
/*
 * seq_file.h - a growable text buffer for the /proc-style views.
 *
 * Mirrors:    include/linux/seq_file.h (seq_printf, seq_puts, seq_putc names only)
 * Simplified: one buffer that grows; no iterator protocol
 * Differs:    the buffer is heap memory the caller frees with seq_release()
 */
#ifndef NUMASIM_MM_SEQ_FILE_H
#define NUMASIM_MM_SEQ_FILE_H

#include <stddef.h>

struct seq_file {
	char *buf;    /* NUL-terminated text */
	size_t count; /* bytes used, without the NUL */
	size_t size;  /* bytes allocated */
};

void seq_init(struct seq_file *s);
void seq_release(struct seq_file *s);
void seq_printf(struct seq_file *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void seq_puts(struct seq_file *s, const char *str);
void seq_putc(struct seq_file *s, char c);

#endif
