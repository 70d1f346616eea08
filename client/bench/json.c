// SPDX-License-Identifier: MIT
/*
 * json.c - a small JSON reader: enough for the views' --json output (objects, arrays,
 * numbers, strings with the common escapes, true/false/null). Recursive descent over the
 * text into a tree; depth is capped so hostile input cannot exhaust the stack. \uXXXX escapes
 * keep only their low byte (the views emit none).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "nsim.h"

#define JSON_MAX_DEPTH 64

struct parser {
	const char *p; /* next character */
	int depth;     /* nesting */
};

static struct bench_json *parse_value(struct parser *ps);

static void skip_ws(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

static struct bench_json *node_new(enum bench_json_type type)
{
	struct bench_json *j = xcalloc(1, sizeof(*j));

	j->type = type;
	return j;
}

void bench_json_free(struct bench_json *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++) {
		bench_json_free(j->items[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
	free(j->str);
	free(j);
}

/* \uXXXX after the "\u": the code point's low byte ('?' beyond ASCII). */
static int parse_u4(struct parser *ps, char *c)
{
	unsigned int v = 0;

	for (int i = 0; i < 4; i++) {
		char h = ps->p[i];

		if (!isxdigit((unsigned char)h))
			return -EINVAL;
		v = v * 16 + (unsigned int)(isdigit((unsigned char)h)
						    ? h - '0'
						    : tolower((unsigned char)h) - 'a' + 10);
	}
	ps->p += 4;
	*c = v < 0x80 ? (char)v : '?';
	return 0;
}

/* A string at ps->p (which is '"'); NULL if malformed. */
static char *parse_string(struct parser *ps)
{
	size_t cap = 16, len = 0;
	char *s = xmalloc(cap);

	ps->p++;
	while (*ps->p && *ps->p != '"') {
		char c = *ps->p++;

		if (c == '\\') {
			c = *ps->p++;
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'u':
				if (parse_u4(ps, &c))
					goto fail;
				break;
			case '"':
			case '\\':
			case '/':
				break;
			default:
				goto fail;
			}
		}
		if (len + 1 >= cap)
			s = xrealloc(s, cap *= 2);
		s[len++] = c;
	}
	if (*ps->p != '"')
		goto fail;
	ps->p++;
	s[len] = '\0';
	return s;
fail:
	free(s);
	return NULL;
}

static void add_member(struct bench_json *j, char *key, struct bench_json *v)
{
	j->items = xrealloc(j->items, (j->n + 1) * sizeof(*j->items));
	if (j->type == BJ_OBJ) {
		j->keys = xrealloc(j->keys, (j->n + 1) * sizeof(*j->keys));
		j->keys[j->n] = key;
	}
	j->items[j->n++] = v;
}

/* An object or array at ps->p ('{' or '['). */
static struct bench_json *parse_container(struct parser *ps)
{
	bool obj = *ps->p == '{';
	char close = obj ? '}' : ']', *key = NULL;
	struct bench_json *j = node_new(obj ? BJ_OBJ : BJ_ARR), *v;

	if (++ps->depth > JSON_MAX_DEPTH)
		goto fail;
	ps->p++;
	skip_ws(ps);
	if (*ps->p == close) {
		ps->p++;
		ps->depth--;
		return j;
	}
	for (;;) {
		skip_ws(ps);
		if (obj) {
			if (*ps->p != '"' || !(key = parse_string(ps)))
				goto fail;
			skip_ws(ps);
			if (*ps->p++ != ':')
				goto fail;
		}
		v = parse_value(ps);
		if (!v)
			goto fail;
		add_member(j, key, v);
		key = NULL;
		skip_ws(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p++ != close)
			goto fail;
		ps->depth--;
		return j;
	}
fail:
	free(key);
	bench_json_free(j);
	return NULL;
}

static struct bench_json *parse_number(struct parser *ps)
{
	const char *start = ps->p;
	struct bench_json *j;
	char *end;
	double d;

	errno = 0;
	d = strtod(start, &end);
	if (end == start)
		return NULL;
	j = node_new(BJ_NUM);
	j->num = d;
	j->inum = (int64_t)d;
	if (strcspn(start, ".eE") >= (size_t)(end - start)) { /* an integer: keep it exact */
		errno = 0;
		long long ll = strtoll(start, NULL, 10);

		if (!errno)
			j->inum = ll;
	}
	ps->p = end;
	return j;
}

static struct bench_json *parse_word(struct parser *ps)
{
	static const struct {
		const char *word;
		enum bench_json_type type;
		bool b;
	} words[] = {{"true", BJ_BOOL, true}, {"false", BJ_BOOL, false}, {"null", BJ_NULL, false}};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i].word);

		if (!strncmp(ps->p, words[i].word, n)) {
			struct bench_json *j = node_new(words[i].type);

			j->b = words[i].b;
			ps->p += n;
			return j;
		}
	}
	return NULL;
}

static struct bench_json *parse_value(struct parser *ps)
{
	struct bench_json *j;
	char *s;

	skip_ws(ps);
	switch (*ps->p) {
	case '{':
	case '[':
		return parse_container(ps);
	case '"':
		s = parse_string(ps);
		if (!s)
			return NULL;
		j = node_new(BJ_STR);
		j->str = s;
		return j;
	case '-':
	case '0' ... '9':
		return parse_number(ps);
	default:
		return parse_word(ps);
	}
}

struct bench_json *bench_json_parse(const char *text)
{
	struct parser ps = {text, 0};
	struct bench_json *j = parse_value(&ps);

	if (!j)
		return NULL;
	skip_ws(&ps);
	if (*ps.p) {
		bench_json_free(j);
		return NULL;
	}
	return j;
}

const struct bench_json *bench_json_get(const struct bench_json *obj, const char *key)
{
	if (!obj || obj->type != BJ_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return obj->items[i];
	return NULL;
}

int64_t bench_json_int(const struct bench_json *j, int64_t dflt)
{
	return j && j->type == BJ_NUM ? j->inum : dflt;
}
