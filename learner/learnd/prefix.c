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
void lr_model_cfg(const struct ld_learner *l, const struct pfx *p, struct learnd_model_cfg *mc)
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

/* A model for p: from the fleet's prior when it has one, else from its
 * parent's (parent: the prefix's, when it has one and that has a model), then
 * the records it kept while light. */
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
	lr_model_cfg(l, p, &mc);
	if (p->fleet)
		learnd_model_init_from_parent(m, &mc, p->fleet);
	else if (pp && pp != p && pp->model)
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
	lr_model_cfg(l, p, &mc);
	if (learnd_model_cfg_check(&mc, err, sizeof(err)) || learnd_model_set_cfg(p->model, &mc))
		ld_warn("prefix %s: model configuration refused: %s", p->cidr, err);
	else if (p->fleet)
		learnd_model_set_cfg(p->fleet, &mc); /* the prior within the new bounds and pins too */
	p->cfg_changed = true;
	p->row_dirty = true;
	lr_touch(l, p);
	lr_unsaved(l, p);
}

/* p's id: id (restored), or the one the database has for its cidr, else a
 * new one.  A prefix stored before (evicted at the cap, or removed from the
 * config) comes back under its old id: cidr is UNIQUE in the database, a new
 * id would fail every tick's transaction from then on.  A lookup in the store:
 * for a discovered prefix the tick does it (lr_name_new), not the record that
 * found it. */
static void name(struct ld_learner *l, struct pfx *p, uint32_t id)
{
	p->id = id;
	if (!id && l->store && ld_store_prefix_id(l->store, p->cidr, &p->id))
		ld_debug("store: id of %s: %s", p->cidr, ld_store_errmsg(l->store));
	if (!id && (!p->id || lr_find_id(l, p->id)))
		p->id = l->next_id++;
	if (p->id >= l->next_id)
		l->next_id = p->id + 1;
	lr_index_put(l, &l->by_id, p);
}

/* Ids for the prefixes discovered since the last tick, in the order they came. */
void lr_name_new(struct ld_learner *l)
{
	for (size_t i = 0; i < l->nunnamed; i++) {
		struct pfx *p = l->unnamed[i];

		lr_yield(l, i);
		if (!p)
			continue; /* removed before it had an id */
		p->unnamed_pos = 0;
		name(l, p, 0);
		ld_debug("discovered prefix %s (id %u)", p->cidr, p->id);
	}
	l->nunnamed = 0;
	if (l->unnamed_cap > 4096) { /* after a spray of new prefixes */
		free(l->unnamed);
		l->unnamed = NULL;
		l->unnamed_cap = 0;
	}
}

/* a (moved), with room for one more than its n of *cap elements; NULL (a as
 * it was) when out of memory. */
static void *grow(void *a, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? 2 * *cap : 256;
	void *g;

	if (n < *cap)
		return a;
	g = realloc(a, c * size);
	if (g)
		*cap = c;
	return g;
}

/* A discovered prefix waits for the tick to name it: until then its id is 0
 * and it is not in l->by_id (no record carries its id: the map has no entry
 * for it yet, the tick puts one there after naming it). */
static int unnamed(struct ld_learner *l, struct pfx *p)
{
	struct pfx **u = grow(l->unnamed, &l->unnamed_cap, l->nunnamed, sizeof(*u));

	if (!u)
		return -ENOMEM;
	l->unnamed = u;
	u[l->nunnamed++] = p;
	p->unnamed_pos = l->nunnamed;
	return 0;
}

/* A prefix into the table.  id: its stored id (restored), or 0 (a new one,
 * looked up: at once, or at the next tick for a discovered prefix, so that a
 * record never waits for the store). */
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
	if (id || origin != ORIGIN_DISCOVERED)
		name(l, p, id);
	else if (unnamed(l, p)) {
		free(p);
		return NULL;
	}
	p->origin = origin;
	p->bounds = *b;
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

/* The map entry of a removed prefix: deleted after the next tick's commit
 * (lr_unmap), with the rest of the tick's map writes. */
static void unmap_later(struct ld_learner *l, const struct learnd_key *key)
{
	struct learnd_key *k = grow(l->unmap, &l->unmap_cap, l->nunmap, sizeof(*k));

	if (!k) {
		l->unmap_lost = true;
		return;
	}
	l->unmap = k;
	k[l->nunmap++] = *key;
}

/* Removed from the table now; out of the map after the next tick's commit
 * (lr_unmap), and marked evicted in the database by its transaction
 * (write_gone, persist.c): a spray of new prefixes evicts thousands at once,
 * and neither a map delete nor an autocommit each may stall the intake.  One
 * not named yet has nothing in either. */
void lr_pfx_remove(struct ld_learner *l, struct pfx *p)
{
	if (l->policy_fd >= 0 && p->in_map)
		unmap_later(l, &p->key);
	if (l->store && p->id) {
		uint32_t *g = grow(l->gone, &l->gone_cap, l->ngone, sizeof(*g));

		if (g) {
			l->gone = g;
			g[l->ngone++] = p->id;
		} else { /* its row stays as it was: a restart takes it back, or forgets it at the cap */
			ld_debug("store: evict %s not recorded: out of memory", p->cidr);
		}
	}
	if (p->id)
		lr_index_del(l, &l->by_id, p);
	if (p->unnamed_pos)
		l->unnamed[p->unnamed_pos - 1] = NULL;
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
	if (p->from_fleet)
		l->nfleet--;
	lr_prior_drop(p);
	free(p->model);
	free(p->early);
	free(p);
}

/* After the tick's commit: the map entries of the prefixes removed since
 * the last one (all of the map's, checked against the table, when a key could
 * not be queued). */
void lr_unmap(struct ld_learner *l)
{
	for (size_t i = 0; i < l->nunmap; i++)
		if (l->policy_fd >= 0)
			ld_policy_del(l->policy_fd, &l->unmap[i]); /* -ENOENT when it is not there */
	l->nunmap = 0;
	if (l->unmap_cap > 4096) {
		free(l->unmap);
		l->unmap = NULL;
		l->unmap_cap = 0;
	}
	if (l->unmap_lost) {
		l->unmap_lost = false;
		lr_reconcile_map(l);
	}
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
	if (p)
		l->st.discovered++; /* logged when the tick names it */
	return p;
}
