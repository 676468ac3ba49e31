/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Direct SQL for the store's tests (what `sqlite3 learnd.db`, learnctl or an
 * operator would do on a connection of their own).  Header-only.
 */
#ifndef LEARND_TEST_SQLUTIL_H
#define LEARND_TEST_SQLUTIL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A connection (5 s busy timeout), or NULL (printed). */
static inline sqlite3 *t_sql_open(const char *path, bool write)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		printf("    sqlite3_open %s: %s\n", path, db ? sqlite3_errmsg(db) : "?");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* First column of the first row as an integer; if_null when it is NULL, -1
 * when there is no row or the SQL fails (printed). */
static inline int64_t t_sql_int(sqlite3 *db, const char *sql, int64_t if_null)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (!db || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		printf("    SQL error: %s: %s\n", sql, db ? sqlite3_errmsg(db) : "no db");
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? if_null : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A fresh directory $TMPDIR/learnd-test-NAME.XXXXXX for a test's databases;
 * false (printed) when it cannot be made. */
static inline bool t_db_dir(char *dir, size_t len, const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, len, "%s/learnd-test-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return false;
	}
	return true;
}

/* When every test passed, the databases (with -wal and -shm) and the directory
 * go; else they are kept for a look, and the directory is named. */
static inline void t_db_dir_done(const char *dir, const char *const *files, size_t n, bool passed)
{
	if (!passed) {
		printf("files kept in %s\n", dir);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char p[4300];

		for (int k = 0; k < 3; k++) {
			snprintf(p, sizeof(p), "%s/%s%s", dir, files[i], k == 0 ? "" : k == 1 ? "-wal" : "-shm");
			unlink(p);
		}
	}
	rmdir(dir);
}

#endif
