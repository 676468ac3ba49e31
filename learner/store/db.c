// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * learnctl's connections to the database: opened and checked by the store's
 * one open path (open.c: never created, never migrated, refused as learnd
 * refuses it) before a command reads a row; SQLite errors as one-line messages.
 */
#include "db_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "open.h"

void ld_db_init(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int db_say(struct ld_db *db, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->err, sizeof(db->err), fmt, ap);
	va_end(ap);
	return status;
}

int db_fail(struct ld_db *db, int rc, const char *what)
{
	rc = ld_sql_fail(db->db, db->path, rc, what, db->err, sizeof(db->err));
	return ld_open_refused(rc) ? LD_DB_REFUSED : LD_DB_FAILED;
}

int db_prepare(struct ld_db *db, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(db->db, sql, -1, st, NULL);

	if (rc != SQLITE_OK) {
		/* A table or view that should be there and is not: not our schema. */
		if (strstr(sqlite3_errmsg(db->db), "no such"))
			return db_say(db, LD_DB_REFUSED, "database %s does not have learnd's schema (%s)", db->path,
				      sqlite3_errmsg(db->db));
		return db_fail(db, rc, "query");
	}
	return 0;
}

int db_done(struct ld_db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	rc = rc == SQLITE_DONE ? 0 : db_fail(db, rc, what);
	sqlite3_finalize(st);
	return rc;
}

void db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

const char *ld_db_errmsg(const struct ld_db *db)
{
	return db->err;
}

const char *ld_db_sqlmsg(const struct ld_db *db)
{
	return db->db ? sqlite3_errmsg(db->db) : "out of memory";
}

int ld_db_version(const struct ld_db *db)
{
	return db->version;
}

/* lc_sqrt(x): for confidence intervals in SQL, whether or not this SQLite was
 * built with its math functions; NULL for NULL or negative x. */
static void sql_sqrt(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	double x;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL || (x = sqlite3_value_double(argv[0])) < 0) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_double(ctx, sqrt(x));
}

/* learnctl's settings of a connection: a longer busy timeout than learnd's
 * (an operator can wait for a tick), extended codes, lc_sqrt(). */
static void db_setup(struct ld_db *db, const char *path)
{
	snprintf(db->path, sizeof(db->path), "%s", path);
	sqlite3_busy_timeout(db->db, 5000);
	sqlite3_extended_result_codes(db->db, 1);
	sqlite3_create_function(db->db, "lc_sqrt", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_sqrt, NULL, NULL);
}

int ld_db_connect(const char *path, struct ld_db **out, char *err, size_t errlen)
{
	struct ld_db *db = calloc(1, sizeof(*db));
	int rc;

	*out = NULL;
	if (!db) {
		snprintf(err, errlen, "%s", sqlite3_errstr(SQLITE_NOMEM));
		return LD_DB_FAILED;
	}
	char name[3 * 4096 + 32];
	int extra;

	if (ld_read_name(path, name, sizeof(name), &extra, err, errlen)) {
		ld_db_close(db);
		return LD_DB_FAILED;
	}
	rc = sqlite3_open_v2(name, &db->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | extra, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s", db->db ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc));
		rc = ld_sql_errno(rc) == -EILSEQ ? LD_DB_REFUSED : LD_DB_FAILED;
		ld_db_close(db);
		return rc;
	}
	db_setup(db, path);
	*out = db;
	return 0;
}

int ld_db_open(const char *path, bool write, struct ld_db **out, char *err, size_t errlen)
{
	struct ld_db *db = calloc(1, sizeof(*db));
	struct ld_opened o;
	int rc;

	*out = NULL;
	if (!db) {
		snprintf(err, errlen, "database %s: %s", path, strerror(ENOMEM));
		return LD_DB_FAILED;
	}
	rc = ld_open(path, write ? LD_OPEN_CONTROL : LD_OPEN_READ, &o, err, errlen);
	if (rc) {
		free(db);
		return ld_open_refused(rc) ? LD_DB_REFUSED : LD_DB_FAILED;
	}
	db->db = o.db;
	db->version = o.version;
	db_setup(db, path);
	*out = db;
	return 0;
}

void ld_db_close(struct ld_db *db)
{
	if (db)
		sqlite3_close(db->db);
	free(db);
}
