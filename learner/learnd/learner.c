// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "learner.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cidr.h"
#include "clock.h"
#include "log.h"
#include "model.h"
#include "policy.h"

enum origin { ORIGIN_CONFIGURED, ORIGIN_DISCOVERED, ORIGIN_DEFAULT };
static const char *const origin_name[] = { "configured", "discovered", "default" };

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
	uint32_t id, parent_id;
	uint32_t ts;                         /* 1 + its index in l->ts; 0: no records since the last commit */
	uint32_t born;                       /* l->pin_epoch at creation */
	enum origin origin;
	struct ld_bounds bounds;             /* from the configuration */
	int64_t pin[LEARND_PARAM__MAX];      /* operator pins; < 0: none */
	int64_t pin_prev[LEARND_PARAM__MAX]; /* before the last read of the pins */
	struct learnd_model *model;          /* NULL: light */
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
	struct decision *dec; /* decisions made since the last commit, written by the next one */
	size_t ndec, dec_cap;
	uint64_t dec_lost;    /* not queued (out of memory, or DEC_MAX uncommitted) */
	struct ld_learner_stats st;
};

#define YIELD_NS 1000000ull

/* ---- the caller's ring buffer during a tick ---- */

/* Every 16 items of a tick's loops: the caller's ring buffer, once a ms. */
static void yield(struct ld_learner *l, size_t i)
{
	uint64_t now;

	if (!l->yield || i % 16)
		return;
	now = ld_now_ns();
	if (now - l->yield_ns < YIELD_NS)
		return;
	l->yield(l->yield_ctx);
	l->yield_ns = ld_now_ns();
}

void ld_learner_set_yield(struct ld_learner *l, ld_learner_yield_fn fn, void *ctx)
{
	l->yield = fn;
	l->yield_ctx = ctx;
}

struct commit_job {
	struct ld_store *store;
	int rc;
	atomic_bool done;
};

static void *commit_main(void *arg)
{
	struct commit_job *j = arg;

	j->rc = ld_store_commit(j->store);
	atomic_store(&j->done, true);
	return NULL;
}

/* COMMIT writes the tick's pages (100 ms and more for 100,000 active
 * prefixes): on a thread of its own, while this one keeps calling the yield.
 * The store is not touched here until the thread is joined. */
static int commit(struct ld_learner *l)
{
	struct commit_job j = { .store = l->store };
	pthread_t t;

	if (!l->yield || pthread_create(&t, NULL, commit_main, &j))
		return ld_store_commit(l->store);
	while (!atomic_load(&j.done)) {
		nanosleep(&(struct timespec){ .tv_nsec = 200000 }, NULL);
		l->yield(l->yield_ctx);
	}
	pthread_join(t, NULL);
	l->yield_ns = ld_now_ns();
	return j.rc;
}

/* ---- index ---- */

static uint64_t hash_key(const struct learnd_key *k)
{
	uint64_t h = 1469598103934665603ull;
	const uint8_t *p = (const uint8_t *)k;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static uint64_t hash_id(uint32_t id)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ull;

	return h ^ (h >> 31);
}

static uint64_t hash_of(const struct index *ix, const struct ld_learner *l, const struct pfx *p)
{
	return ix == &l->by_id ? hash_id(p->id) : hash_key(&p->key);
}

static int index_init(struct index *ix, size_t n)
{
	size_t size = 16;

	while (size < 2 * n)
		size <<= 1;
	ix->slot = calloc(size, sizeof(*ix->slot));
	ix->mask = size - 1;
	return ix->slot ? 0 : -ENOMEM;
}

static void index_put(struct ld_learner *l, struct index *ix, struct pfx *p)
{
	size_t i = hash_of(ix, l, p) & ix->mask;

	while (ix->slot[i])
		i = (i + 1) & ix->mask;
	ix->slot[i] = p;
}

static void index_del(struct ld_learner *l, struct index *ix, struct pfx *p)
{
	size_t i = hash_of(ix, l, p) & ix->mask, j;

	while (ix->slot[i] && ix->slot[i] != p)
		i = (i + 1) & ix->mask;
	if (!ix->slot[i])
		return;
	ix->slot[i] = NULL;
	/* backward shift: move later entries of the run into the hole when their
	 * home position allows it, so lookups never stop at a false gap */
	for (j = (i + 1) & ix->mask; ix->slot[j]; j = (j + 1) & ix->mask) {
		size_t home = hash_of(ix, l, ix->slot[j]) & ix->mask;

		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			ix->slot[i] = ix->slot[j];
			ix->slot[j] = NULL;
			i = j;
		}
	}
}

static struct pfx *find_id(const struct ld_learner *l, uint32_t id)
{
	for (size_t i = hash_id(id) & l->by_id.mask; l->by_id.slot[i]; i = (i + 1) & l->by_id.mask)
		if (l->by_id.slot[i]->id == id)
			return l->by_id.slot[i];
	return NULL;
}

static struct pfx *find_key(const struct ld_learner *l, const struct learnd_key *k)
{
	for (size_t i = hash_key(k) & l->by_key.mask; l->by_key.slot[i]; i = (i + 1) & l->by_key.mask)
		if (!memcmp(&l->by_key.slot[i]->key, k, sizeof(*k)))
			return l->by_key.slot[i];
	return NULL;
}

/* ---- the tick's work list, tick states, the queue of unsaved models ---- */

/* Something to do for p at the next tick. */
static void touch(struct ld_learner *l, struct pfx *p)
{
	if (p->work_pos != SIZE_MAX)
		return;
	p->work_pos = l->nwork;
	l->work[l->nwork++] = p; /* sized for every prefix of the table */
}

static void untouch(struct ld_learner *l, struct pfx *p)
{
	if (p->work_pos == SIZE_MAX)
		return;
	l->work[p->work_pos] = l->work[--l->nwork];
	l->work[p->work_pos]->work_pos = p->work_pos;
	p->work_pos = SIZE_MAX;
}

static struct tick_state *tick_state(struct ld_learner *l, struct pfx *p)
{
	struct tick_state *t;

	if (p->ts)
		return &l->ts[p->ts - 1];
	if (l->nts == l->ts_cap) {
		size_t cap = l->ts_cap ? 2 * l->ts_cap : 256;

		t = realloc(l->ts, cap * sizeof(*t));
		if (!t)
			return NULL; /* out of memory: the record counts for the model, not the history */
		l->ts = t;
		l->ts_cap = cap;
	}
	t = &l->ts[l->nts++];
	t->p = p;
	t->nagg = t->agg_cap = 0;
	t->agg = NULL;
	t->has_sample = false;
	p->ts = (uint32_t)l->nts;
	return t;
}

/* p's model state changed: saved within about MODEL_SAVE_TICKS ticks. */
static void unsaved(struct ld_learner *l, struct pfx *p)
{
	if (p->in_save_q || !p->model)
		return;
	p->in_save_q = true;
	p->save_tick = l->ticks;
	p->save_next = NULL;
	p->save_prev = l->save_tail;
	if (l->save_tail)
		l->save_tail->save_next = p;
	else
		l->save_head = p;
	l->save_tail = p;
	l->nsave++;
}

static void saved(struct ld_learner *l, struct pfx *p)
{
	if (!p->in_save_q)
		return;
	if (p->save_prev)
		p->save_prev->save_next = p->save_next;
	else
		l->save_head = p->save_next;
	if (p->save_next)
		p->save_next->save_prev = p->save_prev;
	else
		l->save_tail = p->save_prev;
	p->in_save_q = false;
	p->save_prev = p->save_next = NULL;
	l->nsave--;
}

/* ---- prefixes ---- */

/* The model's configuration for a prefix: config bounds, then the operator's pins
 * (as fixed values) where they fall within those bounds. */
static void model_cfg(const struct ld_learner *l, const struct pfx *p, struct learnd_model_cfg *mc)
{
	learnd_model_cfg_default(mc);
	ld_bounds_to_model(&p->bounds, mc->bound);
	mc->window = l->cfg->window;
	mc->probe_min_total = l->cfg->probe_pct / 100.0;
	if (mc->probe_max_each < mc->probe_min_total)
		mc->probe_max_each = mc->probe_min_total;
	for (int i = 0; i < LEARND_PARAM__MAX; i++) {
		const struct ld_range *r = &p->bounds.r[i];

		if (p->pin[i] < 0)
			continue;
		if (!r->set || p->pin[i] < r->min || p->pin[i] > r->max) {
			ld_warn("pin %s %s=%lld ignored: outside the configured bounds", p->cidr,
				ld_param_name((enum learnd_param)i), (long long)p->pin[i]);
			continue;
		}
		mc->bound[i] = (struct learnd_bound){ .mode = LEARND_BOUND_FIXED, .min = (uint32_t)p->pin[i],
						      .max = (uint32_t)p->pin[i] };
	}
}

/* New bounds or pins for a prefix in the table: its model takes them (keeping
 * the statistics of values still allowed) and decides again at the next tick. */
static bool pinned(const struct pfx *p)
{
	for (int i = 0; i < LEARND_PARAM__MAX; i++)
		if (p->pin[i] >= 0)
			return true;
	return false;
}

/* A model for p: from its parent's (parent: the prefix's, when it has one and
 * that has a model), then the records it kept while light. */
static int promote(struct ld_learner *l, struct pfx *p, bool parent)
{
	const struct pfx *pp = parent && p->parent_id ? find_id(l, p->parent_id) : NULL;
	struct learnd_model_cfg mc;
	struct learnd_model *m;

	if (p->model)
		return 0;
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	model_cfg(l, p, &mc);
	if (pp && pp != p && pp->model)
		learnd_model_init_from_parent(m, &mc, pp->model);
	else
		learnd_model_init(m, &mc);
	for (unsigned i = 0; i < p->nearly; i++)
		learnd_model_observe(m, &p->early[i].rec, p->early[i].now);
	free(p->early);
	p->early = NULL;
	p->nearly = 0;
	p->model = m;
	if (p->origin == ORIGIN_DISCOVERED)
		l->nlight--;
	p->cfg_changed = true;
	p->row_dirty = true;
	touch(l, p);
	unsaved(l, p);
	return 0;
}

/* New bounds or pins for a prefix in the table: its model takes them (keeping
 * the statistics of values still allowed) and decides again at the next tick.
 * A light prefix takes them when it gets its model; a pin gives it one now. */
static void apply_cfg(struct ld_learner *l, struct pfx *p)
{
	struct learnd_model_cfg mc;
	char err[160] = "";

	if (!p->model) {
		if (pinned(p) && promote(l, p, true))
			ld_warn("prefix %s: pin not applied: out of memory", p->cidr);
		return;
	}
	model_cfg(l, p, &mc);
	if (learnd_model_cfg_check(&mc, err, sizeof(err)) || learnd_model_set_cfg(p->model, &mc))
		ld_warn("prefix %s: model configuration refused: %s", p->cidr, err);
	p->cfg_changed = true;
	p->row_dirty = true;
	touch(l, p);
	unsaved(l, p);
}

static void pfx_remove(struct ld_learner *l, struct pfx *p);

static struct pfx *pfx_new(struct ld_learner *l, const struct learnd_key *key, enum origin origin,
			   const struct ld_bounds *b, uint32_t id, const struct pfx *parent)
{
	struct pfx *p;

	if (l->n == l->cap)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->key = *key;
	ld_cidr_format(key, p->cidr, sizeof(p->cidr));
	p->origin = origin;
	p->bounds = *b;
	/* a prefix stored before (evicted at the cap, or removed from the config)
	 * comes back under its old id: cidr is UNIQUE in the database, a new id
	 * would fail every tick's transaction from then on */
	p->id = id;
	if (!p->id && l->store && ld_store_prefix_id(l->store, p->cidr, &p->id))
		ld_debug("store: id of %s: %s", p->cidr, ld_store_errmsg(l->store));
	if (!p->id || (!id && find_id(l, p->id)))
		p->id = l->next_id++;
	if (p->id >= l->next_id)
		l->next_id = p->id + 1;
	for (int i = 0; i < LEARND_PARAM__MAX; i++)
		p->pin[i] = -1;
	p->created_ns = p->last_used_ns = ld_wall_ns();
	p->cfg_changed = p->row_dirty = true;
	p->work_pos = SIZE_MAX;
	/* a pin may name it (rediscovered, or configured on SIGHUP): the next
	 * tick reads the pins of the prefixes born since the last read */
	p->born = l->pin_epoch;
	l->control_new = true;
	p->parent_id = parent ? parent->id : 0;
	p->pos = l->n;
	l->all[l->n++] = p;
	index_put(l, &l->by_id, p);
	index_put(l, &l->by_key, p);
	touch(l, p);
	if (origin == ORIGIN_DISCOVERED) {
		l->ndiscovered++;
		l->nlight++;
	} else if (promote(l, p, false)) {
		pfx_remove(l, p);
		return NULL;
	}
	return p;
}

/* Removed from the table (and the map) now; marked evicted in the database by
 * the next tick's transaction (write_gone): a spray of new prefixes evicts
 * thousands at once, and one autocommit each would stall the intake. */
static void pfx_remove(struct ld_learner *l, struct pfx *p)
{
	if (l->policy_fd >= 0 && p->in_map)
		ld_policy_del(l->policy_fd, &p->key);
	if (l->store) {
		if (l->ngone == l->gone_cap) {
			size_t cap = l->gone_cap ? 2 * l->gone_cap : 256;
			uint32_t *g = realloc(l->gone, cap * sizeof(*g));

			if (g) {
				l->gone = g;
				l->gone_cap = cap;
			}
		}
		if (l->ngone < l->gone_cap)
			l->gone[l->ngone++] = p->id;
		else if (ld_store_evict_prefix(l->store, p->id, l->wall_ns)) /* out of memory: at once */
			ld_debug("store: evict %s: %s", p->cidr, ld_store_errmsg(l->store));
	}
	index_del(l, &l->by_id, p);
	index_del(l, &l->by_key, p);
	l->all[p->pos] = l->all[--l->n];
	l->all[p->pos]->pos = p->pos;
	untouch(l, p);
	saved(l, p);
	if (p->ts)
		l->ts[p->ts - 1].p = NULL;
	if (p->origin == ORIGIN_DISCOVERED) {
		l->ndiscovered--;
		if (!p->model)
			l->nlight--;
	}
	if (l->dflt == p)
		l->dflt = NULL;
	free(p->model);
	free(p->early);
	free(p);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* At the cap: drop the least recently used sixteenth of the discovered prefixes
 * at once, so a spray of new prefixes costs O(1) per prefix, not a scan each. */
static void evict_lru(struct ld_learner *l)
{
	size_t n = 0, drop = l->ndiscovered / 16 + 1;
	uint64_t *used = malloc(l->ndiscovered * sizeof(*used)), cut;

	if (!used)
		return;
	for (size_t i = 0; i < l->n; i++)
		if (l->all[i]->origin == ORIGIN_DISCOVERED)
			used[n++] = l->all[i]->last_ns;
	if (!n) {
		free(used);
		return;
	}
	qsort(used, n, sizeof(*used), cmp_u64);
	cut = used[drop < n ? drop - 1 : n - 1];
	free(used);
	for (size_t i = 0; i < l->n && drop;) {
		struct pfx *p = l->all[i];

		if (p->origin == ORIGIN_DISCOVERED && p->last_ns <= cut) {
			pfx_remove(l, p); /* moves the last entry into i */
			l->st.evicted++;
			drop--;
			continue;
		}
		i++;
	}
}

static size_t discovered_cap(const struct ld_learner *l)
{
	size_t reserved = l->cfg->nprefixes + 1; /* configured + default */

	return l->cfg->max_prefixes > reserved ? l->cfg->max_prefixes - reserved : 0;
}

/* The discovered prefix of a remote address (created on first sight), or NULL
 * when discovery is off for its family. */
static struct pfx *discover(struct ld_learner *l, const struct learnd_record *rec)
{
	bool v4 = ld_addr_is_v4(rec->raddr);
	unsigned len = v4 ? l->cfg->auto_prefix_v4 : l->cfg->auto_prefix_v6;
	struct learnd_key key;
	struct pfx *p;

	if (!len || !discovered_cap(l))
		return NULL;
	memcpy(key.addr, rec->raddr, sizeof(key.addr));
	ld_key_mask(&key, v4 ? 96 + len : len);
	p = find_key(l, &key);
	if (p)
		return p;
	if (l->ndiscovered >= discovered_cap(l))
		evict_lru(l);
	p = pfx_new(l, &key, ORIGIN_DISCOVERED, &l->cfg->defaults, 0, l->dflt);
	if (p) {
		l->st.discovered++;
		ld_debug("discovered prefix %s (id %u)", p->cidr, p->id);
	}
	return p;
}

/* ---- intake ---- */

static void agg_add(struct tick_state *p, enum learnd_param param, uint32_t value, const struct learnd_record *r)
{
	struct agg *g = NULL;
	bool est = r->flags & LEARND_REC_ESTABLISHED;
	double ms = (double)r->duration_us / 1000.0;

	for (unsigned i = 0; i < p->nagg; i++)
		if (p->agg[i].param == param && p->agg[i].value == value)
			g = &p->agg[i];
	if (!g) {
		if (p->nagg == AGG_MAX)
			return; /* flushed every tick; more distinct values than this is noise */
		if (p->nagg == p->agg_cap) {
			unsigned cap = p->agg_cap ? 2 * p->agg_cap : 4;

			g = realloc(p->agg, cap * sizeof(*g));
			if (!g)
				return;
			p->agg = g;
			p->agg_cap = cap;
		}
		g = &p->agg[p->nagg++];
		memset(g, 0, sizeof(*g));
		g->param = (uint8_t)param;
		g->value = value;
	}
	g->a.n++;
	if (!est) {
		g->a.failed++;
		return;
	}
	g->a.cost_sum += ms;
	g->a.cost_sum2 += ms * ms;
	g->a.handshake_sum += r->handshake_us / 1000.0;
	g->a.retrans += r->total_retrans > r->syn_retrans ? r->total_retrans - r->syn_retrans : 0;
	g->a.segs_out += r->data_segs_out;
	g->a.bytes += r->bytes_acked + r->bytes_received;
}

/* A light prefix keeps the record (true), or has just been given its model
 * (false: the record goes into it). */
static bool keep_early(struct ld_learner *l, struct pfx *p, const struct learnd_record *r, uint64_t now)
{
	struct early *e;

	if (p->nearly < LIGHT_MAX && (e = realloc(p->early, (p->nearly + 1) * sizeof(*e)))) {
		p->early = e;
		e[p->nearly++] = (struct early){ .now = now, .rec = *r };
		return true;
	}
	if (promote(l, p, true))
		ld_debug("prefix %s: no memory for its model; record not learned from", p->cidr);
	return false;
}

static void observe(struct ld_learner *l, struct pfx *p, const struct learnd_record *r, uint64_t now)
{
	bool applied = r->flags & LEARND_REC_APPLIED;
	struct tick_state *t;

	if (p->model || !keep_early(l, p, r, now)) {
		if (p->model)
			learnd_model_observe(p->model, r, now);
		unsaved(l, p);
	}
	p->last_ns = now;
	p->conns_total++;
	p->row_dirty = true;
	touch(l, p);
	t = tick_state(l, p);
	if (!t)
		return;
	agg_add(t, LEARND_PARAM_IW, applied ? r->iw : 0, r);
	agg_add(t, LEARND_PARAM_RWND, applied ? r->rwnd : 0, r);
	agg_add(t, LEARND_PARAM_SYN_RTO, applied ? r->syn_rto_ms : 0, r);
	agg_add(t, LEARND_PARAM_BASE_RTT, applied ? r->base_rtt_us : 0, r);
	t->sample = *r;
	t->has_sample = true;
}

void ld_learner_record(struct ld_learner *l, const struct learnd_record *in)
{
	struct learnd_record copy;
	const struct learnd_record *rec = in;

	if (in->flags & LEARND_REC_IW_FAILED) { /* it ran on the kernel's IW: not evidence for its slot's */
		copy = *in;
		copy.iw = 0;
		rec = &copy;
	}
	uint64_t now = ld_now_ns();
	struct pfx *p = rec->prefix_id ? find_id(l, rec->prefix_id) : NULL;

	l->st.records++;
	if (p && p->origin != ORIGIN_DEFAULT) {
		observe(l, p, rec, now);
		return;
	}
	/* matched nothing more specific than the catch-all: the default prefix
	 * learns from all of it, and the remote's own prefix is discovered */
	if (l->dflt)
		observe(l, l->dflt, rec, now);
	p = discover(l, rec);
	if (p)
		observe(l, p, rec, now);
}

/* ---- decisions ---- */

static const char *why_name(uint32_t why)
{
	switch (why) {
	case LEARND_WHY_INIT: return "init";
	case LEARND_WHY_ESTIMATE: return "estimate";
	case LEARND_WHY_EVIDENCE: return "evidence";
	case LEARND_WHY_BOUNDS: return "bounds";
	default: return "none";
	}
}

/* The default prefix goes into the map only when [defaults] sets something:
 * otherwise every connection would carry storage for nothing. */
static bool wants_map(const struct pfx *p)
{
	if (!p->model)
		return false; /* light: the enclosing prefix's policy applies */
	if (p->origin != ORIGIN_DEFAULT)
		return true;
	for (int i = 0; i < LEARND_PARAM__MAX; i++)
		if (p->bounds.r[i].set)
			return true;
	return false;
}

/* Decisions go into the database with the rest of their tick (persist): a
 * tick whose transaction fails leaves nothing behind, and the next one writes
 * them. */
static void queue_decision(struct ld_learner *l, const struct decision *d, const char *why)
{
	struct decision *q;

	if (l->ndec == l->dec_cap && l->dec_cap < DEC_MAX) {
		size_t cap = l->dec_cap ? 2 * l->dec_cap : 64;

		q = realloc(l->dec, cap * sizeof(*q));
		if (q) {
			l->dec = q;
			l->dec_cap = cap;
		}
	}
	if (l->ndec == l->dec_cap || !(l->dec[l->ndec].why = strdup(why))) {
		l->dec_lost++;
		return;
	}
	q = &l->dec[l->ndec++];
	q->ts_ns = d->ts_ns;
	q->id = d->id;
	q->param = d->param;
	q->old_value = d->old_value;
	q->new_value = d->new_value;
	q->reason = d->reason;
}

static void clear_decisions(struct ld_learner *l)
{
	for (size_t i = 0; i < l->ndec; i++)
		free(l->dec[i].why);
	l->ndec = 0;
}

static bool needs_decision(const struct pfx *p)
{
	return p->model && (p->cfg_changed || learnd_model_samples(p->model) != p->samples_at_decide || !p->in_map);
}

static void decide(struct ld_learner *l, struct pfx *p, uint64_t wall)
{
	struct learnd_model_decision d;
	struct learnd_policy pol = { .prefix_id = p->id };
	const struct pfx *parent;
	char why[512];
	bool same;

	if (!needs_decision(p))
		return;
	p->cfg_changed = false;
	p->samples_at_decide = learnd_model_samples(p->model);
	parent = p->parent_id ? find_id(l, p->parent_id) : NULL;
	learnd_model_decide_pooled(p->model, parent && parent != p && parent->model ? parent->model : NULL, &d);
	pol.nslots = d.nslots;
	memcpy(pol.slots, d.slots, sizeof(pol.slots));
	same = p->written.nslots == pol.nslots && !memcmp(p->written.slots, pol.slots, sizeof(pol.slots[0]) * pol.nslots);
	if (same && p->in_map)
		return;
	pol.epoch = same ? p->written.epoch : p->written.epoch + 1;
	if (wants_map(p) && !ld_policy_valid(&pol, &p->bounds, why, sizeof(why))) {
		ld_err("prefix %s: policy not written: %s", p->cidr, why); /* keep what is there */
		return;
	}
	/* into the map after the tick's transaction commits (apply_map): the
	 * database is the record of what is in force, so it goes first */
	p->map_pending = wants_map(p);
	p->in_map = true;
	if (same)
		return; /* rewritten after a restart: not a new decision */
	for (int i = 0; i < LEARND_PARAM__MAX; i++) {
		uint32_t nv = ld_arm_get(&pol.slots[0], (enum learnd_param)i);
		int64_t ov = p->written.nslots ? (int64_t)ld_arm_get(&p->written.slots[0], (enum learnd_param)i) : -1;

		if (ov == (int64_t)nv)
			continue;
		snprintf(why, sizeof(why), "%s", d.text[0] ? d.text : why_name(d.why));
		l->st.decisions++;
		if (ov >= 0)
			ld_info("%s: %s %lld -> %u (%s)", p->cidr, ld_param_name((enum learnd_param)i), (long long)ov, nv, why);
		if (l->store)
			queue_decision(l, &(struct decision){ .ts_ns = wall, .id = p->id, .param = (uint8_t)i,
							      .old_value = ov, .new_value = nv,
							      .reason = ov < 0 ? "init" : why_name(d.why) }, why);
	}
	p->written = pol;
	p->save_model = true; /* so a restart decides the same from the saved state */
	unsaved(l, p);
	p->slots_pending = true;
}

/* ---- persistence ---- */

static void prefix_row(const struct pfx *p, struct ld_store_prefix *out)
{
	memset(out, 0, sizeof(*out));
	out->id = p->id;
	out->parent_id = p->parent_id;
	snprintf(out->cidr, sizeof(out->cidr), "%s", p->cidr);
	out->origin = origin_name[p->origin];
	out->created_ns = p->created_ns;
	out->last_used_ns = p->last_used_ns;
	out->conns_total = p->conns_total;
	ld_bounds_to_model(&p->bounds, out->bound);
}

static int save_model(struct ld_learner *l, struct pfx *p, uint64_t wall)
{
	static struct learnd_model_row rows[LEARND_MODEL_MAX_ROWS];
	size_t n = learnd_model_export(p->model, rows, LEARND_MODEL_MAX_ROWS);

	return ld_store_put_model(l->store, p->id, rows, n < LEARND_MODEL_MAX_ROWS ? n : LEARND_MODEL_MAX_ROWS,
				  wall);
}

/* Prefixes removed from the table since the last commit: evicted in the
 * database (history stays), and their slots gone, since the map no longer has
 * them.  One that came back under its old id is live again and skipped. */
static int write_gone(struct ld_learner *l, uint64_t wall)
{
	static const struct learnd_policy none;
	int rc = 0;

	for (size_t i = 0; !rc && i < l->ngone; i++) {
		yield(l, i);
		if (find_id(l, l->gone[i]))
			continue;
		rc = ld_store_evict_prefix(l->store, l->gone[i], wall);
		if (!rc)
			rc = ld_store_put_slots(l->store, l->gone[i], &none);
	}
	return rc;
}

static int write_decisions(struct ld_learner *l)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < l->ndec; i++) {
		const struct decision *d = &l->dec[i];

		yield(l, i);
		rc = ld_store_add_decision(l->store, d->ts_ns, d->id, (enum learnd_param)d->param, d->old_value,
					   d->new_value, d->reason, d->why);
	}
	return rc;
}

/* The tick's time budget for one kind of work (decisions, model saves), from
 * start: false once it is spent.  Checked every 16 items: the clock costs more
 * than most of them. */
static uint64_t share_ns(const struct ld_learner *l)
{
	return (uint64_t)l->cfg->tick_ms * 1000000ull / TICK_SHARE;
}

static bool within(const struct ld_learner *l, uint64_t start, size_t i)
{
	return i % 16 || ld_now_ns() - start < share_ns(l);
}

static int save_later(struct ld_learner *l, struct pfx *p)
{
	if (l->nsaved == l->saved_cap) {
		size_t cap = l->saved_cap ? 2 * l->saved_cap : 256;
		struct pfx **s = realloc(l->saved, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		l->saved = s;
		l->saved_cap = cap;
	}
	l->saved[l->nsaved++] = p;
	return 0;
}

/* Model states into the open transaction: those whose decision changed (a
 * restart must decide the same), then the oldest of the others once they have
 * waited MODEL_SAVE_TICKS ticks, as many as a share of the tick allows
 * (all_models: every one).  Taken out of the queue after the commit. */
static int save_models(struct ld_learner *l, uint64_t wall, bool all_models, uint64_t *must_ns)
{
	uint64_t start = ld_now_ns();
	size_t i = 0;
	int rc = 0;

	l->nsaved = 0;
	for (size_t k = 0; !rc && k < l->nwork; k++) {
		struct pfx *p = l->work[k];

		yield(l, k);
		if (p->model && p->in_save_q && p->save_model && !(rc = save_model(l, p, wall)))
			rc = save_later(l, p);
	}
	*must_ns += ld_now_ns() - start;
	start = ld_now_ns();
	for (struct pfx *p = l->save_head; !rc && p; p = p->save_next, i++) {
		yield(l, i);
		if (!all_models && (p->save_tick + MODEL_SAVE_TICKS > l->ticks || !within(l, start, i)))
			break;
		if (p->save_model)
			continue; /* saved above */
		rc = save_model(l, p, wall);
		if (!rc)
			rc = save_later(l, p);
	}
	return rc;
}

/* This tick's transaction: decisions, slots, aggregates, samples, prefixes,
 * model states, then commit.  Only the prefixes of the work list (records,
 * decisions or writes pending) and the queue of unsaved models are visited.
 * What is pending in memory (decisions, slots, aggregates) is
 * cleared only once it commits; any failure (a full disk, a statement that
 * fails, another connection holding the lock) rolls all of it back, so the
 * database is as before the tick and the next tick writes each thing once. */
/* A prefix's part of the transaction: slots, aggregates and sample since its
 * last write, its row, a light prefix's empty model state. */
static int write_prefix(struct ld_learner *l, struct pfx *p, const struct tick_state *t, uint64_t wall)
{
	uint64_t bucket = wall - wall % AGG_BUCKET_NS;
	struct ld_store_prefix row;
	int rc = 0;

	if (p->slots_pending)
		rc = ld_store_put_slots(l->store, p->id, &p->written);
	for (unsigned k = 0; !rc && t && k < t->nagg; k++)
		rc = ld_store_add_aggregate(l->store, p->id, (enum learnd_param)t->agg[k].param, t->agg[k].value,
					    bucket, &t->agg[k].a);
	if (!rc && t && t->has_sample)
		rc = ld_store_put_sample(l->store, p->id, p->sample_seq % SAMPLE_RING, wall, &t->sample);
	if (!rc && p->row_dirty) {
		if (t && t->nagg)
			p->last_used_ns = wall;
		prefix_row(p, &row);
		rc = ld_store_put_prefix(l->store, &row);
	}
	/* a light prefix's model state: no statistics of its own yet (its
	 * records are in its parent's and in the history) */
	if (!rc && !p->model && !p->light_stored)
		rc = ld_store_put_model(l->store, p->id, NULL, 0, wall);
	return rc;
}

/* After a commit (or with no store): what was written is no longer pending;
 * the tick states of prefixes not written yet stay, packed. */
static void written(struct ld_learner *l)
{
	size_t j = 0;

	clear_decisions(l);
	for (size_t i = 0; i < l->nwork; i++) {
		struct pfx *p = l->work[i];

		p->save_model = false;
		if (!p->hist_done && l->store)
			continue;
		p->hist_done = false;
		p->slots_pending = false;
		p->row_dirty = false;
		p->light_stored = !p->model;
		if (p->ts) {
			if (l->ts[p->ts - 1].has_sample)
				p->sample_seq++;
			l->ts[p->ts - 1].p = NULL;
			p->ts = 0;
		}
	}
	for (size_t i = 0; i < l->nts; i++) {
		if (!l->ts[i].p) { /* written, or its prefix removed */
			free(l->ts[i].agg);
			continue;
		}
		l->ts[j] = l->ts[i];
		l->ts[j].p->ts = (uint32_t)(j + 1);
		j++;
	}
	l->nts = j;
	if (l->ts_cap > 1024 && l->nts < l->ts_cap / 8) { /* after a spray of new prefixes */
		struct tick_state *t = realloc(l->ts, l->ts_cap / 4 * sizeof(*t));

		if (t) {
			l->ts = t;
			l->ts_cap /= 4;
		}
	}
}

static int persist(struct ld_learner *l, uint64_t wall, bool all_models)
{
	uint64_t start = ld_now_ns(), must_ns = 0;
	size_t n = 0;
	char msg[256];
	int rc;

	if (!l->store)
		goto clear;
	rc = ld_store_begin(l->store);
	if (!rc)
		rc = write_gone(l, wall);
	if (!rc)
		rc = write_decisions(l);
	/* first what must go in now (decisions: the map follows the commit),
	 * then the rest within the share, round robin from where the last tick
	 * stopped */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			must_ns = ld_now_ns() - start;
		for (size_t k = 0; !rc && k < l->nwork; k++) {
			size_t i = pass ? (l->hist_cursor + k) % l->nwork : k;
			struct pfx *p = l->work[i];

			yield(l, k);
			if (p->hist_done || (pass == 0 && !all_models && !p->slots_pending))
				continue;
			if (pass > 0 && !within(l, start, n++)) {
				l->hist_cursor = i;
				break;
			}
			rc = write_prefix(l, p, p->ts ? &l->ts[p->ts - 1] : NULL, wall);
			p->hist_done = !rc;
		}
	}
	l->st.tick_write_ns = ld_now_ns() - start;
	if (!rc)
		rc = save_models(l, wall, all_models, &must_ns);
	l->st.tick_models_ns = ld_now_ns() - start - l->st.tick_write_ns;
	if (l->nchanged)
		l->change_cost_ns = must_ns / l->nchanged;
	if (!rc)
		rc = ld_store_put_daemon(l->store, LD_DAEMON_LAST_TICK, (int64_t)wall);
	if (!rc)
		rc = ld_store_put_daemon(l->store, LD_DAEMON_RECORDS, (int64_t)l->st.records);
	if (!rc)
		rc = ld_store_put_daemon(l->store, LD_DAEMON_PREFIXES, (int64_t)l->n);
	if (!rc)
		rc = ld_store_put_daemon(l->store, LD_DAEMON_STORE_ERRORS, (int64_t)l->st.store_errors);
	if (!rc && wall - l->last_prune_ns > 3600ull * 1000000000ull) {
		rc = ld_store_prune(l->store, wall - (uint64_t)l->cfg->retention_days * 86400ull * 1000000000ull);
		if (!rc)
			l->last_prune_ns = wall;
	}
	if (!rc) {
		uint64_t c0 = ld_now_ns();

		rc = commit(l);
		l->st.tick_commit_ns = ld_now_ns() - c0;
		snprintf(msg, sizeof(msg), "%s", ld_store_errmsg(l->store));
	} else {
		snprintf(msg, sizeof(msg), "%s", ld_store_errmsg(l->store)); /* before the rollback resets it */
		ld_store_rollback(l->store);
	}
	if (rc)
		for (size_t i = 0; i < l->nwork; i++)
			l->work[i]->hist_done = false; /* all of it again next tick */
	if (rc) {
		l->st.store_errors++;
		/* once a minute, not once a tick: a full disk stays full for a while */
		if (wall - l->last_err_log_ns > 60ull * 1000000000ull) {
			ld_err("database: history not written (%s: %s); the data plane is unaffected, retrying every tick",
			       strerror(-rc), msg);
			l->last_err_log_ns = wall;
		}
		return rc;
	}
	for (size_t i = 0; i < l->nwork; i++)
		if (l->work[i]->ts && !l->work[i]->hist_done)
			l->st.history_late++;
	if (l->st.store_errors && l->last_err_log_ns) {
		ld_info("database: writing again");
		l->last_err_log_ns = 0;
	}
	l->ngone = 0;
	if (l->dec_lost) {
		ld_warn("database: %llu decisions not recorded (out of memory, or too many while it could not be written)",
			(unsigned long long)l->dec_lost);
		l->dec_lost = 0;
	}
	for (size_t i = 0; i < l->nsaved; i++)
		saved(l, l->saved[i]);
	l->nsaved = 0;
clear:
	if (!l->store) /* nothing to save the models into */
		while (l->save_head)
			saved(l, l->save_head);
	written(l);
	return 0;
}

/* ---- operator control ---- */

static void on_pin(void *ctx, const char *cidr, const int64_t vals[LEARND_PARAM__MAX])
{
	struct ld_learner *l = ctx;
	struct learnd_key key;
	char err[128];
	struct pfx *p;

	if (ld_cidr_parse(cidr, &key, err, sizeof(err))) {
		ld_warn("pin %s ignored: %s", cidr, err);
		return;
	}
	p = find_key(l, &key);
	if (!p) {
		/* evicted, or not configured any more: learnctl refuses new pins of
		 * unknown prefixes, so this is expected and not worth a warning */
		ld_debug("pin %s not applied: no such prefix in the table", cidr);
		return;
	}
	memcpy(p->pin, vals, sizeof(p->pin));
}

/* Pins of the prefixes born since the last read, when nobody else wrote: the
 * others' pins cannot have changed, so this costs the pins table, not a walk
 * of every prefix. */
static void on_pin_new(void *ctx, const char *cidr, const int64_t vals[LEARND_PARAM__MAX])
{
	struct ld_learner *l = ctx;
	struct learnd_key key;
	struct pfx *p;

	if (ld_cidr_parse(cidr, &key, NULL, 0) || !(p = find_key(l, &key)) || p->born != l->pin_epoch)
		return;
	memcpy(p->pin, vals, sizeof(p->pin));
	ld_info("%s: operator pins (iw %lld rwnd %lld syn_rto_ms %lld base_rtt_us %lld; -1 = none)", p->cidr,
		(long long)p->pin[0], (long long)p->pin[1], (long long)p->pin[2], (long long)p->pin[3]);
	apply_cfg(l, p);
}

/* Pins and pause: read when another connection (learnctl) wrote, and when this
 * learner has not read them for its current prefixes yet (at start: what the
 * operator set while learnd was down; after a prefix was added).  PRAGMA
 * data_version only sees other connections' commits, so the first read cannot
 * wait for it. */
static void read_control(struct ld_learner *l)
{
	bool was_paused = l->st.paused, paused;
	int rc;

	if (!l->store)
		return;
	if (!ld_store_changed(l->store) && !l->control_stale) {
		if (l->control_new && !ld_store_pins(l->store, on_pin_new, l)) {
			l->control_new = false;
			l->pin_epoch++;
		}
		return;
	}
	l->control_stale = false;
	if (ld_store_paused(l->store, &paused))
		l->control_stale = true; /* busy: keep what is in force, try again next tick */
	else
		l->st.paused = paused;
	if (was_paused != l->st.paused)
		ld_info("operator %s learnd", l->st.paused ? "paused" : "resumed");
	for (size_t i = 0; i < l->n; i++) {
		memcpy(l->all[i]->pin_prev, l->all[i]->pin, sizeof(l->all[i]->pin));
		for (int k = 0; k < LEARND_PARAM__MAX; k++)
			l->all[i]->pin[k] = -1;
	}
	rc = ld_store_pins(l->store, on_pin, l);
	if (rc) {
		/* a half-read table must not unpin anything */
		for (size_t i = 0; i < l->n; i++)
			memcpy(l->all[i]->pin, l->all[i]->pin_prev, sizeof(l->all[i]->pin));
		l->control_stale = true;
		ld_debug("store: pins: %s", ld_store_errmsg(l->store));
		return;
	}
	l->control_new = false;
	l->pin_epoch++;
	for (size_t i = 0; i < l->n; i++) {
		struct pfx *p = l->all[i];

		if (!memcmp(p->pin_prev, p->pin, sizeof(p->pin)))
			continue;
		ld_info("%s: operator pins changed (iw %lld rwnd %lld syn_rto_ms %lld base_rtt_us %lld; -1 = none)",
			p->cidr, (long long)p->pin[0], (long long)p->pin[1], (long long)p->pin[2], (long long)p->pin[3]);
		apply_cfg(l, p);
	}
}

/* ---- life cycle ---- */

/* Decisions of the prefixes that had records (or a change of bounds or pins,
 * or a failed map write) since their last one: in the order they came, within
 * a share of the tick (all of them at the first tick, which puts the restored
 * policies into the map).  Those left over decide at the next tick. */
static void decide_work(struct ld_learner *l, uint64_t wall)
{
	uint64_t start = ld_now_ns();
	size_t n = 0, c = l->dec_cursor;

	l->nchanged = 0;
	for (size_t k = 0; k < l->nwork; k++) {
		size_t i = (c + k) % l->nwork;
		struct pfx *p = l->work[i];

		/* a changed decision also costs its writes (slots, decisions, the
		 * model state), which cannot wait: counted at last tick's cost */
		yield(l, k);
		if (!needs_decision(p))
			continue;
		if (l->ticks > 1 && (n % 16 == 0) &&
		    ld_now_ns() - start + l->nchanged * l->change_cost_ns >= share_ns(l)) {
			l->dec_cursor = i; /* the next tick starts here */
			for (; k < l->nwork; k++)
				l->st.decisions_late += needs_decision(l->work[(c + k) % l->nwork]);
			break;
		}
		decide(l, p, wall);
		l->nchanged += p->slots_pending;
		n++;
	}
}

/* The tick's decisions into the policy map, after they were committed (or the
 * commit failed: the data plane does not wait for a disk). */
static void apply_map(struct ld_learner *l)
{
	for (size_t i = 0; i < l->nwork; i++) {
		struct pfx *p = l->work[i];
		int err;

		if (!p->map_pending)
			continue;
		p->map_pending = false;
		if (l->policy_fd < 0)
			continue;
		err = ld_policy_put(l->policy_fd, &p->key, &p->written, &p->bounds);
		if (err) {
			ld_err("prefix %s: policy map update failed: %s", p->cidr, strerror(-err));
			p->in_map = false; /* again next tick */
		}
	}
}

/* The work list keeps what is still to do: decisions left for the next tick,
 * and everything of a tick whose transaction failed. */
static void settle(struct ld_learner *l)
{
	for (size_t i = 0; i < l->nwork;) {
		struct pfx *p = l->work[i];

		if (p->ts || p->slots_pending || p->row_dirty || p->map_pending || needs_decision(p)) {
			i++;
			continue;
		}
		untouch(l, p); /* moves the last one into i */
	}
}

int ld_learner_tick(struct ld_learner *l)
{
	uint64_t wall = ld_wall_ns(), t0 = ld_now_ns();
	int rc;

	l->wall_ns = wall;
	l->ticks++;
	l->st.tick_prefixes = l->nwork;
	read_control(l);
	decide_work(l, wall);
	l->st.tick_decide_ns = ld_now_ns() - t0;
	rc = persist(l, wall, false);
	apply_map(l);
	settle(l);
	l->st.tick_ns = ld_now_ns() - t0;
	return rc;
}

int ld_learner_flush(struct ld_learner *l)
{
	int rc = persist(l, ld_wall_ns(), true);

	settle(l);
	return rc;
}

static const struct ld_prefix_cfg *configured(const struct ld_config *cfg, const struct learnd_key *key)
{
	for (size_t i = 0; i < cfg->nprefixes; i++)
		if (!memcmp(&cfg->prefixes[i].key, key, sizeof(*key)))
			return &cfg->prefixes[i];
	return NULL;
}

static const struct learnd_key default_key = { .prefixlen = 0 };

/* A stored prefix this learnd does not take back: evicted, and out of the slots
 * table (reconcile_map takes it out of the map). */
static int forget(struct ld_learner *l, uint32_t id)
{
	static const struct learnd_policy none;
	int rc = ld_store_evict_prefix(l->store, id, l->wall_ns);

	return rc ? rc : ld_store_put_slots(l->store, id, &none);
}

/* One prefix row of the database: back into the table with its statistics. */
static int restore_one(void *ctx, const struct ld_store_prefix *row, const struct learnd_model_row *rows, size_t n)
{
	struct ld_learner *l = ctx;
	const struct ld_prefix_cfg *pc;
	struct learnd_key key;
	enum origin origin;
	char err[128];
	struct pfx *p;

	if (ld_cidr_parse(row->cidr, &key, err, sizeof(err))) {
		ld_warn("database: prefix '%s' skipped: %s", row->cidr, err);
		return 0;
	}
	origin = !strcmp(row->origin, "default") ? ORIGIN_DEFAULT : ORIGIN_DISCOVERED;
	pc = configured(l->cfg, &key);
	if (pc)
		origin = ORIGIN_CONFIGURED;
	else if (!strcmp(row->origin, "configured") || (origin == ORIGIN_DISCOVERED && l->ndiscovered >= discovered_cap(l)))
		return l->store ? forget(l, row->id) : 0; /* no longer wanted */
	if (find_key(l, &key) || find_id(l, row->id))
		return 0;
	p = pfx_new(l, &key, origin, pc ? &pc->b : &l->cfg->defaults, row->id, NULL);
	if (!p)
		return -ENOMEM;
	p->parent_id = row->parent_id;
	p->created_ns = row->created_ns;
	p->last_used_ns = row->last_used_ns;
	p->conns_total = row->conns_total;
	p->row_dirty = false; /* as stored */
	if (n && promote(l, p, false))
		return -ENOMEM;
	if (n && learnd_model_import(p->model, rows, n) > 0)
		ld_debug("prefix %s: some saved statistics no longer fit its bounds", p->cidr);
	if (p->model) {
		p->last_ns = learnd_model_last_used(p->model);
		saved(l, p); /* as stored */
	}
	p->light_stored = !p->model;
	if (origin == ORIGIN_DEFAULT)
		l->dflt = p;
	return 0;
}

static void restore_slots(void *ctx, uint32_t id, const struct learnd_policy *pol)
{
	struct pfx *p = find_id(ctx, id);

	if (p && !p->model && promote(ctx, p, false))
		return; /* out of memory: it stays light, its connections take the default's policy */
	if (p)
		p->written = *pol; /* what was in force: a same decision is not a new one */
}

/* Entries of a previous learnd (adopted pinned map) that this one does not
 * know: delete them, so only what the table says is applied. */
static void reconcile_map(struct ld_learner *l)
{
	struct learnd_key key, next, *prev = NULL;
	size_t stale = 0;

	if (l->policy_fd < 0)
		return;
	while (bpf_map_get_next_key(l->policy_fd, prev, &next) == 0) {
		struct pfx *p = find_key(l, &next);

		key = next;
		if (!p || !wants_map(p)) {
			ld_policy_del(l->policy_fd, &key);
			stale++;
			prev = NULL; /* the trie's order changed: start over */
			continue;
		}
		prev = &key;
	}
	if (stale)
		ld_info("removed %zu stale policies left by a previous learnd", stale);
}

struct ld_learner *ld_learner_new(const struct ld_config *cfg, struct ld_store *store, int policy_fd)
{
	struct ld_learner *l = calloc(1, sizeof(*l));
	uint32_t max_id = 0;

	if (!l)
		return NULL;
	l->cfg = cfg;
	l->store = store;
	l->policy_fd = policy_fd;
	l->wall_ns = ld_wall_ns();
	l->cap = (size_t)cfg->max_prefixes + cfg->nprefixes + 2;
	l->all = calloc(l->cap, sizeof(*l->all));
	l->work = calloc(l->cap, sizeof(*l->work));
	if (!l->all || !l->work || index_init(&l->by_id, l->cap) || index_init(&l->by_key, l->cap))
		goto fail;
	if (store && ld_store_max_prefix_id(store, &max_id))
		ld_warn("database: %s", ld_store_errmsg(store));
	l->next_id = max_id + 1;
	l->control_stale = true; /* pins and pause set while learnd was down */
	if (store) {
		int rc = ld_store_begin(store);

		if (!rc)
			rc = ld_store_load(store, restore_one, l);
		if (!rc)
			rc = ld_store_load_slots(store, restore_slots, l);
		if (!rc)
			rc = ld_store_commit(store);
		else
			ld_store_rollback(store);
		if (rc) {
			ld_err("database: cannot restore the learned state: %s", ld_store_errmsg(store));
			goto fail;
		}
		if (l->n)
			ld_info("restored %zu prefixes from the database", l->n);
	}
	for (size_t i = 0; i < cfg->nprefixes; i++)
		if (!find_key(l, &cfg->prefixes[i].key) &&
		    !pfx_new(l, &cfg->prefixes[i].key, ORIGIN_CONFIGURED, &cfg->prefixes[i].b, 0, NULL))
			goto fail;
	if (!l->dflt) {
		l->dflt = pfx_new(l, &default_key, ORIGIN_DEFAULT, &cfg->defaults, 0, NULL);
		if (!l->dflt)
			goto fail;
	}
	reconcile_map(l);
	return l;
fail:
	ld_err("cannot set up the learner: out of memory or a bad database");
	ld_learner_free(l);
	return NULL;
}

void ld_learner_free(struct ld_learner *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->all[i]->model);
		free(l->all[i]->early);
		free(l->all[i]);
	}
	free(l->all);
	free(l->work);
	for (size_t i = 0; i < l->nts; i++)
		free(l->ts[i].agg);
	free(l->ts);
	free(l->saved);
	free(l->by_id.slot);
	free(l->by_key.slot);
	free(l->gone);
	clear_decisions(l);
	free(l->dec);
	free(l);
}

void ld_learner_set_config(struct ld_learner *l, const struct ld_config *cfg)
{
	l->cfg = cfg;
	/* first what goes away or changes, then room at the cap, then what is new:
	 * the table never holds more than max_prefixes (its arrays are sized so) */
	for (size_t i = 0; i < l->n;) {
		struct pfx *p = l->all[i];

		if (p->origin == ORIGIN_CONFIGURED && !configured(cfg, &p->key)) {
			ld_info("%s: no longer configured; removed", p->cidr);
			pfx_remove(l, p); /* moves the last entry into i */
			continue;
		}
		if (p->origin != ORIGIN_CONFIGURED && !configured(cfg, &p->key)) {
			p->bounds = cfg->defaults;
			apply_cfg(l, p);
			if (p->origin == ORIGIN_DEFAULT && !wants_map(p) && l->policy_fd >= 0)
				ld_policy_del(l->policy_fd, &p->key); /* -ENOENT when it was not there */
		}
		i++;
	}
	for (size_t i = 0; i < cfg->nprefixes; i++) {
		const struct ld_prefix_cfg *pc = &cfg->prefixes[i];
		struct pfx *p = find_key(l, &pc->key);

		if (!p)
			continue;
		if (p->origin == ORIGIN_DISCOVERED)
			l->ndiscovered--;
		p->origin = ORIGIN_CONFIGURED;
		p->bounds = pc->b;
		apply_cfg(l, p);
	}
	while (l->ndiscovered > discovered_cap(l)) {
		size_t before = l->ndiscovered;

		evict_lru(l);
		if (l->ndiscovered == before)
			break; /* out of memory */
	}
	for (size_t i = 0; i < cfg->nprefixes; i++) {
		const struct ld_prefix_cfg *pc = &cfg->prefixes[i];
		char cidr[LD_CIDR_STRLEN];

		if (find_key(l, &pc->key) || pfx_new(l, &pc->key, ORIGIN_CONFIGURED, &pc->b, 0, NULL))
			continue;
		ld_cidr_format(&pc->key, cidr, sizeof(cidr));
		ld_err("[prefix %s]: not added: out of memory or the table is full (max_prefixes = %u)", cidr,
		       cfg->max_prefixes);
	}
}

void ld_learner_stats(const struct ld_learner *l, struct ld_learner_stats *out)
{
	*out = l->st;
	out->prefixes = (uint32_t)l->n;
	out->light = (uint32_t)l->nlight;
	out->waiting_history = l->nts;
	out->waiting_decisions = 0;
	for (size_t i = 0; i < l->nwork; i++)
		out->waiting_decisions += needs_decision(l->work[i]);
}
