// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The SQLite history (learner/store/store.c) with the learner that writes it
 * (learner/learnd/, persist.c), without root and without BPF (policy_fd = -1):
 *
 *   open_fresh       a missing file is created 0600, migrated, in WAL mode
 *   restart          stop + start: same prefixes, same slots, no new decisions
 *   crash            kill -9 mid-run: opens cleanly, integrity ok, every
 *                    committed record counted, nothing half-written, same slots
 *   refuse_*         random bytes, a truncated file, a newer schema: refused
 *                    with -EILSEQ / -EPROTO and a message, the file untouched
 *   refuse_foreign   other programs' SQLite files (user_version 0 or 1, a
 *                    'prefixes' table of their own, WAL mode, another
 *                    application_id): -EILSEQ before anything is written, the
 *                    file byte for byte as it was, no -wal or -shm left; a
 *                    learnd database from before application_id is taken
 *   one_writer       a second writer of one database: -EBUSY naming the
 *                    holder's pid; a dangling symbolic link as the database:
 *                    -EINVAL naming it, nothing created
 *   growth_*         aggregates bounded per prefix and hour whatever the rate;
 *                    32 raw samples per prefix at most
 *   prefix_cap       10,000 /24s through a 64-prefix table; evicted prefixes
 *                    that come back are stored again
 *   failed_tick      a tick whose transaction fails midway (a statement that
 *                    fails) leaves every table exactly as before it; the next
 *                    tick counts each record and each decision once
 *   locked_tick      another connection holds the write lock: the tick fails
 *                    within the short busy timeout learnd sets, writes nothing,
 *                    and the next one writes it all once
 *
 * The checks query the database with sqlite3 directly, as an operator would.
 * Files go to a fresh directory under $TMPDIR (default /tmp), removed at the end
 * unless a check failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "learner.h"
#include "log.h"
#include "store.h"
#include "query.h" /* ld_db_open: learnctl's side of the one open path */
#include "sqlutil.h"

#define sql_open(path) t_sql_open(path, true)
#define sql_int(db, sql) t_sql_int(db, sql, 0) /* NULL reads as 0 here */
#include "harness.h"
#include "store_sim.h"

static char dir[4096];

static void path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void rm_db(const char *path)
{
	char p[4200];

	unlink(path);
	if (snprintf(p, sizeof(p), "%s-wal", path) < (int)sizeof(p))
		unlink(p);
	if (snprintf(p, sizeof(p), "%s-shm", path) < (int)sizeof(p))
		unlink(p);
}

/* ---- direct SQL (what `sqlite3 learnd.db` would show) ---- */

/* First column of the first row as text into buf ("" when NULL or no row). */
static const char *sql_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		printf("    SQL error: %s: %s\n", sql, sqlite3_errmsg(db));
		return buf;
	}
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

/* Everything in force, as text to compare before and after a restart. */
#define SLOTS_DUMP                                                                                          \
	"SELECT group_concat(x, ' ') FROM (SELECT prefix_id || ':' || slot || ':' || share || ':' || iw || ':' " \
	"|| rwnd || ':' || syn_rto_ms || ':' || base_rtt_us || ':' || epoch AS x FROM slots ORDER BY prefix_id, slot)"
#define PREFIXES_DUMP                                                                                       \
	"SELECT group_concat(x, ' ') FROM (SELECT id || '=' || cidr || '/' || origin AS x FROM prefixes "       \
	"WHERE evicted_ns IS NULL ORDER BY id)"

static void file_bytes(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	*buf = NULL;
	*len = 0;
	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*buf = malloc(n > 0 ? (size_t)n : 1);
	if (*buf && n > 0 && fread(*buf, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	fclose(f);
}

static uint64_t fnv64(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
	return h;
}

static uint64_t file_sum(const char *path, size_t *len)
{
	char *b;
	uint64_t h;

	file_bytes(path, &b, len);
	h = fnv64(b ? b : "", *len);
	free(b);
	return h;
}

static int copy_file(const char *from, const char *to, size_t max)
{
	char *b;
	size_t n;
	int fd, rc = -1;

	file_bytes(from, &b, &n);
	if (!b)
		return -1;
	fd = open(to, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	if (fd >= 0) {
		size_t w = n < max ? n : max;

		rc = write(fd, b, w) == (ssize_t)w ? 0 : -1;
		close(fd);
	}
	free(b);
	return rc;
}

/* ---- learner set-up and the emulated data plane ---- */

static void config(struct ld_config *cfg)
{
	ld_config_init(cfg);
	/* learn IW in 4..64 and SYN RTO in 200..3000 ms; RWND, BASE_RTT kernel defaults */
	cfg->defaults.r[LEARND_PARAM_IW] = (struct ld_range){ .min = 4, .max = 64, .set = true };
	cfg->defaults.r[LEARND_PARAM_SYN_RTO] = (struct ld_range){ .min = 200, .max = 3000, .set = true };
}

/* Four /24s and two /48s with different paths (deep and shallow). */
#define NSITES 6
static void sites_init(struct site *s)
{
	site_v4(&s[0], 198, 51, 100, 20, 0);
	site_v4(&s[1], 203, 0, 113, 80, 0);
	site_v4(&s[2], 192, 0, 2, 5, 16);
	site_v4(&s[3], 10, 1, 2, 150, 0);
	site_v6(&s[4], 1, 40, 0);
	site_v6(&s[5], 2, 120, 20);
}

static void site_cidr(const struct site *s, char *buf, size_t len)
{
	struct learnd_key k = { .prefixlen = s->len };

	memcpy(k.addr, s->net, sizeof(k.addr));
	ld_cidr_format(&k, buf, len);
}

/* What the data plane would hold after learnd's last commit: each site's prefix
 * id and slots from the prefixes and slots tables. */
static void dataplane_load(sqlite3 *db, struct site *s, unsigned n)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db,
			       "SELECT p.id, s.slot, s.share, s.iw, s.rwnd, s.syn_rto_ms, s.base_rtt_us, s.epoch "
			       "FROM prefixes p JOIN slots s ON s.prefix_id = p.id "
			       "WHERE p.cidr = ?1 AND p.evicted_ns IS NULL ORDER BY s.slot",
			       -1, &st, NULL) != SQLITE_OK) {
		printf("    SQL error: %s\n", sqlite3_errmsg(db));
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		struct learnd_policy *pol = &s[i].pol;
		char cidr[LD_CIDR_STRLEN];
		uint32_t rest = 0;

		site_cidr(&s[i], cidr, sizeof(cidr));
		memset(pol, 0, sizeof(*pol));
		sqlite3_bind_text(st, 1, cidr, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(st) == SQLITE_ROW) {
			unsigned slot = (unsigned)sqlite3_column_int(st, 1);
			struct learnd_arm *a;

			if (slot >= LEARND_MAX_SLOTS)
				continue;
			a = &pol->slots[slot];
			pol->prefix_id = (uint32_t)sqlite3_column_int64(st, 0);
			a->share = (uint32_t)(sqlite3_column_double(st, 2) * LEARND_SHARE_ONE + 0.5);
			a->iw = (uint16_t)sqlite3_column_int(st, 3);
			a->rwnd = (uint16_t)sqlite3_column_int(st, 4);
			a->syn_rto_ms = (uint16_t)sqlite3_column_int(st, 5);
			a->base_rtt_us = (uint32_t)sqlite3_column_int64(st, 6);
			pol->epoch = (uint32_t)sqlite3_column_int64(st, 7);
			if (slot + 1 > pol->nslots)
				pol->nslots = slot + 1;
		}
		for (unsigned k = 1; k < pol->nslots; k++)
			rest += pol->slots[k].share;
		if (pol->nslots)
			pol->slots[0].share = LEARND_SHARE_ONE - rest;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
}

/* n records spread over the sites. */
static void feed(struct ld_learner *l, struct site *s, unsigned nsites, struct rng *r, unsigned n)
{
	struct learnd_record rec;

	for (unsigned i = 0; i < n; i++) {
		site_record(&s[rng_below(r, nsites)], r, &rec);
		ld_learner_record(l, &rec);
	}
}

static int open_store(const char *path, struct ld_store **h)
{
	char err[512];
	int rc = ld_store_open(path, h, err, sizeof(err));

	if (rc)
		printf("    ld_store_open(%s): %d: %s\n", path, rc, err);
	return rc;
}

/* ---- tests ---- */

static void open_fresh(void)
{
	struct ld_store *h = NULL;
	char path[4200], buf[64];
	struct stat sb;
	sqlite3 *db;

	path_in(path, sizeof(path), "fresh.db");
	CHECK(open_store(path, &h) == 0, "a missing database must be created");
	if (!h)
		return;
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	      "the history names every peer: mode must be 0600, is %o", sb.st_mode & 0777);
	db = sql_open(path);
	if (!db) {
		ld_store_close(h);
		return;
	}
	CHECK(!strcmp(sql_text(db, "PRAGMA journal_mode", buf, sizeof(buf)), "wal"),
	      "journal_mode must be wal (readers never block learnd), is '%s'", buf);
	CHECK(sql_int(db, "PRAGMA user_version") == LD_STORE_SCHEMA_VERSION, "user_version %lld, want %d",
	      (long long)sql_int(db, "PRAGMA user_version"), LD_STORE_SCHEMA_VERSION);
	CHECK(sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('prefixes', "
			  "'model_state', 'slots', 'aggregates', 'decisions', 'samples', 'config', 'pins', "
			  "'control', 'operator_log', 'daemon')") == 11,
	      "the tables of schema/001_init.sql must all exist");
	CHECK(sql_int(db, "SELECT count(*) FROM control WHERE key = 'paused' AND value = '0'") == 1,
	      "the migration's data (control.paused = 0) must be there");
	sqlite3_close(db);
	ld_store_close(h);
	/* a second open of the same file migrates nothing and works */
	CHECK(open_store(path, &h) == 0, "reopening a current database must work");
	ld_store_close(h);
	/* learnctl's connections refuse a missing file rather than create it */
	path_in(path, sizeof(path), "missing.db");
	{
		struct ld_db *rd = NULL;
		char err[256];

		CHECK(ld_db_open(path, false, &rd, err, sizeof(err)) == LD_DB_REFUSED && strstr(err, strerror(ENOENT)),
		      "read-only open of a missing file must be refused as missing (ENOENT): \"%s\"", err);
		CHECK(rd == NULL && access(path, F_OK) != 0, "read-only open must not create %s", path);
	}
}

/* One run of learnd on a database: rounds x (feed n, tick), then free + close
 * (ld_learner_flush first when flush, as learnd does on SIGTERM). */
static int run_learnd(const char *path, struct site *s, struct rng *r, unsigned rounds, unsigned n, bool flush)
{
	struct ld_config cfg;
	struct ld_store *h;
	struct ld_learner *l;
	sqlite3 *db;
	int errs = 0;

	config(&cfg);
	if (open_store(path, &h))
		return -1;
	l = ld_learner_new(&cfg, h, -1);
	db = sql_open(path);
	if (!l || !db) {
		ld_learner_free(l);
		ld_store_close(h);
		sqlite3_close(db);
		return -1;
	}
	for (unsigned i = 0; i < rounds; i++) {
		dataplane_load(db, s, NSITES);
		feed(l, s, NSITES, r, n);
		errs += ld_learner_tick(l) != 0;
	}
	if (flush)
		errs += ld_learner_flush(l) != 0;
	sqlite3_close(db);
	ld_learner_free(l);
	ld_store_close(h);
	return errs;
}

static char restart_db[4200]; /* kept for the refusal tests */

static void restart(void)
{
	char before_slots[16384], before_pfx[4096], after[16384];
	struct ld_learner_stats st;
	struct site s[NSITES];
	struct ld_config cfg;
	int64_t decisions, inits, npfx;
	struct ld_store *h;
	struct ld_learner *l;
	struct rng r;
	sqlite3 *db;

	rng_seed(&r, 1);
	sites_init(s);
	path_in(restart_db, sizeof(restart_db), "restart.db");
	CHECK(run_learnd(restart_db, s, &r, 30, 3000, true) == 0, "ticks of the first run must commit");
	db = sql_open(restart_db);
	if (!db)
		return;
	sql_text(db, SLOTS_DUMP, before_slots, sizeof(before_slots));
	sql_text(db, PREFIXES_DUMP, before_pfx, sizeof(before_pfx));
	decisions = sql_int(db, "SELECT count(*) FROM decisions");
	inits = sql_int(db, "SELECT count(*) FROM decisions WHERE reason = 'init'");
	npfx = sql_int(db, "SELECT count(*) FROM prefixes WHERE evicted_ns IS NULL");
	CHECK(npfx == NSITES + 1, "%d sites + the default must be stored, got %lld prefixes", NSITES,
	      (long long)npfx);
	CHECK(sql_int(db, "SELECT count(DISTINCT value) FROM aggregates WHERE param = 'iw'") >= 3,
	      "the run must have exercised several IW values (probes)");
	CHECK(inits > 0 && before_slots[0], "the first run must have decided");
	sqlite3_close(db);

	/* restart: a new learner restores from the database */
	config(&cfg);
	if (open_store(restart_db, &h))
		return;
	l = ld_learner_new(&cfg, h, -1);
	CHECK(l != NULL, "the learner must restore from its own database");
	if (!l) {
		ld_store_close(h);
		return;
	}
	ld_learner_stats(l, &st);
	CHECK(st.prefixes == npfx, "restored %u prefixes, the database has %lld", st.prefixes, (long long)npfx);
	db = sql_open(restart_db);
	CHECK(!strcmp(sql_text(db, PREFIXES_DUMP, after, sizeof(after)), before_pfx),
	      "same prefix ids and cidrs after a restart:\n      before %s\n      after  %s", before_pfx, after);
	CHECK(ld_learner_tick(l) == 0, "the first tick after a restart must commit");
	ld_learner_stats(l, &st);
	CHECK(st.decisions == 0, "a restart must not decide anew: %llu decisions in the first tick",
	      (unsigned long long)st.decisions);
	CHECK(!strcmp(sql_text(db, SLOTS_DUMP, after, sizeof(after)), before_slots),
	      "same slots in force one tick after the restart:\n      before %s\n      after  %s", before_slots,
	      after);
	CHECK(sql_int(db, "SELECT count(*) FROM decisions") == decisions,
	      "no new decision rows after a restart (%lld, was %lld)",
	      (long long)sql_int(db, "SELECT count(*) FROM decisions"), (long long)decisions);
	CHECK(sql_int(db, "SELECT count(*) FROM decisions WHERE reason = 'init'") == inits,
	      "no new 'init' decisions after a restart");
	sqlite3_close(db);
	ld_learner_free(l);
	ld_store_close(h);
}

/* kill -9 while learnd runs: a child feeds and ticks in a loop and says on a
 * pipe, before each tick, the records that tick will commit in all ('P') and,
 * after it returns 0, that they are committed ('C'); the parent kills it at a
 * random moment, perhaps inside a commit. */
struct crash_msg {
	char kind;
	uint64_t records;
};

static void crash_child(const char *path, int wfd)
{
	struct site s[NSITES];
	struct ld_config cfg;
	struct ld_store *h;
	struct ld_learner *l;
	uint64_t total = 0;
	struct rng r;
	sqlite3 *db;

	rng_seed(&r, 2);
	sites_init(s);
	config(&cfg);
	if (open_store(path, &h))
		_exit(2);
	l = ld_learner_new(&cfg, h, -1);
	db = sql_open(path);
	if (!l || !db)
		_exit(2);
	for (;;) {
		struct crash_msg m = { .kind = 'P' };

		dataplane_load(db, s, NSITES);
		feed(l, s, NSITES, &r, 2000);
		total += 2000;
		m.records = total;
		if (write(wfd, &m, sizeof(m)) != sizeof(m))
			_exit(3);
		if (ld_learner_tick(l) == 0) {
			m.kind = 'C';
			if (write(wfd, &m, sizeof(m)) != sizeof(m))
				_exit(3);
		}
	}
}

static void crash(void)
{
	char path[4200], buf[256], before_slots[16384], after[16384];
	struct crash_msg m;
	uint64_t committed = 0, pending = 0, ncommits = 0;
	struct ld_learner_stats st;
	struct ld_config cfg;
	int fds[2], status;
	struct ld_store *h;
	struct ld_learner *l;
	int64_t total, inits;
	sqlite3 *db;
	pid_t pid;

	path_in(path, sizeof(path), "crash.db");
	if (pipe(fds)) {
		CHECK(0, "pipe: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		crash_child(path, fds[1]);
	}
	close(fds[1]);
	while (ncommits < 12 && read(fds[0], &m, sizeof(m)) == sizeof(m)) {
		if (m.kind == 'C') {
			committed = m.records;
			ncommits++;
		} else {
			pending = m.records;
		}
	}
	CHECK(ncommits == 12, "the child must commit ticks before it is killed");
	{
		struct timespec ts = { 0, (long)(rand() % 20) * 1000000L }; /* kill at a random point */

		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the child must die of SIGKILL (status %d)",
	      status);
	while (read(fds[0], &m, sizeof(m)) == sizeof(m)) {
		if (m.kind == 'C')
			committed = m.records;
		else
			pending = m.records;
	}
	close(fds[0]);

	/* what a restarted learnd sees */
	if (open_store(path, &h)) {
		CHECK(0, "the database must open cleanly after kill -9");
		return;
	}
	db = sql_open(path);
	if (!db) {
		ld_store_close(h);
		return;
	}
	CHECK(!strcmp(sql_text(db, "PRAGMA integrity_check", buf, sizeof(buf)), "ok"),
	      "integrity_check after kill -9: %s", buf);
	/* every record is counted once in the aggregates of its discovered prefix */
	total = sql_int(db, "SELECT coalesce(sum(a.n), 0) FROM aggregates a JOIN prefixes p ON p.id = a.prefix_id "
			    "WHERE a.param = 'iw' AND p.origin = 'discovered'");
	CHECK((uint64_t)total == committed || (uint64_t)total == pending,
	      "aggregates after kill -9 count %lld records; the child had committed %llu (or was committing "
	      "%llu): committed data lost or a tick half-written",
	      (long long)total, (unsigned long long)committed, (unsigned long long)pending);
	printf("    killed after %llu committed records; the database counts %lld\n",
	       (unsigned long long)committed, (long long)total);
	sql_text(db, SLOTS_DUMP, before_slots, sizeof(before_slots));
	inits = sql_int(db, "SELECT count(*) FROM decisions WHERE reason = 'init'");

	config(&cfg);
	l = ld_learner_new(&cfg, h, -1);
	CHECK(l != NULL, "the learner must restore after kill -9");
	if (l) {
		CHECK(ld_learner_tick(l) == 0, "first tick after kill -9 must commit");
		ld_learner_stats(l, &st);
		CHECK(st.decisions == 0, "the same policies must be back within one tick: %llu new decisions",
		      (unsigned long long)st.decisions);
		CHECK(!strcmp(sql_text(db, SLOTS_DUMP, after, sizeof(after)), before_slots),
		      "slots after kill -9 and one tick:\n      before %s\n      after  %s", before_slots, after);
		CHECK(sql_int(db, "SELECT count(*) FROM decisions WHERE reason = 'init'") == inits,
		      "no new 'init' decisions after kill -9");
		ld_learner_free(l);
	}
	sqlite3_close(db);
	ld_store_close(h);
}

/* One open of path: learnd's (mode 0) or learnctl's read-write (1) or
 * read-only (2) connection; 0 or what the open returned, err its message. */
static int open_mode(const char *path, unsigned mode, char *err, size_t errlen)
{
	struct ld_store *h = (struct ld_store *)1;
	struct ld_db *db = (struct ld_db *)1;
	int rc;

	if (mode == 0) {
		rc = ld_store_open(path, &h, err, errlen);
		CHECK(rc ? h == NULL : h != NULL, "a refused open must leave *out NULL");
		if (!rc)
			ld_store_close(h);
		return rc;
	}
	rc = ld_db_open(path, mode == 1, &db, err, errlen);
	CHECK(rc ? db == NULL : db != NULL, "a refused open must leave *out NULL");
	if (!rc)
		ld_db_close(db);
	return rc;
}

/* Refused: the return (want for learnd, LD_DB_REFUSED for learnctl), the
 * message (words; learnctl's words_ctl when it names itself), and the file as
 * it was. */
static void refused(const char *path, int want, const char *words, const char *words_ctl)
{
	static const char *const mode_name[] = { "write", "control", "read-only" };
	size_t len0, len1;
	uint64_t sum0 = file_sum(path, &len0), sum1;

	for (unsigned i = 0; i < 3; i++) {
		const char *w = i && words_ctl ? words_ctl : words;
		int want_i = i ? LD_DB_REFUSED : want;
		char err[1024] = "";
		int rc = open_mode(path, i, err, sizeof(err));

		CHECK(rc == want_i, "%s open of %s: got %d (%s), want %d (%s)", mode_name[i], path, rc,
		      rc < 0 ? strerror(-rc) : "success", want_i, strerror(-want_i));
		CHECK(strstr(err, w) != NULL, "the message must say '%s': \"%s\"", w, err);
		CHECK(strstr(err, path) != NULL, "the message must name the file: \"%s\"", err);
		if (i == 0 || (words_ctl && i == 2))
			printf("    %s\n", err);
	}
	sum1 = file_sum(path, &len1);
	CHECK(sum0 == sum1 && len0 == len1, "a refused file must be left as it is (%zu bytes, %016llx -> %zu "
	      "bytes, %016llx)", len0, (unsigned long long)sum0, len1, (unsigned long long)sum1);
}

static void refuse_random(void)
{
	char path[4200], b[16384];
	struct rng r;
	int fd;

	rng_seed(&r, 3);
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (char)rng_u64(&r);
	path_in(path, sizeof(path), "random.db");
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	CHECK(fd >= 0 && write(fd, b, sizeof(b)) == sizeof(b), "write %s", path);
	close(fd);
	refused(path, -EILSEQ, "corrupt or not a learnd database", NULL);
}

static void refuse_truncated(void)
{
	char path[4200];
	size_t len;

	file_sum(restart_db, &len);
	CHECK(len > 8 * 4096, "restart.db must have enough pages to truncate (%zu bytes)", len);
	path_in(path, sizeof(path), "truncated.db");
	CHECK(copy_file(restart_db, path, len / 2) == 0, "copy %s", path);
	refused(path, -EILSEQ, "corrupt", NULL);
}

static void refuse_newer(void)
{
	char path[4200], sql[64];
	sqlite3 *db;

	path_in(path, sizeof(path), "newer.db");
	CHECK(copy_file(restart_db, path, SIZE_MAX) == 0, "copy %s", path);
	db = sql_open(path);
	if (!db)
		return;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", LD_STORE_SCHEMA_VERSION + 1);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);
	refused(path, -EPROTO, "newer than this learnd", "newer than this learnctl");
}

/* An SQLite file made by "another program": SQL run on a fresh file. */
static void make_foreign(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	rm_db(path);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK,
	      "make %s: %s", path, db ? sqlite3_errmsg(db) : "?");
	sqlite3_close(db);
}

static bool exists_suffix(const char *path, const char *suffix)
{
	char p[4300];

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return access(p, F_OK) == 0;
}

static void refuse_foreign(void)
{
	static const struct {
		const char *name, *sql;
	} files[] = {
		{ "foreign0.db", "CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes VALUES (1, 'x')" },
		{ "foreign1.db", "PRAGMA user_version = 1; CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT)" },
		{ "foreignp.db", "CREATE TABLE prefixes(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO prefixes VALUES "
				 "(1, 'mine')" },
		{ "foreignw.db", "PRAGMA journal_mode = WAL; CREATE TABLE notes(id INTEGER PRIMARY KEY)" },
		{ "foreignu.db", "PRAGMA user_version = 1" },
	};
	char path[4200];
	struct ld_store *h;
	sqlite3 *db;

	for (unsigned i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path_in(path, sizeof(path), files[i].name);
		make_foreign(path, files[i].sql);
		refused(path, -EILSEQ, "not a learnd database", NULL);
		CHECK(!exists_suffix(path, "-wal") && !exists_suffix(path, "-shm") && !exists_suffix(path, "-journal"),
		      "a refused %s must not leave -wal, -shm or -journal behind", files[i].name);
	}
	/* another program's tables in its -wal alone (the file says empty, no tables):
	 * the files copied while it has them open, so the -wal stays un-checkpointed */
	for (int empty = 0; empty < 2; empty++) {
		char wal[4300], from[4300];
		sqlite3 *w = NULL;
		size_t len0, len1;
		uint64_t sum0, sum1;

		path_in(path, sizeof(path), empty ? "foreignwe.db" : "foreignwal.db");
		rm_db(path);
		snprintf(wal, sizeof(wal), "%s-wal", path);
		path_in(from, sizeof(from), "walwriter.db");
		rm_db(from);
		CHECK(sqlite3_open(from, &w) == SQLITE_OK &&
		      sqlite3_exec(w, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE notes(id "
				      "INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes VALUES (1, 'x')",
				   NULL, NULL, NULL) == SQLITE_OK,
		      "make %s: %s", from, w ? sqlite3_errmsg(w) : "?");
		CHECK(copy_file(from, path, empty ? 0 : SIZE_MAX) == 0, "copy %s", path);
		snprintf(from + strlen(from), sizeof(from) - strlen(from), "-wal");
		CHECK(copy_file(from, wal, SIZE_MAX) == 0, "copy %s", wal);
		sqlite3_close(w);
		sum0 = file_sum(wal, &len0);
		CHECK(len0 > 32, "the -wal of %s must hold frames (%zu bytes)", path, len0);
		refused(path, -EILSEQ, empty ? "its -wal holds pages" : "in its -wal", NULL);
		sum1 = file_sum(wal, &len1);
		CHECK(sum0 == sum1 && len0 == len1, "the -wal of a refused %s must be left as it is", path);
		CHECK(!exists_suffix(path, "-shm") && !exists_suffix(path, "-journal"),
		      "a refused %s must not get a -shm or -journal", path);
		rm_db(path);
	}
	/* learnd's own tables under another program's mark */
	path_in(path, sizeof(path), "foreigna.db");
	CHECK(copy_file(restart_db, path, SIZE_MAX) == 0, "copy %s", path);
	db = sql_open(path);
	CHECK(db && sqlite3_exec(db, "PRAGMA application_id = 305419896", NULL, NULL, NULL) == SQLITE_OK, "app id");
	sqlite3_close(db);
	refused(path, -EILSEQ, "application_id 0x12345678", NULL);
	/* a learnd database from before learnd set application_id: taken, and marked */
	path_in(path, sizeof(path), "legacy.db");
	CHECK(copy_file(restart_db, path, SIZE_MAX) == 0, "copy %s", path);
	db = sql_open(path);
	CHECK(db && sqlite3_exec(db, "PRAGMA application_id = 0", NULL, NULL, NULL) == SQLITE_OK, "app id 0");
	sqlite3_close(db);
	CHECK(open_store(path, &h) == 0, "a learnd database without application_id must be taken");
	ld_store_close(h);
	db = sql_open(path);
	CHECK(sql_int(db, "PRAGMA application_id") == LD_STORE_APPLICATION_ID, "and marked as learnd's");
	sqlite3_close(db);
}

/* A database (or its -wal, or its directory) that another user owns or may
 * write: refused by learnd, naming owner and mode, and left as it is. */
static void refuse_others(void)
{
	char sub[4200], path[4300], side[4400], err[1024];
	struct ld_store *h = NULL;
	int fd;

	path_in(sub, sizeof(sub), "others");
	CHECK(mkdir(sub, 0700) == 0, "mkdir %s", sub);
	snprintf(path, sizeof(path), "%s/learnd.db", sub);
	/* a file others may write, made before learnd */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && fchmod(fd, 0666) == 0, "make %s", path);
	close(fd);
	CHECK(ld_store_open(path, &h, err, sizeof(err)) == -EINVAL && !h, "a 0666 database must be refused");
	printf("    %s\n", err);
	CHECK(strstr(err, path) && strstr(err, "mode 0666") && strstr(err, "uid "), "owner and mode named: %s", err);
	if (geteuid() == 0) { /* another user's file, mode 0600 */
		CHECK(chmod(path, 0600) == 0 && chown(path, 65534, 65534) == 0, "chown %s", path);
		CHECK(ld_store_open(path, &h, err, sizeof(err)) == -EINVAL && !h, "another user's database must be refused");
		printf("    %s\n", err);
		CHECK(strstr(err, "uid 65534") && strstr(err, "another user's"), "the owner named: %s", err);
	}
	unlink(path);
	/* a -wal planted before learnd makes one */
	snprintf(side, sizeof(side), "%s-wal", path);
	fd = open(side, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && fchmod(fd, 0622) == 0, "make %s", side);
	close(fd);
	CHECK(ld_store_open(path, &h, err, sizeof(err)) == -EINVAL && !h, "a -wal others may write must be refused");
	printf("    %s\n", err);
	CHECK(strstr(err, "its -wal") && access(path, F_OK) != 0, "named, and no database made: %s", err);
	unlink(side);
	/* a directory others may write (sticky or not) */
	CHECK(chmod(sub, 01777) == 0, "chmod %s", sub);
	CHECK(ld_store_open(path, &h, err, sizeof(err)) == -EINVAL && !h, "a world-writable directory must be refused");
	printf("    %s\n", err);
	CHECK(strstr(err, "its directory") && strstr(err, "mode 1777") && access(path, F_OK) != 0,
	      "the directory named, and no database made in it: %s", err);
	CHECK(chmod(sub, 0700) == 0, "chmod %s", sub);
	CHECK(open_store(path, &h) == 0, "the same database in a directory of its own is taken");
	ld_store_close(h);
	rm_db(path);
	rmdir(sub);
}

static void one_writer(void)
{
	char path[4200], target[4200], err[512], pid[32];
	struct ld_store *h1 = NULL, *h2 = NULL;

	path_in(path, sizeof(path), "one.db");
	CHECK(open_store(path, &h1) == 0, "first writer");
	CHECK(ld_store_open(path, &h2, err, sizeof(err)) == -EBUSY,
	      "a second writer of one database must be refused with -EBUSY");
	printf("    %s\n", err);
	snprintf(pid, sizeof(pid), "pid %d", (int)getpid());
	CHECK(strstr(err, "in use by another learnd") && strstr(err, pid) && strstr(err, path),
	      "the message must name the database and the holder's %s: \"%s\"", pid, err);
	CHECK(h2 == NULL, "refused: no handle");
	ld_store_close(h1);
	CHECK(open_store(path, &h2) == 0, "once the first one closed, a writer gets it");
	ld_store_close(h2);

	path_in(path, sizeof(path), "dangling.db");
	path_in(target, sizeof(target), "nowhere.db");
	CHECK(symlink(target, path) == 0, "symlink %s", path);
	CHECK(ld_store_open(path, &h2, err, sizeof(err)) == -EINVAL,
	      "a dangling symbolic link as the database must be -EINVAL");
	printf("    %s\n", err);
	CHECK(strstr(err, "symbolic link") && strstr(err, target), "the message must say so and name the target: \"%s\"", err);
	CHECK(access(target, F_OK) != 0, "nothing must be created through the link");
	unlink(path);
}

/*
 * The bound, at the store: aggregates rows are keyed (prefix, param, value,
 * 5-minute bucket), so per prefix and hour there are at most
 *   12 buckets x (values of iw + of rwnd + of syn_rto_ms + of base_rtt_us)
 * rows, however many connections (and ticks) add to them.  Here 4 prefixes,
 * 6 hours, 30 ticks per bucket, each adding every (param, value) pair of a
 * learning prefix: iw all 10 values allowed by 4..64 plus 0 (not applied), rwnd
 * 0, syn_rto_ms 3 estimates, base_rtt_us 0: 16 pairs, 192 rows per prefix-hour.
 * Run twice, at 1,000 and at 100,000 connections per pair and tick: the same
 * rows.  Prints the bytes the database grows by per prefix and hour.
 */
#define G_PREFIXES 4
#define G_HOURS 6
#define G_TICKS 30
#define BUCKET_NS (300ull * 1000000000ull)

static const struct {
	enum learnd_param p;
	uint32_t v;
} g_pairs[] = {
	{ LEARND_PARAM_IW, 0 },       { LEARND_PARAM_IW, 4 },       { LEARND_PARAM_IW, 6 },
	{ LEARND_PARAM_IW, 8 },       { LEARND_PARAM_IW, 10 },      { LEARND_PARAM_IW, 14 },
	{ LEARND_PARAM_IW, 20 },      { LEARND_PARAM_IW, 28 },      { LEARND_PARAM_IW, 40 },
	{ LEARND_PARAM_IW, 56 },      { LEARND_PARAM_IW, 64 },      { LEARND_PARAM_RWND, 0 },
	{ LEARND_PARAM_SYN_RTO, 0 },  { LEARND_PARAM_SYN_RTO, 240 }, { LEARND_PARAM_SYN_RTO, 300 },
	{ LEARND_PARAM_BASE_RTT, 0 },
};
#define G_NPAIRS (sizeof(g_pairs) / sizeof(g_pairs[0]))

static int64_t db_bytes(sqlite3 *db)
{
	sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	return sql_int(db, "PRAGMA page_count") * sql_int(db, "PRAGMA page_size");
}

static void growth_run(const char *name, uint64_t per_tick, int64_t *bytes_per_prefix_hour, int64_t *rows)
{
	uint64_t t0 = (ld_wall_ns() / BUCKET_NS - 12 * G_HOURS) * BUCKET_NS;
	int64_t size1 = 0, size_end, max_ph;
	char path[4200];
	struct ld_store *h;
	sqlite3 *db;
	int rc = 0;

	path_in(path, sizeof(path), name);
	if (open_store(path, &h))
		return;
	db = sql_open(path);
	for (unsigned b = 0; !rc && b < 12 * G_HOURS; b++) {
		for (unsigned t = 0; !rc && t < G_TICKS; t++) {
			rc = ld_store_begin(h);
			for (uint32_t id = 1; !rc && id <= G_PREFIXES; id++)
				for (unsigned k = 0; !rc && k < G_NPAIRS; k++) {
					struct ld_agg a = { .n = per_tick, .failed = per_tick / 100,
							    .cost_sum = 120.0 * (double)per_tick,
							    .cost_sum2 = 120.0 * 120.0 * (double)per_tick,
							    .handshake_sum = 20.0 * (double)per_tick,
							    .retrans = per_tick / 50, .segs_out = per_tick * 30,
							    .bytes = per_tick * 40000 };

					rc = ld_store_add_aggregate(h, id, g_pairs[k].p, g_pairs[k].v,
								    t0 + b * BUCKET_NS, &a);
				}
			if (!rc)
				rc = ld_store_commit(h);
		}
		if (b == 11)
			size1 = db_bytes(db);
	}
	CHECK(rc == 0, "add_aggregate: %s", ld_store_errmsg(h));
	size_end = db_bytes(db);
	*rows = sql_int(db, "SELECT count(*) FROM aggregates");
	max_ph = sql_int(db, "SELECT max(c) FROM (SELECT count(*) AS c FROM aggregates GROUP BY prefix_id, "
			     "bucket_ns / 3600000000000)");
	CHECK(*rows == (int64_t)(G_PREFIXES * 12 * G_HOURS * G_NPAIRS),
	      "rows: %lld, want prefixes x buckets x pairs = %d", (long long)*rows,
	      (int)(G_PREFIXES * 12 * G_HOURS * G_NPAIRS));
	CHECK(max_ph <= (int64_t)(12 * G_NPAIRS), "rows per prefix per hour %lld > 12 x %zu", (long long)max_ph,
	      G_NPAIRS);
	CHECK(sql_int(db, "SELECT sum(n) FROM aggregates") == (int64_t)(per_tick * G_PREFIXES * 12 * G_HOURS *
								      G_TICKS * G_NPAIRS),
	      "the counts must add up: %lld", (long long)sql_int(db, "SELECT sum(n) FROM aggregates"));
	*bytes_per_prefix_hour = (size_end - size1) / (G_PREFIXES * (G_HOURS - 1));
	sqlite3_close(db);
	ld_store_close(h);
}

static void growth_store(void)
{
	int64_t bph_lo, bph_hi, rows_lo, rows_hi;

	growth_run("growth_lo.db", 1000, &bph_lo, &rows_lo);
	growth_run("growth_hi.db", 100000, &bph_hi, &rows_hi);
	CHECK(rows_lo == rows_hi, "100x the connections must give the same rows (%lld vs %lld)",
	      (long long)rows_lo, (long long)rows_hi);
	/* the same rows; integers take a byte or two more at the high rate */
	CHECK(bph_hi <= bph_lo * 5 / 4 + 4096, "bytes per prefix-hour grew with the rate: %lld -> %lld",
	      (long long)bph_lo, (long long)bph_hi);
	printf("    aggregates: %zu (param, value) pairs x 12 buckets = %zu rows per prefix-hour; "
	       "%lld bytes per prefix-hour at 3.6M conns/h per pair, %lld at 360M\n",
	       G_NPAIRS, 12 * G_NPAIRS, (long long)bph_lo, (long long)bph_hi);
}

/*
 * The bound, through the learner (wall time is real here: a run stays in one
 * or two buckets): 600,000 records over 6 prefixes in 300 ticks.  Per prefix,
 * parameter and bucket, rows <= the values that parameter can have had:
 *   iw: the 10 values 4..64 allows + 0 (not applied);  rwnd, base_rtt_us: 0;
 *   syn_rto_ms: 0 + each estimate in force (1 + its decisions).
 * Raw samples: a ring of 32 per prefix.
 */
static void growth_learner(void)
{
	struct site s[NSITES];
	char path[4200];
	int64_t buckets, bad;
	struct rng r;
	sqlite3 *db;

	rng_seed(&r, 4);
	sites_init(s);
	path_in(path, sizeof(path), "growth_learner.db");
	CHECK(run_learnd(path, s, &r, 300, 2000, false) == 0, "every tick must commit");
	db = sql_open(path);
	if (!db)
		return;
	buckets = sql_int(db, "SELECT count(DISTINCT bucket_ns) FROM aggregates");
	CHECK(buckets >= 1 && buckets <= 2, "a run of seconds touches 1 or 2 buckets, not %lld", (long long)buckets);
	bad = sql_int(db, "SELECT count(*) FROM (SELECT prefix_id, bucket_ns, count(*) AS c FROM aggregates "
			  "WHERE param = 'iw' GROUP BY prefix_id, bucket_ns HAVING c > 11)");
	CHECK(bad == 0, "%lld (prefix, bucket) with more iw rows than values allowed + 1", (long long)bad);
	bad = sql_int(db, "SELECT count(*) FROM (SELECT prefix_id, bucket_ns, count(*) AS c FROM aggregates "
			  "WHERE param IN ('rwnd', 'base_rtt_us') GROUP BY prefix_id, bucket_ns HAVING c > 2)");
	CHECK(bad == 0, "%lld (prefix, bucket) with rwnd/base_rtt_us rows for values never in force", (long long)bad);
	bad = sql_int(db, "SELECT count(*) FROM (SELECT a.prefix_id, a.bucket_ns, count(*) AS c FROM aggregates a "
			  "WHERE a.param = 'syn_rto_ms' GROUP BY a.prefix_id, a.bucket_ns "
			  "HAVING c > 2 + (SELECT count(*) FROM decisions d WHERE d.prefix_id = a.prefix_id "
			  "AND d.param = 'syn_rto_ms'))");
	CHECK(bad == 0, "%lld (prefix, bucket) with more syn_rto_ms rows than estimates in force", (long long)bad);
	CHECK(sql_int(db, "SELECT max(c) FROM (SELECT count(*) AS c FROM samples GROUP BY prefix_id)") == 32,
	      "samples: a ring of 32 per prefix, full after 300 ticks (max %lld)",
	      (long long)sql_int(db, "SELECT max(c) FROM (SELECT count(*) AS c FROM samples GROUP BY prefix_id)"));
	CHECK(sql_int(db, "SELECT count(*) FROM samples WHERE seq < 0 OR seq > 31") == 0, "sample seq 0..31");
	printf("    600,000 records in 300 ticks: %lld aggregate rows, %lld samples, %lld decisions, %lld prefixes\n",
	       (long long)sql_int(db, "SELECT count(*) FROM aggregates"),
	       (long long)sql_int(db, "SELECT count(*) FROM samples"),
	       (long long)sql_int(db, "SELECT count(*) FROM decisions"),
	       (long long)sql_int(db, "SELECT count(*) FROM prefixes"));
	sqlite3_close(db);
}

/*
 * The cap: max_prefixes 64 (63 discovered + the default), 10,000 /24s, one
 * after another with 3 connections each, a tick every 60 records (20 new /24s
 * a tick, so each is stored before it is evicted).  The table never holds more
 * than 64; every /24 is discovered and stored, all but those still held are
 * evicted, and the database keeps their history.  Then the first 20 /24s
 * (evicted long ago) come back: they are discovered again, stored again, and
 * the ticks still commit.
 */
static void prefix_cap(void)
{
	struct ld_learner_stats st;
	struct ld_config cfg;
	unsigned over = 0, max_seen = 0, tick_errs = 0;
	int64_t old_id = -1;
	struct ld_store *h;
	struct ld_learner *l;
	char path[4200];
	struct rng r;
	sqlite3 *db;

	rng_seed(&r, 5);
	config(&cfg);
	cfg.max_prefixes = 64;
	path_in(path, sizeof(path), "cap.db");
	if (open_store(path, &h))
		return;
	l = ld_learner_new(&cfg, h, -1);
	if (!l) {
		CHECK(0, "learner");
		ld_store_close(h);
		return;
	}
	for (unsigned i = 0; i < 10000 * 3; i++) {
		struct site s;
		struct learnd_record rec;

		site_v4(&s, 10, (i / 3) / 256, (i / 3) % 256, 30, 0);
		site_record(&s, &r, &rec);
		ld_learner_record(l, &rec);
		ld_learner_stats(l, &st);
		if (st.prefixes > cfg.max_prefixes)
			over++;
		if (st.prefixes > max_seen)
			max_seen = st.prefixes;
		if (i % 60 == 59)
			tick_errs += ld_learner_tick(l) != 0;
	}
	tick_errs += ld_learner_tick(l) != 0;
	ld_learner_stats(l, &st);
	CHECK(over == 0, "the table held more than max_prefixes = %u after %u records (max %u)", cfg.max_prefixes,
	      over, max_seen);
	CHECK(st.discovered == 10000, "10,000 /24s must be discovered once each, got %llu",
	      (unsigned long long)st.discovered);
	CHECK(st.evicted == st.discovered - (st.prefixes - 1), "evicted %llu, want discovered %llu - held %u",
	      (unsigned long long)st.evicted, (unsigned long long)st.discovered, st.prefixes - 1);
	CHECK(tick_errs == 0 && st.store_errors == 0, "ticks must commit (%u failed)", tick_errs);
	printf("    10,000 /24s, cap 64: held at most %u, evicted %llu\n", max_seen, (unsigned long long)st.evicted);

	/* evicted prefixes come back */
	db = sql_open(path);
	if (db) {
		CHECK(sql_int(db, "SELECT count(*) FROM prefixes WHERE origin = 'discovered'") == 10000,
		      "every discovered /24 keeps its row (history stays): %lld",
		      (long long)sql_int(db, "SELECT count(*) FROM prefixes WHERE origin = 'discovered'"));
		CHECK(sql_int(db, "SELECT count(*) FROM prefixes WHERE evicted_ns IS NULL") == st.prefixes,
		      "the rows not marked evicted must be the %u prefixes held", st.prefixes);
		old_id = sql_int(db, "SELECT id FROM prefixes WHERE cidr = '10.0.0.0/24' AND evicted_ns IS NOT NULL");
		CHECK(old_id > 0, "10.0.0.0/24 must be stored and marked evicted");
		sqlite3_close(db);
	}
	for (unsigned i = 0; i < 20 * 3; i++) {
		struct site s;
		struct learnd_record rec;

		site_v4(&s, 10, (i / 3) / 256, (i / 3) % 256, 30, 0);
		site_record(&s, &r, &rec);
		ld_learner_record(l, &rec);
	}
	tick_errs = ld_learner_tick(l) != 0;
	tick_errs += ld_learner_tick(l) != 0;
	ld_learner_stats(l, &st);
	CHECK(tick_errs == 0 && st.store_errors == 0,
	      "a prefix evicted and then seen again must not break the store: %u ticks failed (%s)", tick_errs,
	      ld_store_errmsg(h));
	db = sql_open(path);
	if (db) {
		CHECK(sql_int(db, "SELECT id FROM prefixes WHERE cidr = '10.0.0.0/24' AND evicted_ns IS NULL") == old_id,
		      "10.0.0.0/24, seen again, must be back in the database under its id %lld", (long long)old_id);
		CHECK(sql_int(db, "SELECT count(DISTINCT a.bucket_ns) >= 0 AND sum(a.n) >= 6 FROM aggregates a "
				  "WHERE a.prefix_id = " "(SELECT id FROM prefixes WHERE cidr = '10.0.0.0/24') "
				  "AND a.param = 'iw'") == 1,
		      "its history must go on: both visits (3 + 3 connections) counted");
		CHECK(sql_int(db, "SELECT count(*) FROM prefixes WHERE evicted_ns IS NULL") <= cfg.max_prefixes,
		      "the database must not list more prefixes in the table than the cap");
		sqlite3_close(db);
	}
	ld_learner_free(l);
	ld_store_close(h);
}

/* ---- failed ticks ---- */

/* A hash of every row of the tables a tick writes (a sum of row hashes, so
 * row order does not matter): equal means unchanged. */
static uint64_t data_hash(sqlite3 *db)
{
	static const char *const tables[] = { "prefixes", "model_state", "slots", "aggregates", "decisions",
					      "samples", "daemon" };
	uint64_t h = 1469598103934665603ull;

	for (unsigned t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		char sql[128];
		sqlite3_stmt *st;

		snprintf(sql, sizeof(sql), "SELECT * FROM %s", tables[t]);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
			printf("    SQL error: %s: %s\n", sql, sqlite3_errmsg(db));
			return 0;
		}
		while (sqlite3_step(st) == SQLITE_ROW) {
			uint64_t row = t + 1;

			for (int c = 0; c < sqlite3_column_count(st); c++) {
				const void *b = sqlite3_column_blob(st, c);
				int n = sqlite3_column_bytes(st, c);

				row = (row ^ fnv64(b ? b : "", (size_t)n)) * 1099511628211ull;
			}
			h += row;
		}
		sqlite3_finalize(st);
	}
	return h;
}

/* Each record counted once: per prefix, the connections of its aggregates
 * (rwnd: one value, never dropped for lack of room) equal its conns_total. */
#define RECOUNT_SQL                                                                                          \
	"SELECT count(*) FROM prefixes p WHERE p.conns_total != (SELECT coalesce(sum(n), 0) FROM aggregates a " \
	"WHERE a.prefix_id = p.id AND a.param = 'rwnd')"

struct tick_env {
	struct site s[NSITES];
	struct ld_config cfg;
	struct ld_store *h;
	struct ld_learner *l;
	struct rng r;
	sqlite3 *db;
};

static bool tick_env_open(struct tick_env *e, const char *name)
{
	char path[4200];

	memset(e, 0, sizeof(*e));
	rng_seed(&e->r, 11);
	sites_init(e->s);
	config(&e->cfg);
	path_in(path, sizeof(path), name);
	if (open_store(path, &e->h))
		return false;
	e->l = ld_learner_new(&e->cfg, e->h, -1);
	e->db = sql_open(path);
	CHECK(e->l && e->db, "learner and SQL connection on %s", path);
	for (unsigned i = 0; e->l && e->db && i < 3; i++) {
		dataplane_load(e->db, e->s, NSITES);
		feed(e->l, e->s, NSITES, &e->r, 300);
		CHECK(ld_learner_tick(e->l) == 0, "tick %u must commit", i);
	}
	return e->l && e->db;
}

static void tick_env_check(struct tick_env *e, uint64_t before, const char *what)
{
	struct ld_learner_stats st;

	CHECK(data_hash(e->db) == before, "%s: the database must be exactly as before the failed tick", what);
	/* the next ticks write it all, once */
	for (unsigned i = 0; i < 3; i++) {
		dataplane_load(e->db, e->s, NSITES);
		feed(e->l, e->s, NSITES, &e->r, 100);
		CHECK(ld_learner_tick(e->l) == 0, "%s: tick %u after it must commit", what, i);
	}
	ld_learner_stats(e->l, &st);
	CHECK(sql_int(e->db, RECOUNT_SQL) == 0, "%s: %lld prefixes whose aggregates count records twice (or not at all)",
	      what, (long long)sql_int(e->db, RECOUNT_SQL));
	CHECK(sql_int(e->db, "SELECT sum(conns_total) FROM prefixes WHERE origin != 'default'") ==
		      (int64_t)st.records,
	      "%s: %lld connections stored, %llu records fed", what,
	      (long long)sql_int(e->db, "SELECT sum(conns_total) FROM prefixes WHERE origin != 'default'"),
	      (unsigned long long)st.records);
	CHECK(sql_int(e->db, "SELECT count(*) FROM decisions") == (int64_t)st.decisions,
	      "%s: %lld decision rows for %llu decisions made", what,
	      (long long)sql_int(e->db, "SELECT count(*) FROM decisions"), (unsigned long long)st.decisions);
}

static void tick_env_close(struct tick_env *e)
{
	sqlite3_close(e->db);
	ld_learner_free(e->l);
	ld_store_close(e->h);
}

static void failed_tick(void)
{
	struct tick_env e;
	uint64_t before;

	if (!tick_env_open(&e, "failed.db")) {
		tick_env_close(&e);
		return;
	}
	before = data_hash(e.db);
	/* the first prefix's aggregates go in, then its sample fails: the rest
	 * of the transaction must not be committed with it */
	CHECK(sqlite3_exec(e.db, "CREATE TRIGGER fail_tick BEFORE INSERT ON samples BEGIN "
				 "SELECT RAISE(ABORT, 'test: this tick fails'); END", NULL, NULL, NULL) == SQLITE_OK,
	      "trigger: %s", sqlite3_errmsg(e.db));
	dataplane_load(e.db, e.s, NSITES);
	feed(e.l, e.s, NSITES, &e.r, 300);
	CHECK(ld_learner_tick(e.l) != 0, "a tick whose statement fails must fail");
	CHECK(ld_learner_tick(e.l) != 0, "and the next one while the cause lasts");
	CHECK(sqlite3_exec(e.db, "DROP TRIGGER fail_tick", NULL, NULL, NULL) == SQLITE_OK, "drop trigger");
	tick_env_check(&e, before, "failed statement");
	tick_env_close(&e);
}

static void locked_tick(void)
{
	struct timespec t0, t1;
	struct tick_env e;
	uint64_t before;
	double ms;

	if (!tick_env_open(&e, "locked.db")) {
		tick_env_close(&e);
		return;
	}
	before = data_hash(e.db);
	ld_store_busy_timeout(e.h, 20); /* what learnd sets once it runs */
	CHECK(sqlite3_exec(e.db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK, "lock: %s", sqlite3_errmsg(e.db));
	feed(e.l, e.s, NSITES, &e.r, 300);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(ld_learner_tick(e.l) == -EBUSY, "a tick that cannot take the write lock must fail with -EBUSY");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	CHECK(ms < 500, "the tick must give up within the busy timeout, not wait for the lock: %.0f ms", ms);
	printf("    tick with the write lock held elsewhere: failed in %.1f ms\n", ms);
	CHECK(sqlite3_exec(e.db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK, "unlock: %s", sqlite3_errmsg(e.db));
	tick_env_check(&e, before, "locked database");
	tick_env_close(&e);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	ld_log_init("test_store", 0);
	srand((unsigned)time(NULL));
	snprintf(dir, sizeof(dir), "%s/learnd-test-store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	printf("files in %s\n", dir);
	RUN(open_fresh);
	RUN(restart);
	RUN(crash);
	RUN(refuse_random);
	RUN(refuse_truncated);
	RUN(refuse_newer);
	RUN(refuse_foreign);
	RUN(refuse_others);
	RUN(one_writer);
	RUN(growth_store);
	RUN(growth_learner);
	RUN(prefix_cap);
	RUN(failed_tick);
	RUN(locked_tick);
	if (!t_failed) {
		static const char *const names[] = { "fresh.db", "restart.db", "crash.db", "random.db", "truncated.db",
						     "newer.db", "growth_lo.db", "growth_hi.db", "growth_learner.db",
						     "cap.db", "failed.db", "locked.db", "foreign0.db", "foreign1.db",
						     "foreignp.db", "foreignw.db", "foreignu.db", "foreigna.db", "walwriter.db", "legacy.db",
						     "one.db" };
		char p[4200];

		for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			path_in(p, sizeof(p), names[i]);
			rm_db(p);
		}
		rmdir(dir);
	}
	return t_summary();
}
