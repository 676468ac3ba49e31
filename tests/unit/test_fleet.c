// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fleet's pure part (learner/fleet/merge.c) with the real model: a host's
 * exported rows, checked as foreign rows, merged, imported as another host's
 * prior with that host's own bounds, and decided from.  Hostile rows (NaN,
 * negative, absurd counts, values beyond the ABI, a /0) are refused; one
 * host's weight is capped.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "fleet.h"
#include "harness.h"
#include "model.h"
#include "pathsim.h" /* sim_server_record */

static void cfg_iw(struct learnd_model_cfg *c, uint32_t mode, uint32_t min, uint32_t max)
{
	learnd_model_cfg_default(c);
	c->bound[LEARND_PARAM_IW] = (struct learnd_bound){ .mode = mode, .min = min, .max = max };
	c->bound[LEARND_PARAM_SYN_RTO] = (struct learnd_bound){ .mode = LEARND_BOUND_LEARN, .min = 200, .max = 3000 };
}

static struct learnd_model A, F, B;
static struct learnd_model_row rows[LEARND_MODEL_MAX_ROWS];

/* host A: iw fixed at v, n connections */
static size_t host_a(uint32_t v, unsigned n)
{
	struct learnd_model_cfg c;
	struct learnd_model_decision d;
	struct learnd_record r;

	cfg_iw(&c, LEARND_BOUND_FIXED, v, v);
	learnd_model_init(&A, &c);
	for (unsigned i = 0; i < n; i++) {
		sim_server_record(&r, &(struct learnd_arm){ .iw = (uint16_t)v, .syn_rto_ms = 1000 }, 10000);
		learnd_model_observe(&A, &r, 1000000ull * i);
		if (i % 10 == 0)
			learnd_model_decide(&A, &d);
	}
	learnd_model_decide(&A, &d);
	return learnd_model_export(&A, rows, LEARND_MODEL_MAX_ROWS);
}

/* B's first decision for a prefix only the fleet knows, within B's iw bounds */
static uint32_t b_first_iw(const struct learnd_model_row *prior, size_t n, uint32_t mode, uint32_t lo, uint32_t hi)
{
	struct learnd_model_cfg c;
	struct learnd_model_decision d;

	cfg_iw(&c, mode, lo, hi);
	learnd_model_init(&F, &c);
	learnd_model_import(&F, prior, n);
	learnd_model_init_from_parent(&B, &c, &F);
	learnd_model_decide_pooled(&B, &F, &d);
	return d.slots[0].iw;
}

static void test_prior_reaches_b(void)
{
	size_t n = host_a(56, 200);
	struct ld_fleet_src s = { .rows = rows, .nrows = n, .site_weight = 1, .value = { 56, 0, 1000, 0 } };
	struct ld_fleet_prefix p = { 0 };
	struct learnd_model_row *m = NULL;
	int k;
	char why[160];

	for (size_t i = 0; i < n; i++)
		CHECK(ld_fleet_row_check(&rows[i], why, sizeof(why)) == 0, "A's own row %zu refused: %s", i, why);
	k = ld_fleet_merge(&s, 1, 50, &m, &p);
	CHECK(k > 0, "merge: %d", k);
	CHECK(p.value[0] == 56 && p.hosts == 1, "fleet's value in force %u (hosts %u)", p.value[0], p.hosts);
	CHECK(b_first_iw(m, (size_t)k, LEARND_BOUND_LEARN, 4, 128) == 56, "B's first iw %u, want A's 56",
	      b_first_iw(m, (size_t)k, LEARND_BOUND_LEARN, 4, 128));
	CHECK(b_first_iw(m, (size_t)k, LEARND_BOUND_LEARN, 4, 20) == 20, "B's bounds 4..20: first iw %u, want 20",
	      b_first_iw(m, (size_t)k, LEARND_BOUND_LEARN, 4, 20));
	CHECK(b_first_iw(m, (size_t)k, LEARND_BOUND_FIXED, 14, 14) == 14, "B fixed at 14: %u",
	      b_first_iw(m, (size_t)k, LEARND_BOUND_FIXED, 14, 14));
	CHECK(fabs(ld_fleet_mass(m, (size_t)k) - 50) < 1.0, "A's 200 connections count as the cap, 50: %g",
	      ld_fleet_mass(m, (size_t)k));
	free(m);
}

/* a host with a million connections of weight moves the vote no more than one with the cap */
static void test_cap(void)
{
	static struct learnd_model_row big[LEARND_MODEL_MAX_ROWS], honest[LEARND_MODEL_MAX_ROWS];
	size_t nb = host_a(128, 300), nh;
	struct ld_fleet_src s[3];
	struct ld_fleet_prefix p = { 0 };
	struct learnd_model_row *m = NULL;
	int k;

	for (size_t i = 0; i < nb; i++) { /* the same rows, counts blown up a thousandfold */
		big[i] = rows[i];
		big[i].n *= 1000;
		big[i].sum *= 1000;
		big[i].sum2 *= 1000;
		big[i].sum_raw *= 1000;
	}
	nh = host_a(20, 100);
	memcpy(honest, rows, nh * sizeof(rows[0]));
	s[0] = (struct ld_fleet_src){ .rows = big, .nrows = nb, .site_weight = 1, .value = { 128 } };
	s[1] = (struct ld_fleet_src){ .rows = honest, .nrows = nh, .site_weight = 1, .value = { 20 } };
	s[2] = (struct ld_fleet_src){ .rows = honest, .nrows = nh, .site_weight = 1, .value = { 20 } };
	k = ld_fleet_merge(s, 3, 50, &m, &p);
	CHECK(k > 0 && p.value[0] == 20, "two honest hosts outvote one loud one: %u", p.value[0]);
	CHECK(b_first_iw(m, (size_t)k, LEARND_BOUND_LEARN, 4, 128) == 20, "B follows the honest hosts: %u",
	      b_first_iw(m, (size_t)k, LEARND_BOUND_LEARN, 4, 128));
	free(m);
	/* another site counts 10%: one honest host elsewhere loses to a capped one here */
	s[1].site_weight = 0.1;
	k = ld_fleet_merge(s, 2, 50, &m, &p);
	CHECK(k > 0 && p.value[0] == 128, "same site outweighs another site: %u", p.value[0]);
	free(m);
}

static void test_hostile_rows(void)
{
	struct learnd_model_row r0 = { .kind = LEARND_ROW_ARM, .param = LEARND_PARAM_IW, .key = 40, .n = 10, .sum_raw = 20 };
	struct learnd_model_row r;
	struct ld_fleet_prefix p = { 0 };
	char why[160];

	CHECK(ld_fleet_row_check(&r0, why, sizeof(why)) == 0, "a sane row refused: %s", why);
	r = r0, r.n = NAN;
	CHECK(ld_fleet_row_check(&r, why, sizeof(why)) == -EINVAL, "NaN taken");
	r = r0, r.n = -1;
	CHECK(ld_fleet_row_check(&r, why, sizeof(why)) == -EINVAL, "negative count taken");
	r = r0, r.n = 1e12;
	CHECK(ld_fleet_row_check(&r, why, sizeof(why)) == -EINVAL, "absurd count taken");
	r = r0, r.n = INFINITY;
	CHECK(ld_fleet_row_check(&r, why, sizeof(why)) == -EINVAL, "infinite count taken");
	r = r0, r.key = LEARND_IW_MAX + 1;
	CHECK(ld_fleet_row_check(&r, why, sizeof(why)) == -EINVAL, "iw beyond the ABI taken");
	r = r0, r.kind = 99;
	CHECK(ld_fleet_row_check(&r, why, sizeof(why)) == -EINVAL, "unknown kind taken");
	r = r0, r.kind = LEARND_ROW_CELL, r.key = 40 | (LEARND_MODEL_NCLASSES << 16);
	CHECK(ld_fleet_row_check(&r, why, sizeof(why)) == -EINVAL, "size class beyond the model taken");
	r = r0, r.kind = LEARND_ROW_CELL, r.sum = 1000;
	CHECK(ld_fleet_row_check(&r, why, sizeof(why)) == -EINVAL, "costs beyond the clip taken");
	r = r0, r.kind = LEARND_ROW_HIST, r.param = 0, r.key = LEARND_MODEL_QBUCKETS;
	CHECK(ld_fleet_row_check(&r, why, sizeof(why)) == -EINVAL, "histogram bucket beyond the model taken");
	r = r0, r.kind = LEARND_ROW_PARAM, r.param = LEARND_PARAM_SYN_RTO, r.key = LEARND_SYN_RTO_MS_MAX + 1;
	CHECK(ld_fleet_row_check(&r, why, sizeof(why)) == -EINVAL, "syn_rto beyond the ABI taken");
	r = r0, r.kind = LEARND_ROW_PREFIX, r.param = 0, r.key = 1, r.n = 10, r.sum = 20;
	CHECK(ld_fleet_row_check(&r, why, sizeof(why)) == -EINVAL, "more failed than samples taken");
	/* the catch-all, IPv4 and IPv6 */
	memset(&p, 0, sizeof(p));
	p.share = 1;
	p.key.addr[10] = p.key.addr[11] = 0xff;
	p.key.prefixlen = 96;
	CHECK(ld_fleet_prefix_check(&p, why, sizeof(why)) == -EINVAL, "0.0.0.0/0 taken");
	p.key.prefixlen = 120;
	CHECK(ld_fleet_prefix_check(&p, why, sizeof(why)) == 0, "a /24 refused: %s", why);
	p.value[LEARND_PARAM_IW] = LEARND_IW_MAX + 1;
	CHECK(ld_fleet_prefix_check(&p, why, sizeof(why)) == -EINVAL, "iw in force beyond the ABI taken");
	memset(&p, 0, sizeof(p));
	CHECK(ld_fleet_prefix_check(&p, why, sizeof(why)) == -EINVAL, "::/0 taken");
}

/* a pinned incumbent stays home: the batch drops its param row, keeps the evidence */
static void test_pinned_not_pushed(void)
{
	struct ld_fleet_batch *b = ld_fleet_batch_new();
	struct ld_fleet_prefix p = { .pinned = 1u << LEARND_PARAM_IW };
	size_t iw_param = 0, all = 0, arms = 0;

	host_a(56, 50);
	CHECK(b && ld_fleet_batch_add(b, &p, &A) == 0, "batch_add");
	for (size_t i = 0; b && i < b->nrows; i++) {
		all++;
		iw_param += b->rows[i].kind == LEARND_ROW_PARAM && b->rows[i].param == LEARND_PARAM_IW;
		arms += b->rows[i].kind != LEARND_ROW_PARAM;
	}
	CHECK(iw_param == 0 && arms > 0 && b->pfx[0].nrows == all, "pinned iw: %zu param rows, %zu others, %zu of %zu",
	      iw_param, arms, b ? b->pfx[0].nrows : 0, all);
	ld_fleet_batch_free(b);
}

int main(void)
{
	RUN(test_pinned_not_pushed);
	RUN(test_prior_reaches_b);
	RUN(test_cap);
	RUN(test_hostile_rows);
	return t_summary();
}
