// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The operator's writes (learnctl pin, unpin, pause, resume): pins, the
 * paused flag of control, and a row of operator_log each, in a transaction
 * learnctl opens.  learnd reads them every tick (ld_store_pins, ld_store_paused).
 */
#include "db_int.h"

#include <stdio.h>
#include <string.h>
#include "learnd_vocab.h"

static int db_exec(struct ld_db *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		int status = (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB ? LD_DB_REFUSED : LD_DB_FAILED;

		db_say(db, status, "database %s: %s", db->path, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return status;
	}
	return 0;
}

int ld_db_begin(struct ld_db *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int ld_db_commit(struct ld_db *db)
{
	return db_exec(db, "COMMIT");
}

void ld_db_rollback(struct ld_db *db)
{
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
}

int ld_db_pin_get(struct ld_db *db, const char *cidr, bool *found, int64_t vals[LEARND_PARAM__MAX])
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, "SELECT iw, rwnd, syn_rto_ms, base_rtt_us FROM pins WHERE cidr = ?1", &st);

	*found = false;
	for (int p = 0; p < LEARND_PARAM__MAX; p++)
		vals[p] = -1;
	if (rc)
		return rc;
	db_bind_text(st, 1, cidr);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = true;
		for (int p = 0; p < LEARND_PARAM__MAX; p++)
			if (sqlite3_column_type(st, p) != SQLITE_NULL)
				vals[p] = sqlite3_column_int64(st, p);
		rc = SQLITE_DONE;
	}
	rc = rc == SQLITE_DONE ? 0 : db_fail(db, rc, "pins");
	sqlite3_finalize(st);
	return rc;
}

int ld_db_pin_put(struct ld_db *db, const char *cidr, const int64_t vals[LEARND_PARAM__MAX], int64_t ts_ns,
		  const char *who)
{
	sqlite3_stmt *st;
	/* Parameters not named keep an earlier pin. */
	int rc = db_prepare(db,
			    "INSERT INTO pins(cidr, iw, rwnd, syn_rto_ms, base_rtt_us, ts_ns, who) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
			    "ON CONFLICT(cidr) DO UPDATE SET "
			    "iw = coalesce(excluded.iw, iw), rwnd = coalesce(excluded.rwnd, rwnd), "
			    "syn_rto_ms = coalesce(excluded.syn_rto_ms, syn_rto_ms), "
			    "base_rtt_us = coalesce(excluded.base_rtt_us, base_rtt_us), "
			    "ts_ns = excluded.ts_ns, who = excluded.who",
			    &st);

	if (rc)
		return rc;
	db_bind_text(st, 1, cidr);
	for (int p = 0; p < LEARND_PARAM__MAX; p++) {
		if (vals[p] >= 0)
			sqlite3_bind_int64(st, 2 + p, vals[p]);
		else
			sqlite3_bind_null(st, 2 + p);
	}
	sqlite3_bind_int64(st, 6, ts_ns);
	db_bind_text(st, 7, who);
	return db_done(db, st, "pins");
}

int ld_db_pin_clear(struct ld_db *db, const char *cidr, const bool *which, int64_t ts_ns, const char *who)
{
	sqlite3_stmt *st;
	int rc;

	if (!which) {
		rc = db_prepare(db, "DELETE FROM pins WHERE cidr = ?1", &st);
		if (rc)
			return rc;
		db_bind_text(st, 1, cidr);
		return db_done(db, st, "pins");
	}
	rc = db_prepare(db,
			"UPDATE pins SET iw = CASE WHEN ?2 THEN NULL ELSE iw END, "
			"rwnd = CASE WHEN ?3 THEN NULL ELSE rwnd END, "
			"syn_rto_ms = CASE WHEN ?4 THEN NULL ELSE syn_rto_ms END, "
			"base_rtt_us = CASE WHEN ?5 THEN NULL ELSE base_rtt_us END, "
			"ts_ns = ?6, who = ?7 WHERE cidr = ?1",
			&st);
	if (rc)
		return rc;
	db_bind_text(st, 1, cidr);
	for (int p = 0; p < LEARND_PARAM__MAX; p++)
		sqlite3_bind_int(st, 2 + p, which[p]);
	sqlite3_bind_int64(st, 6, ts_ns);
	db_bind_text(st, 7, who);
	return db_done(db, st, "pins");
}

int ld_db_set_paused(struct ld_db *db, bool paused)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, "INSERT OR REPLACE INTO control(key, value) VALUES ('paused', ?1)", &st);

	if (rc)
		return rc;
	db_bind_text(st, 1, paused ? "1" : "0");
	return db_done(db, st, "control");
}

int ld_db_log(struct ld_db *db, int64_t ts_ns, const char *who, const char *action, const char *cidr,
	      const char *detail)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, "INSERT INTO operator_log(ts_ns, who, action, cidr, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
			    &st);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, ts_ns);
	db_bind_text(st, 2, who);
	db_bind_text(st, 3, action);
	db_bind_text(st, 4, cidr);
	db_bind_text(st, 5, detail);
	return db_done(db, st, "operator_log");
}
