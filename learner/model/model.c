// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The model's front: configuration, per-prefix state, intake of close records,
 * the SYN RTO / BASE_RTT estimators, the decision of the slots, and the
 * export/import rows.  The probed parameters live in bandit.c, the histograms
 * in quantile.c.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model_int.h"

/* Names and the kernel's limits: the one parameter table (learnd_vocab.h). */
#define pname(p) (learnd_param_info(p)->name)
#define plim_min(p) (learnd_param_info(p)->min)
#define plim_max(p) (learnd_param_info(p)->max)


void learnd_model_cfg_default(struct learnd_model_cfg *cfg)
{
	*cfg = (struct learnd_model_cfg){ /* min_bytes 0, the bounds unset */
#define KNOB(field, fmt, def, lo, hi) .field = def,
#include "model_cfg.def"
#undef KNOB
	};
}

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* lo <= x <= hi, and not NaN */
static bool within(double x, double lo, double hi)
{
	return x >= lo && x <= hi;
}

int learnd_model_cfg_check(const struct learnd_model_cfg *c, char *err, size_t len)
{
	for (unsigned p = 0; p < LEARND_PARAM__MAX; p++) {
		const struct learnd_bound *b = &c->bound[p];

		switch (b->mode) {
		case LEARND_BOUND_UNSET:
			break;
		case LEARND_BOUND_FIXED:
			if (b->min < plim_min(p) || b->min > plim_max(p))
				return fail(err, len, "%s: fixed value %u out of range %u..%u", pname(p),
					    b->min, plim_min(p), plim_max(p));
			break;
		case LEARND_BOUND_LEARN:
			if (b->min < plim_min(p) || b->min > plim_max(p))
				return fail(err, len, "%s: min %u out of range %u..%u", pname(p), b->min,
					    plim_min(p), plim_max(p));
			if (b->max < b->min || b->max > plim_max(p))
				return fail(err, len, "%s: max %u out of range %u..%u", pname(p), b->max,
					    b->min, plim_max(p));
			break;
		default:
			return fail(err, len, "%s: bad bound mode %u", pname(p), b->mode);
		}
	}
#define KNOB(field, fmt, def, lo, hi)                                                             \
	if (!within(c->field, lo, hi))                                                                 \
		return fail(err, len, "%s " fmt " out of range", #field, c->field);
#include "model_cfg.def"
#undef KNOB
	return 0;
}

/* A published estimate's value under the bounds: clamp if learned, else fixed / 0. */
static uint32_t bound_value(const struct learnd_bound *b, double v)
{
	switch (b->mode) {
	case LEARND_BOUND_FIXED:
		return b->min;
	case LEARND_BOUND_LEARN:
		if (!(v >= b->min)) /* also NaN */
			return b->min;
		if (v > b->max)
			return b->max;
		return (uint32_t)v;
	default:
		return 0;
	}
}

static void reset_stats(struct learnd_model *m)
{
	lm_stream_setup(&m->stream[LEARND_PARAM_IW], &m->cfg.bound[LEARND_PARAM_IW], LEARND_PARAM_IW);
	lm_stream_setup(&m->stream[LEARND_PARAM_RWND], &m->cfg.bound[LEARND_PARAM_RWND], LEARND_PARAM_RWND);
	memset(&m->rel, 0, sizeof(m->rel));
	m->rel.w = 1.0;
	lm_qreset(&m->handshake_hist);
	lm_qreset(&m->minrtt);
	lm_qreset(&m->peerwnd);
	m->pub_rto_ms = bound_value(&m->cfg.bound[LEARND_PARAM_SYN_RTO], LEARND_KERNEL_SYN_RTO_MS);
	m->pub_base_rtt_us = bound_value(&m->cfg.bound[LEARND_PARAM_BASE_RTT], 0);
	m->decided = 0;
	m->pending = 0;
	m->samples = 0;
	m->failed = 0;
	m->last_ns = 0;
}

static void set_gammas(struct learnd_model *m)
{
	m->inv_gamma_stream = (double)m->cfg.window / (m->cfg.window - 1.0);
	m->inv_gamma_hist = (double)m->cfg.est_window / (m->cfg.est_window - 1.0);
}

int learnd_model_init(struct learnd_model *m, const struct learnd_model_cfg *cfg)
{
	if (learnd_model_cfg_check(cfg, NULL, 0))
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	set_gammas(m);
	reset_stats(m);
	return 0;
}

static double min_double(double a, double b)
{
	return a < b ? a : b;
}

/* Copy the histogram h discounted to now, scaled so that it holds at most cap samples. */
static void borrow_hist(struct learnd_model_qhist *dst, const struct learnd_model_qhist *src, double cap)
{
	float v[LEARND_MODEL_QBUCKETS];
	double total = lm_qnorm(src, v), f = total > cap ? cap / total : 1.0;

	lm_qreset(dst);
	for (unsigned i = 0; i < LEARND_MODEL_QBUCKETS; i++)
		dst->b[i] = (float)(v[i] * f);
	dst->aux[0] = src->aux[0] / src->w * f;
	dst->aux[1] = src->aux[1] / src->w * f;
}

int learnd_model_init_from_parent(struct learnd_model *m, const struct learnd_model_cfg *cfg,
				  const struct learnd_model *parent)
{
	int rc = learnd_model_init(m, cfg);

	if (rc)
		return rc;
	for (unsigned p = LEARND_PARAM_IW; p <= LEARND_PARAM_RWND; p++) {
		const struct learnd_model_stream *ps = &parent->stream[p];
		struct learnd_model_stream *s = &m->stream[p];
		int inc;

		if (s->nvalues < 2)
			continue;
		inc = lm_stream_index(s, ps->values[ps->inc]);
		s->inc = inc >= 0 ? (uint32_t)inc : lm_stream_nearest(s, ps->values[ps->inc]);
		if (ps->nvalues < 2)
			continue;
		for (unsigned i = 0; i < ps->nvalues; i++) {
			struct learnd_model_arm_stat *a;
			struct lm_view v;
			int j = lm_stream_index(s, ps->values[i]);
			double f;

			lm_stream_view(ps, parent->cfg.window, i, &v);
			if (j < 0 || !(v.n > 0.0))
				continue;
			f = min_double(1.0, cfg->borrow_n / v.n);
			a = &s->arm[j];
			a->n = v.n * f;
			a->raw = v.raw * v.n * f;
			for (unsigned k = 0; k < LEARND_MODEL_NCLASSES; k++) {
				a->cell[k].n = (float)(v.cell[k].n * f);
				a->cell[k].s = (float)(v.cell[k].s * f);
				a->cell[k].s2 = (float)(v.cell[k].s2 * f);
			}
			a->last_ns = ps->arm[i].last_ns;
			a->last_seq = 0;
		}
	}
	if (parent->rel.all / parent->rel.w > 0.0) { /* who feels what: the parent's mix, as a prior */
		double f = min_double(1.0, 4 * cfg->borrow_n / (parent->rel.all / parent->rel.w)) / parent->rel.w;

		m->rel.all = parent->rel.all * f;
		m->rel.send = parent->rel.send * f;
		m->rel.recv = parent->rel.recv * f;
	}
	/* not the handshakes: the child keeps the parent's RTO until est_min_samples
	 * of its own.  Borrowed, a parent's tail (its slowest paths) held the
	 * child's p99 for ~4 x borrow_n / 1% of its own handshakes: a 10 ms path
	 * under a parent that also serves 200 ms ones kept a SYN RTO of 70 ms */
	borrow_hist(&m->minrtt, &parent->minrtt, 4 * cfg->borrow_n);
	borrow_hist(&m->peerwnd, &parent->peerwnd, 4 * cfg->borrow_n);
	m->pub_rto_ms = bound_value(&cfg->bound[LEARND_PARAM_SYN_RTO], parent->pub_rto_ms);
	m->pub_base_rtt_us = bound_value(&cfg->bound[LEARND_PARAM_BASE_RTT], parent->pub_base_rtt_us);
	return 0;
}

int learnd_model_set_cfg(struct learnd_model *m, const struct learnd_model_cfg *cfg)
{
	struct learnd_model_stream old;
	uint32_t v;

	if (learnd_model_cfg_check(cfg, NULL, 0))
		return -EINVAL;
	m->cfg = *cfg;
	set_gammas(m);
	for (unsigned p = LEARND_PARAM_IW; p <= LEARND_PARAM_RWND; p++) {
		struct learnd_model_stream *s = &m->stream[p];
		uint32_t inc_v = s->values[s->inc];
		int inc;

		old = *s;
		lm_stream_setup(s, &cfg->bound[p], p);
		inc = lm_stream_index(s, inc_v);
		s->inc = inc >= 0 ? (uint32_t)inc : lm_stream_nearest(s, inc_v);
		if (inc < 0)
			m->pending |= 1u << p;
		if (s->nvalues < 2)
			continue;
		/* keep the evidence of values still allowed, in the same scale */
		s->w = old.w;
		s->count = old.count;
		s->fw = old.fw;
		for (unsigned i = 0; i < old.nvalues; i++) {
			int j = lm_stream_index(s, old.values[i]);

			if (j >= 0) {
				s->arm[j] = old.arm[i];
				s->fc[j] = old.fc[i];
				s->ft[j] = old.ft[i];
			}
		}
	}
	v = bound_value(&cfg->bound[LEARND_PARAM_SYN_RTO],
			m->pub_rto_ms ? m->pub_rto_ms : LEARND_KERNEL_SYN_RTO_MS);
	if (v != m->pub_rto_ms)
		m->pending |= 1u << LEARND_PARAM_SYN_RTO;
	m->pub_rto_ms = v;
	v = bound_value(&cfg->bound[LEARND_PARAM_BASE_RTT], m->pub_base_rtt_us);
	if (v != m->pub_base_rtt_us)
		m->pending |= 1u << LEARND_PARAM_BASE_RTT;
	m->pub_base_rtt_us = v;
	return 0;
}

/* ---- intake ---- */

#define COST_MAX 1e6 /* round trips; anything above is garbage */

/* Time since the connection became established, for costs read off duration_us. */
static uint64_t established_duration(const struct learnd_record *r)
{
	uint64_t d = r->duration_us;

	if (r->flags & LEARND_REC_ACTIVE) /* duration runs from connect(): drop the handshake */
		d = d > r->handshake_us ? d - r->handshake_us : 0;
	return d;
}

static double round_trips(uint64_t time_us, uint32_t min_rtt_us)
{
	double x = (double)time_us / min_rtt_us;

	return x < COST_MAX ? x : COST_MAX;
}

static uint32_t rec_mss(const struct learnd_record *r)
{
	return r->mss >= 64 ? r->mss : 1460;
}

/*
 * A record's cost in round trips, normalised by the round trips slow start
 * from IW 10 needs for that many bytes on a clean path (1 + log2(1 + segs/10)),
 * so that flows of every size weigh alike, then clipped (heavy tails); kept
 * per flow-size class floor(log2(segs)), where values are compared.
 */
static void add_cost(struct learnd_model *m, unsigned p, unsigned vi, double cost, uint64_t bytes,
		     uint32_t mss, double g, double wt, uint64_t now_ns)
{
	uint64_t segs = bytes / mss;
	double ideal = 1.0 + log2(1.0 + (double)segs / LEARND_KERNEL_IW), r;
	int k = 63 - __builtin_clzll(segs | 1);

	if (k >= LEARND_MODEL_NCLASSES)
		k = LEARND_MODEL_NCLASSES - 1;
	if (cost > COST_MAX)
		cost = COST_MAX;
	r = cost / ideal;
	if (r > m->cfg.cost_clip)
		r = m->cfg.cost_clip;
	lm_stream_add(&m->stream[p], &m->cfg, g, wt, vi, (unsigned)k, r, cost, now_ns);
}

/* Who can feel IW and RWND: did this connection send / receive more than the
 * kernel's IW 10 segments (a first flight IW or our window can limit)? */
static void rel_add(struct learnd_model_rel *rl, const struct learnd_record *r, double g, double wt)
{
	uint64_t lim = (uint64_t)LEARND_KERNEL_IW * rec_mss(r);

	rl->w *= g;
	rl->all += wt * rl->w;
	if (r->bytes_acked > lim)
		rl->send += wt * rl->w;
	if (r->bytes_received > lim)
		rl->recv += wt * rl->w;
	if (rl->w > 0x1p60) {
		rl->all *= 0x1p-60;
		rl->send *= 0x1p-60;
		rl->recv *= 0x1p-60;
		rl->w *= 0x1p-60;
	}
}

/*
 * The initial flight of a sender-side record at IW iw: f segments went out at
 * once (the flow's size, the peer's window and the IW bound it).  No loss in
 * it, or losses scattered through it (random loss): the path absorbed f.  A
 * run of losses at the end (dense, ending within the last two packets): the
 * queue overflowed from flight_first on.  A run of one packet, the last, is
 * LM_TAIL_ONE of a tail (a random loss hits the last packet too, 1 in f of
 * them; a segment sent again twice counts twice in flight_lost, so the run is
 * measured by its span).  "No loss" is believed only from a data plane that
 * fills the ABI 2 evidence, which also fills weight (>= 1 in every record it
 * samples): a record with weight 0 comes from an older one, whose flight
 * fields are zeros whatever happened.
 */
/* What a record's initial flight says: not understood (0, no evidence),
 * absorbed (-1) or lost its tail from packet *first on (1); *f is the flight's
 * size and *tw the tail's weight (a lone last packet is mostly random loss). */
static int flight_class(const struct learnd_record *r, uint32_t *f, uint32_t *first, double *tw)
{
	uint64_t segs = (r->bytes_acked + rec_mss(r) - 1) / rec_mss(r);
	uint32_t wnd = r->mss ? r->snd_wnd / r->mss : 0, span;

	*f = r->iw;
	if (segs < *f)
		*f = (uint32_t)segs;
	if (wnd && wnd < *f)
		*f = wnd;
	if (*f < 2)
		return 0;
	if (!r->flight_lost)
		return -1;
	if (r->flight_first > r->flight_last || r->flight_last >= *f + 2u)
		return 0; /* not a flight we understand (window moved, garbage) */
	span = (uint32_t)r->flight_last - r->flight_first + 1;
	if (r->flight_last + 2u >= *f && 2u * r->flight_lost >= span) {
		*first = r->flight_first;
		*tw = span >= 2 ? 1.0 : LM_TAIL_ONE;
		return 1;
	}
	return -1;
}

static void flight_add(struct learnd_model_stream *s, const struct learnd_record *r, double wt)
{
	uint32_t f, first;
	double tw;
	int c = flight_class(r, &f, &first, &tw);

	if (c > 0)
		lm_flight_add(s, wt, f, (int)first, tw);
	else if (c < 0 && r->weight)
		lm_flight_add(s, wt, f, -1, 0.0);
}

/* The flight ran on the record's IW: the kernel did not keep cwnd 1 after a
 * lost handshake, nor refuse the IW. */
static bool iw_ran(const struct learnd_record *r)
{
	return !(r->flags & (LEARND_REC_IW_KERNEL | LEARND_REC_IW_FAILED));
}

bool learnd_model_flight_overflowed(const struct learnd_record *r)
{
	uint32_t f, first;
	double tw;

	return (r->flags & LEARND_REC_APPLIED) && iw_ran(r) &&
	       flight_class(r, &f, &first, &tw) > 0 && tw == 1.0;
}

/* SYN RTO: clean handshakes, plus spurious retransmits (the reply answered the
 * original SYN or SYN-ACK: their time is the tail clean samples cannot show,
 * being censored at the RTO).  A handshake that really lost one counts, no
 * time.  The LEARND_USED_ bits it used. */
static unsigned observe_handshake(struct learnd_model *m, const struct learnd_record *r, double ge, double wt)
{
	uint64_t rto_us = (r->flags & LEARND_REC_APPLIED) && r->syn_rto_ms ?
				  (uint64_t)r->syn_rto_ms * 1000 :
				  (uint64_t)LEARND_KERNEL_SYN_RTO_MS * 1000;
	unsigned idx = lm_qbucket(r->handshake_us, LM_US_LO);
	bool clean, spurious, rescued;
	double rtt;

	/* Clean: no retransmission of ours, within our RTO and, active, not
	 * far above the round trip (LM_RESCUE_RTTS).  A longer one
	 * was rescued by the peer (its SYN-ACK retransmission answered a lost
	 * one before our timer, rounded up to jiffies, fired): a loss, not a
	 * slow path; as a time it would raise the quantile, the RTO with it,
	 * and let the peer rescue more, a ratchet (docs/model.md).
	 * Spurious, with a retransmission: active, handshake_us runs from the
	 * first SYN, and an answer to the retransmission cannot come before
	 * RTO + one round trip; passive, handshake_us is the kernel's RTT
	 * sample of the SYN-ACK, from the timestamp the ACK echoes (the copy
	 * the client answered; millisecond ticks): at least the RTO if it
	 * answered the original, a round trip if it answered a retransmission
	 * (timer- or duplicate-SYN-driven), the test of
	 * tcp_try_undo_spurious_syn(). */
	rtt = m->rtt_floor_us > 0 && m->rtt_floor_us < r->min_rtt_us ? m->rtt_floor_us : r->min_rtt_us;
	rescued = (r->flags & LEARND_REC_ACTIVE) && rtt > 0 && r->handshake_us > LM_RESCUE_RTTS * rtt + m->cfg.rto_pad_ms * 1000.0;
	clean = r->syn_retrans == 0 && r->handshake_us <= rto_us && !rescued;
	spurious = r->syn_retrans > 0 && ((r->flags & LEARND_REC_ACTIVE) ?
						  r->handshake_us < rto_us + r->min_rtt_us :
						  (uint64_t)r->handshake_us + 1000 >= rto_us);
	if (clean || (spurious && !rescued)) {
		lm_qadd(&m->handshake_hist, idx, ge, wt, spurious ? 1.0 : 0.0, 1.0);
		return LEARND_USED_HANDSHAKE | (spurious ? LEARND_USED_SPURIOUS : 0);
	}
	/* Spurious but far above the round trip: the peer's SYN-ACK timer raced
	 * ours (its copy came after our retransmission, before an answer to it
	 * could), or a path that slow.  No time: as one it ratcheted our RTO up
	 * past the peer's (49 -> 98 ms, SYN-loss path, both ends learnd).  It
	 * counts in the spurious rate, whose backoff covers a path that slow. */
	lm_qadd(&m->handshake_hist, UINT32_MAX, ge, wt, spurious ? 1.0 : 0.0, 1.0);
	return spurious ? LEARND_USED_SPURIOUS : 0;
}

unsigned learnd_model_observe(struct learnd_model *m, const struct learnd_record *r, uint64_t now_ns)
{
	const struct learnd_model_cfg *cfg = &m->cfg;
	struct learnd_model_stream *s;
	unsigned used = 0;
	/* a sampled record stands for weight connections: it weighs that much
	 * and ages the evidence as much as that many records would */
	double wt = r->weight > 1 ? (r->weight < LM_WEIGHT_MAX ? r->weight : LM_WEIGHT_MAX) : 1.0;
	double ge = wt == 1.0 ? m->inv_gamma_hist : min_double(pow(m->inv_gamma_hist, wt), LM_WEIGHT_MAX);
	double ga = wt == 1.0 ? m->inv_gamma_stream : min_double(pow(m->inv_gamma_stream, wt), LM_WEIGHT_MAX);

	m->samples++;
	m->last_ns = now_ns;
	if (!(r->flags & LEARND_REC_ESTABLISHED)) {
		m->failed++;
		return 0;
	}
	rel_add(&m->rel, r, ge, wt);

	if (r->handshake_us > 0)
		used |= observe_handshake(m, r, ge, wt);
	if (r->min_rtt_us > 0) {
		lm_qadd(&m->minrtt, lm_qbucket(r->min_rtt_us, LM_US_LO), ge, wt, 0.0, 0.0);
		used |= LEARND_USED_MIN_RTT;
	}
	if (!(r->flags & LEARND_REC_APPLIED) || r->min_rtt_us == 0)
		return used;

	s = &m->stream[LEARND_PARAM_IW];
	if (s->nvalues >= 2 && r->bytes_acked > cfg->min_bytes &&
	    r->bytes_acked > (uint64_t)s->values[0] * rec_mss(r)) {
		int vi = lm_stream_index(s, r->iw);

		if (r->snd_wnd && r->mss)
			lm_qadd(&m->peerwnd, lm_qbucket(r->snd_wnd / r->mss, LM_PKT_LO), ge, wt, 0, 0);
		/* the kernel kept cwnd 1 after a lost handshake, or refused the IW:
		 * the flight ran on another IW than the record's, so it tells nothing of it */
		if (vi >= 0 && iw_ran(r)) {
			uint64_t t = cfg->iw_time == LEARND_TIME_BUSY ? r->busy_us : established_duration(r);
			uint32_t retr = r->total_retrans > r->syn_retrans ? r->total_retrans - r->syn_retrans : 0;
			double cost = round_trips(t, r->min_rtt_us) + cfg->retrans_penalty * retr;

			add_cost(m, LEARND_PARAM_IW, (unsigned)vi, cost, r->bytes_acked, rec_mss(r), ga, wt, now_ns);
			flight_add(s, r, wt);
			used |= LEARND_USED_IW;
		}
	}

	s = &m->stream[LEARND_PARAM_RWND];
	if (s->nvalues >= 2 && r->bytes_received > cfg->min_bytes &&
	    r->bytes_received > (uint64_t)s->values[0] * rec_mss(r)) {
		int vi = lm_stream_index(s, r->rwnd);

		if (vi >= 0) {
			add_cost(m, LEARND_PARAM_RWND, (unsigned)vi, round_trips(established_duration(r), r->min_rtt_us),
				 r->bytes_received, rec_mss(r), ga, wt, now_ns);
			used |= LEARND_USED_RWND;
		}
	}
	return used;
}

/* ---- estimators ---- */

struct estimates_now {
	double handshake_q_us, handshake_n, spurious_rate, rtt_q, rtt_n, wnd_p50, wnd_n;
	uint32_t rto_ms, base_rtt_us; /* 0: not enough data */
};

static void estimate(const struct learnd_model *m, struct estimates_now *e, float *wnd_v)
{
	const struct learnd_model_cfg *cfg = &m->cfg;
	float v[LEARND_MODEL_QBUCKETS];
	double handshakes_all = m->handshake_hist.aux[1] / m->handshake_hist.w;

	memset(e, 0, sizeof(*e));
	e->handshake_n = lm_qnorm(&m->handshake_hist, v);
	e->handshake_q_us = lm_qquantile(v, e->handshake_n, LM_US_LO, cfg->rto_quantile);
	e->spurious_rate = handshakes_all > 0.0 ? (m->handshake_hist.aux[0] / m->handshake_hist.w) / handshakes_all : 0.0;
	if (e->handshake_n >= cfg->est_min_samples) {
		double rto = e->handshake_q_us / 1000.0 * cfg->rto_margin + cfg->rto_pad_ms;

		if (e->spurious_rate > cfg->spurious_max) /* back off: the tail is longer than we see */
			rto *= min_double(4.0, e->spurious_rate / cfg->spurious_max);
		e->rto_ms = bound_value(&cfg->bound[LEARND_PARAM_SYN_RTO], ceil(rto));
	}
	e->rtt_n = lm_qnorm(&m->minrtt, v);
	e->rtt_q = lm_qquantile(v, e->rtt_n, LM_US_LO, cfg->base_rtt_quantile);
	if (e->rtt_n >= cfg->est_min_samples)
		e->base_rtt_us = bound_value(&cfg->bound[LEARND_PARAM_BASE_RTT], round(e->rtt_q));
	e->wnd_n = lm_qnorm(&m->peerwnd, wnd_v);
	e->wnd_p50 = lm_qquantile(wnd_v, e->wnd_n, LM_PKT_LO, 0.5);
}

/* The prefix's round trip for telling rescued handshakes, from e (estimate()). */
static float rtt_floor(const struct learnd_model *m, const struct estimates_now *e)
{
	return e->rtt_n >= m->cfg.est_min_samples ? (float)e->rtt_q : 0.0f;
}

void learnd_model_estimates(const struct learnd_model *m, struct learnd_model_estimates *out)
{
	float wv[LEARND_MODEL_QBUCKETS];
	struct estimates_now e;

	estimate(m, &e, wv);
	out->handshake_q_us = e.handshake_q_us;
	out->handshake_n = e.handshake_n;
	out->spurious_rate = e.spurious_rate;
	out->min_rtt_q_us = e.rtt_q;
	out->min_rtt_n = e.rtt_n;
	out->peer_wnd_p50 = e.wnd_p50;
	out->rto_ms = e.rto_ms;
	out->base_rtt_us = e.base_rtt_us;
	out->changes = m->stream[LEARND_PARAM_IW].changes + m->stream[LEARND_PARAM_RWND].changes;
}

/* ---- decision ---- */

struct text {
	char *buf;
	size_t len, used;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->used + 1 >= t->len)
		return;
	if (t->used) {
		n = snprintf(t->buf + t->used, t->len - t->used, "; ");
		t->used += (size_t)n < t->len - t->used ? (size_t)n : t->len - t->used - 1;
	}
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used += (size_t)n < t->len - t->used ? (size_t)n : t->len - t->used - 1;
}

static void slot0_values(const struct learnd_model *m, uint32_t v[LEARND_PARAM__MAX])
{
	v[LEARND_PARAM_IW] = m->stream[LEARND_PARAM_IW].values[m->stream[LEARND_PARAM_IW].inc];
	v[LEARND_PARAM_RWND] = m->stream[LEARND_PARAM_RWND].values[m->stream[LEARND_PARAM_RWND].inc];
	v[LEARND_PARAM_SYN_RTO] = bound_value(&m->cfg.bound[LEARND_PARAM_SYN_RTO], m->pub_rto_ms);
	v[LEARND_PARAM_BASE_RTT] = bound_value(&m->cfg.bound[LEARND_PARAM_BASE_RTT], m->pub_base_rtt_us);
}

static bool estimate_moved(uint32_t pub, uint32_t v, double hyst)
{
	double d = (double)v - (double)pub;

	return v != pub && fabs(d) > hyst * pub;
}

static int probe_cmp(const struct lm_probe *a, const struct lm_probe *b)
{
	if (a->prio != b->prio)
		return a->prio > b->prio ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

static void sort_probes(struct lm_probe *c, unsigned n, bool canonical)
{
	struct lm_probe tmp;

	for (unsigned i = 1; i < n; i++) /* insertion sort, n <= 8 */
		for (unsigned j = i; j > 0 && (canonical ? c[j].order < c[j - 1].order : probe_cmp(&c[j], &c[j - 1]) < 0);
		     j--)
			tmp = c[j], c[j] = c[j - 1], c[j - 1] = tmp;
}

/* Discounted connections, and the share of them that can feel parameter p
 * (IW: sent more than 10 segments; RWND: received more), from m's records, or
 * from the parent's while m has too few of its own. */
static void rel_of(const struct learnd_model *m, const struct learnd_model *parent, unsigned p, double *n,
		   double *frac)
{
	const struct learnd_model_rel *rl = &m->rel;
	double x;

	if (parent && rl->all / rl->w < LM_REL_MIN_N && parent->rel.all / parent->rel.w >= LM_REL_MIN_N)
		rl = &parent->rel;
	*n = rl->all / rl->w;
	x = (p == LEARND_PARAM_IW ? rl->send : rl->recv) / rl->w;
	*frac = *n > 0.0 ? x / *n : 0.0;
}

static bool relevant(const struct learnd_model *m, const struct learnd_model *parent, unsigned p)
{
	double n, frac;

	if (p > LEARND_PARAM_RWND || m->stream[p].nvalues < 2)
		return false;
	rel_of(m, parent, p, &n, &frac);
	/* hysteresis: a value learned away from the kernel's is kept until the
	 * share falls to half the threshold, so a mix near it does not flap */
	return n >= LM_REL_MIN_N &&
	       (frac >= m->cfg.rel_frac || (frac >= m->cfg.rel_frac / 2 && m->stream[p].inc != m->stream[p].dflt));
}

unsigned learnd_model_probed(const struct learnd_model *m)
{
	return (relevant(m, NULL, LEARND_PARAM_IW) ? 1u << LEARND_PARAM_IW : 0) |
	       (relevant(m, NULL, LEARND_PARAM_RWND) ? 1u << LEARND_PARAM_RWND : 0);
}

/*
 * A young child follows its parent's incumbent (decisions pooled upward: a
 * sparse /24 cannot learn alone) unless its own evidence says otherwise: the
 * value lost initial flights' tails here, hides behind the peer's window, or
 * its own measured time prefers what it has.
 */
static bool follow_parent(struct learnd_model_stream *s, const struct learnd_model_stream *ps,
			  const struct learnd_model_cfg *cfg, unsigned p, const bool *capped, char *text, size_t len)
{
	int j;

	if (ps->nvalues < 2 || (double)s->count >= cfg->pool_n)
		return false;
	j = lm_stream_index(s, ps->values[ps->inc]);
	if (j < 0 || (unsigned)j == s->inc)
		return false;
	if (p == LEARND_PARAM_IW && (lm_flight_suspect(s, (unsigned)j) || (capped && (unsigned)j > s->inc && capped[j - 1])))
		return false;
	if (lm_time_beats(s, cfg, (unsigned)j, s->inc))
		return false;
	snprintf(text, len, "%s %u->%u: the parent's value (%llu records here, pooled below %.0f)",
		 p == LEARND_PARAM_IW ? "iw" : "rwnd", s->values[s->inc], s->values[j],
		 (unsigned long long)s->count, cfg->pool_n);
	s->inc = (uint32_t)j;
	return true;
}

int learnd_model_decide(struct learnd_model *m, struct learnd_model_decision *d)
{
	return learnd_model_decide_pooled(m, NULL, d);
}

/* The estimators' values (SYN RTO, BASE_RTT) published when they moved by
 * more than est_hysteresis; the peer's window: which IW values it caps
 * (capv, returned; NULL: too few samples to say). */
static const bool *decide_estimates(struct learnd_model *m, struct text *t, uint32_t *why,
				    bool capv[LEARND_MODEL_MAX_VALUES])
{
	const struct learnd_model_cfg *cfg = &m->cfg;
	float wv[LEARND_MODEL_QBUCKETS];
	struct estimates_now e;

	estimate(m, &e, wv);
	m->rtt_floor_us = rtt_floor(m, &e);
	if (cfg->bound[LEARND_PARAM_SYN_RTO].mode == LEARND_BOUND_LEARN && e.rto_ms &&
	    estimate_moved(m->pub_rto_ms, e.rto_ms, cfg->est_hysteresis)) {
		text_add(t, "syn_rto_ms %u->%u: p%g handshake %.1f ms x%.2g +%g, n=%.0f, spurious %.1f%%",
		    m->pub_rto_ms, e.rto_ms, cfg->rto_quantile * 100, e.handshake_q_us / 1000.0, cfg->rto_margin,
		    cfg->rto_pad_ms, e.handshake_n, e.spurious_rate * 100);
		m->pub_rto_ms = e.rto_ms;
		if (*why < LEARND_WHY_ESTIMATE)
			*why = LEARND_WHY_ESTIMATE;
	}
	if (cfg->bound[LEARND_PARAM_BASE_RTT].mode == LEARND_BOUND_LEARN && e.base_rtt_us &&
	    estimate_moved(m->pub_base_rtt_us, e.base_rtt_us, cfg->est_hysteresis)) {
		text_add(t, "base_rtt_us %u->%u: p%g min_rtt, n=%.0f", m->pub_base_rtt_us, e.base_rtt_us,
		    cfg->base_rtt_quantile * 100, e.rtt_n);
		m->pub_base_rtt_us = e.base_rtt_us;
		if (*why < LEARND_WHY_ESTIMATE)
			*why = LEARND_WHY_ESTIMATE;
	}
	/* IW values the peer's window caps for most records look alike */
	if (e.wnd_n < cfg->est_min_samples)
		return NULL;
	for (unsigned i = 0; i < m->stream[LEARND_PARAM_IW].nvalues; i++)
		capv[i] = lm_qcdf(wv, e.wnd_n, LM_PKT_LO, m->stream[LEARND_PARAM_IW].values[i]) >= cfg->cap_frac;
	return capv;
}

/* IW and RWND: the incumbent of each, switched on evidence (or to the
 * kernel's where the parameter cannot matter); rel: which can. */
static void decide_streams(struct learnd_model *m, const struct learnd_model *parent, const bool *capped,
			   struct text *t, uint32_t *why, bool rel[2])
{
	const struct learnd_model_cfg *cfg = &m->cfg;

	for (unsigned p = LEARND_PARAM_IW; p <= LEARND_PARAM_RWND; p++) {
		struct learnd_model_stream *s = &m->stream[p];
		const bool *cp = p == LEARND_PARAM_IW ? capped : NULL;
		char buf[200];
		bool sw = false;

		rel[p] = relevant(m, parent, p);
		if (s->nvalues < 2)
			continue;
		if (!rel[p]) { /* cannot matter here: the kernel's behaviour, no probes */
			if (s->inc != s->dflt) {
				text_add(t, "%s %u->%u: no effect here", pname(p), s->values[s->inc], s->values[s->dflt]);
				s->inc = s->dflt;
				sw = true;
			}
		} else {
			if (parent && follow_parent(s, &parent->stream[p], cfg, p, cp, buf, sizeof(buf))) {
				text_add(t, "%s", buf);
				sw = true;
			}
			if (lm_stream_switch(s, cfg, cp, pname(p), buf, sizeof(buf))) {
				text_add(t, "%s", buf);
				sw = true;
			} else if (p == LEARND_PARAM_IW && lm_stream_flight_switch(s, cfg, cp, pname(p), buf, sizeof(buf))) {
				text_add(t, "%s", buf);
				sw = true;
			}
		}
		if (sw && *why < LEARND_WHY_EVIDENCE)
			*why = LEARND_WHY_EVIDENCE;
	}
}

/* The probe slots after d's slot 0: per relevant parameter, best first; with
 * both relevant, IW keeps two slots and RWND one, so that neither starves the
 * other. */
static void decide_probes(const struct learnd_model *m, const bool *capped, const bool rel[2],
			  struct learnd_model_decision *d)
{
	const struct learnd_model_cfg *cfg = &m->cfg;
	struct lm_probe cand[12], pc[8];
	unsigned nc = 0, np, nkeep = 0;
	uint32_t sum = 0;

	for (unsigned p = LEARND_PARAM_IW; p <= LEARND_PARAM_RWND; p++) {
		unsigned n, room = rel[0] && rel[1] ? (p == LEARND_PARAM_IW ? 2 : 1) : LEARND_MAX_SLOTS - 1;

		if (!rel[p])
			continue;
		n = lm_stream_candidates(&m->stream[p], cfg, p, p == LEARND_PARAM_IW ? capped : NULL, pc, 0);
		sort_probes(pc, n, false);
		for (unsigned i = 0; i < n && i < room; i++)
			cand[nc++] = pc[i];
	}
	np = nc < LEARND_MAX_SLOTS - 1 ? nc : LEARND_MAX_SLOTS - 1;
	sort_probes(cand, np, true); /* stable slot positions */

	/* Shares: a step up that exploration is trying gets probe_max_each (the
	 * samples that prove it, and it costs nothing if it wins); the rest, the
	 * maintenance probes (the kernel's value as a guard, the neighbours, for
	 * paths that change) split probe_min_total, each scaled by its weight: a
	 * value known to lose runs a quarter as often.  Converged, that is all:
	 * between a quarter of probe_min_total and probe_min_total. */
	for (unsigned i = 0; i < np; i++)
		nkeep += !cand[i].explore;
	for (unsigned i = 0; i < np; i++) {
		struct learnd_arm *a = &d->slots[i + 1];
		double sh = cand[i].explore ? cfg->probe_max_each * cand[i].weight :
					      cfg->probe_min_total * cand[i].weight / nkeep;
		long u = lround(sh * LEARND_SHARE_ONE);

		*a = d->slots[0];
		if (cand[i].param == LEARND_PARAM_IW)
			a->iw = m->stream[LEARND_PARAM_IW].values[cand[i].vi];
		else
			a->rwnd = m->stream[LEARND_PARAM_RWND].values[cand[i].vi];
		a->share = u < 1 ? 1u : (uint32_t)u;
		sum += a->share;
	}
	d->slots[0].share = LEARND_SHARE_ONE - sum;
	d->nslots = 1 + np;
}

/* The first decision: the init line first in d's text, what else happened after it. */
static void decide_init(struct learnd_model *m, struct learnd_model_decision *d, const uint32_t after[LEARND_PARAM__MAX],
			size_t used)
{
	char buf[120];
	int bl = snprintf(buf, sizeof(buf), "init: iw %u rwnd %u syn_rto_ms %u base_rtt_us %u%s", after[0], after[1],
			  after[2], after[3], used ? "; " : "");
	size_t keep = used;

	if ((size_t)bl + keep >= sizeof(d->text))
		keep = sizeof(d->text) - 1 - (size_t)bl;
	memmove(d->text + bl, d->text, keep);
	memcpy(d->text, buf, (size_t)bl);
	d->text[bl + keep] = '\0';
	d->changed = (1u << LEARND_PARAM__MAX) - 1;
	m->decided = 1;
}

int learnd_model_decide_pooled(struct learnd_model *m, const struct learnd_model *parent,
			       struct learnd_model_decision *d)
{
	struct text t = { d->text, sizeof(d->text), 0 };
	uint32_t before[LEARND_PARAM__MAX], after[LEARND_PARAM__MAX];
	bool capv[LEARND_MODEL_MAX_VALUES], rel[2];
	uint32_t why = LEARND_WHY_NONE;
	const bool *capped;

	memset(d, 0, sizeof(*d));
	t.buf = d->text;
	slot0_values(m, before);

	if (m->pending) {
		for (unsigned p = 0; p < LEARND_PARAM__MAX; p++)
			if (m->pending & (1u << p))
				text_add(&t, "%s -> %u: bounds changed", pname(p), before[p]);
		why = LEARND_WHY_BOUNDS;
		m->pending = 0;
	}
	capped = decide_estimates(m, &t, &why, capv);
	decide_streams(m, parent, capped, &t, &why, rel);

	slot0_values(m, after);
	d->slots[0].iw = (uint16_t)after[LEARND_PARAM_IW];
	d->slots[0].rwnd = (uint16_t)after[LEARND_PARAM_RWND];
	d->slots[0].syn_rto_ms = (uint16_t)after[LEARND_PARAM_SYN_RTO];
	d->slots[0].base_rtt_us = after[LEARND_PARAM_BASE_RTT];
	decide_probes(m, capped, rel, d);

	for (unsigned p = 0; p < LEARND_PARAM__MAX; p++)
		if (before[p] != after[p])
			d->changed |= 1u << p;
	if (!m->decided) {
		decide_init(m, d, after, t.used);
		why = LEARND_WHY_INIT;
	}
	d->why = why;
	return 0;
}

/* ---- status (report / show) ---- */

static bool row_ok(const struct learnd_model_row *r);

unsigned learnd_model_rows_no_effect(const struct learnd_model_row *rows, size_t n)
{
	struct learnd_model_cfg cfg;
	const struct learnd_model_row *rel = NULL;
	bool moved[2] = { false, false }; /* incumbent away from the kernel's (IW 10, RWND 0) */
	unsigned bits = 0;

	learnd_model_cfg_default(&cfg);
	for (size_t i = 0; i < n; i++) {
		const struct learnd_model_row *r = &rows[i];

		if (r->kind == LEARND_ROW_REL && row_ok(r))
			rel = r;
		else if (r->kind == LEARND_ROW_PARAM && r->param <= LEARND_PARAM_RWND)
			moved[r->param] = r->key != (r->param == LEARND_PARAM_IW ? LEARND_KERNEL_IW : 0u);
	}
	if (!rel || rel->n < LM_REL_MIN_N)
		return 0;
	/* as relevant(): the threshold, halved for a value learned away from the kernel's */
	if (rel->sum < cfg.rel_frac * rel->n / (moved[0] ? 2 : 1))
		bits |= 1u << LEARND_PARAM_IW;
	if (rel->sum2 < cfg.rel_frac * rel->n / (moved[1] ? 2 : 1))
		bits |= 1u << LEARND_PARAM_RWND;
	return bits;
}

const char *learnd_model_status_name(enum learnd_model_status s)
{
	switch (s) {
	case LEARND_STATUS_FIXED: return "fixed";
	case LEARND_STATUS_LEARNED: return "learned";
	case LEARND_STATUS_NO_EFFECT: return "no effect here";
	case LEARND_STATUS_WAITING: return "default";
	default: return "default";
	}
}

enum learnd_model_status learnd_model_status(const struct learnd_model *m, unsigned p, char *why, size_t len)
{
	const struct learnd_bound *b = p < LEARND_PARAM__MAX ? &m->cfg.bound[p] : NULL;
	double n, frac;
	char dummy[1];

	if (!why || !len) {
		why = dummy;
		len = sizeof(dummy);
	}
	if (!b || b->mode == LEARND_BOUND_UNSET) {
		snprintf(why, len, "not configured: the kernel's value");
		return LEARND_STATUS_DEFAULT;
	}
	if (b->mode == LEARND_BOUND_FIXED) {
		snprintf(why, len, "fixed at %u", b->min);
		return LEARND_STATUS_FIXED;
	}
	if (p == LEARND_PARAM_SYN_RTO) {
		struct learnd_model_estimates e;

		learnd_model_estimates(m, &e);
		if (!e.rto_ms) {
			snprintf(why, len, "kernel's %u ms until %.0f handshakes (%.0f so far)", LEARND_KERNEL_SYN_RTO_MS, m->cfg.est_min_samples,
				 e.handshake_n);
			return LEARND_STATUS_WAITING;
		}
		snprintf(why, len, "estimated: p%g handshake %.1f ms, n=%.0f", m->cfg.rto_quantile * 100,
			 e.handshake_q_us / 1000.0, e.handshake_n);
		return LEARND_STATUS_LEARNED;
	}
	if (p == LEARND_PARAM_BASE_RTT) {
		snprintf(why, len, "estimated from min RTTs, never probed (only TCP-NV reads it)");
		return LEARND_STATUS_LEARNED;
	}
	if (m->stream[p].nvalues < 2) {
		snprintf(why, len, "bounds allow one value");
		return LEARND_STATUS_FIXED;
	}
	rel_of(m, NULL, p, &n, &frac);
	if (n < LM_REL_MIN_N) {
		snprintf(why, len, "kernel default until %.0f connections (%.0f so far)", LM_REL_MIN_N, n);
		return LEARND_STATUS_WAITING;
	}
	if (!relevant(m, NULL, p)) {
		snprintf(why, len, "%s more than %u segments (~%u KB) in only %.1f%% of connections",
			 p == LEARND_PARAM_IW ? "sends" : "receives", LEARND_KERNEL_IW, LEARND_KERNEL_IW * 1448 / 1000,
			 100 * frac);
		return LEARND_STATUS_NO_EFFECT;
	}
	snprintf(why, len, "%s more than %u segments in %.0f%% of connections", p == LEARND_PARAM_IW ? "sends" : "receives",
		 LEARND_KERNEL_IW, 100 * frac);
	return LEARND_STATUS_LEARNED;
}

/* ---- export / import ---- */

static void row_add(struct learnd_model_row *rows, size_t max, size_t *n, const struct learnd_model_row *r)
{
	if (*n < max)
		rows[*n] = *r;
	(*n)++;
}

/* Export's rows of the IW and RWND arms, each followed by its cells. */
static void export_arms(const struct learnd_model *m, struct learnd_model_row *rows, size_t max, size_t *np)
{
	struct learnd_model_row r;
	size_t n = *np;

	for (unsigned p = LEARND_PARAM_IW; p <= LEARND_PARAM_RWND; p++) {
		const struct learnd_model_stream *s = &m->stream[p];

		for (unsigned i = 0; i < s->nvalues; i++) {
			struct learnd_model_cell cell[LEARND_MODEL_NCLASSES];
			double an, raw;

			if (!(s->arm[i].n > 0.0))
				continue;
			lm_arm_norm(s, i, &an, &raw, cell);
			memset(&r, 0, sizeof(r));
			r.kind = LEARND_ROW_ARM;
			r.param = (uint8_t)p;
			r.key = s->values[i];
			r.n = an;
			r.sum_raw = raw;
			r.last_ns = s->arm[i].last_ns;
			r.age = s->count - s->arm[i].last_seq;
			row_add(rows, max, &n, &r);
			for (unsigned k = 0; k < LEARND_MODEL_NCLASSES; k++) {
				if (!(cell[k].n > 0.0f))
					continue;
				memset(&r, 0, sizeof(r));
				r.kind = LEARND_ROW_CELL;
				r.param = (uint8_t)p;
				r.key = s->values[i] | k << 16;
				r.n = cell[k].n;
				r.sum = cell[k].s;
				r.sum2 = cell[k].s2;
				row_add(rows, max, &n, &r);
			}
		}
	}
	*np = n;
}

/* Export's rows of the three histograms (handshake, min_rtt, peer window). */
static void export_hists(const struct learnd_model *m, struct learnd_model_row *rows, size_t max, size_t *np)
{
	static const uint8_t hid[3] = { LEARND_HIST_HANDSHAKE, LEARND_HIST_MIN_RTT, LEARND_HIST_PEER_WND };
	const struct learnd_model_qhist *h[3] = { &m->handshake_hist, &m->minrtt, &m->peerwnd };
	struct learnd_model_row r;
	size_t n = *np;

	for (unsigned k = 0; k < 3; k++) {
		float hv[LEARND_MODEL_QBUCKETS];

		lm_qnorm(h[k], hv);
		for (unsigned i = 0; i < LEARND_MODEL_QBUCKETS; i++) {
			if (!(hv[i] > 0.0f))
				continue;
			memset(&r, 0, sizeof(r));
			r.kind = LEARND_ROW_HIST;
			r.param = hid[k];
			r.key = i;
			r.n = hv[i];
			row_add(rows, max, &n, &r);
		}
	}
	*np = n;
}

size_t learnd_model_export(const struct learnd_model *m, struct learnd_model_row *rows, size_t max)
{
	struct learnd_model_row r;
	uint32_t v[LEARND_PARAM__MAX];
	size_t n = 0;

	memset(&r, 0, sizeof(r));
	r.kind = LEARND_ROW_PREFIX;
	r.key = m->decided;
	r.n = (double)m->samples;
	r.sum = (double)m->failed;
	r.sum2 = m->pending;
	r.last_ns = m->last_ns;
	row_add(rows, max, &n, &r);

	v[LEARND_PARAM_IW] = m->stream[LEARND_PARAM_IW].values[m->stream[LEARND_PARAM_IW].inc];
	v[LEARND_PARAM_RWND] = m->stream[LEARND_PARAM_RWND].values[m->stream[LEARND_PARAM_RWND].inc];
	v[LEARND_PARAM_SYN_RTO] = m->pub_rto_ms;
	v[LEARND_PARAM_BASE_RTT] = m->pub_base_rtt_us;
	for (unsigned p = 0; p < LEARND_PARAM__MAX; p++) {
		memset(&r, 0, sizeof(r));
		r.kind = LEARND_ROW_PARAM;
		r.param = (uint8_t)p;
		r.key = v[p];
		if (p <= LEARND_PARAM_RWND)
			r.n = (double)m->stream[p].count;
		if (p == LEARND_PARAM_SYN_RTO) {
			r.sum = m->handshake_hist.aux[0] / m->handshake_hist.w;
			r.sum2 = m->handshake_hist.aux[1] / m->handshake_hist.w;
		}
		row_add(rows, max, &n, &r);
	}
	export_arms(m, rows, max, &n);
	for (unsigned i = 0; i < m->stream[LEARND_PARAM_IW].nvalues; i++) {
		const struct learnd_model_stream *s = &m->stream[LEARND_PARAM_IW];
		double fc = lm_f32(s->fc[i] / s->fw), ft = lm_f32(s->ft[i] / s->fw);

		if (s->nvalues < 2 || !(fc > 0.0 || ft > 0.0))
			continue;
		memset(&r, 0, sizeof(r));
		r.kind = LEARND_ROW_FLIGHT;
		r.param = LEARND_PARAM_IW;
		r.key = s->values[i];
		r.n = fc;
		r.sum = ft;
		row_add(rows, max, &n, &r);
	}
	if (m->rel.all > 0.0) {
		memset(&r, 0, sizeof(r));
		r.kind = LEARND_ROW_REL;
		r.n = m->rel.all / m->rel.w;
		r.sum = m->rel.send / m->rel.w;
		r.sum2 = m->rel.recv / m->rel.w;
		row_add(rows, max, &n, &r);
	}
	export_hists(m, rows, max, &n);
	return n;
}

static bool row_ok(const struct learnd_model_row *r)
{
	return within(r->n, 0, 1e300) && within(r->sum, 0, 1e300) && within(r->sum2, 0, 1e300) &&
	       within(r->sum_raw, 0, 1e300);
}

/* Import's first pass: a prefix or parameter row (the arms' ages need the
 * streams' counts).  1: skipped. */
static int import_head(struct learnd_model *m, const struct learnd_model_row *r)
{
	if (!row_ok(r))
		return 1;
	if (r->kind == LEARND_ROW_PREFIX) {
		if (r->n > 0x1p63 || r->sum > 0x1p63)
			return 1;
		m->decided = r->key != 0;
		m->samples = (uint64_t)r->n;
		m->failed = (uint64_t)r->sum;
		m->pending = (uint32_t)r->sum2 & ((1u << LEARND_PARAM__MAX) - 1);
		m->last_ns = r->last_ns;
	} else if (r->kind == LEARND_ROW_PARAM) {
		if (r->param >= LEARND_PARAM__MAX || r->n > 0x1p63)
			return 1;
		if (r->param <= LEARND_PARAM_RWND) {
			struct learnd_model_stream *s = &m->stream[r->param];
			int j = lm_stream_index(s, r->key);

			s->inc = j >= 0 ? (uint32_t)j : lm_stream_nearest(s, r->key);
			if (j < 0)
				m->pending |= 1u << r->param;
			s->count = (uint64_t)r->n;
		} else {
			const struct learnd_bound *b = &m->cfg.bound[r->param];
			uint32_t v = bound_value(b, r->key);
			uint32_t *pub = r->param == LEARND_PARAM_SYN_RTO ? &m->pub_rto_ms :
									  &m->pub_base_rtt_us;

			if (v != r->key && b->mode == LEARND_BOUND_LEARN)
				m->pending |= 1u << r->param;
			*pub = b->mode == LEARND_BOUND_LEARN ? v : r->key;
			if (r->param == LEARND_PARAM_SYN_RTO) {
				m->handshake_hist.aux[0] = r->sum;
				m->handshake_hist.aux[1] = r->sum2;
			}
		}
	}
	return 0;
}

/* Import's second pass: a statistics row.  1: skipped. */
static int import_stat(struct learnd_model *m, const struct learnd_model_row *r)
{
	if (!row_ok(r) || r->kind == LEARND_ROW_PREFIX || r->kind == LEARND_ROW_PARAM)
		return 0; /* skipped, or taken, by the first pass */
	if (r->kind == LEARND_ROW_ARM && r->param <= LEARND_PARAM_RWND) {
		struct learnd_model_stream *s = &m->stream[r->param];
		int j = s->nvalues >= 2 ? lm_stream_index(s, r->key) : -1;
		struct learnd_model_arm_stat *a;

		if (j < 0)
			return 1;
		a = &s->arm[j];
		a->n = r->n;
		a->raw = r->sum_raw;
		a->last_ns = r->last_ns;
		a->last_seq = s->count - r->age; /* modulo 2^64: age comes back exactly */
	} else if (r->kind == LEARND_ROW_CELL && r->param <= LEARND_PARAM_RWND &&
		   (r->key >> 16) < LEARND_MODEL_NCLASSES && r->n < 1e38 && r->sum < 1e38 &&
		   r->sum2 < 1e38) {
		struct learnd_model_stream *s = &m->stream[r->param];
		int j = s->nvalues >= 2 ? lm_stream_index(s, r->key & 0xffff) : -1;
		struct learnd_model_cell *c;

		if (j < 0)
			return 1;
		c = &s->arm[j].cell[r->key >> 16];
		c->n = (float)r->n;
		c->s = (float)r->sum;
		c->s2 = (float)r->sum2;
	} else if (r->kind == LEARND_ROW_FLIGHT && r->param == LEARND_PARAM_IW && r->n < 1e38 &&
		   r->sum < 1e38) {
		struct learnd_model_stream *s = &m->stream[LEARND_PARAM_IW];
		int j = s->nvalues >= 2 ? lm_stream_index(s, r->key) : -1;

		if (j < 0)
			return 1;
		s->fc[j] = (float)r->n;
		s->ft[j] = (float)r->sum;
	} else if (r->kind == LEARND_ROW_REL && r->param == 0) {
		m->rel.all = r->n;
		m->rel.send = r->sum;
		m->rel.recv = r->sum2;
	} else if (r->kind == LEARND_ROW_HIST && r->param <= LEARND_HIST_PEER_WND &&
		   r->key < LEARND_MODEL_QBUCKETS && r->n < 1e38) {
		struct learnd_model_qhist *h = r->param == LEARND_HIST_HANDSHAKE ? &m->handshake_hist :
					       r->param == LEARND_HIST_MIN_RTT	 ? &m->minrtt :
										   &m->peerwnd;
		h->b[r->key] = (float)r->n;
	} else {
		return 1;
	}
	return 0;
}

int learnd_model_import(struct learnd_model *m, const struct learnd_model_row *rows, size_t n)
{
	int skipped = 0;

	reset_stats(m);
	for (size_t i = 0; i < n; i++)
		skipped += import_head(m, &rows[i]);
	for (size_t i = 0; i < n; i++)
		skipped += import_stat(m, &rows[i]);
	{ /* the cache of the last decision, from what it was made of */
		float wv[LEARND_MODEL_QBUCKETS];
		struct estimates_now e;

		estimate(m, &e, wv);
		m->rtt_floor_us = rtt_floor(m, &e);
	}
	return skipped;
}
