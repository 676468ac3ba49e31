// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The operator-control contract between learnctl and learnd (docs/schema.md,
 * docs/store.md): learnctl writes the pins and control tables with its own
 * connection; learnd (here: the learner with its store, no BPF, policy_fd -1)
 * reads them every tick.  Each test writes the tables through the store's
 * operator writes learnctl uses (query.h: ld_db_pin_put, ld_db_set_paused, on
 * another connection) and checks what an operator would look at: the
 * slots in force (v_slots) and the learner's paused flag, which learnd puts into
 * the control map as LEARND_CTL_PAUSED.
 *
 *   pin_running       a pin is in force within one tick; unpin gives learning back
 *   pin_out_of_bounds a pin outside the configured bounds is ignored
 *   pause_resume      control.paused 1 / 0 within one tick
 *   while_down        pins and pause written while learnd was down are in force
 *                     in the first tick after it starts
 *   reload            SIGHUP: new bounds in force within one tick; new [prefix]
 *                     sections added even when discovered ones fill the table
 *   dropped           a [prefix] removed from the configuration while learnd was
 *                     down: evicted at start, no slots left in force
 *   rediscovered      a pinned discovered prefix, evicted at the cap (no slots,
 *                     no model state left), seen again, comes back pinned in
 *                     its first tick
 *
 * No root.  Files go to a fresh directory under $TMPDIR (default /tmp), removed
 * at the end unless a check failed.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "learner.h"
#include "log.h"
#include "query.h" /* the operator writes learnctl makes */
#include "store.h"
#include "harness.h"
#include "pathsim.h" /* sim_server_record */
#include "sqlutil.h"

#define sql_open(path) t_sql_open(path, true)
#define sql_int(db, sql) t_sql_int(db, sql, -1)

static char dir[4096];

/* ---- what learnctl does: the store's operator writes (query.h), on a connection of their own ---- */

/* A write connection to db's file (learnctl's), in a transaction; NULL after a failed check. */
static struct ld_db *op_begin(sqlite3 *db)
{
	struct ld_db *w = NULL;
	char err[256] = "";
	int rc = ld_db_open(sqlite3_db_filename(db, "main"), true, &w, err, sizeof(err));

	CHECK(!rc, "ld_db_open for writing: %d: %s", rc, err);
	if (!rc && (rc = ld_db_begin(w)))
		CHECK(0, "ld_db_begin: %d: %s", rc, ld_db_errmsg(w));
	if (rc) {
		ld_db_close(w);
		return NULL;
	}
	return w;
}

/* Commit what rc says succeeded (else roll back) and close. */
static void op_end(struct ld_db *w, int rc, const char *what)
{
	if (!rc)
		rc = ld_db_commit(w);
	CHECK(!rc, "%s: %d: %s", what, rc, ld_db_errmsg(w));
	if (rc)
		ld_db_rollback(w);
	ld_db_close(w);
}

/* learnctl pin CIDR iw=V (the row learnctl writes, and its log line). */
static void pin_iw(sqlite3 *db, const char *cidr, unsigned iw)
{
	int64_t vals[LEARND_PARAM__MAX] = { [LEARND_PARAM_IW] = iw, [LEARND_PARAM_RWND] = -1,
					    [LEARND_PARAM_SYN_RTO] = -1, [LEARND_PARAM_BASE_RTT] = -1 };
	struct ld_db *w = op_begin(db);
	char detail[32];
	int rc;

	if (!w)
		return;
	snprintf(detail, sizeof(detail), "iw=%u", iw);
	rc = ld_db_pin_put(w, cidr, vals, 1, "test");
	if (!rc)
		rc = ld_db_log(w, 1, "test", "pin", cidr, detail);
	op_end(w, rc, "pin");
}

/* learnctl unpin CIDR (the whole pin) */
static void unpin(sqlite3 *db, const char *cidr)
{
	struct ld_db *w = op_begin(db);

	if (w)
		op_end(w, ld_db_pin_clear(w, cidr, NULL, 1, "test"), "unpin");
}

/* learnctl pause / resume */
static void set_paused(sqlite3 *db, bool on)
{
	struct ld_db *w = op_begin(db);

	if (w)
		op_end(w, ld_db_set_paused(w, on), on ? "pause" : "resume");
}

/* Slot k's iw for cidr in v_slots (-1: no such slot). */
static int64_t slot_iw(sqlite3 *db, const char *cidr, int k)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT iw FROM v_slots WHERE cidr = '%s' AND slot = %d", cidr, k);
	return sql_int(db, sql);
}

/* Slots whose iw differs from v (the IW probes), and the slot count. */
static int64_t slots_iw_not(sqlite3 *db, const char *cidr, unsigned v)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM v_slots WHERE cidr = '%s' AND iw != %u", cidr, v);
	return sql_int(db, sql);
}

static int64_t nslots(sqlite3 *db, const char *cidr)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM v_slots WHERE cidr = '%s'", cidr);
	return sql_int(db, sql);
}

/* ---- learnd's side ---- */

#define CONF_PREFIX "10.0.0.0/8"

/* [defaults] iw 4..64; [prefix 10.0.0.0/8] iw 4..64. */
static void config(struct ld_config *cfg, struct ld_prefix_cfg *pc)
{
	char err[128];

	ld_config_init(cfg);
	cfg->defaults.r[LEARND_PARAM_IW] = (struct ld_range){ .min = 4, .max = 64, .set = true };
	memset(pc, 0, sizeof(*pc));
	if (ld_cidr_parse(CONF_PREFIX, &pc->key, err, sizeof(err)))
		CHECK(0, "%s", err);
	pc->b = cfg->defaults;
	cfg->prefixes = pc;
	cfg->nprefixes = 1;
}

struct learnd_sim {
	struct ld_config cfg;
	struct ld_prefix_cfg pc;
	struct ld_store *h;
	struct ld_learner *l;
};

static int start(struct learnd_sim *d, const char *path)
{
	char err[512];
	int rc;

	memset(d, 0, sizeof(*d));
	config(&d->cfg, &d->pc);
	rc = ld_store_open(path, &d->h, err, sizeof(err));
	CHECK(rc == 0, "ld_store_open: %s", err);
	if (rc)
		return rc;
	d->l = ld_learner_new(&d->cfg, d->h, -1);
	CHECK(d->l != NULL, "the learner must start on its database");
	if (!d->l) {
		ld_store_close(d->h);
		return -1;
	}
	return 0;
}

static void stop(struct learnd_sim *d)
{
	if (d->l)
		CHECK(ld_learner_flush(d->l) == 0, "the last flush must commit");
	ld_learner_free(d->l);
	ld_store_close(d->h);
	d->l = NULL;
	d->h = NULL;
	/* cfg.prefixes points at d->pc: not ld_config_free'd */
}

/* start() with a prefix table of 8 (1 configured + the default + 6 discovered)
 * and the database open in *db for the checks; false when either failed (the
 * learner stopped) */
static bool start_capped(struct learnd_sim *d, const char *path, sqlite3 **db)
{
	*db = NULL;
	if (start(d, path))
		return false;
	ld_learner_free(d->l);
	d->cfg.max_prefixes = 8;
	d->l = ld_learner_new(&d->cfg, d->h, -1);
	*db = sql_open(path);
	if (!d->l || !*db) {
		CHECK(0, "set-up");
		sqlite3_close(*db);
		stop(d);
		return false;
	}
	return true;
}

static int tick(struct learnd_sim *d)
{
	int rc = ld_learner_tick(d->l);

	CHECK(rc == 0, "a tick must commit: %s", ld_store_errmsg(d->h));
	return rc;
}

static bool paused(struct learnd_sim *d)
{
	struct ld_learner_stats st;

	ld_learner_stats(d->l, &st);
	return st.paused;
}

/* A connection from a.b.c.d, established, sender side, with the slot's iw as
 * the data plane records it (prefix_id 0: the data plane matched nothing). */
static void fill_record(struct learnd_record *r, unsigned a, unsigned b, unsigned c, uint32_t prefix_id, unsigned iw)
{
	sim_server_record(r, &(struct learnd_arm){ .iw = (uint16_t)iw }, 40000);
	r->raddr[10] = r->raddr[11] = 0xff;
	r->raddr[12] = (uint8_t)a;
	r->raddr[13] = (uint8_t)b;
	r->raddr[14] = (uint8_t)c;
	r->raddr[15] = 7;
	r->prefix_id = prefix_id;
}

static void record(struct learnd_sim *d, unsigned a, unsigned b, unsigned c, uint32_t prefix_id, unsigned iw)
{
	struct learnd_record r;

	fill_record(&r, a, b, c, prefix_id, iw);
	ld_learner_record(d->l, &r);
}

/* A few connections that send more than IW 10 x mss: the model then knows IW
 * can matter for the prefix and probes it (with no records it probes nothing). */
static void senders(struct learnd_sim *d, sqlite3 *db)
{
	uint32_t id = (uint32_t)sql_int(db, "SELECT id FROM prefixes WHERE cidr = '" CONF_PREFIX "'");

	for (unsigned i = 0; i < 8; i++)
		record(d, 10, 1, 2, id, 10);
	tick(d);
}

static void path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* learnd (the simulation) on a fresh database NAME in the test directory, and
 * an operator's connection to it; NULL (nothing left running) on failure. */
static sqlite3 *sim_open(struct learnd_sim *d, const char *name, char *path, size_t len)
{
	sqlite3 *db;

	path_in(path, len, name);
	if (start(d, path))
		return NULL;
	db = sql_open(path);
	if (!db)
		stop(d);
	return db;
}

/* ---- tests ---- */

static void pin_running(void)
{
	struct learnd_sim d;
	char path[4200];
	sqlite3 *db;

	db = sim_open(&d, "running.db", path, sizeof(path));
	if (!db)
		return;
	tick(&d);
	senders(&d, db);
	CHECK(slot_iw(db, CONF_PREFIX, 0) >= 4 && slot_iw(db, CONF_PREFIX, 0) <= 64, "slot 0 iw %lld not in 4..64",
	      (long long)slot_iw(db, CONF_PREFIX, 0));
	CHECK(nslots(db, CONF_PREFIX) >= 2, "a learned parameter must be probed: %lld slots",
	      (long long)nslots(db, CONF_PREFIX));

	pin_iw(db, CONF_PREFIX, 40);
	tick(&d);
	CHECK(slot_iw(db, CONF_PREFIX, 0) == 40, "pinned iw=40 must be in force one tick later, slot 0 has %lld",
	      (long long)slot_iw(db, CONF_PREFIX, 0));
	CHECK(slots_iw_not(db, CONF_PREFIX, 40) == 0, "a pinned value is not probed: %lld slots with iw != 40",
	      (long long)slots_iw_not(db, CONF_PREFIX, 40));
	CHECK(sql_int(db, "SELECT count(*) FROM v_decisions WHERE cidr = '" CONF_PREFIX
			  "' AND param = 'iw' AND new_value = 40") == 1,
	      "the change to the pinned value must be recorded as a decision");

	/* still pinned many ticks and records later */
	for (int t = 0; t < 5; t++) {
		for (int i = 0; i < 50; i++)
			record(&d, 10, 1, 2, (uint32_t)sql_int(db, "SELECT id FROM prefixes WHERE cidr = '" CONF_PREFIX "'"),
			       40);
		tick(&d);
	}
	CHECK(slot_iw(db, CONF_PREFIX, 0) == 40 && slots_iw_not(db, CONF_PREFIX, 40) == 0,
	      "the pin must hold while records arrive");

	unpin(db, CONF_PREFIX);
	tick(&d);
	CHECK(slots_iw_not(db, CONF_PREFIX, 40) >= 1, "after unpin iw must be learned (probed) again: %lld slots",
	      (long long)nslots(db, CONF_PREFIX));
	sqlite3_close(db);
	stop(&d);
}

static void pin_out_of_bounds(void)
{
	struct learnd_sim d;
	char path[4200];
	sqlite3 *db;

	db = sim_open(&d, "bounds.db", path, sizeof(path));
	if (!db)
		return;
	tick(&d);
	senders(&d, db);
	/* learnctl refuses this; a hand-written row must not get through either */
	pin_iw(db, CONF_PREFIX, 500);
	tick(&d);
	tick(&d);
	CHECK(sql_int(db, "SELECT count(*) FROM v_slots WHERE cidr = '" CONF_PREFIX "' AND (iw < 4 OR iw > 64)") == 0,
	      "a pin outside the bounds 4..64 must never reach the slots");
	CHECK(nslots(db, CONF_PREFIX) >= 2, "with the pin ignored iw is still learned (probes): %lld slots",
	      (long long)nslots(db, CONF_PREFIX));
	sqlite3_close(db);
	stop(&d);
}

static void pause_resume(void)
{
	struct learnd_sim d;
	char path[4200];
	sqlite3 *db;

	db = sim_open(&d, "pause.db", path, sizeof(path));
	if (!db)
		return;
	tick(&d);
	CHECK(!paused(&d), "a fresh database is not paused");
	set_paused(db, true);
	tick(&d);
	CHECK(paused(&d), "control.paused = 1 must pause learnd within one tick");
	tick(&d);
	CHECK(paused(&d), "and stay paused");
	set_paused(db, false);
	tick(&d);
	CHECK(!paused(&d), "control.paused = 0 must resume learnd within one tick");
	sqlite3_close(db);
	stop(&d);
}

static void while_down(void)
{
	struct learnd_sim d;
	char path[4200];
	sqlite3 *db;

	path_in(path, sizeof(path), "down.db");
	if (start(&d, path))
		return;
	tick(&d);
	stop(&d);

	/* learnd is down: learnctl pin and pause */
	db = sql_open(path);
	if (!db)
		return;
	CHECK(slot_iw(db, CONF_PREFIX, 0) != 40, "the test needs a first run that did not choose 40 itself");
	pin_iw(db, CONF_PREFIX, 40);
	set_paused(db, true);
	sqlite3_close(db);

	if (start(&d, path))
		return;
	tick(&d); /* learnd's first tick, before its first heartbeat */
	db = sql_open(path);
	CHECK(paused(&d), "a pause set while learnd was down must hold from its first tick "
			  "(or its heartbeat clears the PAUSED bit learnctl set)");
	CHECK(db && slot_iw(db, CONF_PREFIX, 0) == 40,
	      "a pin set while learnd was down must be in force after its first tick: slot 0 iw %lld",
	      db ? (long long)slot_iw(db, CONF_PREFIX, 0) : -1LL);
	CHECK(db && slots_iw_not(db, CONF_PREFIX, 40) == 0, "and not probed");
	sqlite3_close(db);
	stop(&d);
}

static void dropped(void)
{
	static struct ld_prefix_cfg pcs[2];
	const char *gone = "192.168.7.0/24";
	struct learnd_sim d;
	char path[4200], err[128];
	sqlite3 *db;

	path_in(path, sizeof(path), "dropped.db");
	if (start(&d, path))
		return;
	/* run 1: 10.0.0.0/8 and 192.168.7.0/24 */
	ld_learner_free(d.l);
	pcs[0] = d.pc;
	memset(&pcs[1], 0, sizeof(pcs[1]));
	if (ld_cidr_parse(gone, &pcs[1].key, err, sizeof(err)))
		CHECK(0, "%s", err);
	pcs[1].b = d.cfg.defaults;
	d.cfg.prefixes = pcs;
	d.cfg.nprefixes = 2;
	d.l = ld_learner_new(&d.cfg, d.h, -1);
	if (!d.l) {
		CHECK(0, "set-up");
		stop(&d);
		return;
	}
	tick(&d);
	stop(&d);
	db = sql_open(path);
	CHECK(db && nslots(db, gone) >= 1, "run 1 must have put %s in force", gone);
	sqlite3_close(db);

	/* run 2: the section is gone from the configuration */
	if (start(&d, path))
		return;
	tick(&d);
	db = sql_open(path);
	CHECK(db && nslots(db, gone) == 0,
	      "a [prefix] no longer configured must have no slots in force after the restart: %lld",
	      db ? (long long)nslots(db, gone) : -1LL);
	CHECK(db && sql_int(db, "SELECT count(*) FROM prefixes WHERE cidr = '192.168.7.0/24' AND evicted_ns IS NOT NULL") == 1,
	      "and its row must be marked evicted (its history stays)");
	CHECK(db && nslots(db, CONF_PREFIX) >= 1, "the prefix still configured stays in force");
	sqlite3_close(db);
	stop(&d);
}

static void rediscovered(void)
{
	struct learnd_sim d;
	char path[4200];
	const char *cidr = "172.16.9.0/24";
	sqlite3 *db;

	path_in(path, sizeof(path), "rediscovered.db");
	if (!start_capped(&d, path, &db))
		return;
	record(&d, 172, 16, 9, 0, 0);
	tick(&d);
	CHECK(sql_int(db, "SELECT count(*) FROM prefixes WHERE cidr = '172.16.9.0/24' AND origin = 'discovered'") == 1,
	      "%s must be discovered", cidr);
	pin_iw(db, cidr, 28);
	tick(&d);
	CHECK(slot_iw(db, cidr, 0) == 28, "pinned iw=28 must be in force: %lld", (long long)slot_iw(db, cidr, 0));

	/* 20 other /24s push it out of the table */
	for (unsigned i = 0; i < 20; i++) {
		usleep(1000); /* least recently used: by the time of the last record */
		record(&d, 172, 17, i, 0, 0);
		tick(&d);
	}
	CHECK(sql_int(db, "SELECT count(*) FROM prefixes WHERE cidr = '172.16.9.0/24' AND evicted_ns IS NOT NULL") == 1,
	      "%s must have been evicted at the cap", cidr);
	/* the slots table is what the map holds: an evicted prefix has none (and
	 * v_prefix_summary shows no value in force), nor a model state to load */
	CHECK(nslots(db, cidr) == 0, "an evicted prefix must have no slots in force: %lld", (long long)nslots(db, cidr));
	CHECK(sql_int(db, "SELECT iw FROM v_prefix_summary WHERE cidr = '172.16.9.0/24'") == -1,
	      "v_prefix_summary must not show an iw in force for an evicted prefix");
	CHECK(sql_int(db, "SELECT count(*) FROM model_state m JOIN prefixes p ON p.id = m.prefix_id "
			  "WHERE p.evicted_ns IS NOT NULL") == 0,
	      "evicted prefixes keep no model state (never read again)");
	CHECK(sql_int(db, "SELECT count(*) FROM model_state") ==
		      sql_int(db, "SELECT count(*) FROM prefixes WHERE evicted_ns IS NULL"),
	      "one model state per prefix in the table");

	/* it comes back: nobody wrote to the database, the pin must hold anyway */
	record(&d, 172, 16, 9, 0, 0);
	tick(&d);
	CHECK(sql_int(db, "SELECT count(*) FROM prefixes WHERE cidr = '172.16.9.0/24' AND evicted_ns IS NULL") == 1,
	      "%s must be back in the table", cidr);
	CHECK(slot_iw(db, cidr, 0) == 28 && slots_iw_not(db, cidr, 28) == 0,
	      "a pinned prefix seen again must come back pinned in its first tick: slot 0 iw %lld",
	      (long long)slot_iw(db, cidr, 0));
	sqlite3_close(db);
	stop(&d);
}

/* A discovered /24 starts light, on its parent's values, until LIGHT_MAX
 * records, unless the parent's IW overflowed its queue: a record whose initial
 * flight lost its last packets gives it its own model (and values) at once. */
static void light_overflow(void)
{
	struct learnd_sim d;
	struct ld_learner_stats st;
	struct learnd_record r;
	char path[4200];

	path_in(path, sizeof(path), "light.db");
	if (start(&d, path))
		return;
	record(&d, 172, 16, 5, 0, 40); /* a clean flight of 40: stays light */
	tick(&d);
	ld_learner_stats(d.l, &st);
	CHECK(st.light == 1, "a clean first record must leave the prefix light: %u light", st.light);
	fill_record(&r, 172, 16, 6, 0, 40);
	r.flight_lost = 26; /* packets 14..39 of 40: the queue took 14 */
	r.flight_first = 14;
	r.flight_last = 39;
	ld_learner_record(d.l, &r);
	ld_learner_stats(d.l, &st);
	CHECK(st.light == 1 && st.discovered == 2,
	      "an overflowed first flight must give its prefix a model at once: %u light of %llu discovered", st.light,
	      (unsigned long long)st.discovered);
	r.flight_lost = 1; /* one lost packet in the middle: random loss, stays light */
	r.flight_first = r.flight_last = 20;
	r.raddr[14] = 7;
	ld_learner_record(d.l, &r);
	ld_learner_stats(d.l, &st);
	CHECK(st.light == 2, "a loss inside the flight must leave the prefix light: %u light", st.light);
	stop(&d);
}

static void reload(void)
{
	static struct ld_prefix_cfg pcs[6];
	struct ld_config next;
	struct learnd_sim d;
	char path[4200], err[128];
	sqlite3 *db;

	path_in(path, sizeof(path), "reload.db");
	if (!start_capped(&d, path, &db))
		return;
	for (unsigned i = 0; i < 10; i++)
		record(&d, 172, 18, i, 0, 0);
	tick(&d);
	CHECK(sql_int(db, "SELECT count(*) FROM prefixes WHERE origin = 'discovered' AND evicted_ns IS NULL") == 6,
	      "6 discovered /24s must fill the table of 8");

	/* the new configuration: 10.0.0.0/8 with iw 100..200, and 5 more prefixes */
	next = d.cfg;
	for (unsigned i = 0; i < 6; i++) {
		char cidr[32];

		snprintf(cidr, sizeof(cidr), i == 0 ? CONF_PREFIX : "192.168.%u.0/24", i);
		memset(&pcs[i], 0, sizeof(pcs[i]));
		if (ld_cidr_parse(cidr, &pcs[i].key, err, sizeof(err)))
			CHECK(0, "%s", err);
		pcs[i].b = d.cfg.defaults;
	}
	pcs[0].b.r[LEARND_PARAM_IW] = (struct ld_range){ .min = 100, .max = 200, .set = true };
	next.prefixes = pcs;
	next.nprefixes = 6;
	ld_learner_set_config(d.l, &next);
	tick(&d);
	CHECK(sql_int(db, "SELECT count(*) FROM prefixes WHERE origin = 'configured' AND evicted_ns IS NULL") == 6,
	      "all 6 [prefix] sections of the new configuration must be in the table after a reload, got %lld",
	      (long long)sql_int(db, "SELECT count(*) FROM prefixes WHERE origin = 'configured' AND evicted_ns IS NULL"));
	CHECK(sql_int(db, "SELECT count(*) FROM prefixes WHERE evicted_ns IS NULL") <= 8,
	      "the table must stay within max_prefixes = 8: %lld",
	      (long long)sql_int(db, "SELECT count(*) FROM prefixes WHERE evicted_ns IS NULL"));
	CHECK(nslots(db, "192.168.5.0/24") >= 1, "a new [prefix] must have slots in force after one tick");
	CHECK(nslots(db, CONF_PREFIX) >= 1 &&
		      sql_int(db, "SELECT count(*) FROM v_slots WHERE cidr = '" CONF_PREFIX
				  "' AND (iw < 100 OR iw > 200)") == 0,
	      "the new bounds iw 100..200 must be in force one tick after the reload");
	CHECK(sql_int(db, "SELECT iw_min FROM prefixes WHERE cidr = '" CONF_PREFIX "'") == 100,
	      "the prefixes table must show the bounds in force");
	sqlite3_close(db);
	stop(&d);
}

int main(void)
{
	static const char *const files[] = { "running.db", "bounds.db", "pause.db",     "down.db",
					     "reload.db",  "dropped.db", "rediscovered.db" };

	ld_log_init("test_control", 0);
	if (!t_db_dir(dir, sizeof(dir), "control"))
		return 1;
	RUN(pin_running);
	RUN(pin_out_of_bounds);
	RUN(pause_resume);
	RUN(while_down);
	RUN(reload);
	RUN(dropped);
	RUN(rediscovered);
	RUN(light_overflow);
	t_db_dir_done(dir, files, sizeof(files) / sizeof(files[0]), !t_failed);
	return t_summary();
}
