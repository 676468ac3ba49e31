/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The learner's insides, shared by its modules (not part of learner.h):
 * struct pfx and struct ld_learner, and the lr_ functions one module gives
 * another.
 *
 *   learner.c  the public life cycle: new, tick, flush, set_config, free, stats
 *   work.c     the caller's ring buffer during a tick, work list, tick states, save queue
 *   index.c    the hash index (by id, by key)
 *   prefix.c   prefixes: life cycle, discovery, eviction, and what these leave
 *              for the tick (ids of discovered prefixes, map entries to delete)
 *   intake.c   close records into models and tick states
 *   decide.c   decisions
 *   persist.c  the tick's transaction
 *   control.c  operator control (pins, pause)
 *   restore.c  restore from the store, map reconciliation
 */
#ifndef LEARND_LEARNER_INT_H
#define LEARND_LEARNER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cidr.h"
#include "config.h"
#include "learner.h"
#include "model.h"
#include "store.h"

enum origin { ORIGIN_CONFIGURED, ORIGIN_DISCOVERED, ORIGIN_DEFAULT };

#define AGG_BUCKET_NS (300ull * 1000000000ull) /* 5-minute aggregates */
#define AGG_MAX 16                             /* (param, value) pairs per prefix per tick */
#define SAMPLE_RING 32                         /* raw records kept per prefix */
#define MODEL_SAVE_TICKS 10                    /* changed model state saved about N ticks later */
#define LIGHT_MAX 4                            /* records a discovered prefix keeps before it has a model */
#define TICK_SHARE 5                           /* decisions (with their writes), history, model saves:
						  at most 1/N of a tick each, so the ring is read in time */

struct agg {
	uint8_t param;
	uint32_t value;
	struct ld_agg a;
};

/* A decision row, kept until a tick's transaction commits it. */
struct decision {
	uint64_t ts_ns;
	uint32_t id;
	uint8_t param;
	int64_t old_value;
	uint32_t new_value;
	const char *reason; /* static */
	char *why;
};
#define DEC_MAX 65536 /* uncommitted decisions kept while the database cannot be written */

/* What a prefix took in since the last commit: only prefixes with records
 * have one (l->ts), so a known but quiet prefix costs no memory for it. */
struct tick_state {
	struct pfx *p; /* NULL: the prefix was removed */
	unsigned nagg, agg_cap;
	bool has_sample;
	struct learnd_record sample;
	struct agg *agg; /* grown as distinct (param, value) pairs come: most have 4 */
};

/* A light prefix's record, kept to be replayed into its model. */
struct early {
	uint64_t now;
	struct learnd_record rec;
};

/*
 * A prefix.  Discovered prefixes start light: no model, no policy of their own
 * (their connections take the enclosing prefix's, which learns from them too),
 * just their first LIGHT_MAX records.  The next record gives them a model,
 * started from the parent's (learnd_model_init_from_parent) with those records
 * replayed into it, and a policy of their own from the next tick; a pin does
 * so at once.  Most of a million discovered prefixes are seen a few times
 * (docs/model.md, "Memory").
 */
struct pfx {
	struct learnd_key key;
	char cidr[LD_CIDR_STRLEN];
	size_t pos;                          /* in l->all */
	size_t work_pos;                     /* in l->work; SIZE_MAX: not there */
	struct pfx *save_prev, *save_next;   /* l's queue of model states not saved yet */
	uint64_t save_tick;                  /* when it joined that queue */
	uint32_t id, parent_id;              /* id 0: discovered since the last tick, named by it */
	size_t unnamed_pos;                  /* 1 + its index in l->unnamed; 0: not there */
	uint32_t ts;                         /* 1 + its index in l->ts; 0: no records since the last commit */
	uint32_t born;                       /* l->pin_epoch at creation */
	enum origin origin;
	struct ld_bounds bounds;             /* from the configuration */
	int64_t pin[LEARND_PARAM__MAX];      /* operator pins; < 0: none */
	int64_t pin_prev[LEARND_PARAM__MAX]; /* before the last read of the pins */
	struct learnd_model *model;          /* NULL: light */
	struct learnd_model *fleet;          /* the fleet's prior (prior.c), NULL: none */
	uint32_t fleet_value[LEARND_PARAM__MAX]; /* the fleet's values in force (weighted vote; 0: unknown) */
	uint32_t fleet_hosts;                /* hosts it merges */
	uint64_t pushed_samples;             /* model samples at its last push */
	uint32_t pushed_epoch;               /* policy epoch at its last push */
	bool from_fleet;                     /* put into the table because the fleet knows it */
	struct early *early;                 /* light: its records so far */
	unsigned nearly;
	struct learnd_policy written;        /* what the map holds (nslots 0: nothing) */
	uint64_t created_ns, last_used_ns, conns_total;
	uint64_t last_ns;                    /* "now" of its last record (LRU eviction) */
	uint64_t samples_at_decide;          /* model samples at the last decision */
	bool cfg_changed;                    /* decide even without new samples */
	bool in_map;                         /* written is in the policy map (this run) */
	bool save_model;                     /* the decision changed: save the state that made it */
	bool map_pending;                    /* written goes into the map after the commit */
	bool slots_pending;                  /* written goes into the slots table at the next commit */
	bool row_dirty;                      /* prefix row to save */
	bool in_save_q;
	bool light_stored;                   /* light: its (empty) model state is in the database */
	bool hist_done;                      /* its history is in the open transaction */
	uint32_t sample_seq;
};

/* Open addressing with linear probing and backward-shift deletion; two of these
 * index the prefixes, by id and by key. */
struct index {
	struct pfx **slot;
	size_t mask;
};

struct ld_learner {
	const struct ld_config *cfg;
	struct ld_store *store;
	int policy_fd;
	struct pfx **all; /* dense; order irrelevant */
	size_t n, cap, ndiscovered, nlight;
	/* A tick visits only these: prefixes with records, a decision, a write or
	 * a retry pending (not every known one). */
	struct pfx **work;
	size_t nwork;
	struct tick_state *ts;
	size_t nts, ts_cap;
	struct pfx *save_head, *save_tail; /* model states to save, oldest first */
	size_t nsave;
	struct pfx **saved; /* saved in the open transaction: out of the queue once it commits */
	size_t nsaved, saved_cap;
	uint32_t pin_epoch;  /* pins read for every prefix born before it */
	size_t nchanged;         /* decisions of this tick that changed (writes that cannot wait) */
	ld_learner_yield_fn yield;
	void *yield_ctx;
	uint64_t yield_ns;       /* last call */
	uint64_t change_cost_ns; /* what writing one of those took, last time */
	size_t dec_cursor, hist_cursor; /* where the last tick's shares ran out in l->work */
	bool control_new;    /* prefixes born since the last read of the pins */
	struct index by_id, by_key;
	struct pfx *dflt;
	uint32_t next_id;
	uint64_t ticks, last_prune_ns, last_err_log_ns;
	uint64_t wall_ns;   /* CLOCK_REALTIME of the last tick (or of the start) */
	bool control_stale; /* read pins and pause at the next tick even if nobody wrote */
	uint32_t *gone;     /* ids removed from the table, marked evicted in the next tick's transaction */
	size_t ngone, gone_cap;
	/* What the record path leaves for the tick, which does its I/O: the
	 * prefixes discovered since the last tick, in the order they came (NULL:
	 * removed since), whose ids the tick looks up in the store; the keys of
	 * removed prefixes, deleted from the map after the tick's commit. */
	struct pfx **unnamed;
	size_t nunnamed, unnamed_cap;
	struct learnd_key *unmap;
	size_t nunmap, unmap_cap;
	bool unmap_lost;    /* a key not queued (out of memory): the tick reconciles the whole map */
	struct decision *dec; /* decisions made since the last commit, written by the next one */
	size_t ndec, dec_cap;
	uint64_t dec_lost;    /* not queued (out of memory, or DEC_MAX uncommitted) */
	struct ld_learner_stats st;
	struct ld_fleet *fleet;  /* NULL: no [fleet] */
	size_t nfleet;           /* prefixes installed from the fleet (install_max) */
	size_t push_cursor;      /* where the last push stopped in l->all */
	uint64_t fleet_connects; /* the link's connects at the last push: a new one pushes everything */
};

#define YIELD_NS 1000000ull

/* work.c: the caller's ring buffer during a tick, the work list, tick states,
 * the queue of unsaved models, the tick's budget */
void lr_yield(struct ld_learner *l, size_t i);
int lr_commit(struct ld_learner *l);
void lr_touch(struct ld_learner *l, struct pfx *p);
void lr_untouch(struct ld_learner *l, struct pfx *p);
struct tick_state *lr_tick_state(struct ld_learner *l, struct pfx *p);
void lr_unsaved(struct ld_learner *l, struct pfx *p);
void lr_saved(struct ld_learner *l, struct pfx *p);
uint64_t lr_share_ns(const struct ld_learner *l);
bool lr_within(const struct ld_learner *l, uint64_t start, size_t i);

/* index.c */
int lr_index_init(struct index *ix, size_t n);
void lr_index_put(struct ld_learner *l, struct index *ix, struct pfx *p);
void lr_index_del(struct ld_learner *l, struct index *ix, struct pfx *p);
struct pfx *lr_find_id(const struct ld_learner *l, uint32_t id);
struct pfx *lr_find_key(const struct ld_learner *l, const struct learnd_key *k);

/* prefix.c */
void lr_model_cfg(const struct ld_learner *l, const struct pfx *p, struct learnd_model_cfg *mc);
int lr_promote(struct ld_learner *l, struct pfx *p, bool parent);
void lr_apply_cfg(struct ld_learner *l, struct pfx *p);
struct pfx *lr_pfx_new(struct ld_learner *l, const struct learnd_key *key, enum origin origin,
		       const struct ld_bounds *b, uint32_t id, const struct pfx *parent);
void lr_pfx_remove(struct ld_learner *l, struct pfx *p);
void lr_name_new(struct ld_learner *l);
void lr_unmap(struct ld_learner *l);
void lr_evict_lru(struct ld_learner *l);
size_t lr_discovered_cap(const struct ld_learner *l);
struct pfx *lr_discover(struct ld_learner *l, const struct learnd_record *rec);

/* prior.c: the fleet's priors in, the pushes out */
void lr_prior_take(struct ld_learner *l);
void lr_prior_push(struct ld_learner *l);
void lr_prior_drop(struct pfx *p);
int lr_prior_daemon(struct ld_learner *l);

/* decide.c */
bool lr_wants_map(const struct pfx *p);
void lr_clear_decisions(struct ld_learner *l);
bool lr_needs_decision(const struct pfx *p);
void lr_decide_work(struct ld_learner *l, uint64_t wall);

/* persist.c */
int lr_persist(struct ld_learner *l, uint64_t wall, bool all_models);

/* control.c */
void lr_read_control(struct ld_learner *l);

/* restore.c */
const struct ld_prefix_cfg *lr_configured(const struct ld_config *cfg, const struct learnd_key *key);
int lr_restore_one(void *ctx, const struct ld_store_prefix *row, const struct learnd_model_row *rows, size_t n);
void lr_restore_slots(void *ctx, uint32_t id, const struct learnd_policy *pol);
void lr_reconcile_map(struct ld_learner *l);

#endif
