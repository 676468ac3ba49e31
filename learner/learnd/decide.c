// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Decisions: a prefix's model decides, and what changed is queued for the
 * tick's transaction and the map. */
#include "learner_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "log.h"
#include "policy.h"

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
bool lr_wants_map(const struct pfx *p)
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

void lr_clear_decisions(struct ld_learner *l)
{
	for (size_t i = 0; i < l->ndec; i++)
		free(l->dec[i].why);
	l->ndec = 0;
}

bool lr_needs_decision(const struct pfx *p)
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

	if (!lr_needs_decision(p))
		return;
	p->cfg_changed = false;
	p->samples_at_decide = learnd_model_samples(p->model);
	parent = p->parent_id ? lr_find_id(l, p->parent_id) : NULL;
	/* the fleet's prior, where there is one, stands where the parent would: it
	 * knows this very prefix (prior.c) */
	learnd_model_decide_pooled(p->model, p->fleet ? p->fleet : parent && parent != p && parent->model ? parent->model : NULL,
				   &d);
	if (p->from_fleet && !learnd_model_samples(p->model) && d.nslots > 1) {
		/* known only from the fleet, no connection of its own yet: its first
		 * ones all get the fleet's value; probes start with its own records */
		memset(&d.slots[1], 0, sizeof(d.slots) - sizeof(d.slots[0]));
		d.nslots = 1;
		d.slots[0].share = LEARND_SHARE_ONE;
	}
	pol.nslots = d.nslots;
	memcpy(pol.slots, d.slots, sizeof(pol.slots));
	same = p->written.nslots == pol.nslots && !memcmp(p->written.slots, pol.slots, sizeof(pol.slots[0]) * pol.nslots);
	if (same && p->in_map)
		return;
	pol.epoch = same ? p->written.epoch : p->written.epoch + 1;
	if (lr_wants_map(p) && !ld_policy_valid(&pol, &p->bounds, why, sizeof(why))) {
		ld_err("prefix %s: policy not written: %s", p->cidr, why); /* keep what is there */
		return;
	}
	/* into the map after the tick's transaction commits (apply_map, learner.c): the
	 * database is the record of what is in force, so it goes first */
	p->map_pending = lr_wants_map(p);
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
	lr_unsaved(l, p);
	p->slots_pending = true;
}

/* Decisions of the prefixes that had records (or a change of bounds or pins,
 * or a failed map write) since their last one: in the order they came, within
 * a share of the tick (all of them at the first tick, which puts the restored
 * policies into the map).  Those left over decide at the next tick. */
void lr_decide_work(struct ld_learner *l, uint64_t wall)
{
	uint64_t start = ld_now_ns();
	size_t n = 0, c = l->dec_cursor;

	l->nchanged = 0;
	for (size_t k = 0; k < l->nwork; k++) {
		size_t i = (c + k) % l->nwork;
		struct pfx *p = l->work[i];

		/* a changed decision also costs its writes (slots, decisions, the
		 * model state), which cannot wait: counted at last tick's cost */
		lr_yield(l, k);
		if (!lr_needs_decision(p))
			continue;
		if (l->ticks > 1 && (n % 16 == 0) &&
		    ld_now_ns() - start + l->nchanged * l->change_cost_ns >= lr_share_ns(l)) {
			l->dec_cursor = i; /* the next tick starts here */
			for (; k < l->nwork; k++)
				l->st.decisions_late += lr_needs_decision(l->work[(c + k) % l->nwork]);
			break;
		}
		decide(l, p, wall);
		l->nchanged += p->slots_pending;
		n++;
	}
}
