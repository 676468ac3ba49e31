// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Life cycle, at start: restore from the store, reconcile the map. */
#include "learner_int.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include "log.h"
#include "policy.h"

const struct ld_prefix_cfg *lr_configured(const struct ld_config *cfg, const struct learnd_key *key)
{
	for (size_t i = 0; i < cfg->nprefixes; i++)
		if (!memcmp(&cfg->prefixes[i].key, key, sizeof(*key)))
			return &cfg->prefixes[i];
	return NULL;
}

/* A stored prefix this learnd does not take back: evicted, and out of the slots
 * table (reconcile_map takes it out of the map). */
static int forget(struct ld_learner *l, uint32_t id)
{
	static const struct learnd_policy none;
	int rc = ld_store_evict_prefix(l->store, id, l->wall_ns);

	return rc ? rc : ld_store_put_slots(l->store, id, &none);
}

/* One prefix row of the database: back into the table with its statistics. */
int lr_restore_one(void *ctx, const struct ld_store_prefix *row, const struct learnd_model_row *rows, size_t n)
{
	struct ld_learner *l = ctx;
	const struct ld_prefix_cfg *pc;
	struct learnd_key key;
	enum learnd_origin origin;
	char err[128];
	struct pfx *p;

	if (ld_cidr_parse(row->cidr, &key, err, sizeof(err))) {
		ld_warn("database: prefix '%s' skipped: %s", row->cidr, err);
		return 0;
	}
	origin = learnd_origin_by_name(row->origin) == LEARND_ORIGIN_DEFAULT ? LEARND_ORIGIN_DEFAULT : LEARND_ORIGIN_DISCOVERED;
	pc = lr_configured(l->cfg, &key);
	if (pc)
		origin = LEARND_ORIGIN_CONFIGURED;
	else if (learnd_origin_by_name(row->origin) == LEARND_ORIGIN_CONFIGURED || (origin == LEARND_ORIGIN_DISCOVERED && l->ndiscovered >= lr_discovered_cap(l)))
		return l->store ? forget(l, row->id) : 0; /* no longer wanted */
	if (lr_find_key(l, &key) || lr_find_id(l, row->id))
		return 0;
	p = lr_pfx_new(l, &key, origin, pc ? &pc->b : &l->cfg->defaults, row->id, NULL);
	if (!p)
		return -ENOMEM;
	p->parent_id = row->parent_id;
	p->created_ns = row->created_ns;
	p->last_used_ns = row->last_used_ns;
	p->conns_total = row->conns_total;
	p->row_dirty = false; /* as stored */
	if (n && lr_promote(l, p, false))
		return -ENOMEM;
	if (n && learnd_model_import(p->model, rows, n) > 0)
		ld_debug("prefix %s: some saved statistics no longer fit its bounds", p->cidr);
	if (p->model) {
		p->last_ns = learnd_model_last_used(p->model);
		lr_saved(l, p); /* as stored */
	}
	p->light_stored = !p->model;
	if (origin == LEARND_ORIGIN_DEFAULT)
		l->dflt = p;
	return 0;
}

void lr_restore_slots(void *ctx, uint32_t id, const struct learnd_policy *pol)
{
	struct pfx *p = lr_find_id(ctx, id);

	if (p && !p->model && lr_promote(ctx, p, false))
		return; /* out of memory: it stays light, its connections take the default's policy */
	if (p)
		p->written = *pol; /* what was in force: a same decision is not a new one */
}

/* Entries of a previous learnd (adopted pinned map) that this one does not
 * know: delete them, so only what the table says is applied. */
void lr_reconcile_map(struct ld_learner *l)
{
	struct learnd_key key, next, *prev = NULL;
	size_t stale = 0;

	if (l->policy_fd < 0)
		return;
	while (bpf_map_get_next_key(l->policy_fd, prev, &next) == 0) {
		struct pfx *p = lr_find_key(l, &next);

		key = next;
		if (!p || !lr_wants_map(p)) {
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
