// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * learnctl's connections to the database: opened, never created, and checked
 * (a regular file, SQLite, quick_check, a schema version this build knows)
 * before a command reads a row; SQLite errors as one-line messages.
 */
#include "db_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store.h" /* LD_STORE_SCHEMA_VERSION */

void ld_db_init(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static bool corrupt_rc(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
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
	const char *msg = db->db ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc);

	if (corrupt_rc(rc))
		return db_say(db, LD_DB_REFUSED, "database %s is corrupt or not a learnd database (%s: %s)", db->path,
			      what, msg);
	return db_say(db, LD_DB_FAILED, "database %s: %s: %s", db->path, what, msg);
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

/* The connection: busy timeout, extended codes, lc_sqrt().  An SQLite code;
 * db->db is set (for its message) also when it is not SQLITE_OK. */
static int db_connect(struct ld_db *db, const char *path, bool write)
{
	int rc;

	snprintf(db->path, sizeof(db->path), "%s", path);
	rc = sqlite3_open_v2(path, &db->db, (write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_busy_timeout(db->db, 5000);
	sqlite3_extended_result_codes(db->db, 1);
	sqlite3_create_function(db->db, "lc_sqrt", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_sqrt, NULL, NULL);
	return SQLITE_OK;
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
	rc = db_connect(db, path, false);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s", db->db ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc));
		rc = corrupt_rc(rc) ? LD_DB_REFUSED : LD_DB_FAILED;
		ld_db_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

/* The first column of the first row of sql as an integer, or text compared
 * with "ok" (res), or an SQLite code. */
static int pragma_row(struct ld_db *db, const char *sql, int *v, char *res, size_t reslen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(st, 0);

			if (v)
				*v = sqlite3_column_int(st, 0);
			if (res)
				snprintf(res, reslen, "%s", t ? t : "?");
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE && !res) {
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* The file's schema version, and whether SQLite can read it: the header, the
 * schema pages, then every page's structure. */
static int db_check(struct ld_db *db)
{
	char res[512];
	int rc;

	/* The header is read here: a file that is not SQLite fails now. */
	rc = pragma_row(db, "PRAGMA user_version", &db->version, NULL, 0);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "reading the schema version");
	/* A short structural check of the schema pages: catches a damaged file
	 * before any command trusts it, without reading every row. */
	rc = pragma_row(db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, 0);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "reading the schema");
	/* Every page's structure, as learnd checks at its start: a damaged page in
	 * a table a command does not read would otherwise go unnoticed, and the
	 * command print what it could read as if that were all (exit 0). */
	rc = pragma_row(db, "PRAGMA quick_check(1)", NULL, res, sizeof(res));
	if (rc == SQLITE_OK && strcmp(res, "ok"))
		return db_say(db, LD_DB_REFUSED, "database %s is corrupt (quick_check: %s); it was left as it is",
			      db->path, res);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "checking the database");
	if (db->version > LD_STORE_SCHEMA_VERSION)
		return db_say(db, LD_DB_REFUSED,
			      "database %s has schema version %d, newer than this learnctl knows (%d): use a newer learnctl",
			      db->path, db->version, LD_STORE_SCHEMA_VERSION);
	if (db->version < 1)
		return db_say(db, LD_DB_REFUSED, "database %s has no learnd schema (user_version %d)", db->path,
			      db->version);
	return 0;
}

/* What the file system says first: missing, not ours to read, not a file. */
static int check_path(struct ld_db *db, const char *path, bool write)
{
	struct stat sb;
	int rc = stat(path, &sb) ? errno : 0;

	if (rc && rc != EACCES)
		return db_say(db, LD_DB_REFUSED, "database %s: %s (is learnd's 'db' right? try --db or -c)", path,
			      strerror(rc));
	/* Not ours to read or write (learnd creates it 0600, root's): say so, and
	 * not SQLite's "unable to open database file". */
	if (rc || access(path, write ? R_OK | W_OK : R_OK)) {
		rc = errno;
		return db_say(db, LD_DB_FAILED, "database %s: %s%s", path, strerror(rc),
			      rc != EACCES ? "" : write ? " (needs read and write permission: run as root)"
						: " (needs read permission: run as root)");
	}
	if (!S_ISREG(sb.st_mode))
		return db_say(db, LD_DB_REFUSED, "database %s is not a regular file", path);
	return 0;
}

int ld_db_open(const char *path, bool write, struct ld_db **out, char *err, size_t errlen)
{
	struct ld_db *db = calloc(1, sizeof(*db));
	int rc;

	*out = NULL;
	if (!db) {
		snprintf(err, errlen, "database %s: %s", path, strerror(ENOMEM));
		return LD_DB_FAILED;
	}
	db->version = -1;
	rc = check_path(db, path, write);
	if (!rc) {
		rc = db_connect(db, path, write);
		rc = rc == SQLITE_OK ? db_check(db) : db_fail(db, rc, "open");
	}
	if (rc) {
		snprintf(err, errlen, "%s", db->err);
		ld_db_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

void ld_db_close(struct ld_db *db)
{
	if (db)
		sqlite3_close(db->db);
	free(db);
}
