// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Convergence of the model on simulated paths (docs/model.md quotes the numbers
 * this prints).  A simulated prefix draws a slot per connection from the
 * model's decision, turns it into a close record with the path simulator in
 * pathsim.h, feeds it back, and decides again every TICK records.  Each
 * case runs SEEDS seeds.
 *
 * "Settled" at sample k of a phase: every decision from k on has incumbents
 * whose true cost is within TOL of the best value's.  True cost of v: the mean
 * over a large fixed sample of flows of the noise-free cost divided by the
 * flow's size normaliser (the quantity the model estimates).
 */
#include <stdlib.h>

#include "harness.h"
#include "pathsim.h"

#define SEEDS 20
#define TICK 10
#define TOL 0.05
#define PHASE 6000

static struct learnd_model M; /* big: not on the stack */

enum { M_IW = 1, M_RWND = 2 }; /* which parameters learn (and which flows run) */

struct phase_out {
	long settle;         /* samples from the phase start until settled; -1: never */
	unsigned final_iw, final_rwnd;
	double probe_frac;   /* records on probe slots */
	double lost_per_conn;
	double excess;       /* mean true excess cost of the values applied, over the phase */
	double above_cap;    /* records with an IW above the first value >= the peer window */
};

static bool good(const double *tr, unsigned inc)
{
	double best = INFINITY;

	for (unsigned i = 0; i < LEARND_MODEL_MAX_VALUES && tr[i] > 0; i++)
		best = tr[i] < best ? tr[i] : best;
	return tr[inc] <= best * (1.0 + TOL);
}

/* Run nph phases of PHASE records on paths[ph]: mode M_IW sender flows, M_RWND
 * receiver flows, both: alternate. */
static void run(const struct learnd_model_cfg *cfg, int mode, const struct sim_path *paths, unsigned nph,
		uint64_t seed, struct phase_out *out)
{
	const struct learnd_model_stream *si = &M.stream[LEARND_PARAM_IW], *sr = &M.stream[LEARND_PARAM_RWND];
	double tri[2][LEARND_MODEL_MAX_VALUES + 1], trr[2][LEARND_MODEL_MAX_VALUES + 1];
	struct learnd_model_decision d;
	struct learnd_record rec;
	struct rng r;

	learnd_model_init(&M, cfg);
	memset(tri, 0, sizeof(tri));
	memset(trr, 0, sizeof(trr));
	for (unsigned ph = 0; ph < nph; ph++) {
		if (mode & M_IW)
			truth(&paths[ph], cfg, LEARND_PARAM_IW, si->values, si->nvalues, tri[ph]);
		if (mode & M_RWND)
			truth(&paths[ph], cfg, LEARND_PARAM_RWND, sr->values, sr->nvalues, trr[ph]);
	}
	rng_seed(&r, seed);
	learnd_model_decide(&M, &d);
	for (unsigned ph = 0; ph < nph; ph++) {
		unsigned probes = 0, lost = 0, above = 0, cap = 0;
		double excess = 0;
		long last_bad = 0;
		bool ok = true;

		for (unsigned i = 0; i < si->nvalues && !cap; i++)
			if (si->values[i] >= paths[ph].peer_wnd)
				cap = si->values[i];
		for (unsigned k = 0; k < PHASE; k++) {
			unsigned sl = pick_slot(&d, &r);
			int recv = mode == M_RWND || (mode == (M_IW | M_RWND) && (k & 1));

			sim_record(&paths[ph], &r, &d.slots[sl], sl, recv, &rec);
			probes += sl != 0;
			lost += rec.total_retrans;
			above += cap && d.slots[sl].iw > cap;
			if (recv)
				excess += trr[ph][index_of(sr, d.slots[sl].rwnd)] - 1.0;
			else
				excess += tri[ph][index_of(si, d.slots[sl].iw)] - 1.0;
			learnd_model_observe(&M, &rec, (uint64_t)k * 1000000);
			if ((k + 1) % TICK == 0) {
				learnd_model_decide(&M, &d);
				ok = (!(mode & M_IW) || good(tri[ph], si->inc)) &&
				     (!(mode & M_RWND) || good(trr[ph], sr->inc));
				if (!ok)
					last_bad = k + 1;
			}
		}
		out[ph].settle = ok ? last_bad : -1;
		out[ph].final_iw = si->values[si->inc];
		out[ph].final_rwnd = sr->values[sr->inc];
		out[ph].probe_frac = (double)probes / PHASE;
		out[ph].lost_per_conn = (double)lost / PHASE;
		out[ph].excess = excess / PHASE;
		out[ph].above_cap = (double)above / PHASE;
	}
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	if (x < 0)
		x = 1L << 40;
	if (y < 0)
		y = 1L << 40;
	return (x > y) - (x < y);
}

/*
 * Runs a case over SEEDS seeds; checks that at least need seeds settled
 * within bound samples in the last phase (and that every earlier phase
 * settled); prints the distribution.  Returns the last phase's outputs.
 */
static void scenario(const char *name, int mode, const struct sim_path *paths, unsigned nph, long bound,
		     int need, struct phase_out *last)
{
	struct learnd_model_cfg c;
	struct phase_out o[2];
	long settle[SEEDS], v[SEEDS];
	double pf = 0, lp = 0, ex = 0, ab = 0;
	int within = 0, earlier = 0;

	learnd_model_cfg_default(&c);
	if (mode & M_IW)
		bound_learn(&c, LEARND_PARAM_IW, 4, 128);
	if (mode & M_RWND)
		bound_learn(&c, LEARND_PARAM_RWND, 4, 128);
	for (int sd = 0; sd < SEEDS; sd++) {
		run(&c, mode, paths, nph, 1000 + 100 * nph + sd, o);
		earlier += nph == 1 || o[0].settle >= 0;
		settle[sd] = o[nph - 1].settle;
		within += settle[sd] >= 0 && settle[sd] <= bound;
		pf += o[nph - 1].probe_frac / SEEDS;
		lp += o[nph - 1].lost_per_conn / SEEDS;
		ex += o[nph - 1].excess / SEEDS;
		ab += o[nph - 1].above_cap / SEEDS;
		last[sd] = o[nph - 1];
	}
	memcpy(v, settle, sizeof(v));
	qsort(v, SEEDS, sizeof(long), cmp_long);
	printf("    %-30s settled after median %ld, p90 %ld, max %ld samples (-1: not by %d); "
	       "within %ld: %d/%d\n"
	       "    %-30s probes %.1f%% of records, %.3f lost segs/conn, excess cost %.1f%%\n",
	       name, v[SEEDS / 2], v[SEEDS * 9 / 10 - 1], v[SEEDS - 1], PHASE, bound, within, SEEDS, "",
	       100 * pf, lp, 100 * ex);
	if (ab > 0)
		printf("    %-30s records with iw above the peer window's value: %.2f%%\n", "", 100 * ab);
	CHECK(earlier == SEEDS, "%s: first phase settled in %d/%d seeds", name, earlier, SEEDS);
	CHECK(within >= need, "%s: %d/%d seeds settled within %ld samples (want %d)", name, within, SEEDS,
	      bound, need);
}

static void test_deep(void)
{
	struct phase_out o[SEEDS];
	struct sim_path p;

	sim_path_deep(&p); /* best 128, 112 within 3% */
	scenario("iw, deep path", M_IW, &p, 1, 400, 18, o);
}

static void test_shallow(void)
{
	struct phase_out o[SEEDS];
	struct sim_path p;
	int at14 = 0;

	sim_path_shallow(&p); /* burst loss above 16 segments: best 14 */
	scenario("iw, shallow path (knee 16)", M_IW, &p, 1, 200, 18, o);
	for (int i = 0; i < SEEDS; i++)
		at14 += o[i].final_iw == 14;
	CHECK(at14 >= 19, "final iw 14 in %d/%d seeds", at14, SEEDS);
}

static void test_peer_window(void)
{
	struct phase_out o[SEEDS];
	struct sim_path p;
	int ok = 0;

	sim_path_deep(&p);
	p.peer_wnd = 44; /* a default Linux client: IW above 44 behaves like 44 */
	scenario("iw, deep path, peer window 44", M_IW, &p, 1, 300, 19, o);
	for (int i = 0; i < SEEDS; i++) {
		ok += o[i].final_iw == 40 || o[i].final_iw == 56;
		CHECK(o[i].above_cap < 0.02, "seed %d: %.1f%% of records above 56", i, 100 * o[i].above_cap);
	}
	CHECK(ok == SEEDS, "final iw 40 or 56 in %d/%d seeds", ok, SEEDS);
}

static void test_rwnd(void)
{
	struct phase_out o[SEEDS];
	struct sim_path p;

	sim_path_deep(&p);
	p.peer_iw = 40; /* the peer would send 40 segments if our window let it: best >= 40 */
	scenario("rwnd, peer iw 40", M_RWND, &p, 1, 200, 19, o);
}

static void test_both(void)
{
	struct phase_out o[SEEDS];
	struct sim_path p;

	sim_path_shallow(&p); /* iw: best 14; rwnd: best >= 40 */
	p.peer_iw = 40;
	scenario("iw + rwnd, mixed flows", M_IW | M_RWND, &p, 1, 400, 18, o);
}

static void test_deep_to_shallow(void)
{
	struct phase_out o[SEEDS];
	struct sim_path p[2];

	sim_path_deep(&p[0]);
	sim_path_shallow(&p[1]);
	scenario("iw, deep -> shallow", M_IW, p, 2, 200, 18, o);
}

static void test_shallow_to_deep(void)
{
	struct phase_out o[SEEDS];
	struct sim_path p[2];

	sim_path_shallow(&p[0]);
	sim_path_deep(&p[1]);
	/* the slow direction: only the small probes see the improvement */
	scenario("iw, shallow -> deep", M_IW, p, 2, 1500, 19, o);
}

/*
 * Sparse traffic, as most prefixes of a real server see it: one connection at
 * a time, 10 KB .. 1 MB, a decision every SP_TICK connections (about one tick
 * at 1.7 connections per second), SP_N connections, IW 4..128 and RWND
 * 10..256 learnable (bounds only).  What is scored is the true (noise-free)
 * cost of the value each connection ran on, relative to the best static
 * value (1.0); "default" is the kernel's (IW 10, RWND no reply).
 */
#define SP_N 300
#define SP_TICK 2
#define SP_BLOCK 25

struct sparse_out {
	double block[SP_N / SP_BLOCK]; /* mean cost of each block of 25 / the default's */
	double cum;                    /* mean cost of the first SP_N / the default's */
	double after100;               /* mean cost of connections 100..SP_N / the best static's */
	double first25;                /* mean cost of the first 25 / the best static's */
	double probe_conv;             /* probe share over the last 100 */
	unsigned iw_probes, rwnd_probes; /* connections whose IW / RWND differed from slot 0's */
	unsigned first_rwnd;           /* slot 0's rwnd in the first decision */
	unsigned final_iw;
	unsigned follows;              /* decisions that took the parent's value */
};

static struct learnd_model P; /* a parent */

static void sparse_cfg(struct learnd_model_cfg *c)
{
	learnd_model_cfg_default(c);
	bound_learn(c, LEARND_PARAM_IW, 4, 128);
	bound_learn(c, LEARND_PARAM_RWND, 10, 256);
}

/* recv: 0 uploads (we send), 1 downloads; parent: pooled decisions from it */
static void sparse_run(const struct sim_path *sp, int recv, uint64_t seed, const struct learnd_model *parent,
		       struct sparse_out *o)
{
	const struct learnd_model_stream *si = &M.stream[LEARND_PARAM_IW], *sr = &M.stream[LEARND_PARAM_RWND];
	double tr[LEARND_MODEL_MAX_VALUES + 1] = { 0 }, dflt, sum = 0, blk = 0;
	const struct learnd_model_stream *s;
	struct learnd_model_cfg c;
	struct learnd_model_decision d;
	struct learnd_record rec;
	struct rng r;
	unsigned probes = 0;

	sparse_cfg(&c);
	if (parent)
		learnd_model_init_from_parent(&M, &c, parent);
	else
		learnd_model_init(&M, &c);
	s = recv ? sr : si;
	c.retrans_penalty = 0.0; /* scored on time, as the benchmark measures (the model's cost keeps it) */
	truth(sp, &c, recv ? LEARND_PARAM_RWND : LEARND_PARAM_IW, s->values, s->nvalues, tr);
	c.retrans_penalty = M.cfg.retrans_penalty;
	dflt = tr[s->dflt];
	memset(o, 0, sizeof(*o));
	rng_seed(&r, seed);
	learnd_model_decide_pooled(&M, parent, &d);
	o->first_rwnd = d.slots[0].rwnd;
	for (unsigned k = 0; k < SP_N; k++) {
		unsigned sl = pick_slot(&d, &r);
		double cost;

		sim_record(sp, &r, &d.slots[sl], sl, recv, &rec);
		o->iw_probes += d.slots[sl].iw != d.slots[0].iw;
		o->rwnd_probes += d.slots[sl].rwnd != d.slots[0].rwnd;
		if (k >= SP_N - 100)
			probes += sl != 0;
		cost = tr[index_of(s, recv ? d.slots[sl].rwnd : d.slots[sl].iw)];
		sum += cost;
		blk += cost;
		if (k < 25)
			o->first25 += cost / 25;
		if (k >= 100)
			o->after100 += cost / (SP_N - 100);
		if ((k + 1) % SP_BLOCK == 0) {
			o->block[k / SP_BLOCK] = blk / SP_BLOCK / dflt;
			blk = 0;
		}
		learnd_model_observe(&M, &rec, (uint64_t)k * 600000000ull);
		if ((k + 1) % SP_TICK == 0) {
			learnd_model_decide_pooled(&M, parent, &d);
			o->follows += strstr(d.text, "the parent's value") != NULL;
			if (getenv("SIMDBG") && seed == 7000) /* one run's decisions, for docs/model.md */
				printf("      k=%u iw %u/%u ft %u..%u lost %u | %s | slots %u:%u %u:%u %u:%u\n", k,
				       rec.iw, (unsigned)(rec.bytes_acked / 1448), rec.flight_first, rec.flight_last,
				       rec.flight_lost, d.text, d.slots[0].iw, d.slots[0].share, d.slots[1].iw,
				       d.slots[1].share, d.slots[2].iw, d.slots[2].share);
		}
	}
	o->cum = sum / SP_N / dflt;
	o->probe_conv = probes / 100.0;
	o->final_iw = si->values[si->inc];
}

struct sparse_sum {
	int ok100, blocks_ok, cum_ok, n;
	double worst_block, worst_cum, mean100, probe, first25;
	unsigned iw_probes, rwnd_probes, rwnd_not0, follows;
};

static void sparse_case(const char *name, const struct sim_path *sp, int recv, const struct learnd_model *parent,
			struct sparse_sum *t)
{
	struct sparse_out o;

	memset(t, 0, sizeof(*t));
	for (int sd = 0; sd < SEEDS; sd++) {
		double wb = 0;

		sparse_run(sp, recv, 7000 + sd, parent, &o);
		for (unsigned b = 0; b < SP_N / SP_BLOCK; b++)
			wb = o.block[b] > wb ? o.block[b] : wb;
		t->ok100 += o.after100 <= 1.05;
		t->blocks_ok += wb <= 1.05;
		t->cum_ok += o.cum <= 1.0;
		t->worst_block = wb > t->worst_block ? wb : t->worst_block;
		t->worst_cum = o.cum > t->worst_cum ? o.cum : t->worst_cum;
		t->mean100 += o.after100 / SEEDS;
		t->first25 += o.first25 / SEEDS;
		t->probe += o.probe_conv / SEEDS;
		t->iw_probes += o.iw_probes;
		t->rwnd_probes += o.rwnd_probes;
		t->rwnd_not0 += o.first_rwnd != 0;
		t->follows += o.follows;
		t->n++;
	}
	printf("    %-30s after 100: %.3f of best (<=1.05 in %d/%d); first 25: %.3f; blocks <= 1.05 of default "
	       "in %d/%d (worst %.3f); first %d vs default <= 1 in %d/%d (worst %.3f); probes %.1f%%; "
	       "iw probes %u, rwnd probes %u\n",
	       name, t->mean100, t->ok100, t->n, t->first25, t->blocks_ok, t->n, t->worst_block, SP_N, t->cum_ok, t->n,
	       t->worst_cum, 100 * t->probe, t->iw_probes, t->rwnd_probes);
	CHECK(t->rwnd_not0 == 0, "%s: rwnd did not start at no reply in %u seeds", name, t->rwnd_not0);
	CHECK(t->probe <= 0.10, "%s: converged probe share %.1f%%", name, 100 * t->probe);
	if (recv)
		CHECK(t->iw_probes == 0, "%s: %u connections probed IW on a receiver", name, t->iw_probes);
	else
		CHECK(t->rwnd_probes == 0, "%s: %u connections probed RWND on a sender", name, t->rwnd_probes);
}

static void sparse_path(struct sim_path *p)
{
	sim_path_deep(p);
	p->rtt_us = 60000;
	p->lo_bytes = 10000;
	p->hi_bytes = 1000000;
}

static void test_sparse_deep(void)
{
	struct sparse_sum t;
	struct sim_path p;

	sparse_path(&p);
	sparse_case("sparse deep", &p, 0, NULL, &t);
	CHECK(t.ok100 >= 18, "deep: within 5%% of best after 100 in %d/%d", t.ok100, t.n);
	CHECK(t.cum_ok == t.n, "deep: first %d worse than the default (worst %.3f)", SP_N, t.worst_cum);
}

static void test_sparse_shallow(void)
{
	struct sparse_sum t;
	struct sim_path p;

	sparse_path(&p);
	p.knee = 12; /* a buffer of about a dozen packets: the default IW 10 is the best static value */
	sparse_case("sparse shallow (buffer 12)", &p, 0, NULL, &t);
	CHECK(t.blocks_ok == t.n, "shallow: a block of 25 worse than the default by > 5%% in %d/%d (worst %.3f)",
	      t.n - t.blocks_ok, t.n, t.worst_block);
	/* nothing to gain here: the maintenance probes (IW 8 and 14, both known
	 * to lose, at 0.6% each) and the first probe of 14 cost under 1% */
	CHECK(t.worst_cum <= 1.01, "shallow: first %d cost %.3f of the default's", SP_N, t.worst_cum);
}

static void test_sparse_random_loss(void)
{
	struct sparse_sum t;
	struct sim_path p;

	sparse_path(&p);
	p.pkt_loss = 0.015; /* scattered losses in big flights too: a large IW still wins */
	sparse_case("sparse deep, 1.5% random loss", &p, 0, NULL, &t);
	CHECK(t.ok100 >= 12 && t.mean100 <= 1.10, "random loss: within 5%% of best after 100 in %d/%d, mean %.3f",
	      t.ok100, t.n, t.mean100);
}

static void test_sparse_syn_loss(void)
{
	struct sparse_sum t;
	struct sim_path p;

	sparse_path(&p);
	p.syn_loss = 0.15; /* the kernel keeps cwnd 1: never credited to the slot's IW */
	sparse_case("sparse deep, 15% SYN loss", &p, 0, NULL, &t);
	CHECK(t.ok100 >= 18, "syn loss: within 5%% of best after 100 in %d/%d", t.ok100, t.n);
}

static void test_sparse_receiver(void)
{
	struct sparse_sum t;
	struct sim_path p;

	sparse_path(&p);
	p.peer_iw = 64; /* a server sending with IW 64 to a client whose own window is 44 */
	p.our_wnd = 44;
	sparse_case("sparse receiver (client)", &p, 1, NULL, &t);
	CHECK(t.worst_cum <= 1.0, "receiver: first %d cost %.3f of the default's", SP_N, t.worst_cum);
	/* Since the data plane raises the receive buffer for an rwnd above the
	 * kernel's window (pathsim.h: sim_rwnd), RWND 256 lets the peer's whole
	 * first flight through and is the best static value: the default is 1.069
	 * of it here.  Before, no value could beat the default and this asked for
	 * 1.02 of a best that was the default.  Now: the 5% after 100
	 * (learnd 1.048; time needs more samples than that to tell a 7% gain). */
	CHECK(t.mean100 <= 1.05, "receiver: after 100 %.3f of best", t.mean100);
}

/* Flights are absorbed, yet a larger IW is slower: the flight evidence moves
 * IW up, measured time (the kernel's value kept as a probe) brings it back. */
static void test_sparse_guard(void)
{
	struct sparse_sum t;
	struct sim_path p;
	struct sparse_out o;
	int back = 0;

	sparse_path(&p);
	p.slow_above = 10;
	sparse_case("absorbed but slower above 10", &p, 0, NULL, &t);
	for (int sd = 0; sd < SEEDS; sd++) {
		sparse_run(&p, 0, 7000 + sd, NULL, &o);
		back += o.final_iw <= 10;
	}
	printf("    back at the kernel's IW 10 (or below) after %d connections: %d/%d\n", SP_N, back, SEEDS);
	/* measured time needs n_min samples a side: slow at sparse shares, but it gets there */
	CHECK(back >= 15, "guard: back at IW <= 10 in %d/%d", back, SEEDS);
}

/* A parent (a dense, configured prefix, or the default one) learned a deep path. */
static void train_parent(const struct sim_path *sp)
{
	struct learnd_model_cfg c;
	struct learnd_model_decision d;
	struct learnd_record rec;
	struct rng r;

	sparse_cfg(&c);
	learnd_model_init(&P, &c);
	rng_seed(&r, 99);
	learnd_model_decide(&P, &d);
	for (unsigned k = 0; k < 2000; k++) {
		unsigned sl = pick_slot(&d, &r);

		sim_record(sp, &r, &d.slots[sl], sl, 0, &rec);
		learnd_model_observe(&P, &rec, (uint64_t)k * 1000000);
		if ((k + 1) % TICK == 0)
			learnd_model_decide(&P, &d);
	}
}

static void test_sparse_child(void)
{
	struct sparse_sum t;
	struct sim_path p;

	sparse_path(&p);
	train_parent(&p);
	printf("    parent after 2000 records: iw %u\n", P.stream[LEARND_PARAM_IW].values[P.stream[LEARND_PARAM_IW].inc]);
	{ /* a child created before the parent learned follows it later, until it has pool_n records */
		struct learnd_model_cfg c;
		struct learnd_model_decision d;

		sparse_cfg(&c);
		learnd_model_init(&M, &c);
		learnd_model_decide_pooled(&M, &P, &d);
		CHECK(d.slots[0].iw == 128 && strstr(d.text, "parent"), "young child: iw %u '%s'", d.slots[0].iw, d.text);
		c.pool_n = 0;
		learnd_model_init(&M, &c);
		learnd_model_decide_pooled(&M, &P, &d);
		CHECK(d.slots[0].iw == 10, "pool_n 0: the child decides alone: iw %u", d.slots[0].iw);
	}
	sparse_case("sparse child, dense deep parent", &p, 0, &P, &t);
	CHECK(t.first25 <= 1.05, "child of a deep parent: first 25 cost %.3f of best", t.first25);
	CHECK(t.ok100 >= 19, "child: within 5%% of best after 100 in %d/%d", t.ok100, t.n);
	p.knee = 12; /* the same parent, a child on a shallow path: it leaves the parent's value */
	sparse_case("shallow child, deep parent", &p, 0, &P, &t);
	CHECK(t.mean100 <= 1.02, "shallow child: after 100 %.3f of best", t.mean100);
	CHECK(t.first25 <= 1.2, "shallow child: first 25 cost %.3f of best", t.first25); /* one flight at 128 */
}

/*
 * A buffer of 12 packets and one on the wire: an IW of 14 loses only its last
 * packet, which counts as little evidence (random loss hits last packets too).
 * A child whose parent runs IW 14 (the sparse benchmark's shallow /24 under
 * ::/0) left 14 after three such flights and followed the parent back to it as
 * soon as that evidence dipped under LM_TAIL_MIN (lm_flight_suspect now bars
 * that: here 1 such decision in 20 seeds before, none after).  What is left is
 * the price of finding out, about 1% of the first 300 connections' time (worst
 * seed 1.012 before and after; worst block 1.047 before, 1.038 after): the
 * first flights of 14, then its maintenance probes.
 */
static void test_sparse_lone_tail(void)
{
	struct sparse_sum t;
	struct sim_path p;

	sparse_path(&p);
	p.knee = 16; /* the parent's path: 14 is its best */
	train_parent(&p);
	printf("    parent after 2000 records: iw %u\n", P.stream[LEARND_PARAM_IW].values[P.stream[LEARND_PARAM_IW].inc]);
	p.knee = 13;
	sparse_case("lone tails (buffer 13), parent 14", &p, 0, &P, &t);
	printf("    decisions that took the parent's value: %u in %d seeds\n", t.follows, t.n);
	CHECK(t.follows == 0, "lone tails: %u decisions followed the parent back to a value that lost tails here",
	      t.follows);
	CHECK(t.blocks_ok == t.n, "lone tails: a block of 25 worse than the default by > 5%% in %d/%d (worst %.3f)",
	      t.n - t.blocks_ok, t.n, t.worst_block);
	CHECK(t.worst_cum <= 1.015, "lone tails: first %d cost %.3f of the default's", SP_N, t.worst_cum);
	CHECK(t.mean100 <= 1.02, "lone tails: after 100 %.3f of best", t.mean100);
}

int main(void)
{
	RUN(test_deep);
	RUN(test_shallow);
	RUN(test_peer_window);
	RUN(test_rwnd);
	RUN(test_both);
	RUN(test_deep_to_shallow);
	RUN(test_shallow_to_deep);
	RUN(test_sparse_deep);
	RUN(test_sparse_shallow);
	RUN(test_sparse_lone_tail);
	RUN(test_sparse_random_loss);
	RUN(test_sparse_syn_loss);
	RUN(test_sparse_receiver);
	RUN(test_sparse_child);
	RUN(test_sparse_guard);
	return t_summary();
}
