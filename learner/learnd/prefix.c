// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Prefixes: their model configuration, life cycle, discovery and eviction. */
#include "learner_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "log.h"
#include "policy.h"

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
int lr_promote(struct ld_learner *l, struct pfx *p, bool parent)
{
	const struct pfx *pp = parent && p->parent_id ? lr_find_id(l, p->parent_id) : NULL;
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
	lr_touch(l, p);
	lr_unsaved(l, p);
	return 0;
}

/* New bounds or pins for a prefix in the table: its model takes them (keeping
 * the statistics of values still allowed) and decides again at the next tick.
 * A light prefix takes them when it gets its model; a pin gives it one now. */
void lr_apply_cfg(struct ld_learner *l, struct pfx *p)
{
	struct learnd_model_cfg mc;
	char err[160] = "";

	if (!p->model) {
		if (pinned(p) && lr_promote(l, p, true))
			ld_warn("prefix %s: pin not applied: out of memory", p->cidr);
		return;
	}
	model_cfg(l, p, &mc);
	if (learnd_model_cfg_check(&mc, err, sizeof(err)) || learnd_model_set_cfg(p->model, &mc))
		ld_warn("prefix %s: model configuration refused: %s", p->cidr, err);
	p->cfg_changed = true;
	p->row_dirty = true;
	lr_touch(l, p);
	lr_unsaved(l, p);
}

struct pfx *lr_pfx_new(struct ld_learner *l, const struct learnd_key *key, enum origin origin,
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
	if (!p->id || (!id && lr_find_id(l, p->id)))
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
	lr_index_put(l, &l->by_id, p);
	lr_index_put(l, &l->by_key, p);
	lr_touch(l, p);
	if (origin == ORIGIN_DISCOVERED) {
		l->ndiscovered++;
		l->nlight++;
	} else if (lr_promote(l, p, false)) {
		lr_pfx_remove(l, p);
		return NULL;
	}
	return p;
}

/* Removed from the table (and the map) now; marked evicted in the database by
 * the next tick's transaction (write_gone, persist.c): a spray of new prefixes evicts
 * thousands at once, and one autocommit each would stall the intake. */
void lr_pfx_remove(struct ld_learner *l, struct pfx *p)
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
	lr_index_del(l, &l->by_id, p);
	lr_index_del(l, &l->by_key, p);
	l->all[p->pos] = l->all[--l->n];
	l->all[p->pos]->pos = p->pos;
	lr_untouch(l, p);
	lr_saved(l, p);
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
void lr_evict_lru(struct ld_learner *l)
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
			lr_pfx_remove(l, p); /* moves the last entry into i */
			l->st.evicted++;
			drop--;
			continue;
		}
		i++;
	}
}

size_t lr_discovered_cap(const struct ld_learner *l)
{
	size_t reserved = l->cfg->nprefixes + 1; /* configured + default */

	return l->cfg->max_prefixes > reserved ? l->cfg->max_prefixes - reserved : 0;
}

/* The discovered prefix of a remote address (created on first sight), or NULL
 * when discovery is off for its family. */
struct pfx *lr_discover(struct ld_learner *l, const struct learnd_record *rec)
{
	bool v4 = ld_addr_is_v4(rec->raddr);
	unsigned len = v4 ? l->cfg->auto_prefix_v4 : l->cfg->auto_prefix_v6;
	struct learnd_key key;
	struct pfx *p;

	if (!len || !lr_discovered_cap(l))
		return NULL;
	memcpy(key.addr, rec->raddr, sizeof(key.addr));
	ld_key_mask(&key, v4 ? 96 + len : len);
	p = lr_find_key(l, &key);
	if (p)
		return p;
	if (l->ndiscovered >= lr_discovered_cap(l))
		lr_evict_lru(l);
	p = lr_pfx_new(l, &key, ORIGIN_DISCOVERED, &l->cfg->defaults, 0, l->dflt);
	if (p) {
		l->st.discovered++;
		ld_debug("discovered prefix %s (id %u)", p->cidr, p->id);
	}
	return p;
}
