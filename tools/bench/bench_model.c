// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Throughput of learnd_model_observe(): records per second on one core, over
 * many prefixes (as the intake sees them) and on one hot prefix; and the
 * cost of one learnd_model_decide().
 *   bench_model [records] [prefixes]
 */
#include <stdlib.h>
#include <time.h>

#include "pathsim.h"

#define NREC 4096

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double run(struct learnd_model *m, unsigned nm, const struct learnd_record *recs, long n)
{
	double t0 = now_s(), t;
	unsigned used = 0;

	for (long i = 0; i < n; i++)
		used += learnd_model_observe(&m[(unsigned long)i % nm], &recs[i & (NREC - 1)], (uint64_t)i);
	t = now_s() - t0;
	if (used == 0)
		printf("(nothing used)\n");
	return n / t;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000;
	unsigned nm = argc > 2 ? (unsigned)atoi(argv[2]) : 1000;
	struct learnd_model *m = calloc(nm, sizeof(*m));
	struct learnd_record *recs = calloc(NREC, sizeof(*recs));
	struct learnd_model_decision d;
	struct learnd_model_cfg c;
	struct sim_path p;
	struct rng g;
	double one, many;

	if (!m || !recs || nm == 0)
		return 1;
	learnd_model_cfg_default(&c);
	bound_learn(&c, LEARND_PARAM_IW, 4, 128);
	bound_learn(&c, LEARND_PARAM_RWND, 4, 128);
	bound_learn(&c, LEARND_PARAM_SYN_RTO, 4, 3000);
	bound_learn(&c, LEARND_PARAM_BASE_RTT, 1, 1000000);
	for (unsigned i = 0; i < nm; i++)
		learnd_model_init(&m[i], &c);
	learnd_model_decide(&m[0], &d);
	sim_path_deep(&p);
	rng_seed(&g, 1);
	for (unsigned i = 0; i < NREC; i++) {
		unsigned sl = pick_slot(&d, &g);

		sim_record(&p, &g, &d.slots[sl], sl, i & 1, &recs[i]);
	}
	run(m, nm, recs, n / 10); /* warm up */
	many = run(m, nm, recs, n);
	one = run(m, 1, recs, n);
	{ /* decide() on prefixes that have seen records */
		long nd = 200000;
		double t0 = now_s(), t;

		for (long i = 0; i < nd; i++)
			learnd_model_decide(&m[(unsigned long)i % nm], &d);
		t = now_s() - t0;
		printf("decide: %.2f us per call\n", t / nd * 1e6);
	}
	printf("sizeof(struct learnd_model) %zu bytes\n", sizeof(struct learnd_model));
	printf("observe: %.0f samples/s over %u prefixes, %.0f samples/s on one prefix\n", many, nm, one);
	free(m);
	free(recs);
	return 0;
}
