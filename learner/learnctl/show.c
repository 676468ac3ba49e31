// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * learnctl show PREFIX: the summary row, the pin, every value tried per
 * parameter (samples, mean cost, 95% interval), the current slots and shares,
 * and the decision history with reasons.  The SQL is at the top; rows are
 * rendered by column name, so added columns show up without code changes.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "param.h"
#include "cidr.h"
#include "ctldb.h"
#include "jsonw.h"
#include "model.h"
#include "learnctl.h"
#include "report.h"
#include "table.h"

/* ?1 = cidr.  Each may be adapted to the schema without touching the code below. */
static const char SQL_SUMMARY[] = "SELECT * FROM v_prefix_summary WHERE cidr = ?1";
static const char SQL_PIN[] = "SELECT iw, rwnd, syn_rto_ms, base_rtt_us, ts_ns, who FROM pins WHERE cidr = ?1";
/* v_value_stats plus a 95% interval of the mean connection time, which needs
 * cost_sum2 (not in the view): half-width 1.96 * sqrt(var / k). */
static const char SQL_VALUES[] =
	"SELECT v.param, v.value, v.samples, v.failed, round(v.mean_cost, 1) AS mean_ms, "
	"round(1.96 * lc_sqrt((a.s2 / a.k - v.mean_cost * v.mean_cost) / a.k), 1) AS ci95_ms, "
	"round(v.mean_handshake_ms, 1) AS handshake_ms, round(v.retrans_rate, 4) AS retrans_rate "
	"FROM v_value_stats v JOIN (SELECT a.param, a.value, sum(a.cost_sum2) AS s2, "
	"nullif(sum(a.n) - sum(a.failed), 0) AS k FROM aggregates a JOIN prefixes p ON p.id = a.prefix_id "
	"WHERE p.cidr = ?1 GROUP BY a.param, a.value) a ON a.param = v.param AND a.value = v.value "
	"WHERE v.cidr = ?1 ORDER BY v.param, v.value";
static const char SQL_SLOTS[] = "SELECT * FROM v_slots WHERE cidr = ?1 ORDER BY slot";
/* The bounds and the model state learnd saved: what each parameter does here. */
static const char SQL_MODEL[] =
	"SELECT p.iw_min, p.iw_max, p.rwnd_min, p.rwnd_max, p.syn_rto_ms_min, p.syn_rto_ms_max, "
	"p.base_rtt_us_min, p.base_rtt_us_max, m.format, m.nrows, m.rows "
	"FROM prefixes p LEFT JOIN model_state m ON m.prefix_id = p.id WHERE p.cidr = ?1";
static const char SQL_DECISIONS[] = "SELECT * FROM v_decisions WHERE cidr = ?1 ORDER BY ts_ns DESC LIMIT ?2";

/* One column value into JSON, by its SQLite type. */
static void json_col(struct jw *w, sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER: jw_i64(w, sqlite3_column_int64(st, i)); break;
	case SQLITE_FLOAT: jw_dbl(w, sqlite3_column_double(st, i)); break;
	case SQLITE_NULL: jw_null(w); break;
	default: jw_str(w, (const char *)sqlite3_column_text(st, i)); break;
	}
}

static void json_row(struct jw *w, sqlite3_stmt *st, const char *skip)
{
	jw_obj(w);
	for (int i = 0; i < sqlite3_column_count(st); i++) {
		if (skip && !strcmp(sqlite3_column_name(st, i), skip))
			continue;
		jw_key(w, sqlite3_column_name(st, i));
		json_col(w, st, i);
	}
	jw_end(w);
}

/* Text rendering of one column: integers named *_ts_ns / ts_ns as UTC times. */
static void text_col(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const char *name = sqlite3_column_name(st, i);
	size_t nl = strlen(name);

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL: snprintf(buf, len, "-"); break;
	case SQLITE_INTEGER:
		if (nl >= 3 && !strcmp(name + nl - 3, "_ns")) /* every *_ns is a CLOCK_REALTIME time */
			lc_fmt_time(sqlite3_column_int64(st, i), buf, len);
		else
			snprintf(buf, len, "%lld", (long long)sqlite3_column_int64(st, i));
		break;
	case SQLITE_FLOAT: snprintf(buf, len, "%.4g", sqlite3_column_double(st, i)); break;
	default: lc_text_clean((const char *)sqlite3_column_text(st, i), buf, len); break;
	}
}

/* A list query as an aligned text table: widths from the data (these lists are
 * short: one prefix). */
static int text_list(struct lc *lc, sqlite3 *db, sqlite3_stmt *st, const char *skip)
{
	int n = sqlite3_column_count(st), rc;
	size_t nrows = 0, cap = 0;
	char **cells = NULL;
	int *w = calloc((size_t)n + 1, sizeof(*w));

	if (!w)
		return lc_fail(lc, LC_EXIT_FAIL, "out of memory");
	for (int i = 0; i < n; i++)
		w[i] = (int)strlen(sqlite3_column_name(st, i));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((nrows + 1) * (size_t)n > cap) {
			size_t ncap = cap ? cap * 2 : (size_t)n * 16;
			char **nc = realloc(cells, ncap * sizeof(*nc));

			if (!nc) {
				rc = SQLITE_NOMEM;
				break;
			}
			cells = nc;
			cap = ncap;
		}
		for (int i = 0; i < n; i++) {
			char buf[512];

			text_col(st, i, buf, sizeof(buf));
			cells[nrows * (size_t)n + (size_t)i] = strdup(buf);
			if ((int)strlen(buf) > w[i])
				w[i] = (int)strlen(buf);
		}
		nrows++;
	}
	if (rc == SQLITE_DONE) {
		if (!nrows) {
			printf("  (none)\n");
		} else {
			printf(" ");
			for (int i = 0; i < n; i++)
				if (!skip || strcmp(sqlite3_column_name(st, i), skip))
					printf(" %-*s", w[i], sqlite3_column_name(st, i));
			printf("\n");
			for (size_t r = 0; r < nrows; r++) {
				printf(" ");
				for (int i = 0; i < n; i++) {
					const char *c = cells[r * (size_t)n + (size_t)i];

					if (!skip || strcmp(sqlite3_column_name(st, i), skip))
						printf(" %-*s", i == n - 1 ? 0 : w[i], c ? c : "?");
				}
				printf("\n");
			}
		}
	}
	for (size_t k = 0; k < nrows * (size_t)n; k++)
		free(cells[k]);
	free(cells);
	free(w);
	if (rc != SQLITE_DONE)
		return rc == SQLITE_NOMEM ? lc_fail(lc, LC_EXIT_FAIL, "out of memory") : lc_db_error(lc, db, rc, "show");
	return 0;
}

/*
 * Per parameter: learned, fixed, default or "no effect here", and why.  The
 * same model code learnd runs reads the saved state back (rows in the format
 * of this build; other formats: the status without the evidence).
 */
static int prep(struct lc *lc, sqlite3 *db, const char *sql, const char *cidr, long limit, sqlite3_stmt **st);

static int show_params(struct lc *lc, sqlite3 *db, const char *cidr, struct jw *w)
{
	static struct learnd_model m; /* big: not on the stack */
	struct learnd_model_cfg cfg;
	sqlite3_stmt *st = NULL;
	int rc = prep(lc, db, SQL_MODEL, cidr, 0, &st);

	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? 0 : lc_db_error(lc, db, rc, "show");
	}
	learnd_model_cfg_default(&cfg);
	for (int i = 0; i < LEARND_PARAM__MAX; i++) {
		struct learnd_bound *b = &cfg.bound[i];

		if (sqlite3_column_type(st, 2 * i) == SQLITE_NULL)
			continue;
		b->min = (uint32_t)sqlite3_column_int64(st, 2 * i);
		b->max = (uint32_t)sqlite3_column_int64(st, 2 * i + 1);
		b->mode = b->min == b->max ? LEARND_BOUND_FIXED : LEARND_BOUND_LEARN;
	}
	if (learnd_model_init(&m, &cfg))
		learnd_model_cfg_default(&cfg), learnd_model_init(&m, &cfg);
	if (sqlite3_column_int64(st, 8) == ((int64_t)sizeof(struct learnd_model_row) << 8 | 1) &&
	    (size_t)sqlite3_column_bytes(st, 10) == (size_t)sqlite3_column_int64(st, 9) * sizeof(struct learnd_model_row))
		learnd_model_import(&m, sqlite3_column_blob(st, 10), (size_t)sqlite3_column_int64(st, 9));
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
	sqlite3_finalize(st);
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

static int prep(struct lc *lc, sqlite3 *db, const char *sql, const char *cidr, long limit, sqlite3_stmt **st)
{
	int rc = lc_db_prepare(lc, db, sql, st);

	if (rc)
		return rc;
	sqlite3_bind_text(*st, 1, cidr, -1, SQLITE_TRANSIENT);
	if (sqlite3_bind_parameter_count(*st) >= 2)
		sqlite3_bind_int64(*st, 2, limit > 0 ? limit : -1);
	return 0;
}

/* The prefixes row (starting the JSON object), or an exit status: 2 for a
 * prefix the database does not have. */
static int show_summary(struct lc *lc, sqlite3 *db, const char *cidr, struct jw *w)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(lc, db, SQL_SUMMARY, cidr, 0, &st);

	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return lc_fail(lc, LC_EXIT_USAGE, "unknown prefix %s: not in the database (learnctl report lists them)", cidr);
	}
	if (rc != SQLITE_ROW) {
		rc = lc_db_error(lc, db, rc, "show");
		sqlite3_finalize(st);
		return rc;
	}
	if (lc->fmt == LC_JSON) {
		jw_init(w, stdout, lc->pretty);
		jw_obj(w);
		jw_kv_str(w, "prefix", cidr);
		jw_key(w, "summary");
		json_row(w, st, NULL);
	} else {
		char buf[512];

		printf("%s\n", cidr);
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			if (!strcmp(sqlite3_column_name(st, i), "cidr"))
				continue;
			text_col(st, i, buf, sizeof(buf));
			printf("  %-18s %s\n", sqlite3_column_name(st, i), buf);
		}
	}
	sqlite3_finalize(st);
	return 0;
}

/* The FCT estimate, computed as report does. */
static int show_estimate(struct lc *lc, const struct learnd_key *key, const char *cidr, struct jw *w)
{
	struct lc_report_rows rows;
	const struct lc_report_row *me = NULL;
	int rc = lc_report_load(lc, &rows, key, true);

	if (rc)
		return rc;
	for (size_t i = 0; i < rows.n; i++)
		if (!strcmp(rows.row[i].cidr, cidr))
			me = &rows.row[i];
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

static int show_pin(struct lc *lc, sqlite3 *db, const char *cidr, struct jw *w)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(lc, db, SQL_PIN, cidr, 0, &st);

	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = lc_db_error(lc, db, rc, "pins");
		sqlite3_finalize(st);
		return rc;
	}
	if (lc->fmt == LC_JSON) {
		jw_key(w, "pin");
		if (rc == SQLITE_ROW)
			json_row(w, st, NULL);
		else
			jw_null(w);
	} else if (rc == SQLITE_ROW) {
		char buf[128];

		printf("pinned by %s at ", lc_col_text(st, 5) ? lc_col_text(st, 5) : "?");
		lc_fmt_time(sqlite3_column_int64(st, 4), buf, sizeof(buf));
		printf("%s:", buf);
		for (int i = 0; i < 4; i++)
			if (!lc_col_null(st, i))
				printf(" %s=%lld", sqlite3_column_name(st, i), (long long)sqlite3_column_int64(st, i));
		printf("\n");
	}
	sqlite3_finalize(st);
	return 0;
}

/* Values tried, slots in force, the last decisions. */
static int show_lists(struct lc *lc, sqlite3 *db, const char *cidr, long decisions, struct jw *w)
{
	static const char *const lists[] = { SQL_VALUES, SQL_SLOTS, SQL_DECISIONS };
	static const char *const list_names[] = { "values", "slots", "decisions" };
	static const char *const list_titles[] = { "values tried (mean connection time in ms, \u00b1 ci95_ms for 95%)",
						   "slots in force", "decisions (newest first)" };
	sqlite3_stmt *st = NULL;
	int rc = 0;

	for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]) && !rc; k++) {
		rc = prep(lc, db, lists[k], cidr, decisions, &st);
		if (rc)
			break;
		if (lc->fmt == LC_JSON) {
			jw_key(w, list_names[k]);
			jw_arr(w);
			while ((rc = sqlite3_step(st)) == SQLITE_ROW)
				json_row(w, st, "cidr");
			jw_end(w);
			rc = rc == SQLITE_DONE ? 0 : lc_db_error(lc, db, rc, "show");
		} else {
			printf("\n%s:\n", list_titles[k]);
			rc = text_list(lc, db, st, "cidr");
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	return rc;
}

int cmd_show(struct lc *lc, int argc, char **argv)
{
	static const struct option extra[] = { { "decisions", required_argument, NULL, 500 }, { 0 } };
	struct show_opts o = { .decisions = 20 };
	struct learnd_key key;
	char cidr[LD_CIDR_STRLEN], err[256];
	sqlite3 *db;
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
	rc = show_summary(lc, db, cidr, &w);
	if (!rc)
		rc = show_estimate(lc, &key, cidr, &w);
	if (!rc)
		rc = show_params(lc, db, cidr, &w);
	if (!rc)
		rc = show_pin(lc, db, cidr, &w);
	if (!rc)
		rc = show_lists(lc, db, cidr, o.decisions, &w);
	if (!rc && lc->fmt == LC_JSON) {
		jw_end(&w);
		if (jw_finish(&w))
			rc = lc_fail(lc, LC_EXIT_FAIL, "cannot write the output");
	}
	lc_db_close(db);
	return rc;
}
