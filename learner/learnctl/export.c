// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * learnctl export (aggregates or decisions in a time range, CSV or JSON) and
 * learnctl plot (the same data drawn as SVG: value chosen over time above the
 * mean cost per value).  Both read the views v_aggregates and v_decisions.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* -o FILE, as a shell's "> FILE" treats it but never left half-written where
 * that can be avoided: a new file, or an existing regular one, is written to a
 * temporary file next to it and renamed over it at the end (a failed export
 * leaves no half-written file), with the mode a new file gets from the umask,
 * or the mode (and, for root, the owner) of the file it replaces.  A symbolic
 * link, or what is not a regular file (/dev/null, a FIFO, a terminal), is
 * written through as "> FILE" would: the link, the device stay what they are.
 * tmp is "" when written through (close_out has nothing to rename). */
static FILE *open_out(struct lc *lc, const char *path, char *tmp, size_t len)
{
	struct stat sb;
	int fd, e, st = lstat(path, &sb) ? -errno : 0;
	bool exists = !st && S_ISREG(sb.st_mode);
	FILE *f;

	tmp[0] = '\0';
	if (!st && !exists) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);
	} else if (st && st != -ENOENT) {
		errno = -st; /* ENOTDIR, EACCES, ELOOP, ... */
		fd = -1;
	} else {
		mode_t um = umask(0);

		umask(um);
		snprintf(tmp, len, "%s.XXXXXX", path);
		fd = mkstemp(tmp); /* 0600 */
		if (fd >= 0 && exists && !geteuid() && (sb.st_uid || sb.st_gid))
			(void)!fchown(fd, sb.st_uid, sb.st_gid); /* best effort: the mode below still holds */
		if (fd >= 0 && fchmod(fd, exists ? sb.st_mode & 07777 : 0666 & ~um)) {
			e = errno;
			close(fd);
			unlink(tmp);
			errno = e;
			fd = -1;
		}
	}
	if (fd < 0) {
		lc_fail(lc, LC_EXIT_USAGE, "cannot write %s: %s", path, strerror(errno));
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		e = errno;
		close(fd);
		if (tmp[0])
			unlink(tmp);
		lc_fail(lc, LC_EXIT_FAIL, "cannot write %s: %s", path, strerror(e));
	}
	return f;
}

static int close_out(struct lc *lc, FILE *f, const char *tmp, const char *path, bool ok)
{
	bool bad = fflush(f) || ferror(f);

	if (fclose(f))
		bad = true;
	if (!ok || bad) {
		if (tmp[0])
			unlink(tmp);
		return ok ? lc_fail(lc, LC_EXIT_FAIL, "cannot write %s", path) : 0;
	}
	if (tmp[0] && rename(tmp, path)) {
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

/*
 * Per parameter drawn, one section: the cost of every value tried (mean
 * connection time with its 95% interval and n, the value in force and the
 * kernel default marked), the value chosen over time with the decisions (hover:
 * the reason; the last few written out), and the cost per value over time:
 * from the 5-minute aggregates where the range spans PLOT_MIN_BUCKETS of them,
 * else from the raw samples (a small ring per prefix), else none.
 */
#define PLOT_MIN_BUCKETS 4
#define PLOT_DEC_LINES 6 /* decisions written under the chosen panel */
#define PLOT_GAP 24      /* between sections */

struct plot_param {
	enum learnd_param p;
	const struct learnd_param_info *pi;
	struct svg_value *val;
	size_t nval;
	long long conns;          /* over the values tried */
	struct svg_series chosen[2]; /* a step line with the decisions marked; the kernel's value */
	size_t ndec;              /* decisions in the range */
	char dec[PLOT_DEC_LINES][128]; /* the last PLOT_DEC_LINES of them, as text (a ring) */
	struct svg_series *cost;  /* the time panel, one series per value */
	size_t ncost;
	long buckets;
	bool raw;                 /* cost from the raw samples */
	double x0, x1;            /* time range seen, seconds */
	bool drawn;
};

struct plot {
	struct ld_db *db;
	const struct export_opts *o;
	double last_tick;  /* learnd's last tick in the database, seconds (0: unknown) */
	struct plot_param pp[LEARND_PARAM__MAX];
	size_t np;
};

static void plot_seen(struct plot_param *pp, double t)
{
	pp->x0 = fmin(pp->x0, t);
	pp->x1 = fmax(pp->x1, t);
}

/* A plot query over o's range, prefix and parameter p, or NULL (*rc: exit status). */
static struct ld_query *plot_query(struct lc *lc, struct plot *pl, enum ld_q which, const struct plot_param *pp,
				   int *rc)
{
	struct ld_query *q = NULL;

	*rc = ld_query_open(pl->db, which, "plot", &q);
	if (*rc) {
		*rc = lc_db_fail(lc, pl->db, *rc);
		return NULL;
	}
	ld_query_bind_int(q, 1, pl->o->from);
	ld_query_bind_int(q, 2, pl->o->to);
	ld_query_bind_text(q, 3, pl->o->cidr);
	ld_query_bind_text(q, 4, pp->pi->name);
	return q;
}

/* After a plot query's last row (rc: ld_query_next's, or 1 for out of memory):
 * 0 or an exit status. */
static int plot_end(struct lc *lc, struct plot *pl, struct ld_query *q, int rc)
{
	ld_query_close(q);
	if (rc > 0)
		return lc_fail(lc, LC_EXIT_FAIL, "database %s: plot: out of memory", lc->db);
	return rc ? lc_db_fail(lc, pl->db, rc) : 0;
}

/* The value as the axis shows it: 0 is the kernel's own. */
static void value_label(int64_t v, char *buf, size_t len)
{
	snprintf(buf, len, v ? "%lld" : "%lld (kernel)", (long long)v);
}

/* A slot for value v in the sorted values (not tried: mean NAN), or NULL. */
static struct svg_value *value_slot(struct plot_param *pp, int64_t v, bool add)
{
	size_t i;
	struct svg_value *nv;

	for (i = 0; i < pp->nval; i++) {
		long long have = strtoll(pp->val[i].label, NULL, 10);

		if (have == v)
			return &pp->val[i];
		if (have > v)
			break;
	}
	if (!add || !(nv = realloc(pp->val, (pp->nval + 1) * sizeof(*nv))))
		return NULL;
	pp->val = nv;
	memmove(&nv[i + 1], &nv[i], (pp->nval - i) * sizeof(*nv));
	memset(&nv[i], 0, sizeof(*nv));
	nv[i].mean = nv[i].ci = NAN;
	value_label(v, nv[i].label, sizeof(nv[i].label));
	snprintf(nv[i].tip, sizeof(nv[i].tip), "%s = %s: not tried in this range", pp->pi->name, nv[i].label);
	pp->nval++;
	return &nv[i];
}

/* Every value tried in the range, with its numbers; 0 or an exit status. */
static int plot_values(struct lc *lc, struct plot *pl, struct plot_param *pp)
{
	int rc;
	struct ld_query *q = plot_query(lc, pl, LD_Q_PLOT_VALUES, pp, &rc);

	if (!q)
		return rc;
	while ((rc = ld_query_next(q)) == 1) {
		int64_t v = ld_query_int(q, 0);
		struct svg_value *sv = value_slot(pp, v, true);
		bool mean = ld_query_type(q, 3) != LD_COL_NULL;

		if (!sv) {
			rc = 1;
			break;
		}
		sv->n = ld_query_int(q, 1);
		sv->mean = mean ? ld_query_dbl(q, 3) : NAN;
		sv->ci = ld_query_type(q, 4) != LD_COL_NULL ? ld_query_dbl(q, 4) : NAN;
		pp->conns += sv->n;
		if (!mean) {
			snprintf(sv->tip, sizeof(sv->tip), "%s = %s: %lld connections, none established", pp->pi->name,
				 sv->label, sv->n);
			continue;
		}
		snprintf(sv->tip, sizeof(sv->tip),
			 "%s = %s: mean connection time %.1f ms \u00b1 %.1f (95%%), %lld connections (%lld never "
			 "established), handshake %.1f ms, %.2f%% of segments retransmitted, in %lld bucket%s",
			 pp->pi->name, sv->label, sv->mean, isfinite(sv->ci) ? sv->ci : 0.0, sv->n,
			 (long long)ld_query_int(q, 2), ld_query_dbl(q, 5), 100 * ld_query_dbl(q, 6),
			 (long long)ld_query_int(q, 7), ld_query_int(q, 7) == 1 ? "" : "s");
	}
	return plot_end(lc, pl, q, rc);
}

/* The value in force (slot 0) and the probes, marked; the kernel's value. */
static int plot_marks(struct lc *lc, struct plot *pl, struct plot_param *pp)
{
	int rc;
	struct ld_query *q = plot_query(lc, pl, LD_Q_PLOT_SLOTS, pp, &rc);
	struct svg_value *sv;
	int64_t v0 = -1;

	if (!q)
		return rc;
	while ((rc = ld_query_next(q)) == 1) {
		int64_t slot = ld_query_int(q, 0), v = ld_query_int(q, 2);
		size_t len;

		/* slots come in order: slot 0 (in force) first; a slot probing another
		 * parameter has this one's value in force */
		if (slot == 0)
			v0 = v;
		else if (v == v0)
			continue;
		/* the value in force gets a place, tried or not; a probe only its hover text */
		if (!(sv = value_slot(pp, v, slot == 0)) && slot == 0) {
			rc = 1;
			break;
		}
		if (!sv)
			continue;
		if (slot == 0)
			sv->in_force = true;
		len = strlen(sv->tip);
		snprintf(sv->tip + len, sizeof(sv->tip) - len, "; %s in slot %lld (%.1f%% of new connections)",
			 slot ? "probed" : "in force", (long long)slot, 100 * ld_query_dbl(q, 1));
	}
	rc = plot_end(lc, pl, q, rc);
	if (rc)
		return rc;
	/* the kernel's value, and 0 (learnd replies nothing: the kernel's) */
	if (pp->pi->kernel && (sv = value_slot(pp, pp->pi->kernel, true)))
		sv->kernel_default = true;
	if ((sv = value_slot(pp, 0, !pp->pi->kernel)))
		sv->kernel_default = true;
	return 0;
}

/* A decision's explanation without its "iw 10->20: " (the line says it). */
static const char *plot_why(const struct plot_param *pp, const char *why)
{
	size_t len = strlen(pp->pi->name);
	const char *colon;

	if (!why || strncmp(why, pp->pi->name, len) || why[len] != ' ' || !(colon = strstr(why, ": ")) ||
	    colon - why > 40 || !memchr(why, '>', (size_t)(colon - why)))
		return why;
	return colon + 2;
}

/* The value chosen: a step line from the decisions (the last one before the
 * range starts the line), each marked with its reason; 0 or an exit status. */
static int plot_chosen(struct lc *lc, struct plot *pl, struct plot_param *pp)
{
	int rc;
	struct ld_query *q;
	char tip[640], when[32];

	snprintf(pp->chosen[0].label, sizeof(pp->chosen[0].label), "%s chosen", pp->pi->name);
	pp->chosen[0].step = pp->chosen[0].marks = true;
	q = plot_query(lc, pl, LD_Q_PLOT_DEC, pp, &rc);
	if (!q)
		return rc;
	while ((rc = ld_query_next(q)) == 1) {
		int64_t ts = ld_query_int(q, 0);
		double t = (double)ts / 1e9;
		const char *reason = ld_query_text(q, 3), *why = ld_query_text(q, 4);
		char old[24] = "-";

		if (ld_query_type(q, 1) == LD_COL_NULL)
			continue;
		if (ld_query_type(q, 2) != LD_COL_NULL)
			snprintf(old, sizeof(old), "%lld", (long long)ld_query_int(q, 2));
		why = plot_why(pp, why);
		lc_fmt_time(ts, when, sizeof(when));
		snprintf(tip, sizeof(tip), "%s %s %s -> %lld (%s): %s", when, pp->pi->name, old,
			 (long long)ld_query_int(q, 1), reason ? reason : "", why ? why : "");
		if (svg_series_add(&pp->chosen[0], t, ld_query_dbl(q, 1), tip)) {
			rc = 1;
			break;
		}
		if (ts < pl->o->from)
			continue;
		plot_seen(pp, t);
		/* a line of the picture: the whole text is the marker's */
		snprintf(pp->dec[pp->ndec++ % PLOT_DEC_LINES], sizeof(pp->dec[0]), "%.120s%s", tip,
			 strlen(tip) > 120 ? "..." : "");
	}
	return plot_end(lc, pl, q, rc);
}

/* The series of value v in the time panel (the last one: rows come by value). */
static struct svg_series *cost_series(struct plot_param *pp, int64_t v)
{
	struct svg_series *ns;
	char label[32];

	value_label(v, label, sizeof(label));
	if (pp->ncost && !strcmp(pp->cost[pp->ncost - 1].label + strlen(pp->pi->name) + 1, label))
		return &pp->cost[pp->ncost - 1];
	if (!(ns = realloc(pp->cost, (pp->ncost + 1) * sizeof(*ns))))
		return NULL;
	pp->cost = ns;
	ns = &pp->cost[pp->ncost++];
	memset(ns, 0, sizeof(*ns));
	snprintf(ns->label, sizeof(ns->label), "%s=%s", pp->pi->name, label);
	ns->dots = pp->raw;
	return ns;
}

/* Cost per value over time: per bucket where there are enough of them, else
 * each raw sample; 0 or an exit status. */
static int plot_costs(struct lc *lc, struct plot *pl, struct plot_param *pp)
{
	int rc;
	struct ld_query *q = plot_query(lc, pl, LD_Q_PLOT_BUCKETS, pp, &rc);
	char tip[160], when[32];

	if (!q)
		return rc;
	if ((rc = ld_query_next(q)) == 1)
		pp->buckets = (long)ld_query_int(q, 0);
	rc = plot_end(lc, pl, q, rc < 0 ? rc : 0);
	if (rc)
		return rc;
	pp->raw = pp->buckets < PLOT_MIN_BUCKETS;
	q = plot_query(lc, pl, pp->raw ? LD_Q_PLOT_SAMPLES : LD_Q_PLOT_AGG, pp, &rc);
	if (!q)
		return rc;
	while ((rc = ld_query_next(q)) == 1) {
		int64_t ts = ld_query_int(q, 0), v = ld_query_int(q, 1);
		struct svg_series *s;
		double t = (double)ts / 1e9;

		if (pp->raw && !ld_query_int(q, 2))
			continue; /* never established: no connection time */
		if (!(s = cost_series(pp, v))) {
			rc = 1;
			break;
		}
		lc_fmt_time(ts, when, sizeof(when));
		if (pp->raw)
			snprintf(tip, sizeof(tip), "%s %s: connection %.1f ms", when, s->label, ld_query_dbl(q, 3));
		else
			snprintf(tip, sizeof(tip), "bucket from %s, %s: mean %.1f ms over %lld connections", when, s->label,
				 ld_query_dbl(q, 2), (long long)ld_query_int(q, 3));
		if (svg_series_add(s, t, ld_query_dbl(q, pp->raw ? 3 : 2), tip)) {
			rc = 1;
			break;
		}
		plot_seen(pp, t);
	}
	return plot_end(lc, pl, q, rc);
}

/* Whether p is one to draw: learned (bounds with room), or more than one
 * value tried, or asked for. */
static bool plot_wanted(const struct plot_param *pp, const struct ld_db_prefix_bounds *b, bool asked)
{
	const struct ld_range *r = &b->b.r[pp->p];
	size_t tried = 0;

	for (size_t i = 0; i < pp->nval; i++)
		tried += isfinite(pp->val[i].mean) || pp->val[i].n > 0;
	if (!tried && !pp->ndec)
		return false;
	return asked || (r->set && r->min < r->max) || tried > 1;
}

static int plot_read(struct lc *lc, struct plot *pl)
{
	struct ld_db_prefix_bounds b;
	int rc = ld_db_prefix_bounds(pl->db, pl->o->cidr, &b);

	if (rc)
		return lc_db_fail(lc, pl->db, rc);
	for (int p = 0; p < LEARND_PARAM__MAX; p++) {
		struct plot_param *pp = &pl->pp[pl->np];

		if (pl->o->param && learnd_param_by_name(pl->o->param) != p)
			continue;
		memset(pp, 0, sizeof(*pp));
		pp->p = (enum learnd_param)p;
		pp->pi = learnd_param_info(pp->p);
		pp->x0 = INFINITY;
		pp->x1 = -INFINITY;
		pl->np++; /* freed with the rest, drawn or not */
		if ((rc = plot_values(lc, pl, pp)) || (rc = plot_chosen(lc, pl, pp)))
			return rc;
		if (!plot_wanted(pp, &b, pl->o->param != NULL))
			continue;
		if ((rc = plot_marks(lc, pl, pp)) || (rc = plot_costs(lc, pl, pp)))
			return rc;
		if (!isfinite(pp->x0) || !pp->nval)
			continue;
		pp->drawn = true;
		if (pl->o->from > 0)
			pp->x0 = (double)pl->o->from / 1e9;
		/* up to learnd's last tick in the range: the chosen value held until then */
		if (pl->last_tick > pp->x1 && pl->last_tick * 1e9 < (double)pl->o->to)
			pp->x1 = pl->last_tick;
		if (pp->x1 <= pp->x0)
			pp->x1 = pp->x0 + 60;
		if (pp->pi->kernel) { /* the kernel's value, for reference */
			struct svg_series *k = &pp->chosen[1];

			snprintf(k->label, sizeof(k->label), "kernel default %u", pp->pi->kernel);
			k->dash = true;
			if (svg_series_add(k, pp->x0, pp->pi->kernel, NULL) || svg_series_add(k, pp->x1, pp->pi->kernel, NULL))
				return lc_fail(lc, LC_EXIT_FAIL, "database %s: plot: out of memory", lc->db);
		}
	}
	return 0;
}

static double plot_section_h(const struct plot_param *pp)
{
	size_t lines = pp->ndec < PLOT_DEC_LINES ? pp->ndec : PLOT_DEC_LINES;

	return SVG_HEADING + 3 * SVG_PANEL + (double)(lines + 1) * SVG_LINE + PLOT_GAP;
}

/* One parameter's section from y; the y after it. */
static double plot_section(FILE *f, const struct plot_param *pp, double y)
{
	const char *unit = pp->pi->unit;
	char ttl[160], ylab[64], xlab[96];
	size_t lines = pp->ndec < PLOT_DEC_LINES ? pp->ndec : PLOT_DEC_LINES;

	svg_section(f, pp->pi->name);
	snprintf(ttl, sizeof(ttl), "%s (%s): %lld connections", pp->pi->name, unit, pp->conns);
	svg_text(f, y + 20, true, ttl);
	y += SVG_HEADING;
	snprintf(ttl, sizeof(ttl), "What each %s value cost (all connections in the range)", pp->pi->name);
	snprintf(xlab, sizeof(xlab), "%s (%s)", pp->pi->name, unit);
	svg_value_panel(f, y, ttl, xlab, "mean connection time (ms)", pp->val, pp->nval);
	y += SVG_PANEL;
	snprintf(ttl, sizeof(ttl), "%s chosen over time (%zu decisions; hover a marker for its reason)", pp->pi->name,
		 pp->ndec);
	snprintf(ylab, sizeof(ylab), "%s (%s)", pp->pi->name, unit);
	svg_time_panel(f, y, "chosen", ttl, ylab, pp->x0, pp->x1, pp->chosen, pp->chosen[1].n ? 2 : 1);
	y += SVG_PANEL;
	if (!pp->ndec)
		snprintf(ttl, sizeof(ttl), "no decision about %s in this range", pp->pi->name);
	else if (pp->ndec > lines)
		snprintf(ttl, sizeof(ttl), "the last %zu of %zu decisions:", lines, pp->ndec);
	else
		snprintf(ttl, sizeof(ttl), "decisions:");
	svg_text(f, y, false, ttl);
	for (size_t i = 0; i < lines; i++) {
		size_t k = pp->ndec - lines + i;

		svg_text(f, y + (double)(i + 1) * SVG_LINE, false, pp->dec[k % PLOT_DEC_LINES]);
	}
	y += (double)(lines + 1) * SVG_LINE;
	if (pp->ncost) {
		if (pp->raw)
			snprintf(ttl, sizeof(ttl),
				 "Connection time of each raw sample kept (%ld 5-minute bucket%s: too few for means)",
				 pp->buckets, pp->buckets == 1 ? "" : "s");
		else
			snprintf(ttl, sizeof(ttl), "Mean connection time per %s value, per 5-minute bucket", pp->pi->name);
		svg_time_panel(f, y, pp->raw ? "time samples" : "time buckets", ttl, "connection time (ms)", pp->x0, pp->x1,
			       pp->cost, pp->ncost);
	} else {
		snprintf(ttl, sizeof(ttl), "(no time panel: %ld 5-minute bucket%s and no raw sample in the range)",
			 pp->buckets, pp->buckets == 1 ? "" : "s");
		svg_text(f, y + 20, false, ttl);
	}
	svg_section(f, NULL);
	return y + SVG_PANEL + PLOT_GAP;
}

static int plot_draw(struct lc *lc, const struct plot *pl)
{
	const struct export_opts *o = pl->o;
	char tmp[PATH_MAX + 16], title[160], sub[200], from[32], to[32];
	double h = 60, y = 60, x0 = INFINITY, x1 = -INFINITY;
	size_t drawn = 0;
	FILE *out;
	int rc;

	for (size_t i = 0; i < pl->np; i++)
		if (pl->pp[i].drawn) {
			h += plot_section_h(&pl->pp[i]);
			x0 = fmin(x0, pl->pp[i].x0);
			x1 = fmax(x1, pl->pp[i].x1);
			drawn++;
		}
	if (!drawn)
		return lc_fail(lc, LC_EXIT_USAGE, "nothing to plot for %s%s%s in that time range", o->cidr,
			       o->param ? " " : "", o->param ? o->param : "");
	out = open_out(lc, o->out, tmp, sizeof(tmp));
	if (!out)
		return LC_EXIT_USAGE;
	lc_fmt_time((int64_t)(x0 * 1e9), from, sizeof(from));
	lc_fmt_time((int64_t)(x1 * 1e9), to, sizeof(to));
	snprintf(title, sizeof(title), "learnd: what %s learned", o->cidr);
	snprintf(sub, sizeof(sub), "%s to %s; hover a point for its numbers, a decision marker for its reason", from, to);
	svg_begin(out, (int)h, title, sub);
	for (size_t i = 0; i < pl->np; i++)
		if (pl->pp[i].drawn)
			y = plot_section(out, &pl->pp[i], y);
	rc = svg_end(out);
	rc = close_out(lc, out, tmp, o->out, rc == 0);
	if (!rc)
		lc_note(lc, "wrote %s (%zu parameter%s)", o->out, drawn, drawn == 1 ? "" : "s");
	return rc;
}

static void plot_free(struct plot *pl)
{
	for (size_t i = 0; i < pl->np; i++) {
		struct plot_param *pp = &pl->pp[i];

		for (size_t k = 0; k < pp->ncost; k++)
			svg_series_free(&pp->cost[k]);
		free(pp->cost);
		free(pp->val);
		svg_series_free(&pp->chosen[0]);
		svg_series_free(&pp->chosen[1]);
	}
}

int cmd_plot(struct lc *lc, int argc, char **argv)
{
	struct export_opts o = { .from = 0 };
	struct plot pl = { .o = &o };
	struct ld_db_facts facts;
	struct learnd_key key;
	char err[160];
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
	rc = lc_db_open(lc, false, &pl.db);
	if (rc)
		return rc;
	ld_db_facts(pl.db, lc->db, &facts);
	pl.last_tick = facts.last_tick_ns > 0 ? (double)facts.last_tick_ns / 1e9 : 0;
	rc = check_prefix(lc, pl.db, o.cidr);
	if (!rc)
		rc = plot_read(lc, &pl);
	if (!rc)
		rc = plot_draw(lc, &pl);
	ld_db_close(pl.db);
	plot_free(&pl);
	return rc;
}
