// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit and property tests of the learning model (learner/model/model.h): config
 * checks, the value grid, record filtering, the SYN RTO / BASE_RTT estimators,
 * the safety properties of every decision under random configs and garbage
 * records, export/import, parent borrowing and bounds changes.
 * Convergence on simulated paths is in test_model_sim.c.
 */
#include <errno.h>
#include <stdlib.h>

#include "harness.h"
#include "pathsim.h"

/* States are ~9 KB: keep them off the stack. */
static struct learnd_model A, B, C;

static const uint32_t lim_min[LEARND_PARAM__MAX] = { 1, 1, 4, 1 };
static const uint32_t lim_max[LEARND_PARAM__MAX] = { LEARND_IW_MAX, LEARND_RWND_MAX, LEARND_SYN_RTO_MS_MAX, LEARND_BASE_RTT_US_MAX };

/* A plausible record carrying slot sl of decision d. */
static void rec_from_slot(struct learnd_record *r, const struct learnd_model_decision *d, unsigned sl)
{
	const struct learnd_arm *a = &d->slots[sl];

	memset(r, 0, sizeof(*r));
	r->flags = LEARND_REC_ESTABLISHED | LEARND_REC_APPLIED;
	r->slot = (uint8_t)sl;
	r->iw = a->iw;
	r->rwnd = a->rwnd;
	r->syn_rto_ms = a->syn_rto_ms;
	r->base_rtt_us = a->base_rtt_us;
	r->handshake_us = 10000;
	r->min_rtt_us = 10000;
	r->srtt_us = 12000;
	r->mss = 1448;
	r->snd_wnd = 1000 * 1448;
	r->bytes_acked = 200000;
	r->bytes_received = 200000;
	r->busy_us = 40000;
	r->duration_us = 60000;
}

/* ---- config ---- */

static void test_cfg_check(void)
{
	struct learnd_model_cfg c;
	char err[128];

	learnd_model_cfg_default(&c);
	CHECK(learnd_model_cfg_check(&c, err, sizeof(err)) == 0, "defaults rejected: %s", err);
	bound_learn(&c, LEARND_PARAM_IW, 4, 128);
	bound_learn(&c, LEARND_PARAM_SYN_RTO, 20, 3000);
	CHECK(learnd_model_cfg_check(&c, err, sizeof(err)) == 0, "valid bounds rejected: %s", err);

	bound_learn(&c, LEARND_PARAM_IW, 40, 20);
	CHECK(learnd_model_cfg_check(&c, err, sizeof(err)) == -EINVAL, "min > max accepted");
	CHECK(strstr(err, "iw") != NULL, "message does not name the parameter: %s", err);
	bound_learn(&c, LEARND_PARAM_IW, 4, 2000);
	CHECK(learnd_model_cfg_check(&c, err, sizeof(err)) == -EINVAL, "iw 2000 accepted");
	CHECK(strstr(err, "2000") != NULL, "message does not name the value: %s", err);
	bound_learn(&c, LEARND_PARAM_IW, 4, 128);
	bound_learn(&c, LEARND_PARAM_SYN_RTO, 20, 120000); /* does not fit learnd_arm's __u16 */
	CHECK(learnd_model_cfg_check(&c, err, sizeof(err)) == -EINVAL, "syn_rto 120000 accepted");
	bound_learn(&c, LEARND_PARAM_SYN_RTO, 2, 100);
	CHECK(learnd_model_cfg_check(&c, err, sizeof(err)) == -EINVAL, "syn_rto 2 ms accepted");
	bound_learn(&c, LEARND_PARAM_SYN_RTO, 20, 3000);
	c.bound[LEARND_PARAM_RWND].mode = LEARND_BOUND_FIXED;
	c.bound[LEARND_PARAM_RWND].min = 0;
	CHECK(learnd_model_cfg_check(&c, err, sizeof(err)) == -EINVAL, "fixed 0 accepted");
	c.bound[LEARND_PARAM_RWND].mode = 7;
	CHECK(learnd_model_cfg_check(&c, err, sizeof(err)) == -EINVAL, "bad mode accepted");
	c.bound[LEARND_PARAM_RWND].mode = LEARND_BOUND_UNSET;
	c.z = NAN;
	CHECK(learnd_model_cfg_check(&c, NULL, 0) == -EINVAL, "z NaN accepted");
	c.z = 2;
	c.probe_max_each = 0.5; /* 3 probes at 50% would leave slot 0 nothing */
	CHECK(learnd_model_cfg_check(&c, NULL, 0) == -EINVAL, "probe_max_each 0.5 accepted");
	c.probe_max_each = 0.1;
	c.probe_min_total = 0.0; /* the probe share must never reach 0 */
	CHECK(learnd_model_cfg_check(&c, NULL, 0) == -EINVAL, "probe_min_total 0 accepted");
	c.probe_min_total = 0.05;
	c.window = 1;
	CHECK(learnd_model_cfg_check(&c, NULL, 0) == -EINVAL, "window 1 accepted");
	c.window = 1000;
	CHECK(learnd_model_init(&A, &c) == 0, "init failed");
	c.est_window = 0;
	CHECK(learnd_model_init(&A, &c) == -EINVAL, "init accepted a bad cfg");
}

static void test_allowed_grid(void)
{
	struct learnd_bound b = { LEARND_BOUND_LEARN, 5, 50 };
	static const uint16_t want1[] = { 5, 6, 8, 10, 14, 20, 28, 40, 50 };
	static const uint16_t want2[] = { 4, 6, 8, 10, 14, 20, 28, 40, 56, 80, 112, 128 };
	uint16_t v[LEARND_MODEL_MAX_VALUES];
	unsigned n;

	n = learnd_model_allowed(&b, v);
	CHECK(n == 9 && !memcmp(v, want1, sizeof(want1)), "[5,50]: n=%u v0=%u vlast=%u", n, v[0], v[n - 1]);
	b.min = 4;
	b.max = 128;
	n = learnd_model_allowed(&b, v);
	CHECK(n == 12 && !memcmp(v, want2, sizeof(want2)), "[4,128]: n=%u", n);
	b.min = 1;
	b.max = 1024;
	n = learnd_model_allowed(&b, v);
	CHECK(n == 14 && v[0] == 1 && v[13] == 1024, "[1,1024]: n=%u", n);
	b.min = b.max = 33;
	n = learnd_model_allowed(&b, v);
	CHECK(n == 1 && v[0] == 33, "[33,33]: n=%u v=%u", n, v[0]);
	b.min = 11;
	b.max = 13;
	n = learnd_model_allowed(&b, v);
	CHECK(n == 2 && v[0] == 11 && v[1] == 13, "[11,13]: n=%u", n);
	b.mode = LEARND_BOUND_FIXED;
	n = learnd_model_allowed(&b, v);
	CHECK(n == 1 && v[0] == 11, "fixed: n=%u v=%u", n, v[0]);
	b.mode = LEARND_BOUND_UNSET;
	n = learnd_model_allowed(&b, v);
	CHECK(n == 1 && v[0] == 0, "unset: n=%u v=%u", n, v[0]);
}

static void test_init_values(void)
{
	struct learnd_model_cfg c;
	struct learnd_model_decision d;

	learnd_model_cfg_default(&c);
	learnd_model_init(&A, &c);
	learnd_model_decide(&A, &d);
	CHECK(d.nslots == 1 && d.slots[0].share == LEARND_SHARE_ONE, "all unset: nslots %u", d.nslots);
	CHECK(d.slots[0].iw == 0 && d.slots[0].rwnd == 0 && d.slots[0].syn_rto_ms == 0 &&
		      d.slots[0].base_rtt_us == 0,
	      "all unset: values not 0");
	CHECK(d.why == LEARND_WHY_INIT && strstr(d.text, "init") != NULL, "first decision: why %u '%s'",
	      d.why, d.text);

	bound_learn(&c, LEARND_PARAM_IW, 4, 128);
	bound_learn(&c, LEARND_PARAM_RWND, 20, 40);
	bound_learn(&c, LEARND_PARAM_SYN_RTO, 5, 300);
	bound_learn(&c, LEARND_PARAM_BASE_RTT, 1000, 50000);
	learnd_model_init(&A, &c);
	learnd_model_decide(&A, &d);
	CHECK(d.slots[0].iw == 10, "iw starts at the kernel's 10, got %u", d.slots[0].iw);
	CHECK(d.slots[0].rwnd == 0, "rwnd starts at no reply (0, the kernel's window), got %u", d.slots[0].rwnd);
	CHECK(d.slots[0].syn_rto_ms == 300, "syn rto starts at 1000 clamped to 300, got %u",
	      d.slots[0].syn_rto_ms);
	CHECK(d.slots[0].base_rtt_us == 1000, "base rtt starts at its min, got %u", d.slots[0].base_rtt_us);
	CHECK(d.nslots == 1, "no records yet: nothing is known to matter, no probes; got %u slots", d.nslots);

	c.bound[LEARND_PARAM_IW].mode = LEARND_BOUND_FIXED;
	c.bound[LEARND_PARAM_IW].min = 33;
	c.bound[LEARND_PARAM_RWND].mode = LEARND_BOUND_UNSET;
	learnd_model_init(&A, &c);
	learnd_model_decide(&A, &d);
	CHECK(d.nslots == 1 && d.slots[0].iw == 33 && d.slots[0].rwnd == 0,
	      "fixed iw 33, unset rwnd: nslots %u iw %u rwnd %u", d.nslots, d.slots[0].iw, d.slots[0].rwnd);
}

/* ---- intake ---- */

static void test_observe_filters(void)
{
	struct learnd_model_cfg c;
	struct learnd_model_decision d;
	struct learnd_record r;
	unsigned u;

	learnd_model_cfg_default(&c);
	bound_learn(&c, LEARND_PARAM_IW, 4, 128);
	bound_learn(&c, LEARND_PARAM_RWND, 4, 128);
	learnd_model_init(&A, &c);
	learnd_model_decide(&A, &d);

	rec_from_slot(&r, &d, 0);
	u = learnd_model_observe(&A, &r, 1000);
	CHECK(u == (LEARND_USED_IW | LEARND_USED_RWND | LEARND_USED_HANDSHAKE | LEARND_USED_MIN_RTT),
	      "full record: used 0x%x", u);
	CHECK(learnd_model_samples(&A) == 1 && learnd_model_last_used(&A) == 1000, "samples/last used");

	r.flags = 0; /* never established: counted, nothing learned */
	u = learnd_model_observe(&A, &r, 2000);
	CHECK(u == 0 && A.failed == 1 && learnd_model_last_used(&A) == 2000, "not established: used 0x%x", u);

	rec_from_slot(&r, &d, 0);
	r.flags &= ~LEARND_REC_APPLIED; /* values defaulted: only path properties */
	u = learnd_model_observe(&A, &r, 3000);
	CHECK(u == (LEARND_USED_HANDSHAKE | LEARND_USED_MIN_RTT), "not applied: used 0x%x", u);

	rec_from_slot(&r, &d, 0);
	r.min_rtt_us = 0; /* no RTT: no cost */
	u = learnd_model_observe(&A, &r, 4000);
	CHECK(u == LEARND_USED_HANDSHAKE, "zero min rtt: used 0x%x", u);

	rec_from_slot(&r, &d, 0);
	r.bytes_acked = 4 * 1448; /* fits the smallest IW: no information about IW */
	r.bytes_received = 0;
	u = learnd_model_observe(&A, &r, 5000);
	CHECK(!(u & (LEARND_USED_IW | LEARND_USED_RWND)), "small flow: used 0x%x", u);

	rec_from_slot(&r, &d, 0);
	r.iw = 17; /* a value no longer allowed (old policy) */
	u = learnd_model_observe(&A, &r, 6000);
	CHECK(!(u & LEARND_USED_IW) && (u & LEARND_USED_RWND), "stale iw value: used 0x%x", u);

	rec_from_slot(&r, &d, 0);
	r.flags |= LEARND_REC_ACTIVE; /* handshake_us: from the first SYN to the SYN-ACK */
	r.syn_retrans = 1;
	r.syn_rto_ms = 20;
	r.handshake_us = 25000; /* < rto + min rtt: the reply answered the original SYN */
	u = learnd_model_observe(&A, &r, 7000);
	CHECK((u & LEARND_USED_SPURIOUS) && (u & LEARND_USED_HANDSHAKE), "spurious: used 0x%x", u);
	r.handshake_us = 35000; /* >= rto + min rtt: a real loss, no RTT sample */
	u = learnd_model_observe(&A, &r, 8000);
	CHECK(!(u & (LEARND_USED_SPURIOUS | LEARND_USED_HANDSHAKE)), "real SYN loss: used 0x%x", u);
	r.syn_retrans = 0;
	r.handshake_us = 28000; /* > rto, none of ours: the peer's retransmission rescued it */
	u = learnd_model_observe(&A, &r, 8200);
	CHECK(!(u & (LEARND_USED_SPURIOUS | LEARND_USED_HANDSHAKE)), "rescued handshake: used 0x%x", u);
	r.handshake_us = 15000; /* <= rto: a clean time */
	u = learnd_model_observe(&A, &r, 8300);
	CHECK((u & LEARND_USED_HANDSHAKE) && !(u & LEARND_USED_SPURIOUS), "clean handshake: used 0x%x", u);
	r.syn_rto_ms = 1000; /* the kernel's RTO, no estimate yet */
	r.handshake_us = 310000; /* within it, but 31 round trips: the peer's SYN-ACK timer rescued it */
	u = learnd_model_observe(&A, &r, 8350);
	CHECK(!(u & (LEARND_USED_SPURIOUS | LEARND_USED_HANDSHAKE)), "rescued within our rto: used 0x%x", u);
	r.handshake_us = 30000; /* 3 round trips, below 2.5 + the pad: a slow path, a time */
	u = learnd_model_observe(&A, &r, 8360);
	CHECK((u & LEARND_USED_HANDSHAKE) && !(u & LEARND_USED_SPURIOUS), "slow handshake: used 0x%x", u);
	r.syn_rto_ms = 40;
	r.syn_retrans = 1;
	r.handshake_us = 45000; /* < rto + min rtt, but 4.5 round trips: the peer's copy raced ours */
	u = learnd_model_observe(&A, &r, 8370);
	CHECK((u & LEARND_USED_SPURIOUS) && !(u & LEARND_USED_HANDSHAKE), "raced rescue: used 0x%x", u);
	r.syn_retrans = 0;
	r.syn_rto_ms = 20;
	r.syn_retrans = 1;
	/* passive: handshake_us is the SYN-ACK RTT from the echoed timestamp */
	r.flags &= ~LEARND_REC_ACTIVE;
	r.handshake_us = 10000; /* a round trip: the ACK answered a retransmitted SYN-ACK */
	u = learnd_model_observe(&A, &r, 8500);
	CHECK(!(u & (LEARND_USED_SPURIOUS | LEARND_USED_HANDSHAKE)), "lost SYN-ACK: used 0x%x", u);
	r.handshake_us = 24000; /* >= the rto: it answered the original, only slow */
	u = learnd_model_observe(&A, &r, 8700);
	CHECK((u & LEARND_USED_SPURIOUS) && (u & LEARND_USED_HANDSHAKE), "spurious SYN-ACK: used 0x%x", u);
}

/* Discounting: a value's evidence decays by gamma per record of its stream. */
static void test_discount(void)
{
	struct learnd_model_cfg c;
	struct learnd_model_decision d;
	struct learnd_model_row rows[LEARND_MODEL_MAX_ROWS];
	struct learnd_record r;
	size_t n;
	double n10 = -1, n14 = -1;

	learnd_model_cfg_default(&c);
	bound_learn(&c, LEARND_PARAM_IW, 4, 128);
	c.window = 100;
	learnd_model_init(&A, &c);
	learnd_model_decide(&A, &d);
	rec_from_slot(&r, &d, 0);
	for (int i = 0; i < 1000; i++) { /* n of iw 10 -> 1 / (1 - gamma) = 100 */
		r.busy_us = 30000 + 1000 * (i % 20);
		learnd_model_observe(&A, &r, 0);
	}
	r.iw = 14;
	for (int i = 0; i < 100; i++) { /* one window of another value: 10 decays by e^-1 */
		r.busy_us = 30000 + 1000 * (i % 20);
		learnd_model_observe(&A, &r, 0);
	}
	n = learnd_model_export(&A, rows, LEARND_MODEL_MAX_ROWS);
	for (size_t i = 0; i < n; i++) {
		if (rows[i].kind == LEARND_ROW_ARM && rows[i].param == LEARND_PARAM_IW && rows[i].key == 10)
			n10 = rows[i].n;
		if (rows[i].kind == LEARND_ROW_ARM && rows[i].param == LEARND_PARAM_IW && rows[i].key == 14)
			n14 = rows[i].n;
	}
	CHECK(fabs(n10 - 100.0 * pow(0.99, 100)) < 1.0, "iw 10 discounted n %.2f, want %.2f", n10,
	      100.0 * pow(0.99, 100));
	CHECK(fabs(n14 - 100.0 * (1 - pow(0.99, 100))) < 1.0, "iw 14 discounted n %.2f", n14);
}

/* ---- estimators ---- */

static void hs_record(struct learnd_record *r, uint32_t hs_us, uint32_t min_rtt_us)
{
	memset(r, 0, sizeof(*r));
	r->flags = LEARND_REC_ESTABLISHED | LEARND_REC_APPLIED | LEARND_REC_ACTIVE;
	r->handshake_us = hs_us;
	r->min_rtt_us = min_rtt_us;
	r->mss = 1448;
}

/* handshake ~ 10 ms with jitter: p99 * 1.5 + 8 ms */
static uint32_t hs_sample(struct rng *g)
{
	double x = 10000 + 800 * rng_normal(g);

	if (rng_unif(g) < 0.02) /* a few slow ones */
		x += 4000 * rng_unif(g);
	return x < 5000 ? 5000 : (uint32_t)x;
}

/*
 * Handshakes ~10 ms, a fraction tail_frac of them slow (25..35 ms).  A
 * handshake slower than the applied RTO retransmits its SYN; the reply still
 * answers the original, so the record shows syn_retrans 1 and the true time.
 */
static uint32_t feed_rto(struct learnd_model *m, const struct learnd_model_cfg *c, uint64_t seed,
			 double tail_frac)
{
	struct learnd_model_decision d;
	struct learnd_record r;
	struct rng g;

	rng_seed(&g, seed);
	learnd_model_init(m, c);
	learnd_model_decide(m, &d);
	for (int i = 0; i < 3000; i++) {
		uint32_t t = rng_unif(&g) < tail_frac ? 25000 + rng_below(&g, 10000) : hs_sample(&g);

		hs_record(&r, t, 9000);
		r.syn_rto_ms = d.slots[0].syn_rto_ms;
		r.syn_retrans = t > r.syn_rto_ms * 1000u;
		learnd_model_observe(m, &r, (uint64_t)i);
		if (i % 10 == 9)
			learnd_model_decide(m, &d);
	}
	return d.slots[0].syn_rto_ms;
}

static void test_syn_rto(void)
{
	struct learnd_model_cfg c;
	struct learnd_model_estimates e, e2;
	uint32_t rto, rto_sp;

	learnd_model_cfg_default(&c);
	bound_learn(&c, LEARND_PARAM_SYN_RTO, 4, 3000);
	rto = feed_rto(&A, &c, 1, 0.0);
	learnd_model_estimates(&A, &e);
	printf("    handshake p99 %.1f ms -> syn_rto %u ms\n", e.handshake_q_us / 1000, rto);
	CHECK(rto >= 15 && rto <= 40, "syn rto %u ms for ~10 ms handshakes", rto);
	CHECK(e.handshake_q_us > 11000 && e.handshake_q_us < 16000, "p99 %.0f us", e.handshake_q_us);
	CHECK(e.spurious_rate == 0.0, "spurious rate %g", e.spurious_rate);

	bound_learn(&c, LEARND_PARAM_SYN_RTO, 50, 3000); /* clamped up */
	rto = feed_rto(&A, &c, 1, 0.0);
	CHECK(rto == 50, "lower bound: %u", rto);
	bound_learn(&c, LEARND_PARAM_SYN_RTO, 4, 20); /* clamped down */
	rto = feed_rto(&A, &c, 1, 0.0);
	CHECK(rto == 20, "upper bound: %u", rto);
	c.bound[LEARND_PARAM_SYN_RTO].mode = LEARND_BOUND_FIXED;
	c.bound[LEARND_PARAM_SYN_RTO].min = 777;
	rto = feed_rto(&A, &c, 1, 0.0);
	CHECK(rto == 777, "fixed: %u", rto);

	/* a 10% slow tail (25..35 ms): p99 covers it */
	bound_learn(&c, LEARND_PARAM_SYN_RTO, 4, 3000);
	rto = feed_rto(&A, &c, 1, 0.10);
	printf("    10%% of handshakes 25..35 ms: syn_rto %u ms\n", rto);
	CHECK(rto >= 35, "syn rto %u below the tail", rto);

	/* a median-based RTO sits under the tail: spurious retransmits back it
	 * off, and keep coming back near spurious_max, not at the ~7% they would be */
	c.rto_quantile = 0.5;
	rto = feed_rto(&A, &c, 1, 0.0);
	rto_sp = feed_rto(&B, &c, 1, 0.10);
	learnd_model_estimates(&B, &e);
	c.spurious_max = 1.0; /* no backoff */
	feed_rto(&C, &c, 1, 0.10);
	learnd_model_estimates(&C, &e2);
	printf("    p50 rule, 10%% slow tail: spurious rate %.3f -> syn_rto %u ms (%u without the tail; "
	       "without backoff: spurious rate %.3f, syn_rto %u ms)\n",
	       e.spurious_rate, rto_sp, rto, e2.spurious_rate, C.pub_rto_ms);
	CHECK(rto_sp > rto, "spurious backoff: %u vs %u", rto_sp, rto);
	CHECK(e2.spurious_rate > 0.05, "spurious rate without backoff %.3f", e2.spurious_rate);
	CHECK(e.spurious_rate < 0.6 * e2.spurious_rate && e.spurious_rate < 2 * 0.02,
	      "spurious rate with backoff %.3f", e.spurious_rate);
}

/* SYN RTO learned within 4..3000 ms, model A fresh, rng g seeded */
static void rto_setup(struct learnd_model_cfg *c, struct rng *g, uint64_t seed)
{
	learnd_model_cfg_default(c);
	bound_learn(c, LEARND_PARAM_SYN_RTO, 4, 3000);
	rng_seed(g, seed);
	learnd_model_init(&A, c);
}

/*
 * Both ends lose 20% of their SYNs and SYN-ACKs on a 10 ms path; the peer
 * resends a lost SYN-ACK peer_ms after it got the SYN, and whichever answer
 * comes first ends our handshake.  A fraction queued of our connections show a
 * min RTT of 25 ms (every sample queued behind another's flight).  n
 * handshakes from the kernel's 1 s; returns our SYN RTO at the end, *worst the
 * highest after the first 1000.
 */
static uint32_t two_ends(uint64_t seed, uint32_t peer_ms, double queued, int n, uint32_t *worst)
{
	struct learnd_model_cfg c;
	struct learnd_model_decision d;
	struct learnd_record r;
	struct rng g;

	rto_setup(&c, &g, seed);
	learnd_model_decide(&A, &d);
	*worst = 0;
	for (int i = 0; i < n; i++) {
		uint32_t rto = d.slots[0].syn_rto_ms, t = hs_sample(&g), rtt = t > 9000 ? t : 9000;
		uint32_t ours = rto * 1000u + rtt, peer = peer_ms * 1000u + rtt;

		hs_record(&r, t, rng_unif(&g) < queued ? 25000 : 9000);
		r.syn_rto_ms = rto;
		if (rng_unif(&g) < 0.2) { /* our SYN lost: our retransmission answered */
			r.syn_retrans = 1;
			r.handshake_us = ours;
		} else if (rng_unif(&g) < 0.2) { /* the SYN-ACK lost: the first answer wins */
			r.syn_retrans = rto * 1000u < peer;
			r.handshake_us = ours < peer ? ours : peer;
		}
		learnd_model_observe(&A, &r, (uint64_t)i);
		if (i % 10 == 9)
			learnd_model_decide(&A, &d);
		if (i >= 1000 && d.slots[0].syn_rto_ms > *worst)
			*worst = d.slots[0].syn_rto_ms;
	}
	return d.slots[0].syn_rto_ms;
}

/* The peer's RTO is 300 ms: its resent SYN-ACKs answer before our 1 s fires.
 * As times (310 ms on a 10 ms path) they would hold our RTO at ~470 ms, above
 * the peer's, so that every lost SYN-ACK kept costing 310 ms. */
static void test_syn_rto_rescued(void)
{
	uint32_t worst, rto = two_ends(7, 300, 0.0, 400, &worst);

	printf("    peer rescues at 300 ms: syn_rto %u ms\n", rto);
	CHECK(rto <= 40, "syn rto %u ms with rescued handshakes", rto);
}

/* The peer's RTO is 49 ms, and 5% of our connections read a queued min RTT.
 * Where our RTO is a little above the peer's, its resent SYN-ACK arrives after
 * our retransmission but before an answer to it could: it looks spurious.  As
 * a time (~60 ms) it raised our p99 and RTO to ~90 ms, above the peer's. */
static void test_syn_rto_race(void)
{
	uint32_t worst, rto = two_ends(11, 49, 0.05, 3000, &worst);

	printf("    peer's SYN-ACK RTO 49 ms: our syn_rto %u ms (at most %u after 1000 handshakes)\n", rto, worst);
	CHECK(worst <= 45, "syn rto rose to %u ms, above the peer's", worst);
}

/* A child of a parent whose handshakes take 200 ms keeps the parent's RTO
 * until it has handshakes of its own, then its own: 40 of 10 ms. */
static void test_syn_rto_child(void)
{
	struct learnd_model_cfg c;
	struct learnd_model_decision d;
	struct learnd_record r;
	struct rng g;

	rto_setup(&c, &g, 5);
	for (int i = 0; i < 300; i++) {
		hs_record(&r, 200000 + hs_sample(&g), 200000);
		learnd_model_observe(&A, &r, (uint64_t)i);
	}
	learnd_model_decide(&A, &d);
	learnd_model_init_from_parent(&B, &c, &A);
	learnd_model_decide(&B, &d);
	CHECK(d.slots[0].syn_rto_ms == A.pub_rto_ms && A.pub_rto_ms > 300, "child starts at the parent's %u: %u",
	      A.pub_rto_ms, d.slots[0].syn_rto_ms);
	for (int i = 0; i < 40; i++) {
		hs_record(&r, hs_sample(&g), 9000);
		r.syn_rto_ms = d.slots[0].syn_rto_ms;
		learnd_model_observe(&B, &r, (uint64_t)i);
		learnd_model_decide(&B, &d);
	}
	printf("    child of a 200 ms parent after 40 handshakes of 10 ms: syn_rto %u ms\n", d.slots[0].syn_rto_ms);
	CHECK(d.slots[0].syn_rto_ms <= 40, "child syn rto %u ms", d.slots[0].syn_rto_ms);
}

static void test_base_rtt(void)
{
	struct learnd_model_cfg c;
	struct learnd_model_decision d;
	struct learnd_record r;
	struct rng g;
	long moved = -1;

	learnd_model_cfg_default(&c);
	bound_learn(&c, LEARND_PARAM_BASE_RTT, 1, 10000000);
	learnd_model_init(&A, &c);
	learnd_model_decide(&A, &d);
	rng_seed(&g, 7);
	for (int i = 0; i < 3000; i++) { /* min rtt uniform 20..40 ms: p10 = 22 ms */
		hs_record(&r, 25000, 20000 + rng_below(&g, 20000));
		learnd_model_observe(&A, &r, (uint64_t)i);
		if (i % 10 == 9)
			learnd_model_decide(&A, &d);
	}
	printf("    min rtt U(20,40) ms: base_rtt %u us (p10 22000)\n", d.slots[0].base_rtt_us);
	CHECK(fabs(d.slots[0].base_rtt_us - 22000.0) < 0.05 * 22000, "base rtt %u", d.slots[0].base_rtt_us);

	for (int i = 0; i < 6000; i++) { /* the path moves: U(50,70) ms, p10 = 52 ms */
		hs_record(&r, 55000, 50000 + rng_below(&g, 20000));
		learnd_model_observe(&A, &r, (uint64_t)i);
		if (i % 10 == 9) {
			learnd_model_decide(&A, &d);
			if (moved < 0 && d.slots[0].base_rtt_us > 0.9 * 52000)
				moved = i + 1;
		}
	}
	printf("    path 20->50 ms: base_rtt within 10%% of the new p10 after %ld samples\n", moved);
	CHECK(moved > 0 && moved <= 3000, "base rtt followed after %ld samples", moved);
	CHECK(fabs(d.slots[0].base_rtt_us - 52000.0) < 0.1 * 52000, "base rtt %u", d.slots[0].base_rtt_us);

	bound_learn(&c, LEARND_PARAM_BASE_RTT, 1, 30000);
	learnd_model_set_cfg(&A, &c);
	learnd_model_decide(&A, &d);
	CHECK(d.slots[0].base_rtt_us == 30000 && d.why == LEARND_WHY_BOUNDS, "clamped: %u why %u",
	      d.slots[0].base_rtt_us, d.why);
}

/* ---- decisions: safety properties ---- */

/* m: the model that decided (which parameters it may probe: learnable and
 * relevant, learnd_model_probed()) */
static int check_decision(const struct learnd_model_cfg *c, const struct learnd_model_decision *d,
			  const struct learnd_model *m, const char *ctx)
{
	int bad = 0;
	uint32_t sum = 0, probe = 0;
	uint32_t v[LEARND_MAX_SLOTS][LEARND_PARAM__MAX];
	unsigned probed = learnd_model_probed(m);
	bool learnable = probed != 0;
	for (unsigned p = LEARND_PARAM_IW; p <= LEARND_PARAM_RWND; p++)
		if ((probed & (1u << p)) && m->stream[p].nvalues < 2) {
			CHECK(0, "%s: probes param %u with one value", ctx, p);
			bad = 1;
		}
#define BAD(cond, ...)                                                                             \
	do {                                                                                       \
		if (cond) {                                                                        \
			CHECK(!(cond), __VA_ARGS__);                                               \
			bad = 1;                                                                   \
		}                                                                                  \
	} while (0)
	BAD(d->nslots < 1 || d->nslots > LEARND_MAX_SLOTS, "%s: nslots %u", ctx, d->nslots);
	if (bad)
		return bad;
	for (unsigned i = 0; i < d->nslots; i++) {
		const struct learnd_arm *a = &d->slots[i];

		v[i][LEARND_PARAM_IW] = a->iw;
		v[i][LEARND_PARAM_RWND] = a->rwnd;
		v[i][LEARND_PARAM_SYN_RTO] = a->syn_rto_ms;
		v[i][LEARND_PARAM_BASE_RTT] = a->base_rtt_us;
		BAD(a->share == 0, "%s: slot %u share 0", ctx, i);
		sum += a->share;
		if (i)
			probe += a->share;
		for (unsigned p = 0; p < LEARND_PARAM__MAX; p++) {
			const struct learnd_bound *b = &c->bound[p];

			if (b->mode == LEARND_BOUND_UNSET)
				BAD(v[i][p] != 0, "%s: slot %u param %u unset but %u", ctx, i, p, v[i][p]);
			else if (b->mode == LEARND_BOUND_FIXED)
				BAD(v[i][p] != b->min, "%s: slot %u param %u fixed %u but %u", ctx, i, p,
				    b->min, v[i][p]);
			else if (!(p == LEARND_PARAM_RWND && v[i][p] == 0)) /* rwnd 0: no reply, the kernel's */
				BAD(v[i][p] < b->min || v[i][p] > b->max,
				    "%s: slot %u param %u = %u outside [%u,%u]", ctx, i, p, v[i][p], b->min,
				    b->max);
		}
		if (i) {
			unsigned diff = 0;

			for (unsigned p = 0; p < LEARND_PARAM__MAX; p++)
				diff += v[i][p] != v[0][p];
			BAD(diff != 1 || (v[i][2] != v[0][2]) || (v[i][3] != v[0][3]),
			    "%s: probe %u differs in %u params", ctx, i, diff);
			for (unsigned p = LEARND_PARAM_IW; p <= LEARND_PARAM_RWND; p++)
				BAD(v[i][p] != v[0][p] && !(probed & (1u << p)),
				    "%s: probe %u probes param %u, which has no effect here", ctx, i, p);
			for (unsigned j = 1; j < i; j++)
				BAD(!memcmp(v[i], v[j], sizeof(v[i])), "%s: probes %u and %u equal", ctx, j, i);
		}
	}
	BAD(sum != LEARND_SHARE_ONE, "%s: shares sum to %u", ctx, sum);
	BAD(learnable && (d->nslots < 2 || probe == 0), "%s: learnable but probe share %u", ctx, probe);
	BAD(!learnable && d->nslots != 1, "%s: nothing learnable but %u slots", ctx, d->nslots);
	if (d->nslots > 1) {
		double np = d->nslots - 1;

		BAD(probe > np * (c->probe_max_each * LEARND_SHARE_ONE + 1),
		    "%s: probes %u > max %g each", ctx, probe, c->probe_max_each);
		/* maintenance probes known to lose run at a quarter (LM_OVER_WEIGHT) */
		BAD(probe + np < 0.25 * c->probe_min_total * LEARND_SHARE_ONE, "%s: probes %u < min %g total / 4", ctx,
		    probe, c->probe_min_total);
	}
#undef BAD
	return bad;
}

static uint32_t rnd_in(struct rng *g, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rng_u64(g) % ((uint64_t)hi - lo + 1));
}

static double rnd_d(struct rng *g, double lo, double hi)
{
	return lo + (hi - lo) * rng_unif(g);
}

static void random_cfg(struct rng *g, struct learnd_model_cfg *c)
{
	static const uint32_t typical[LEARND_PARAM__MAX] = { 200, 200, 5000, 1000000 };

	learnd_model_cfg_default(c);
	for (unsigned p = 0; p < LEARND_PARAM__MAX; p++) {
		struct learnd_bound *b = &c->bound[p];
		uint32_t hi = rng_below(g, 2) ? typical[p] : lim_max[p];

		b->mode = rng_below(g, 4); /* UNSET, FIXED, LEARN, LEARN */
		if (b->mode > LEARND_BOUND_LEARN)
			b->mode = LEARND_BOUND_LEARN;
		b->min = rnd_in(g, lim_min[p], hi);
		b->max = rng_below(g, 5) ? rnd_in(g, b->min, hi) : b->min;
		if (b->mode == LEARND_BOUND_FIXED)
			b->max = b->min;
	}
	if (rng_below(g, 2)) { /* random knobs, within their valid ranges */
		c->window = rnd_in(g, 2, 3000);
		c->est_window = rnd_in(g, 2, 3000);
		c->probe_max_each = rnd_d(g, 0.0001, 0.3);
		c->probe_min_total = rnd_d(g, 1.0 / LEARND_SHARE_ONE, c->probe_max_each);
		if (rng_below(g, 4) == 0) /* the edges: the smallest share there is */
			c->probe_min_total = 1.0 / LEARND_SHARE_ONE;
		if (rng_below(g, 4) == 0)
			c->probe_max_each = c->probe_min_total;
		c->retrans_penalty = rnd_d(g, 0, 5);
		c->cost_clip = rnd_d(g, 1, 20);
		c->z = rnd_d(g, 0, 5);
		c->margin = rnd_d(g, 0, 0.5);
		c->n_min = rnd_d(g, 1, 50);
		c->cap_frac = rnd_d(g, 0.01, 1);
		c->min_bytes = rng_below(g, 100000);
		c->iw_time = rng_below(g, 2);
		c->rto_quantile = rnd_d(g, 0.5, 0.999);
		c->rto_margin = rnd_d(g, 1, 3);
		c->rto_pad_ms = rnd_d(g, 0, 50);
		c->spurious_max = rnd_d(g, 0.001, 0.5);
		c->est_min_samples = rnd_d(g, 1, 50);
		c->base_rtt_quantile = rnd_d(g, 0, 0.5);
		c->est_hysteresis = rnd_d(g, 0, 0.5);
		c->borrow_n = rnd_d(g, 0, 20);
	}
}

static uint64_t rnd_wild(struct rng *g)
{
	switch (rng_below(g, 6)) {
	case 0:
		return 0;
	case 1:
		return UINT64_MAX;
	case 2:
		return UINT32_MAX;
	case 3:
		return rng_u64(g);
	default:
		return rng_below(g, 2000000);
	}
}

static void random_record(struct rng *g, const struct learnd_model_decision *d, struct learnd_record *r)
{
	unsigned kind = rng_below(g, 10);

	if (kind == 0) { /* pure garbage */
		for (size_t i = 0; i < sizeof(*r); i++)
			((uint8_t *)r)[i] = (uint8_t)rng_u64(g);
		return;
	}
	rec_from_slot(r, d, rng_below(g, d->nslots));
	r->flags = (uint16_t)(LEARND_REC_ESTABLISHED | LEARND_REC_APPLIED |
			      (rng_below(g, 2) ? LEARND_REC_ACTIVE : 0));
	r->min_rtt_us = 500 + rng_below(g, 200000);
	r->handshake_us = r->min_rtt_us + rng_below(g, 100000);
	r->busy_us = rng_below(g, 4000000);
	r->duration_us = r->busy_us + rng_below(g, 4000000);
	r->bytes_acked = rng_below(g, 8000000);
	r->bytes_received = rng_below(g, 8000000);
	r->total_retrans = rng_below(g, 5) ? 0 : rng_below(g, 50);
	r->syn_retrans = rng_below(g, 20) ? 0 : rng_below(g, 4);
	r->snd_wnd = rng_below(g, 3000000);
	if (kind == 1) { /* plausible shape, extreme numbers */
		r->min_rtt_us = (uint32_t)rnd_wild(g);
		r->handshake_us = (uint32_t)rnd_wild(g);
		r->busy_us = rnd_wild(g);
		r->duration_us = rnd_wild(g);
		r->bytes_acked = rnd_wild(g);
		r->bytes_received = rnd_wild(g);
		r->total_retrans = (uint32_t)rnd_wild(g);
		r->syn_retrans = (uint32_t)rnd_wild(g);
		r->snd_wnd = (uint32_t)rnd_wild(g);
		r->mss = (uint32_t)rnd_wild(g);
		r->syn_rto_ms = (uint16_t)rnd_wild(g);
	} else if (kind == 2) { /* values of no current slot */
		r->iw = (uint16_t)rng_u64(g);
		r->rwnd = (uint16_t)rng_below(g, 200);
	} else if (kind == 3) {
		r->flags = (uint16_t)rng_u64(g);
	}
}

/* Random bounds, knobs and record streams (garbage included), with bounds
 * changes, export/import and parent borrowing mid-stream: every decision must
 * keep the safety properties. */
static void test_property_random(void)
{
	struct learnd_model_row *rows = malloc(sizeof(*rows) * LEARND_MODEL_MAX_ROWS);
	struct learnd_model_decision d;
	struct learnd_model_cfg c, c2;
	struct learnd_record r;
	struct rng g;
	long decisions = 0, records = 0;
	int failures = 0;

	rng_seed(&g, 42);
	for (int it = 0; it < 400 && failures < 5; it++) {
		struct learnd_model *m = &A;
		char ctx[64];

		random_cfg(&g, &c);
		CHECK(learnd_model_cfg_check(&c, NULL, 0) == 0, "random cfg %d invalid", it);
		learnd_model_init(m, &c);
		learnd_model_decide(m, &d);
		snprintf(ctx, sizeof(ctx), "cfg %d init", it);
		failures += check_decision(&c, &d, m, ctx);
		for (int k = 0; k < 1500 && failures < 5; k++) {
			random_record(&g, &d, &r);
			learnd_model_observe(m, &r, (uint64_t)k * 1000);
			records++;
			if (rng_below(&g, 8))
				continue;
			switch (rng_below(&g, 40)) {
			case 0: /* new bounds */
				random_cfg(&g, &c);
				learnd_model_set_cfg(m, &c);
				break;
			case 1: { /* restart: export, import into a fresh state */
				struct learnd_model *o = m == &A ? &B : &A;
				size_t n = learnd_model_export(m, rows, LEARND_MODEL_MAX_ROWS);

				CHECK(n <= LEARND_MODEL_MAX_ROWS, "export %zu rows", n);
				learnd_model_init(o, &c);
				CHECK(learnd_model_import(o, rows, n) == 0, "import of own export skipped rows");
				m = o;
				break;
			}
			case 2: /* a child borrowing from this prefix, with its own bounds */
				random_cfg(&g, &c2);
				learnd_model_init_from_parent(&C, &c2, m);
				learnd_model_decide(&C, &d);
				failures += check_decision(&c2, &d, &C, "child");
				break;
			default:
				break;
			}
			learnd_model_decide(m, &d);
			decisions++;
			snprintf(ctx, sizeof(ctx), "cfg %d record %d", it, k);
			failures += check_decision(&c, &d, m, ctx);
		}
	}
	printf("    %ld records, %ld decisions checked\n", records, decisions);
	CHECK(decisions > 50000, "only %ld decisions", decisions);
	free(rows);
}

/* ---- persistence ---- */

/* Feed a state from a random config with plausible records (decisions every 10). */
static void grow(struct learnd_model *m, struct rng *g, int n)
{
	struct learnd_model_decision d;
	struct learnd_record r;

	learnd_model_decide(m, &d);
	for (int k = 0; k < n; k++) {
		rec_from_slot(&r, &d, pick_slot(&d, g));
		r.min_rtt_us = 20000 + rng_below(g, 5000);
		r.handshake_us = r.min_rtt_us + rng_below(g, 3000);
		r.bytes_acked = 1000 + rng_below(g, 2000000);
		r.bytes_received = 1000 + rng_below(g, 2000000);
		r.busy_us = (uint64_t)(r.min_rtt_us * (1.0 + 4.0 * rng_unif(g)) * (r.iw > 20 ? 0.8 : 1.0));
		r.duration_us = r.busy_us + rng_below(g, 50000);
		r.snd_wnd = (30 + rng_below(g, 100)) * 1448;
		learnd_model_observe(m, &r, (uint64_t)k * 1000);
		if (k % 10 == 9)
			learnd_model_decide(m, &d);
	}
}

static void test_export_import(void)
{
	struct learnd_model_row *rows = malloc(sizeof(*rows) * LEARND_MODEL_MAX_ROWS);
	struct learnd_model_row *rows2 = malloc(sizeof(*rows) * LEARND_MODEL_MAX_ROWS);
	struct learnd_model_decision da, db;
	struct learnd_model_cfg c;
	struct rng g;
	int same = 0, tried = 0;
	size_t maxrows = 0;

	rng_seed(&g, 99);
	for (int it = 0; it < 60; it++) {
		size_t n, n2;

		random_cfg(&g, &c);
		if (it % 2) { /* half with everything learnable */
			bound_learn(&c, LEARND_PARAM_IW, 4, 128);
			bound_learn(&c, LEARND_PARAM_RWND, 4, 128);
			bound_learn(&c, LEARND_PARAM_SYN_RTO, 4, 3000);
			bound_learn(&c, LEARND_PARAM_BASE_RTT, 1, 1000000);
		}
		learnd_model_init(&A, &c);
		grow(&A, &g, 500 + (int)rng_below(&g, 4000));
		n = learnd_model_export(&A, rows, LEARND_MODEL_MAX_ROWS);
		maxrows = n > maxrows ? n : maxrows;
		learnd_model_init(&B, &c);
		CHECK(learnd_model_import(&B, rows, n) == 0, "import skipped rows");
		/* the same policy comes back, bit for bit, twice in a row */
		for (int rep = 0; rep < 2; rep++) {
			learnd_model_decide(&A, &da);
			learnd_model_decide(&B, &db);
			tried++;
			same += !memcmp(&da, &db, sizeof(da));
			if (memcmp(&da, &db, sizeof(da)))
				printf("    differ: '%s' vs '%s'\n", da.text, db.text);
		}
		/* and exporting the imported state gives the same rows, bit for bit */
		n = learnd_model_export(&A, rows, LEARND_MODEL_MAX_ROWS);
		n2 = learnd_model_export(&B, rows2, LEARND_MODEL_MAX_ROWS);
		for (size_t i = 0; i < n && i < n2; i++) /* the first row that differs, if any */
			if (memcmp(&rows[i], &rows2[i], sizeof(rows[i]))) {
				printf("    row %zu (kind %u, key %u) differs: n %.17g vs %.17g\n", i, rows[i].kind,
				       rows[i].key, rows[i].n, rows2[i].n);
				break;
			}
		CHECK(n2 == n && !memcmp(rows, rows2, n * sizeof(*rows)), "re-export %zu rows vs %zu", n2, n);
	}

	/* staleness survives a restart: iw 20 looked better, then went unsampled */
	{
		struct learnd_record r;
		size_t n;

		learnd_model_cfg_default(&c);
		bound_learn(&c, LEARND_PARAM_IW, 4, 128);
		c.window = 100; /* stale after 50 records */
		c.n_clean = 1e6; /* the time statistics alone: absorbed flights would move it */
		learnd_model_init(&A, &c);
		learnd_model_decide(&A, &da);
		rec_from_slot(&r, &da, 0);
		for (int k = 0; k < 260; k++) {
			r.iw = k < 200 && (k & 1) ? 20 : 10;
			r.busy_us = (r.iw == 20 ? 30000 : 60000) + 1000 * (k % 7);
			learnd_model_observe(&A, &r, 0);
		}
		n = learnd_model_export(&A, rows, LEARND_MODEL_MAX_ROWS);
		learnd_model_init(&B, &c);
		learnd_model_import(&B, rows, n);
		learnd_model_decide(&A, &da);
		learnd_model_decide(&B, &db);
		CHECK(da.slots[0].iw == 10 && db.slots[0].iw == 10, "stale 20 won: %u / %u", da.slots[0].iw,
		      db.slots[0].iw);
		CHECK(!memcmp(&da, &db, sizeof(da)), "stale state: '%s' vs '%s'", da.text, db.text);
	}
	printf("    %d/%d decisions identical after export/import, up to %zu rows per prefix\n", same, tried,
	       maxrows);
	CHECK(same == tried, "%d/%d identical", same, tried);

	/* truncated export reports the size it needs */
	learnd_model_init(&A, &c);
	grow(&A, &g, 300);
	{
		size_t need = learnd_model_export(&A, rows, LEARND_MODEL_MAX_ROWS);
		size_t got = learnd_model_export(&A, rows, 3);

		CHECK(got == need && need > 3, "truncated export: %zu vs %zu", got, need);
	}
	free(rows);
	free(rows2);
}

static void test_import_garbage(void)
{
	struct learnd_model_row *rows = malloc(sizeof(*rows) * LEARND_MODEL_MAX_ROWS);
	struct learnd_model_decision d;
	struct learnd_model_cfg c;
	struct rng g;
	size_t n;
	int skipped;

	rng_seed(&g, 5);
	learnd_model_cfg_default(&c);
	bound_learn(&c, LEARND_PARAM_IW, 4, 128);
	bound_learn(&c, LEARND_PARAM_RWND, 4, 128);
	bound_learn(&c, LEARND_PARAM_SYN_RTO, 4, 3000);
	learnd_model_init(&A, &c);
	grow(&A, &g, 2000);
	n = learnd_model_export(&A, rows, LEARND_MODEL_MAX_ROWS);
	rows[1].n = NAN;        /* a corrupt row */
	rows[2].kind = 99;      /* an unknown kind */
	rows[3].sum = -1;       /* negative sum */
	/* bounds narrowed since the rows were written: iw 4..20 */
	bound_learn(&c, LEARND_PARAM_IW, 4, 20);
	learnd_model_init(&B, &c);
	skipped = learnd_model_import(&B, rows, n);
	CHECK(skipped >= 3, "skipped %d rows", skipped);
	learnd_model_decide(&B, &d);
	check_decision(&c, &d, &B, "import garbage");
	CHECK(d.slots[0].iw <= 20, "iw %u outside the new bounds", d.slots[0].iw);

	/* fully random rows */
	for (int it = 0; it < 200; it++) {
		for (size_t i = 0; i < 64; i++)
			for (size_t j = 0; j < sizeof(rows[i]); j++)
				((uint8_t *)&rows[i])[j] = (uint8_t)rng_u64(&g);
		learnd_model_init(&B, &c);
		learnd_model_import(&B, rows, 64);
		learnd_model_decide(&B, &d);
		if (check_decision(&c, &d, &B, "random rows"))
			break;
	}
	free(rows);
}

/* ---- prefixes ---- */

/* Costs on a shallow path: IW above 16 loses the excess of its first flight. */
static void shallow_record(struct learnd_record *r, const struct learnd_model_decision *d, struct rng *g)
{
	unsigned sl = pick_slot(d, g);
	struct sim_path p;

	sim_path_shallow(&p);
	sim_record(&p, g, &d->slots[sl], sl, 0, r);
}

/* n records of the shallow path into m, deciding (into *d) every 10th: m learns
 * the shallow path's IW (14) */
static void learn_shallow(struct learnd_model *m, struct learnd_model_decision *d, struct rng *g, int n)
{
	struct learnd_record r;

	for (int k = 0; k < n; k++) {
		shallow_record(&r, d, g);
		learnd_model_observe(m, &r, 0);
		if (k % 10 == 9)
			learnd_model_decide(m, d);
	}
}

static void test_parent_borrow(void)
{
	struct learnd_model_decision d;
	struct learnd_model_cfg c;
	struct learnd_model_row rows[LEARND_MODEL_MAX_ROWS];
	struct learnd_record r;
	struct sim_path deep;
	struct rng g;
	long moved = -1;
	size_t n;
	double maxn = 0;

	learnd_model_cfg_default(&c);
	bound_learn(&c, LEARND_PARAM_IW, 4, 128);
	bound_learn(&c, LEARND_PARAM_SYN_RTO, 4, 3000);
	learnd_model_init(&A, &c);
	rng_seed(&g, 3);
	learnd_model_decide(&A, &d);
	learn_shallow(&A, &d, &g, 4000);
	CHECK(d.slots[0].iw == 14, "parent learned iw %u on the shallow path", d.slots[0].iw);

	/* the child starts where the parent is ... */
	learnd_model_init_from_parent(&B, &c, &A);
	learnd_model_decide(&B, &d);
	CHECK(d.slots[0].iw == 14, "child starts at iw %u", d.slots[0].iw);
	CHECK(d.slots[0].syn_rto_ms == A.pub_rto_ms, "child syn rto %u vs parent %u", d.slots[0].syn_rto_ms,
	      A.pub_rto_ms);
	n = learnd_model_export(&B, rows, LEARND_MODEL_MAX_ROWS);
	for (size_t i = 0; i < n; i++)
		if (rows[i].kind == LEARND_ROW_ARM)
			maxn = rows[i].n > maxn ? rows[i].n : maxn;
	CHECK(maxn > 0 && maxn <= c.borrow_n + 1e-9, "borrowed evidence %.2f > %g", maxn, c.borrow_n);

	/* ... but its own evidence (a deep path) soon wins */
	sim_path_deep(&deep);
	for (int k = 0; k < 4000 && moved < 0; k++) {
		unsigned sl = pick_slot(&d, &g);

		sim_record(&deep, &g, &d.slots[sl], sl, 0, &r);
		learnd_model_observe(&B, &r, 0);
		if (k % 10 == 9) {
			learnd_model_decide(&B, &d);
			if (d.slots[0].iw > 14)
				moved = k + 1;
		}
	}
	printf("    child of a shallow parent left iw 14 after %ld samples of its own deep path\n", moved);
	CHECK(moved > 0 && moved <= 1000, "child moved after %ld", moved);
}

static void test_set_cfg(void)
{
	struct learnd_model_decision d;
	struct learnd_model_cfg c;
	struct rng g;

	learnd_model_cfg_default(&c);
	bound_learn(&c, LEARND_PARAM_IW, 4, 128);
	learnd_model_init(&A, &c);
	rng_seed(&g, 11);
	learnd_model_decide(&A, &d);
	learn_shallow(&A, &d, &g, 3000);
	CHECK(d.slots[0].iw == 14, "learned iw %u", d.slots[0].iw);

	/* an operator pins iw to 40: fixed, no probes */
	c.bound[LEARND_PARAM_IW].mode = LEARND_BOUND_FIXED;
	c.bound[LEARND_PARAM_IW].min = 40;
	learnd_model_set_cfg(&A, &c);
	learnd_model_decide(&A, &d);
	CHECK(d.slots[0].iw == 40 && d.nslots == 1 && d.why == LEARND_WHY_BOUNDS,
	      "pinned: iw %u nslots %u why %u '%s'", d.slots[0].iw, d.nslots, d.why, d.text);

	/* unpinned into narrower bounds: the incumbent is snapped into them */
	bound_learn(&c, LEARND_PARAM_IW, 20, 64);
	learnd_model_set_cfg(&A, &c);
	learnd_model_decide(&A, &d);
	CHECK(d.slots[0].iw == 40 && d.why == LEARND_WHY_NONE, "unpinned keeps 40: iw %u why %u",
	      d.slots[0].iw, d.why);
	check_decision(&c, &d, &A, "narrow bounds");
	bound_learn(&c, LEARND_PARAM_IW, 4, 12);
	learnd_model_set_cfg(&A, &c);
	learnd_model_decide(&A, &d);
	CHECK(d.slots[0].iw == 12 && d.why == LEARND_WHY_BOUNDS, "snapped: iw %u why %u", d.slots[0].iw,
	      d.why);
	check_decision(&c, &d, &A, "snapped");
}

/* The reason of a switch names the values, the costs and the evidence. */
static void test_reason(void)
{
	struct learnd_model_decision d;
	struct learnd_model_cfg c;
	struct learnd_record r;
	struct sim_path deep;
	struct rng g;
	int found = 0;

	learnd_model_cfg_default(&c);
	bound_learn(&c, LEARND_PARAM_IW, 4, 128);
	learnd_model_init(&A, &c);
	sim_path_deep(&deep);
	rng_seed(&g, 17);
	learnd_model_decide(&A, &d);
	for (int k = 0; k < 3000 && !found; k++) {
		unsigned sl = pick_slot(&d, &g);

		sim_record(&deep, &g, &d.slots[sl], sl, 0, &r);
		learnd_model_observe(&A, &r, 0);
		if (k % 10 == 9) {
			learnd_model_decide(&A, &d);
			if (d.why == LEARND_WHY_EVIDENCE) {
				found = 1;
				printf("    first switch after %d samples: %s\n", k + 1, d.text);
				CHECK(strstr(d.text, "iw 10->") &&
					      ((strstr(d.text, "rtts") && strstr(d.text, "n=")) ||
					       (strstr(d.text, "initial flights") && strstr(d.text, "absorbed"))),
				      "reason '%s'", d.text);
				CHECK(d.changed == 1u << LEARND_PARAM_IW, "changed 0x%x", d.changed);
			}
		}
	}
	CHECK(found, "no switch on a deep path");
}

/* ABI 2 records: weights, flights the kernel ran on another IW, relevance, tail loss. */
static void test_v2_records(void)
{
	struct learnd_model_cfg c;
	struct learnd_model_decision d;
	struct learnd_model_estimates ea, eb;
	struct learnd_record r;
	unsigned u;
	char why[200];

	learnd_model_cfg_default(&c);
	bound_learn(&c, LEARND_PARAM_IW, 4, 128);
	bound_learn(&c, LEARND_PARAM_RWND, 10, 256);
	bound_learn(&c, LEARND_PARAM_SYN_RTO, 20, 1000);

	/* a record of weight 10 counts as 10 records (0 counts as 1) */
	learnd_model_init(&A, &c);
	learnd_model_init(&B, &c);
	learnd_model_decide(&A, &d);
	rec_from_slot(&r, &d, 0);
	for (int k = 0; k < 10; k++)
		learnd_model_observe(&A, &r, 0);
	r.weight = 10;
	learnd_model_observe(&B, &r, 0);
	learnd_model_estimates(&A, &ea);
	learnd_model_estimates(&B, &eb);
	CHECK(fabs(ea.handshake_n - eb.handshake_n) < 0.1 && eb.handshake_n > 9.5, "weight 10: %g vs 10 records %g",
	      eb.handshake_n, ea.handshake_n);
	r.weight = 0;
	learnd_model_init(&B, &c);
	learnd_model_observe(&B, &r, 0);
	learnd_model_estimates(&B, &eb);
	CHECK(fabs(eb.handshake_n - 1.0) < 1e-9, "weight 0 counts as 1: %g", eb.handshake_n);

	/* the kernel kept cwnd 1 (lost handshake) or refused the IW: never the slot's IW */
	learnd_model_init(&A, &c);
	rec_from_slot(&r, &d, 0);
	r.flags |= LEARND_REC_IW_KERNEL;
	u = learnd_model_observe(&A, &r, 0);
	CHECK(!(u & LEARND_USED_IW), "IW_KERNEL record used for IW: 0x%x", u);
	r.flags ^= LEARND_REC_IW_KERNEL | LEARND_REC_IW_FAILED;
	u = learnd_model_observe(&A, &r, 0);
	CHECK(!(u & LEARND_USED_IW), "IW_FAILED record used for IW: 0x%x", u);
	r.flags &= ~LEARND_REC_IW_FAILED;
	u = learnd_model_observe(&A, &r, 0);
	CHECK(u & LEARND_USED_IW, "plain record not used for IW: 0x%x", u);

	/* a server (sends 200 KB, receives requests): IW learned, RWND no effect, no RWND probes */
	learnd_model_init(&A, &c);
	learnd_model_decide(&A, &d);
	rec_from_slot(&r, &d, 0);
	r.bytes_received = 300;
	for (int k = 0; k < 20; k++)
		learnd_model_observe(&A, &r, 0);
	learnd_model_decide(&A, &d);
	CHECK(learnd_model_status(&A, LEARND_PARAM_RWND, why, sizeof(why)) == LEARND_STATUS_NO_EFFECT &&
		      strstr(why, "receives"),
	      "server rwnd: '%s'", why);
	CHECK(learnd_model_status(&A, LEARND_PARAM_IW, why, sizeof(why)) == LEARND_STATUS_LEARNED, "server iw: '%s'",
	      why);
	CHECK(learnd_model_probed(&A) == 1u << LEARND_PARAM_IW, "server probes 0x%x", learnd_model_probed(&A));
	for (unsigned i = 0; i < d.nslots; i++)
		CHECK(d.slots[i].rwnd == 0, "server: slot %u rwnd %u", i, d.slots[i].rwnd);

	/* tail loss at IW 20 from packet 12 marks 14 and above as overflowing: the
	 * incumbent goes back below it, and 20 is no longer explored */
	learnd_model_init(&A, &c);
	for (int k = 0; k < 20; k++) { /* a sender, at IW 10 */
		learnd_model_decide(&A, &d);
		rec_from_slot(&r, &d, 0);
		learnd_model_observe(&A, &r, 0);
	}
	learnd_model_decide(&A, &d);
	CHECK(d.nslots >= 2 && d.slots[1].iw == 14, "explores 14 first: slot 1 iw %u", d.slots[1].iw);
	rec_from_slot(&r, &d, 0);
	r.iw = 14;
	r.flight_lost = 2;
	r.flight_first = 12;
	r.flight_last = 13;
	learnd_model_observe(&A, &r, 0);
	learnd_model_decide(&A, &d);
	for (unsigned i = 0; i < d.nslots; i++)
		CHECK(d.slots[i].iw <= 10 || d.slots[i].share < 0.01 * LEARND_SHARE_ONE,
		      "after a tail loss at 14: slot %u iw %u share %u", i, d.slots[i].iw, d.slots[i].share);
	/* flights without loss are evidence only from a data plane that fills ABI 2
	 * (weight >= 1); an older one (weight 0) leaves the flight fields 0 anyway */
	for (unsigned wgt = 0; wgt < 2; wgt++) {
		learnd_model_init(&A, &c);
		for (int k = 0; k < 20; k++) {
			learnd_model_decide(&A, &d);
			rec_from_slot(&r, &d, 0);
			r.iw = k < 10 ? 10 : 14;
			r.weight = wgt;
			learnd_model_observe(&A, &r, 0);
		}
		learnd_model_decide(&A, &d);
		CHECK(d.slots[0].iw == (wgt ? 14 : 10), "weight %u: clean flights of 14 -> iw %u ('%s')", wgt,
		      d.slots[0].iw, d.text);
	}
	/* a lone loss of the last packet (random loss looks like that too) does not */
	learnd_model_init(&A, &c);
	for (int k = 0; k < 20; k++) {
		learnd_model_decide(&A, &d);
		rec_from_slot(&r, &d, 0);
		learnd_model_observe(&A, &r, 0);
	}
	rec_from_slot(&r, &d, 0);
	r.iw = 14;
	r.flight_lost = 2; /* the last segment sent again twice (a probe, then the timer): one packet */
	r.flight_first = r.flight_last = 13;
	learnd_model_observe(&A, &r, 0);
	learnd_model_decide(&A, &d);
	CHECK(d.nslots >= 2 && d.slots[1].iw == 14 && d.slots[1].share >= 0.2 * LEARND_SHARE_ONE,
	      "a lone last-packet loss stopped exploring 14: slot 1 iw %u share %u", d.slots[1].iw, d.slots[1].share);

	/* random loss (2%) at the incumbent: 50 flights of 10 absorbed, three lost
	 * their last packet or two.  The path took flights of 10, so losses below
	 * 10 are random: 14 is still explored at the full share.  Then two flights
	 * of 14 that lose their last two packets are the queue: 14 is not. */
	learnd_model_init(&A, &c);
	for (int k = 0; k < 53; k++) {
		learnd_model_decide(&A, &d);
		rec_from_slot(&r, &d, 0);
		r.weight = 1; /* an ABI 2 data plane: a flight without loss is evidence */
		if (k % 17 == 16) {
			r.flight_lost = 2;
			r.flight_first = 8;
			r.flight_last = 9;
		}
		learnd_model_observe(&A, &r, 0);
	}
	learnd_model_decide(&A, &d);
	CHECK(d.slots[0].iw == 10 && d.nslots >= 2 && d.slots[1].iw == 14 && d.slots[1].share >= 0.2 * LEARND_SHARE_ONE,
	      "random tails at 10 stopped exploring 14: iw %u, slot 1 iw %u share %u", d.slots[0].iw, d.slots[1].iw,
	      d.slots[1].share);
	for (int k = 0; k < 2; k++) {
		rec_from_slot(&r, &d, 1);
		r.weight = 1;
		r.flight_lost = 2;
		r.flight_first = 12;
		r.flight_last = 13;
		learnd_model_observe(&A, &r, 0);
	}
	learnd_model_decide(&A, &d);
	for (unsigned i = 1; i < d.nslots; i++)
		CHECK(d.slots[i].iw != 14 || d.slots[i].share < 0.2 * LEARND_SHARE_ONE,
		      "14 lost its tail twice and is still explored: slot %u share %u", i, d.slots[i].share);

	/* 14 measured slower (twice the busy time) with no flight evidence of its
	 * own (weight 0: an older data plane): still the step up to explore, but
	 * at a quarter of probe_max_each */
	learnd_model_init(&A, &c);
	for (int k = 0; k < 40; k++) {
		learnd_model_decide(&A, &d);
		rec_from_slot(&r, &d, 0);
		r.iw = k % 2 ? 14 : 10;
		if (r.iw == 14)
			r.busy_us *= 2;
		learnd_model_observe(&A, &r, 0);
	}
	learnd_model_decide(&A, &d);
	for (unsigned i = 1; i < d.nslots; i++)
		if (d.slots[i].iw == 14)
			CHECK(d.slots[i].share > 0.05 * LEARND_SHARE_ONE && d.slots[i].share < 0.07 * LEARND_SHARE_ONE,
			      "14, measured slower, explored at share %u (a quarter of %g)", d.slots[i].share,
			      c.probe_max_each);
	CHECK(d.slots[0].iw == 10 && d.nslots >= 2 && d.slots[1].iw == 14, "iw %u, slot 1 iw %u", d.slots[0].iw,
	      d.slots[1].iw);
}

int main(void)
{
	printf("    sizeof(struct learnd_model) = %zu bytes\n", sizeof(struct learnd_model));
	RUN(test_cfg_check);
	RUN(test_allowed_grid);
	RUN(test_init_values);
	RUN(test_observe_filters);
	RUN(test_discount);
	RUN(test_syn_rto);
	RUN(test_syn_rto_rescued);
	RUN(test_syn_rto_child);
	RUN(test_syn_rto_race);
	RUN(test_base_rtt);
	RUN(test_property_random);
	RUN(test_export_import);
	RUN(test_import_garbage);
	RUN(test_parent_borrow);
	RUN(test_set_cfg);
	RUN(test_reason);
	RUN(test_v2_records);
	return t_summary();
}
