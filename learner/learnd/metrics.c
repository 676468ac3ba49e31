// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE /* mkostemps */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "prom.h"

/* learnd's series: what it knows that learnctl cannot (its counters since it
 * started), and the facts both print, under prom.h's definitions. */
static void emit(FILE *f, const struct ld_metrics *m)
{
	if (m->heartbeat_wall_ns)
		ld_prom_seconds(f, LD_M_HEARTBEAT_TIME, (int64_t)m->heartbeat_wall_ns);
	ld_prom_seconds(f, LD_M_START_TIME, (int64_t)m->start_wall_ns);
	ld_prom_u64(f, LD_M_PAUSED, m->st.paused);
	ld_prom_u64(f, LD_M_OBSERVE_ONLY, m->observe_only);
	ld_prom_u64(f, LD_M_RECORDS_CONSUMED, m->records);
	ld_prom_u64(f, LD_M_RECORDS_MALFORMED, m->bad_records);
	if (m->have_counters)
		ld_prom_bpf_counters(f, m->counter);
	ld_prom_u64(f, LD_M_POLICY_CAPACITY, m->policy_capacity);
	ld_prom_u64(f, LD_M_PREFIXES, m->st.prefixes);
	ld_prom_u64(f, LD_M_PREFIXES_DISCOVERED, m->st.discovered);
	ld_prom_u64(f, LD_M_PREFIXES_EVICTED, m->st.evicted);
	ld_prom_u64(f, LD_M_DECISIONS_MADE, m->st.decisions);
	ld_prom_u64(f, LD_M_STORE_ERRORS, m->st.store_errors);
}

int ld_metrics_write(const char *path, const struct ld_metrics *m)
{
	char tmp[4200];
	struct stat sb;
	FILE *f;
	int fd, err = 0;

	/* A fresh, unpredictable name in the same directory (rename is atomic
	 * there), one the textfile collector ignores (it reads *.prom only).  The
	 * directory is often world-writable: a name known in advance could be a
	 * FIFO that blocks open() forever, or a hard link to another file that
	 * would be truncated and rewritten.  mkstemp opens with O_CREAT|O_EXCL:
	 * only a file it made itself. */
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemps(tmp, 4, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_nlink != 1)
		err = -EEXIST; /* cannot happen with O_EXCL; checked all the same */
	/* readable by node_exporter's user whatever learnd's umask (the unit's is 077) */
	if (!err && fchmod(fd, 0644))
		err = -errno;
	f = err ? NULL : fdopen(fd, "w");
	if (!f) {
		err = err ? err : -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	emit(f, m);
	if (fflush(f) || ferror(f))
		err = err ? err : -(errno ? errno : EIO);
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
