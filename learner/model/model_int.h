/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internals shared by model.c, bandit.c and quantile.c.  Not an API. */
#ifndef LEARND_MODEL_INT_H
#define LEARND_MODEL_INT_H

#include <stdbool.h>

#include "model.h"

/* Histogram ranges: bucket 0 holds x < 2^lo, then 8 buckets per octave. */
#define LM_US_LO 4  /* microseconds: 16 us ... 2^28 us (268 s), beyond in the last bucket */
#define LM_PKT_LO 0 /* packets: 1 ... 2^24 */

/* Renormalise inflated weights before they overflow (exact: powers of two). */
#define LM_ARM_RESCALE_AT 0x1p64 /* cells are floats */
#define LM_ARM_RESCALE_BY 0x1p-64
#define LM_HIST_RESCALE_AT 0x1p64
#define LM_HIST_RESCALE_BY 0x1p-64

/* Bandit prior: a value with no data looks like K0 samples no better than the
 * incumbent, with variance VAR0 (normalised cost units, i.e. sd 0.5 ideal). */
#define LM_K0 2.0
#define LM_VAR0 0.25
/* Evidence older than window/2 records of the stream (the value has not been
 * sampled since) is shrunk to LM_K0 samples: the path may have changed under it. */
#define LM_STALE_DIV 2u
/* Change detector (two-sided CUSUM on standardised costs): slack K, alarm at H,
 * each step clipped at CLIP standard deviations, variance floor. */
#define LM_CU_K 0.5
#define LM_CU_H 12.0
#define LM_CU_H_PROBE 6.0 /* alarm threshold for a probe (cheaper to be wrong) */
#define LM_CU_CLIP 3.0
#define LM_CU_VAR_MIN 0.01
#define LM_CU_CELL_MIN 2.0 /* samples a class needs before it is a reference */
/* A class enters a comparison when both values have this many samples in it. */
#define LM_CELL_MIN 1.0

/* Initial-flight evidence: its own discount (per flight record), so that a
 * burst limit that appears (path change) shows within tens of flights. */
#define LM_FLIGHT_WINDOW 64.0
/* A value overflows when tail losses are at least this share of the flights
 * that tell (tail losses at or below it + absorbed flights at or above it) and
 * weigh at least LM_TAIL_MIN (one run of two or more weighs 1 and fades below
 * it after about 150 flights; a single last-packet loss weighs LM_TAIL_ONE,
 * since a random loss hits the last packet too: it takes two in a row). */
#define LM_TAIL_ONE 0.04
#define LM_TAIL_FRAC 0.25
#define LM_TAIL_MIN 0.1
/* Exploration (probe_max_each) only of values that never lost a tail: one
 * whose tail evidence has faded (LM_TAIL_MIN) is tried again at a maintenance share. */
#define LM_TAIL_NONE 0.05
/* Absorbed flights of >= a value that make tails below its size random loss. */
#define LM_ANCHOR_N 4.0
/* A record's weight (connections it stands for) is clipped here, and so is
 * the discount it applies (keeps the inflated sums far from float overflow). */
#define LM_WEIGHT_MAX 65536.0
/* Relevance: connections (discounted) before a parameter can be judged. */
#define LM_REL_MIN_N 5.0
/* Probe weights within the maintenance share: a value known to lose (tail
 * loss, or measured worse by a standard error with LM_WORSE_N samples) runs
 * at a quarter of a normal maintenance probe. */
#define LM_OVER_WEIGHT 0.25
/* ... and a value that loses its flights' tails beats another on time only
 * with this many times n_min samples. */
#define LM_OVER_N 3.0
/* RWND's largest value is explored until it has this many times n_min samples. */
#define LM_RWND_EXPLORE_N 4.0
#define LM_WORSE_N 5.0
/* An active handshake that took longer than this many round trips (+
 * rto_pad_ms) was rescued by the peer's SYN-ACK retransmission: without a
 * retransmission of ours even within our RTO (1 s before an estimate), with
 * one if it still looks spurious (the peer's copy came after ours, before an
 * answer to ours could).  The round trip: the smaller of the connection's min
 * RTT and the prefix's p10 (a connection whose every sample queued shows a
 * min RTT of twice the path's).  A peer's learned RTO is at least 1.5 of its
 * round trips + the pad, so its rescues come after 2.5.  Too slow a clean path
 * shows in the spurious rate, whose backoff covers it. */
#define LM_RESCUE_RTTS 2.5

/* x rounded to float, for sure: export writes floats and import reads them
 * back with weight 1, so readers must see the same rounding (gcc -O2 was seen
 * to keep a double through a float local here). */
static inline double lm_f32(double x)
{
	volatile float f = (float)x;

	return f;
}

/* quantile.c */
unsigned lm_qbucket(uint64_t x, unsigned lo);
double lm_qlower(unsigned i, unsigned lo);
double lm_qupper(unsigned i, unsigned lo);
/* g: discount of this sample (gamma^-weight), wt: its weight (connections it stands for) */
void lm_qadd(struct learnd_model_qhist *h, unsigned idx, double g, double wt, double aux0, double aux1);
void lm_qreset(struct learnd_model_qhist *h);
/* Normalised (discounted-to-now) buckets into v[LEARND_MODEL_QBUCKETS]; returns their sum. */
double lm_qnorm(const struct learnd_model_qhist *h, float *v);
double lm_qquantile(const float *v, double total, unsigned lo, double q);
double lm_qcdf(const float *v, double total, unsigned lo, double x);

/* bandit.c */
struct lm_view {                 /* one value, discounted to now */
	double n;                     /* discounted count */
	double raw;                   /* mean raw cost, round trips */
	bool stale;                   /* not sampled for window / LM_STALE_DIV records */
	struct learnd_model_cell cell[LEARND_MODEL_NCLASSES];
};
struct lm_cmp {                  /* a value against the incumbent */
	double delta, se;             /* incumbent's cost - value's cost (>0: value better) */
	double mi, mc;                /* class-weighted mean normalised costs */
	double ni, nc;                /* counts in the classes compared */
};
void lm_stream_setup(struct learnd_model_stream *s, const struct learnd_bound *b, unsigned param);
int lm_stream_index(const struct learnd_model_stream *s, uint32_t v);
unsigned lm_stream_nearest(const struct learnd_model_stream *s, uint32_t v);
void lm_stream_add(struct learnd_model_stream *s, const struct learnd_model_cfg *cfg, double g, double wt,
		   unsigned vi, unsigned k, double r, double cost, uint64_t now_ns);
/* Initial flight of f segments at an IW: absorbed (tail < 0) or lost its tail from index tail,
 * with weight wt (tail evidence weighs tw). */
void lm_flight_add(struct learnd_model_stream *s, double wt, uint32_t f, int tail, double tw);
/* Discounted flight evidence about value c: absorbed flights >= values[c], tails
 * <= it that an absorbed smaller value does not explain as random loss. */
void lm_flight_view(const struct learnd_model_stream *s, unsigned c, double *clean, double *tail);
bool lm_flight_over(const struct learnd_model_stream *s, unsigned c);
/* Tails dominate c but weigh only LM_TAIL_NONE..LM_TAIL_MIN: not a reason to leave c, one not to go to it. */
bool lm_flight_suspect(const struct learnd_model_stream *s, unsigned c);
/* Forget the flight evidence (path change). */
void lm_flight_forget(struct learnd_model_stream *s);
/* discounted-to-now numbers of value i, exactly as export writes them */
void lm_arm_norm(const struct learnd_model_stream *s, unsigned i, double *n, double *raw,
		 struct learnd_model_cell *cell);
void lm_stream_view(const struct learnd_model_stream *s, uint32_t window, unsigned i,
		    struct lm_view *v);
void lm_compare(const struct lm_view *inc, const struct lm_view *c, struct lm_cmp *out);
/* Switch the incumbent if a value beats it with evidence; text gets the reason. */
bool lm_stream_switch(struct learnd_model_stream *s, const struct learnd_model_cfg *cfg,
		      const bool *capped, const char *name, char *text, size_t len);
/* IW only: move on initial-flight evidence (retreat from tail loss, step up on
 * absorbed flights), unless measured time says otherwise. */
bool lm_stream_flight_switch(struct learnd_model_stream *s, const struct learnd_model_cfg *cfg,
			     const bool *capped, const char *name, char *text, size_t len);
/* Is value c's measured cost above the incumbent's by more than a standard
 * error, with at least LM_WORSE_N samples of c in the compared classes? */
bool lm_known_worse(const struct learnd_model_stream *s, const struct learnd_model_cfg *cfg, unsigned c);
/* Would a (as incumbent) lose to b on measured time by the switch rule? */
bool lm_time_beats(const struct learnd_model_stream *s, const struct learnd_model_cfg *cfg, unsigned a,
		   unsigned b);

struct lm_probe {
	unsigned param;  /* LEARND_PARAM_IW / _RWND */
	unsigned vi;     /* value index */
	unsigned order;  /* canonical order, for stable slot positions */
	bool explore;    /* gets probe_max_each (a likely step up); else a part of probe_min_total */
	double weight;   /* its part of the maintenance share (1, or LM_OVER_WEIGHT) */
	double prio;
};
/* capped[i]: the peer's window caps values[i] for most records (NULL: unknown).
 * Appends the probe candidates of stream s (param) to out; returns the new count. */
unsigned lm_stream_candidates(const struct learnd_model_stream *s, const struct learnd_model_cfg *cfg,
			      unsigned param, const bool *capped, struct lm_probe *out, unsigned n);

#endif /* LEARND_MODEL_INT_H */
