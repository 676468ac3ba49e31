// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE /* mkostemps */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "maps.h"

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void u64(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	head(f, name, type, help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void seconds(FILE *f, const char *name, const char *help, uint64_t ns)
{
	head(f, name, "gauge", help);
	fprintf(f, "%s %.3f\n", name, (double)ns / 1e9);
}

static void emit(FILE *f, const struct ld_metrics *m)
{
	if (m->heartbeat_wall_ns)
		seconds(f, "learnd_heartbeat_timestamp_seconds",
			"Wall-clock time of learnd's last heartbeat (one per tick), seconds since the epoch.",
			m->heartbeat_wall_ns);
	seconds(f, "learnd_start_time_seconds", "Wall-clock time learnd started, seconds since the epoch.",
		m->start_wall_ns);
	u64(f, "learnd_paused", "gauge", "1 if the operator paused learnd (database control 'paused').", m->st.paused);
	u64(f, "learnd_observe_only", "gauge", "1 if learnd runs observe-only.", m->observe_only);
	u64(f, "learnd_records_consumed_total", "counter", "Close records learnd took from the ring buffer.",
	    m->records);
	u64(f, "learnd_records_malformed_total", "counter", "Close records that did not decode (dropped).",
	    m->bad_records);
	if (m->have_counters) {
		for (int c = 0; c < LEARND_CNT__MAX; c++) {
			char name[96];

			snprintf(name, sizeof(name), "learnd_bpf_%s_total", ld_counter_name((enum learnd_counter)c));
			u64(f, name, "counter", ld_counter_help((enum learnd_counter)c), m->counter[c]);
		}
	}
	u64(f, "learnd_policy_map_capacity", "gauge", "Policy map max_entries.", m->policy_capacity);
	u64(f, "learnd_prefixes", "gauge", "Prefixes learnd knows (configured, discovered and the default).",
	    m->st.prefixes);
	u64(f, "learnd_prefixes_discovered_total", "counter", "Prefixes created from traffic since learnd started.",
	    m->st.discovered);
	u64(f, "learnd_prefixes_evicted_total", "counter",
	    "Discovered prefixes dropped at the max_prefixes cap since learnd started.", m->st.evicted);
	u64(f, "learnd_decisions_total", "counter",
	    "Decisions learnd made since it started (including each prefix's initial values).", m->st.decisions);
	u64(f, "learnd_store_errors_total", "counter",
	    "Ticks whose database transaction failed since learnd started (history kept in memory, retried).",
	    m->st.store_errors);
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
