// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroup.h"
#include "cidr.h"
#include "model.h" /* LEARND_PROBE_PCT_MAX, the model configuration a config makes */

const char *ld_param_name(enum learnd_param p)
{
	return (unsigned)p < LEARND_PARAM__MAX ? learnd_param_info(p)->name : "?";
}

void ld_param_limits(enum learnd_param p, uint32_t *min, uint32_t *max)
{
	*min = learnd_param_info(p)->min;
	*max = learnd_param_info(p)->max;
}

#define FIELD(k) offsetof(struct ld_config, k), sizeof(((struct ld_config *)0)->k)
#define PATH(sec, k, def, reload, help) { sec, #k, LD_KEY_PATH, FIELD(k), def, 0, 0, 0, 0, reload, help, NULL }
#define U32(sec, k, def, lo, hi, flags, reload, help) { sec, #k, LD_KEY_U32, FIELD(k), NULL, def, lo, hi, flags, reload, help, NULL }
#define BOOL(sec, k, def, reload, help) { sec, #k, LD_KEY_BOOL, FIELD(k), NULL, def, 0, 1, 0, reload, help, NULL }
/* [fleet]'s rows: fields of cfg.fleet */
#define FLEET_TEXT(k, check, help) { "fleet", #k, LD_KEY_TEXT, FIELD(fleet.k), "", 0, 0, 0, 0, LD_KEY_RESTART, help, check }
#define FLEET_U32(k, def, lo, hi, help) { "fleet", #k, LD_KEY_U32, FIELD(fleet.k), NULL, def, lo, hi, 0, LD_KEY_RESTART, help, NULL }
static const struct ld_key keys[] = {
	PATH("learnd", cgroup, "", LD_KEY_RESTART, "cgroup v2 directory whose sockets are tuned (required)"),
	PATH("learnd", db, LEARND_DEFAULT_DB, LD_KEY_RESTART, "SQLite history"),
	PATH("learnd", pin_dir, LEARND_DEFAULT_PIN_DIR, LD_KEY_RESTART, "bpffs directory for the pinned maps and link"),
	PATH("learnd", metrics_file, "", LD_KEY_SIGHUP, "Prometheus textfile rewritten every tick (none by default)"),
	U32("learnd", sample_rate, 1, 1, 1u << 30, 0, LD_KEY_SIGHUP, "record 1 in N connections"),
	U32("learnd", record_budget, LEARND_RECORD_BUDGET_DEFAULT, 0, 1u << 20, 0, LD_KEY_SIGHUP,
	    "records per second per prefix and CPU before sampling (0: no budget)"),
	U32("learnd", heartbeat_ttl_ms, 10000, 100, 3600000, 0, LD_KEY_SIGHUP,
	    "without a tick for this long, connections get kernel defaults"),
	U32("learnd", tick_ms, 1000, 10, 600000, 0, LD_KEY_SIGHUP, "how often decisions are made, written and stored"),
	U32("learnd", max_prefixes, 65536, 16, 1u << 24, 0, LD_KEY_RESTART, "policy map size"),
	U32("learnd", ringbuf_kb, 4096, 4, 1u << 20, LD_KEY_POW2, LD_KEY_RESTART, "close-record ring buffer"),
	U32("learnd", auto_prefix_v4, 24, 0, 32, 0, LD_KEY_SIGHUP, "length of prefixes discovered from IPv4 traffic (0: off)"),
	U32("learnd", auto_prefix_v6, 48, 0, 128, 0, LD_KEY_SIGHUP, "length of prefixes discovered from IPv6 traffic (0: off)"),
	U32("learnd", window, 2000, 50, 10000000, 0, LD_KEY_SIGHUP, "the model's discount, in records of a prefix"),
	U32("learnd", probe_pct, 5, 1, LEARND_PROBE_PCT_MAX, 0, LD_KEY_SIGHUP,
	    "share of a prefix's connections that always go to probes"),
	U32("learnd", retention_days, 30, 1, 3650, 0, LD_KEY_SIGHUP, "5-minute aggregates older than this are deleted"),
	BOOL("learnd", observe_only, false, LD_KEY_SIGHUP, "record and learn, never apply"),
	BOOL("learnd", allow_root_cgroup, false, LD_KEY_RESTART,
	     "cgroup may be the cgroup v2 mount itself: every socket of the host"),
	/* [fleet] (fleet_config.h): the link takes its copy at start */
	FLEET_TEXT(conninfo, ld_fleet_check_conninfo, "libpq connection string or URI of the fleet's PostgreSQL (required; no password)"),
	FLEET_TEXT(host, ld_fleet_check_name, "this host's name in the fleet (default: the machine's hostname)"),
	FLEET_TEXT(site, ld_fleet_check_name, "this host's site (default: one site for all)"),
	FLEET_U32(interval_s, 10, 1, 3600, "push and pull every this many seconds"),
	FLEET_U32(host_cap, 50, 1, 1000000, "one other host's evidence counts as at most this many samples"),
	FLEET_U32(other_site_pct, 10, 0, 100, "weight of another site's evidence, percent"),
	FLEET_U32(timeout_ms, 5000, 100, 600000, "the link's connect, statement and lock timeout"),
	FLEET_U32(install_max, 1000, 0, 1u << 24, "prefixes only the fleet knows put into the table before their first connection"),
};
#undef FIELD
#undef PATH
#undef U32
#undef BOOL
#undef FLEET_TEXT
#undef FLEET_U32

const struct ld_key *ld_config_keys(size_t *n)
{
	*n = sizeof(keys) / sizeof(keys[0]);
	return keys;
}

static const struct ld_key *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].section, section) && !strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static bool is_section(const char *section)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].section, section))
			return true;
	return false;
}

/* "[learnd], [defaults] or [prefix CIDR]": the sections a file may have. */
static const char *section_list(void)
{
	static char list[256];
	size_t used = 0;

	if (list[0])
		return list;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t j;

		for (j = 0; j < i && strcmp(keys[j].section, keys[i].section); j++)
			;
		if (j == i && used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "[%s], ", keys[i].section);
	}
	if (used < sizeof(list))
		snprintf(list + used, sizeof(list) - used, "[defaults] or [prefix CIDR]");
	return list;
}

char *ld_config_strip_comment(char *s)
{
	size_t n;

	for (char *c = s; *c; c++)
		if ((*c == '#' || *c == ';') && (c == s || isspace((unsigned char)c[-1]))) {
			*c = '\0';
			break;
		}
	for (n = strlen(s); n && isspace((unsigned char)s[n - 1]);)
		s[--n] = '\0';
	return s;
}

void ld_path_trim(char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
}

void ld_config_keep_restart(struct ld_config *next, const struct ld_config *old, char *changed, size_t len)
{
	size_t used = 0;

	changed[0] = '\0';
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct ld_key *k = &keys[i];
		bool text = k->type == LD_KEY_PATH || k->type == LD_KEY_TEXT;
		size_t size = text ? strnlen((const char *)old + k->off, k->size) + 1 : k->size;
		char *dst = (char *)next + k->off;
		const char *src = (const char *)old + k->off;

		if (k->reload != LD_KEY_RESTART)
			continue;
		if (text ? strcmp(dst, src) : memcmp(dst, src, size)) {
			if (used < len)
				used += (size_t)snprintf(changed + used, len - used, "%s%s", used ? ", " : "", k->name);
		}
		memcpy(dst, src, size);
	}
}

static int parse_u32(const char *s, uint32_t *out);
static int parse_bool(const char *s, bool *out);

/* One key's value (comment already stripped) into cfg; 0, or -EINVAL with
 * the reason ("NAME = VALUE: why") in msg. */
static int set_key(struct ld_config *cfg, const struct ld_key *k, const char *value, char *msg, size_t len)
{
	void *dst = (char *)cfg + k->off;
	uint32_t v;

	switch (k->type) {
	case LD_KEY_PATH:
		if (value[0] != '/' || strlen(value) >= k->size) {
			snprintf(msg, len, "%s = %.100s: expected an absolute path", k->name, value);
			return -EINVAL;
		}
		memcpy(dst, value, strlen(value) + 1);
		ld_path_trim(dst);
		return 0;
	case LD_KEY_TEXT:
		if (strlen(value) >= k->size) {
			snprintf(msg, len, "%s: longer than %zu characters", k->name, k->size - 1);
			return -EINVAL;
		}
		if (k->check && k->check(k->name, value, msg, len))
			return -EINVAL;
		memcpy(dst, value, strlen(value) + 1);
		return 0;
	case LD_KEY_BOOL:
		if (parse_bool(value, dst)) {
			snprintf(msg, len, "%s = %.100s: expected true or false", k->name, value);
			return -EINVAL;
		}
		return 0;
	case LD_KEY_U32:
		if (parse_u32(value, &v) || v < k->min || v > k->max) {
			snprintf(msg, len, "%s = %.100s: expected a whole number from %u to %u", k->name, value, k->min, k->max);
			return -EINVAL;
		}
		if ((k->flags & LD_KEY_POW2) && (v & (v - 1))) {
			snprintf(msg, len, "%s = %.100s: must be a power of two", k->name, value);
			return -EINVAL;
		}
		*(uint32_t *)dst = v;
		return 0;
	}
	return -EINVAL;
}

void ld_config_init(struct ld_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct ld_key *k = &keys[i];
		void *dst = (char *)cfg + k->off;

		switch (k->type) {
		case LD_KEY_PATH:
		case LD_KEY_TEXT: snprintf(dst, k->size, "%s", k->def); break;
		case LD_KEY_U32: *(uint32_t *)dst = k->defv; break;
		case LD_KEY_BOOL: *(bool *)dst = k->defv; break;
		}
	}
	ld_fleet_default_host(&cfg->fleet);
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
	struct {
		char name[32];
		int line;
	} sections[8];              /* [defaults] and the scalar sections seen, to spot a repeat */
	unsigned nsections;
	int read_errno;             /* a read error: not the end of the file */
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
	if (!strcmp(section, "defaults") || is_section(section)) {
		unsigned i;

		for (i = 0; i < st->nsections && strcmp(st->sections[i].name, section); i++)
			;
		if (i < st->nsections)
			return fail(st, "[%s] given twice (first at line %d)", section, st->sections[i].line);
		if (i < sizeof(st->sections) / sizeof(st->sections[0])) {
			snprintf(st->sections[i].name, sizeof(st->sections[i].name), "%.31s", section);
			st->sections[i].line = st->header_line;
			st->nsections++;
		}
		st->target = !strcmp(section, "defaults") ? &cfg->defaults : NULL;
		if (!strcmp(section, "fleet"))
			cfg->fleet.enabled = true; /* the section itself says "share" */
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
	return fail(st, "unknown section [%s] (expected %s)", section, section_list());
}

static int on_key(void *user, const char *section, const char *name, const char *raw)
{
	struct parse_state *st = user;
	const struct ld_key *k;
	char value[PATH_MAX], msg[sizeof(st->msg)]; /* (a line is shorter) */

	if (!section[0])
		return fail(st, "'%s' outside any section (expected %s first)", name, section_list());
	/* inih hands a repeated key over again; the last one would win silently */
	for (unsigned i = 0; i < st->nseen; i++)
		if (!strcmp(st->seen[i].name, name))
			return fail(st, "'%s' given twice in [%s] (first at line %d)", name, section, st->seen[i].line);
	if (st->nseen < sizeof(st->seen) / sizeof(st->seen[0]) && strlen(name) < sizeof(st->seen[0].name)) {
		snprintf(st->seen[st->nseen].name, sizeof(st->seen[0].name), "%s", name);
		st->seen[st->nseen++].line = st->line;
	}
	/* the one comment rule: inih strips " ;" comments only */
	snprintf(value, sizeof(value), "%s", raw);
	ld_config_strip_comment(value);
	/* (read_line has started the section: inih's copy of its name may be cut) */
	if (st->target) {
		int p = learnd_param_by_name(name);

		if (p >= 0)
			return parse_range(st, (enum learnd_param)p, name, value, &st->target->r[p]);
		return fail(st, "unknown key '%s' in [%s] (expected %s)", name, section, learnd_param_list());
	}
	k = find_key(st->section, name);
	if (!k)
		return fail(st, "unknown key '%s' in [%s]", name, section);
	if (set_key(st->cfg, k, value, msg, sizeof(msg)))
		return fail(st, "%s", msg);
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
	if (ferror(st->f)) {
		st->read_errno = errno ? errno : EIO; /* not the end of the file */
		return NULL;
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
			char rest[256];

			memcpy(name, p + 1, n);
			name[n] = '\0';
			/* inih ignores what follows the ']': only a comment may */
			snprintf(rest, sizeof(rest), "%s", end + 1);
			ld_config_strip_comment(rest);
			for (const char *r = rest; *r; r++)
				if (!isspace((unsigned char)*r)) {
					fail(st, "[%s]: text after the ']': '%s' (a comment starts with '#' or ';')", name, r);
					return NULL;
				}
			if (!start_section(st, name))
				return NULL;
		}
	}
	return buf;
}

void ld_config_model_cfg(const struct ld_config *cfg, const struct ld_bounds *b, struct learnd_model_cfg *mc)
{
	learnd_model_cfg_default(mc);
	ld_bounds_to_model(b, mc->bound);
	mc->window = cfg->window;
	mc->probe_min_total = cfg->probe_pct / 100.0;
	/* probe_pct is at most LEARND_PROBE_PCT_MAX: this stays within the model's limit */
	if (mc->probe_max_each < mc->probe_min_total)
		mc->probe_max_each = mc->probe_min_total;
}

/* Every model learnd would make from cfg is one the model takes: a refusal
 * here, not later per prefix (where it left prefixes without a model). */
static int check_model(const struct ld_config *cfg, char *err, size_t errlen)
{
	struct learnd_model_cfg mc;
	char why[160];

	for (size_t i = 0; i <= cfg->nprefixes; i++) {
		const struct ld_prefix_cfg *pc = i < cfg->nprefixes ? &cfg->prefixes[i] : NULL;
		char cidr[LD_CIDR_STRLEN] = "";

		ld_config_model_cfg(cfg, pc ? &pc->b : &cfg->defaults, &mc);
		if (!learnd_model_cfg_check(&mc, why, sizeof(why)))
			continue;
		if (pc) {
			ld_cidr_format(&pc->key, cidr, sizeof(cidr));
			snprintf(err, errlen, "%s:%u: [prefix %s]: the model refuses this configuration: %s", cfg->path,
				 pc->line, cidr, why);
		} else {
			snprintf(err, errlen, "%s: the model refuses this configuration: %s", cfg->path, why);
		}
		return -EINVAL;
	}
	return 0;
}

/* The checks across keys, once the whole file is read. */
static int check_all(struct ld_config *cfg, char *err, size_t errlen)
{
	if (cfg->tick_ms * 2 > cfg->heartbeat_ttl_ms) {
		snprintf(err, errlen, "%s: tick_ms = %u must be at most half of heartbeat_ttl_ms = %u, or the "
			 "heartbeat goes stale between ticks", cfg->path, cfg->tick_ms, cfg->heartbeat_ttl_ms);
		return -EINVAL;
	}
	if (cfg->nprefixes + 1 > cfg->max_prefixes) {
		snprintf(err, errlen, "%s: %zu [prefix] sections do not fit max_prefixes = %u", cfg->path,
			 cfg->nprefixes, cfg->max_prefixes);
		return -EINVAL;
	}
	return check_model(cfg, err, errlen);
}

/* The line of a scalar section's header (0: not in the file). */
static int section_line(const struct parse_state *st, const char *section)
{
	for (unsigned i = 0; i < st->nsections; i++)
		if (!strcmp(st->sections[i].name, section))
			return st->sections[i].line;
	return 0;
}

int ld_config_load(const char *path, struct ld_config *cfg, char *err, size_t errlen)
{
	struct parse_state st = { .cfg = cfg };
	struct stat sb;
	int fd, line, rc;

	ld_config_init(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	/* a regular file only: a directory read as nothing (an empty config), a
	 * FIFO or a terminal would block learnd (O_NONBLOCK: not in open) */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		int e = fd < 0 || S_ISREG(sb.st_mode) ? errno : S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;

		if (e == EINVAL)
			snprintf(err, errlen, "%s: cannot read: not a regular file", path);
		else
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	st.f = fdopen(fd, "r");
	if (!st.f || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
		int e = errno;

		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
		if (st.f)
			fclose(st.f);
		else
			close(fd);
		return -e;
	}
	line = ini_parse_stream(read_line, &st, on_key, &st);
	fclose(st.f);
	if (st.read_errno && (!st.err_line || st.err_line >= st.line)) {
		if (st.line)
			snprintf(err, errlen, "%s: cannot read after line %d: %s", path, st.line, strerror(st.read_errno));
		else
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(st.read_errno));
		ld_config_free(cfg);
		return -st.read_errno;
	}
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
	rc = check_all(cfg, err, errlen);
	if (rc)
		ld_config_free(cfg);
	if (!rc && ld_fleet_finish(&cfg->fleet, st.msg, sizeof(st.msg))) {
		snprintf(err, errlen, "%s:%d: %s", path, section_line(&st, "fleet"), st.msg);
		ld_config_free(cfg);
		rc = -EINVAL;
	}
	return rc;
}

int ld_config_check_cgroup(const struct ld_config *cfg, char *err, size_t errlen)
{
	if (cfg->allow_root_cgroup || !ld_cgroup_is_v2_root(cfg->cgroup))
		return 0;
	snprintf(err, errlen, "cgroup %s is the cgroup v2 mount itself: every socket of the host would be "
		 "tuned; name a cgroup below it, or set allow_root_cgroup = yes in [learnd] (or pass "
		 "--allow-root-cgroup) if that is meant", cfg->cgroup);
	return -EPERM;
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
