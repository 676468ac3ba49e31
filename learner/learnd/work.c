// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The caller's ring buffer during a tick (the yield, the commit on a thread),
 * the tick's work list, tick states, the queue of unsaved models, the tick's
 * time budget. */
#include "learner_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include "clock.h"

/* ---- the caller's ring buffer during a tick ---- */

/* Every 16 items of a tick's loops: the caller's ring buffer, once a ms. */
void lr_yield(struct ld_learner *l, size_t i)
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
int lr_commit(struct ld_learner *l)
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

/* ---- the tick's work list, tick states, the queue of unsaved models ---- */

/* Something to do for p at the next tick. */
void lr_touch(struct ld_learner *l, struct pfx *p)
{
	if (p->work_pos != SIZE_MAX)
		return;
	p->work_pos = l->nwork;
	l->work[l->nwork++] = p; /* sized for every prefix of the table */
}

void lr_untouch(struct ld_learner *l, struct pfx *p)
{
	if (p->work_pos == SIZE_MAX)
		return;
	l->work[p->work_pos] = l->work[--l->nwork];
	l->work[p->work_pos]->work_pos = p->work_pos;
	p->work_pos = SIZE_MAX;
}

struct tick_state *lr_tick_state(struct ld_learner *l, struct pfx *p)
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
void lr_unsaved(struct ld_learner *l, struct pfx *p)
{
	if (p->in_save_q || !p->model)
		return;
	p->in_save_q = true;
	p->save_tick = l->ticks;
	p->save_next = NULL;
	p->save_prev = l->save_tail;
	*(l->save_tail ? &l->save_tail->save_next : &l->save_head) = p; /* after the tail, or the first */
	l->save_tail = p;
	l->nsave++;
}

void lr_saved(struct ld_learner *l, struct pfx *p)
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

/* The tick's time budget for one kind of work (decisions, model saves), from
 * start: false once it is spent.  Checked every 16 items: the clock costs more
 * than most of them. */
uint64_t lr_share_ns(const struct ld_learner *l)
{
	return (uint64_t)l->cfg->tick_ms * 1000000ull / TICK_SHARE;
}

bool lr_within(const struct ld_learner *l, uint64_t start, size_t i)
{
	return i % 16 || ld_now_ns() - start < lr_share_ns(l);
}
