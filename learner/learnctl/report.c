// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * learnctl report: one row per prefix, sorted and filtered in C (prefix order is
 * numeric, --prefix is containment: neither is a text comparison), printed as
 * text, CSV or JSON through table.c.  The rows come from the view
 * v_prefix_summary plus pins; see docs/schema.md.
 */
#include "learnd_vocab.h"
#include "policy.h"
#include "report.h"
#include "model.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "query.h"
#include "table.h"

void lc_report_free(struct lc_report_rows *rows)
{
	free(rows->row);
	memset(rows, 0, sizeof(*rows));
}

static struct lc_report_row *add_row(struct lc_report_rows *rows)
{
	struct lc_report_row *r;

	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 1024;
		struct lc_report_row *nr = realloc(rows->row, cap * sizeof(*nr));

		if (!nr)
			return NULL;
		rows->row = nr;
		rows->cap = cap;
	}
	r = &rows->row[rows->n++];
	memset(r, 0, sizeof(*r));
	r->fct_change = r->fct_lo = r->fct_hi = r->retrans_rate = NAN;
	return r;
}

/* ---- column lookup by name: the view's order is not an interface ---- */

static double col_dbl(const struct ld_query *q, int i)
{
	return i < 0 || ld_query_type(q, i) == LD_COL_NULL ? NAN : ld_query_dbl(q, i);
}

static int64_t col_i64(const struct ld_query *q, int i)
{
	return i < 0 || ld_query_type(q, i) == LD_COL_NULL ? 0 : ld_query_int(q, i);
}

/*
 * The report's queries (the store's, query.h).  The base row comes from
 * LD_Q_REPORT (v_prefix_summary, its per-prefix subqueries over aggregates
 * skipped); report computes conns_1h and retrans_rate itself together with the
 * FCT estimate (LD_Q_AGG_TOTALS, LD_Q_AGG_ARM: ranges of the aggregates primary
 * key).  That keeps 100,000 prefixes under a second (docs/learnctl.md).
 * Columns are found by name (report_cols_find).
 */

struct arm_sum {
	double k, sum, sum2;
};

/*
 * FCT change of the IW in force against the kernel default, from the mean
 * connection time of each (established connections): r = mean_cur / mean_def,
 * change = r - 1, and a 95% interval from the delta method,
 * se(r) = r * sqrt(var_cur / (k_cur mean_cur^2) + var_def / (k_def mean_def^2)).
 */
static void fct_estimate(const struct arm_sum *cur, const struct arm_sum *def, struct lc_report_row *r)
{
	double mc, md, vc, vd, ratio, se;

	if (cur->k < 2 || def->k < 2)
		return;
	mc = cur->sum / cur->k;
	md = def->sum / def->k;
	if (!(mc > 0) || !(md > 0))
		return;
	vc = fmax(0, cur->sum2 / cur->k - mc * mc);
	vd = fmax(0, def->sum2 / def->k - md * md);
	ratio = mc / md;
	se = ratio * sqrt(vc / (cur->k * mc * mc) + vd / (def->k * md * md));
	r->fct_change = ratio - 1;
	r->fct_lo = r->fct_change - 1.96 * se;
	r->fct_hi = r->fct_change + 1.96 * se;
}

struct agg_queries {
	struct ld_query *totals, *arm;
};

/* Query q's one row for (id, v): 1, or 0 / an error code. */
static int agg_row(struct ld_query *q, int64_t id, int64_t v)
{
	ld_query_reset(q);
	ld_query_bind_int(q, 1, id);
	ld_query_bind_int(q, 2, v);
	return ld_query_next(q);
}

static int arm_sum(struct ld_query *q, int64_t id, int64_t value, struct arm_sum *a)
{
	int rc = agg_row(q, id, value);

	if (rc != 1)
		return rc; /* an aggregate without GROUP BY always has its row */
	a->k = ld_query_dbl(q, 0);
	a->sum = ld_query_dbl(q, 1);
	a->sum2 = ld_query_dbl(q, 2);
	return 0;
}

/* 0 or an error code. */
static int add_aggregates(const struct agg_queries *s, struct lc_report_row *r, int64_t hour_ago)
{
	struct arm_sum cur = { 0 }, def = { 0 };
	int64_t in_force = r->val[LEARND_PARAM_IW] ? r->val[LEARND_PARAM_IW] : LEARND_KERNEL_IW;
	double segs;
	int rc = agg_row(s->totals, r->prefix_id, hour_ago);

	if (rc != 1)
		return rc;
	r->conns_1h = ld_query_int(s->totals, 0);
	segs = ld_query_dbl(s->totals, 2);
	r->retrans_rate = segs > 0 ? ld_query_dbl(s->totals, 1) / segs : NAN;
	if (in_force == LEARND_KERNEL_IW) {
		r->fct_change = r->fct_lo = r->fct_hi = 0; /* the default itself */
		return 0;
	}
	if ((rc = arm_sum(s->arm, r->prefix_id, in_force, &cur)))
		return rc;
	if (cur.k < 2)
		return 0; /* no evidence for the value in force yet */
	if ((rc = arm_sum(s->arm, r->prefix_id, LEARND_KERNEL_IW, &def)))
		return rc;
	if (def.k == 0 && (rc = arm_sum(s->arm, r->prefix_id, 0, &def)))
		return rc; /* slot value 0 is the kernel default too */
	fct_estimate(&cur, &def, r);
	return 0;
}

struct report_cols {
	int prefix_id, cidr, origin, conns_total, conns_1h, val[LEARND_PARAM__MAX], bmin[LEARND_PARAM__MAX], bmax[LEARND_PARAM__MAX], pin[LEARND_PARAM__MAX];
	int probe_share, fct, fct_lo, fct_hi, retrans, changed, evicted;
};

static void report_cols_find(const struct ld_query *st, struct report_cols *c)
{
	char buf[64];

	c->prefix_id = ld_query_col(st, "prefix_id");
	c->cidr = ld_query_col(st, "cidr");
	c->origin = ld_query_col(st, "origin");
	c->conns_total = ld_query_col(st, "conns_total");
	c->conns_1h = ld_query_col(st, "conns_1h");
	for (int p = 0; p < LEARND_PARAM__MAX; p++) {
		c->val[p] = ld_query_col(st, learnd_param_info(p)->name);
		snprintf(buf, sizeof(buf), "%s_min", learnd_param_info(p)->name);
		c->bmin[p] = ld_query_col(st, buf);
		snprintf(buf, sizeof(buf), "%s_max", learnd_param_info(p)->name);
		c->bmax[p] = ld_query_col(st, buf);
		snprintf(buf, sizeof(buf), "pin_%s", learnd_param_info(p)->name);
		c->pin[p] = ld_query_col(st, buf);
	}
	c->probe_share = ld_query_col(st, "probe_share");
	c->fct = ld_query_col(st, "fct_change");
	c->fct_lo = ld_query_col(st, "fct_change_lo");
	c->fct_hi = ld_query_col(st, "fct_change_hi");
	c->retrans = ld_query_col(st, "retrans_rate");
	c->changed = ld_query_col(st, "changed_ts_ns");
	c->evicted = ld_query_col(st, "evicted_ns");
}

static void report_row_read(const struct ld_query *st, const struct report_cols *c, struct lc_report_row *r)
{
	const char *t;

	r->evicted = c->evicted >= 0 && ld_query_type(st, c->evicted) != LD_COL_NULL;
	t = c->cidr >= 0 ? ld_query_text(st, c->cidr) : NULL;
	snprintf(r->cidr, sizeof(r->cidr), "%s", t ? t : "?");
	t = c->origin >= 0 ? ld_query_text(st, c->origin) : NULL;
	snprintf(r->origin, sizeof(r->origin), "%s", t ? t : "?");
	r->prefix_id = col_i64(st, c->prefix_id);
	r->conns_total = col_i64(st, c->conns_total);
	r->conns_1h = col_i64(st, c->conns_1h);
	for (int p = 0; p < LEARND_PARAM__MAX; p++) {
		r->val[p] = (uint32_t)col_i64(st, c->val[p]);
		if (c->bmin[p] >= 0 && ld_query_type(st, c->bmin[p]) != LD_COL_NULL) {
			r->bound[p].set = true;
			r->bound[p].min = (uint32_t)col_i64(st, c->bmin[p]);
			r->bound[p].max = (uint32_t)col_i64(st, c->bmax[p]);
		}
		/* the value shown is the one in force; the pin is in force only when
		 * learnd applied it (slot 0 has it) */
		r->pin[p] = c->pin[p] >= 0 && ld_query_type(st, c->pin[p]) != LD_COL_NULL ? col_i64(st, c->pin[p]) : -1;
		if (r->pin[p] < 0)
			r->pin_state[p] = LC_PIN_NONE;
		else if (r->evicted || !ld_pin_applies(&r->bound[p], r->pin[p], NULL, 0))
			r->pin_state[p] = LC_PIN_IGNORED;
		else
			r->pin_state[p] = r->pin[p] == r->val[p] ? LC_PIN_IN_FORCE : LC_PIN_PENDING;
		r->pinned[p] = r->pin_state[p] == LC_PIN_IN_FORCE;
	}
	r->probe_share = col_dbl(st, c->probe_share);
	r->fct_change = col_dbl(st, c->fct);
	r->fct_lo = col_dbl(st, c->fct_lo);
	r->fct_hi = col_dbl(st, c->fct_hi);
	r->retrans_rate = col_dbl(st, c->retrans);
	r->changed_ns = col_i64(st, c->changed);
}

void lc_pin_state_text(const struct lc_report_row *r, int p, char *buf, size_t len)
{
	char why[96];

	switch (r->pin_state[p]) {
	case LC_PIN_NONE: snprintf(buf, len, "%s", ""); break;
	case LC_PIN_IN_FORCE: snprintf(buf, len, "in force"); break;
	case LC_PIN_PENDING: snprintf(buf, len, "pending: learnd applies it at its next tick"); break;
	case LC_PIN_IGNORED:
		if (r->evicted)
			snprintf(why, sizeof(why), "the prefix was evicted from the policy map (max_prefixes)");
		else
			ld_pin_applies(&r->bound[p], r->pin[p], why, sizeof(why));
		snprintf(buf, len, "ignored: %s", why);
		break;
	}
}

static int cmp_prefix_id(const void *pa, const void *pb)
{
	const struct lc_report_row *a = pa, *b = pb;

	return (a->prefix_id > b->prefix_id) - (a->prefix_id < b->prefix_id);
}

/* Aggregates for rows [from, to), on a connection of its own. */
struct agg_job {
	const char *path;
	struct lc_report_row *row;
	size_t from, to;
	int64_t hour_ago;
	int rc;         /* 0 when all went well, else a store error code */
	char err[256];  /* then SQLite's message */
	pthread_t tid;
};

static void *agg_worker(void *arg)
{
	struct agg_job *j = arg;
	struct agg_queries q = { 0 };
	struct ld_db *db = NULL;

	j->rc = ld_db_connect(j->path, &db, j->err, sizeof(j->err));
	if (!j->rc)
		j->rc = ld_query_open(db, LD_Q_AGG_TOTALS, "aggregates", &q.totals);
	if (!j->rc)
		j->rc = ld_query_open(db, LD_Q_AGG_ARM, "aggregates", &q.arm);
	for (size_t i = j->from; !j->rc && i < j->to; i++)
		j->rc = add_aggregates(&q, &j->row[i], j->hour_ago);
	if (j->rc && db)
		snprintf(j->err, sizeof(j->err), "%s", ld_db_sqlmsg(db));
	ld_query_close(q.totals);
	ld_query_close(q.arm);
	ld_db_close(db);
	return NULL;
}

/* Which learnable parameters have no effect here, from the saved model rows
 * (rows sorted by prefix id).  Best effort: an unreadable state says nothing. */
static int no_effect_model(void *ctx, int64_t prefix_id, const struct learnd_model_row *rows, size_t n)
{
	const struct lc_report_rows *all = ctx;
	struct lc_report_row key = { .prefix_id = prefix_id }, *r;
	unsigned bits;

	r = bsearch(&key, all->row, all->n, sizeof(all->row[0]), cmp_prefix_id);
	if (!r)
		return 0;
	bits = learnd_model_rows_no_effect(rows, n);
	for (int p = LEARND_PARAM_IW; p <= LEARND_PARAM_RWND; p++)
		r->no_effect[p] = bits & (1u << p) && r->bound[p].set && r->bound[p].min != r->bound[p].max;
	return 0;
}

/* Up to 4 workers for large databases: reading the aggregates is most of a
 * report's time, and each prefix's rows are independent. */
static int load_aggregates(struct lc *lc, struct lc_report_rows *rows)
{
	struct agg_job job[4];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nj = rows->n < 20000 || ncpu < 2 ? 1 : ncpu < 4 ? (size_t)ncpu : 4;

	int64_t hour_ago = ld_wall_ns() - 3600LL * 1000000000LL;
	int rc = 0;

	for (size_t t = 0; t < nj; t++) {
		job[t] = (struct agg_job){ .path = lc->db, .row = rows->row, .from = rows->n * t / nj,
					   .to = rows->n * (t + 1) / nj, .hour_ago = hour_ago };
		if (t > 0 && pthread_create(&job[t].tid, NULL, agg_worker, &job[t])) {
			nj = t; /* run the rest here */
			job[0].to = rows->n;
			break;
		}
	}
	agg_worker(&job[0]);
	for (size_t t = 1; t < nj; t++)
		pthread_join(job[t].tid, NULL);
	for (size_t t = 0; t < nj && !rc; t++) {
		if (!job[t].rc)
			continue;
		if (job[t].rc == LD_DB_REFUSED)
			rc = lc_fail(lc, LC_EXIT_USAGE, "database %s is corrupt (aggregates: %s)", lc->db, job[t].err);
		else
			rc = lc_fail(lc, LC_EXIT_FAIL, "database %s: aggregates: %s", lc->db, job[t].err);
	}
	return rc;
}

int lc_report_load(struct lc *lc, struct lc_report_rows *rows, const struct learnd_key *filter, bool with_evicted)
{
	struct report_cols rcols;
	struct ld_db *db;
	struct ld_query *st;
	int rc;

	memset(rows, 0, sizeof(*rows));
	rc = lc_db_open(lc, false, &db);
	if (rc)
		return rc;
	rc = ld_query_open(db, LD_Q_REPORT, "report", &st);
	if (rc) {
		rc = lc_db_fail(lc, db, rc);
		ld_db_close(db);
		return rc;
	}
	report_cols_find(st, &rcols);
	while ((rc = ld_query_next(st)) == 1) {
		struct lc_report_row *r;
		char err[128];

		/* evicted at the cap: history only, no longer in the map (a spray of
		 * addresses leaves thousands of them) */
		if (!with_evicted && rcols.evicted >= 0 && ld_query_type(st, rcols.evicted) != LD_COL_NULL)
			continue;
		r = add_row(rows);

		if (!r)
			break;
		report_row_read(st, &rcols, r);
		if (ld_cidr_parse(r->cidr, &r->key, err, sizeof(err)))
			memset(&r->key, 0, sizeof(r->key)); /* sorts first; shown as stored */
		if (filter && !ld_key_contains(filter, &r->key))
			rows->n--;
	}
	if (rc) {
		rc = rc > 0 ? lc_fail(lc, LC_EXIT_FAIL, "out of memory") : lc_db_fail(lc, db, rc);
		lc_report_free(rows);
	}
	ld_query_close(st);
	if (!rc && rows->n) {
		/* in prefix id order, the aggregates' primary key order: each page of
		 * the table is then read once, not once per prefix on it */
		qsort(rows->row, rows->n, sizeof(rows->row[0]), cmp_prefix_id);
		ld_db_models(db, no_effect_model, rows);
	}
	ld_db_close(db);
	if (!rc && rows->n) {
		rc = load_aggregates(lc, rows);
		if (rc)
			lc_report_free(rows);
	}
	return rc;
}

/* ---- sorting ---- */

enum sort_key { SORT_PREFIX, SORT_CONNS, SORT_RECENT, SORT_GAIN, SORT_RETRANS, SORT_CHANGED };

static int cmp_key(const struct learnd_key *a, const struct learnd_key *b)
{
	int c = memcmp(a->addr, b->addr, 16);

	if (c)
		return c;
	return a->prefixlen < b->prefixlen ? -1 : a->prefixlen > b->prefixlen;
}

/* NaN (no estimate) sorts last whatever the direction. */
static int cmp_dbl(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) - isnan(b);
	return a < b ? -1 : a > b;
}

static enum sort_key sort_by;

static int cmp_rows(const void *pa, const void *pb)
{
	const struct lc_report_row *a = pa, *b = pb;
	int c = 0;

	switch (sort_by) {
	case SORT_PREFIX: break;
	case SORT_CONNS: c = (a->conns_total < b->conns_total) - (a->conns_total > b->conns_total); break;
	case SORT_RECENT: c = (a->conns_1h < b->conns_1h) - (a->conns_1h > b->conns_1h); break;
	case SORT_GAIN: c = cmp_dbl(a->fct_change, b->fct_change); break;
	case SORT_RETRANS: c = isnan(a->retrans_rate) || isnan(b->retrans_rate) ? cmp_dbl(a->retrans_rate, b->retrans_rate)
									       : cmp_dbl(b->retrans_rate, a->retrans_rate);
		break;
	case SORT_CHANGED: c = (a->changed_ns < b->changed_ns) - (a->changed_ns > b->changed_ns); break;
	}
	return c ? c : cmp_key(&a->key, &b->key);
}

/* ---- output ---- */


enum {
	C_PREFIX, C_ORIGIN, C_CONNS_1H, C_CONNS, C_IW, C_RWND, C_RTO, C_BRTT,
	C_PROBE, C_FCT, C_RETX, C_CHANGED, C_NCOLS
};

/* Text columns within 80 characters; JSON/CSV get raw values with units in
 * their names, and the bounds. */
static const struct tab_col report_cols_text[] = {
	{ "PREFIX", 18, TC_LEFT }, { "ORIG", 4, TC_LEFT }, { "CONN1H", 6, 0 }, { "CONNS", 6, 0 },
	{ "IW", 4, 0 },            { "RWND", 4, 0 },       { "RTO", 4, 0 },     { "RTT", 5, 0 },
	{ "PRB%", 4, 0 },          { "FCT", 7, 0 },        { "RTX%", 4, 0 },    { "CHG", 3, 0 },
};

static const struct tab_col report_cols_wide[] = {
	{ "PREFIX", 18, TC_LEFT },  { "ORIGIN", 10, TC_LEFT }, { "CONN/1H", 7, 0 },  { "CONNS", 8, 0 },
	{ "IW", 11, 0 },            { "RWND", 11, 0 },         { "SYN_RTO_MS", 16, 0 }, { "BASE_RTT_MS", 19, 0 },
	{ "PROBE%", 6, 0 },         { "FCT_CHANGE(95%)", 18, 0 }, { "RETX%", 5, 0 }, { "CHANGED", 20, 0 },
};

static const struct tab_col report_cols_data[] = {
	{ "prefix", 0, 0 },          { "origin", 0, 0 },        { "conns_1h", 0, 0 },       { "conns_total", 0, 0 },
	{ "iw", 0, 0 },              { "iw_min", 0, 0 },        { "iw_max", 0, 0 },         { "iw_pinned", 0, 0 },
	{ "iw_pin", 0, 0 },          { "iw_pin_state", 0, 0 },
	{ "rwnd", 0, 0 },            { "rwnd_min", 0, 0 },      { "rwnd_max", 0, 0 },       { "rwnd_pinned", 0, 0 },
	{ "rwnd_pin", 0, 0 },        { "rwnd_pin_state", 0, 0 },
	{ "syn_rto_ms", 0, 0 },      { "syn_rto_ms_min", 0, 0 }, { "syn_rto_ms_max", 0, 0 }, { "syn_rto_ms_pinned", 0, 0 },
	{ "syn_rto_ms_pin", 0, 0 },  { "syn_rto_ms_pin_state", 0, 0 },
	{ "base_rtt_us", 0, 0 },     { "base_rtt_us_min", 0, 0 }, { "base_rtt_us_max", 0, 0 }, { "base_rtt_us_pinned", 0, 0 },
	{ "base_rtt_us_pin", 0, 0 }, { "base_rtt_us_pin_state", 0, 0 },
	{ "probe_share", 0, 0 },     { "fct_change", 0, 0 },    { "fct_change_lo", 0, 0 },  { "fct_change_hi", 0, 0 },
	{ "retrans_rate", 0, 0 },    { "changed_ts_ns", 0, 0 },
};

static void fmt_value(const struct lc_report_row *r, int p, bool wide, char *buf, size_t len)
{
	static const char pin_mark[] = { [LC_PIN_IN_FORCE] = 'P', [LC_PIN_PENDING] = 'p', [LC_PIN_IGNORED] = '!' };
	char v[24], mark = r->pin_state[p] ? pin_mark[r->pin_state[p]] :
			   (r->bound[p].set && r->bound[p].min == r->bound[p].max) ? 'F' : r->no_effect[p] ? 'N' : 0;
	uint32_t x = r->val[p];

	if (!x)
		snprintf(v, sizeof(v), "-");
	else if (p == LEARND_PARAM_BASE_RTT)
		snprintf(v, sizeof(v), x >= 100000 ? "%.0f" : "%.1f", x / 1000.0);
	else
		snprintf(v, sizeof(v), "%u", x);
	if (mark)
		snprintf(v + strlen(v), sizeof(v) - strlen(v), "%c", mark);
	if (wide && r->bound[p].set && r->bound[p].min != r->bound[p].max) {
		if (p == LEARND_PARAM_BASE_RTT)
			snprintf(buf, len, "%s (%g..%g)", v, r->bound[p].min / 1000.0, r->bound[p].max / 1000.0);
		else
			snprintf(buf, len, "%s (%u..%u)", v, r->bound[p].min, r->bound[p].max);
	} else {
		snprintf(buf, len, "%s", v);
	}
}

/* At most 6 characters. */
static void fmt_count(int64_t n, char *buf, size_t len)
{
	if (n < 1000000)
		snprintf(buf, len, "%lld", (long long)n);
	else if (n < 100000000)
		snprintf(buf, len, "%lldk", (long long)(n / 1000));
	else if (n < 100000000000LL)
		snprintf(buf, len, "%lldM", (long long)(n / 1000000));
	else
		snprintf(buf, len, "%lldG", (long long)(n / 1000000000));
}

static const char *origin_short(const char *o)
{
	int k = learnd_origin_by_name(o);

	return k < 0 ? o : learnd_origin_name((enum learnd_origin)k, 1);
}

static void put_text_row(struct tab *t, const struct lc_report_row *r, bool wide, int64_t now)
{
	char buf[64];

	tab_row(t);
	tab_str(t, r->cidr);
	tab_str(t, wide ? r->origin : origin_short(r->origin));
	fmt_count(r->conns_1h, buf, sizeof(buf));
	tab_str(t, buf);
	fmt_count(r->conns_total, buf, sizeof(buf));
	tab_str(t, buf);
	for (int p = 0; p < LEARND_PARAM__MAX; p++) {
		fmt_value(r, p, wide, buf, sizeof(buf));
		tab_str(t, buf);
	}
	if (isnan(r->probe_share))
		tab_str(t, "-");
	else {
		snprintf(buf, sizeof(buf), "%.0f", r->probe_share * 100);
		tab_str(t, buf);
	}
	if (isnan(r->fct_change)) {
		tab_str(t, "-");
	} else if (r->fct_change == 0 && r->fct_lo == 0 && r->fct_hi == 0) {
		tab_str(t, "0%"); /* the kernel's IW is in force: no change by definition */
	} else if (isnan(r->fct_lo) || isnan(r->fct_hi)) {
		snprintf(buf, sizeof(buf), "%+.0f%%", r->fct_change * 100);
		tab_str(t, buf);
	} else {
		double half = (r->fct_hi - r->fct_lo) * 50;

		snprintf(buf, sizeof(buf), wide ? "%+.1f%% [%+.0f,%+.0f]" : "%+.0f%%\u00b1%.0f", r->fct_change * 100,
			 wide ? r->fct_lo * 100 : half, r->fct_hi * 100);
		tab_str(t, buf);
	}
	if (isnan(r->retrans_rate))
		tab_str(t, "-");
	else {
		snprintf(buf, sizeof(buf), r->retrans_rate < 0.1 ? "%.1f" : "%.0f", r->retrans_rate * 100);
		tab_str(t, buf);
	}
	if (!r->changed_ns)
		tab_str(t, "-");
	else if (wide) {
		lc_fmt_time(r->changed_ns, buf, sizeof(buf));
		tab_str(t, buf);
	} else {
		lc_fmt_age(now - r->changed_ns, buf, sizeof(buf));
		tab_str(t, buf);
	}
	tab_row_end(t);
}

static void put_data_row(struct tab *t, const struct lc_report_row *r)
{
	tab_row(t);
	tab_str(t, r->cidr);
	tab_str(t, r->origin);
	tab_i64(t, r->conns_1h);
	tab_i64(t, r->conns_total);
	for (int p = 0; p < LEARND_PARAM__MAX; p++) {
		tab_i64(t, r->val[p]);
		if (r->bound[p].set) {
			tab_i64(t, r->bound[p].min);
			tab_i64(t, r->bound[p].max);
		} else {
			tab_null(t);
			tab_null(t);
		}
		tab_i64(t, r->pinned[p]);
		if (r->pin[p] >= 0) {
			char st[160];

			lc_pin_state_text(r, p, st, sizeof(st));
			tab_i64(t, r->pin[p]);
			tab_str(t, st);
		} else {
			tab_null(t);
			tab_null(t);
		}
	}
	tab_dbl(t, r->probe_share, NULL);
	tab_dbl(t, r->fct_change, NULL);
	tab_dbl(t, r->fct_lo, NULL);
	tab_dbl(t, r->fct_hi, NULL);
	tab_dbl(t, r->retrans_rate, NULL);
	if (r->changed_ns)
		tab_i64(t, r->changed_ns);
	else
		tab_null(t);
	tab_row_end(t);
}

struct report_opts {
	enum sort_key sort;
	bool have_filter, wide;
	struct learnd_key filter;
	long limit;
};

enum { OPT_SORT = 400, OPT_PREFIX, OPT_LIMIT, OPT_CSV, OPT_WIDE };

static int report_opt(struct lc *lc, void *st, int id, const char *arg)
{
	struct report_opts *o = st;
	static const char *const sorts[] = { "prefix", "conns", "recent", "gain", "retrans", "changed" };
	char err[160], *end;

	switch (id) {
	case OPT_SORT:
		for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
			if (!strcmp(arg, sorts[i])) {
				o->sort = (enum sort_key)i;
				return 0;
			}
		return lc_fail(lc, LC_EXIT_USAGE, "--sort %s: expected prefix, conns, recent, gain, retrans or changed", arg);
	case OPT_PREFIX:
		if (ld_cidr_parse(arg, &o->filter, err, sizeof(err)))
			return lc_fail(lc, LC_EXIT_USAGE, "--prefix: malformed prefix: %s", err);
		o->have_filter = true;
		return 0;
	case OPT_LIMIT:
		errno = 0;
		o->limit = strtol(arg, &end, 10);
		if (*arg < '0' || *arg > '9' || *end || errno)
			return lc_fail(lc, LC_EXIT_USAGE, "--limit %s: expected a whole number", arg);
		return 0;
	case OPT_CSV:
		lc->fmt = LC_CSV;
		return 0;
	case OPT_WIDE:
		o->wide = true;
		return 0;
	}
	return LC_EXIT_USAGE;
}

int cmd_report(struct lc *lc, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "sort", required_argument, NULL, OPT_SORT },   { "prefix", required_argument, NULL, OPT_PREFIX },
		{ "limit", required_argument, NULL, OPT_LIMIT }, { "csv", no_argument, NULL, OPT_CSV },
		{ "wide", no_argument, NULL, OPT_WIDE },         { 0 },
	};
	struct report_opts o = { .sort = SORT_PREFIX, .limit = -1 };
	struct lc_report_rows rows;
	struct tab t;
	size_t shown = 0;
	int first, rc;
	int64_t now = ld_wall_ns();

	rc = lc_parse_opts(lc, argc, argv, NULL, extra, report_opt, &o, &first);
	if (rc)
		return rc;
	if (first < argc)
		return lc_fail(lc, LC_EXIT_USAGE, "unexpected argument '%s' (see learnctl report --help)", argv[first]);
	rc = lc_report_load(lc, &rows, o.have_filter ? &o.filter : NULL, false);
	if (rc)
		return rc;
	sort_by = o.sort;
	if (rows.n) /* rows.row is NULL for an empty database */
		qsort(rows.row, rows.n, sizeof(rows.row[0]), cmp_rows);
	if (lc->fmt == LC_TEXT)
		tab_begin(&t, stdout, LC_TEXT, false, o.wide ? report_cols_wide : report_cols_text, C_NCOLS);
	else
		tab_begin(&t, stdout, lc->fmt, lc->pretty, report_cols_data,
			  (int)(sizeof(report_cols_data) / sizeof(report_cols_data[0])));
	for (size_t i = 0; i < rows.n && (o.limit < 0 || shown < (size_t)o.limit); i++, shown++) {
		if (lc->fmt == LC_TEXT)
			put_text_row(&t, &rows.row[i], o.wide, now);
		else
			put_data_row(&t, &rows.row[i]);
	}
	rc = tab_end(&t);
	if (lc->fmt == LC_TEXT && rows.n == 0)
		lc_note(lc, "no prefixes%s", o.have_filter ? " inside the --prefix filter" : " in the database yet");
	lc_report_free(&rows);
	return rc ? lc_fail(lc, LC_EXIT_FAIL, "cannot write the output: %s", strerror(-rc)) : 0;
}

