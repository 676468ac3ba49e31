/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Inside the store: the one way a database file is opened, by learnd's writer
 * (store.c) and by learnctl's connections (db.c) alike.  Every fact about the
 * file is checked here once, with one message each: what the file system says
 * (missing, a dangling symbolic link, not a regular file, not readable), the
 * header (not SQLite, another program's application_id or tables: foreign.c),
 * the lock (learnd only: lock.c), SQLite's quick_check, the schema version.
 */
#ifndef LEARND_STORE_OPEN_H
#define LEARND_STORE_OPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

enum ld_open_mode {
	LD_OPEN_LEARND,  /* learnd: create if missing, lock; version 0 is new (migrate it) */
	LD_OPEN_READ,    /* learnctl readers: must exist, read-only, version 1.. */
	LD_OPEN_CONTROL, /* learnctl operator writes: must exist, read-write, never migrated */
};

struct ld_opened {
	sqlite3 *db;
	int lock_fd; /* LD_OPEN_LEARND: the flock()ed file, held until closed; else -1 */
	int version; /* PRAGMA user_version */
	bool made;   /* LD_OPEN_LEARND: the file was created here (empty) */
};

/*
 * Check and open path for mode.  Returns 0 with o filled, or a negative errno
 * with the one-line reason (naming the file) in err and nothing left open (a
 * file made here removed):
 *   -EPROTO  a schema version newer than this build knows
 *   -EILSEQ  not SQLite, another program's, corrupt, or (readers) no schema
 *   -EINVAL  not a regular file, or a symbolic link to nothing; (learnd) the
 *            file, its -wal or -shm, or its directory owned by another user
 *            than root or learnd's, or writable by group or others
 *   -ENOENT  missing (readers), or another path error (ENOTDIR, ELOOP, ...)
 *   -EBUSY   another learnd holds the lock (the message names its pid)
 *   -ENOSPC  its file system is full
 *   other    permission, I/O, memory
 */
int ld_open(const char *path, enum ld_open_mode mode, struct ld_opened *o, char *err, size_t errlen);
/* The database is at fault (the refusals above): learnd and learnctl exit 2. */
bool ld_open_refused(int rc);
/* SQLite result codes as errno (0 for OK, ROW, DONE). */
int ld_sql_errno(int rc);
/* The message for SQLite's rc while doing what, in err: "database PATH is
 * corrupt or not a learnd database (what: ...)" and -EILSEQ, or "database PATH:
 * what: ..." and its errno (never -ENOENT: the file was there). */
int ld_sql_fail(sqlite3 *db, const char *path, int rc, const char *what, char *err, size_t errlen);
/* rc, or -ENOSPC with "the disk is full" in err when that is why db failed. */
int ld_open_disk_full(sqlite3 *db, const char *path, int rc, char *err, size_t errlen);

/* foreign.c: the file's first 100 bytes, read from fd: an empty file, SQLite
 * with learnd's application_id, or a learnd database from before the mark.
 * 0 or -EILSEQ ("not a learnd database ...; it was left as it is"). */
int ld_check_foreign(int fd, const char *path, char *err, size_t errlen);
/* path as the URI "file:PATH?immutable=1" (percent-encoded): 0 or -ENAMETOOLONG. */
int ld_uri_immutable(const char *path, char *out, size_t len);
/* How a reader (learnctl) opens path in SQLite: the name and the open flags to
 * add.  A database whose directory cannot be written (a read-only mount, a
 * user who may not write there) and that has no -wal (learnd stopped
 * cleanly) is opened immutable: SQLite would otherwise need to make a -shm
 * and fail with "unable to open database file".  With a -wal but no -shm
 * there, it cannot be read at all: -EROFS (or -EACCES) and why in err. */
int ld_read_name(const char *path, char *name, size_t len, int *flags, char *err, size_t errlen);
/* lock.c: open (create: O_EXCL, mode 0600) and flock path for learnd; the
 * descriptor in *fd (-1 when open failed).  0, -EBUSY naming the holder, or
 * -errno. */
int ld_lock_db(const char *path, bool create, int *fd, char *err, size_t errlen);
/* The pid holding a flock on fd's file (a running learnd), from /proc/locks; 0: none. */
long ld_lock_holder_pid(int fd);

#endif
