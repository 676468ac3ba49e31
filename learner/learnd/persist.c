// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Persistence: the tick's transaction. */
#include "learner_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "log.h"

static const char *const origin_name[] = { "configured", "discovered", "default" };

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
		lr_yield(l, i);
		if (lr_find_id(l, l->gone[i]))
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

		lr_yield(l, i);
		rc = ld_store_add_decision(l->store, d->ts_ns, d->id, (enum learnd_param)d->param, d->old_value,
					   d->new_value, d->reason, d->why);
	}
	return rc;
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

		lr_yield(l, k);
		if (p->model && p->in_save_q && p->save_model && !(rc = save_model(l, p, wall)))
			rc = save_later(l, p);
	}
	*must_ns += ld_now_ns() - start;
	start = ld_now_ns();
	for (struct pfx *p = l->save_head; !rc && p; p = p->save_next, i++) {
		lr_yield(l, i);
		if (!all_models && (p->save_tick + MODEL_SAVE_TICKS > l->ticks || !lr_within(l, start, i)))
			break;
		if (p->save_model)
			continue; /* saved above */
		rc = save_model(l, p, wall);
		if (!rc)
			rc = save_later(l, p);
	}
	return rc;
}

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

	lr_clear_decisions(l);
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

/* The prefixes of the work list into the open transaction: first what must go
 * in now (decisions: the map follows the commit; all_models: everything), then
 * the rest within the share, round robin from where the last tick stopped.
 * *must_ns: the time the first part took. */
static int write_prefixes(struct ld_learner *l, uint64_t wall, bool all_models, uint64_t start, uint64_t *must_ns)
{
	size_t n = 0;
	int rc = 0;

	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			*must_ns = ld_now_ns() - start;
		for (size_t k = 0; !rc && k < l->nwork; k++) {
			size_t i = pass ? (l->hist_cursor + k) % l->nwork : k;
			struct pfx *p = l->work[i];

			lr_yield(l, k);
			if (p->hist_done || (pass == 0 && !all_models && !p->slots_pending))
				continue;
			if (pass > 0 && !lr_within(l, start, n++)) {
				l->hist_cursor = i;
				break;
			}
			rc = write_prefix(l, p, p->ts ? &l->ts[p->ts - 1] : NULL, wall);
			p->hist_done = !rc;
		}
	}
	return rc;
}

/* The daemon's row (last tick, counters) and, once an hour, retention. */
static int write_daemon(struct ld_learner *l, uint64_t wall)
{
	int rc = ld_store_put_daemon(l->store, LD_DAEMON_LAST_TICK, (int64_t)wall);

	if (!rc)
		rc = ld_store_put_daemon(l->store, LD_DAEMON_RECORDS, (int64_t)l->st.records);
	if (!rc)
		rc = ld_store_put_daemon(l->store, LD_DAEMON_PREFIXES, (int64_t)l->n);
	if (!rc)
		rc = ld_store_put_daemon(l->store, LD_DAEMON_STORE_ERRORS, (int64_t)l->st.store_errors);
	if (!rc)
		rc = lr_prior_daemon(l);
	if (!rc && wall - l->last_prune_ns > 3600ull * 1000000000ull) {
		rc = ld_store_prune(l->store, wall - (uint64_t)l->cfg->retention_days * 86400ull * 1000000000ull);
		if (!rc)
			l->last_prune_ns = wall;
	}
	return rc;
}

/* The transaction failed (rc, the store's message msg), rolled back: all of it
 * again next tick. */
static int failed(struct ld_learner *l, uint64_t wall, int rc, const char *msg)
{
	for (size_t i = 0; i < l->nwork; i++)
		l->work[i]->hist_done = false;
	l->st.store_errors++;
	/* once a minute, not once a tick: a full disk stays full for a while */
	if (wall - l->last_err_log_ns > 60ull * 1000000000ull) {
		ld_err("database: history not written (%s: %s); the data plane is unaffected, retrying every tick",
		       strerror(-rc), msg);
		l->last_err_log_ns = wall;
	}
	return rc;
}

/* The transaction committed: what it held is no longer pending. */
static void committed(struct ld_learner *l)
{
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
		lr_saved(l, l->saved[i]);
	l->nsaved = 0;
}

/* This tick's transaction: decisions, slots, aggregates, samples, prefixes,
 * model states, then commit (or roll back: one error path).  Only the prefixes of the work list (records,
 * decisions or writes pending) and the queue of unsaved models are visited.
 * What is pending in memory (decisions, slots, aggregates) is
 * cleared only once it commits; any failure (a full disk, a statement that
 * fails, another connection holding the lock) rolls all of it back, so the
 * database is as before the tick and the next tick writes each thing once. */
int lr_persist(struct ld_learner *l, uint64_t wall, bool all_models)
{
	uint64_t start = ld_now_ns(), must_ns = 0;
	char msg[256];
	int rc;

	if (!l->store)
		goto clear;
	rc = ld_store_begin(l->store);
	if (!rc)
		rc = write_gone(l, wall);
	if (!rc)
		rc = write_decisions(l);
	if (!rc)
		rc = write_prefixes(l, wall, all_models, start, &must_ns);
	else
		must_ns = ld_now_ns() - start;
	l->st.tick_write_ns = ld_now_ns() - start;
	if (!rc)
		rc = save_models(l, wall, all_models, &must_ns);
	l->st.tick_models_ns = ld_now_ns() - start - l->st.tick_write_ns;
	if (l->nchanged)
		l->change_cost_ns = must_ns / l->nchanged;
	if (!rc)
		rc = write_daemon(l, wall);
	if (!rc) {
		uint64_t c0 = ld_now_ns();

		rc = lr_commit(l);
		l->st.tick_commit_ns = ld_now_ns() - c0;
		snprintf(msg, sizeof(msg), "%s", ld_store_errmsg(l->store));
	} else {
		snprintf(msg, sizeof(msg), "%s", ld_store_errmsg(l->store)); /* before the rollback resets it */
		ld_store_rollback(l->store);
	}
	if (rc)
		return failed(l, wall, rc, msg);
	committed(l);
clear:
	if (!l->store) /* nothing to save the models into */
		while (l->save_head)
			lr_saved(l, l->save_head);
	written(l);
	return 0;
}
