/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A path simulator for the model's tests and benchmarks: it turns (path,
 * values) into close records as the data plane would write them, with the
 * slot draw of the BPF side.  Header-only, on top of prng.h; no test harness
 * in it, so benchmarks use it too.
 */
#ifndef LEARND_SIM_PATHSIM_H
#define LEARND_SIM_PATHSIM_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "prng.h"
#include "model.h"

/* ---- helpers ---- */

/* Which slot a connection lands in (the BPF side draws the same way). */
static inline unsigned pick_slot(const struct learnd_model_decision *d, struct rng *r)
{
	uint32_t u = rng_below(r, LEARND_SHARE_ONE), acc = 0;

	for (unsigned i = 0; i < d->nslots; i++) {
		acc += d->slots[i].share;
		if (u < acc)
			return i;
	}
	return 0;
}

static inline void bound_learn(struct learnd_model_cfg *c, unsigned p, uint32_t lo, uint32_t hi)
{
	c->bound[p].mode = LEARND_BOUND_LEARN;
	c->bound[p].min = lo;
	c->bound[p].max = hi;
}

/*
 * The one hand-made close record (no path simulated): a server's connection,
 * established with the arm's values applied, that answered a 300 B request
 * with 200 KB over a clean path of round trip rtt_us (the handshake a
 * millisecond more; busy 4 round trips, 6.25 from first op to close).
 */
static inline void sim_server_record(struct learnd_record *r, const struct learnd_arm *a, uint32_t rtt_us)
{
	memset(r, 0, sizeof(*r));
	r->flags = LEARND_REC_ESTABLISHED | LEARND_REC_APPLIED;
	r->iw = a->iw;
	r->rwnd = a->rwnd;
	r->syn_rto_ms = a->syn_rto_ms;
	r->base_rtt_us = a->base_rtt_us;
	r->mss = 1448;
	r->snd_wnd = 4000 * 1448;
	r->min_rtt_us = rtt_us;
	r->srtt_us = rtt_us / 8 * 9;
	r->handshake_us = rtt_us + 1000;
	r->bytes_acked = 200000;
	r->bytes_received = 300;
	r->data_segs_out = 140;
	r->busy_us = 4ull * rtt_us;
	r->duration_us = 25ull * rtt_us / 4;
}

/* ---- path simulator ---- */

struct sim_path {
	double rtt_us;      /* base RTT */
	unsigned knee;      /* 0: deep path; else a first flight above knee segments loses the rest */
	unsigned peer_wnd;  /* peer's advertised window, packets: caps the IW */
	unsigned peer_iw;   /* receiver side: the peer's IW (what our rwnd can cap) */
	unsigned mss;
	double sigma;       /* lognormal noise on the transfer time */
	double tail_p;      /* probability of a stall of up to 10 extra RTTs */
	double flow_loss;   /* probability of one random loss after the initial flight (+1 RTT) */
	double pkt_loss;    /* random loss per packet of the initial flight (scattered, +1 RTT) */
	double syn_loss;    /* handshakes that lost a SYN: the kernel keeps cwnd 1 (IW_KERNEL) */
	double lo_bytes, hi_bytes; /* flow sizes, log-uniform */
	unsigned our_wnd;   /* receiver side: the kernel's own initial window (rwnd 0), packets */
	unsigned slow_above; /* 0: none; else an IW above it takes 3x the time, with no loss
			       * (a path that absorbs the burst but delays it: time must decide) */
};

static inline void sim_path_deep(struct sim_path *p)
{
	memset(p, 0, sizeof(*p));
	p->rtt_us = 40000;
	p->peer_wnd = 4000;
	p->peer_iw = 10;
	p->mss = 1448;
	p->sigma = 0.2;
	p->tail_p = 0.01;
	p->flow_loss = 0.02;
	p->lo_bytes = 1024;
	p->hi_bytes = 4 << 20;
	p->our_wnd = 64;
}

static inline void sim_path_shallow(struct sim_path *p)
{
	sim_path_deep(p);
	p->knee = 16;
}

/* Slow start from a first flight of w segments: rounds until segs are out. */
static inline double ss_rounds(double segs, double w)
{
	return ceil(log2(segs / w + 1.0));
}

/* Noise-free cost in round trips (+ penalty) of a flow of segs with IW iw. */
static inline double sim_cost(const struct sim_path *p, double segs, unsigned iw, double penalty,
			      unsigned *lost_out)
{
	double w = iw < p->peer_wnd ? iw : p->peer_wnd;
	double burst = w < segs ? w : segs, lost = 0, r;

	if (p->knee && burst > p->knee)
		lost = burst - p->knee;
	if (lost > 0)
		r = ss_rounds(segs, p->knee) + 1.0 + 0.1 * lost;
	else
		r = ss_rounds(segs, w);
	if (lost_out)
		*lost_out = (unsigned)lost;
	return r + penalty * lost;
}

static inline double sim_flow_bytes_p(const struct sim_path *p, struct rng *r)
{
	double lo = log2(p->lo_bytes), hi = log2(p->hi_bytes);

	return exp2(lo + (hi - lo) * rng_unif(r)); /* log-uniform */
}

static inline double sim_flow_bytes(struct rng *r)
{
	return exp2(10.0 + 12.0 * rng_unif(r)); /* log-uniform 1 KB .. 4 MB */
}

/* Receiver side (an active open): the window our rwnd value gives the peer (0: the
 * kernel's).  Above the kernel's, the data plane raises the receive buffer first. */
static inline unsigned sim_rwnd(const struct sim_path *p, unsigned rwnd)
{
	return rwnd ? rwnd : p->our_wnd;
}

/*
 * One close record of a sender-side flow (we send the response) carrying the
 * slot's values; rwnd-side flows when recv != 0 (we receive, the peer's IW is
 * capped by our rwnd).
 */
static inline void sim_record(const struct sim_path *p, struct rng *r, const struct learnd_arm *a,
			      unsigned slot, int recv, struct learnd_record *rec)
{
	double bytes = sim_flow_bytes_p(p, r), segs = ceil(bytes / p->mss), rounds, t, phase;
	double min_rtt = p->rtt_us * (1.0 + 0.05 * rng_unif(r));
	unsigned lost = 0, iw = a->iw ? a->iw : 10;
	bool synlost = rng_unif(r) < p->syn_loss;

	memset(rec, 0, sizeof(*rec));
	rec->flags = LEARND_REC_ESTABLISHED | LEARND_REC_APPLIED | (rng_unif(r) < 0.5 ? LEARND_REC_ACTIVE : 0);
	rec->weight = 1; /* an ABI 2 data plane: flight evidence filled */
	rec->slot = (uint8_t)slot;
	rec->iw = a->iw;
	rec->rwnd = a->rwnd;
	rec->syn_rto_ms = a->syn_rto_ms;
	rec->base_rtt_us = a->base_rtt_us;
	rec->mss = p->mss;
	rec->snd_wnd = p->peer_wnd * p->mss;
	rec->min_rtt_us = (uint32_t)min_rtt;
	rec->handshake_us = (uint32_t)(min_rtt * (1.0 + 0.1 * rng_unif(r)));
	if (synlost) { /* the kernel cut cwnd to 1: the slot's IW was not applied */
		rec->flags |= LEARND_REC_IW_KERNEL;
		rec->syn_retrans = 1;
		rec->handshake_us += 1000000;
		iw = 1;
	}
	if (!recv) {
		double w = iw < p->peer_wnd ? iw : p->peer_wnd;
		unsigned f = (unsigned)(w < segs ? w : segs);

		rounds = sim_cost(p, segs, iw, 0.0, &lost);
		if (lost) { /* queue overflow: the flight's tail, from the buffer on */
			rec->flight_lost = (uint16_t)lost;
			rec->flight_first = (uint16_t)(f - lost);
			rec->flight_last = (uint16_t)(f - 1);
		} else if (p->pkt_loss > 0) { /* random loss: anywhere in the flight */
			for (unsigned i = 0; i < f; i++) {
				if (rng_unif(r) >= p->pkt_loss)
					continue;
				if (!rec->flight_lost)
					rec->flight_first = (uint16_t)i;
				rec->flight_last = (uint16_t)i;
				rec->flight_lost++;
			}
			if (rec->flight_lost) {
				lost += rec->flight_lost;
				rounds += 1.0;
			}
		}
		rec->bytes_acked = (uint64_t)bytes;
		rec->bytes_received = 300;
	} else {
		unsigned w = sim_rwnd(p, a->rwnd);

		rounds = ss_rounds(segs, p->peer_iw < w ? p->peer_iw : w);
		rec->bytes_received = (uint64_t)bytes;
		rec->bytes_acked = 300;
	}
	if (!recv && p->slow_above && iw > p->slow_above)
		rounds *= 3.0;
	if (rng_unif(r) < p->tail_p)
		rounds += 10.0 * rng_unif(r);
	if (rng_unif(r) < p->flow_loss) { /* random loss after the first flight, same for every value */
		lost += 1;
		rounds += 1.0;
	}
	t = rounds * min_rtt * exp(p->sigma * rng_normal(r));
	/* busy time comes in jiffies (4 ms): difference of two floors, random phase */
	phase = 4000.0 * rng_unif(r);
	rec->busy_us = recv ? 0 : (uint64_t)(floor((phase + t) / 4000.0) - floor(phase / 4000.0)) * 4000;
	rec->duration_us = (uint64_t)(t + min_rtt) + ((rec->flags & LEARND_REC_ACTIVE) ? rec->handshake_us : 0);
	rec->total_retrans = lost + rec->syn_retrans;
	rec->data_segs_out = recv ? 1 : (uint32_t)segs + lost;
	rec->srtt_us = (uint32_t)(min_rtt * 1.2);
}

/* ---- scoring ---- */

/* The index of value v in a stream's values (0 if absent). */
static inline int index_of(const struct learnd_model_stream *s, unsigned v)
{
	for (unsigned i = 0; i < s->nvalues; i++)
		if (s->values[i] == v)
			return (int)i;
	return 0;
}

/* True relative cost of each allowed value of param p on path sp (the best: 1):
 * the mean over a large fixed sample of flows of the noise-free cost divided by
 * the flow's size normaliser (the quantity the model estimates). */
static inline void truth(const struct sim_path *sp, const struct learnd_model_cfg *cfg, unsigned p,
			 const uint16_t *vals, unsigned nv, double *out)
{
	double best = INFINITY;
	struct rng r;

	for (unsigned i = 0; i < nv; i++)
		out[i] = 0;
	rng_seed(&r, 12345);
	for (int k = 0; k < 40000; k++) {
		double bytes = sim_flow_bytes_p(sp, &r), segs = ceil(bytes / sp->mss);
		double ideal = 1.0 + log2(1.0 + bytes / sp->mss / 10.0);

		if (bytes <= (double)vals[0] * sp->mss)
			continue;
		for (unsigned i = 0; i < nv; i++) {
			if (p == LEARND_PARAM_IW) {
				double b = vals[i] < sp->peer_wnd ? vals[i] : sp->peer_wnd;

				b = b < segs ? b : segs; /* a random loss in the first flight: one more round */
				out[i] += (sim_cost(sp, segs, vals[i], cfg->retrans_penalty, NULL) +
					   1.0 - pow(1.0 - sp->pkt_loss, b)) *
					  (sp->slow_above && vals[i] > sp->slow_above ? 3.0 : 1.0) / ideal;
			}
			else
				out[i] += (1.0 + ss_rounds(segs, sp->peer_iw < sim_rwnd(sp, vals[i]) ? sp->peer_iw :
										     sim_rwnd(sp, vals[i]))) / ideal;
		}
	}
	for (unsigned i = 0; i < nv; i++)
		best = out[i] < best ? out[i] : best;
	for (unsigned i = 0; i < nv; i++)
		out[i] /= best;
}

#endif /* LEARND_SIM_PATHSIM_H */
