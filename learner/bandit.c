// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The probed parameters (IW, RWND): the value grid, discounted per-value cost
 * statistics, the switch rule and the probe candidates.  docs/model.md has the
 * reasoning; in short, a unimodal-bandit "leader and neighbours" scheme:
 *
 *  - cost of a record = round trips (time / min RTT) + penalty * retransmits,
 *    divided by the round trips slow start from IW 10 needs for the flow's
 *    size on a clean path, 1 + log2(1 + segments / 10): a fixed normaliser per
 *    size, so every flow size weighs alike and a few large flows do not drown
 *    the rest, and (unlike a running baseline) it does not drift when the
 *    incumbent changes, so evidence of different ages stays comparable;
 *  - per value: discounted n, sum, sum of squares (gamma per record of the
 *    stream, kept O(1) with an inflating weight w: stored sums / w), and a
 *    CUSUM change detector that forgets old evidence when the path changes;
 *  - the incumbent moves to a value only when that value is better by a margin
 *    plus z standard errors (hysteresis), both having n_min samples;
 *  - probes are the incumbent's neighbours on the grid (one and two steps),
 *    ranked by the probability that they beat the incumbent.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model_int.h"

static const uint16_t grid[] = { 4, 6, 8, 10, 14, 20, 28, 40, 56, 80, 112, 128 };

unsigned learnd_model_allowed(const struct learnd_bound *b, uint16_t *out)
{
	unsigned n = 0;

	switch (b->mode) {
	case LEARND_BOUND_FIXED:
		out[0] = (uint16_t)b->min;
		return 1;
	case LEARND_BOUND_LEARN:
		break;
	default:
		out[0] = 0;
		return 1;
	}
	out[n++] = (uint16_t)b->min;
	for (unsigned i = 0; i < sizeof(grid) / sizeof(grid[0]); i++)
		if (grid[i] > b->min && grid[i] < b->max)
			out[n++] = grid[i];
	if (b->max > b->min)
		out[n++] = (uint16_t)b->max;
	return n;
}

void lm_stream_setup(struct learnd_model_stream *s, const struct learnd_bound *b)
{
	memset(s, 0, sizeof(*s));
	s->w = 1.0;
	s->nvalues = learnd_model_allowed(b, s->values);
	s->inc = lm_stream_nearest(s, 10); /* the kernel's default IW and initial rwnd */
}

int lm_stream_index(const struct learnd_model_stream *s, uint32_t v)
{
	for (unsigned i = 0; i < s->nvalues; i++)
		if (s->values[i] == v)
			return (int)i;
	return -1;
}

unsigned lm_stream_nearest(const struct learnd_model_stream *s, uint32_t v)
{
	unsigned best = 0;
	uint32_t bd = UINT32_MAX;

	for (unsigned i = 0; i < s->nvalues; i++) {
		uint32_t d = s->values[i] > v ? s->values[i] - v : v - s->values[i];

		if (d < bd) {
			bd = d;
			best = i;
		}
	}
	return best;
}

static void arm_scale(struct learnd_model_arm_stat *a, double f)
{
	a->n *= f;
	a->raw *= f;
	for (unsigned k = 0; k < LEARND_MODEL_NCLASSES; k++) {
		a->cell[k].n = (float)(a->cell[k].n * f);
		a->cell[k].s = (float)(a->cell[k].s * f);
		a->cell[k].s2 = (float)(a->cell[k].s2 * f);
	}
}

/* Shrink a value's evidence to the prior weight (keeping its means) and
 * restart its change detector. */
static void arm_forget(struct learnd_model_stream *s, unsigned i)
{
	struct learnd_model_arm_stat *a = &s->arm[i];

	if (a->n > LM_K0 * s->w)
		arm_scale(a, LM_K0 * s->w / a->n);
	s->cu_hi[i] = 0.0f;
	s->cu_lo[i] = 0.0f;
}

/*
 * A value's variance of normalised cost within flow-size classes (pooled over
 * its classes, so sparse classes borrow it), shrunk toward the prior.
 */
static double pooled_var(const struct learnd_model_cell *cell, double w)
{
	double ssw = 0.0, n = 0.0, v;

	for (unsigned k = 0; k < LEARND_MODEL_NCLASSES; k++) {
		double nk = cell[k].n;

		if (!(nk > 0.0))
			continue;
		v = cell[k].s2 - (double)cell[k].s * cell[k].s / nk;
		ssw += v > 0.0 ? v : 0.0;
		n += nk;
	}
	return (ssw / w + LM_K0 * LM_VAR0) / (n / w + LM_K0); /* w: scale of the sums */
}

/*
 * Change detection, with each new normalised cost r of value vi in class k,
 * before it is added: a two-sided CUSUM (Page) of r's residual from the
 * class's discounted mean, in units of the value's pooled standard deviation,
 * each step clipped at +-LM_CU_CLIP so that one heavy-tailed outlier cannot
 * raise an alarm.  An alarm on the incumbent means the path changed: every
 * value's evidence is shrunk to the prior.  An alarm on a probe restarts that
 * value only (cheap, so its threshold is lower: a probe that a changed path
 * made good must not wait for its old evidence to decay at its small share).
 */
static void detect_change(struct learnd_model_stream *s, unsigned vi, unsigned k, double r)
{
	const struct learnd_model_cell *c = &s->arm[vi].cell[k];
	double m, var, sd, u, hi, lo, h;

	if (c->n < LM_CU_CELL_MIN * s->w)
		return;
	m = (double)c->s / c->n;
	var = pooled_var(s->arm[vi].cell, s->w);
	sd = sqrt(var > LM_CU_VAR_MIN ? var : LM_CU_VAR_MIN);
	u = (r - m) / sd;
	u = u > LM_CU_CLIP ? LM_CU_CLIP : u < -LM_CU_CLIP ? -LM_CU_CLIP : u;
	hi = s->cu_hi[vi] + u - LM_CU_K;
	lo = s->cu_lo[vi] - u - LM_CU_K;
	s->cu_hi[vi] = hi > 0.0 ? (float)hi : 0.0f;
	s->cu_lo[vi] = lo > 0.0 ? (float)lo : 0.0f;
	h = vi == s->inc ? LM_CU_H : LM_CU_H_PROBE;
	if (hi <= h && lo <= h)
		return;
	s->changes++;
	if (vi == s->inc) {
		for (unsigned i = 0; i < s->nvalues; i++)
			arm_forget(s, i);
	} else {
		arm_forget(s, vi);
	}
}

void lm_stream_add(struct learnd_model_stream *s, const struct learnd_model_cfg *cfg, double g,
		   unsigned vi, unsigned k, double r, double cost, uint64_t now_ns)
{
	struct learnd_model_arm_stat *a = &s->arm[vi];
	struct learnd_model_cell *c = &a->cell[k];
	double w;

	/* Evidence from before a long gap is shrunk to a prior (see LM_STALE_DIV). */
	if (a->n > 0.0 && s->count - a->last_seq > cfg->window / LM_STALE_DIV)
		arm_forget(s, vi);
	detect_change(s, vi, k, r);

	s->w = w = s->w * g;
	s->count++;
	a->n += w;
	a->raw += cost * w;
	c->n = (float)(c->n + w);
	c->s = (float)(c->s + r * w);
	c->s2 = (float)(c->s2 + r * r * w);
	a->last_ns = now_ns;
	a->last_seq = s->count;

	if (w > LM_ARM_RESCALE_AT) {
		for (unsigned i = 0; i < LEARND_MODEL_MAX_VALUES; i++)
			arm_scale(&s->arm[i], LM_ARM_RESCALE_BY);
		s->w *= LM_ARM_RESCALE_BY;
	}
}

/*
 * A value's statistics discounted to now, stale evidence shrunk to the prior.
 * Everything a decision reads goes through here (and export writes exactly
 * these numbers), so an imported state decides bit for bit the same.
 */
void lm_stream_view(const struct learnd_model_stream *s, uint32_t window, unsigned i,
		    struct lm_view *v)
{
	const struct learnd_model_arm_stat *a = &s->arm[i];
	double f = 1.0;

	lm_arm_norm(s, i, &v->n, &v->raw, v->cell);
	v->stale = v->n > 0.0 && s->count - a->last_seq > window / LM_STALE_DIV;
	if (v->stale && v->n > LM_K0)
		f = LM_K0 / v->n;
	v->n *= f;
	v->raw = v->n > 0.0 ? v->raw * f / v->n : NAN;
	for (unsigned k = 0; k < LEARND_MODEL_NCLASSES; k++) {
		v->cell[k].n *= (float)f;
		v->cell[k].s *= (float)f;
		v->cell[k].s2 *= (float)f;
	}
}

void lm_arm_norm(const struct learnd_model_stream *s, unsigned i, double *n, double *raw,
		 struct learnd_model_cell *cell)
{
	const struct learnd_model_arm_stat *a = &s->arm[i];

	*n = a->n / s->w;
	*raw = a->raw / s->w;
	for (unsigned k = 0; k < LEARND_MODEL_NCLASSES; k++) {
		cell[k].n = (float)(a->cell[k].n / s->w);
		cell[k].s = (float)(a->cell[k].s / s->w);
		cell[k].s2 = (float)(a->cell[k].s2 / s->w);
	}
}

static double lm_phi(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

/*
 * Stratified comparison of value c against the incumbent i: the difference of
 * their mean costs within each flow-size class both have data in, averaged
 * with the classes' weights (their discounted record counts), so it compares
 * like with like and large and small flows count by how common they are.
 */
void lm_compare(const struct lm_view *i, const struct lm_view *c, struct lm_cmp *out)
{
	double W = 0, D = 0, V = 0, Mi = 0, Mc = 0, ni = 0, nc = 0;
	double vi = pooled_var(i->cell, 1.0), vc = pooled_var(c->cell, 1.0);

	for (unsigned k = 0; k < LEARND_MODEL_NCLASSES; k++) {
		double nik = i->cell[k].n, nck = c->cell[k].n, wk, mi, mc;

		if (nik < LM_CELL_MIN || nck < LM_CELL_MIN)
			continue;
		mi = i->cell[k].s / nik;
		mc = c->cell[k].s / nck;
		wk = nik + nck;
		W += wk;
		D += wk * (mi - mc);
		V += wk * wk * (vc / nck + vi / nik);
		Mi += wk * mi;
		Mc += wk * mc;
		ni += nik;
		nc += nck;
	}
	if (W > 0.0) {
		out->delta = D / W;
		out->se = sqrt(V) / W;
		out->mi = Mi / W;
		out->mc = Mc / W;
	} else {
		out->delta = 0.0;
		out->se = sqrt(2.0 * LM_VAR0 / LM_K0);
		out->mi = out->mc = NAN;
	}
	out->ni = ni;
	out->nc = nc;
}

/* Probability-style score that c costs less than the incumbent: the
 * difference shrunk toward 0 with LM_K0 pseudo-samples, normal approximation.
 * 0.5 without evidence. */
static double promise(const struct lm_cmp *k)
{
	double d = k->delta * k->nc / (k->nc + LM_K0);
	double se = sqrt(k->se * k->se + LM_VAR0 / (k->nc + LM_K0));

	return lm_phi(d / se);
}

bool lm_stream_switch(struct learnd_model_stream *s, const struct learnd_model_cfg *cfg,
		      const bool *capped, const char *name, char *text, size_t len)
{
	struct lm_view inc, c;
	struct lm_cmp k, bk;
	double best = 0.0, braw = NAN;
	int bi = -1;

	if (s->nvalues < 2)
		return false;
	lm_stream_view(s, cfg->window, s->inc, &inc);
	if (inc.n < cfg->n_min)
		return false;
	for (unsigned i = 0; i < s->nvalues; i++) {
		double score;

		if (i == s->inc || (capped && i > s->inc && capped[i - 1]))
			continue;
		lm_stream_view(s, cfg->window, i, &c);
		if (c.stale || c.n < cfg->n_min)
			continue;
		lm_compare(&inc, &c, &k);
		if (k.nc < cfg->n_min || k.ni < cfg->n_min)
			continue;
		score = k.delta - cfg->z * k.se - cfg->margin * k.mi;
		if (score > best) {
			best = score;
			bi = (int)i;
			bk = k;
			braw = c.raw;
		}
	}
	if (bi < 0)
		return false;
	if (text)
		snprintf(text, len, "%s %u->%u: cost %.2f vs %.2f (+-%.2f; %.1f vs %.1f rtts), n=%.0f vs %.0f",
			 name, s->values[s->inc], s->values[bi], bk.mc, bk.mi, bk.se, braw, inc.raw,
			 bk.nc, bk.ni);
	s->inc = (uint32_t)bi;
	return true;
}

#define LM_NEAR_BONUS 0.25

unsigned lm_stream_candidates(const struct learnd_model_stream *s, const struct learnd_model_cfg *cfg,
			      unsigned param, const bool *capped, struct lm_probe *out, unsigned n)
{
	static const int offs[4] = { +1, -1, +2, -2 };
	struct lm_view inc, c;
	struct lm_cmp k;
	unsigned start = n;

	if (s->nvalues < 2)
		return n;
	lm_stream_view(s, cfg->window, s->inc, &inc);
	for (unsigned o = 0; o < 4; o++) {
		int j = (int)s->inc + offs[o];

		/* above a value the peer's window already caps, values look alike */
		if (j < 0 || j >= (int)s->nvalues || (offs[o] > 0 && capped && capped[j - 1]))
			continue;
		lm_stream_view(s, cfg->window, (unsigned)j, &c);
		lm_compare(&inc, &c, &k);
		out[n].param = param;
		out[n].vi = (unsigned)j;
		out[n].order = param * 4 + o;
		out[n].p = promise(&k);
		out[n].prio = out[n].p + (o < 2 ? LM_NEAR_BONUS : 0.0);
		n++;
	}
	if (n == start && s->inc + 1 < s->nvalues) {
		/* Only up was possible and the peer's window hides it: probe it anyway
		 * (at the minimum share) so the probe share never drops to zero. */
		out[n].param = param;
		out[n].vi = s->inc + 1;
		out[n].order = param * 4;
		out[n].p = 0.0;
		out[n].prio = 0.0;
		n++;
	}
	return n;
}
