// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Convergence of the model on simulated paths (docs/model.md quotes the numbers
 * this prints).  A simulated prefix draws a slot per connection from the
 * model's decision, turns it into a close record with the path simulator in
 * test_model.h, feeds it back, and decides again every TICK records.  Each
 * case runs SEEDS seeds.
 *
 * "Settled" at sample k of a phase: every decision from k on has incumbents
 * whose true cost is within TOL of the best value's.  True cost of v: the mean
 * over a large fixed sample of flows of the noise-free cost divided by the
 * flow's size normaliser (the quantity the model estimates).
 */
#include <stdlib.h>

#include "test_model.h"

#define SEEDS 20
#define TICK 10
#define TOL 0.05
#define PHASE 6000

static struct learnd_model M; /* big: not on the stack */

static int index_of(const struct learnd_model_stream *s, unsigned v)
{
	for (unsigned i = 0; i < s->nvalues; i++)
		if (s->values[i] == v)
			return (int)i;
	return 0;
}

/* true relative cost of each allowed value of param p on path sp */
static void truth(const struct sim_path *sp, const struct learnd_model_cfg *cfg, unsigned p,
		  const uint16_t *vals, unsigned nv, double *out)
{
	double best = INFINITY;
	struct rng r;

	for (unsigned i = 0; i < nv; i++)
		out[i] = 0;
	rng_seed(&r, 12345);
	for (int k = 0; k < 40000; k++) {
		double bytes = sim_flow_bytes(&r), segs = ceil(bytes / sp->mss);
		double ideal = 1.0 + log2(1.0 + bytes / sp->mss / 10.0);

		if (bytes <= (double)vals[0] * sp->mss)
			continue;
		for (unsigned i = 0; i < nv; i++) {
			if (p == LEARND_PARAM_IW)
				out[i] += sim_cost(sp, segs, vals[i], cfg->retrans_penalty, NULL) / ideal;
			else
				out[i] += (1.0 + ss_rounds(segs, sp->peer_iw < vals[i] ? sp->peer_iw : vals[i])) / ideal;
		}
	}
	for (unsigned i = 0; i < nv; i++)
		best = out[i] < best ? out[i] : best;
	for (unsigned i = 0; i < nv; i++)
		out[i] /= best;
}

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
	const struct learnd_model_stream *si = &M.st[LEARND_PARAM_IW], *sr = &M.st[LEARND_PARAM_RWND];
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
	scenario("iw, deep path", M_IW, &p, 1, 2500, 18, o);
}

static void test_shallow(void)
{
	struct phase_out o[SEEDS];
	struct sim_path p;
	int at14 = 0;

	sim_path_shallow(&p); /* burst loss above 16 segments: best 14 */
	scenario("iw, shallow path (knee 16)", M_IW, &p, 1, 2500, 17, o);
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
	scenario("iw, deep path, peer window 44", M_IW, &p, 1, 1500, 19, o);
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
	scenario("rwnd, peer iw 40", M_RWND, &p, 1, 2000, 19, o);
}

static void test_both(void)
{
	struct phase_out o[SEEDS];
	struct sim_path p;

	sim_path_shallow(&p); /* iw: best 14; rwnd: best >= 40 */
	p.peer_iw = 40;
	scenario("iw + rwnd, mixed flows", M_IW | M_RWND, &p, 1, 4000, 17, o);
}

static void test_deep_to_shallow(void)
{
	struct phase_out o[SEEDS];
	struct sim_path p[2];

	sim_path_deep(&p[0]);
	sim_path_shallow(&p[1]);
	scenario("iw, deep -> shallow", M_IW, p, 2, 1500, 18, o);
}

static void test_shallow_to_deep(void)
{
	struct phase_out o[SEEDS];
	struct sim_path p[2];

	sim_path_shallow(&p[0]);
	sim_path_deep(&p[1]);
	/* the slow direction: only the small probes see the improvement */
	scenario("iw, shallow -> deep", M_IW, p, 2, 4000, 19, o);
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
	return t_summary();
}
