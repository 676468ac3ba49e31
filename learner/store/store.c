// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "open.h"
#include "learnd_vocab.h"

/* A parameter's columns are named after it (learnd_vocab.h). */
#define param_col(p) (learnd_param_info(p)->name)

enum stmt {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_PUT_PREFIX,
	S_EVICT,
	S_DEL_MODEL,
	S_PREFIX_ID,
	S_PUT_MODEL,
	S_DEL_SLOTS,
	S_PUT_SLOT,
	S_ADD_AGG,
	S_ADD_DECISION,
	S_PUT_SAMPLE,
	S_LAST_CONFIG,
	S_PUT_CONFIG,
	S_PUT_DAEMON,
	S_PRUNE,
	S_PRUNE_DECISIONS,
	S_KEEP_MAX_ID,
	S_PRUNE_GONE_SAMPLES,
	S_PRUNE_GONE_AGGREGATES,
	S_PRUNE_GONE_DECISIONS,
	S_PRUNE_GONE,
	S_DATA_VERSION,
	S__MAX,
};

/* The prefixes retention drops: evicted, and not used since ?1. */
#define GONE "FROM prefixes WHERE evicted_ns IS NOT NULL AND last_used_ns < ?1"

static const char *const stmt_sql[S__MAX] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_PUT_PREFIX] = "INSERT INTO prefixes(id, cidr, origin, parent_id, created_ns, last_used_ns, conns_total, "
			 "iw_min, iw_max, rwnd_min, rwnd_max, syn_rto_ms_min, syn_rto_ms_max, base_rtt_us_min, "
			 "base_rtt_us_max) VALUES (?1, ?2, ?3, nullif(?4, 0), ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
			 "?14, ?15) ON CONFLICT(id) DO UPDATE SET origin = ?3, last_used_ns = ?6, conns_total = ?7, "
			 "evicted_ns = NULL, iw_min = ?8, iw_max = ?9, rwnd_min = ?10, rwnd_max = ?11, "
			 "syn_rto_ms_min = ?12, syn_rto_ms_max = ?13, base_rtt_us_min = ?14, base_rtt_us_max = ?15",
	[S_EVICT] = "UPDATE prefixes SET evicted_ns = ?2 WHERE id = ?1",
	[S_DEL_MODEL] = "DELETE FROM model_state WHERE prefix_id = ?1",
	[S_PREFIX_ID] = "SELECT id FROM prefixes WHERE cidr = ?1",
	[S_PUT_MODEL] = "INSERT OR REPLACE INTO model_state(prefix_id, format, nrows, rows, saved_ns) "
			"VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_DEL_SLOTS] = "DELETE FROM slots WHERE prefix_id = ?1",
	[S_PUT_SLOT] = "INSERT INTO slots(prefix_id, slot, share, iw, rwnd, syn_rto_ms, base_rtt_us, epoch) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_ADD_AGG] = "INSERT INTO aggregates(prefix_id, param, value, bucket_ns, n, failed, cost_sum, cost_sum2, "
		      "handshake_sum, retrans, segs_out, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
		      "?11, ?12) ON CONFLICT DO UPDATE SET n = n + ?5, failed = failed + ?6, "
		      "cost_sum = cost_sum + ?7, cost_sum2 = cost_sum2 + ?8, handshake_sum = handshake_sum + ?9, "
		      "retrans = retrans + ?10, segs_out = segs_out + ?11, bytes = bytes + ?12",
	[S_ADD_DECISION] = "INSERT INTO decisions(ts_ns, prefix_id, param, old_value, new_value, reason, why) "
			   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_PUT_SAMPLE] = "INSERT OR REPLACE INTO samples VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
			 "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
	[S_LAST_CONFIG] = "SELECT path, text FROM config ORDER BY id DESC LIMIT 1",
	[S_PUT_CONFIG] = "INSERT INTO config(ts_ns, path, text) VALUES (?1, ?2, ?3)",
	[S_PUT_DAEMON] = "INSERT OR REPLACE INTO daemon(key, value) VALUES (?1, ?2)",
	[S_PRUNE] = "DELETE FROM aggregates WHERE bucket_ns < ?1",
	/* decisions older than the retention, except the last one of each
	 * (prefix, param): "in force since" stays known however old it is */
	[S_PRUNE_DECISIONS] = "DELETE FROM decisions WHERE ts_ns < ?1 AND EXISTS (SELECT 1 FROM decisions d "
			      "WHERE d.prefix_id = decisions.prefix_id AND d.param = decisions.param AND d.id > decisions.id)",
	/* evicted prefixes not used within the retention: the row and what is left of
	 * their history (their aggregates are older than their last use, so
	 * normally already gone) */
	/* ids are never reused: the largest stays known when its row goes */
	[S_KEEP_MAX_ID] = "INSERT OR REPLACE INTO daemon(key, value) SELECT 'max_prefix_id', max(coalesce(max(id), 0), "
			  "coalesce((SELECT value FROM daemon WHERE key = 'max_prefix_id'), 0)) FROM prefixes",
	[S_PRUNE_GONE_SAMPLES] = "DELETE FROM samples WHERE prefix_id IN (SELECT id " GONE ")",
	[S_PRUNE_GONE_AGGREGATES] = "DELETE FROM aggregates WHERE prefix_id IN (SELECT id " GONE ")",
	[S_PRUNE_GONE_DECISIONS] = "DELETE FROM decisions WHERE prefix_id IN (SELECT id " GONE ")",
	[S_PRUNE_GONE] = "DELETE " GONE,
	[S_DATA_VERSION] = "PRAGMA data_version",
};

/* The files SQLite writes for learnd, and what it had open when it started. */
enum { F_DB, F_WAL, F_SHM, F__MAX };
static const char *const file_suffix[F__MAX] = { "", "-wal", "-shm" };

struct ld_store {
	sqlite3 *db;
	sqlite3_stmt *st[S__MAX];
	int64_t data_version;
	int lock_fd;          /* flock()ed by the one learnd writing this database; -1 */
	struct {
		dev_t dev;
		ino_t ino;
		bool known;
	} file[F__MAX];
	bool lost;            /* one of them was removed or replaced: nothing more is written */
	char path[4096];
};

/* What the files are now: learnd's own (0), or they were removed or replaced
 * under it: rm learnd.db* leaves it writing an inode nobody can read (and a
 * second learnd free to start on the path), a new -shm leaves learnctl's
 * writes where learnd never looks.  Logged once; from then on every
 * transaction is refused (-ESTALE) and ld_store_lost() says so. */
static int check_files(struct ld_store *h)
{
	char name[4200];
	struct stat sb;

	if (h->lost)
		return -ESTALE;
	for (int f = 0; f < F__MAX; f++) {
		bool gone;

		snprintf(name, sizeof(name), "%s%s", h->path, file_suffix[f]);
		gone = stat(name, &sb) != 0;
		if (!h->file[f].known || (!gone && sb.st_dev == h->file[f].dev && sb.st_ino == h->file[f].ino))
			continue;
		h->lost = true;
		ld_err("database %s: %s%s was %s under learnd: what it writes now nobody could read, and learnctl's "
		       "writes would not reach it; stopping (start learnd again to make a new database there)",
		       h->path, f == F_DB ? "the file" : "its ", file_suffix[f], gone ? "removed" : "replaced");
		return -ESTALE;
	}
	return 0;
}

static void note_files(struct ld_store *h)
{
	char name[4200];
	struct stat sb;

	for (int f = 0; f < F__MAX; f++) {
		snprintf(name, sizeof(name), "%s%s", h->path, file_suffix[f]);
		if (!(f == F_DB ? fstat(h->lock_fd, &sb) : stat(name, &sb)))
			h->file[f].dev = sb.st_dev, h->file[f].ino = sb.st_ino, h->file[f].known = true;
	}
}

bool ld_store_lost(const struct ld_store *h)
{
	return h && h->lost;
}


const char *ld_store_errmsg(const struct ld_store *h)
{
	return h && h->db ? sqlite3_errmsg(h->db) : "no database";
}

/* Run a prepared statement to completion and reset it. */
static int step(struct ld_store *h, enum stmt s)
{
	sqlite3_stmt *st = h->st[s];
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : ld_sql_errno(rc);
}

static int exec(struct ld_store *h, const char *sql)
{
	return ld_sql_errno(sqlite3_exec(h->db, sql, NULL, NULL, NULL));
}

static int pragma_int(struct ld_store *h, const char *sql, int *v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(h->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*v = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return ld_sql_errno(rc);
}

/* Each row of sql to row(); its non-zero return stops and is returned. */
static int each_row(struct ld_store *h, const char *sql, int (*row)(sqlite3_stmt *st, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(h->db, sql, -1, &st, NULL), err = 0;

	if (rc != SQLITE_OK)
		return ld_sql_errno(rc);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
		err = row(st, arg);
	sqlite3_finalize(st);
	return err ? err : rc == SQLITE_DONE ? 0 : ld_sql_errno(rc);
}

static int migrate(struct ld_store *h, int from, char *err, size_t errlen)
{
	for (unsigned i = 0; i < ld_nmigrations; i++) {
		const struct ld_migration *m = &ld_migrations[i];
		char pragma[64];
		int rc;

		if ((int)m->version <= from)
			continue;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %u", m->version);
		rc = exec(h, "BEGIN IMMEDIATE");
		if (!rc)
			rc = exec(h, m->sql);
		if (!rc)
			rc = exec(h, pragma);
		if (!rc)
			rc = exec(h, "COMMIT");
		if (rc) {
			snprintf(err, errlen, "%s: migration %s failed: %s", h->path, m->name, sqlite3_errmsg(h->db));
			exec(h, "ROLLBACK");
			return rc;
		}
		ld_info("database %s: applied %s", h->path, m->name);
	}
	return 0;
}

/* learnd's connection, once the file passed its checks (schema version ver):
 * its mark, WAL, the migrations, the prepared statements. */
static int setup_writer(struct ld_store *h, int ver, char *err, size_t errlen)
{
	int rc, app = 0;

	/* learnd's mark, first: a file with it is learnd's (ld_check_foreign) */
	if ((rc = pragma_int(h, "PRAGMA application_id", &app)) ||
	    (app != LD_STORE_APPLICATION_ID && (rc = exec(h, "PRAGMA application_id = " LD_STR(LD_STORE_APPLICATION_ID))))) {
		snprintf(err, errlen, "database %s: %s", h->path, sqlite3_errmsg(h->db));
		return rc;
	}
	/* WAL: readers (learnctl) never block the writer; NORMAL: a commit is durable
	 * against a process crash, and against power loss up to the last checkpoint. */
	/* ignore_check_constraints, on learnd's connection only: the CHECKs of
	 * schema/ (param IN (...), origin IN (...)) are coded by SQLite as an
	 * ephemeral b-tree opened and freed on every INSERT, which was 60% of a
	 * tick's CPU (docs/store.md, "Intake benchmark").  learnd binds those
	 * columns from fixed tables (param_col, the learner's origin names), so
	 * they cannot fail here; learnctl's connections still enforce them. */
	if ((rc = exec(h, "PRAGMA journal_mode = WAL")) || (rc = exec(h, "PRAGMA synchronous = NORMAL")) ||
	    (rc = exec(h, "PRAGMA foreign_keys = OFF")) || (rc = exec(h, "PRAGMA ignore_check_constraints = ON"))) {
		snprintf(err, errlen, "database %s: %s", h->path, sqlite3_errmsg(h->db));
		return rc;
	}
	rc = migrate(h, ver, err, errlen);
	if (rc)
		return rc;
	for (int s = 0; s < S__MAX; s++) {
		if (sqlite3_prepare_v3(h->db, stmt_sql[s], -1, SQLITE_PREPARE_PERSISTENT, &h->st[s], NULL) !=
		    SQLITE_OK) {
			snprintf(err, errlen, "database %s: %s (schema from another learnd?)", h->path,
				 sqlite3_errmsg(h->db));
			return -EILSEQ;
		}
	}
	return 0;
}

int ld_store_open(const char *path, struct ld_store **out, char *err, size_t errlen)
{
	struct ld_store *h = calloc(1, sizeof(*h));
	struct ld_opened o;
	int rc;

	*out = NULL;
	if (!h) {
		snprintf(err, errlen, "database %s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	rc = ld_open(path, LD_OPEN_LEARND, &o, err, errlen);
	if (rc) {
		free(h);
		return rc;
	}
	h->db = o.db;
	h->lock_fd = o.lock_fd;
	snprintf(h->path, sizeof(h->path), "%s", path);
	rc = setup_writer(h, o.version, err, errlen);
	if (rc) {
		rc = ld_open_disk_full(h->db, path, rc, err, errlen);
		ld_store_close(h);
		if (o.made)
			unlink(path); /* made here, and nothing in it: a failed first start leaves nothing behind */
		return rc;
	}
	ld_store_changed(h); /* baseline for data_version */
	note_files(h);
	*out = h;
	return 0;
}

void ld_store_close(struct ld_store *h)
{
	if (!h)
		return;
	for (int s = 0; s < S__MAX; s++)
		sqlite3_finalize(h->st[s]);
	sqlite3_close(h->db);
	/* after SQLite's close: closing any descriptor of the file drops the
	 * process's fcntl() locks on it, SQLite's included */
	if (h->lock_fd >= 0)
		close(h->lock_fd);
	free(h);
}

int ld_store_begin(struct ld_store *h)
{
	int rc = check_files(h);

	return rc ? rc : step(h, S_BEGIN);
}

int ld_store_commit(struct ld_store *h)
{
	int rc = check_files(h);

	if (rc) {
		ld_store_rollback(h);
		return rc;
	}
	rc = step(h, S_COMMIT);

	if (rc)
		ld_store_rollback(h);
	return rc;
}

void ld_store_rollback(struct ld_store *h)
{
	/* a failed statement leaves its transaction open: COMMIT would keep what
	 * the statements before it wrote */
	if (!sqlite3_get_autocommit(h->db))
		step(h, S_ROLLBACK);
}

void ld_store_busy_timeout(struct ld_store *h, int ms)
{
	sqlite3_busy_timeout(h->db, ms);
}

static void bind_bound(sqlite3_stmt *st, int col, const struct learnd_bound *b)
{
	if (b->mode == LEARND_BOUND_UNSET) {
		sqlite3_bind_null(st, col);
		sqlite3_bind_null(st, col + 1);
		return;
	}
	sqlite3_bind_int64(st, col, b->min);
	sqlite3_bind_int64(st, col + 1, b->mode == LEARND_BOUND_FIXED ? b->min : b->max);
}

int ld_store_put_prefix(struct ld_store *h, const struct ld_store_prefix *p)
{
	sqlite3_stmt *st = h->st[S_PUT_PREFIX];

	/* the CHECK on origin is not evaluated on this connection (ld_store_open) */
	if (learnd_origin_by_name(p->origin) < 0)
		return -EINVAL;
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_text(st, 2, p->cidr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->origin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, p->parent_id);
	sqlite3_bind_int64(st, 5, (int64_t)p->created_ns);
	sqlite3_bind_int64(st, 6, (int64_t)p->last_used_ns);
	sqlite3_bind_int64(st, 7, (int64_t)p->conns_total);
	for (int i = 0; i < LEARND_PARAM__MAX; i++)
		bind_bound(st, 8 + 2 * i, &p->bound[i]);
	return step(h, S_PUT_PREFIX);
}

int ld_store_evict_prefix(struct ld_store *h, uint32_t id, uint64_t ts_ns)
{
	int rc;

	sqlite3_bind_int64(h->st[S_EVICT], 1, id);
	sqlite3_bind_int64(h->st[S_EVICT], 2, (int64_t)ts_ns);
	rc = step(h, S_EVICT);
	/* its statistics are never read again (a prefix that comes back starts
	 * from its parent): under a spray of new prefixes they would be most of
	 * the file.  The history (prefixes row, aggregates, decisions) stays. */
	if (!rc) {
		sqlite3_bind_int64(h->st[S_DEL_MODEL], 1, id);
		rc = step(h, S_DEL_MODEL);
	}
	return rc;
}

int ld_store_max_prefix_id(struct ld_store *h, uint32_t *id)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(h->db,
				    "SELECT max(coalesce((SELECT max(id) FROM prefixes), 0), coalesce((SELECT value FROM "
				    "daemon WHERE key = 'max_prefix_id'), 0))",
				    -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*id = (uint32_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return ld_sql_errno(rc);
}

int ld_store_prefix_id(struct ld_store *h, const char *cidr, uint32_t *id)
{
	sqlite3_stmt *st = h->st[S_PREFIX_ID];
	int rc;

	*id = 0;
	sqlite3_bind_text(st, 1, cidr, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : ld_sql_errno(rc);
}

static void column_bound(sqlite3_stmt *st, int col, struct learnd_bound *b)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		*b = (struct learnd_bound){ .mode = LEARND_BOUND_UNSET };
		return;
	}
	b->min = (uint32_t)sqlite3_column_int64(st, col);
	b->max = (uint32_t)sqlite3_column_int64(st, col + 1);
	b->mode = b->min == b->max ? LEARND_BOUND_FIXED : LEARND_BOUND_LEARN;
}

struct load_ctx {
	ld_store_prefix_fn fn;
	void *ctx;
};

static int load_row(sqlite3_stmt *st, void *arg)
{
	const struct load_ctx *l = arg;
	struct ld_store_prefix p = { 0 };
	const struct learnd_model_row *rows = NULL;
	const char *cidr = (const char *)sqlite3_column_text(st, 2);
	int origin = learnd_origin_by_name((const char *)sqlite3_column_text(st, 3));
	size_t nrows = 0;

	p.id = (uint32_t)sqlite3_column_int64(st, 0);
	p.parent_id = (uint32_t)sqlite3_column_int64(st, 1);
	snprintf(p.cidr, sizeof(p.cidr), "%s", cidr ? cidr : "");
	p.origin = learnd_origin_name(origin < 0 ? LEARND_ORIGIN_DISCOVERED : (enum learnd_origin)origin, 0);
	p.created_ns = (uint64_t)sqlite3_column_int64(st, 4);
	p.last_used_ns = (uint64_t)sqlite3_column_int64(st, 5);
	p.conns_total = (uint64_t)sqlite3_column_int64(st, 6);
	for (int i = 0; i < LEARND_PARAM__MAX; i++)
		column_bound(st, 7 + 2 * i, &p.bound[i]);
	if (sqlite3_column_int64(st, 15) == LD_STORE_MODEL_FORMAT) {
		size_t bytes = (size_t)sqlite3_column_bytes(st, 17);

		nrows = (size_t)sqlite3_column_int64(st, 16);
		rows = sqlite3_column_blob(st, 17);
		if (nrows && (!rows || bytes != nrows * sizeof(*rows))) {
			ld_warn("database: model state of prefix %s has a bad size; it starts afresh", p.cidr);
			rows = NULL;
			nrows = 0;
		}
	}
	return l->fn(l->ctx, &p, rows, nrows);
}

int ld_store_load(struct ld_store *h, ld_store_prefix_fn fn, void *ctx)
{
	struct load_ctx l = { fn, ctx };

	return each_row(h,
			"SELECT p.id, coalesce(p.parent_id, 0), p.cidr, p.origin, p.created_ns, p.last_used_ns, "
			"p.conns_total, p.iw_min, p.iw_max, p.rwnd_min, p.rwnd_max, p.syn_rto_ms_min, p.syn_rto_ms_max, "
			"p.base_rtt_us_min, p.base_rtt_us_max, m.format, m.nrows, m.rows FROM prefixes p "
			"LEFT JOIN model_state m ON m.prefix_id = p.id WHERE p.evicted_ns IS NULL ORDER BY p.id",
			load_row, &l);
}

int ld_store_put_model(struct ld_store *h, uint32_t id, const struct learnd_model_row *rows, size_t n,
		       uint64_t ts_ns)
{
	static const char none; /* n 0: an empty blob, not NULL */
	sqlite3_stmt *st = h->st[S_PUT_MODEL];

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, LD_STORE_MODEL_FORMAT);
	sqlite3_bind_int64(st, 3, (int64_t)n);
	sqlite3_bind_blob(st, 4, n ? (const void *)rows : &none, (int)(n * sizeof(*rows)), SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)ts_ns);
	return step(h, S_PUT_MODEL);
}

int ld_store_put_slots(struct ld_store *h, uint32_t id, const struct learnd_policy *p)
{
	int rc;

	sqlite3_bind_int64(h->st[S_DEL_SLOTS], 1, id);
	rc = step(h, S_DEL_SLOTS);
	for (uint32_t i = 0; !rc && i < p->nslots && i < LEARND_MAX_SLOTS; i++) {
		sqlite3_stmt *st = h->st[S_PUT_SLOT];
		const struct learnd_arm *a = &p->slots[i];

		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, i);
		sqlite3_bind_double(st, 3, a->share / (double)LEARND_SHARE_ONE);
		sqlite3_bind_int64(st, 4, a->iw);
		sqlite3_bind_int64(st, 5, a->rwnd);
		sqlite3_bind_int64(st, 6, a->syn_rto_ms);
		sqlite3_bind_int64(st, 7, a->base_rtt_us);
		sqlite3_bind_int64(st, 8, p->epoch);
		rc = step(h, S_PUT_SLOT);
	}
	return rc;
}

/* Shares are stored as fractions for people; the map needs them to add up to
 * LEARND_SHARE_ONE exactly: slot 0 takes the rounding. */
static void emit_slots(ld_store_slots_fn fn, void *ctx, struct learnd_policy *pol)
{
	uint32_t rest = 0;

	for (uint32_t i = 1; i < pol->nslots; i++)
		rest += pol->slots[i].share;
	pol->slots[0].share = rest < LEARND_SHARE_ONE ? LEARND_SHARE_ONE - rest : 0;
	fn(ctx, pol->prefix_id, pol);
}

struct slots_ctx {
	ld_store_slots_fn fn;
	void *ctx;
	struct learnd_policy pol;
};

static int slot_row(sqlite3_stmt *st, void *arg)
{
	struct slots_ctx *l = arg;
	struct learnd_policy *pol = &l->pol;
	uint32_t id = (uint32_t)sqlite3_column_int64(st, 0), slot = (uint32_t)sqlite3_column_int64(st, 1);

	if (pol->nslots && id != pol->prefix_id) {
		emit_slots(l->fn, l->ctx, pol);
		memset(pol, 0, sizeof(*pol));
	}
	if (slot >= LEARND_MAX_SLOTS)
		return 0;
	pol->prefix_id = id;
	pol->epoch = (uint32_t)sqlite3_column_int64(st, 7);
	pol->slots[slot] = (struct learnd_arm){
		.share = (uint32_t)(sqlite3_column_double(st, 2) * LEARND_SHARE_ONE + 0.5),
		.iw = (uint16_t)sqlite3_column_int64(st, 3),
		.rwnd = (uint16_t)sqlite3_column_int64(st, 4),
		.syn_rto_ms = (uint16_t)sqlite3_column_int64(st, 5),
		.base_rtt_us = (uint32_t)sqlite3_column_int64(st, 6),
	};
	pol->nslots = slot + 1 > pol->nslots ? slot + 1 : pol->nslots;
	return 0;
}

int ld_store_load_slots(struct ld_store *h, ld_store_slots_fn fn, void *ctx)
{
	struct slots_ctx l = { .fn = fn, .ctx = ctx };
	int rc = each_row(h, "SELECT prefix_id, slot, share, iw, rwnd, syn_rto_ms, base_rtt_us, epoch FROM slots "
			     "ORDER BY prefix_id, slot", slot_row, &l);

	if (l.pol.nslots)
		emit_slots(fn, ctx, &l.pol);
	return rc;
}

int ld_store_add_aggregate(struct ld_store *h, uint32_t id, enum learnd_param p, uint32_t value,
			   uint64_t bucket_ns, const struct ld_agg *a)
{
	sqlite3_stmt *st = h->st[S_ADD_AGG];

	if ((unsigned)p >= LEARND_PARAM__MAX)
		return -EINVAL;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, param_col(p), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, value);
	sqlite3_bind_int64(st, 4, (int64_t)bucket_ns);
	sqlite3_bind_int64(st, 5, (int64_t)a->n);
	sqlite3_bind_int64(st, 6, (int64_t)a->failed);
	sqlite3_bind_double(st, 7, a->cost_sum);
	sqlite3_bind_double(st, 8, a->cost_sum2);
	sqlite3_bind_double(st, 9, a->handshake_sum);
	sqlite3_bind_int64(st, 10, (int64_t)a->retrans);
	sqlite3_bind_int64(st, 11, (int64_t)a->segs_out);
	sqlite3_bind_int64(st, 12, (int64_t)a->bytes);
	return step(h, S_ADD_AGG);
}

int ld_store_add_decision(struct ld_store *h, uint64_t ts_ns, uint32_t id, enum learnd_param p, int64_t old_value,
			  uint32_t new_value, const char *reason, const char *why)
{
	sqlite3_stmt *st = h->st[S_ADD_DECISION];

	if ((unsigned)p >= LEARND_PARAM__MAX)
		return -EINVAL;
	sqlite3_bind_int64(st, 1, (int64_t)ts_ns);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_text(st, 3, param_col(p), -1, SQLITE_STATIC);
	if (old_value < 0)
		sqlite3_bind_null(st, 4);
	else
		sqlite3_bind_int64(st, 4, old_value);
	sqlite3_bind_int64(st, 5, new_value);
	sqlite3_bind_text(st, 6, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, why, -1, SQLITE_STATIC);
	return step(h, S_ADD_DECISION);
}

int ld_store_put_sample(struct ld_store *h, uint32_t id, uint32_t seq, uint64_t ts_ns, const struct learnd_record *r)
{
	sqlite3_stmt *st = h->st[S_PUT_SAMPLE];
	char addr[LD_CIDR_STRLEN];
	int64_t v[] = {
		id, seq, (int64_t)ts_ns, 0, !!(r->flags & LEARND_REC_ACTIVE), !!(r->flags & LEARND_REC_ESTABLISHED),
		!!(r->flags & LEARND_REC_APPLIED), r->slot, r->iw, r->rwnd, r->syn_rto_ms, r->base_rtt_us,
		r->handshake_us, r->syn_retrans, r->srtt_us, r->min_rtt_us, r->total_retrans, r->data_segs_out,
		r->data_segs_in, (int64_t)r->duration_us, (int64_t)r->busy_us, (int64_t)r->bytes_acked,
		(int64_t)r->bytes_received,
	};

	ld_addr_format(r->raddr, addr, sizeof(addr));
	for (int i = 0; i < (int)(sizeof(v) / sizeof(v[0])); i++) {
		if (i == 3)
			sqlite3_bind_text(st, 4, addr, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(st, i + 1, v[i]);
	}
	return step(h, S_PUT_SAMPLE);
}

int ld_store_put_config(struct ld_store *h, uint64_t ts_ns, const char *path, const char *text)
{
	sqlite3_stmt *st = h->st[S_LAST_CONFIG];
	bool same = false;
	int rc;

	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0), *t = (const char *)sqlite3_column_text(st, 1);

		same = p && t && !strcmp(p, path) && !strcmp(t, text);
	}
	sqlite3_reset(st);
	if (same)
		return 0;
	st = h->st[S_PUT_CONFIG];
	sqlite3_bind_int64(st, 1, (int64_t)ts_ns);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	rc = step(h, S_PUT_CONFIG);
	return rc;
}

int ld_store_put_daemon(struct ld_store *h, const char *key, int64_t value)
{
	sqlite3_bind_text(h->st[S_PUT_DAEMON], 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(h->st[S_PUT_DAEMON], 2, value);
	return step(h, S_PUT_DAEMON);
}

int ld_store_prune(struct ld_store *h, uint64_t before_ns)
{
	static const enum stmt order[] = { S_PRUNE, S_PRUNE_DECISIONS, S_KEEP_MAX_ID, S_PRUNE_GONE_SAMPLES,
					   S_PRUNE_GONE_AGGREGATES, S_PRUNE_GONE_DECISIONS, S_PRUNE_GONE };
	int rc = 0;

	for (size_t i = 0; !rc && i < sizeof(order) / sizeof(order[0]); i++) {
		if (sqlite3_bind_parameter_count(h->st[order[i]]))
			sqlite3_bind_int64(h->st[order[i]], 1, (int64_t)before_ns);
		rc = step(h, order[i]);
	}
	return rc;
}

bool ld_store_changed(struct ld_store *h)
{
	sqlite3_stmt *st = h->st[S_DATA_VERSION];
	int64_t v = h->data_version;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (v == h->data_version)
		return false;
	h->data_version = v;
	return true;
}

int ld_store_paused(struct ld_store *h, bool *paused)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(h->db, "SELECT value FROM control WHERE key = 'paused'", -1, &st, NULL);

	*paused = false;
	if (rc != SQLITE_OK)
		return ld_sql_errno(rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);

		*paused = v && !strcmp(v, "1");
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(st);
	return ld_sql_errno(rc);
}

struct pins_ctx {
	ld_store_pin_fn fn;
	void *ctx;
};

static int pin_row(sqlite3_stmt *st, void *arg)
{
	const struct pins_ctx *l = arg;
	int64_t vals[LEARND_PARAM__MAX];
	const char *cidr = (const char *)sqlite3_column_text(st, 0);

	for (int i = 0; i < LEARND_PARAM__MAX; i++)
		vals[i] = sqlite3_column_type(st, i + 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i + 1);
	if (cidr)
		l->fn(l->ctx, cidr, vals);
	return 0;
}

int ld_store_pins(struct ld_store *h, ld_store_pin_fn fn, void *ctx)
{
	struct pins_ctx l = { fn, ctx };

	return each_row(h, "SELECT cidr, iw, rwnd, syn_rto_ms, base_rtt_us FROM pins", pin_row, &l);
}
