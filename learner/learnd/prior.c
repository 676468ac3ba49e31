// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fleet in the prefix table (docs/fleet.md): what the link pulled becomes
 * each prefix's fleet prior -- a model of the prefix's own bounds and pins,
 * imported from the other hosts' merged rows -- which a new prefix starts
 * from and which decide() follows where it would follow a parent, until the
 * prefix's own evidence takes over.  Prefixes the fleet knows and this host
 * has not seen go into the table (most used first, within the caps), so their
 * first connection already gets the fleet's values.  And the push: every
 * interval, the rows of the prefixes whose model moved since the last one.
 */
#include "learner_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "fleet.h"
#include "log.h"
#include "policy.h"

/* Past this many own records the fleet prior no longer matters (decide
 * follows a parent for cfg.pool_n records at most): dropped. */
#define PRIOR_LOCAL_MAX(m) ((uint64_t)(8 * (m)->cfg.pool_n))

void lr_prior_drop(struct pfx *p)
{
	free(p->fleet);
	p->fleet = NULL;
}

/* p's fleet prior from v: imported with p's own bounds and pins, so no value
 * outside them can come of it */
static void set_prior(struct ld_learner *l, struct pfx *p, const struct ld_fleet_prior *v)
{
	struct learnd_model_decision d;
	struct learnd_model_cfg mc;

	memcpy(p->fleet_value, v->p.value, sizeof(p->fleet_value));
	p->fleet_hosts = v->p.hosts;
	if (p->origin == LEARND_ORIGIN_DEFAULT || (p->model && learnd_model_samples(p->model) >= PRIOR_LOCAL_MAX(p->model))) {
		lr_prior_drop(p);
		return;
	}
	if (!p->fleet && !(p->fleet = malloc(sizeof(*p->fleet))))
		return;
	lr_model_cfg(l, p, &mc);
	if (learnd_model_init(p->fleet, &mc)) { /* (ld_config_load checked this cfg: never uninitialised) */
		lr_prior_drop(p);
		return;
	}
	learnd_model_import(p->fleet, v->rows, v->p.nrows);
	/* the prior decides on the fleet's evidence: the merge's incumbent is a
	 * vote of the hosts' values in force, which hosts that each see a prefix
	 * once a minute never move alone (tests/unit/test_model_fleet.c) */
	learnd_model_decide(p->fleet, &d);
	l->st.fleet_priors++;
	if (!p->model) {
		if (lr_promote(l, p, true)) /* starts from the prior (lr_promote) */
			lr_prior_drop(p);
		return;
	}
	p->cfg_changed = true; /* decide again, following the prior */
	lr_touch(l, p);
}

static int by_conns(const void *a, const void *b)
{
	const struct ld_fleet_prior *x = *(const struct ld_fleet_prior *const *)a;
	const struct ld_fleet_prior *y = *(const struct ld_fleet_prior *const *)b;

	return x->p.conns_total > y->p.conns_total ? -1 : x->p.conns_total < y->p.conns_total;
}

void lr_prior_take(struct ld_learner *l)
{
	size_t n, nc = 0;
	struct ld_fleet_prior *v, **cand;

	if (!l->fleet)
		return;
	v = ld_fleet_take(l->fleet, &n);
	if (!v)
		return;
	cand = malloc(n * sizeof(*cand));
	for (size_t i = 0; i < n; i++) {
		struct pfx *p = lr_find_key(l, &v[i].p.key);

		lr_yield(l, i);
		if (p)
			set_prior(l, p, &v[i]);
		else if (cand)
			cand[nc++] = &v[i];
	}
	if (nc)
		qsort(cand, nc, sizeof(*cand), by_conns);
	for (size_t i = 0; i < nc; i++) {
		const struct ld_fleet_prefix *fp = &cand[i]->p;
		const struct ld_prefix_cfg *pc = lr_configured(l->cfg, &fp->key);
		struct pfx *p;

		lr_yield(l, i);
		if (l->nfleet >= l->cfg->fleet.install_max || l->ndiscovered >= lr_discovered_cap(l)) {
			l->st.fleet_not_installed += nc - i;
			break;
		}
		p = lr_pfx_new(l, &fp->key, pc ? LEARND_ORIGIN_CONFIGURED : LEARND_ORIGIN_DISCOVERED, pc ? &pc->b : &l->cfg->defaults, 0,
			       l->dflt);
		if (!p)
			break;
		p->from_fleet = true;
		l->nfleet++;
		l->st.fleet_installed++;
		ld_debug("fleet: %s installed (known to %u hosts, %llu connections)", p->cidr, fp->hosts,
			 (unsigned long long)fp->conns_total);
		set_prior(l, p, cand[i]);
	}
	free(cand);
	ld_fleet_priors_free(v, n);
	lr_name_new(l); /* ids for the new ones, so that this tick decides them */
}

/* the vocabulary's origin, or "fleet" for a prefix the fleet installed here */
static const char *origin_text(const struct pfx *p)
{
	return p->from_fleet ? "fleet" : learnd_origin_name(p->origin, 0);
}

/* every interval: the prefixes whose model or policy moved since their last push */
void lr_prior_push(struct ld_learner *l)
{
	struct ld_fleet_batch *b;
	struct ld_fleet_stats st;
	uint64_t start = ld_now_ns();

	if (!l->fleet || !ld_fleet_push_wanted(l->fleet, start) || !(b = ld_fleet_batch_new()))
		return;
	ld_fleet_get_stats(l->fleet, &st);
	if (st.connects != l->fleet_connects) {
		/* a new connection: everything again, once (the server may have lost
		 * what it had: a restore, a failover to a replica behind) */
		l->fleet_connects = st.connects;
		for (size_t i = 0; i < l->n; i++)
			l->all[i]->pushed_samples = UINT64_MAX;
	}
	for (size_t k = 0; k < l->n; k++) {
		size_t i = (l->push_cursor + k) % l->n;
		struct pfx *p = l->all[i];
		struct ld_fleet_prefix fp = { .key = p->key, .share = 1.0 };

		if (!p->model || p->origin == LEARND_ORIGIN_DEFAULT || !p->in_map ||
		    (learnd_model_samples(p->model) == p->pushed_samples && p->written.epoch == p->pushed_epoch))
			continue;
		if (!learnd_model_samples(p->model))
			continue; /* nothing learned here: the fleet's own value, or the kernel's */
		if (k % 64 == 0 && ld_now_ns() - start >= lr_share_ns(l)) {
			l->push_cursor = i; /* the rest with the next push */
			break;
		}
		for (int j = 0; j < LEARND_PARAM__MAX; j++)
			fp.value[j] = p->written.nslots ? ld_arm_get(&p->written.slots[0], (enum learnd_param)j) : 0;
		fp.share = p->written.nslots ? p->written.slots[0].share / (double)LEARND_SHARE_ONE : 1.0;
		fp.samples = learnd_model_samples(p->model);
		fp.conns_total = p->conns_total;
		fp.last_used_wall_ns = p->last_used_ns;
		snprintf(fp.origin, sizeof(fp.origin), "%s", origin_text(p));
		for (int j = 0; j < LEARND_PARAM__MAX; j++)
			if (p->pin[j] >= 0)
				fp.pinned |= 1u << j;
		if (ld_fleet_batch_add(b, &fp, p->model))
			break;
		p->pushed_samples = learnd_model_samples(p->model);
		p->pushed_epoch = p->written.epoch;
	}
	ld_fleet_push(l->fleet, b);
}

/* the link's state into the daemon table, for learnctl status and metrics */
int lr_prior_daemon(struct ld_learner *l)
{
	struct ld_fleet_stats st;
	int rc = 0;

	if (!l->fleet)
		return 0;
	ld_fleet_get_stats(l->fleet, &st);
	const struct {
		const char *key;
		uint64_t v;
	} kv[] = {
		{ LD_DAEMON_FLEET_STATE, st.state },
		{ LD_DAEMON_FLEET_PUSH, st.last_push_wall_ns },
		{ LD_DAEMON_FLEET_PULL, st.last_pull_wall_ns },
		{ LD_DAEMON_FLEET_PUSHED, st.rows_pushed },
		{ LD_DAEMON_FLEET_PULLED, st.rows_pulled },
		{ LD_DAEMON_FLEET_REJECTED, st.rows_rejected },
		{ LD_DAEMON_FLEET_INSTALLED, l->st.fleet_installed },
	};
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]) && !rc; i++)
		rc = ld_store_put_daemon(l->store, kv[i].key, (int64_t)kv[i].v);
	return rc;
}

void ld_learner_set_fleet(struct ld_learner *l, struct ld_fleet *f)
{
	if (l) /* (NULL: learnd's cleanup after a start that failed before the learner) */
		l->fleet = f;
}
