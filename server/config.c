// SPDX-License-Identifier: MIT
/*
 * config.c - the coordinator's configuration file, read with libinih (see config.h).
 *
 * Design: libinih calls one handler per "name = value"; the handler looks the key up in a
 * table of (section, key, parser) and stops at nothing: the first problem is kept with its
 * line and reported once parsing ends. libinih reads through our own line reader so that
 * the handler knows the line it is looking at (Debian builds libinih without
 * INI_HANDLER_LINENO). Checks that involve several keys (nodes vs node_mem, the distance
 * table's shape, the kernel command line) run after the whole file was read; the machine
 * itself is checked by booting the routing machine (coord_machine_new).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "config.h"
#include "nsim.h"

#define CONFIG_FILE_MAX (1u << 20) /* a configuration file is small */

struct parse_ctx {
	struct coord_config *cfg; /* being filled */
	const char *text;	  /* what remains to read */
	int line;		  /* line being parsed (1-based) */
	bool at_line_start;	  /* the next read starts a new line */
	int err_line;		  /* line of the first problem (0: none yet) */
	char err[COORD_ERRLEN];	  /* the first problem */
};

static void ctx_fail(struct parse_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ctx_fail(struct parse_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->err_line)
		return;
	ctx->err_line = ctx->line ? ctx->line : -1;
	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ values */

typedef const char *(*key_parser)(struct coord_config *cfg, const char *value);

static const char *parse_arch(struct coord_config *cfg, const char *v)
{
	if (!strcmp(v, "686"))
		cfg->mc.arch = ARCH_686;
	else if (!strcmp(v, "686-pae"))
		cfg->mc.arch = ARCH_686_PAE;
	else
		return "must be 686 or 686-pae";
	snprintf(cfg->arch, sizeof(cfg->arch), "%s", v);
	return NULL;
}

static const char *parse_cpus(struct coord_config *cfg, const char *v)
{
	long n;

	if (nsim_parse_long(v, 1, NR_CPUS_MAX, &n))
		return "must be a number from 1 to 256";
	cfg->mc.ncpus = (int)n;
	return NULL;
}

static const char *parse_nodes(struct coord_config *cfg, const char *v)
{
	long n;

	if (nsim_parse_long(v, 1, MAX_NUMNODES, &n))
		return "must be a number from 1 to 64";
	cfg->mc.nr_nodes = (int)n;
	cfg->nodes_set = true;
	return NULL;
}

static const char *parse_mem(struct coord_config *cfg, const char *v)
{
	if (nsim_parse_size(v, &cfg->mc.mem_bytes) || !cfg->mc.mem_bytes)
		return "must be a size such as 2G or 1536M";
	cfg->mem_set = true;
	return NULL;
}

static const char *parse_node_mem(struct coord_config *cfg, const char *v)
{
	char buf[256], *save = NULL;
	int n = 0;

	if (strlen(v) >= sizeof(buf))
		return "list too long";
	strcpy(buf, v);
	for (char *it = strtok_r(buf, ", \t", &save); it; it = strtok_r(NULL, ", \t", &save)) {
		if (n == MAX_NUMNODES)
			return "more than 64 nodes";
		if (nsim_parse_size(it, &cfg->mc.node_mem[n]) || !cfg->mc.node_mem[n])
			return "must be a comma list of sizes such as 1G,1G";
		n++;
	}
	if (!n)
		return "must be a comma list of sizes such as 1G,1G";
	cfg->nr_node_mem = n;
	return NULL;
}

static const char *parse_thp(struct coord_config *cfg, const char *v)
{
	static const char *const names[] = {"always", "madvise", "never"};

	for (int i = 0; i < 3; i++)
		if (!strcmp(v, names[i])) {
			cfg->mc.thp = (enum thp_mode)i;
			snprintf(cfg->thp, sizeof(cfg->thp), "%s", v);
			return NULL;
		}
	return "must be always, madvise or never";
}

static const char *parse_cmdline(struct coord_config *cfg, const char *v)
{
	free(cfg->cmdline);
	cfg->cmdline = xstrdup(v);
	return NULL;
}

/* "10 20; 20 10": rows separated by ';', values by blanks or commas. */
static const char *parse_distance(struct coord_config *cfg, const char *v)
{
	int row = 0, col = 0;

	memset(cfg->distance_cols, 0, sizeof(cfg->distance_cols));
	while (*v) {
		char *end;
		long d;

		if (*v == ' ' || *v == '\t' || *v == ',') {
			v++;
			continue;
		}
		if (*v == ';') {
			cfg->distance_cols[row++] = col;
			col = 0;
			v++;
			if (row == MAX_NUMNODES)
				return "more than 64 rows";
			continue;
		}
		d = strtol(v, &end, 10);
		if (end == v || d < 10 || d > 254)
			return "rows of numbers from 10 to 254 expected, ';' between rows";
		if (col == MAX_NUMNODES)
			return "more than 64 values in a row";
		cfg->mc.distance[row][col++] = (uint8_t)d;
		v = end;
	}
	if (col)
		cfg->distance_cols[row++] = col;
	cfg->distance_rows = row;
	return NULL;
}

static const char *parse_listen(struct coord_config *cfg, const char *v)
{
	if (!*v || strlen(v) >= sizeof(cfg->listen))
		return "must be ADDR:PORT";
	strcpy(cfg->listen, v);
	return NULL;
}

static const char *parse_ms(int *out, const char *v, long min, long max)
{
	long n;

	if (nsim_parse_long(v, min, max, &n))
		return "must be a number of milliseconds from 10 to 600000";
	*out = (int)n;
	return NULL;
}

static const char *parse_heartbeat(struct coord_config *cfg, const char *v)
{
	return parse_ms(&cfg->heartbeat_ms, v, 10, 600000);
}

static const char *parse_dead_after(struct coord_config *cfg, const char *v)
{
	return parse_ms(&cfg->dead_after_ms, v, 10, 600000);
}

static const struct config_key {
	const char *section; /* [section] */
	const char *name;    /* key */
	key_parser parse;    /* NULL message = accepted */
} config_keys[] = {
	{"machine", "arch", parse_arch},
	{"machine", "cpus", parse_cpus},
	{"machine", "nodes", parse_nodes},
	{"machine", "mem", parse_mem},
	{"machine", "node_mem", parse_node_mem},
	{"machine", "thp", parse_thp},
	{"machine", "cmdline", parse_cmdline},
	{"machine", "distance", parse_distance},
	{"coordinator", "listen", parse_listen},
	{"coordinator", "heartbeat_ms", parse_heartbeat},
	{"coordinator", "dead_after_ms", parse_dead_after},
};

/* ------------------------------------------------------------------ libinih glue */

static int on_value(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *ctx = user;
	bool known_section = !strcmp(section, "sysctl");

	if (known_section) {
		coord_config_add_sysctl(ctx->cfg, name, value);
		return 1;
	}
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
		const struct config_key *k = &config_keys[i];
		const char *msg;

		if (strcmp(section, k->section))
			continue;
		known_section = true;
		if (strcmp(name, k->name))
			continue;
		msg = k->parse(ctx->cfg, value);
		if (msg)
			ctx_fail(ctx, "[%s] %s: '%s' %s", section, name, value, msg);
		return !msg;
	}
	if (known_section)
		ctx_fail(ctx, "[%s] %s: unknown key", section, name);
	else
		ctx_fail(ctx, "unknown section [%s]", section);
	return 0;
}

/* An fgets() over the text that counts lines, so on_value() knows where it is. */
static char *read_line(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	size_t n = strcspn(ctx->text, "\n");
	bool newline = ctx->text[n] == '\n';

	if (!*ctx->text)
		return NULL;
	if (ctx->at_line_start)
		ctx->line++;
	if (n + newline > (size_t)num - 1) {
		ctx_fail(ctx, "line longer than %d characters", num - 2);
		n = (size_t)num - 1;
		newline = false;
	} else {
		n += newline;
	}
	memcpy(str, ctx->text, n);
	str[n] = '\0';
	ctx->text += n;
	ctx->at_line_start = n && str[n - 1] == '\n';
	return str;
}

/* ------------------------------------------------------------------ whole-file checks */

static int finish_nodes(struct coord_config *cfg, char *err, size_t len)
{
	struct machine_config *mc = &cfg->mc;

	if (cfg->nr_node_mem) {
		if (cfg->nodes_set && mc->nr_nodes != cfg->nr_node_mem) {
			snprintf(err, len, "[machine] nodes = %d but node_mem lists %d sizes",
				 mc->nr_nodes, cfg->nr_node_mem);
			return -EINVAL;
		}
		mc->nr_nodes = cfg->nr_node_mem;
		if (!cfg->mem_set) {
			mc->mem_bytes = 0;
			for (int i = 0; i < cfg->nr_node_mem; i++)
				mc->mem_bytes += mc->node_mem[i];
		}
	}
	if (!cfg->distance_rows)
		return 0;
	for (int i = 0; i < cfg->distance_rows; i++)
		if (cfg->distance_cols[i] != mc->nr_nodes)
			goto bad_distance;
	if (cfg->distance_rows == mc->nr_nodes)
		return 0;
bad_distance:
	snprintf(err, len,
		 "[machine] distance: %d rows of %d values expected ('10 20; 20 10': no blank "
		 "before ';', which would start a comment)",
		 mc->nr_nodes, mc->nr_nodes);
	return -EINVAL;
}

static int finish(struct coord_config *cfg, char *err, size_t len)
{
	char mmerr[MM_ERRLEN] = "";
	int ret = finish_nodes(cfg, err, len);

	if (ret)
		return ret;
	if (cfg->dead_after_ms <= cfg->heartbeat_ms) {
		snprintf(err, len, "[coordinator] dead_after_ms (%d) must exceed heartbeat_ms (%d)",
			 cfg->dead_after_ms, cfg->heartbeat_ms);
		return -EINVAL;
	}
	if (machine_cmdline_apply(&cfg->mc, cfg->cmdline, mmerr)) {
		snprintf(err, len, "[machine] cmdline: %s", mmerr);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------------ interface */

static void config_init(struct coord_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	machine_config_init(&cfg->mc);
	cfg->mc.local_node = MM_NO_NODES;
	snprintf(cfg->arch, sizeof(cfg->arch), "%s", cfg->mc.arch == ARCH_686 ? "686" : "686-pae");
	snprintf(cfg->thp, sizeof(cfg->thp), "%s", "always");
	cfg->cmdline = xstrdup("");
	snprintf(cfg->listen, sizeof(cfg->listen), "%s", COORD_LISTEN_DEFAULT);
	cfg->heartbeat_ms = COORD_HEARTBEAT_MS_DEFAULT;
	cfg->dead_after_ms = COORD_DEAD_AFTER_MS_DEFAULT;
}

int coord_config_parse(struct coord_config *cfg, const char *text, const char *what, char *err,
		       size_t len)
{
	struct parse_ctx ctx = {.cfg = cfg, .text = text, .at_line_start = true};
	char msg[COORD_ERRLEN];
	int line;

	config_init(cfg);
	line = ini_parse_stream(read_line, &ctx, on_value, &ctx);
	if (line < 0) {
		snprintf(err, len, "%s: out of memory", what);
		return -ENOMEM;
	}
	if (line || ctx.err_line) {
		/* libinih reports the first line with a problem, ours or its own */
		if (!ctx.err_line || (line && line < ctx.err_line))
			snprintf(err, len, "%s:%d: expected [section] or name = value", what, line);
		else
			snprintf(err, len, "%s:%d: %s", what, ctx.err_line, ctx.err);
		return -EINVAL;
	}
	if (finish(cfg, msg, sizeof(msg))) {
		snprintf(err, len, "%s: %s", what, msg);
		return -EINVAL;
	}
	return 0;
}

static char *slurp(const char *path, int *ret)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	*ret = 0;
	if (!f) {
		*ret = -errno;
		return NULL;
	}
	buf = xmalloc(CONFIG_FILE_MAX + 1);
	n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
	if (ferror(f))
		*ret = -EIO;
	else if (n > CONFIG_FILE_MAX)
		*ret = -EFBIG;
	fclose(f);
	if (*ret) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

int coord_config_load(struct coord_config *cfg, const char *path, char *err, size_t len)
{
	int ret;
	char *text = slurp(path, &ret);

	if (!text) {
		config_init(cfg);
		snprintf(err, len, "cannot read %s: %s", path, strerror(-ret));
		return ret == -ENOENT ? -ENOENT : -EINVAL;
	}
	ret = coord_config_parse(cfg, text, path, err, len);
	free(text);
	return ret;
}

void coord_config_release(struct coord_config *cfg)
{
	for (int i = 0; i < cfg->nr_sysctls; i++) {
		free(cfg->sysctls[i].name);
		free(cfg->sysctls[i].value);
	}
	free(cfg->sysctls);
	free(cfg->cmdline);
	cfg->sysctls = NULL;
	cfg->cmdline = NULL;
	cfg->nr_sysctls = 0;
}

void coord_config_add_sysctl(struct coord_config *cfg, const char *name, const char *value)
{
	cfg->sysctls =
		xrealloc(cfg->sysctls, (size_t)(cfg->nr_sysctls + 1) * sizeof(*cfg->sysctls));
	cfg->sysctls[cfg->nr_sysctls].name = xstrdup(name);
	cfg->sysctls[cfg->nr_sysctls].value = xstrdup(value);
	cfg->nr_sysctls++;
}

int coord_machine_new(struct machine **out, const struct coord_config *cfg, char *err, size_t len)
{
	struct machine_config mc = cfg->mc;
	char mmerr[MM_ERRLEN] = "";
	int ret;

	mc.local_node = MM_NO_NODES;
	ret = machine_new(out, &mc, mmerr);
	if (ret) {
		snprintf(err, len, "[machine] %s", mmerr);
		return ret;
	}
	for (int i = 0; i < cfg->nr_sysctls; i++) {
		const struct coord_sysctl *s = &cfg->sysctls[i];

		ret = machine_sysctl_set(*out, s->name, s->value);
		if (!ret)
			continue;
		if (ret == -ENOENT)
			snprintf(err, len, "[sysctl] %s: unknown sysctl", s->name);
		else
			snprintf(err, len, "[sysctl] %s: invalid value '%s'", s->name, s->value);
		machine_free(*out);
		*out = NULL;
		return ret;
	}
	return 0;
}
