/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The store's side for learnctl: its connections (db.c: opened read-only for
 * read commands, read-write for operator writes, never created, checked
 * before anything is read), the read queries (query.c: named queries stepped
 * row by row, with columns by name and type, and the facts status and metrics
 * print), and the operator's writes (control.c: pins, pause, operator_log, in
 * one transaction).  learnctl holds no SQL of its own.
 *
 * Errors: every call returns 0 (or what it documents), LD_DB_REFUSED when the
 * database is at fault (missing, not a regular file, not SQLite, corrupt, not
 * learnd's schema, another program's, a newer one: learnctl exits 2), or
 * LD_DB_FAILED otherwise (permission, lock, I/O, memory: exit 1).  ld_db_errmsg() then says why, as
 * one line naming the database.
 */
#ifndef LEARND_STORE_QUERY_H
#define LEARND_STORE_QUERY_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h" /* struct ld_bounds */
#include "model.h"

#define LD_DB_REFUSED (-EILSEQ)
#define LD_DB_FAILED (-EIO)

struct ld_db;

/* SQLite's global allocation statistics off, before any connection: report
 * reads with several connections in parallel, and the statistics mutex would
 * serialise them. */
void ld_db_init(void);

/* Open the database at path (write: read-write, else read-only) through the
 * store's one open path (open.h), the checks learnd's open makes: a regular
 * file, SQLite, learnd's and not another program's, every page's structure
 * (quick_check), a schema version from 1 to LD_STORE_SCHEMA_VERSION.  Never
 * created, never migrated.  On failure *out is NULL and err has the message. */
int ld_db_open(const char *path, bool write, struct ld_db **out, char *err, size_t errlen);
/* The connection alone, read-only and unchecked (ld_db_open checked the file),
 * for a worker thread's own reader.  On failure err has SQLite's message. */
int ld_db_connect(const char *path, struct ld_db **out, char *err, size_t errlen);
void ld_db_close(struct ld_db *db);
/* The schema version ld_db_open found (PRAGMA user_version). */
int ld_db_version(const struct ld_db *db);
/* The last error: "database PATH ..." (one line). */
const char *ld_db_errmsg(const struct ld_db *db);
/* SQLite's own message for the last error (no database path, no context). */
const char *ld_db_sqlmsg(const struct ld_db *db);

/* ---- read queries (query.c) ---- */

/* The queries learnctl runs, with their parameters (?N). */
enum ld_q {
	LD_Q_REPORT,         /* v_prefix_summary's columns report prints, and the pins (pin_iw, ...) */
	LD_Q_AGG_TOTALS,     /* ?1 prefix id, ?2 ns an hour ago: conns in the last hour, retrans, segs_out */
	LD_Q_AGG_ARM,        /* ?1 prefix id, ?2 IW value: established conns, cost sum, sum of squares */
	LD_Q_SHOW_SUMMARY,   /* ?1 cidr: the v_prefix_summary row */
	LD_Q_SHOW_PIN,       /* ?1 cidr: its pin (a column per parameter, ts_ns, who) */
	LD_Q_SHOW_VALUES,    /* ?1 cidr: v_value_stats with a 95% interval of the mean */
	LD_Q_SHOW_SLOTS,     /* ?1 cidr: v_slots */
	LD_Q_SHOW_DECISIONS, /* ?1 cidr, ?2 limit (-1: all): v_decisions, newest first */
	LD_Q_EXPORT_AGG,     /* ?1 from, ?2 to (ns, [from, to)), ?3 cidr or NULL for all: v_aggregates */
	LD_Q_EXPORT_DEC,     /* the same over v_decisions */
	LD_Q_PLOT_AGG,       /* ?1 from, ?2 to, ?3 cidr, ?4 param: ts_ns, value, mean_cost by value */
	LD_Q_PLOT_DEC,       /* ?2 to, ?3 cidr, ?4 param: ts_ns, new_value (?1 unused) */
	LD_Q__MAX,
};

enum ld_col { LD_COL_NULL, LD_COL_INT, LD_COL_FLOAT, LD_COL_TEXT, LD_COL_BLOB };

struct ld_query;
/* Prepare query q; what names it in error messages ("database PATH: what: ..."). */
int ld_query_open(struct ld_db *db, enum ld_q q, const char *what, struct ld_query **out);
void ld_query_close(struct ld_query *q);
/* Parameters, numbered from 1 as in enum ld_q; text NULL binds NULL (copied). */
int ld_query_nparams(const struct ld_query *q);
void ld_query_bind_int(struct ld_query *q, int i, int64_t v);
void ld_query_bind_text(struct ld_query *q, int i, const char *s);
/* Back to before the first row, parameters kept (bind again to change them). */
void ld_query_reset(struct ld_query *q);
/* 1: a row; 0: no more; else an error code (ld_db_errmsg). */
int ld_query_next(struct ld_query *q);
int ld_query_ncols(const struct ld_query *q);
const char *ld_query_name(const struct ld_query *q, int i);
int ld_query_col(const struct ld_query *q, const char *name); /* -1: no such column */
enum ld_col ld_query_type(const struct ld_query *q, int i);
int64_t ld_query_int(const struct ld_query *q, int i);
double ld_query_dbl(const struct ld_query *q, int i);
const char *ld_query_text(const struct ld_query *q, int i); /* NULL for NULL */

/* Whether learnd ever stored cidr (evicted or not). */
int ld_db_prefix_known(struct ld_db *db, const char *cidr, bool *known);
/* The bounds learnd stored for cidr (the ones its policy gate checks): found
 * false when it has no such prefix; evicted_ns 0 when it was not evicted. */
struct ld_db_prefix_bounds {
	bool found;
	int64_t evicted_ns;
	struct ld_bounds b;
};
int ld_db_prefix_bounds(struct ld_db *db, const char *cidr, struct ld_db_prefix_bounds *out);

/* Saved model rows in the format of this build (other formats and bad sizes
 * are skipped: best effort, no error); fn's non-zero return stops. */
typedef int (*ld_db_model_fn)(void *ctx, int64_t prefix_id, const struct learnd_model_row *rows, size_t n);
int ld_db_models(struct ld_db *db, ld_db_model_fn fn, void *ctx);
/* The bounds and saved model rows of cidr (rows NULL when none or not of this
 * build's format); *found false (fn not called) when there is no such prefix. */
typedef void (*ld_db_prefix_model_fn)(void *ctx, const struct learnd_bound bound[LEARND_PARAM__MAX],
				      const struct learnd_model_row *rows, size_t n);
int ld_db_prefix_model(struct ld_db *db, const char *cidr, bool *found, ld_db_prefix_model_fn fn, void *ctx);

/* The database at a glance, for status and metrics. */
struct ld_db_facts {
	bool ok;
	int version;
	int64_t size, wal_size;
	int64_t prefixes, pins, decisions;
	int64_t prefixes_held; /* not evicted: learnd_prefixes' meaning (prom.h) */
	bool paused;
	int64_t last_decision_ns;
	int64_t last_tick_ns, records, store_errors; /* learnd's daemon table; -1: absent */
	/* the fleet link (LD_DAEMON_FLEET_*): state -1 (absent: no [fleet]) or enum ld_fleet_state */
	int64_t fleet_state, fleet_push_ns, fleet_pull_ns, fleet_pushed, fleet_pulled, fleet_rejected, fleet_installed;
};
/* File sizes of path and its -wal (-1: none), then the counts on db. */
void ld_db_facts(struct ld_db *db, const char *path, struct ld_db_facts *f);

/* ---- operator writes (control.c) ---- */

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK (rollback: no error, a no-op outside). */
int ld_db_begin(struct ld_db *db);
int ld_db_commit(struct ld_db *db);
void ld_db_rollback(struct ld_db *db);
/* The pin of cidr: vals[p] < 0 where the parameter is not pinned. */
int ld_db_pin_get(struct ld_db *db, const char *cidr, bool *found, int64_t vals[LEARND_PARAM__MAX]);
/* Pin vals[p] >= 0; parameters with vals[p] < 0 keep an earlier pin. */
int ld_db_pin_put(struct ld_db *db, const char *cidr, const int64_t vals[LEARND_PARAM__MAX], int64_t ts_ns,
		  const char *who);
/* Unpin the parameters in which[] (the row stays), or with which NULL the whole pin. */
int ld_db_pin_clear(struct ld_db *db, const char *cidr, const bool *which, int64_t ts_ns, const char *who);
int ld_db_set_paused(struct ld_db *db, bool paused);
/* A row of operator_log (cidr NULL: none). */
int ld_db_log(struct ld_db *db, int64_t ts_ns, const char *who, const char *action, const char *cidr,
	      const char *detail);

#endif
