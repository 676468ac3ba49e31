// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * learnctl show PREFIX: the summary row, the pin, every value tried per
 * parameter (samples, mean cost, 95% interval), the current slots and shares,
 * and the decision history with reasons.  The queries are the store's
 * (query.h: LD_Q_SHOW_*); rows are rendered by column name, so added columns
 * show up without code changes.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "learnd_vocab.h"
#include "cidr.h"
#include "query.h"
#include "jsonw.h"
#include "model.h"
#include "learnctl.h"
#include "report.h"
#include "table.h"

/* One column value into JSON, by its type. */
static void json_col(struct jw *w, const struct ld_query *q, int i)
{
	switch (ld_query_type(q, i)) {
	case LD_COL_INT: jw_i64(w, ld_query_int(q, i)); break;
	case LD_COL_FLOAT: jw_dbl(w, ld_query_dbl(q, i)); break;
	case LD_COL_NULL: jw_null(w); break;
	default: jw_str(w, ld_query_text(q, i)); break;
	}
}

static void json_row(struct jw *w, const struct ld_query *q, const char *skip)
{
	jw_obj(w);
	for (int i = 0; i < ld_query_ncols(q); i++) {
		if (skip && !strcmp(ld_query_name(q, i), skip))
			continue;
		jw_key(w, ld_query_name(q, i));
		json_col(w, q, i);
	}
	jw_end(w);
}

/* Text rendering of one column: integers named *_ts_ns / ts_ns as UTC times. */
static void text_col(const struct ld_query *q, int i, char *buf, size_t len)
{
	const char *name = ld_query_name(q, i);
	size_t nl = strlen(name);

	switch (ld_query_type(q, i)) {
	case LD_COL_NULL: snprintf(buf, len, "-"); break;
	case LD_COL_INT:
		if (nl >= 3 && !strcmp(name + nl - 3, "_ns")) /* every *_ns is a CLOCK_REALTIME time */
			lc_fmt_time(ld_query_int(q, i), buf, len);
		else
			snprintf(buf, len, "%lld", (long long)ld_query_int(q, i));
		break;
	case LD_COL_FLOAT: snprintf(buf, len, "%.4g", ld_query_dbl(q, i)); break;
	default: lc_text_clean(ld_query_text(q, i), buf, len); break;
	}
}

/* The cells of every row of q, as text_col renders them, and each column's
 * width (at least its name's): 0, 1 (out of memory) or the query's error. */
struct text_cells {
	char **cell;
	size_t nrows, cap;
	int *w;
};

static int text_cells_read(struct ld_query *q, int n, struct text_cells *c)
{
	int rc;

	for (int i = 0; i < n; i++)
		c->w[i] = (int)strlen(ld_query_name(q, i));
	while ((rc = ld_query_next(q)) == 1) {
		if ((c->nrows + 1) * (size_t)n > c->cap) {
			size_t ncap = c->cap ? c->cap * 2 : (size_t)n * 16;
			char **nc = realloc(c->cell, ncap * sizeof(*nc));

			if (!nc)
				return 1;
			c->cell = nc;
			c->cap = ncap;
		}
		for (int i = 0; i < n; i++) {
			char buf[512];

			text_col(q, i, buf, sizeof(buf));
			c->cell[c->nrows * (size_t)n + (size_t)i] = strdup(buf);
			if ((int)strlen(buf) > c->w[i])
				c->w[i] = (int)strlen(buf);
		}
		c->nrows++;
	}
	return rc;
}

/* A list query as an aligned text table: widths from the data (these lists are
 * short: one prefix). */
static int text_list(struct lc *lc, struct ld_db *db, struct ld_query *q, const char *skip)
{
	int n = ld_query_ncols(q), rc;
	struct text_cells c = { .w = calloc((size_t)n + 1, sizeof(int)) };

	if (!c.w)
		return lc_fail(lc, LC_EXIT_FAIL, "out of memory");
	rc = text_cells_read(q, n, &c);
	if (!rc && !c.nrows) {
		printf("  (none)\n");
	} else if (!rc) {
		printf(" ");
		for (int i = 0; i < n; i++)
			if (!skip || strcmp(ld_query_name(q, i), skip))
				printf(" %-*s", c.w[i], ld_query_name(q, i));
		printf("\n");
		for (size_t r = 0; r < c.nrows; r++) {
			printf(" ");
			for (int i = 0; i < n; i++) {
				const char *cell = c.cell[r * (size_t)n + (size_t)i];

				if (!skip || strcmp(ld_query_name(q, i), skip))
					printf(" %-*s", i == n - 1 ? 0 : c.w[i], cell ? cell : "?");
			}
			printf("\n");
		}
	}
	for (size_t k = 0; k < c.nrows * (size_t)n; k++)
		free(c.cell[k]);
	free(c.cell);
	free(c.w);
	if (rc)
		return rc > 0 ? lc_fail(lc, LC_EXIT_FAIL, "out of memory") : lc_db_fail(lc, db, rc);
	return 0;
}

/*
 * Per parameter: learned, fixed, default or "no effect here", and why.  The
 * same model code learnd runs reads the saved state back (rows in the format
 * of this build; other formats: the status without the evidence).
 */
static void params_model(void *ctx, const struct learnd_bound bound[LEARND_PARAM__MAX],
			 const struct learnd_model_row *rows, size_t n)
{
	struct learnd_model *m = ctx;
	struct learnd_model_cfg cfg;

	learnd_model_cfg_default(&cfg);
	for (int i = 0; i < LEARND_PARAM__MAX; i++)
		if (bound[i].mode != LEARND_BOUND_UNSET)
			cfg.bound[i] = bound[i];
	if (learnd_model_init(m, &cfg))
		learnd_model_cfg_default(&cfg), learnd_model_init(m, &cfg);
	if (rows)
		learnd_model_import(m, rows, n);
}

static int show_params(struct lc *lc, struct ld_db *db, const char *cidr, struct jw *w)
{
	static struct learnd_model m; /* big: not on the stack */
	bool found;
	int rc = ld_db_prefix_model(db, cidr, &found, params_model, &m);

	if (rc)
		return lc_db_fail(lc, db, rc);
	if (!found)
		return 0;
	if (lc->fmt == LC_JSON) {
		jw_key(w, "parameters");
		jw_obj(w);
	} else {
		printf("\nparameters\n");
	}
	for (unsigned p = 0; p < LEARND_PARAM__MAX; p++) {
		char why[200];
		enum learnd_model_status sta = learnd_model_status(&m, p, why, sizeof(why));

		if (lc->fmt == LC_JSON) {
			jw_key(w, learnd_param_info(p)->name);
			jw_obj(w);
			jw_kv_str(w, "status", learnd_model_status_name(sta));
			jw_kv_str(w, "why", why);
			jw_end(w);
		} else {
			printf("  %-12s %-15s %s\n", learnd_param_info(p)->name, learnd_model_status_name(sta), why);
		}
	}
	if (lc->fmt == LC_JSON)
		jw_end(w);
	return 0;
}

struct show_opts {
	long decisions;
};

static int show_opt(struct lc *lc, void *st, int id, const char *arg)
{
	struct show_opts *o = st;
	char *end;

	if (id != 500)
		return LC_EXIT_USAGE;
	errno = 0;
	o->decisions = strtol(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end || errno)
		return lc_fail(lc, LC_EXIT_USAGE, "--decisions %s: expected a whole number", arg);
	return 0;
}

/* Query which for cidr, stepped to its first row, to fn (row: whether there
 * is one).  0 or an exit status. */
typedef int (*show_row_fn)(struct lc *lc, const struct ld_query *q, bool row, const char *cidr, struct jw *w,
			   const void *ctx);

static int show_one(struct lc *lc, struct ld_db *db, enum ld_q which, const char *what, const char *cidr,
		    struct jw *w, show_row_fn fn, const void *ctx)
{
	struct ld_query *q;
	int rc = ld_query_open(db, which, what, &q);

	if (rc)
		return lc_db_fail(lc, db, rc);
	ld_query_bind_text(q, 1, cidr);
	rc = ld_query_next(q);
	rc = rc < 0 ? lc_db_fail(lc, db, rc) : fn(lc, q, rc == 1, cidr, w, ctx);
	ld_query_close(q);
	return rc;
}

/* The prefixes row (starting the JSON object), or an exit status: 2 for a
 * prefix the database does not have. */
static int summary_row(struct lc *lc, const struct ld_query *q, bool row, const char *cidr, struct jw *w,
		       const void *ctx)
{
	(void)ctx;
	if (!row)
		return lc_fail(lc, LC_EXIT_USAGE, "unknown prefix %s: not in the database (learnctl report lists them)", cidr);
	if (lc->fmt == LC_JSON) {
		jw_init(w, stdout, lc->pretty);
		jw_obj(w);
		jw_kv_str(w, "prefix", cidr);
		jw_key(w, "summary");
		json_row(w, q, NULL);
	} else {
		char buf[512];

		printf("%s\n", cidr);
		for (int i = 0; i < ld_query_ncols(q); i++) {
			if (!strcmp(ld_query_name(q, i), "cidr"))
				continue;
			text_col(q, i, buf, sizeof(buf));
			printf("  %-18s %s\n", ld_query_name(q, i), buf);
		}
	}
	return 0;
}

/* The FCT estimate, computed as report does; its row into *row (zeroed, with
 * no pins, when there is none). */
static int show_estimate(struct lc *lc, const struct learnd_key *key, const char *cidr, struct jw *w,
			 struct lc_report_row *row)
{
	struct lc_report_rows rows;
	const struct lc_report_row *me = NULL;
	int rc = lc_report_load(lc, &rows, key, true);

	if (rc)
		return rc;
	for (size_t i = 0; i < rows.n; i++)
		if (!strcmp(rows.row[i].cidr, cidr))
			me = &rows.row[i];
	memset(row, 0, sizeof(*row));
	if (me)
		*row = *me;
	if (lc->fmt == LC_JSON) {
		jw_key(w, "estimate");
		jw_obj(w);
		jw_kv_i64(w, "conns_1h", me ? me->conns_1h : 0);
		jw_kv_dbl(w, "fct_change", me ? me->fct_change : NAN);
		jw_kv_dbl(w, "fct_change_lo", me ? me->fct_lo : NAN);
		jw_kv_dbl(w, "fct_change_hi", me ? me->fct_hi : NAN);
		jw_kv_dbl(w, "retrans_rate", me ? me->retrans_rate : NAN);
		jw_end(w);
	} else if (me && !isnan(me->fct_change)) {
		printf("  %-18s %+.1f%% [%+.1f%%, %+.1f%%] (IW %u against the kernel's 10, 95%% interval)\n", "fct_change",
		       me->fct_change * 100, me->fct_lo * 100, me->fct_hi * 100, me->val[LEARND_PARAM_IW] ? me->val[LEARND_PARAM_IW] : 10);
	} else {
		printf("  %-18s - (no connections with both the IW in force and the kernel's 10)\n", "fct_change");
	}
	lc_report_free(&rows);
	return 0;
}

/* The pin, and per pinned parameter whether it is in force (ctx: the prefix's
 * report row): JSON "state": {"iw": "ignored: outside bounds 4..64"}. */
static int pin_row(struct lc *lc, const struct ld_query *q, bool row, const char *cidr, struct jw *w,
		   const void *ctx)
{
	const struct lc_report_row *me = ctx;
	char st[160];

	(void)cidr;
	if (lc->fmt == LC_JSON) {
		jw_key(w, "pin");
		if (!row) {
			jw_null(w);
			return 0;
		}
		jw_obj(w);
		for (int i = 0; i < ld_query_ncols(q); i++) {
			jw_key(w, ld_query_name(q, i));
			json_col(w, q, i);
		}
		jw_key(w, "state");
		jw_obj(w);
		for (int p = 0; p < LEARND_PARAM__MAX; p++) {
			if (me->pin_state[p] == LC_PIN_NONE)
				continue;
			lc_pin_state_text(me, p, st, sizeof(st));
			jw_kv_str(w, learnd_param_info(p)->name, st);
		}
		jw_end(w);
		jw_end(w);
	} else if (row) {
		char buf[128];

		printf("pinned by %s at ", ld_query_text(q, 5) ? ld_query_text(q, 5) : "?");
		lc_fmt_time(ld_query_int(q, 4), buf, sizeof(buf));
		printf("%s:", buf);
		for (int i = 0; i < 4; i++) {
			if (ld_query_type(q, i) == LD_COL_NULL)
				continue;
			printf(" %s=%lld", ld_query_name(q, i), (long long)ld_query_int(q, i));
			if (me->pin_state[i] == LC_PIN_IN_FORCE) {
				printf(" (in force)");
			} else if (me->pin_state[i] != LC_PIN_NONE) {
				lc_pin_state_text(me, i, st, sizeof(st));
				printf(" (%s; %u in force)", st, me->val[i]);
			}
		}
		printf("\n");
	}
	return 0;
}

/* Values tried, slots in force, the last decisions. */
static int show_lists(struct lc *lc, struct ld_db *db, const char *cidr, long decisions, struct jw *w)
{
	static const enum ld_q lists[] = { LD_Q_SHOW_VALUES, LD_Q_SHOW_SLOTS, LD_Q_SHOW_DECISIONS, LD_Q_SHOW_SAMPLES };
	static const char *const list_names[] = { "values", "slots", "decisions", "samples" };
	static const char *const list_titles[] = { "values tried (mean connection time in ms, \u00b1 ci95_ms for 95%)",
						   "slots in force", "decisions (newest first)",
						   "sampled close records (newest first)" };
	struct ld_query *q = NULL;
	int rc = 0;

	for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]) && !rc; k++) {
		rc = ld_query_open(db, lists[k], "show", &q);
		if (rc) {
			rc = lc_db_fail(lc, db, rc);
			break;
		}
		ld_query_bind_text(q, 1, cidr);
		if (ld_query_nparams(q) >= 2)
			ld_query_bind_int(q, 2, decisions > 0 ? decisions : -1);
		if (lc->fmt == LC_JSON) {
			jw_key(w, list_names[k]);
			jw_arr(w);
			while ((rc = ld_query_next(q)) == 1)
				json_row(w, q, "cidr");
			jw_end(w);
			rc = rc ? lc_db_fail(lc, db, rc) : 0;
		} else {
			printf("\n%s:\n", list_titles[k]);
			rc = text_list(lc, db, q, "cidr");
		}
		ld_query_close(q);
		q = NULL;
	}
	return rc;
}

int cmd_show(struct lc *lc, int argc, char **argv)
{
	static const struct option extra[] = { { "decisions", required_argument, NULL, 500 }, { 0 } };
	struct show_opts o = { .decisions = 20 };
	struct learnd_key key;
	struct lc_report_row me;
	char cidr[LD_CIDR_STRLEN], err[256];
	struct ld_db *db;
	struct jw w;
	int first, rc;

	rc = lc_parse_opts(lc, argc, argv, NULL, extra, show_opt, &o, &first);
	if (rc)
		return rc;
	if (argc - first != 1)
		return lc_fail(lc, LC_EXIT_USAGE, "usage: learnctl show PREFIX (see learnctl show --help)");
	if (ld_cidr_parse(argv[first], &key, err, sizeof(err)))
		return lc_fail(lc, LC_EXIT_USAGE, "malformed prefix: %s", err);
	ld_cidr_format(&key, cidr, sizeof(cidr));
	rc = lc_db_open(lc, false, &db);
	if (rc)
		return rc;
	rc = show_one(lc, db, LD_Q_SHOW_SUMMARY, "show", cidr, &w, summary_row, NULL);
	if (!rc)
		rc = show_estimate(lc, &key, cidr, &w, &me);
	if (!rc)
		rc = show_params(lc, db, cidr, &w);
	if (!rc)
		rc = show_one(lc, db, LD_Q_SHOW_PIN, "pins", cidr, &w, pin_row, &me);
	if (!rc)
		rc = show_lists(lc, db, cidr, o.decisions, &w);
	if (!rc && lc->fmt == LC_JSON) {
		jw_end(&w);
		if (jw_finish(&w))
			rc = lc_fail(lc, LC_EXIT_FAIL, "cannot write the output");
	}
	ld_db_close(db);
	return rc;
}
