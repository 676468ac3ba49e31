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
#include "learnd_vocab.h"
#include "cidr.h"
#include "query.h"
#include "learnctl.h"
#include "svgplot.h"
#include "table.h"

enum { OPT_FROM = 600, OPT_TO, OPT_PREFIX, OPT_WHAT, OPT_FORMAT, OPT_OUT, OPT_PARAM };

struct export_opts {
	int64_t from, to;
	bool have_prefix;
	char cidr[LD_CIDR_STRLEN];
	bool decisions;
	const char *out;
	const char *param;
};

/* arg is a (*which 0) or b (1); else an exit status, printed. */
static int pick(struct lc *lc, const char *opt, const char *arg, const char *a, const char *b, int *which)
{
	if (strcmp(arg, a) && strcmp(arg, b))
		return lc_fail(lc, LC_EXIT_USAGE, "%s %s: expected %s or %s", opt, arg, a, b);
	*which = !strcmp(arg, b);
	return 0;
}

static int export_opt(struct lc *lc, void *st, int id, const char *arg)
{
	int which;
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
		if (pick(lc, "--what", arg, "aggregates", "decisions", &which))
			return LC_EXIT_USAGE;
		o->decisions = which;
		return 0;
	case OPT_FORMAT:
		if (pick(lc, "--format", arg, "csv", "json", &which))
			return LC_EXIT_USAGE;
		lc->fmt = which ? LC_JSON : LC_CSV;
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

/* 0 if the prefix is in the database, else an exit status (printed). */
static int check_prefix(struct lc *lc, struct ld_db *db, const char *cidr)
{
	bool known;
	int rc = ld_db_prefix_known(db, cidr, &known);

	if (rc)
		return lc_db_fail(lc, db, rc);
	if (!known)
		return lc_fail(lc, LC_EXIT_USAGE, "unknown prefix %s: not in the database (learnctl report lists them)", cidr);
	return 0;
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
	struct ld_db *db;
	struct ld_query *q = NULL;
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
	rc = ld_query_open(db, o.decisions ? LD_Q_EXPORT_DEC : LD_Q_EXPORT_AGG, "export", &q);
	if (rc) {
		rc = lc_db_fail(lc, db, rc);
		goto done;
	}
	ld_query_bind_int(q, 1, o.from);
	ld_query_bind_int(q, 2, o.to);
	if (o.have_prefix)
		ld_query_bind_text(q, 3, o.cidr);
	if (o.out && !(out = open_out(lc, o.out, tmp, sizeof(tmp)))) {
		rc = LC_EXIT_USAGE;
		goto done;
	}
	rc = tab_from_query(out, lc->fmt, lc->pretty, q, &nrows);
	if (rc < 0)
		rc = lc_db_fail(lc, db, rc);
	else if (rc)
		rc = lc_fail(lc, LC_EXIT_FAIL, "cannot write the output");
	if (o.out) {
		int crc = close_out(lc, out, tmp, o.out, rc == 0);

		if (!rc)
			rc = crc;
		if (!rc)
			lc_note(lc, "%ld rows written to %s", nrows, o.out);
	}
done:
	ld_query_close(q);
	ld_db_close(db);
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

/* A plot query over o's range, prefix and parameter, or NULL (*rc: exit status). */
static struct ld_query *plot_query(struct lc *lc, struct ld_db *db, enum ld_q which, const struct export_opts *o,
				   int *rc)
{
	struct ld_query *q = NULL;

	*rc = ld_query_open(db, which, "plot", &q);
	if (*rc) {
		*rc = lc_db_fail(lc, db, *rc);
		return NULL;
	}
	ld_query_bind_int(q, 1, o->from);
	ld_query_bind_int(q, 2, o->to);
	ld_query_bind_text(q, 3, o->cidr);
	ld_query_bind_text(q, 4, o->param);
	return q;
}

/* After a plot query's last row (rc: ld_query_next's, or 1 for out of memory):
 * 0 or an exit status. */
static int plot_end(struct lc *lc, struct ld_db *db, struct ld_query *q, int rc)
{
	ld_query_close(q);
	if (rc > 0)
		return lc_fail(lc, LC_EXIT_FAIL, "database %s: plot: out of memory", lc->db);
	return rc ? lc_db_fail(lc, db, rc) : 0;
}

/* Cost per value, one series each; 0 or an exit status. */
static int plot_costs(struct lc *lc, struct ld_db *db, const struct export_opts *o, struct plot_data *d)
{
	int rc;
	struct ld_query *q = plot_query(lc, db, LD_Q_PLOT_AGG, o, &rc);

	if (!q)
		return rc;
	while ((rc = ld_query_next(q)) == 1) {
		double t = (double)ld_query_int(q, 0) / 1e9;
		int64_t v = ld_query_int(q, 1);

		if (!d->ncost || strtoll(d->cost[d->ncost - 1].label + strlen(o->param) + 1, NULL, 10) != v) {
			struct svg_series *nc = realloc(d->cost, (d->ncost + 1) * sizeof(*nc));

			if (!nc)
				break;
			d->cost = nc;
			memset(&d->cost[d->ncost], 0, sizeof(d->cost[d->ncost]));
			snprintf(d->cost[d->ncost].label, sizeof(d->cost[d->ncost].label), "%s=%lld", o->param, (long long)v);
			d->ncost++;
		}
		if (svg_series_add(&d->cost[d->ncost - 1], t, ld_query_dbl(q, 2)))
			break;
		plot_seen(d, t);
	}
	return plot_end(lc, db, q, rc);
}

/* The value chosen: a step line from the decisions (the last one before the
 * range starts the line); 0 or an exit status. */
static int plot_chosen(struct lc *lc, struct ld_db *db, const struct export_opts *o, struct plot_data *d)
{
	int rc;
	struct ld_query *q;

	snprintf(d->chosen.label, sizeof(d->chosen.label), "%s chosen", o->param);
	d->chosen.step = true;
	q = plot_query(lc, db, LD_Q_PLOT_DEC, o, &rc);
	if (!q)
		return rc;
	while ((rc = ld_query_next(q)) == 1) {
		double t = (double)ld_query_int(q, 0) / 1e9;

		if (ld_query_type(q, 1) == LD_COL_NULL)
			continue;
		if (svg_series_add(&d->chosen, t, ld_query_dbl(q, 1)))
			break;
		if (t >= (double)o->from / 1e9)
			plot_seen(d, t);
	}
	return plot_end(lc, db, q, rc);
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
	struct ld_db *db;
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
	ld_db_close(db);
	for (size_t i = 0; i < d.ncost; i++)
		svg_series_free(&d.cost[i]);
	free(d.cost);
	svg_series_free(&d.chosen);
	return rc;
}
