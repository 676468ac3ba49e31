/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * learnctl's side of the database: open it (read-only for read commands, never
 * created), check that it is a SQLite file of a schema version this learnctl
 * knows, and turn SQLite errors into exit statuses (corrupt: 2, else 1).
 */
#ifndef LEARND_CTLDB_H
#define LEARND_CTLDB_H

#include <sqlite3.h>
#include <stdbool.h>
#include "learnctl.h"

/* Open lc->db.  write: read-write (for pin, unpin, pause, resume), else
 * read-only.  Returns 0 with *db set, or an exit status (message printed):
 * 2 when the file is missing, not a database, corrupt, or of a schema newer
 * than we know (or older than one with learnctl's tables). */
int lc_db_open(struct lc *lc, bool write, sqlite3 **db);
void lc_db_close(sqlite3 *db);
/* The connection alone (no checks: lc_db_open made them), for a worker thread's
 * own reader: busy timeout, extended codes, lc_sqrt().  An SQLite result code. */
int lc_db_connect(const char *path, bool write, sqlite3 **db);
/* The schema version found (PRAGMA user_version) by the last lc_db_open. */
int lc_db_version(void);

/* Prepare sql; on error print it and return an exit status. */
int lc_db_prepare(struct lc *lc, sqlite3 *db, const char *sql, sqlite3_stmt **st);
/* After sqlite3_step() returned rc (not ROW/DONE): message and exit status. */
int lc_db_error(struct lc *lc, sqlite3 *db, int rc, const char *what);
/* Run sql without results; 0 or an exit status. */
int lc_db_exec(struct lc *lc, sqlite3 *db, const char *sql);

/* Column helpers: NULL becomes the fallback. */
const char *lc_col_text(sqlite3_stmt *st, int i);
bool lc_col_null(sqlite3_stmt *st, int i);

/* The database at a glance, for status and metrics. */
struct lc_db_facts {
	bool ok;
	int version;
	int64_t size, wal_size;
	int64_t prefixes, pins, decisions;
	int64_t prefixes_held; /* not evicted: learnd_prefixes' meaning (prom.h) */
	bool paused;
	int64_t last_decision_ns;
	int64_t last_tick_ns, records, store_errors; /* learnd's daemon table; -1: absent */
};
/* Reads them; returns 0 or the exit status of a bad database (message printed). */
int lc_db_facts_read(struct lc *lc, struct lc_db_facts *f);

#endif
