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
#include "learnd_vocab.h"
#include "cidr.h"
#include "query.h"
#include "dpinfo.h"
#include "jsonw.h"
#include "learnctl.h"

/* The pins table's columns are the parameters' names (learnd_vocab.h). */
#define pin_col(p) (learnd_param_info(p)->name)

/* The bounds in force for a prefix, as learnd stored them in prefixes (the ones
 * its policy gate checks), or an exit status: 2 when learnd has no such prefix
 * (it ignores pins of prefixes it does not know) or evicted it. */
static int prefix_bounds(struct lc *lc, struct ld_db *db, const char *cidr, struct ld_bounds *b)
{
	struct ld_db_prefix_bounds pb;
	int rc = ld_db_prefix_bounds(db, cidr, &pb);

	if (rc)
		return lc_db_fail(lc, db, rc);
	if (!pb.found)
		return lc_fail(lc, LC_EXIT_USAGE,
			       "unknown prefix %s: learnd has no such prefix, so a pin would not apply (learnctl report lists them)",
			       cidr);
	if (pb.evicted_ns) {
		char when[40];

		lc_fmt_time(pb.evicted_ns, when, sizeof(when));
		return lc_fail(lc, LC_EXIT_USAGE, "prefix %s was evicted from the policy map at %s: a pin would not apply",
			       cidr, when);
	}
	*b = pb.b;
	return 0;
}


/* BEGIN IMMEDIATE ... COMMIT around fn() (0 or a store error); rollback on
 * failure.  fn's own refusals are exit statuses it printed (> 0). */
static int in_transaction(struct lc *lc, struct ld_db *db, int (*fn)(struct lc *, struct ld_db *, void *), void *arg)
{
	int rc = ld_db_begin(db);

	if (rc)
		return lc_db_fail(lc, db, rc);
	rc = fn(lc, db, arg);
	if (rc) {
		ld_db_rollback(db);
		return rc > 0 ? rc : lc_db_fail(lc, db, rc);
	}
	rc = ld_db_commit(db);
	return rc ? lc_db_fail(lc, db, rc) : 0;
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

/* What pin and unpin write and say: the prefix, the change as text (also the
 * operator_log row's detail), when. */
struct op_req {
	char cidr[LD_CIDR_STRLEN];
	char detail[256];
	int64_t ts;
};

/* The options, then PREFIX (in canonical form into req->cidr) and at least
 * min - 1 more arguments (usage names them): 0 with argv[*first] the prefix,
 * or an exit status. */
static int op_args(struct lc *lc, int argc, char **argv, int min, const char *usage, struct op_req *req, int *first)
{
	struct learnd_key key;
	char err[256];
	int rc = lc_parse_opts(lc, argc, argv, NULL, NULL, NULL, NULL, first);

	if (rc)
		return rc;
	if (argc - *first < min)
		return lc_fail(lc, LC_EXIT_USAGE, "usage: learnctl %s PREFIX %s (see learnctl %s --help)", lc->cmd, usage,
			       lc->cmd);
	if (ld_cidr_parse(argv[*first], &key, err, sizeof(err)))
		return lc_fail(lc, LC_EXIT_USAGE, "malformed prefix: %s", err);
	ld_cidr_format(&key, req->cidr, sizeof(req->cidr));
	return 0;
}

/* rc 0: run write in one transaction, then print what happened ("pinned
 * PREFIX: DETAIL (when)"); closes db.  0 or an exit status. */
static int op_commit(struct lc *lc, struct ld_db *db, int rc, int (*write)(struct lc *, struct ld_db *, void *),
		     struct op_req *req, const char *action, const char *done, const char *when)
{
	if (!rc) {
		req->ts = ld_wall_ns();
		rc = in_transaction(lc, db, write, req);
	}
	if (!rc) {
		char text[512];

		snprintf(text, sizeof(text), "%s %s: %s (%s)", done, req->cidr, req->detail, when);
		print_result(lc, action, req->cidr, req->detail, text);
	}
	ld_db_close(db);
	return rc;
}

struct pin_req {
	struct op_req op; /* first: write() gets it */
	int64_t val[LEARND_PARAM__MAX]; /* < 0: not named */
	const char *text[LEARND_PARAM__MAX]; /* the argument that named it */
};

/* Both writes of a command: the change and its operator_log row. */
static int pin_write(struct lc *lc, struct ld_db *db, void *arg)
{
	struct pin_req *r = arg;
	int rc = ld_db_pin_put(db, r->op.cidr, r->val, r->op.ts, lc_who());

	(void)lc;
	return rc ? rc : ld_db_log(db, r->op.ts, lc_who(), "pin", r->op.cidr, r->op.detail);
}

/* Append word to a request's detail ("iw=20 rwnd=64"), truncated to fit. */
static void detail_add(char *detail, size_t len, size_t *off, const char *word)
{
	*off += (size_t)snprintf(detail + *off, len - *off, "%s%s", *off ? " " : "", word);
	if (*off >= len)
		*off = len - 1;
}

/* PARAM=N: syntax only, nothing about the database is needed to refuse it. */
static int pin_arg(struct lc *lc, const char *arg, struct pin_req *r, size_t *off)
{
	char name[32], word[64], *end;
	const char *eq = strchr(arg, '=');
	unsigned long long v;
	int p;

	if (!eq || (size_t)(eq - arg) >= sizeof(name))
		return lc_fail(lc, LC_EXIT_USAGE, "'%s': expected PARAM=N (iw, rwnd, syn_rto_ms, base_rtt_us)", arg);
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	p = learnd_param_by_name(name);
	if (p < 0)
		return lc_fail(lc, LC_EXIT_USAGE, "'%s': unknown parameter '%s' (expected iw, rwnd, syn_rto_ms or base_rtt_us)",
			       arg, name);
	if (r->val[p] >= 0)
		return lc_fail(lc, LC_EXIT_USAGE, "'%s': %s given twice", arg, name);
	errno = 0;
	v = strtoull(eq + 1, &end, 10);
	if (eq[1] < '0' || eq[1] > '9' || *end || errno || v > UINT32_MAX)
		return lc_fail(lc, LC_EXIT_USAGE, "'%s': %s must be a whole number", arg, name);
	r->val[p] = (int64_t)v;
	r->text[p] = arg;
	snprintf(word, sizeof(word), "%s=%llu", name, v);
	detail_add(r->op.detail, sizeof(r->op.detail), off, word);
	return 0;
}

/* Each value named against the bounds learnd has in force for the prefix,
 * in the order given. */
static int pin_check(struct lc *lc, const struct pin_req *r, const struct ld_bounds *b, char **args, int nargs)
{
	for (int i = 0; i < nargs; i++) {
		int p;

		for (p = 0; p < LEARND_PARAM__MAX && r->text[p] != args[i]; p++)
			;
		if (p == LEARND_PARAM__MAX)
			continue;
		const struct ld_range *rg = &b->r[p];
		const char *name = pin_col(p);
		uint32_t v = (uint32_t)r->val[p];

		if (!rg->set)
			return lc_fail(lc, LC_EXIT_USAGE,
				       "'%s': %s is not managed for %s (no bounds in the config), so it cannot be pinned",
				       args[i], name, r->op.cidr);
		if (rg->min == rg->max && v != rg->min)
			return lc_fail(lc, LC_EXIT_USAGE, "'%s': outside the bounds of %s: %s is fixed at %u by the config",
				       args[i], r->op.cidr, name, rg->min);
		if (rg->min != rg->max && v != 0 && (v < rg->min || v > rg->max))
			return lc_fail(lc, LC_EXIT_USAGE,
				       "'%s': outside the bounds of %s: %s must be 0 (kernel default) or %u..%u",
				       args[i], r->op.cidr, name, rg->min, rg->max);
	}
	return 0;
}

int cmd_pin(struct lc *lc, int argc, char **argv)
{
	struct pin_req r;
	struct ld_bounds b;
	struct ld_db *db;
	int first, rc;
	size_t off = 0;

	memset(&r, 0, sizeof(r));
	for (int p = 0; p < LEARND_PARAM__MAX; p++)
		r.val[p] = -1;
	rc = op_args(lc, argc, argv, 2, "PARAM=N [PARAM=N ...]", &r.op, &first);
	for (int i = first + 1; !rc && i < argc; i++)
		rc = pin_arg(lc, argv[i], &r, &off);
	if (rc)
		return rc;
	rc = lc_db_open(lc, true, &db);
	if (rc)
		return rc;
	rc = prefix_bounds(lc, db, r.op.cidr, &b);
	if (!rc)
		rc = pin_check(lc, &r, &b, argv + first + 1, argc - first - 1);
	return op_commit(lc, db, rc, pin_write, &r.op, "pin", "pinned", "learnd applies it within one tick");
}

/* ---- unpin ---- */

struct unpin_req {
	struct op_req op; /* first: write() gets it */
	bool which[LEARND_PARAM__MAX]; /* none set: all */
	bool any;
};

static int unpin_write(struct lc *lc, struct ld_db *db, void *arg)
{
	struct unpin_req *r = arg;
	int64_t vals[LEARND_PARAM__MAX];
	bool found, left = false;
	int rc = ld_db_pin_get(db, r->op.cidr, &found, vals);

	if (rc)
		return rc;
	if (!found)
		return lc_fail(lc, LC_EXIT_USAGE, "%s is not pinned (learnctl report shows pins)", r->op.cidr);
	for (int p = 0; p < LEARND_PARAM__MAX; p++) {
		bool pinned = vals[p] >= 0;

		if (r->any && r->which[p] && !pinned)
			return lc_fail(lc, LC_EXIT_USAGE, "%s of %s is not pinned", pin_col(p), r->op.cidr);
		if (pinned && r->any && !r->which[p])
			left = true;
	}
	rc = ld_db_pin_clear(db, r->op.cidr, left ? r->which : NULL, r->op.ts, lc_who());
	return rc ? rc : ld_db_log(db, r->op.ts, lc_who(), "unpin", r->op.cidr, r->op.detail);
}

int cmd_unpin(struct lc *lc, int argc, char **argv)
{
	struct unpin_req r;
	struct ld_db *db;
	int first, rc;
	size_t off = 0;

	memset(&r, 0, sizeof(r));
	rc = op_args(lc, argc, argv, 1, "[PARAM ...]", &r.op, &first);
	if (rc)
		return rc;
	for (int i = first + 1; i < argc; i++) {
		int p = learnd_param_by_name(argv[i]);

		if (p < 0)
			return lc_fail(lc, LC_EXIT_USAGE, "unknown parameter '%s' (expected iw, rwnd, syn_rto_ms or base_rtt_us)",
				       argv[i]);
		r.which[p] = true;
		r.any = true;
		detail_add(r.op.detail, 128, &off, argv[i]); /* unpin names at most 127 characters */
	}
	if (!r.any)
		snprintf(r.op.detail, sizeof(r.op.detail), "all");
	rc = lc_db_open(lc, true, &db);
	if (rc)
		return rc;
	return op_commit(lc, db, 0, unpin_write, &r.op, "unpin", "unpinned", "learnd resumes learning within one tick");
}

/* ---- pause / resume ---- */

struct pause_req {
	bool paused;
	int64_t ts;
};

static int pause_write(struct lc *lc, struct ld_db *db, void *arg)
{
	struct pause_req *r = arg;
	int rc = ld_db_set_paused(db, r->paused);

	(void)lc;
	return rc ? rc
		  : ld_db_log(db, r->ts, lc_who(), r->paused ? "pause" : "resume", NULL, r->paused ? "paused=1" : "paused=0");
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
	struct ld_db *db;
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
		ld_db_close(db);
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
