// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *log_prog = "learnd";
static int log_max = LOG_INFO;
static int log_verbosity;
static bool log_journal;

void ld_log_init(const char *prog, int verbosity)
{
	log_prog = prog;
	/* A daemon says what it does (start, attach, decisions, reloads) at info by
	 * default; -v adds debug lines (one per close record), -vv libbpf's own. */
	log_verbosity = verbosity;
	log_max = verbosity <= 0 ? LOG_INFO : LOG_DEBUG;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

int ld_log_verbosity(void)
{
	return log_verbosity;
}

bool ld_log_enabled(int level)
{
	return level <= log_max;
}

void ld_log(int level, const char *fmt, ...)
{
	static const char *names[] = { "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug" };
	va_list ap;

	if (!ld_log_enabled(level))
		return;
	if (log_journal) {
		fprintf(stderr, "<%d>", level);
	} else {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s %s: ", stamp, ts.tv_nsec / 1000000, log_prog, names[level & 7]);
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
