// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The learner's public life cycle: new, tick, flush, set_config, free,
 * stats.  The rest is in the modules of learner_int.h. */
#include "learner_int.h"

#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "log.h"
#include "policy.h"

/* ---- life cycle ---- */

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

		if (p->ts || p->slots_pending || p->row_dirty || p->map_pending || lr_needs_decision(p)) {
			i++;
			continue;
		}
		lr_untouch(l, p); /* moves the last one into i */
	}
}

int ld_learner_tick(struct ld_learner *l)
{
	uint64_t wall = ld_wall_ns(), t0 = ld_now_ns();
	int rc;

	l->wall_ns = wall;
	l->ticks++;
	l->st.tick_prefixes = l->nwork;
	lr_name_new(l); /* the record path's I/O, done here */
	lr_read_control(l);
	lr_prior_take(l); /* the fleet's priors: before the decisions, which follow them */
	lr_decide_work(l, wall);
	l->st.tick_decide_ns = ld_now_ns() - t0;
	rc = lr_persist(l, wall, false);
	lr_unmap(l); /* before apply_map: a prefix removed and found again goes back in */
	apply_map(l);
	lr_prior_push(l); /* after apply_map: what is in force is in the map */
	settle(l);
	l->st.tick_ns = ld_now_ns() - t0;
	return rc;
}

int ld_learner_flush(struct ld_learner *l)
{
	int rc;

	lr_name_new(l);
	rc = lr_persist(l, ld_wall_ns(), true);
	lr_unmap(l);
	settle(l);
	return rc;
}

static const struct learnd_key default_key = { .prefixlen = 0 };

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
	if (!l->all || !l->work || lr_index_init(&l->by_id, l->cap) || lr_index_init(&l->by_key, l->cap))
		goto fail;
	if (store && ld_store_max_prefix_id(store, &max_id))
		ld_warn("database: %s", ld_store_errmsg(store));
	l->next_id = max_id + 1;
	l->control_stale = true; /* pins and pause set while learnd was down */
	if (store) {
		int rc = ld_store_begin(store);

		if (!rc)
			rc = ld_store_load(store, lr_restore_one, l);
		if (!rc)
			rc = ld_store_load_slots(store, lr_restore_slots, l);
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
		if (!lr_find_key(l, &cfg->prefixes[i].key) &&
		    !lr_pfx_new(l, &cfg->prefixes[i].key, ORIGIN_CONFIGURED, &cfg->prefixes[i].b, 0, NULL))
			goto fail;
	if (!l->dflt) {
		l->dflt = lr_pfx_new(l, &default_key, ORIGIN_DEFAULT, &cfg->defaults, 0, NULL);
		if (!l->dflt)
			goto fail;
	}
	lr_reconcile_map(l);
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
		lr_prior_drop(l->all[i]);
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
	free(l->unnamed);
	free(l->unmap);
	lr_clear_decisions(l);
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

		if (p->origin == ORIGIN_CONFIGURED && !lr_configured(cfg, &p->key)) {
			ld_info("%s: no longer configured; removed", p->cidr);
			lr_pfx_remove(l, p); /* moves the last entry into i */
			continue;
		}
		if (p->origin != ORIGIN_CONFIGURED && !lr_configured(cfg, &p->key)) {
			p->bounds = cfg->defaults;
			lr_apply_cfg(l, p);
			if (p->origin == ORIGIN_DEFAULT && !lr_wants_map(p) && l->policy_fd >= 0)
				ld_policy_del(l->policy_fd, &p->key); /* -ENOENT when it was not there */
		}
		i++;
	}
	for (size_t i = 0; i < cfg->nprefixes; i++) {
		const struct ld_prefix_cfg *pc = &cfg->prefixes[i];
		struct pfx *p = lr_find_key(l, &pc->key);

		if (!p)
			continue;
		if (p->origin == ORIGIN_DISCOVERED)
			l->ndiscovered--;
		p->origin = ORIGIN_CONFIGURED;
		p->bounds = pc->b;
		lr_apply_cfg(l, p);
	}
	while (l->ndiscovered > lr_discovered_cap(l)) {
		size_t before = l->ndiscovered;

		lr_evict_lru(l);
		if (l->ndiscovered == before)
			break; /* out of memory */
	}
	for (size_t i = 0; i < cfg->nprefixes; i++) {
		const struct ld_prefix_cfg *pc = &cfg->prefixes[i];
		char cidr[LD_CIDR_STRLEN];

		if (lr_find_key(l, &pc->key) || lr_pfx_new(l, &pc->key, ORIGIN_CONFIGURED, &pc->b, 0, NULL))
			continue;
		ld_cidr_format(&pc->key, cidr, sizeof(cidr));
		ld_err("[prefix %s]: not added: out of memory or the table is full (max_prefixes = %u)", cidr,
		       cfg->max_prefixes);
	}
	lr_unmap(l); /* not the record path: what it removed leaves the map now */
}

void ld_learner_stats(const struct ld_learner *l, struct ld_learner_stats *out)
{
	*out = l->st;
	out->prefixes = (uint32_t)l->n;
	out->light = (uint32_t)l->nlight;
	out->waiting_history = l->nts;
	out->waiting_decisions = 0;
	for (size_t i = 0; i < l->nwork; i++)
		out->waiting_decisions += lr_needs_decision(l->work[i]);
}
