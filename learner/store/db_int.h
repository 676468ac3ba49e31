/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What db.c, query.c and control.c share: learnctl's connection and its errors. */
#ifndef LEARND_STORE_DB_INT_H
#define LEARND_STORE_DB_INT_H

#include <sqlite3.h>
#include "query.h"

struct ld_db {
	sqlite3 *db;
	int version;
	char path[4096];
	char err[1024];
};

/* db->err = the message; returns status. */
int db_say(struct ld_db *db, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* After SQLite said rc (not ROW/DONE): "database PATH: what: ..." (or that it
 * is corrupt) in db->err; LD_DB_REFUSED or LD_DB_FAILED. */
int db_fail(struct ld_db *db, int rc, const char *what);
/* Prepare sql; a missing table or view is "not learnd's schema". */
int db_prepare(struct ld_db *db, const char *sql, sqlite3_stmt **st);
/* Step a statement without results to its end and finalize it. */
int db_done(struct ld_db *db, sqlite3_stmt *st, const char *what);
/* Bind text, or NULL for NULL. */
void db_bind_text(sqlite3_stmt *st, int i, const char *s);

#endif
