/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * learnd's history in SQLite (schema/, docs/store.md): prefixes, the model's
 * statistics, slots in force, time-bucketed aggregates, decisions, a bounded
 * sample of raw records, the configuration, and the operator's pins and pause.
 *
 * WAL mode, synchronous=NORMAL: a crash (kill -9) loses nothing committed; the
 * learner writes one transaction per tick.  A database that is not SQLite, fails
 * its quick check or comes from a newer schema is refused, never "repaired".
 */
#ifndef LEARND_STORE_H
#define LEARND_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "clock.h" /* ld_wall_ns(): the database's clock */
#include "cidr.h"
#include "config.h"
#include "learnd_abi.h"
#include "model.h"

#define LD_STORE_SCHEMA_VERSION 1 /* the newest schema/NNN_*.sql this code knows */
/* PRAGMA application_id of a learnd database ("lrnd"): set at the first open,
 * so another program's SQLite file is told apart before anything is written. */
#define LD_STORE_APPLICATION_ID 0x6c726e64
/* The row format stored in model_state.rows: the struct as this build lays it
 * out, tagged so a different layout is detected and ignored, not misread. */
#define LD_STORE_MODEL_FORMAT ((int64_t)sizeof(struct learnd_model_row) << 8 | 1)
#define LD_STR_(x) #x
#define LD_STR(x) LD_STR_(x)

struct ld_migration {
	unsigned version;
	const char *name;
	const char *sql;
};
extern const struct ld_migration ld_migrations[]; /* generated from schema/ */
extern const unsigned ld_nmigrations;

struct ld_store;

/*
 * learnd's connection: open (create and migrate) the database at path, through the store's one
 * open path (open.h, shared with learnctl's ld_db_open).  Only a missing or
 * empty file or a learnd database is accepted; anything else is refused
 * before anything is written to it (no schema, no WAL, no -wal/-shm).  Takes a
 * flock on the file, held until ld_store_close: one learnd per database.
 * Returns 0, or a negative errno with a one-line reason in err:
 *   -EPROTO  the file is from a newer learnd (schema version above ours)
 *   -EILSEQ  not an SQLite database, another program's, or corrupt
 *   -EINVAL  not a regular file, or a symbolic link to nothing
 *   -EBUSY   another learnd has it open (the message names its pid)
 *   -ENOSPC  its file system is full
 */
int ld_store_open(const char *path, struct ld_store **out, char *err, size_t errlen);
void ld_store_close(struct ld_store *h);
/* The last SQLite error message, for logs. */
const char *ld_store_errmsg(const struct ld_store *h);

/* One transaction per tick.  commit returns -errno (e.g. -ENOSPC) on failure and
 * rolls back; the caller keeps its state and tries again next tick.  rollback
 * ends a transaction a statement failed in (nothing of it stays); a no-op when
 * none is open. */
int ld_store_begin(struct ld_store *h);
int ld_store_commit(struct ld_store *h);
void ld_store_rollback(struct ld_store *h);
/* How long a statement waits for another connection's lock before it fails
 * with -EBUSY (2 s after ld_store_open).  learnd's main loop sets it far below
 * a tick: the heartbeat must never wait on the disk. */
void ld_store_busy_timeout(struct ld_store *h, int ms);

struct ld_store_prefix {
	uint32_t id;
	uint32_t parent_id;      /* 0: none */
	char cidr[LD_CIDR_STRLEN];
	const char *origin;      /* "configured", "discovered", "default" */
	uint64_t created_ns, last_used_ns, conns_total;
	struct learnd_bound bound[LEARND_PARAM__MAX];
};

int ld_store_put_prefix(struct ld_store *h, const struct ld_store_prefix *p);
/* Mark a prefix evicted (out of the table and the map) and drop its model state. */
int ld_store_evict_prefix(struct ld_store *h, uint32_t id, uint64_t ts_ns);
/* Largest prefix id ever used (ids are never reused). */
int ld_store_max_prefix_id(struct ld_store *h, uint32_t *id);
/* The id cidr was stored under (evicted or not), 0 when it never was: a prefix
 * that comes back keeps its id, its row and its history (cidr is UNIQUE). */
int ld_store_prefix_id(struct ld_store *h, const char *cidr, uint32_t *id);

/* Prefixes not evicted, each with its model rows (rows NULL, n 0 when none). */
typedef int (*ld_store_prefix_fn)(void *ctx, const struct ld_store_prefix *p, const struct learnd_model_row *rows,
				    size_t nrows);
int ld_store_load(struct ld_store *h, ld_store_prefix_fn fn, void *ctx);

int ld_store_put_model(struct ld_store *h, uint32_t id, const struct learnd_model_row *rows, size_t n,
			 uint64_t ts_ns);
int ld_store_put_slots(struct ld_store *h, uint32_t id, const struct learnd_policy *p);
/* The slots last stored for each prefix, as policies (prefix_id, epoch, slots). */
typedef void (*ld_store_slots_fn)(void *ctx, uint32_t id, const struct learnd_policy *p);
int ld_store_load_slots(struct ld_store *h, ld_store_slots_fn fn, void *ctx);

struct ld_agg {
	uint64_t n, failed, retrans, segs_out, bytes;
	double cost_sum, cost_sum2, handshake_sum; /* ms */
};
int ld_store_add_aggregate(struct ld_store *h, uint32_t id, enum learnd_param p, uint32_t value,
			     uint64_t bucket_ns, const struct ld_agg *a);
/* old_value < 0: first decision. */
int ld_store_add_decision(struct ld_store *h, uint64_t ts_ns, uint32_t id, enum learnd_param p,
			    int64_t old_value, uint32_t new_value, const char *reason, const char *why);
int ld_store_put_sample(struct ld_store *h, uint32_t id, uint32_t seq, uint64_t ts_ns,
			  const struct learnd_record *r);
/* Stores text unless it equals the last configuration stored. */
int ld_store_put_config(struct ld_store *h, uint64_t ts_ns, const char *path, const char *text);
int ld_store_put_daemon(struct ld_store *h, const char *key, int64_t value);
/* The daemon table's keys: what learnd tells learnctl there (docs/schema.md). */
#define LD_DAEMON_LAST_TICK "last_tick_ns"     /* wall ns of the last committed tick */
#define LD_DAEMON_RECORDS "records"            /* close records consumed since start */
#define LD_DAEMON_PREFIXES "prefixes"          /* prefixes held */
#define LD_DAEMON_STORE_ERRORS "store_errors"  /* failed tick transactions since start */
/* the fleet link ([fleet] only; docs/fleet.md): state (enum ld_fleet_state:
 * 1 connecting, 2 connected, 3 down, 4 refused), wall ns of the last push and
 * pull (0: none yet), rows since start, prefixes installed from the fleet */
#define LD_DAEMON_FLEET_STATE "fleet_state"
#define LD_DAEMON_FLEET_PUSH "fleet_last_push_ns"
#define LD_DAEMON_FLEET_PULL "fleet_last_pull_ns"
#define LD_DAEMON_FLEET_PUSHED "fleet_rows_pushed"
#define LD_DAEMON_FLEET_PULLED "fleet_rows_pulled"
#define LD_DAEMON_FLEET_REJECTED "fleet_rows_rejected"
#define LD_DAEMON_FLEET_INSTALLED "fleet_prefixes_installed"
/* Retention (learnd calls it hourly with now - retention_days): drop aggregates
 * of buckets before before_ns, decisions before it except the last of each
 * (prefix, param), and evicted prefixes last used before it with what is left
 * of their history (samples, aggregates, decisions). */
int ld_store_prune(struct ld_store *h, uint64_t before_ns);

/* Operator control (learnctl).  changed: true when another connection wrote to
 * the database since the last call (PRAGMA data_version), so pins and pause are
 * read only then. */
bool ld_store_changed(struct ld_store *h);
int ld_store_paused(struct ld_store *h, bool *paused);
/* vals[p] < 0: not pinned. */
typedef void (*ld_store_pin_fn)(void *ctx, const char *cidr, const int64_t vals[LEARND_PARAM__MAX]);
int ld_store_pins(struct ld_store *h, ld_store_pin_fn fn, void *ctx);


#endif
