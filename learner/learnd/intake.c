// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Intake: a close record into its prefix's model and tick state (no I/O). */
#include "learner_int.h"

#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "log.h"

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
 * (false: the record goes into it): after LIGHT_MAX records, or at once when
 * the parent's IW overflowed its queue (a shallow path under a deep parent:
 * each more connection on that IW costs several round trips of recovery). */
static bool keep_early(struct ld_learner *l, struct pfx *p, const struct learnd_record *r, uint64_t now)
{
	struct early *e;

	if (p->nearly < LIGHT_MAX && !learnd_model_flight_overflowed(r) &&
	    (e = realloc(p->early, (p->nearly + 1) * sizeof(*e)))) {
		p->early = e;
		e[p->nearly++] = (struct early){ .now = now, .rec = *r };
		return true;
	}
	if (lr_promote(l, p, true))
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
		lr_unsaved(l, p);
	}
	p->last_ns = now;
	p->conns_total++;
	p->row_dirty = true;
	lr_touch(l, p);
	t = lr_tick_state(l, p);
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
	struct pfx *p = rec->prefix_id ? lr_find_id(l, rec->prefix_id) : NULL;

	l->st.records++;
	if (p && p->origin != LEARND_ORIGIN_DEFAULT) {
		observe(l, p, rec, now);
		return;
	}
	/* matched nothing more specific than the catch-all: the default prefix
	 * learns from all of it, and the remote's own prefix is discovered */
	if (l->dflt)
		observe(l, l->dflt, rec, now);
	p = lr_discover(l, rec);
	if (p)
		observe(l, p, rec, now);
}
