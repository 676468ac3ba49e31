/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The learner: the table of prefixes learnd knows (configured, discovered from
 * traffic, and the catch-all default), each with its model; routing of close
 * records to prefixes; the per-tick decisions written into the policy map; and
 * the history written to the store.  No BPF calls except through the policy map
 * fd, so the intake benchmark can run it with map_fd < 0.
 *
 *   ld_learner_new(cfg, store, policy_fd) -- restores prefixes and statistics
 *   ld_learner_record(l, rec)              -- per close record, O(1), no I/O
 *   ld_learner_tick(l)                     -- per tick: decide, write, store
 *
 * A record touches neither the store nor the policy map: what it leaves for
 * them is done by the next tick (or flush) -- the id of a prefix it discovered
 * (looked up in the store: one seen before comes back under its old id), and,
 * after the tick's commit, the map entries of the prefixes it evicted at the
 * cap (their rows are marked evicted in the tick's transaction).
 * tests/unit/test_record_io.c holds it to this.
 */
#ifndef LEARND_LEARNER_H
#define LEARND_LEARNER_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "learnd_abi.h"
#include "store.h"

struct ld_learner;

struct ld_learner_stats {
	uint64_t records;       /* close records taken in */
	uint64_t discovered;    /* prefixes created from traffic */
	uint64_t evicted;       /* discovered prefixes dropped at the cap */
	uint64_t decisions;     /* value changes written */
	uint64_t store_errors;  /* ticks whose transaction failed */
	uint32_t prefixes;      /* in the table now */
	uint32_t light;         /* ... of them discovered and still without a model (few records) */
	uint64_t decisions_late;/* decisions put off to the next tick (the tick's share was spent) */
	uint64_t history_late;  /* prefixes whose records a committed tick left for the next (same) */
	uint64_t tick_ns;       /* the last tick's duration (CLOCK_MONOTONIC) */
	uint64_t tick_decide_ns, tick_write_ns, tick_models_ns, tick_commit_ns; /* ... its parts */
	size_t tick_prefixes;   /* prefixes the last tick visited */
	size_t waiting_history; /* prefixes with records not in the database yet */
	size_t waiting_decisions; /* prefixes with a decision due */
	bool paused;            /* the operator's pause (learnctl pause) */
	uint64_t fleet_priors;  /* fleet priors taken into prefixes */
	uint64_t fleet_installed;     /* prefixes put into the table because the fleet knows them */
	uint64_t fleet_not_installed; /* ... not, at install_max or the prefix cap */
};

/* cfg must outlive the learner (or be replaced with ld_learner_set_config).
 * store may be NULL (nothing persisted); policy_fd < 0: no map writes.
 * Returns NULL with a message logged on failure. */
struct ld_learner *ld_learner_new(const struct ld_config *cfg, struct ld_store *store, int policy_fd);
void ld_learner_free(struct ld_learner *l);

/* No I/O (see above); may allocate, and evicts at the cap. */
void ld_learner_record(struct ld_learner *l, const struct learnd_record *rec);
/* Decide, write changed policies, persist.  Returns 0, or -errno when the
 * store failed (the policies are written anyway; history is retried next tick). */
int ld_learner_tick(struct ld_learner *l);
/* fn(ctx) is called about every millisecond while a tick runs (between its
 * decisions and writes, not inside a commit), so that learnd keeps reading its
 * ring buffer; fn must not call into the learner (queue the records instead). */
typedef void (*ld_learner_yield_fn)(void *ctx);
void ld_learner_set_yield(struct ld_learner *l, ld_learner_yield_fn fn, void *ctx);
/* Persist everything now (at exit), and take what was evicted out of the map. */
int ld_learner_flush(struct ld_learner *l);

/* New bounds (SIGHUP): configured prefixes added, removed and re-bounded;
 * discovered ones take the new [defaults].  Statistics of values still
 * allowed are kept.  The map entries of the prefixes it removes go at once. */
void ld_learner_set_config(struct ld_learner *l, const struct ld_config *cfg);

void ld_learner_stats(const struct ld_learner *l, struct ld_learner_stats *out);

/* The fleet link (learner/fleet/fleet.h) the ticks pull priors from and push
 * to; NULL (the default): none.  f must outlive the learner's ticks. */
struct ld_fleet;
void ld_learner_set_fleet(struct ld_learner *l, struct ld_fleet *f);

#endif
