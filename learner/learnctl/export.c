// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * learnctl export (aggregates or decisions in a time range, CSV or JSON) and
 * learnctl plot (the same data drawn as SVG: value chosen over time above the
 * mean cost per value).  Both read the views v_aggregates and v_decisions.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "param.h"
#include "cidr.h"
#include "ctldb.h"
#include "learnctl.h"
#include "svgplot.h"
#include "table.h"

/* ?1 from, ?2 to (ns, [from, to)), ?3 cidr or NULL for all. */
static const char SQL_EXPORT_AGG[] =
	"SELECT * FROM v_aggregates WHERE ts_ns >= ?1 AND ts_ns < ?2 AND (?3 IS NULL OR cidr = ?3) "
	"ORDER BY ts_ns, cidr, param, value";
static const char SQL_EXPORT_DEC[] =
	"SELECT * FROM v_decisions WHERE ts_ns >= ?1 AND ts_ns < ?2 AND (?3 IS NULL OR cidr = ?3) ORDER BY ts_ns, cidr";
/* plot: ?4 param name */
static const char SQL_PLOT_AGG[] =
	"SELECT ts_ns, value, mean_cost FROM v_aggregates WHERE ts_ns >= ?1 AND ts_ns < ?2 AND cidr = ?3 "
	"AND param = ?4 AND mean_cost IS NOT NULL ORDER BY value, ts_ns";
static const char SQL_PLOT_DEC[] =
	"SELECT ts_ns, new_value FROM v_decisions WHERE ts_ns < ?2 AND cidr = ?3 AND param = ?4 ORDER BY ts_ns";
static const char SQL_PREFIX_KNOWN[] = "SELECT 1 FROM prefixes WHERE cidr = ?1";

enum { OPT_FROM = 600, OPT_TO, OPT_PREFIX, OPT_WHAT, OPT_FORMAT, OPT_OUT, OPT_PARAM };

struct export_opts {
	int64_t from, to;
	bool have_prefix;
	char cidr[LD_CIDR_STRLEN];
	bool decisions;
	const char *out;
	const char *param;
};

static int export_opt(struct lc *lc, void *st, int id, const char *arg)
{
	struct export_opts *o = st;
	struct learnd_key key;
	char err[160];

	switch (id) {
	case OPT_FROM:
	case OPT_TO:
		if (lc_parse_time(arg, id == OPT_FROM ? &o->from : &o->to))
			return lc_fail(lc, LC_EXIT_USAGE,
				       "%s %s: expected epoch seconds, 'now', -30m/-6h/-7d, or YYYY-MM-DD[ HH:MM[:SS]] (UTC)",
				       id == OPT_FROM ? "--from" : "--to", arg);
		return 0;
	case OPT_PREFIX:
		if (ld_cidr_parse(arg, &key, err, sizeof(err)))
			return lc_fail(lc, LC_EXIT_USAGE, "--prefix: malformed prefix: %s", err);
		ld_cidr_format(&key, o->cidr, sizeof(o->cidr));
		o->have_prefix = true;
		return 0;
	case OPT_WHAT:
		if (!strcmp(arg, "aggregates"))
			o->decisions = false;
		else if (!strcmp(arg, "decisions"))
			o->decisions = true;
		else
			return lc_fail(lc, LC_EXIT_USAGE, "--what %s: expected aggregates or decisions", arg);
		return 0;
	case OPT_FORMAT:
		if (!strcmp(arg, "csv"))
			lc->fmt = LC_CSV;
		else if (!strcmp(arg, "json"))
			lc->fmt = LC_JSON;
		else
			return lc_fail(lc, LC_EXIT_USAGE, "--format %s: expected csv or json", arg);
		return 0;
	case 'o':
	case OPT_OUT:
		o->out = arg;
		return 0;
	case OPT_PARAM:
		if (learnd_param_by_name(arg) < 0)
			return lc_fail(lc, LC_EXIT_USAGE, "--param %s: expected %s", arg, learnd_param_list());
		o->param = arg;
		return 0;
	}
	return LC_EXIT_USAGE;
}

/* 1 if the prefix is in the database, 0 if not, or an exit status < 0 negated. */
static int check_prefix(struct lc *lc, sqlite3 *db, const char *cidr)
{
	sqlite3_stmt *st;
	int rc = lc_db_prepare(lc, db, SQL_PREFIX_KNOWN, &st);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, cidr, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return lc_fail(lc, LC_EXIT_USAGE, "unknown prefix %s: not in the database (learnctl report lists them)", cidr);
	return rc == SQLITE_ROW ? 0 : lc_db_error(lc, db, rc, "prefixes");
}

/* Output goes to a temporary file next to -o FILE, renamed at the end: a
 * failed export leaves no half-written file. */
static FILE *open_out(struct lc *lc, const char *path, char *tmp, size_t len)
{
	int fd;
	FILE *f;

	snprintf(tmp, len, "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		lc_fail(lc, LC_EXIT_USAGE, "cannot write %s: %s", path, strerror(errno));
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		lc_fail(lc, LC_EXIT_FAIL, "cannot write %s: %s", path, strerror(errno));
	}
	return f;
}

static int close_out(struct lc *lc, FILE *f, const char *tmp, const char *path, bool ok)
{
	bool bad = fflush(f) || ferror(f);

	if (fclose(f))
		bad = true;
	if (!ok || bad) {
		unlink(tmp);
		return ok ? lc_fail(lc, LC_EXIT_FAIL, "cannot write %s", path) : 0;
	}
	if (rename(tmp, path)) {
		int e = errno;

		unlink(tmp);
		return lc_fail(lc, LC_EXIT_FAIL, "cannot write %s: %s", path, strerror(e));
	}
	return 0;
}

static const struct option export_extra[] = {
	{ "from", required_argument, NULL, OPT_FROM },     { "to", required_argument, NULL, OPT_TO },
	{ "prefix", required_argument, NULL, OPT_PREFIX }, { "what", required_argument, NULL, OPT_WHAT },
	{ "format", required_argument, NULL, OPT_FORMAT }, { "output", required_argument, NULL, OPT_OUT },
	{ "param", required_argument, NULL, OPT_PARAM },   { 0 },
};

int cmd_export(struct lc *lc, int argc, char **argv)
{
	struct export_opts o = { .from = 0, .to = 0 };
	char tmp[PATH_MAX + 16];
	FILE *out = stdout;
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	long nrows = 0;
	int first, rc;

	if (lc->fmt == LC_TEXT)
		lc->fmt = LC_CSV; /* the default; --json (before or after the command) / --format json override */
	o.to = ld_wall_ns();
	rc = lc_parse_opts(lc, argc, argv, "o:", export_extra, export_opt, &o, &first);
	if (rc)
		return rc;
	if (first < argc)
		return lc_fail(lc, LC_EXIT_USAGE, "unexpected argument '%s' (see learnctl export --help)", argv[first]);
	if (o.param)
		return lc_fail(lc, LC_EXIT_USAGE, "--param is for plot, not export");
	if (o.from >= o.to)
		return lc_fail(lc, LC_EXIT_USAGE, "--from must be before --to");
	rc = lc_db_open(lc, false, &db);
	if (rc)
		return rc;
	if (o.have_prefix && (rc = check_prefix(lc, db, o.cidr)))
		goto done;
	rc = lc_db_prepare(lc, db, o.decisions ? SQL_EXPORT_DEC : SQL_EXPORT_AGG, &st);
	if (rc)
		goto done;
	sqlite3_bind_int64(st, 1, o.from);
	sqlite3_bind_int64(st, 2, o.to);
	if (o.have_prefix)
		sqlite3_bind_text(st, 3, o.cidr, -1, SQLITE_TRANSIENT);
	if (o.out && !(out = open_out(lc, o.out, tmp, sizeof(tmp)))) {
		rc = LC_EXIT_USAGE;
		goto done;
	}
	rc = tab_from_stmt(out, lc->fmt, lc->pretty, st, &nrows);
	rc = rc == SQLITE_DONE ? 0 : lc_db_error(lc, db, rc, "export");
	if (o.out) {
		int crc = close_out(lc, out, tmp, o.out, rc == 0);

		if (!rc)
			rc = crc;
		if (!rc)
			lc_note(lc, "%ld rows written to %s", nrows, o.out);
	}
done:
	sqlite3_finalize(st);
	lc_db_close(db);
	return rc;
}

/* ---- plot ---- */

/* What plot draws: mean cost per value (one series each) and the value chosen. */
struct plot_data {
	struct svg_series chosen, *cost;
	size_t ncost;
	double x0, x1; /* time range seen, seconds */
};

static void plot_seen(struct plot_data *d, double t)
{
	d->x0 = fmin(d->x0, t);
	d->x1 = fmax(d->x1, t);
}

static sqlite3_stmt *plot_stmt(struct lc *lc, sqlite3 *db, const char *sql, const struct export_opts *o, int *rc)
{
	sqlite3_stmt *st = NULL;

	*rc = lc_db_prepare(lc, db, sql, &st);
	if (*rc)
		return NULL;
	sqlite3_bind_int64(st, 1, o->from);
	sqlite3_bind_int64(st, 2, o->to);
	sqlite3_bind_text(st, 3, o->cidr, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, o->param, -1, SQLITE_STATIC);
	return st;
}

/* Cost per value, one series each; 0 or an exit status. */
static int plot_costs(struct lc *lc, sqlite3 *db, const struct export_opts *o, struct plot_data *d)
{
	int rc;
	sqlite3_stmt *st = plot_stmt(lc, db, SQL_PLOT_AGG, o, &rc);

	if (!st)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		double t = (double)sqlite3_column_int64(st, 0) / 1e9;
		int64_t v = sqlite3_column_int64(st, 1);

		if (!d->ncost || strtoll(d->cost[d->ncost - 1].label + strlen(o->param) + 1, NULL, 10) != v) {
			struct svg_series *nc = realloc(d->cost, (d->ncost + 1) * sizeof(*nc));

			if (!nc) {
				rc = SQLITE_NOMEM;
				break;
			}
			d->cost = nc;
			memset(&d->cost[d->ncost], 0, sizeof(d->cost[d->ncost]));
			snprintf(d->cost[d->ncost].label, sizeof(d->cost[d->ncost].label), "%s=%lld", o->param, (long long)v);
			d->ncost++;
		}
		if (svg_series_add(&d->cost[d->ncost - 1], t, sqlite3_column_double(st, 2))) {
			rc = SQLITE_NOMEM;
			break;
		}
		plot_seen(d, t);
	}
	rc = rc == SQLITE_DONE ? 0 : lc_db_error(lc, db, rc, "plot");
	sqlite3_finalize(st);
	return rc;
}

/* The value chosen: a step line from the decisions (the last one before the
 * range starts the line); 0 or an exit status. */
static int plot_chosen(struct lc *lc, sqlite3 *db, const struct export_opts *o, struct plot_data *d)
{
	int rc;
	sqlite3_stmt *st;

	snprintf(d->chosen.label, sizeof(d->chosen.label), "%s chosen", o->param);
	d->chosen.step = true;
	st = plot_stmt(lc, db, SQL_PLOT_DEC, o, &rc);
	if (!st)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		double t = (double)sqlite3_column_int64(st, 0) / 1e9;

		if (lc_col_null(st, 1))
			continue;
		if (svg_series_add(&d->chosen, t, sqlite3_column_double(st, 1))) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (t >= (double)o->from / 1e9)
			plot_seen(d, t);
	}
	rc = rc == SQLITE_DONE ? 0 : lc_db_error(lc, db, rc, "plot");
	sqlite3_finalize(st);
	return rc;
}

static int plot_draw(struct lc *lc, const struct export_opts *o, struct plot_data *d)
{
	char tmp[PATH_MAX + 16], title[160], ylab[64];
	FILE *out;
	int rc;

	if (!isfinite(d->x0))
		return lc_fail(lc, LC_EXIT_USAGE, "nothing to plot for %s %s in that time range", o->cidr, o->param);
	if (o->from > 0)
		d->x0 = (double)o->from / 1e9;
	if (d->x1 <= d->x0)
		d->x1 = d->x0 + 60;
	out = open_out(lc, o->out, tmp, sizeof(tmp));
	if (!out)
		return LC_EXIT_USAGE;
	struct svg_panel panels[2] = {
		{ .ylabel = ylab, .s = &d->chosen, .ns = 1 },
		{ .ylabel = "mean connection time (ms)", .s = d->cost, .ns = d->ncost },
	};
	snprintf(ylab, sizeof(ylab), "%s chosen", o->param);
	snprintf(title, sizeof(title), "learnd: %s, %s over time", o->cidr, o->param);
	rc = svg_plot(out, title, d->x0, d->x1, panels, 2);
	rc = close_out(lc, out, tmp, o->out, rc == 0);
	if (!rc)
		lc_note(lc, "wrote %s (%zu values, %zu decisions)", o->out, d->ncost, d->chosen.n);
	return rc;
}

int cmd_plot(struct lc *lc, int argc, char **argv)
{
	struct export_opts o = { .param = "iw" };
	struct plot_data d = { .x0 = INFINITY, .x1 = -INFINITY };
	struct learnd_key key;
	char err[160];
	sqlite3 *db;
	int first, rc;

	o.to = ld_wall_ns();
	rc = lc_parse_opts(lc, argc, argv, "o:", export_extra, export_opt, &o, &first);
	if (rc)
		return rc;
	if (lc->fmt == LC_JSON)
		return lc_fail(lc, LC_EXIT_USAGE, "plot draws SVG only: --json does not apply (learnctl --json export gives the data)");
	if (argc - first != 1)
		return lc_fail(lc, LC_EXIT_USAGE, "usage: learnctl plot PREFIX -o FILE.svg (see learnctl plot --help)");
	if (!o.out)
		return lc_fail(lc, LC_EXIT_USAGE, "plot needs -o FILE.svg");
	if (o.have_prefix || o.decisions)
		return lc_fail(lc, LC_EXIT_USAGE, "--prefix and --what are for export; plot takes PREFIX as its argument");
	if (ld_cidr_parse(argv[first], &key, err, sizeof(err)))
		return lc_fail(lc, LC_EXIT_USAGE, "malformed prefix: %s", err);
	ld_cidr_format(&key, o.cidr, sizeof(o.cidr));
	if (o.from >= o.to)
		return lc_fail(lc, LC_EXIT_USAGE, "--from must be before --to");
	rc = lc_db_open(lc, false, &db);
	if (rc)
		return rc;
	rc = check_prefix(lc, db, o.cidr);
	if (!rc)
		rc = plot_costs(lc, db, &o, &d);
	if (!rc)
		rc = plot_chosen(lc, db, &o, &d);
	if (!rc)
		rc = plot_draw(lc, &o, &d);
	lc_db_close(db);
	for (size_t i = 0; i < d.ncost; i++)
		svg_series_free(&d.cost[i]);
	free(d.cost);
	svg_series_free(&d.chosen);
	return rc;
}
