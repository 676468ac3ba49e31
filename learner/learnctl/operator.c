// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Operator controls: pin, unpin, pause, resume.  Each validates everything
 * first (exit 2, nothing written), then writes the database in one
 * transaction (pins or control, plus an operator_log row).  pause and resume
 * write the PAUSED flag of the pinned ctl_map first: the emergency brake must
 * hold whenever the map is reachable, also when the database is locked or its
 * disk full (learnd keeps a PAUSED bit it did not write).  learnd reads pins
 * and control every tick and applies them.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "param.h"
#include "cidr.h"
#include "ctldb.h"
#include "dpinfo.h"
#include "jsonw.h"
#include "learnctl.h"

/* The pins table's columns are the parameters' names (param.h). */
#define pin_col(p) (learnd_param_info(p)->name)

/* The bounds in force for a prefix, as learnd stored them in prefixes (the ones
 * its policy gate checks), or an exit status: 2 when learnd has no such prefix
 * (it ignores pins of prefixes it does not know) or evicted it. */
static int prefix_bounds(struct lc *lc, sqlite3 *db, const char *cidr, struct ld_bounds *b)
{
	sqlite3_stmt *st;
	int rc = lc_db_prepare(lc, db,
			       "SELECT iw_min, iw_max, rwnd_min, rwnd_max, syn_rto_ms_min, syn_rto_ms_max, "
			       "base_rtt_us_min, base_rtt_us_max, evicted_ns FROM prefixes WHERE cidr = ?1",
			       &st);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, cidr, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return lc_fail(lc, LC_EXIT_USAGE,
			       "unknown prefix %s: learnd has no such prefix, so a pin would not apply (learnctl report lists them)",
			       cidr);
	}
	if (rc != SQLITE_ROW) {
		rc = lc_db_error(lc, db, rc, "prefixes");
		sqlite3_finalize(st);
		return rc;
	}
	if (!lc_col_null(st, 8)) {
		char when[40];

		lc_fmt_time(sqlite3_column_int64(st, 8), when, sizeof(when));
		sqlite3_finalize(st);
		return lc_fail(lc, LC_EXIT_USAGE, "prefix %s was evicted from the policy map at %s: a pin would not apply",
			       cidr, when);
	}
	memset(b, 0, sizeof(*b));
	for (int p = 0; p < LEARND_PARAM__MAX; p++) {
		if (lc_col_null(st, 2 * p) || lc_col_null(st, 2 * p + 1))
			continue;
		b->r[p].set = true;
		b->r[p].min = (uint32_t)sqlite3_column_int64(st, 2 * p);
		b->r[p].max = (uint32_t)sqlite3_column_int64(st, 2 * p + 1);
	}
	sqlite3_finalize(st);
	return 0;
}

static int parse_prefix(struct lc *lc, const char *text, struct learnd_key *key, char *canon, size_t len)
{
	char err[256];

	if (ld_cidr_parse(text, key, err, sizeof(err)))
		return lc_fail(lc, LC_EXIT_USAGE, "malformed prefix: %s", err);
	ld_cidr_format(key, canon, len);
	return 0;
}

/* BEGIN IMMEDIATE ... COMMIT around fn(); rollback on failure. */
static int in_transaction(struct lc *lc, sqlite3 *db, int (*fn)(struct lc *, sqlite3 *, void *), void *arg)
{
	int rc = lc_db_exec(lc, db, "BEGIN IMMEDIATE");

	if (rc)
		return rc;
	rc = fn(lc, db, arg);
	if (rc) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return lc_db_exec(lc, db, "COMMIT");
}

static int log_action(struct lc *lc, sqlite3 *db, int64_t ts, const char *action, const char *cidr, const char *detail)
{
	sqlite3_stmt *st;
	int rc = lc_db_prepare(lc, db,
			       "INSERT INTO operator_log(ts_ns, who, action, cidr, detail) VALUES (?1, ?2, ?3, ?4, ?5)", &st);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, ts);
	sqlite3_bind_text(st, 2, lc_who(), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	if (cidr)
		sqlite3_bind_text(st, 4, cidr, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_text(st, 5, detail, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? 0 : lc_db_error(lc, db, rc, "operator_log");
	sqlite3_finalize(st);
	return rc;
}

static void print_result(struct lc *lc, const char *action, const char *cidr, const char *detail, const char *text)
{
	if (lc->fmt == LC_JSON) {
		struct jw w;

		jw_init(&w, stdout, lc->pretty);
		jw_obj(&w);
		jw_kv_str(&w, "action", action);
		if (cidr)
			jw_kv_str(&w, "prefix", cidr);
		jw_kv_str(&w, "detail", detail);
		jw_kv_str(&w, "who", lc_who());
		jw_end(&w);
		jw_finish(&w);
	} else {
		printf("%s\n", text);
	}
}

/* ---- pin ---- */

struct pin_req {
	char cidr[LD_CIDR_STRLEN];
	bool set[LEARND_PARAM__MAX];
	uint32_t val[LEARND_PARAM__MAX];
	char detail[256];
	int64_t ts;
};

static int pin_write(struct lc *lc, sqlite3 *db, void *arg)
{
	struct pin_req *r = arg;
	sqlite3_stmt *st;
	int rc;

	/* Parameters not named keep an earlier pin. */
	rc = lc_db_prepare(lc, db,
			   "INSERT INTO pins(cidr, iw, rwnd, syn_rto_ms, base_rtt_us, ts_ns, who) "
			   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
			   "ON CONFLICT(cidr) DO UPDATE SET "
			   "iw = coalesce(excluded.iw, iw), rwnd = coalesce(excluded.rwnd, rwnd), "
			   "syn_rto_ms = coalesce(excluded.syn_rto_ms, syn_rto_ms), "
			   "base_rtt_us = coalesce(excluded.base_rtt_us, base_rtt_us), "
			   "ts_ns = excluded.ts_ns, who = excluded.who",
			   &st);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, r->cidr, -1, SQLITE_STATIC);
	for (int p = 0; p < LEARND_PARAM__MAX; p++) {
		if (r->set[p])
			sqlite3_bind_int64(st, 2 + p, r->val[p]);
		else
			sqlite3_bind_null(st, 2 + p);
	}
	sqlite3_bind_int64(st, 6, r->ts);
	sqlite3_bind_text(st, 7, lc_who(), -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? 0 : lc_db_error(lc, db, rc, "pins");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	return log_action(lc, db, r->ts, "pin", r->cidr, r->detail);
}

struct pin_arg {
	int p;
	uint32_t v;
	const char *text;
};

int cmd_pin(struct lc *lc, int argc, char **argv)
{
	struct pin_req r;
	struct pin_arg args[LEARND_PARAM__MAX];
	struct learnd_key key;
	struct ld_bounds b;
	sqlite3 *db;
	int first, rc, nargs = 0;
	size_t off = 0;

	memset(&r, 0, sizeof(r));
	rc = lc_parse_opts(lc, argc, argv, NULL, NULL, NULL, NULL, &first);
	if (rc)
		return rc;
	if (argc - first < 2)
		return lc_fail(lc, LC_EXIT_USAGE, "usage: learnctl pin PREFIX PARAM=N [PARAM=N ...] (see learnctl pin --help)");
	rc = parse_prefix(lc, argv[first], &key, r.cidr, sizeof(r.cidr));
	if (rc)
		return rc;
	/* syntax first: nothing about the database is needed to refuse these */
	for (int i = first + 1; i < argc; i++) {
		char name[32], *end;
		const char *eq = strchr(argv[i], '=');
		unsigned long long v;
		int p;

		if (!eq || (size_t)(eq - argv[i]) >= sizeof(name))
			return lc_fail(lc, LC_EXIT_USAGE, "'%s': expected PARAM=N (iw, rwnd, syn_rto_ms, base_rtt_us)", argv[i]);
		memcpy(name, argv[i], (size_t)(eq - argv[i]));
		name[eq - argv[i]] = '\0';
		p = learnd_param_by_name(name);
		if (p < 0)
			return lc_fail(lc, LC_EXIT_USAGE, "'%s': unknown parameter '%s' (expected iw, rwnd, syn_rto_ms or base_rtt_us)",
				       argv[i], name);
		if (r.set[p])
			return lc_fail(lc, LC_EXIT_USAGE, "'%s': %s given twice", argv[i], name);
		errno = 0;
		v = strtoull(eq + 1, &end, 10);
		if (eq[1] < '0' || eq[1] > '9' || *end || errno || v > UINT32_MAX)
			return lc_fail(lc, LC_EXIT_USAGE, "'%s': %s must be a whole number", argv[i], name);
		r.set[p] = true;
		r.val[p] = (uint32_t)v;
		args[nargs++] = (struct pin_arg){ p, (uint32_t)v, argv[i] };
		off += (size_t)snprintf(r.detail + off, sizeof(r.detail) - off, "%s%s=%llu", off ? " " : "", name, v);
		if (off >= sizeof(r.detail))
			off = sizeof(r.detail) - 1;
	}
	rc = lc_db_open(lc, true, &db);
	if (rc)
		return rc;
	/* then the bounds learnd has in force for the prefix */
	rc = prefix_bounds(lc, db, r.cidr, &b);
	for (int i = 0; !rc && i < nargs; i++) {
		const struct ld_range *rg = &b.r[args[i].p];
		const char *name = pin_col(args[i].p);
		uint32_t v = args[i].v;

		if (!rg->set)
			rc = lc_fail(lc, LC_EXIT_USAGE,
				     "'%s': %s is not managed for %s (no bounds in the config), so it cannot be pinned",
				     args[i].text, name, r.cidr);
		else if (rg->min == rg->max && v != rg->min)
			rc = lc_fail(lc, LC_EXIT_USAGE, "'%s': outside the bounds of %s: %s is fixed at %u by the config",
				     args[i].text, r.cidr, name, rg->min);
		else if (rg->min != rg->max && v != 0 && (v < rg->min || v > rg->max))
			rc = lc_fail(lc, LC_EXIT_USAGE,
				     "'%s': outside the bounds of %s: %s must be 0 (kernel default) or %u..%u",
				     args[i].text, r.cidr, name, rg->min, rg->max);
	}
	if (!rc) {
		r.ts = ld_wall_ns();
		rc = in_transaction(lc, db, pin_write, &r);
	}
	if (!rc) {
		char text[512];

		snprintf(text, sizeof(text), "pinned %s: %s (learnd applies it within one tick)", r.cidr, r.detail);
		print_result(lc, "pin", r.cidr, r.detail, text);
	}
	lc_db_close(db);
	return rc;
}

/* ---- unpin ---- */

struct unpin_req {
	char cidr[LD_CIDR_STRLEN];
	bool which[LEARND_PARAM__MAX]; /* none set: all */
	bool any;
	char detail[128];
	int64_t ts;
};

static int unpin_write(struct lc *lc, sqlite3 *db, void *arg)
{
	struct unpin_req *r = arg;
	sqlite3_stmt *st;
	int rc;

	rc = lc_db_prepare(lc, db, "SELECT iw, rwnd, syn_rto_ms, base_rtt_us FROM pins WHERE cidr = ?1", &st);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, r->cidr, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return lc_fail(lc, LC_EXIT_USAGE, "%s is not pinned (learnctl report shows pins)", r->cidr);
	}
	if (rc != SQLITE_ROW) {
		rc = lc_db_error(lc, db, rc, "pins");
		sqlite3_finalize(st);
		return rc;
	}
	bool left = false;

	for (int p = 0; p < LEARND_PARAM__MAX; p++) {
		bool pinned = !lc_col_null(st, p);

		if (r->any && r->which[p] && !pinned) {
			sqlite3_finalize(st);
			return lc_fail(lc, LC_EXIT_USAGE, "%s of %s is not pinned", pin_col(p), r->cidr);
		}
		if (pinned && r->any && !r->which[p])
			left = true;
	}
	sqlite3_finalize(st);
	if (!left) {
		rc = lc_db_prepare(lc, db, "DELETE FROM pins WHERE cidr = ?1", &st);
	} else {
		rc = lc_db_prepare(lc, db,
				   "UPDATE pins SET iw = CASE WHEN ?2 THEN NULL ELSE iw END, "
				   "rwnd = CASE WHEN ?3 THEN NULL ELSE rwnd END, "
				   "syn_rto_ms = CASE WHEN ?4 THEN NULL ELSE syn_rto_ms END, "
				   "base_rtt_us = CASE WHEN ?5 THEN NULL ELSE base_rtt_us END, "
				   "ts_ns = ?6, who = ?7 WHERE cidr = ?1",
				   &st);
		if (!rc) {
			for (int p = 0; p < LEARND_PARAM__MAX; p++)
				sqlite3_bind_int(st, 2 + p, r->which[p]);
			sqlite3_bind_int64(st, 6, r->ts);
			sqlite3_bind_text(st, 7, lc_who(), -1, SQLITE_STATIC);
		}
	}
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, r->cidr, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? 0 : lc_db_error(lc, db, rc, "pins");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	return log_action(lc, db, r->ts, "unpin", r->cidr, r->detail);
}

int cmd_unpin(struct lc *lc, int argc, char **argv)
{
	struct unpin_req r;
	struct learnd_key key;
	sqlite3 *db;
	int first, rc;
	size_t off = 0;

	memset(&r, 0, sizeof(r));
	rc = lc_parse_opts(lc, argc, argv, NULL, NULL, NULL, NULL, &first);
	if (rc)
		return rc;
	if (argc - first < 1)
		return lc_fail(lc, LC_EXIT_USAGE, "usage: learnctl unpin PREFIX [PARAM ...] (see learnctl unpin --help)");
	rc = parse_prefix(lc, argv[first], &key, r.cidr, sizeof(r.cidr));
	if (rc)
		return rc;
	for (int i = first + 1; i < argc; i++) {
		int p = learnd_param_by_name(argv[i]);

		if (p < 0)
			return lc_fail(lc, LC_EXIT_USAGE, "unknown parameter '%s' (expected iw, rwnd, syn_rto_ms or base_rtt_us)",
				       argv[i]);
		r.which[p] = true;
		r.any = true;
		off += (size_t)snprintf(r.detail + off, sizeof(r.detail) - off, "%s%s", off ? " " : "", argv[i]);
		if (off >= sizeof(r.detail))
			off = sizeof(r.detail) - 1;
	}
	if (!r.any)
		snprintf(r.detail, sizeof(r.detail), "all");
	rc = lc_db_open(lc, true, &db);
	if (rc)
		return rc;
	r.ts = ld_wall_ns();
	rc = in_transaction(lc, db, unpin_write, &r);
	if (!rc) {
		char text[256];

		snprintf(text, sizeof(text), "unpinned %s: %s (learnd resumes learning within one tick)", r.cidr, r.detail);
		print_result(lc, "unpin", r.cidr, r.detail, text);
	}
	lc_db_close(db);
	return rc;
}

/* ---- pause / resume ---- */

struct pause_req {
	bool paused;
	int64_t ts;
};

static int pause_write(struct lc *lc, sqlite3 *db, void *arg)
{
	struct pause_req *r = arg;
	sqlite3_stmt *st;
	int rc = lc_db_prepare(lc, db, "INSERT OR REPLACE INTO control(key, value) VALUES ('paused', ?1)", &st);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, r->paused ? "1" : "0", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? 0 : lc_db_error(lc, db, rc, "control");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	return log_action(lc, db, r->ts, r->paused ? "pause" : "resume", NULL, r->paused ? "paused=1" : "paused=0");
}

/* What the data plane part of pause/resume did, for the messages. */
static const char *dp_result(int err, bool paused, char *buf, size_t len, const char *pin_dir)
{
	if (err == -ENOENT)
		return "no pinned ctl_map (data plane not loaded: kernel defaults anyway)";
	if (err) {
		snprintf(buf, len, "cannot write %s/ctl_map: %s", pin_dir, strerror(-err));
		return buf;
	}
	return paused ? "ctl_map PAUSED set: new connections get kernel defaults" : "ctl_map PAUSED cleared";
}

static int pause_resume(struct lc *lc, int argc, char **argv, bool paused)
{
	struct pause_req r = { .paused = paused };
	struct lc_dp dp;
	sqlite3 *db;
	int first, rc, err;
	char text[1024], dpbuf[600];
	const char *dp_state;

	rc = lc_parse_opts(lc, argc, argv, NULL, NULL, NULL, NULL, &first);
	if (rc)
		return rc;
	if (first < argc)
		return lc_fail(lc, LC_EXIT_USAGE, "unexpected argument '%s' (see learnctl %s --help)", argv[first], lc->cmd);

	/* The data plane first: that is the brake, and it needs no disk. */
	lc_dp_open(&dp, lc->pin_dir, true);
	err = lc_dp_set_paused(&dp, paused);
	lc_dp_close(&dp);
	dp_state = dp_result(err, paused, dpbuf, sizeof(dpbuf), lc->pin_dir);

	/* Then the intent, so that it holds across learnd's restarts. */
	rc = lc_db_open(lc, true, &db);
	if (!rc) {
		r.ts = ld_wall_ns();
		rc = in_transaction(lc, db, pause_write, &r);
		lc_db_close(db);
	}
	if (rc) {
		/* lc_fail printed the database's error (one line; when the map failed
		 * too, nothing happened and that line says why); say what did happen */
		if (!err && paused)
			fprintf(stderr, "learnctl pause: paused all the same: %s; not recorded in the database, so it "
				"does not hold across a restart of learnd (run learnctl pause again once the database can "
				"be written)\n", dp_state);
		else if (!err)
			fprintf(stderr, "learnctl resume: %s, but not recorded in the database: if it says paused, "
				"learnd pauses again at its next tick (run learnctl resume again once the database can "
				"be written)\n", dp_state);
		return rc;
	}
	if (err && err != -ENOENT)
		return lc_fail(lc, LC_EXIT_FAIL, "recorded %s in the database, but %s (learnd applies it at its next tick)",
			       lc->cmd, dp_state);
	snprintf(text, sizeof(text), "%s: %s", paused ? "paused" : "resumed", dp_state);
	print_result(lc, lc->cmd, NULL, dp_state, text);
	return 0;
}

int cmd_pause(struct lc *lc, int argc, char **argv)
{
	return pause_resume(lc, argc, argv, true);
}

int cmd_resume(struct lc *lc, int argc, char **argv)
{
	return pause_resume(lc, argc, argv, false);
}
