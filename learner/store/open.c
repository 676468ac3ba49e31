// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Opening a database, for learnd and learnctl alike (open.h): each check in
 * the order of the refusal policy (docs/store.md), each fact with one message.
 * Nothing is written to a file before it passed them all.
 */
#include "open.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store.h" /* LD_STORE_SCHEMA_VERSION */

int ld_sql_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return -EILSEQ;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_NOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

bool ld_open_refused(int rc)
{
	return rc == -EPROTO || rc == -EILSEQ || rc == -EINVAL || rc == -ENOENT;
}

/* A full disk is a runtime condition (exit 1, systemd restarts), not a bad
 * file: SQLite says "disk I/O error", the errno says ENOSPC. */
int ld_open_disk_full(sqlite3 *db, const char *path, int rc, char *err, size_t errlen)
{
	if (!db || ((sqlite3_extended_errcode(db) & 0xff) != SQLITE_FULL && sqlite3_system_errno(db) != ENOSPC))
		return rc;
	snprintf(err, errlen, "database %s: the disk is full (%s): free space on its file system", path,
		 strerror(ENOSPC));
	return -ENOSPC;
}

int ld_sql_fail(sqlite3 *db, const char *path, int rc, const char *what, char *err, size_t errlen)
{
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
	int e = ld_sql_errno(rc);

	if (e == -EILSEQ)
		snprintf(err, errlen, "database %s is corrupt or not a learnd database (%s: %s)", path, what, msg);
	else
		snprintf(err, errlen, "database %s: %s: %s", path, what, msg);
	return e == -ENOENT || !e ? -EIO : e;
}

/* A missing file learnd creates, readers are told where to look. */
static int path_missing(const char *path, enum ld_open_mode mode, bool *create, char *err, size_t errlen)
{
	struct stat sb;
	int e = errno;

	if (e == ENOENT && !lstat(path, &sb) && S_ISLNK(sb.st_mode)) {
		char target[4096];
		ssize_t n = readlink(path, target, sizeof(target) - 1);

		target[n > 0 ? n : 0] = '\0';
		snprintf(err, errlen, "database %s: a symbolic link to %s, which does not exist (make the link point "
			 "at a database, or remove it)", path, target);
		return -EINVAL;
	}
	if (e == ENOENT && mode == LD_OPEN_LEARND) {
		*create = true;
		return 0;
	}
	if (mode == LD_OPEN_LEARND) {
		snprintf(err, errlen, "database %s: %s", path, strerror(e));
		return -e;
	}
	if (e == EACCES)
		return -e; /* check_path's access() says why */
	snprintf(err, errlen, "database %s: %s (is learnd's 'db' right? try --db or -c)", path, strerror(e));
	return -ENOENT; /* ENOTDIR, ELOOP, ...: the path is wrong, like a missing file */
}

/* What the file system says before SQLite does: missing (created by learnd), a
 * dangling symbolic link, not a regular file, not readable (or writable). */
static int check_path(const char *path, enum ld_open_mode mode, bool *create, char *err, size_t errlen)
{
	struct stat sb;
	int rc = 0;

	*create = false;
	if (stat(path, &sb))
		rc = path_missing(path, mode, create, err, errlen);
	else if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "database %s: not a regular file", path);
		return -EINVAL;
	}
	if ((rc && rc != -EACCES) || mode == LD_OPEN_LEARND)
		return rc; /* learnd: check_dir */
	/* learnd makes it 0600, root's: say so, not "unable to open database file" */
	if (rc || access(path, mode == LD_OPEN_CONTROL ? R_OK | W_OK : R_OK)) {
		int e = errno;

		snprintf(err, errlen, "database %s: %s%s", path, strerror(e),
			 e != EACCES ? "" : mode == LD_OPEN_CONTROL ? " (needs read and write permission: run as root)"
								    : " (needs read permission: run as root)");
		return -e;
	}
	return 0;
}

/* In WAL mode the directory is written too (-wal and -shm): a read-only one
 * fails here with its cause, not in SQLite as "unable to open database file",
 * which reads like a corrupt file (and exits 2). */
static int check_dir(const char *path, bool create, char *err, size_t errlen)
{
	char dir[4096], *slash;
	int rc;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = '\0';
	if (!access(dir, W_OK | X_OK) && (create || !access(path, R_OK | W_OK)))
		return 0;
	rc = -errno;
	snprintf(err, errlen, "database %s: %s (learnd writes it and its -wal and -shm files in %s)", path,
		 strerror(-rc), dir);
	return rc;
}

/* "uid 65534 (nobody)" */
static void user_name(uid_t uid, char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (!getpwuid_r(uid, &pw, buf, sizeof(buf), &res) && res)
		snprintf(out, len, "uid %u (%s)", (unsigned)uid, res->pw_name);
	else
		snprintf(out, len, "uid %u", (unsigned)uid);
}

/* One file or directory learnd keeps its history in: owned by root or by
 * learnd's user, writable by no one else.  what: NULL (the database itself),
 * "its -wal", "its directory" (then named). */
static int check_one_owner(const char *path, const char *name, const char *what, bool dir, char *err, size_t errlen)
{
	struct stat sb;
	uid_t me = geteuid();
	char who[160];

	if (stat(name, &sb))
		return 0; /* none (a -wal), or the checks before said why */
	if ((sb.st_uid == 0 || sb.st_uid == me) && !(sb.st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	user_name(sb.st_uid, who, sizeof(who));
	snprintf(err, errlen, "database %s: %s%s%s%sowned by %s with mode %04o: %s (learnd keeps its history "
		 "only where no other user can write: %s)", path, what ? what : "", what ? " " : "", what ? name : "",
		 what ? " is " : "", who, (unsigned)(sb.st_mode & 07777),
		 sb.st_uid != 0 && sb.st_uid != me ? "another user's" : "writable by other users",
		 dir ? "a directory of root's (or learnd's user's) that only its owner can write, e.g. /var/lib/learnd"
		     : "make it root's and not writable by others, or remove it");
	return -EINVAL;
}

/* learnd: the database, its -wal and -shm (SQLite uses those it finds), and
 * the directory they are in (whoever may write it may replace the database or
 * plant a -wal before learnd makes one): refused when another user owns one
 * or may write it, naming owner and mode.  Not taken over: nothing is changed. */
static int check_owner(const char *path, char *err, size_t errlen)
{
	char dir[2][4096], real[PATH_MAX], side[4200], *slash;
	int rc;

	/* the directory of the path, and of the file it leads to */
	for (int i = 0; i < 2; i++) {
		snprintf(dir[i], sizeof(dir[i]), "%s", i && realpath(path, real) ? real : path);
		slash = strrchr(dir[i], '/');
		if (!slash)
			snprintf(dir[i], sizeof(dir[i]), ".");
		else
			slash[slash == dir[i]] = '\0';
		if ((!i || strcmp(dir[0], dir[1])) && (rc = check_one_owner(path, dir[i], "its directory", true, err, errlen)))
			return rc;
	}
	if ((rc = check_one_owner(path, path, NULL, false, err, errlen)))
		return rc;
	for (int i = 0; i < 2; i++) {
		snprintf(side, sizeof(side), "%s%s", path, i ? "-shm" : "-wal");
		if ((rc = check_one_owner(path, side, i ? "its -shm" : "its -wal", false, err, errlen)))
			return rc;
	}
	return 0;
}

/* learnctl, while a learnd holds the database (pid): SQLite's -shm, the
 * index of the -wal that every connection shares, must be the one learnd has
 * mapped.  One removed (and maybe made anew by a later learnctl) splits them:
 * what learnctl writes, learnd never sees, and the two may overwrite each
 * other's frames.  Refused, naming it; learnd itself stops at its next tick.
 * A learnd's maps this user may not read say nothing: not refused then. */
static int check_shm(const char *path, long pid, char *err, size_t errlen)
{
	char shm[4200], real[PATH_MAX], maps[64], line[4400], del[4300];
	unsigned long ino, mapped = 0;
	bool deleted = false, readable;
	struct stat sb;
	FILE *f;

	snprintf(shm, sizeof(shm), "%s-shm", realpath(path, real) ? real : path);
	snprintf(del, sizeof(del), "%s (deleted)", shm);
	snprintf(maps, sizeof(maps), "/proc/%ld/maps", pid);
	readable = (f = fopen(maps, "re")) != NULL;
	while (f && fgets(line, sizeof(line), f)) {
		int at = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%*s %*s %*s %*s %lu %n", &ino, &at) < 1 || !at)
			continue;
		if (!strcmp(line + at, shm))
			mapped = ino;
		else if (!strcmp(line + at, del))
			deleted = true;
	}
	if (f)
		fclose(f);
	if (stat(shm, &sb)) {
		snprintf(err, errlen, "database %s: its -shm is missing while learnd (pid %ld) has it open: a write now "
			 "would not reach learnd (it stops at its next tick; run this again once it was restarted)", path, pid);
		return -EBUSY;
	}
	if (readable && (deleted || (mapped && mapped != (unsigned long)sb.st_ino))) {
		snprintf(err, errlen, "database %s: its -shm was replaced while learnd (pid %ld) has it open: a write now "
			 "would not reach learnd (it stops at its next tick; run this again once it was restarted)", path, pid);
		return -EBUSY;
	}
	return 0;
}

/* Before SQLite opens it: learnd takes the lock (creating the file when
 * create), the others open it to read; then the header (ld_check_foreign)
 * unless the file is new. */
static int check_file(const char *path, enum ld_open_mode mode, bool create, struct ld_opened *o, char *err,
		      size_t errlen)
{
	int rc = 0, fd;

	if (mode == LD_OPEN_LEARND) {
		rc = ld_lock_db(path, create, &o->lock_fd, err, errlen);
		fd = o->lock_fd;
		o->made = create && fd >= 0;
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "database %s: %s", path, strerror(-rc));
	}
	if (!rc && !create)
		rc = ld_check_foreign(fd, path, err, errlen);
	if (!rc && mode != LD_OPEN_LEARND) {
		long pid = ld_lock_holder_pid(fd);

		if (pid)
			rc = check_shm(path, pid, err, errlen);
	}
	if (mode != LD_OPEN_LEARND && fd >= 0)
		close(fd);
	return rc;
}

/* The directory path is in ("." for a bare name). */
static void dir_of(const char *path, char *dir, size_t len)
{
	char *slash;

	snprintf(dir, len, "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, len, ".");
	else
		slash[slash == dir] = '\0';
}

int ld_read_name(const char *path, char *name, size_t len, int *flags, char *err, size_t errlen)
{
	char dir[4096], side[4200];
	int e;

	*flags = 0;
	dir_of(path, dir, sizeof(dir));
	if (!access(dir, W_OK)) {
		snprintf(name, len, "%s", path);
		return 0;
	}
	e = errno;
	snprintf(side, sizeof(side), "%s-wal", path);
	if (access(side, F_OK)) {
		*flags = SQLITE_OPEN_URI;
		if (ld_uri_immutable(path, name, len)) {
			snprintf(err, errlen, "database %s: %s", path, strerror(ENAMETOOLONG));
			return -ENAMETOOLONG;
		}
		return 0;
	}
	snprintf(side, sizeof(side), "%s-shm", path);
	if (access(side, R_OK)) {
		snprintf(err, errlen, "database %s: a -wal but no -shm, in a directory this user cannot write (%s: %s): SQLite "
			 "cannot read it so (learnd did not stop cleanly; read it where it can be written, or as its owner)",
			 path, dir, strerror(e));
		return -e;
	}
	snprintf(name, len, "%s", path);
	return 0;
}

/* The first column of the first row of sql: an integer (v), or text (res). */
static int pragma_row(sqlite3 *db, const char *sql, int *v, char *res, size_t reslen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

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

/* What SQLite says of the open file: the header, the schema pages, every
 * page's structure (quick_check: a damaged page of a table nobody reads yet is
 * found now, not later), then the schema version. */
static int check_sqlite(const char *path, enum ld_open_mode mode, struct ld_opened *o, char *err, size_t errlen)
{
	const char *who = mode == LD_OPEN_LEARND ? "learnd" : "learnctl";
	char res[512];
	int rc;

	if ((rc = pragma_row(o->db, "PRAGMA user_version", &o->version, NULL, 0)) != SQLITE_OK)
		return ld_sql_fail(o->db, path, rc, "reading the schema version", err, errlen);
	if ((rc = pragma_row(o->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, 0)) != SQLITE_OK)
		return ld_sql_fail(o->db, path, rc, "reading the schema", err, errlen);
	if ((rc = pragma_row(o->db, "PRAGMA quick_check(1)", NULL, res, sizeof(res))) != SQLITE_OK)
		return ld_sql_fail(o->db, path, rc, "checking the database", err, errlen);
	if (strcmp(res, "ok")) {
		snprintf(err, errlen, "database %s is corrupt (quick_check: %s); it was left as it is", path, res);
		return -EILSEQ;
	}
	if (o->version > LD_STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "database %s has schema version %d, newer than this %s knows (%d): use a newer %s",
			 path, o->version, who, LD_STORE_SCHEMA_VERSION, who);
		return -EPROTO;
	}
	if (o->version < 1 && mode != LD_OPEN_LEARND) {
		snprintf(err, errlen, "database %s: not a learnd database (no schema, user_version %d); it was left "
			 "as it is", path, o->version);
		return -EILSEQ;
	}
	return 0;
}

static void opened_close(struct ld_opened *o, const char *path, int rc)
{
	sqlite3_close(o->db);
	/* after SQLite's close: closing any descriptor of the file drops the
	 * process's fcntl() locks on it, SQLite's included */
	if (o->lock_fd >= 0)
		close(o->lock_fd);
	if (o->made && rc != -EBUSY)
		unlink(path); /* made here, and nothing in it: a failed first start leaves nothing behind */
	*o = (struct ld_opened){ .lock_fd = -1, .version = -1 };
}

int ld_open(const char *path, enum ld_open_mode mode, struct ld_opened *o, char *err, size_t errlen)
{
	int flags = mode == LD_OPEN_READ ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE, extra = 0;
	char name[3 * 4096 + 32];
	bool create;
	int rc;

	*o = (struct ld_opened){ .lock_fd = -1, .version = -1 };
	rc = check_path(path, mode, &create, err, errlen);
	if (!rc && mode == LD_OPEN_LEARND)
		rc = check_dir(path, create, err, errlen);
	if (!rc && mode == LD_OPEN_LEARND)
		rc = check_owner(path, err, errlen);
	if (!rc)
		rc = check_file(path, mode, create, o, err, errlen);
	if (rc) {
		opened_close(o, path, rc);
		return rc;
	}
	if (mode == LD_OPEN_READ && (rc = ld_read_name(path, name, sizeof(name), &extra, err, errlen))) {
		opened_close(o, path, rc);
		return rc;
	}
	rc = sqlite3_open_v2(mode == LD_OPEN_READ ? name : path, &o->db, flags | extra | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		rc = ld_sql_fail(o->db, path, rc, "open", err, errlen);
	if (!rc) {
		sqlite3_busy_timeout(o->db, 2000);
		sqlite3_extended_result_codes(o->db, 1);
		rc = check_sqlite(path, mode, o, err, errlen);
	}
	if (rc) {
		rc = ld_open_disk_full(o->db, path, rc, err, errlen);
		opened_close(o, path, rc);
	}
	return rc;
}
