/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared by test_store.c and bench_intake.c: remote sites (a /24 or a /48 each,
 * with an emulated path) and close records from them, as the data plane would
 * write them.  A site the data plane knows (its prefix id and slots, read back
 * from the database as learnd wrote them) gets records with that prefix_id, a
 * slot drawn by the shares and that slot's values, APPLIED; an unknown site gets
 * prefix_id 0 and kernel defaults, so the learner discovers its prefix.
 * Header-only (static functions), on top of pathsim.h's path model and prng.h.
 */
#ifndef LEARND_STORE_SIM_H
#define LEARND_STORE_SIM_H

#include <string.h>

#include "pathsim.h"

struct site {
	uint8_t net[16];           /* network address, v4-mapped for IPv4 */
	unsigned len;              /* prefix length of the site in bits of net (120: a v4 /24) */
	bool v6;
	struct sim_path path;
	/* what the data plane knows of the site (prefix_id 0: nothing) */
	struct learnd_policy pol;
};

/* 10.a.b.0/24 as a site: a = i / 256, b = i % 256 (i < 65536). */
static inline void site_v4(struct site *s, unsigned a, unsigned b, unsigned c, double rtt_ms, unsigned knee)
{
	memset(s, 0, sizeof(*s));
	s->net[10] = s->net[11] = 0xff;
	s->net[12] = (uint8_t)a;
	s->net[13] = (uint8_t)b;
	s->net[14] = (uint8_t)c;
	s->len = 96 + 24;
	sim_path_deep(&s->path);
	s->path.rtt_us = rtt_ms * 1000.0;
	s->path.knee = knee;
}

/* 2001:db8:N::/48 */
static inline void site_v6(struct site *s, unsigned n, double rtt_ms, unsigned knee)
{
	memset(s, 0, sizeof(*s));
	s->net[0] = 0x20;
	s->net[1] = 0x01;
	s->net[2] = 0x0d;
	s->net[3] = 0xb8;
	s->net[4] = (uint8_t)(n >> 8);
	s->net[5] = (uint8_t)n;
	s->len = 48;
	s->v6 = true;
	sim_path_deep(&s->path);
	s->path.rtt_us = rtt_ms * 1000.0;
	s->path.knee = knee;
}

/* One close record from a random host of the site. */
static inline void site_record(const struct site *s, struct rng *r, struct learnd_record *rec)
{
	static const struct learnd_arm kernel_default;
	const struct learnd_policy *pol = &s->pol;
	unsigned slot = 0;

	if (pol->prefix_id && pol->nslots) {
		uint32_t u = rng_below(r, LEARND_SHARE_ONE), acc = 0;

		for (unsigned i = 0; i < pol->nslots; i++) {
			acc += pol->slots[i].share;
			if (u < acc) {
				slot = i;
				break;
			}
		}
		sim_record(&s->path, r, &pol->slots[slot], slot, 0, rec);
		rec->prefix_id = pol->prefix_id;
		rec->epoch = pol->epoch;
	} else {
		sim_record(&s->path, r, &kernel_default, 0, 0, rec);
		rec->flags &= (uint16_t)~LEARND_REC_APPLIED;
	}
	memcpy(rec->raddr, s->net, sizeof(rec->raddr));
	if (s->v6) {
		for (int i = 6; i < 16; i++)
			rec->raddr[i] = (uint8_t)rng_u64(r);
		rec->flags |= LEARND_REC_IPV6;
	} else {
		rec->raddr[15] = (uint8_t)(1 + rng_below(r, 254));
	}
	rec->rport = (uint16_t)(32768 + rng_below(r, 28000));
	rec->lport = 443;
	if (rng_unif(r) < 0.01) { /* never established: SYN-ACKs unanswered */
		rec->flags &= (uint16_t)~LEARND_REC_ESTABLISHED;
		rec->syn_retrans = 3;
		rec->handshake_us = 0;
		rec->srtt_us = rec->min_rtt_us = 0;
		rec->data_segs_out = 0;
		rec->total_retrans = 3;
		rec->bytes_acked = rec->bytes_received = 0;
		rec->busy_us = 0;
		rec->duration_us = 15000000;
	}
}

#endif /* LEARND_STORE_SIM_H */
