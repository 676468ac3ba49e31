// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cidr.h"

const char *ld_param_name(enum learnd_param p)
{
	return (unsigned)p < LEARND_PARAM__MAX ? learnd_param_info(p)->name : "?";
}

void ld_param_limits(enum learnd_param p, uint32_t *min, uint32_t *max)
{
	*min = learnd_param_info(p)->min;
	*max = learnd_param_info(p)->max;
}

void ld_config_init(struct ld_config *cfg)
{
	*cfg = (struct ld_config){
		.db = "/var/lib/learnd/learnd.db", .pin_dir = "/sys/fs/bpf/learnd",
		.sample_rate = 1, .record_budget = LEARND_RECORD_BUDGET_DEFAULT, .heartbeat_ttl_ms = 10000,
		.tick_ms = 1000, .max_prefixes = 65536, .ringbuf_kb = 4096,
		.auto_prefix_v4 = 24, .auto_prefix_v6 = 48, /* discovered prefixes */
		.window = 2000, .probe_pct = 5, .retention_days = 30,
	};
	ld_fleet_config_init(&cfg->fleet);
}

struct parse_state {
	struct ld_config *cfg;
	char section[256];          /* current section, to spot a repeated one */
	struct ld_bounds *target;   /* where range keys of this section go */
	struct ld_prefix_cfg *pfx;  /* current [prefix] or NULL */
	FILE *f;
	int line;                   /* line the reader is on: inih's handler is not told */
	int header_line;            /* line of the last [section] header */
	int err_line;               /* line of the first error (the one reported) */
	bool had_key;               /* a key line since the section header: inih takes an
				     * indented line after it as a continuation */
	int learnd_line, defaults_line, fleet_line; /* where [learnd], [defaults], [fleet] were, to spot a repeat */
	struct {
		char name[32];
		int line;
	} seen[32];                 /* keys of the current section, to spot a repeat */
	unsigned nseen;
	char msg[256];
};

__attribute__((format(printf, 2, 3))) static int fail(struct parse_state *st, const char *fmt, ...)
{
	va_list ap;

	/* inih goes on after an error and reports the first one's line: keep the
	 * first message too, with its line */
	if (st->err_line)
		return 0;
	va_start(ap, fmt);
	vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
	va_end(ap);
	st->err_line = st->line;
	return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
		*out = true;
	else if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

/* "N" (fixed) or "MIN..MAX" (bounds), within the kernel's limits. */
static int parse_range(struct parse_state *st, enum learnd_param p, const char *name, const char *value,
		       struct ld_range *out)
{
	char lo[32];
	const char *dots = strstr(value, "..");
	uint32_t kmin, kmax;

	ld_param_limits(p, &kmin, &kmax);
	if (dots) {
		size_t n = (size_t)(dots - value);

		if (n == 0 || n >= sizeof(lo))
			return fail(st, "%s = %s: expected a number or MIN..MAX", name, value);
		memcpy(lo, value, n);
		lo[n] = '\0';
		if (parse_u32(lo, &out->min) || parse_u32(dots + 2, &out->max))
			return fail(st, "%s = %s: expected a number or MIN..MAX", name, value);
		if (out->min > out->max)
			return fail(st, "%s = %s: MIN is above MAX", name, value);
	} else {
		if (parse_u32(value, &out->min))
			return fail(st, "%s = %s: expected a number or MIN..MAX", name, value);
		out->max = out->min;
	}
	if (out->min < kmin || out->max > kmax) {
		return fail(st, "%s = %s: outside %u..%u (the kernel's limits)", name, value, kmin, kmax);
	}
	out->set = true;
	return 1;
}

static int start_section(struct parse_state *st, const char *section)
{
	struct ld_config *cfg = st->cfg;
	char err[160];

	snprintf(st->section, sizeof(st->section), "%s", section);
	st->pfx = NULL;
	st->target = NULL;
	st->nseen = 0;
	st->had_key = false;
	/* a repeated section would be merged by inih, the later keys winning */
	if (!strcmp(section, "learnd") || !strcmp(section, "defaults")) {
		int *first = section[0] == 'l' ? &st->learnd_line : &st->defaults_line;

		if (*first)
			return fail(st, "[%s] given twice (first at line %d)", section, *first);
		*first = st->header_line;
		st->target = section[0] == 'd' ? &cfg->defaults : NULL;
		return 1;
	}
	if (!strcmp(section, "fleet")) { /* keys: fleet_config.c */
		if (st->fleet_line)
			return fail(st, "[fleet] given twice (first at line %d)", st->fleet_line);
		st->fleet_line = st->header_line;
		cfg->fleet.enabled = true;
		return 1;
	}
	if (!strncmp(section, "prefix ", 7)) {
		struct learnd_key key;
		struct ld_prefix_cfg *np;
		const char *text = section + 7;

		while (*text == ' ')
			text++;
		if (ld_cidr_parse(text, &key, err, sizeof(err)))
			return fail(st, "[%s]: %s", section, err);
		/* the catch-all is learnd's default prefix: two rows of one cidr */
		if (key.prefixlen == 0)
			return fail(st, "[%s]: the catch-all prefix is [defaults]: give its bounds there", section);
		for (size_t i = 0; i < cfg->nprefixes; i++) {
			if (cfg->prefixes[i].key.prefixlen == key.prefixlen &&
			    !memcmp(cfg->prefixes[i].key.addr, key.addr, 16)) {
				return fail(st, "[%s]: duplicate prefix (first at line %u)", section, cfg->prefixes[i].line);
			}
		}
		np = realloc(cfg->prefixes, (cfg->nprefixes + 1) * sizeof(*np));
		if (!np)
			return fail(st, "out of memory");
		cfg->prefixes = np;
		st->pfx = &np[cfg->nprefixes++];
		memset(st->pfx, 0, sizeof(*st->pfx));
		st->pfx->key = key;
		st->pfx->line = (unsigned)st->header_line;
		st->target = &st->pfx->b;
		return 1;
	}
	return fail(st, "unknown section [%s] (expected [learnd], [defaults], [fleet] or [prefix CIDR])", section);
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	struct ld_config *cfg = st->cfg;
	uint32_t *u32 = NULL, min = 0, max = 0;

	if (!section[0])
		return fail(st, "'%s' outside any section (expected [learnd], [defaults] or [prefix CIDR] first)", name);
	/* inih hands a repeated key over again; the last one would win silently */
	for (unsigned i = 0; i < st->nseen; i++)
		if (!strcmp(st->seen[i].name, name))
			return fail(st, "'%s' given twice in [%s] (first at line %d)", name, section, st->seen[i].line);
	if (st->nseen < sizeof(st->seen) / sizeof(st->seen[0]) && strlen(name) < sizeof(st->seen[0].name)) {
		snprintf(st->seen[st->nseen].name, sizeof(st->seen[0].name), "%s", name);
		st->seen[st->nseen++].line = st->line;
	}
	/* (read_line has started the section: inih's copy of its name may be cut) */
	if (!strcmp(st->section, "fleet")) {
		char msg[sizeof(st->msg)];

		if (!ld_fleet_key(&cfg->fleet, name, value, msg, sizeof(msg)))
			return fail(st, "%s", msg);
		return 1;
	}
	if (st->target) {
		int p = learnd_param_by_name(name);

		if (p >= 0)
			return parse_range(st, (enum learnd_param)p, name, value, &st->target->r[p]);
		return fail(st, "unknown key '%s' in [%s] (expected %s)", name, section, learnd_param_list());
	}
	if (!strcmp(name, "cgroup") || !strcmp(name, "db") || !strcmp(name, "pin_dir") || !strcmp(name, "metrics_file")) {
		char *dst = !strcmp(name, "cgroup") ? cfg->cgroup : !strcmp(name, "db") ? cfg->db
			  : !strcmp(name, "pin_dir") ? cfg->pin_dir : cfg->metrics_file;

		if (value[0] != '/' || strlen(value) >= PATH_MAX)
			return fail(st, "%s = %s: expected an absolute path", name, value);
		memcpy(dst, value, strlen(value) + 1);
		return 1;
	}
	if (!strcmp(name, "observe_only")) {
		if (parse_bool(value, &cfg->observe_only))
			return fail(st, "%s = %s: expected true or false", name, value);
		return 1;
	}
	static const struct {
		const char *name;
		size_t off;
		uint32_t min, max;
	} keys[] = {
#define KEY(k, lo, hi) { #k, offsetof(struct ld_config, k), lo, hi }
		KEY(sample_rate, 1, 1u << 30),
		KEY(record_budget, 0, 1u << 20),
		KEY(heartbeat_ttl_ms, 100, 3600000),
		KEY(tick_ms, 10, 600000),
		KEY(max_prefixes, 16, 1u << 24),
		KEY(ringbuf_kb, 4, 1u << 20),
		KEY(auto_prefix_v4, 0, 32),
		KEY(auto_prefix_v6, 0, 128),
		KEY(window, 50, 10000000),
		KEY(probe_pct, 1, 50),
		KEY(retention_days, 1, 3650),
#undef KEY
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && !u32; i++)
		if (!strcmp(name, keys[i].name)) {
			u32 = (uint32_t *)((char *)cfg + keys[i].off);
			min = keys[i].min;
			max = keys[i].max;
		}
	if (!u32)
		return fail(st, "unknown key '%s' in [%s]", name, section);
	if (parse_u32(value, u32) || *u32 < min || *u32 > max)
		return fail(st, "%s = %s: expected a whole number from %u to %u", name, value, min, max);
	if (u32 == &cfg->ringbuf_kb && (*u32 & (*u32 - 1)))
		return fail(st, "%s = %s: must be a power of two", name, value);
	return 1;
}

/* fgets for inih that counts lines, so messages can name the line of a key. */
static char *read_line(char *buf, int size, void *user)
{
	struct parse_state *st = user;
	const char *p;
	size_t len;
	int c;

	if (st->err_line)
		return NULL; /* after an error: stop, the first one is reported */
	/* fgets would hide a NUL byte and cut long lines into pieces that inih
	 * takes as lines of their own (a long comment could then set a key) */
	for (len = 0; (c = getc(st->f)) != EOF;) {
		if (len == 0)
			st->line++; /* one call, one whole line */
		if (c == '\0') {
			fail(st, "NUL byte: not a text file");
			return NULL;
		}
		if (len + 1 >= (size_t)size) {
			fail(st, "line longer than %d characters", size - 2);
			return NULL;
		}
		buf[len++] = (char)c;
		if (c == '\n')
			break;
	}
	if (len == 0)
		return NULL;
	buf[len] = '\0';
	for (p = buf; isspace((unsigned char)*p); p++)
		;
	if (st->line == 1 && !strncmp(p, "\xEF\xBB\xBF", 3))
		p += 3; /* inih skips a UTF-8 byte order mark */
	/* inih (Debian's is built with INI_ALLOW_MULTILINE) takes an indented line
	 * after a key as more of that key's value, handing the key over again:
	 * "cgroup = /x" then "  /y" would retarget the cgroup.  Refused here. */
	if (*p && *p != ';' && *p != '#') {
		if (p > buf && st->had_key) { /* (no key before line 1: a BOM is not taken for indentation) */
			fail(st, "indented line after a key: continuation lines are not supported (remove the indentation)");
			return NULL;
		}
		st->had_key = true; /* a [section] header clears it again */
	}
	if (*p == '[') {
		/* Sections are checked here, as inih reads them: its handler only sees
		 * keys (an empty [prefix 10.1.2.3/24] would pass unnoticed) and it cuts
		 * long names, so on_key relies on what this function set up. */
		char name[256];
		const char *end = strchr(p, ']');
		size_t n = end ? (size_t)(end - p - 1) : 0;

		st->header_line = st->line;
		if (end && n < sizeof(name)) {
			memcpy(name, p + 1, n);
			name[n] = '\0';
			if (!start_section(st, name))
				return NULL;
		}
	}
	return buf;
}

int ld_config_load(const char *path, struct ld_config *cfg, char *err, size_t errlen)
{
	struct parse_state st = { .cfg = cfg };
	int line;

	ld_config_init(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	st.f = fopen(path, "re");
	if (!st.f) {
		int e = errno;

		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
		return -e;
	}
	line = ini_parse_stream(read_line, &st, on_key, &st);
	fclose(st.f);
	if (line > 0 && (!st.err_line || line < st.err_line))
		st.msg[0] = '\0'; /* inih's own syntax error came first */
	else if (st.err_line)
		line = st.err_line;
	if (line == -2) {
		snprintf(err, errlen, "%s: out of memory", path);
		ld_config_free(cfg);
		return -ENOMEM;
	}
	if (line > 0) {
		snprintf(err, errlen, "%s:%d: %s", path, line, st.msg[0] ? st.msg : "syntax error (expected key = value or [section])");
		ld_config_free(cfg);
		return -EINVAL;
	}
	/* A [prefix] key not given inherits [defaults]. */
	for (size_t i = 0; i < cfg->nprefixes; i++)
		for (int p = 0; p < LEARND_PARAM__MAX; p++)
			if (!cfg->prefixes[i].b.r[p].set)
				cfg->prefixes[i].b.r[p] = cfg->defaults.r[p];
	if (cfg->tick_ms * 2 > cfg->heartbeat_ttl_ms) {
		snprintf(err, errlen, "%s: tick_ms = %u must be at most half of heartbeat_ttl_ms = %u, or the "
			 "heartbeat goes stale between ticks", path, cfg->tick_ms, cfg->heartbeat_ttl_ms);
		ld_config_free(cfg);
		return -EINVAL;
	}
	if (ld_fleet_finish(&cfg->fleet, st.msg, sizeof(st.msg))) {
		snprintf(err, errlen, "%s:%d: %s", path, st.fleet_line, st.msg);
		ld_config_free(cfg);
		return -EINVAL;
	}
	if (cfg->nprefixes + 1 > cfg->max_prefixes) {
		snprintf(err, errlen, "%s: %zu [prefix] sections do not fit max_prefixes = %u", path,
			 cfg->nprefixes, cfg->max_prefixes);
		ld_config_free(cfg);
		return -EINVAL;
	}
	return 0;
}

void ld_config_free(struct ld_config *cfg)
{
	free(cfg->prefixes);
	cfg->prefixes = NULL;
	cfg->nprefixes = 0;
}

void ld_bounds_to_model(const struct ld_bounds *b, struct learnd_bound out[LEARND_PARAM__MAX])
{
	for (int p = 0; p < LEARND_PARAM__MAX; p++) {
		const struct ld_range *r = &b->r[p];

		out[p].min = r->set ? r->min : 0;
		out[p].max = r->set ? r->max : 0;
		out[p].mode = !r->set ? LEARND_BOUND_UNSET : r->min == r->max ? LEARND_BOUND_FIXED : LEARND_BOUND_LEARN;
	}
}
