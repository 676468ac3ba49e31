/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One logging function for the whole of user space, with syslog levels. */
#ifndef LEARND_LOG_H
#define LEARND_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* verbosity: 0 = info and above, 1 = also debug (close records), 2 = also libbpf.  Under systemd
 * (JOURNAL_STREAM set) lines carry a "<N>" level prefix and no timestamp. */
void ld_log_init(const char *prog, int verbosity);
bool ld_log_enabled(int level);
/* How many -v were given: 1 adds debug lines, 2 also libbpf's debug output. */
int ld_log_verbosity(void);
void ld_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ld_err(...) ld_log(LOG_ERR, __VA_ARGS__)
#define ld_warn(...) ld_log(LOG_WARNING, __VA_ARGS__)
#define ld_info(...) ld_log(LOG_INFO, __VA_ARGS__)
#define ld_debug(...) ld_log(LOG_DEBUG, __VA_ARGS__)

#endif
