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

static const uint16_t grid[LEARND_IW_GRID_N] = LEARND_IW_GRID;

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

void lm_stream_setup(struct learnd_model_stream *s, const struct learnd_bound *b, unsigned param)
{
	memset(s, 0, sizeof(*s));
	s->w = 1.0;
	s->fw = 1.0;
	s->nvalues = learnd_model_allowed(b, s->values);
	/* RWND_INIT can only lower the kernel's window: no reply (0) is the
	 * kernel's behaviour and the largest window, so it sorts last */
	if (param == LEARND_PARAM_RWND && b->mode == LEARND_BOUND_LEARN && s->nvalues < LEARND_MODEL_MAX_VALUES)
		s->values[s->nvalues++] = 0;
	s->dflt = param == LEARND_PARAM_RWND && b->mode == LEARND_BOUND_LEARN ? s->nvalues - 1 :
										 lm_stream_nearest(s, LEARND_KERNEL_IW);
	s->inc = s->dflt; /* the kernel's default IW and window */
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
	double ssw = 0.0, df = 0.0, v;

	/* degrees of freedom, not samples: each class's mean is estimated from its
	 * own samples, so two samples per class show half the variance there is
	 * (a probe of ten connections over five sizes looked four times surer
	 * than it was, and won on luck) */
	for (unsigned k = 0; k < LEARND_MODEL_NCLASSES; k++) {
		double nk = cell[k].n;

		if (!(nk > 0.0))
			continue;
		v = cell[k].s2 - (double)cell[k].s * cell[k].s / nk;
		ssw += v > 0.0 ? v : 0.0;
		if (nk / w > 1.0)
			df += nk / w - 1.0;
	}
	return (ssw / w + LM_K0 * LM_VAR0) / (df + LM_K0); /* w: scale of the sums */
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
		lm_flight_forget(s);
	} else {
		arm_forget(s, vi);
	}
}

void lm_stream_add(struct learnd_model_stream *s, const struct learnd_model_cfg *cfg, double g, double wt,
		   unsigned vi, unsigned k, double r, double cost, uint64_t now_ns)
{
	struct learnd_model_arm_stat *a = &s->arm[vi];
	struct learnd_model_cell *c = &a->cell[k];
	double w;

	/* Evidence from before a long gap is shrunk to a prior (see LM_STALE_DIV). */
	if (a->n > 0.0 && s->count - a->last_seq > cfg->window / LM_STALE_DIV)
		arm_forget(s, vi);
	detect_change(s, vi, k, r);

	s->w = s->w * g;
	w = s->w * wt;
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

/* ---- initial-flight evidence (IW) ---- */

#define LM_FLIGHT_G (LM_FLIGHT_WINDOW / (LM_FLIGHT_WINDOW - 1.0))

void lm_flight_add(struct learnd_model_stream *s, double wt, uint32_t f, int tail, double tw)
{
	unsigned i;

	if (s->nvalues < 2)
		return;
	s->fw *= wt == 1.0 ? LM_FLIGHT_G : fmin(pow(LM_FLIGHT_G, wt), LM_WEIGHT_MAX);
	if (tail < 0) { /* absorbed: credit the largest value <= f */
		if (f < s->values[0])
			return;
		for (i = s->nvalues - 1; i > 0 && (s->values[i] > f || s->values[i] == 0); i--)
			;
		s->fc[i] = (float)(s->fc[i] + wt * s->fw);
	} else {        /* lost from index tail on: every value above tail overflows */
		for (i = 0; i < s->nvalues && s->values[i] <= (uint32_t)tail; i++)
			;
		if (i == s->nvalues)
			return;
		s->ft[i] = (float)(s->ft[i] + wt * tw * s->fw);
	}
	if (s->fw > 0x1p60) {
		for (i = 0; i < LEARND_MODEL_MAX_VALUES; i++) {
			s->fc[i] = (float)(s->fc[i] * 0x1p-60);
			s->ft[i] = (float)(s->ft[i] * 0x1p-60);
		}
		s->fw *= 0x1p-60;
	}
}

/* Raw sums about value c: absorbed flights of >= values[c], tails lost below it. */
static void flight_sums(const struct learnd_model_stream *s, unsigned lo, unsigned c, double *clean, double *tail)
{
	double C = 0.0, T = 0.0;

	/* each term discounted to now and rounded to float first, as export writes
	 * it: an imported state reads bit for bit the same */
	for (unsigned i = 0; i < s->nvalues; i++) {
		if (i >= c)
			C += lm_f32(s->fc[i] / s->fw);
		if (i >= lo && i <= c)
			T += lm_f32(s->ft[i] / s->fw);
	}
	*clean = C;
	*tail = T;
}

/* Tails of at least min weight and LM_TAIL_FRAC of the flights that tell. */
static bool tails_above(double C, double T, double min)
{
	return T >= min && T >= LM_TAIL_FRAC * (T + C);
}

static bool tails_dominate(double C, double T)
{
	return tails_above(C, T, LM_TAIL_MIN);
}

/*
 * Tails that speak against value c.  A tail lost below the size of a value a < c
 * that the path absorbed (LM_ANCHOR_N flights of >= values[a], its own tails
 * not dominating) is random loss, not the queue: the same path took flights
 * that big.  Without this, random loss at the incumbent's last packets (2% of
 * its flights at 1% loss) would bar every larger value, which no flight of
 * its size has yet tested.
 */
void lm_flight_view(const struct learnd_model_stream *s, unsigned c, double *clean, double *tail)
{
	double Ca, Ta;

	flight_sums(s, 0, c, clean, tail);
	if (!tails_dominate(*clean, *tail) && *tail < LM_TAIL_NONE)
		return;
	for (unsigned a = c; a-- > 0;) {
		flight_sums(s, 0, a, &Ca, &Ta);
		if (Ca >= LM_ANCHOR_N && !tails_dominate(Ca, Ta)) {
			flight_sums(s, a + 1, c, clean, tail);
			return;
		}
	}
}

bool lm_flight_over(const struct learnd_model_stream *s, unsigned c)
{
	double C, T;

	lm_flight_view(s, c, &C, &T);
	return tails_dominate(C, T);
}

/* Tails that dominate c's flights but weigh less than LM_TAIL_MIN (a few lone
 * last packets, or one run fading): not enough to leave c, enough not to go
 * back to it on little evidence.  On a 12-packet buffer an IW of 14 loses only
 * its last packet, 0.04 a flight, so "over" lasts a flight or two past the
 * third: the sparse benchmark's shallow /24 followed its parent back to 14
 * three times in its first 30 records. */
bool lm_flight_suspect(const struct learnd_model_stream *s, unsigned c)
{
	double C, T;

	lm_flight_view(s, c, &C, &T);
	return tails_above(C, T, LM_TAIL_NONE);
}

void lm_flight_forget(struct learnd_model_stream *s)
{
	for (unsigned i = 0; i < LEARND_MODEL_MAX_VALUES; i++) {
		s->fc[i] = (float)(s->fc[i] * 0.25);
		s->ft[i] = (float)(s->ft[i] * 0.25);
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

/* Switch-rule score of value c against value i as the incumbent (> 0: c wins), or
 * -1 when either lacks the evidence the rule needs. */
static double switch_score(const struct learnd_model_stream *s, const struct learnd_model_cfg *cfg,
			   unsigned i, unsigned c, struct lm_cmp *k, double *craw)
{
	struct lm_view vi, vc;

	lm_stream_view(s, cfg->window, i, &vi);
	lm_stream_view(s, cfg->window, c, &vc);
	if (vi.n < cfg->n_min || vc.stale || vc.n < cfg->n_min)
		return -1.0;
	/* a value whose flights overflow the queue (or are suspect of it) wins
	 * on time only with LM_OVER_N times the usual evidence: its cost is the
	 * rare recovery */
	if (vc.n < LM_OVER_N * cfg->n_min && lm_flight_suspect(s, c))
		return -1.0;
	lm_compare(&vi, &vc, k);
	if (k->nc < cfg->n_min || k->ni < cfg->n_min)
		return -1.0;
	if (craw)
		*craw = vc.raw;
	return k->delta - cfg->z * k->se - cfg->margin * k->mi;
}

bool lm_time_beats(const struct learnd_model_stream *s, const struct learnd_model_cfg *cfg, unsigned a,
		   unsigned b)
{
	struct lm_cmp k;

	return switch_score(s, cfg, a, b, &k, NULL) > 0.0;
}

bool lm_stream_switch(struct learnd_model_stream *s, const struct learnd_model_cfg *cfg,
		      const bool *capped, const char *name, char *text, size_t len)
{
	struct lm_view inc;
	struct lm_cmp k, bk;
	double best = 0.0, braw = NAN, raw = NAN;
	int bi = -1;

	if (s->nvalues < 2)
		return false;
	lm_stream_view(s, cfg->window, s->inc, &inc);
	for (unsigned i = 0; i < s->nvalues; i++) {
		double score;

		if (i == s->inc || (capped && i > s->inc && capped[i - 1]))
			continue;
		score = switch_score(s, cfg, s->inc, i, &k, &raw);
		if (score > best) {
			best = score;
			bi = (int)i;
			bk = k;
			braw = raw;
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

/* Is value c's measured cost above value r's by more than a standard error,
 * with at least LM_WORSE_N samples of c in the compared classes? */
static bool worse_than(const struct learnd_model_stream *s, const struct learnd_model_cfg *cfg, unsigned c,
		       unsigned r)
{
	struct lm_view a, b;
	struct lm_cmp k;

	lm_stream_view(s, cfg->window, r, &a);
	lm_stream_view(s, cfg->window, c, &b);
	lm_compare(&a, &b, &k);
	return k.nc >= LM_WORSE_N && k.delta + k.se < 0.0;
}

bool lm_known_worse(const struct learnd_model_stream *s, const struct learnd_model_cfg *cfg, unsigned c)
{
	return worse_than(s, cfg, c, s->inc);
}

/*
 * IW on initial-flight evidence.  Under cubic the first flight leaves unpaced,
 * so what a path absorbs is about its bottleneck buffer: an IW above it loses
 * the tail of the flight, an IW at or below it does not.  So: leave a value
 * whose flights lose their tail for the largest one below that does not; move
 * up to the largest value (not hidden by the peer's window) of which n_clean
 * full flights were absorbed, none lost its tail, and whose measured time is
 * not worse.  Slow start from a larger IW never takes more round trips on a
 * path that absorbs it, so absorbed flights are evidence enough to move; the
 * time statistics still decide afterwards (lm_stream_switch: back to the
 * default if the new value turns out slower).
 */
bool lm_stream_flight_switch(struct learnd_model_stream *s, const struct learnd_model_cfg *cfg,
			     const bool *capped, const char *name, char *text, size_t len)
{
	unsigned inc = s->inc;
	double C, T;
	int j;

	if (s->nvalues < 2)
		return false;
	if (lm_flight_over(s, inc)) {
		for (j = (int)inc - 1; j > 0 && lm_flight_over(s, (unsigned)j); j--)
			;
		if (j < 0 || lm_time_beats(s, cfg, (unsigned)j, inc))
			return false; /* measured time says the tail loss is worth it */
		lm_flight_view(s, inc, &C, &T);
		if (text)
			snprintf(text, len, "%s %u->%u: initial flights of %u lose their tail (%.1f of %.1f)",
				 name, s->values[inc], s->values[j], s->values[inc], T, T + C);
		s->inc = (uint32_t)j;
		return true;
	}
	/* no climbing on flights while the kernel's value measures faster than
	 * where the climb got to: time is about to take it back there */
	if (inc != s->dflt && worse_than(s, cfg, inc, s->dflt))
		return false;
	j = -1;
	for (unsigned c = inc + 1; c < s->nvalues; c++) {
		if ((capped && capped[c - 1]) || lm_flight_over(s, c))
			break;
		lm_flight_view(s, c, &C, &T);
		/* not where time already says slower (a path that absorbs the burst
		 * but delays it): the switch back would just be undone */
		if (C >= cfg->n_clean && !lm_time_beats(s, cfg, c, inc) && !lm_known_worse(s, cfg, c))
			j = (int)c;
	}
	if (j < 0)
		return false;
	lm_flight_view(s, (unsigned)j, &C, &T);
	if (text)
		snprintf(text, len, "%s %u->%u: %.1f initial flights of >= %u absorbed, no tail loss", name,
			 s->values[inc], s->values[j], C, s->values[j]);
	s->inc = (uint32_t)j;
	return true;
}

/* The value exploration tries next above the incumbent: about twice it
 * (geometric steps: 10, 20, 40, 80, 128), not above the peer's window (one
 * value above it stands for it), and not where flights lost their tail. */
static int explore_target(const struct learnd_model_stream *s, const bool *capped)
{
	unsigned inc = s->inc, j = inc + 1;

	if (j >= s->nvalues || (capped && capped[inc]) || lm_flight_over(s, inc))
		return -1;
	/* from the kernel's value, one step first: most of what a shallow buffer
	 * costs is the excess of the first probe over it */
	while (inc != s->dflt && j + 1 < s->nvalues && s->values[j] < 2u * s->values[inc] && !(capped && capped[j]))
		j++;
	while (j > inc + 1 && (lm_flight_over(s, j) || (capped && capped[j])))
		j--; /* a capped value cannot show a flight of its size: explore the one below */
	return lm_flight_over(s, j) ? -1 : (int)j;
}

static void candidate_add(struct lm_probe *out, unsigned *n, unsigned param, unsigned vi, unsigned order,
		 bool explore, double weight, double prio)
{
	for (unsigned i = 0; i < *n; i++)
		if (out[i].param == param && out[i].vi == vi)
			return; /* already a candidate (in a better role) */
	out[*n].param = param;
	out[*n].vi = vi;
	out[*n].order = order;
	out[*n].explore = explore;
	out[*n].weight = weight;
	out[*n].prio = prio;
	(*n)++;
}

/* A maintenance probe's weight: a quarter for a value known to lose (its
 * flights lose their tail, or its measured cost is above the incumbent's by
 * more than a standard error), else 1. */
static double keep_weight(const struct learnd_model_stream *s, const struct learnd_model_cfg *cfg, unsigned param,
			  unsigned vi)
{
	if (param == LEARND_PARAM_IW && lm_flight_over(s, vi))
		return LM_OVER_WEIGHT;
	return lm_known_worse(s, cfg, vi) ? LM_OVER_WEIGHT : 1.0;
}

unsigned lm_stream_candidates(const struct learnd_model_stream *s, const struct learnd_model_cfg *cfg,
			      unsigned param, const bool *capped, struct lm_probe *out, unsigned n)
{
	unsigned inc = s->inc, o = param * 4;
	int up = -1;
	bool explore = false;
	double ew = 1.0;

	if (s->nvalues < 2)
		return n;
	if (param == LEARND_PARAM_RWND && inc == s->dflt) {
		/* RWND from the kernel's window: the largest value is the one step
		 * that can matter (a large-IW sender's first flight no longer waits
		 * for our window).  It is tried at the exploration share until time
		 * can tell a gain of a few percent (LM_RWND_EXPLORE_N x n_min
		 * samples), unless it measures slower first (a shallow path the
		 * bigger flight overflows), then kept as a maintenance probe.  Where
		 * the window never limited the peer it costs nothing: same flights. */
		struct lm_view v;

		up = (int)s->nvalues - 2;
		lm_stream_view(s, cfg->window, (unsigned)up, &v);
		explore = v.n < LM_RWND_EXPLORE_N * cfg->n_min && !lm_known_worse(s, cfg, (unsigned)up);
	}
	if (param == LEARND_PARAM_IW) {
		up = explore_target(s, capped);
		if (up >= 0) {
			double C, T;

			lm_flight_view(s, (unsigned)up, &C, &T);
			/* enough: the flight switch moved, or time vetoed it; a value the
			 * peer's window hides cannot show a flight of its size */
			explore = C < cfg->n_clean && T < LM_TAIL_NONE && !(capped && capped[up]);
			/* explored again as its flights' evidence decays (LM_FLIGHT_WINDOW),
			 * which finds a path that grew deeper; at a quarter of the share
			 * if time measured it slower here (at the full share that cost the
			 * slow path 10% of its connections on probes) */
			if (explore && lm_known_worse(s, cfg, (unsigned)up))
				ew = LM_OVER_WEIGHT;
		}
	}
	/* the explored step up; the kernel's value while the incumbent differs
	 * (the guard: lm_stream_switch goes back to it when it is better); the
	 * neighbours (non-stationary paths), a value that lost its tail rarely */
	if (up >= 0)
		candidate_add(out, &n, param, (unsigned)up, o, explore, explore ? ew : keep_weight(s, cfg, param, (unsigned)up),
		     explore ? 4.0 : 1.5);
	if (inc != s->dflt)
		candidate_add(out, &n, param, s->dflt, o + 1, false, keep_weight(s, cfg, param, s->dflt), 3.0);
	if (inc + 1 < s->nvalues)
		candidate_add(out, &n, param, inc + 1, o + 2, false, keep_weight(s, cfg, param, inc + 1),
		     (capped && capped[inc]) ? 0.5 : 1.5);
	if (inc > 0)
		candidate_add(out, &n, param, inc - 1, o + 3, false, keep_weight(s, cfg, param, inc - 1), 1.0);
	return n;
}
