// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * learnctl: the operator's CLI for learnd.  Dispatches subcommands from a table
 * of {name, handler, help}; every handler prints text, JSON or CSV from the same
 * call path.  The modules, one per command or helper: report.c (report),
 * show.c (show), export.c (export, plot; svgplot.c draws), status.c (status),
 * metrics.c (metrics), operator.c (pin, unpin, pause, resume), dpinfo.c (the
 * pinned maps and link), table.c (rows as text, CSV or JSON), jsonw.c; main()
 * is learnctl_main.c's.  The database only through the store (store/query.h;
 * lc_db_open, lc_db_fail here).
 */
#define _GNU_SOURCE /* timegm */
#include "learnctl.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "jsonw.h"
#include "log.h"
#include "query.h"

struct lc_cmd {
	const char *name;
	int (*fn)(struct lc *lc, int argc, char **argv);
	const char *summary;
	const char *help; /* short: SYNOPSIS and OPTIONS; the full text is learnctl(8)'s */
};

#define COMMON_OPTS_HELP                                                                        \
	"COMMON OPTIONS (before or after the subcommand)\n"                                         \
	"  -c, --config FILE  learnd's configuration, to find 'db' and 'pin_dir' and the\n"       \
	"                     bounds (default " LD_DEFAULT_CONFIG "; built-in defaults if\n"     \
	"                     that file does not exist)\n"                                         \
	"      --db FILE      SQLite database (overrides the config's 'db')\n"                    \
	"      --pin-dir DIR  bpffs directory of learnd's pinned maps and link (overrides\n"       \
	"                     the config's 'pin_dir')\n"                                           \
	"  -j, --json         JSON output (errors become {\"error\": \"...\"})\n"                  \
	"  -p, --pretty       indented JSON (implies --json)\n"                                    \
	"  -h, --help         this page\n"

#define EXIT_HELP                                                                                 \
	"EXIT STATUS\n"                                                                            \
	"  0 success; 1 runtime failure; 2 bad usage or bad input (unknown or malformed\n"        \
	"  prefix, value outside the bounds, missing, corrupt or too new database): a\n"          \
	"  one-line message names the problem and nothing is written.\n"

static const struct lc_cmd commands[] = {
	{ "report", cmd_report, "one row per prefix: values in force, traffic, estimated gain",
	  "SYNOPSIS\n"
	  "  learnctl report [--sort KEY] [--prefix CIDR] [--limit N] [--wide] [--json|--csv]\n"
	  "\n"
	  "OPTIONS\n"
	  "      --sort KEY     prefix (default), conns, recent (last hour), gain (largest\n"
	  "                     FCT reduction first), retrans, changed (most recent first)\n"
	  "      --prefix CIDR  only prefixes inside CIDR (or equal to it)\n"
	  "      --limit N      at most N rows (after sorting)\n"
	  "      --wide         text: add the bounds columns (wider than 80 columns)\n"
	  "      --csv          CSV with a header line (RFC 4180 quoting)\n" },
	{ "show", cmd_show, "one prefix in detail: values tried, slots, decisions",
	  "SYNOPSIS\n"
	  "  learnctl show PREFIX [--decisions N] [--json]\n"
	  "\n"
	  "OPTIONS\n"
	  "      --decisions N  the last N decisions (default 20; 0 for all)\n" },
	{ "status", cmd_status, "is learnd alive, where is it attached, counters, database",
	  "SYNOPSIS\n"
	  "  learnctl status [--json]\n" },
	{ "pin", cmd_pin, "fix values for a prefix (operator override)",
	  "SYNOPSIS\n"
	  "  learnctl pin PREFIX PARAM=N [PARAM=N ...]\n"
	  "  PARAM: iw, rwnd (packets), syn_rto_ms, base_rtt_us; N within the prefix's bounds\n" },
	{ "unpin", cmd_unpin, "remove a pin (all parameters, or those named)",
	  "SYNOPSIS\n"
	  "  learnctl unpin PREFIX [PARAM ...]\n"
	  "  PARAM: iw, rwnd, syn_rto_ms, base_rtt_us (default: all of the pin)\n" },
	{ "pause", cmd_pause, "kernel defaults for every connection, now",
	  "SYNOPSIS\n"
	  "  learnctl pause\n" },
	{ "resume", cmd_resume, "undo pause",
	  "SYNOPSIS\n"
	  "  learnctl resume\n" },
	{ "metrics", cmd_metrics, "Prometheus text format",
	  "SYNOPSIS\n"
	  "  learnctl metrics [--no-prefixes]\n"
	  "\n"
	  "OPTIONS\n"
	  "      --no-prefixes  leave out the per-prefix gauges (many prefixes: many series)\n" },
	{ "export", cmd_export, "aggregates and decisions for a time range (CSV/JSON)",
	  "SYNOPSIS\n"
	  "  learnctl export [--from TIME] [--to TIME] [--prefix CIDR]\n"
	  "                  [--what aggregates|decisions] [--format csv|json] [-o FILE]\n"
	  "\n"
	  "OPTIONS\n"
	  "      --from TIME    start (default: the beginning)\n"
	  "      --to TIME      end, exclusive (default: now)\n"
	  "      --prefix CIDR  one prefix only (exactly as in the report)\n"
	  "      --what W       aggregates (default) or decisions\n"
	  "      --format F     csv (default) or json (same as --json)\n"
	  "  -o, --output FILE write to FILE instead of standard output\n" },
	{ "plot", cmd_plot, "SVG: what each value cost a prefix, what was chosen when",
	  "SYNOPSIS\n"
	  "  learnctl plot PREFIX -o FILE.svg [--param iw|rwnd|syn_rto_ms|base_rtt_us]\n"
	  "                [--from TIME] [--to TIME]\n"
	  "\n"
	  "OPTIONS\n"
	  "  -o, --output FILE  the SVG file to write (required)\n"
	  "      --param P      only this parameter (default: every one learned)\n"
	  "      --from TIME, --to TIME   as for export\n" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct lc_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"NAME\n"
		"  learnctl - inspect and steer learnd, the per-prefix TCP setup learner\n"
		"\n"
		"SYNOPSIS\n"
		"  learnctl [COMMON OPTIONS] COMMAND [ARGS] [OPTIONS]\n"
		"  learnctl help COMMAND | learnctl COMMAND --help\n"
		"\n"
		"COMMANDS\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"DESCRIPTION\n"
		"  learnctl reads learnd's SQLite database (read-only, except pin, unpin,\n"
		"  pause and resume) and the maps and link learnd pins on bpffs.  It finds\n"
		"  them from learnd's configuration file or from --db and --pin-dir.\n"
		"\n" COMMON_OPTS_HELP "  -V, --version      print the version\n"
		"\n" EXIT_HELP "\n"
		"SEE ALSO\n"
		"  learnd --help, docs/learnctl.md, docs/schema.md\n");
}

static void print_cmd_help(const struct lc_cmd *c, FILE *out)
{
	fprintf(out, "NAME\n  learnctl %s - %s\n\n%s\n", c->name, c->summary, c->help);
	fprintf(out, "Common options (-c, --db, --pin-dir, --json, --pretty) and exit statuses:\n"
		     "learnctl --help.  The full description and examples: learnctl(8).\n");
}

/* ---- messages ---- */

int lc_fail(struct lc *lc, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one line, whatever the message holds */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	snprintf(lc->last_err, sizeof(lc->last_err), "%s", msg);
	fprintf(stderr, "learnctl%s%s: %s\n", lc->cmd ? " " : "", lc->cmd ? lc->cmd : "", msg);
	if (lc->error_in_output)
		return status;
	if (lc->fmt == LC_JSON && !lc->error_printed) {
		struct jw w;

		jw_init(&w, stdout, false);
		jw_obj(&w);
		jw_kv_str(&w, "error", msg);
		jw_kv_i64(&w, "status", status);
		jw_end(&w);
		jw_finish(&w);
	}
	lc->error_printed = true;
	return status;
}

static int db_status(int rc)
{
	return rc == LD_DB_REFUSED ? LC_EXIT_USAGE : LC_EXIT_FAIL;
}

int lc_db_open(struct lc *lc, bool write, struct ld_db **db)
{
	char err[1024];
	int rc = ld_db_open(lc->db, write, db, err, sizeof(err));

	return rc ? lc_fail(lc, db_status(rc), "%s", err) : 0;
}

int lc_db_fail(struct lc *lc, const struct ld_db *db, int rc)
{
	return lc_fail(lc, db_status(rc), "%s", ld_db_errmsg(db));
}

int lc_db_facts_read(struct lc *lc, struct ld_db_facts *f)
{
	struct ld_db *db;
	int rc;

	ld_db_facts(NULL, lc->db, f); /* the file sizes, also of a database that is refused */
	rc = lc_db_open(lc, false, &db);
	if (rc)
		return rc;
	ld_db_facts(db, lc->db, f);
	ld_db_close(db);
	return 0;
}

void lc_note(struct lc *lc, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "learnctl%s%s: ", lc->cmd ? " " : "", lc->cmd ? lc->cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- small helpers ---- */

void lc_text_clean(const char *in, char *out, size_t len)
{
	size_t i = 0;

	for (; *in && i + 1 < len; in++)
		out[i++] = ((unsigned char)*in < 0x20 || *in == 0x7f) ? '?' : *in;
	if (len)
		out[i] = '\0';
}

const char *lc_who(void)
{
	static char who[128];
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	if (who[0])
		return who;
	pw = getpwuid(getuid());
	if (pw && sudo && *sudo && strcmp(sudo, pw->pw_name))
		snprintf(who, sizeof(who), "%s (sudo from %s)", pw->pw_name, sudo);
	else if (pw)
		snprintf(who, sizeof(who), "%s", pw->pw_name);
	else
		snprintf(who, sizeof(who), "uid %u", (unsigned)getuid());
	return who;
}

void lc_fmt_time(int64_t ts_ns, char *buf, size_t len)
{
	time_t t = (time_t)(ts_ns / 1000000000LL);
	struct tm tm;

	if (ts_ns <= 0 || !gmtime_r(&t, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm);
}

void lc_fmt_age(int64_t age_ns, char *buf, size_t len)
{
	int64_t s = age_ns / 1000000000LL;

	/* at most 3 characters below 1000 days: 59s, 59m, 47h, 999d */
	if (age_ns < 0)
		snprintf(buf, len, "new");
	else if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else if (s < 2 * 86400)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
}

#define LC_TIME_MAX_S 4102444800LL /* 2100-01-01: times are 1970..2100 */

int lc_parse_time(const char *s, int64_t *ts_ns)
{
	struct tm tm;
	time_t t;
	char *end;
	const char *rest;

	if (!strcmp(s, "now")) {
		*ts_ns = ld_wall_ns();
		return 0;
	}
	if (s[0] == '-' && s[1] >= '0' && s[1] <= '9') {
		long long n;
		int64_t unit;

		errno = 0;
		n = strtoll(s + 1, &end, 10);
		if (errno || n < 0 || n > 100000)
			return -EINVAL;
		if (!strcmp(end, "s"))
			unit = 1;
		else if (!strcmp(end, "m"))
			unit = 60;
		else if (!strcmp(end, "h"))
			unit = 3600;
		else if (!strcmp(end, "d"))
			unit = 86400;
		else
			return -EINVAL;
		*ts_ns = ld_wall_ns() - (int64_t)n * unit * 1000000000LL;
		return 0;
	}
	if (s[0] >= '0' && s[0] <= '9' && !strchr(s, '-')) {
		long long n;

		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno || *end || n < 0 || n > LC_TIME_MAX_S)
			return -EINVAL;
		*ts_ns = (int64_t)n * 1000000000LL;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%d", &tm);
	if (!rest)
		return -EINVAL;
	if (*rest) {
		const char *r2 = strptime(rest, " %H:%M:%S", &tm);

		if (!r2)
			r2 = strptime(rest, " %H:%M", &tm);
		if (!r2 || *r2)
			return -EINVAL;
	}
	t = timegm(&tm);
	if (t < 0 || t > LC_TIME_MAX_S) /* also keeps the product below from overflowing */
		return -EINVAL;
	*ts_ns = (int64_t)t * 1000000000LL;
	return 0;
}

/* ---- option parsing ---- */

enum { OPT_DB = 1000, OPT_PIN_DIR };

/* Before the command (with --version) and after it (with its own options). */
#define COMMON_OPTIONS                                                                             \
	{ "config", required_argument, NULL, 'c' }, { "db", required_argument, NULL, OPT_DB },     \
		{ "pin-dir", required_argument, NULL, OPT_PIN_DIR }, { "json", no_argument, NULL, 'j' }, \
		{ "pretty", no_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' }

static const struct option common_opts[] = { COMMON_OPTIONS };
#define NCOMMON (sizeof(common_opts) / sizeof(common_opts[0]))

/* A common option; 1 if it was one, 0 if not. */
static int common_opt(struct lc *lc, int c, const char *arg)
{
	switch (c) {
	case 'c': lc->config_opt = arg; return 1;
	case OPT_DB: lc->db_opt = arg; return 1;
	case OPT_PIN_DIR: lc->pin_dir_opt = arg; return 1;
	case 'j': lc->fmt = LC_JSON; return 1;
	case 'p': lc->fmt = LC_JSON; lc->pretty = true; return 1;
	default: return 0;
	}
}

int lc_resolve(struct lc *lc)
{
	const char *path = lc->config_opt ? lc->config_opt : LD_DEFAULT_CONFIG;
	char err[512];
	int rc;

	if (!lc->config_opt && access(path, F_OK) != 0) {
		ld_config_init(&lc->cfg);
	} else {
		rc = ld_config_load(path, &lc->cfg, err, sizeof(err));
		if (rc) {
			ld_config_init(&lc->cfg); /* so that cleanup is safe */
			return lc_fail(lc, LC_EXIT_USAGE, "%s", err);
		}
		lc->cfg_from_file = true;
	}
	lc->db = lc->db_opt ? lc->db_opt : lc->cfg.db;
	lc->pin_dir = lc->pin_dir_opt ? lc->pin_dir_opt : lc->cfg.pin_dir;
	return 0;
}

int lc_parse_opts(struct lc *lc, int argc, char **argv, const char *shortopts, const struct option *extra,
		  int (*on_opt)(struct lc *lc, void *st, int id, const char *arg), void *st, int *first)
{
	struct option opts[64];
	char shorts[64];
	size_t n = 0;
	int c;

	for (size_t i = 0; i < NCOMMON; i++)
		opts[n++] = common_opts[i];
	for (size_t i = 0; extra && extra[i].name && n < 63; i++)
		opts[n++] = extra[i];
	memset(&opts[n], 0, sizeof(opts[n]));
	snprintf(shorts, sizeof(shorts), ":c:jph%s", shortopts ? shortopts : "");

	optind = 0; /* 0, not 1: glibc re-initialises (main's scan stopped at the command) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		int rc;

		if (c == 'h') {
			print_cmd_help(find_cmd(lc->cmd), stdout);
			return -1;
		}
		if (c == ':')
			return lc_fail(lc, LC_EXIT_USAGE, "option '%s' needs an argument (see learnctl %s --help)",
				       argv[optind - 1], lc->cmd);
		if (c == '?')
			return lc_fail(lc, LC_EXIT_USAGE, "unknown option '%s' (see learnctl %s --help)",
				       argv[optind - 1], lc->cmd);
		if (common_opt(lc, c, optarg))
			continue;
		rc = on_opt ? on_opt(lc, st, c, optarg) : LC_EXIT_USAGE;
		if (rc)
			return rc;
	}
	*first = optind;
	return lc_resolve(lc);
}

int lc_main(int argc, char **argv)
{
	struct lc lc;
	const struct lc_cmd *cmd;
	int c, rc;

	memset(&lc, 0, sizeof(lc));
	optind = 0; /* a second call (the fuzz target) starts getopt afresh */
	ld_log_init("learnctl", 0);
	ld_db_init();
	/* Common options before the subcommand; stop at the first non-option. */
	static const struct option top_opts[] = { COMMON_OPTIONS, { "version", no_argument, NULL, 'V' }, { 0 } };
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:jphV", top_opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'V') {
			printf("learnctl %s\n", LEARND_VERSION);
			return 0;
		}
		if (c == ':')
			return lc_fail(&lc, LC_EXIT_USAGE, "option '%s' needs an argument (see learnctl --help)",
				       argv[optind - 1]);
		if (!common_opt(&lc, c, optarg))
			return lc_fail(&lc, LC_EXIT_USAGE, "unknown option '%s' (see learnctl --help)", argv[optind - 1]);
	}
	if (optind >= argc) {
		usage(stderr);
		return LC_EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		cmd = find_cmd(argv[optind + 1]);
		if (!cmd)
			return lc_fail(&lc, LC_EXIT_USAGE, "no command '%s' (see learnctl --help)", argv[optind + 1]);
		print_cmd_help(cmd, stdout);
		return 0;
	}
	cmd = find_cmd(argv[optind]);
	if (!cmd)
		return lc_fail(&lc, LC_EXIT_USAGE, "unknown command '%s' (see learnctl --help)", argv[optind]);
	lc.cmd = cmd->name;
	/* The handler sees argv[0] = the command name, as getopt expects. */
	rc = cmd->fn(&lc, argc - optind, argv + optind);
	if (rc < 0)
		rc = 0; /* help shown */
	ld_config_free(&lc.cfg);
	if (fflush(stdout) && rc == 0) {
		fprintf(stderr, "learnctl %s: cannot write the output: %s\n", cmd->name, strerror(errno));
		rc = LC_EXIT_FAIL;
	}
	return rc;
}
