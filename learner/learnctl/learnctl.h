/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What learnctl's command modules share: the context (config in force, where the
 * database and the pins are, output format), the exit statuses and the one
 * error path (a one-line message on stderr, and {"error": ...} on stdout in
 * JSON mode).
 */
#ifndef LEARND_LEARNCTL_H
#define LEARND_LEARNCTL_H

#include <stdbool.h>
#include <stdint.h>
#include "clock.h" /* ld_wall_ns(): the database's ts_ns clock */
#include <stdio.h>
#include "config.h"

#define LC_EXIT_OK 0
#define LC_EXIT_FAIL 1   /* runtime failure */
#define LC_EXIT_USAGE 2  /* bad usage or bad input; nothing was written */

enum lc_fmt { LC_TEXT, LC_JSON, LC_CSV };

struct lc {
	const char *cmd;        /* subcommand name, for messages */
	struct ld_config cfg;   /* config in force (file or built-in defaults) */
	bool cfg_from_file;
	const char *config_opt; /* -c as given, NULL if not */
	const char *db_opt, *pin_dir_opt;
	const char *db;         /* in force: --db, else config 'db' */
	const char *pin_dir;    /* in force: --pin-dir, else config 'pin_dir' */
	enum lc_fmt fmt;
	bool pretty;
	bool error_printed;    /* the JSON error object is out: one per run */
	bool error_in_output;  /* the command prints lc_fail's message inside its own
				* JSON (last_err), so lc_fail writes stderr only */
	char last_err[1024];   /* the last lc_fail message */
};

/* learnctl's whole command line (main() in learnctl_main.c): argv[0] is the
 * program name.  Returns the exit status; never exits, and frees what it
 * allocated, so that tests/fuzz/fuzz_learnctl.c can call it again and again. */
int lc_main(int argc, char **argv);

/* Print "learnctl CMD: message" on stderr (and the JSON error object on stdout
 * in JSON mode) and return status, for `return lc_fail(...)`. */
int lc_fail(struct lc *lc, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A note on stderr that is not an error. */
void lc_note(struct lc *lc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The database, through the store (query.h).  lc_db_open opens lc->db (write:
 * read-write, for pin, unpin, pause, resume; else read-only): 0 or an exit
 * status, message printed (2 when the file is missing, not a database,
 * corrupt, or of a schema newer than we know).  lc_db_fail turns a store error
 * rc on db into its exit status (2: the database's fault, else 1), printed.
 * lc_db_facts_read: the database at a glance, or the exit status of a bad one. */
struct ld_db;
struct ld_db_facts;
int lc_db_open(struct lc *lc, bool write, struct ld_db **db);
int lc_db_fail(struct lc *lc, const struct ld_db *db, int rc);
int lc_db_facts_read(struct lc *lc, struct ld_db_facts *f);

/* Who is acting, for operator_log: $SUDO_USER, else the user name, else the uid. */
const char *lc_who(void);
/* "2024-05-01 12:00:03Z" (UTC) from a ts_ns; "-" for 0. */
void lc_fmt_time(int64_t ts_ns, char *buf, size_t len);
/* "4s", "3m", "2h", "5d" ago, from nanoseconds (3 characters below 1000 days). */
void lc_fmt_age(int64_t age_ns, char *buf, size_t len);
/* Parse a time for --from/--to: epoch seconds, "-1h"/"-30m"/"-2d" (relative to
 * now), "now", or "YYYY-MM-DD[ HH:MM[:SS]]" (UTC).  0 or -EINVAL. */
int lc_parse_time(const char *s, int64_t *ts_ns);

/* Text for a terminal: control characters (newline, escape) become '?'. */
void lc_text_clean(const char *in, char *out, size_t len);

/* Subcommands (each returns an exit status). */
int cmd_report(struct lc *lc, int argc, char **argv);
int cmd_show(struct lc *lc, int argc, char **argv);
int cmd_status(struct lc *lc, int argc, char **argv);
int cmd_pin(struct lc *lc, int argc, char **argv);
int cmd_unpin(struct lc *lc, int argc, char **argv);
int cmd_pause(struct lc *lc, int argc, char **argv);
int cmd_resume(struct lc *lc, int argc, char **argv);
int cmd_metrics(struct lc *lc, int argc, char **argv);
int cmd_export(struct lc *lc, int argc, char **argv);
int cmd_plot(struct lc *lc, int argc, char **argv);

/*
 * Subcommand option parsing: the common options (-c/--config, --db, --pin-dir,
 * -j/--json, --csv, -p/--pretty) are accepted before or after the subcommand;
 * extra are the subcommand's own (long options only, val >= 256, or a short
 * letter listed in shortopts).  on_opt gets each of those.  Positional
 * arguments are left in argv[*first..argc).  Returns 0 or an exit status.
 */
struct option;
int lc_parse_opts(struct lc *lc, int argc, char **argv, const char *shortopts, const struct option *extra,
		  int (*on_opt)(struct lc *lc, void *st, int id, const char *arg), void *st, int *first);
/* Apply config + overrides; called by lc_parse_opts at its end.  Exit status. */
int lc_resolve(struct lc *lc);

#endif
