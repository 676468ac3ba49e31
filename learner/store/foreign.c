// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Is the file learnd's?  Told from its header before SQLite opens it, so that
 * another program's database is refused before anything is written to it (no
 * schema, no WAL mode, no -wal or -shm): an empty file, SQLite with learnd's
 * application_id, or (no application_id) a learnd database from before the
 * mark, which has every table its user_version's migrations create.
 */
#include "open.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "store.h" /* LD_STORE_APPLICATION_ID, ld_migrations */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* path as an SQLite URI (file:...?immutable=1): every byte but [A-Za-z0-9/._-]
 * percent-encoded. */
int ld_uri_immutable(const char *path, char *out, size_t len)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (o + 4 >= len)
			return -ENAMETOOLONG;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/._-", *p))
			out[o++] = (char)*p;
		else
			o += (size_t)snprintf(out + o, len - o, "%%%02X", *p);
	}
	if (o + sizeof("?immutable=1") + 5 >= len)
		return -ENAMETOOLONG;
	memmove(out + 5, out, o);
	memcpy(out, "file:", 5);
	memcpy(out + 5 + o, "?immutable=1", sizeof("?immutable=1"));
	return 0;
}

/* A database without learnd's application_id: empty (no schema at all), or a
 * learnd database from before it was set, which has every table the
 * migrations up to its user_version create.  Read with immutable=1: no lock,
 * no -wal or -shm, nothing written.  The reference tables come from applying
 * the migrations to an in-memory database, so the list is schema/'s own. */
static int check_schema(const char *path, uint32_t version, char *err, size_t errlen)
{
	char uri[3 * 4096 + 32], missing[128] = "";
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t objects = -1;
	int rc;

	if (ld_uri_immutable(path, uri, sizeof(uri)))
		return -ENAMETOOLONG;
	rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, NULL);
	for (unsigned i = 0; rc == SQLITE_OK && i < ld_nmigrations; i++)
		if (ld_migrations[i].version <= version)
			rc = sqlite3_exec(db, ld_migrations[i].sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_prepare_v2(db, "ATTACH ?1 AS f", -1, &st, NULL)) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		sqlite3_finalize(st);
	}
	if (rc == SQLITE_OK &&
	    (rc = sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM f.sqlite_schema), (SELECT min(name) FROM "
					 "main.sqlite_schema WHERE type = 'table' AND name NOT IN (SELECT name FROM "
					 "f.sqlite_schema WHERE type = 'table'))",
				 -1, &st, NULL)) == SQLITE_OK) {
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			objects = sqlite3_column_int64(st, 0);
			if (sqlite3_column_text(st, 1))
				snprintf(missing, sizeof(missing), "%s", (const char *)sqlite3_column_text(st, 1));
			rc = SQLITE_OK;
		}
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "database %s is corrupt or not a learnd database (%s)", path, sqlite3_errmsg(db));
		rc = (rc & 0xff) == SQLITE_NOMEM ? -ENOMEM : -EILSEQ;
	} else if (version == 0 && objects > 0) {
		snprintf(err, errlen, "database %s: not a learnd database (another program's: it has tables but no learnd "
			 "schema); it was left as it is", path);
		rc = -EILSEQ;
	} else if (version > 0 && missing[0]) {
		snprintf(err, errlen, "database %s: not a learnd database (user_version %u, but no table '%s'); it was left as "
			 "it is", path, version, missing);
		rc = -EILSEQ;
	}
	sqlite3_close(db);
	return rc;
}

/* ---- the -wal: SQLite reads a page from it before the file ---- */

#define WAL_HDR 32
#define WAL_FRAME_HDR 24
#define PAGE1_HEAD 112 /* the database header and page 1's b-tree header */

/* SQLite's WAL checksum (wal.c, walChecksumBytes): over 32-bit words in the
 * byte order the WAL's magic names, continued from s[]. */
static void wal_sum(bool big, const unsigned char *a, size_t n, uint32_t s[2])
{
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint32_t x0 = big ? be32(a + i) : (uint32_t)a[i] | (uint32_t)a[i + 1] << 8 | (uint32_t)a[i + 2] << 16 |
							(uint32_t)a[i + 3] << 24;
		uint32_t x1 = big ? be32(a + i + 4) : (uint32_t)a[i + 4] | (uint32_t)a[i + 5] << 8 |
							 (uint32_t)a[i + 6] << 16 | (uint32_t)a[i + 7] << 24;

		s[0] += x0 + s[1];
		s[1] += x1 + s[0];
	}
}

/*
 * The start of page 1 as SQLite would read it with the -wal taken into
 * account: from the last committed frame of page 1 in a valid WAL (header and
 * frame checksums, salts, a commit frame after it), as SQLite's own recovery
 * finds it.  Read only: nothing is created or written, where SQLite itself
 * would make a -shm.  *found false: no -wal, or none of its frames counts.
 */
static int wal_page1(const char *path, unsigned char head[PAGE1_HEAD], bool *found, char *err, size_t errlen)
{
	char wal[4200];
	unsigned char h[WAL_HDR], fh[WAL_FRAME_HDR], *page = NULL, pend[PAGE1_HEAD];
	uint32_t ps, s[2] = { 0, 0 }, fs[2];
	bool big, have_pend = false;
	int fd, rc = 0;

	*found = false;
	if (snprintf(wal, sizeof(wal), "%s-wal", path) >= (int)sizeof(wal))
		return -ENAMETOOLONG;
	if ((fd = open(wal, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "database %s: its -wal %s: %s", path, wal, strerror(-rc));
		return rc;
	}
	if (pread(fd, h, WAL_HDR, 0) != WAL_HDR || (be32(h) & ~1u) != 0x377f0682 || be32(h + 4) != 3007000)
		goto done; /* SQLite ignores (and resets) such a -wal */
	ps = be32(h + 8);
	big = be32(h) & 1;
	wal_sum(big, h, 24, s);
	if (ps < 512 || ps > 65536 || (ps & (ps - 1)) || s[0] != be32(h + 24) || s[1] != be32(h + 28))
		goto done;
	if (!(page = malloc(ps))) {
		snprintf(err, errlen, "database %s: %s", path, strerror(ENOMEM));
		rc = -ENOMEM;
		goto done;
	}
	for (off_t off = WAL_HDR;; off += WAL_FRAME_HDR + ps) {
		if (pread(fd, fh, WAL_FRAME_HDR, off) != WAL_FRAME_HDR || pread(fd, page, ps, off + WAL_FRAME_HDR) != ps ||
		    memcmp(fh + 8, h + 16, 8) || !be32(fh))
			break;
		fs[0] = s[0];
		fs[1] = s[1];
		wal_sum(big, fh, 8, fs);
		wal_sum(big, page, ps, fs);
		if (fs[0] != be32(fh + 16) || fs[1] != be32(fh + 20))
			break;
		s[0] = fs[0];
		s[1] = fs[1];
		if (be32(fh) == 1) {
			memcpy(pend, page, PAGE1_HEAD);
			have_pend = true;
		}
		if (be32(fh + 4) && have_pend) { /* a commit: what came before it counts */
			memcpy(head, pend, PAGE1_HEAD);
			*found = true;
		}
	}
done:
	free(page);
	close(fd);
	return rc;
}

/* Tables in a page 1 (the root of sqlite_schema): a leaf with cells, or an
 * interior page (which has some below it). */
static bool page1_has_schema(const unsigned char head[PAGE1_HEAD])
{
	return head[100] == 0x05 || (head[100] == 0x0d && (head[103] << 8 | head[104]));
}

/* The file's first 100 bytes (SQLite's header), or page 1 as its -wal has it:
 * an empty file, or SQLite with learnd's application_id, or one check_schema
 * accepts.  Nothing is written before this says yes: not the schema, not WAL
 * mode, not a -wal or -shm. */
int ld_check_foreign(int fd, const char *path, char *err, size_t errlen)
{
	unsigned char hdr[PAGE1_HEAD], whead[PAGE1_HEAD];
	uint32_t app, version;
	bool in_wal;
	ssize_t n = pread(fd, hdr, sizeof(hdr), 0);
	int rc;

	if (n < 0) {
		int e = errno;

		snprintf(err, errlen, "database %s: %s", path, strerror(e));
		return -e;
	}
	if (n == 0 || (n == (ssize_t)sizeof(hdr) && be32(hdr + 68) != LD_STORE_APPLICATION_ID)) {
		/* learnd's own file says so in itself; any other, as SQLite would read it */
		if ((rc = wal_page1(path, whead, &in_wal, err, errlen)))
			return rc;
		if (in_wal && n == 0) {
			/* SQLite would delete that -wal, another program's pages */
			snprintf(err, errlen, "database %s: empty, but its -wal holds pages: not a learnd database (another "
				 "program's, or damaged); it was left as it is", path);
			return -EILSEQ;
		}
		if (in_wal) {
			memcpy(hdr, whead, sizeof(hdr));
			if (be32(hdr + 68) == 0 && be32(hdr + 60) == 0 && page1_has_schema(hdr)) {
				snprintf(err, errlen, "database %s: not a learnd database (another program's: it has tables, "
					 "in its -wal, but no learnd schema); it was left as it is", path);
				return -EILSEQ;
			}
		}
	}
	if (n == 0)
		return 0; /* empty: ours to make */
	if (n < (ssize_t)sizeof(hdr) || memcmp(hdr, "SQLite format 3", 16)) {
		snprintf(err, errlen, "database %s is corrupt or not a learnd database (not an SQLite file); it was left "
			 "as it is", path);
		return -EILSEQ;
	}
	version = be32(hdr + 60);
	app = be32(hdr + 68);
	if (app == LD_STORE_APPLICATION_ID)
		return 0;
	if (app) {
		snprintf(err, errlen, "database %s: not a learnd database (application_id 0x%08x: another program's); it was "
			 "left as it is", path, app);
		return -EILSEQ;
	}
	return check_schema(path, version < LD_STORE_SCHEMA_VERSION ? version : LD_STORE_SCHEMA_VERSION, err,
			    errlen);
}
