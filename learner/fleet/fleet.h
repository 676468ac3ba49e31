/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The fleet link (docs/fleet.md): learnd's evidence to and from the fleet's
 * PostgreSQL, on a thread of its own so that nothing here is ever in a tick's
 * path.  The tick hands over a batch (at most one waits), and takes the priors
 * the last pulls made; the thread connects, pushes, pulls, validates and merges.
 *
 *   f = ld_fleet_start(&cfg.fleet, LEARND_VERSION);   (NULL: out of memory)
 *   per tick:  if (ld_fleet_push_wanted(f, now)) { build a batch; ld_fleet_push(f, b); }
 *              priors = ld_fleet_take(f, &n);  ...use, then ld_fleet_priors_free(priors, n)
 *   ld_fleet_stop(f);
 *
 * merge.c holds the pure part (validation of foreign rows, the weighted merge)
 * for the unit tests: no libpq there.
 */
#ifndef LEARND_FLEET_H
#define LEARND_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fleet_config.h"
#include "learnd_abi.h"
#include "model.h"

/* One prefix of a push, or of a prior. */
struct ld_fleet_prefix {
	struct learnd_key key;
	uint32_t value[LEARND_PARAM__MAX]; /* push: slot 0 in force; prior: the fleet's (weighted vote) */
	double share;                      /* push: slot 0's share of connections (0..1) */
	uint64_t samples, conns_total;     /* prior: summed over hosts */
	uint64_t last_used_wall_ns;        /* push: its last connection (0: none) */
	uint32_t hosts;                    /* prior: hosts whose rows it merges */
	char origin[12];                   /* push: configured, discovered, fleet */
	uint32_t pinned;                   /* push: bits (1u << enum learnd_param) the operator pinned here:
					      their incumbent (param row) stays home, a pin is no evidence */
	size_t row0, nrows;                /* its rows in the batch's / prior's rows[] */
};

/* What one push carries: the model rows of prefixes changed since the last one. */
struct ld_fleet_batch {
	struct ld_fleet_prefix *pfx;
	size_t n, cap;
	struct learnd_model_row *rows;
	size_t nrows, rows_cap;
};

/* A prefix as the fleet knows it (other hosts only), its rows merged. */
struct ld_fleet_prior {
	struct ld_fleet_prefix p;
	struct learnd_model_row *rows;
};


struct ld_fleet_stats {
	enum ld_fleet_state state;
	bool push_allowed;            /* learnd.hosts lets this role write its host's rows */
	uint64_t last_push_wall_ns;   /* of the last successful push / pull (0: none yet) */
	uint64_t last_pull_wall_ns;
	uint64_t rows_pushed, prefixes_pushed, rows_pulled, rows_rejected, prefixes_rejected;
	uint64_t pushes_failed, pulls_failed, connects;
	uint64_t fleet_prefixes;      /* prefixes the fleet knows (from other hosts) */
};

/* ---- the link (fleet.c) ---- */

struct ld_fleet;
struct ld_fleet *ld_fleet_start(const struct ld_fleet_config *cfg, const char *version);
void ld_fleet_stop(struct ld_fleet *f); /* NULL: nothing */
/* A push is due (interval elapsed since the last hand-over) and none waits. */
bool ld_fleet_push_wanted(struct ld_fleet *f, uint64_t mono_ns);
/* Hands b over (the link owns and frees it from now on). */
void ld_fleet_push(struct ld_fleet *f, struct ld_fleet_batch *b);
/* The priors merged since the last call (caller frees them), NULL/0 if none. */
struct ld_fleet_prior *ld_fleet_take(struct ld_fleet *f, size_t *n);
void ld_fleet_get_stats(struct ld_fleet *f, struct ld_fleet_stats *st);

/* ---- batches and priors (merge.c) ---- */

struct ld_fleet_batch *ld_fleet_batch_new(void);
void ld_fleet_batch_free(struct ld_fleet_batch *b);
/* One prefix: its model's export rows and what is in force.  -ENOMEM. */
int ld_fleet_batch_add(struct ld_fleet_batch *b, const struct ld_fleet_prefix *p, const struct learnd_model *m);
void ld_fleet_priors_free(struct ld_fleet_prior *v, size_t n);

/* Is a foreign row possible at all?  0, or -EINVAL with the reason in why. */
int ld_fleet_row_check(const struct learnd_model_row *r, char *why, size_t len);
/* A foreign prefix's key and values in force: 0 or -EINVAL (a /0, values beyond the ABI). */
int ld_fleet_prefix_check(const struct ld_fleet_prefix *p, char *why, size_t len);

/* One host's rows of one prefix, for the merge. */
struct ld_fleet_src {
	const struct learnd_model_row *rows;
	size_t nrows;
	double site_weight;                /* 1: same site; other_site_pct / 100 otherwise */
	uint32_t value[LEARND_PARAM__MAX]; /* its values in force (0: unknown) */
	uint64_t conns_total, samples;
};
/* Merges the hosts' rows: each host's counts scaled by site_weight x
 * min(1, host_cap / its evidence), summed; the incumbents and values in force
 * by a vote weighted by site_weight x min(its evidence, host_cap).  *out gets
 * the rows (malloc'ed; sorted by kind, param, key), p the prefix's summary
 * (value, samples, conns_total, hosts; key untouched); returns the number of
 * rows, or -ENOMEM. */
int ld_fleet_merge(const struct ld_fleet_src *src, size_t nsrc, double host_cap, struct learnd_model_row **out,
		   struct ld_fleet_prefix *p);
/* A host's evidence: the largest of its discounted connection counts. */
double ld_fleet_mass(const struct learnd_model_row *rows, size_t n);

#endif
