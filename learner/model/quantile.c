// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Discounted log-bucket histograms: the streaming quantile estimator behind
 * SYN RTO (handshake times), BASE_RTT (min RTTs) and the peer-window cap.
 *
 * Buckets: 0 holds x < 2^lo; then 8 per octave, split on the three mantissa
 * bits after the leading one (12.5% wide at most), so an index costs one clz.
 * Discount: instead of multiplying every bucket by gamma per sample, each new
 * sample weighs w, and w grows by 1/gamma per sample; a bucket's discounted
 * count is b / w.  When w gets large, buckets and w are scaled down together
 * by a power of two (exact).  So adding is O(1) and reading is O(buckets).
 */
#include <math.h>
#include <string.h>

#include "model_int.h"

unsigned lm_qbucket(uint64_t x, unsigned lo)
{
	unsigned b, sub, idx;

	if (x < (1ull << lo))
		return 0;
	b = 63u - (unsigned)__builtin_clzll(x);
	sub = b >= 3 ? (unsigned)(x >> (b - 3)) & 7u : (unsigned)(x << (3 - b)) & 7u;
	idx = 1 + (b - lo) * 8 + sub;
	return idx < LEARND_MODEL_QBUCKETS ? idx : LEARND_MODEL_QBUCKETS - 1;
}

double lm_qlower(unsigned i, unsigned lo)
{
	if (i == 0)
		return 0.0;
	i--;
	return ldexp(1.0 + (i % 8) / 8.0, (int)(i / 8 + lo));
}

double lm_qupper(unsigned i, unsigned lo)
{
	if (i == 0)
		return ldexp(1.0, (int)lo);
	return lm_qlower(i + 1, lo);
}

void lm_qreset(struct learnd_model_qhist *h)
{
	memset(h, 0, sizeof(*h));
	h->w = 1.0;
}

void lm_qadd(struct learnd_model_qhist *h, unsigned idx, double g, double wt, double aux0, double aux1)
{
	double w;

	h->w *= g;
	w = h->w * wt;
	if (idx < LEARND_MODEL_QBUCKETS) /* else: only the counters */
		h->b[idx] += (float)w;
	h->aux[0] += aux0 * w;
	h->aux[1] += aux1 * w;
	if (h->w > LM_HIST_RESCALE_AT) {
		for (unsigned i = 0; i < LEARND_MODEL_QBUCKETS; i++)
			h->b[i] *= (float)LM_HIST_RESCALE_BY;
		h->aux[0] *= LM_HIST_RESCALE_BY;
		h->aux[1] *= LM_HIST_RESCALE_BY;
		h->w *= LM_HIST_RESCALE_BY;
	}
}

/*
 * Discounted-to-now buckets, rounded to float.  Every reader (decisions,
 * export) goes through here, so a state rebuilt by import from exported rows
 * (w = 1) reads bit-for-bit the same numbers as the original.
 */
double lm_qnorm(const struct learnd_model_qhist *h, float *v)
{
	double total = 0.0;

	for (unsigned i = 0; i < LEARND_MODEL_QBUCKETS; i++) {
		v[i] = (float)((double)h->b[i] / h->w);
		total += v[i];
	}
	return total;
}

/* Value below which a fraction q of the weight lies; linear within a bucket. */
double lm_qquantile(const float *v, double total, unsigned lo, double q)
{
	double target = q * total, cum = 0.0;
	unsigned last = 0;

	if (!(total > 0.0))
		return NAN;
	for (unsigned i = 0; i < LEARND_MODEL_QBUCKETS; i++) {
		if (v[i] <= 0.0f)
			continue;
		last = i;
		if (cum + v[i] >= target) {
			double f = (target - cum) / v[i];
			double a = lm_qlower(i, lo), b = lm_qupper(i, lo);

			if (f < 0.0)
				f = 0.0;
			return a + f * (b - a);
		}
		cum += v[i];
	}
	return lm_qupper(last, lo); /* rounding left target a hair above the sum */
}

/* Fraction of the weight at or below x (x an integer value: bucket [a, b)
 * contributes the part of it below x + 1). */
double lm_qcdf(const float *v, double total, unsigned lo, double x)
{
	double cum = 0.0;

	if (!(total > 0.0))
		return NAN;
	for (unsigned i = 0; i < LEARND_MODEL_QBUCKETS; i++) {
		double a, b;

		if (v[i] <= 0.0f)
			continue;
		a = lm_qlower(i, lo);
		b = lm_qupper(i, lo);
		if (b <= x + 1.0)
			cum += v[i];
		else if (a < x + 1.0)
			cum += v[i] * (x + 1.0 - a) / (b - a);
	}
	return cum / total;
}
