// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One learnd per database: a second one would count every record again and
 * fight over the slots.  A flock() on the database file itself, named with
 * its holder when it is taken.
 */
#include "open.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The holder of the flock on fd's file, from /proc/locks: "pid N (command)". */
static void lock_holder(int fd, char *out, size_t len)
{
	char line[256], want[64], cmd[128] = "";
	struct stat sb;
	long pid = 0;
	FILE *f;

	snprintf(out, len, "another process");
	if (fstat(fd, &sb) || !(f = fopen("/proc/locks", "re")))
		return;
	snprintf(want, sizeof(want), ":%lu ", (unsigned long)sb.st_ino);
	while (!pid && fgets(line, sizeof(line), f))
		if (strstr(line, " FLOCK ") && strstr(line, want) && sscanf(line, "%*s FLOCK %*s %*s %ld", &pid) != 1)
			pid = 0;
	fclose(f);
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
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return 0;
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

