/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one PRNG of learnd's tests, benchmarks and tools (tools/pathemu.c):
 * xoshiro256**, seeded with splitmix64, deterministic on every platform (unlike
 * rand()), so a seed names one run.  Header-only.
 */
#ifndef LEARND_SIM_PRNG_H
#define LEARND_SIM_PRNG_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

struct rng {
	uint64_t s[4];
};

static inline uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_u64(struct rng *r)
{
	uint64_t *s = r->s, res = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return res;
}

/* [0, 1) */
static inline double rng_unif(struct rng *r)
{
	return (rng_u64(r) >> 11) * 0x1p-53;
}

/* [0, n) */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_u64(r) >> 32) * n) >> 32);
}

static inline double rng_normal(struct rng *r)
{
	double u = rng_unif(r), v = rng_unif(r);

	return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

/* true with probability p */
static inline bool rng_chance(struct rng *r, double p)
{
	if (p <= 0)
		return false;
	if (p >= 1)
		return true;
	return rng_unif(r) < p;
}

#endif /* LEARND_SIM_PRNG_H */
