// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "ctldb.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store.h" /* LD_STORE_SCHEMA_VERSION, LD_DAEMON_*: the daemon table's keys */

static int found_version;

int lc_db_version(void)
{
	return found_version;
}

static bool corrupt_rc(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

int lc_db_error(struct lc *lc, sqlite3 *db, int rc, const char *what)
{
	if (corrupt_rc(rc))
		return lc_fail(lc, LC_EXIT_USAGE, "database %s is corrupt or not a learnd database (%s: %s)", lc->db, what,
			       db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return lc_fail(lc, LC_EXIT_FAIL, "database %s: %s: %s", lc->db, what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

int lc_db_prepare(struct lc *lc, sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);

	if (rc != SQLITE_OK) {
		/* A table or view that should be there and is not: not our schema. */
		if (strstr(sqlite3_errmsg(db), "no such"))
			return lc_fail(lc, LC_EXIT_USAGE, "database %s does not have learnd's schema (%s)", lc->db,
				       sqlite3_errmsg(db));
		return lc_db_error(lc, db, rc, "query");
	}
	return 0;
}

int lc_db_exec(struct lc *lc, sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		int status = corrupt_rc(rc) ? LC_EXIT_USAGE : LC_EXIT_FAIL;

		lc_fail(lc, status, "database %s: %s", lc->db, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return status;
	}
	return 0;
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

int lc_db_connect(const char *path, bool write, sqlite3 **db)
{
	int rc = sqlite3_open_v2(path, db, (write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX,
				 NULL);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_busy_timeout(*db, 5000);
	sqlite3_extended_result_codes(*db, 1);
	sqlite3_create_function(*db, "lc_sqrt", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_sqrt, NULL, NULL);
	return SQLITE_OK;
}

/* The file's schema version, and whether SQLite can read it: the header, the
 * schema pages, then every page's structure.  0 or an exit status (printed). */
static int db_check(struct lc *lc, sqlite3 *db, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc;

	/* The header is read here: a file that is not SQLite fails now. */
	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*version = sqlite3_column_int(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_OK)
		return lc_db_error(lc, db, rc, "reading the schema version");
	/* A short structural check of the schema pages: catches a damaged file
	 * before any command trusts it, without reading every row. */
	rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st) == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(db);
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return lc_db_error(lc, db, rc, "reading the schema");
	/* Every page's structure, as learnd checks at its start: a damaged page in
	 * a table a command does not read would otherwise go unnoticed, and the
	 * command print what it could read as if that were all (exit 0). */
	rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *res = (const char *)sqlite3_column_text(st, 0);

		if (!res || strcmp(res, "ok")) {
			int status = lc_fail(lc, LC_EXIT_USAGE, "database %s is corrupt (quick_check: %s); it was left as it is",
					     lc->db, res ? res : "?");

			sqlite3_finalize(st);
			return status;
		}
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return lc_db_error(lc, db, rc, "checking the database");
	return 0;
}

int lc_db_open(struct lc *lc, bool write, sqlite3 **out)
{
	sqlite3 *db = NULL;
	struct stat sb;
	int rc, version = -1;

	*out = NULL;
	rc = stat(lc->db, &sb) ? errno : 0;
	if (rc && rc != EACCES)
		return lc_fail(lc, LC_EXIT_USAGE, "database %s: %s (is learnd's 'db' right? try --db or -c)", lc->db,
			       strerror(rc));
	/* Not ours to read or write (learnd creates it 0600, root's): say so, and
	 * not SQLite's "unable to open database file". */
	if (rc || access(lc->db, write ? R_OK | W_OK : R_OK)) {
		rc = errno;
		return lc_fail(lc, LC_EXIT_FAIL, "database %s: %s%s", lc->db, strerror(rc),
			       rc != EACCES ? "" : write ? " (needs read and write permission: run as root)"
							 : " (needs read permission: run as root)");
	}
	if (!S_ISREG(sb.st_mode))
		return lc_fail(lc, LC_EXIT_USAGE, "database %s is not a regular file", lc->db);
	rc = lc_db_connect(lc->db, write, &db);
	if (rc != SQLITE_OK) {
		int status = lc_db_error(lc, db, rc, "open");

		sqlite3_close(db);
		return status;
	}
	rc = db_check(lc, db, &version);
	if (rc) {
		sqlite3_close(db);
		return rc;
	}
	found_version = version;
	if (version > LD_STORE_SCHEMA_VERSION) {
		sqlite3_close(db);
		return lc_fail(lc, LC_EXIT_USAGE,
			       "database %s has schema version %d, newer than this learnctl knows (%d): use a newer learnctl",
			       lc->db, version, LD_STORE_SCHEMA_VERSION);
	}
	if (version < 1) {
		sqlite3_close(db);
		return lc_fail(lc, LC_EXIT_USAGE, "database %s has no learnd schema (user_version %d)", lc->db, version);
	}
	*out = db;
	return 0;
}

void lc_db_close(sqlite3 *db)
{
	sqlite3_close(db);
}

const char *lc_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

bool lc_col_null(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL;
}

static int64_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? -1 : (int64_t)sb.st_size;
}

static int64_t scalar(sqlite3 *db, const char *sql, int64_t dflt)
{
	sqlite3_stmt *st;
	int64_t v = dflt;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return dflt;
	if (sqlite3_step(st) == SQLITE_ROW && !lc_col_null(st, 0))
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Reads the database facts; returns 0 or the exit status of a bad database. */
int lc_db_facts_read(struct lc *lc, struct lc_db_facts *f)
{
	char wal[PATH_MAX + 8];
	sqlite3 *db;
	int rc;

	memset(f, 0, sizeof(*f));
	f->size = file_size(lc->db);
	snprintf(wal, sizeof(wal), "%s-wal", lc->db);
	f->wal_size = file_size(wal);
	rc = lc_db_open(lc, false, &db);
	if (rc)
		return rc;
	f->ok = true;
	f->version = lc_db_version();
	f->prefixes = scalar(db, "SELECT count(*) FROM prefixes", -1);
	f->prefixes_held = scalar(db, "SELECT count(*) FROM prefixes WHERE evicted_ns IS NULL", -1);
	f->pins = scalar(db, "SELECT count(*) FROM pins", -1);
	f->decisions = scalar(db, "SELECT count(*) FROM decisions", -1);
	f->last_decision_ns = scalar(db, "SELECT max(ts_ns) FROM decisions", 0);
	f->paused = scalar(db, "SELECT value = '1' FROM control WHERE key = 'paused'", 0) == 1;
	f->last_tick_ns = scalar(db, "SELECT value FROM daemon WHERE key = '" LD_DAEMON_LAST_TICK "'", -1);
	f->records = scalar(db, "SELECT value FROM daemon WHERE key = '" LD_DAEMON_RECORDS "'", -1);
	f->store_errors = scalar(db, "SELECT value FROM daemon WHERE key = '" LD_DAEMON_STORE_ERRORS "'", -1);
	lc_db_close(db);
	return 0;
}
