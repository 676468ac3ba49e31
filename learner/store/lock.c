// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One learnd per database: a second one would count every record again and
 * fight over the slots.  A flock() on the database file itself, named with
 * its holder when it is taken.
 */
#include "open.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

long ld_lock_holder_pid(int fd)
{
	char line[256], want[64];
	struct stat sb;
	long pid = 0;
	FILE *f;

	if (fstat(fd, &sb) || !(f = fopen("/proc/locks", "re")))
		return 0;
	snprintf(want, sizeof(want), ":%lu ", (unsigned long)sb.st_ino);
	while (!pid && fgets(line, sizeof(line), f))
		if (strstr(line, " FLOCK ") && strstr(line, want) && sscanf(line, "%*s FLOCK %*s %*s %ld", &pid) != 1)
			pid = 0;
	fclose(f);
	return pid;
}

/* The holder of the flock on fd's file: "pid N (command)". */
static void lock_holder(int fd, char *out, size_t len)
{
	char line[256], cmd[128] = "";
	long pid = ld_lock_holder_pid(fd);
	FILE *f;

	snprintf(out, len, "another process");
	if (!pid)
		return;
	snprintf(line, sizeof(line), "/proc/%ld/cmdline", pid);
	f = fopen(line, "re");
	if (f) {
		size_t n = fread(cmd, 1, sizeof(cmd) - 1, f);

		for (size_t i = 0; i + 1 < n; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		cmd[n] = '\0';
		fclose(f);
	}
	snprintf(out, len, "pid %ld%s%s%s", pid, cmd[0] ? " (" : "", cmd, cmd[0] ? ")" : "");
}

/* Another process holding a flock on a file that was path and is now
 * removed: a learnd whose database was deleted under it (rm learnd.db*), which
 * still runs until its next tick notices.  Its pid (0: none), from /proc/locks
 * and its descriptors' names ("PATH (deleted)"). */
static long orphan_holder(const char *path, dev_t dev, ino_t mine)
{
	char line[256], abs[PATH_MAX], want[PATH_MAX + 16], dir[PATH_MAX], *slash;
	const char *base = path;
	long found = 0;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		base = path + (slash - dir) + 1;
		slash[slash == dir] = '\0';
	} else {
		snprintf(dir, sizeof(dir), ".");
	}
	if (!realpath(dir, abs) || snprintf(want, sizeof(want), "%s%s%s (deleted)", abs, strcmp(abs, "/") ? "/" : "",
					    base) >= (int)sizeof(want))
		return 0;
	if (!(f = fopen("/proc/locks", "re")))
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long ino;
		unsigned maj, min;
		long pid;
		char fdpath[64], link[PATH_MAX + 16];
		struct dirent *e;
		DIR *d;

		/* a removed file of that directory: on its file system */
		if (sscanf(line, "%*s FLOCK %*s %*s %ld %x:%x:%lu", &pid, &maj, &min, &ino) != 4 || pid == getpid() ||
		    ino == mine || makedev(maj, min) != dev)
			continue;
		snprintf(fdpath, sizeof(fdpath), "/proc/%ld/fd", pid);
		if (!(d = opendir(fdpath)))
			continue;
		while (!found && (e = readdir(d))) {
			char lp[320];
			ssize_t n;

			snprintf(lp, sizeof(lp), "%s/%s", fdpath, e->d_name);
			n = readlink(lp, link, sizeof(link) - 1);
			if (n > 0 && (link[n] = '\0', !strcmp(link, want)))
				found = pid;
		}
		closedir(d);
	}
	fclose(f);
	return found;
}

/* flock() on the database file itself (SQLite's own
 * locks are fcntl() locks, which do not see it), held until ld_store_close;
 * the kernel drops it however learnd dies. */
int ld_lock_db(const char *path, bool create, int *lock_fd, char *err, size_t errlen)
{
	char who[200];
	/* the history says what every peer did: created readable by root only */
	int fd = create ? open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600) : open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "database %s: %s", path, strerror(e));
		return -e;
	}
	*lock_fd = fd;
	if (!flock(fd, LOCK_EX | LOCK_NB)) {
		struct stat sb;
		long orphan = fstat(fd, &sb) ? 0 : orphan_holder(path, sb.st_dev, sb.st_ino);

		if (!orphan)
			return 0;
		snprintf(err, errlen, "database %s was removed under a learnd that still runs, pid %ld: one learnd per "
			 "database (it stops at its next tick; start this one after it)", path, orphan);
		if (create) { /* made here: not left behind */
			close(fd);
			unlink(path);
			*lock_fd = -1;
		}
		return -EBUSY;
	}
	if (errno != EWOULDBLOCK) {
		int e = errno;

		snprintf(err, errlen, "database %s: cannot lock it: %s", path, strerror(e));
		return -e;
	}
	lock_holder(fd, who, sizeof(who));
	snprintf(err, errlen, "database %s is in use by another learnd, %s: one learnd per database (give this "
		 "one its own db)", path, who);
	return -EBUSY;
}

