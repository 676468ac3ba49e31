// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * learnctl's read queries: the SQL of each (enum ld_q), stepped row by row
 * with columns by name and type, so that show and export print whatever
 * columns the views have; and the few reads that fill structs.
 */
#include "db_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "store.h" /* LD_DAEMON_*: the daemon table's keys, LD_STORE_MODEL_FORMAT */

static const char *const query_sql[LD_Q__MAX] = {
	/* The base row comes from v_prefix_summary, naming its columns: SQLite
	 * then skips the view's per-prefix subqueries over aggregates (conns_1h,
	 * retrans_rate), which report computes itself together with the FCT
	 * estimate (LD_Q_AGG_*: ranges of the aggregates primary key).  That keeps
	 * 100,000 prefixes under a second (docs/learnctl.md). */
	[LD_Q_REPORT] =
		"SELECT s.prefix_id, s.cidr, s.origin, s.conns_total, s.iw, s.rwnd, s.syn_rto_ms, s.base_rtt_us, "
		"s.iw_min, s.iw_max, s.rwnd_min, s.rwnd_max, s.syn_rto_ms_min, s.syn_rto_ms_max, s.base_rtt_us_min, "
		"s.base_rtt_us_max, s.probe_share, s.changed_ts_ns, s.evicted_ns, "
		"p.iw AS pin_iw, p.rwnd AS pin_rwnd, p.syn_rto_ms AS pin_syn_rto_ms, p.base_rtt_us AS pin_base_rtt_us "
		"FROM v_prefix_summary s LEFT JOIN pins p ON p.cidr = s.cidr",
	/* over the prefix's IW rows (each connection is counted once per
	 * parameter, so one parameter counts connections), as v_prefix_summary */
	[LD_Q_AGG_TOTALS] =
		"SELECT sum(CASE WHEN bucket_ns >= ?2 THEN n ELSE 0 END), sum(retrans), sum(segs_out) "
		"FROM aggregates WHERE prefix_id = ?1 AND param = 'iw'",
	/* a primary-key range, not the prefix's every row */
	[LD_Q_AGG_ARM] =
		"SELECT sum(n - failed), sum(cost_sum), sum(cost_sum2) "
		"FROM aggregates WHERE prefix_id = ?1 AND param = 'iw' AND value = ?2",
	[LD_Q_SHOW_SUMMARY] =
		"SELECT * FROM v_prefix_summary WHERE cidr = ?1",
	[LD_Q_SHOW_PIN] =
		"SELECT iw, rwnd, syn_rto_ms, base_rtt_us, ts_ns, who FROM pins WHERE cidr = ?1",
	/* v_value_stats plus a 95% interval of the mean connection time, which
	 * needs cost_sum2 (not in the view): half-width 1.96 * sqrt(var / k). */
	[LD_Q_SHOW_VALUES] =
		"SELECT v.param, v.value, v.samples, v.failed, round(v.mean_cost, 1) AS mean_ms, "
		"round(1.96 * lc_sqrt((a.s2 / a.k - v.mean_cost * v.mean_cost) / a.k), 1) AS ci95_ms, "
		"round(v.mean_handshake_ms, 1) AS handshake_ms, round(v.retrans_rate, 4) AS retrans_rate "
		"FROM v_value_stats v JOIN (SELECT a.param, a.value, sum(a.cost_sum2) AS s2, "
		"nullif(sum(a.n) - sum(a.failed), 0) AS k FROM aggregates a JOIN prefixes p ON p.id = a.prefix_id "
		"WHERE p.cidr = ?1 GROUP BY a.param, a.value) a ON a.param = v.param AND a.value = v.value "
		"WHERE v.cidr = ?1 ORDER BY v.param, v.value",
	[LD_Q_SHOW_SLOTS] =
		"SELECT * FROM v_slots WHERE cidr = ?1 ORDER BY slot",
	[LD_Q_SHOW_DECISIONS] =
		"SELECT * FROM v_decisions WHERE cidr = ?1 ORDER BY ts_ns DESC LIMIT ?2",
	[LD_Q_EXPORT_AGG] =
		"SELECT * FROM v_aggregates WHERE ts_ns >= ?1 AND ts_ns < ?2 AND (?3 IS NULL OR cidr = ?3) "
		"ORDER BY ts_ns, cidr, param, value",
	[LD_Q_EXPORT_DEC] =
		"SELECT * FROM v_decisions WHERE ts_ns >= ?1 AND ts_ns < ?2 AND (?3 IS NULL OR cidr = ?3) "
		"ORDER BY ts_ns, cidr",
	[LD_Q_PLOT_AGG] =
		"SELECT ts_ns, value, mean_cost FROM v_aggregates WHERE ts_ns >= ?1 AND ts_ns < ?2 AND "
		"cidr = ?3 AND param = ?4 AND mean_cost IS NOT NULL ORDER BY value, ts_ns",
	[LD_Q_PLOT_DEC] =
		"SELECT ts_ns, new_value FROM v_decisions WHERE ts_ns < ?2 AND cidr = ?3 AND param = ?4 "
		"ORDER BY ts_ns",
};

struct ld_query {
	struct ld_db *db;
	sqlite3_stmt *st;
	const char *what;
};

int ld_query_open(struct ld_db *db, enum ld_q q, const char *what, struct ld_query **out)
{
	struct ld_query *h;
	int rc;

	*out = NULL;
	if ((unsigned)q >= LD_Q__MAX || !(h = calloc(1, sizeof(*h))))
		return db_fail(db, SQLITE_NOMEM, what);
	rc = db_prepare(db, query_sql[q], &h->st);
	if (rc) {
		free(h);
		return rc;
	}
	h->db = db;
	h->what = what;
	*out = h;
	return 0;
}

void ld_query_close(struct ld_query *q)
{
	if (q)
		sqlite3_finalize(q->st);
	free(q);
}

int ld_query_nparams(const struct ld_query *q)
{
	return sqlite3_bind_parameter_count(q->st);
}

void ld_query_bind_int(struct ld_query *q, int i, int64_t v)
{
	sqlite3_bind_int64(q->st, i, v);
}

void ld_query_bind_text(struct ld_query *q, int i, const char *s)
{
	db_bind_text(q->st, i, s);
}

void ld_query_reset(struct ld_query *q)
{
	sqlite3_reset(q->st);
}

int ld_query_next(struct ld_query *q)
{
	int rc = sqlite3_step(q->st);

	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_fail(q->db, rc, q->what);
}

int ld_query_ncols(const struct ld_query *q)
{
	return sqlite3_column_count(q->st);
}

const char *ld_query_name(const struct ld_query *q, int i)
{
	return sqlite3_column_name(q->st, i);
}

int ld_query_col(const struct ld_query *q, const char *name)
{
	int n = sqlite3_column_count(q->st);

	for (int i = 0; i < n; i++)
		if (!strcmp(sqlite3_column_name(q->st, i), name))
			return i;
	return -1;
}

enum ld_col ld_query_type(const struct ld_query *q, int i)
{
	switch (sqlite3_column_type(q->st, i)) {
	case SQLITE_INTEGER: return LD_COL_INT;
	case SQLITE_FLOAT: return LD_COL_FLOAT;
	case SQLITE_TEXT: return LD_COL_TEXT;
	case SQLITE_BLOB: return LD_COL_BLOB;
	default: return LD_COL_NULL;
	}
}

int64_t ld_query_int(const struct ld_query *q, int i)
{
	return sqlite3_column_int64(q->st, i);
}

double ld_query_dbl(const struct ld_query *q, int i)
{
	return sqlite3_column_double(q->st, i);
}

const char *ld_query_text(const struct ld_query *q, int i)
{
	return (const char *)sqlite3_column_text(q->st, i);
}

/* ---- reads that fill structs ---- */

/* Prepare sql with ?1 = text and step to its first row: 1 (row in *out, to
 * finalize), 0 (none) or an error code. */
static int row_by_text(struct ld_db *db, const char *sql, const char *text, const char *what, sqlite3_stmt **out)
{
	int rc = db_prepare(db, sql, out);

	if (rc)
		return rc;
	db_bind_text(*out, 1, text);
	rc = sqlite3_step(*out);
	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_finalize(*out);
	*out = NULL;
	return rc == SQLITE_DONE ? 0 : db_fail(db, rc, what);
}

int ld_db_prefix_known(struct ld_db *db, const char *cidr, bool *known)
{
	sqlite3_stmt *st;
	int rc = row_by_text(db, "SELECT 1 FROM prefixes WHERE cidr = ?1", cidr, "prefixes", &st);

	*known = rc == 1;
	sqlite3_finalize(st);
	return rc < 0 ? rc : 0;
}

int ld_db_prefix_bounds(struct ld_db *db, const char *cidr, struct ld_db_prefix_bounds *out)
{
	sqlite3_stmt *st;
	int rc = row_by_text(db,
			     "SELECT iw_min, iw_max, rwnd_min, rwnd_max, syn_rto_ms_min, syn_rto_ms_max, "
			     "base_rtt_us_min, base_rtt_us_max, evicted_ns FROM prefixes WHERE cidr = ?1",
			     cidr, "prefixes", &st);

	memset(out, 0, sizeof(*out));
	if (rc != 1)
		return rc;
	out->found = true;
	out->evicted_ns = sqlite3_column_type(st, 8) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 8);
	for (int p = 0; p < LEARND_PARAM__MAX; p++) {
		struct ld_range *r = &out->b.r[p];

		if (sqlite3_column_type(st, 2 * p) == SQLITE_NULL || sqlite3_column_type(st, 2 * p + 1) == SQLITE_NULL)
			continue;
		r->set = true;
		r->min = (uint32_t)sqlite3_column_int64(st, 2 * p);
		r->max = (uint32_t)sqlite3_column_int64(st, 2 * p + 1);
	}
	sqlite3_finalize(st);
	return 0;
}

/* Columns fmt, nrows, rows (from col) as model rows of this build, or NULL. */
static const struct learnd_model_row *model_rows(sqlite3_stmt *st, int col, size_t *n)
{
	const void *blob;

	*n = (size_t)sqlite3_column_int64(st, col + 1);
	if (sqlite3_column_int64(st, col) != LD_STORE_MODEL_FORMAT || !(blob = sqlite3_column_blob(st, col + 2)) ||
	    (size_t)sqlite3_column_bytes(st, col + 2) != *n * sizeof(struct learnd_model_row)) {
		*n = 0;
		return NULL;
	}
	return blob;
}

int ld_db_models(struct ld_db *db, ld_db_model_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	/* best effort: an unreadable state says nothing */
	if (sqlite3_prepare_v2(db->db, "SELECT prefix_id, format, nrows, rows FROM model_state", -1, &st, NULL) !=
	    SQLITE_OK)
		return 0;
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		size_t n;
		const struct learnd_model_row *rows = model_rows(st, 1, &n);

		if (rows)
			rc = fn(ctx, sqlite3_column_int64(st, 0), rows, n);
	}
	sqlite3_finalize(st);
	return rc;
}

int ld_db_prefix_model(struct ld_db *db, const char *cidr, bool *found, ld_db_prefix_model_fn fn, void *ctx)
{
	struct learnd_bound bound[LEARND_PARAM__MAX] = { 0 };
	const struct learnd_model_row *rows;
	sqlite3_stmt *st;
	size_t n;
	int rc = row_by_text(db,
			     "SELECT p.iw_min, p.iw_max, p.rwnd_min, p.rwnd_max, p.syn_rto_ms_min, p.syn_rto_ms_max, "
			     "p.base_rtt_us_min, p.base_rtt_us_max, m.format, m.nrows, m.rows "
			     "FROM prefixes p LEFT JOIN model_state m ON m.prefix_id = p.id WHERE p.cidr = ?1",
			     cidr, "show", &st);

	*found = rc == 1;
	if (rc != 1)
		return rc;
	for (int i = 0; i < LEARND_PARAM__MAX; i++) {
		struct learnd_bound *b = &bound[i];

		if (sqlite3_column_type(st, 2 * i) == SQLITE_NULL) {
			b->mode = LEARND_BOUND_UNSET;
			continue;
		}
		b->min = (uint32_t)sqlite3_column_int64(st, 2 * i);
		b->max = (uint32_t)sqlite3_column_int64(st, 2 * i + 1);
		b->mode = b->min == b->max ? LEARND_BOUND_FIXED : LEARND_BOUND_LEARN;
	}
	rows = model_rows(st, 8, &n);
	fn(ctx, bound, rows, n);
	sqlite3_finalize(st);
	return 0;
}

static int64_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? -1 : (int64_t)sb.st_size;
}

static int64_t scalar(struct ld_db *db, const char *sql, int64_t dflt)
{
	sqlite3_stmt *st;
	int64_t v = dflt;

	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
		return dflt;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

void ld_db_facts(struct ld_db *db, const char *path, struct ld_db_facts *f)
{
	char wal[4096 + 8];

	memset(f, 0, sizeof(*f));
	f->size = file_size(path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	f->wal_size = file_size(wal);
	if (!db)
		return;
	f->ok = true;
	f->version = db->version;
	f->prefixes = scalar(db, "SELECT count(*) FROM prefixes", -1);
	f->prefixes_held = scalar(db, "SELECT count(*) FROM prefixes WHERE evicted_ns IS NULL", -1);
	f->pins = scalar(db, "SELECT count(*) FROM pins", -1);
	f->decisions = scalar(db, "SELECT count(*) FROM decisions", -1);
	f->last_decision_ns = scalar(db, "SELECT max(ts_ns) FROM decisions", 0);
	f->paused = scalar(db, "SELECT value = '1' FROM control WHERE key = 'paused'", 0) == 1;
	f->last_tick_ns = scalar(db, "SELECT value FROM daemon WHERE key = '" LD_DAEMON_LAST_TICK "'", -1);
	f->records = scalar(db, "SELECT value FROM daemon WHERE key = '" LD_DAEMON_RECORDS "'", -1);
	f->store_errors = scalar(db, "SELECT value FROM daemon WHERE key = '" LD_DAEMON_STORE_ERRORS "'", -1);
	f->fleet_state = scalar(db, "SELECT value FROM daemon WHERE key = '" LD_DAEMON_FLEET_STATE "'", -1);
	f->fleet_push_ns = scalar(db, "SELECT value FROM daemon WHERE key = '" LD_DAEMON_FLEET_PUSH "'", 0);
	f->fleet_pull_ns = scalar(db, "SELECT value FROM daemon WHERE key = '" LD_DAEMON_FLEET_PULL "'", 0);
	f->fleet_pushed = scalar(db, "SELECT value FROM daemon WHERE key = '" LD_DAEMON_FLEET_PUSHED "'", 0);
	f->fleet_pulled = scalar(db, "SELECT value FROM daemon WHERE key = '" LD_DAEMON_FLEET_PULLED "'", 0);
	f->fleet_rejected = scalar(db, "SELECT value FROM daemon WHERE key = '" LD_DAEMON_FLEET_REJECTED "'", 0);
	f->fleet_installed = scalar(db, "SELECT value FROM daemon WHERE key = '" LD_DAEMON_FLEET_INSTALLED "'", 0);
}
