// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A fleet on the model's path simulator (docs/benchmarks.md, "Fleet"): HOSTS
 * simulated hosts each see one prefix once a minute (fleet-wide a connection
 * every GAP_S seconds), and every INTERVAL_S seconds each host whose evidence
 * changed pushes the rows learnd_model_export() gives (the row format the
 * fleet link carries) into a shared table.  Before each of its connections a
 * host decides from its own rows plus the other hosts' rows of their last push,
 * each host's capped at HOST_CAP connections (fleet_merge below), imported into
 * a model.  Three ways to use them:
 *   link    as learnd does (learner/learnd/prior.c): ld_fleet_merge() of the other
 *           hosts' rows (each host's weight capped at the link's host_cap, 50) is
 *           the prefix's prior; the prior decides on that evidence; a new prefix
 *           starts from it (learnd_model_init_from_parent) and decide follows it
 *           where it would follow a parent (learnd_model_decide_pooled)
 *   pooled  a host decides from its own rows plus the others' summed
 *           (fleet_merge below, each host capped at HOST_CAP records)
 *   alone   no fleet
 *
 * "Learned" at fleet-wide connection k: every connection from k on runs on a
 * slot-0 IW whose true cost is within TOL of the best static value's.  The
 * same hosts without the fleet (each alone) are the comparison.  Deterministic:
 * the output is the same bytes on every run.
 *
 * The link's prior without a decision of its own (its incumbent the merge's vote
 * of the hosts' values in force) is shown too: hosts that see a prefix once a
 * minute never move their own values, so neither does the vote.
 */
#include <stdlib.h>

#include "fleet.h"
#include "harness.h"
#include "pathsim.h"

#define HOSTS 20
#define GAP_S 3        /* 20 hosts, each once a minute */
#define INTERVAL_S 10  /* the fleet link's default interval */
#define FN 400         /* fleet-wide connections per run (20 per host: 20 minutes) */
#define SEEDS 20
#define HOST_CAP 25.0  /* one host's evidence counts as at most this many records */
#define LEARNED_BY 100 /* the fleet's target: learned within 100 fleet-wide connections */
#define TOL 0.05
#define BLK 25
#define LINK_CAP 50.0  /* the link's default host_cap ([fleet] host_cap) */

/* how a host uses the other hosts' rows */
enum mode {
	ALONE = 0, /* not at all: every host learns alone */
	POOLED,    /* decides from its own rows and the others' summed (fleet_merge) */
	LINK,      /* as learnd does: ld_fleet_merge() of the others' rows is the prefix's
		    * prior, which a new prefix starts from (learnd_model_init_from_parent)
		    * and decide follows where it would follow a parent
		    * (learnd_model_decide_pooled); no probes before the first record */
};

struct rowset {
	struct learnd_model_row r[LEARND_MODEL_MAX_ROWS];
	size_t n;
};

static struct learnd_model L[HOSTS + 1]; /* each host's own evidence (one more: a late joiner) */
static struct learnd_model D;            /* a host's decision model, rebuilt per connection */
static struct learnd_model PR;           /* LINK: a host's prior, from the others' rows */
static bool created[HOSTS + 1];          /* LINK: the host has a model for the prefix */
static bool prior_decides = true;        /* LINK: the prior decides on the merged evidence */
static struct rowset pushed[HOSTS + 1];  /* the shared table: each host's rows at its last push */
static struct rowset own, merged;
static uint32_t inforce[HOSTS + 1][LEARND_PARAM__MAX]; /* each host's values in force */
static uint32_t decided[HOSTS + 1];
static uint32_t pushed_value[HOSTS + 1][LEARND_PARAM__MAX]; /* the values in force of each push */
static unsigned rejected;

/* ---- merge: one slot per (kind, param, key) a statistics row can have ---- */

#define V_KEYS 257 /* IW / RWND values are <= 256 here (the bounds) */
enum {
	X_ARM = 0,
	X_CELL = X_ARM + 2 * V_KEYS,
	X_FLIGHT = X_CELL + 2 * V_KEYS * LEARND_MODEL_NCLASSES,
	X_REL = X_FLIGHT + V_KEYS,
	X_HIST = X_REL + 1,
	X_MAX = X_HIST + 3 * LEARND_MODEL_QBUCKETS,
};

static struct learnd_model_row acc[X_MAX];
static unsigned gen[X_MAX], cur_gen;

/* the slot of a statistics row, -1: not one (prefix and parameter rows stay the host's own) */
static int slot_of(const struct learnd_model_row *r)
{
	unsigned v = r->key & 0xffff, k = r->key >> 16;

	switch (r->kind) {
	case LEARND_ROW_ARM:
		return r->param <= 1 && r->key < V_KEYS ? X_ARM + r->param * V_KEYS + (int)r->key : -1;
	case LEARND_ROW_CELL:
		return r->param <= 1 && v < V_KEYS && k < LEARND_MODEL_NCLASSES ?
			       X_CELL + (r->param * V_KEYS + (int)v) * LEARND_MODEL_NCLASSES + (int)k : -1;
	case LEARND_ROW_FLIGHT:
		return r->param == LEARND_PARAM_IW && r->key < V_KEYS ? X_FLIGHT + (int)r->key : -1;
	case LEARND_ROW_REL:
		return r->param == 0 ? X_REL : -1;
	case LEARND_ROW_HIST:
		return r->param <= LEARND_HIST_PEER_WND && r->key < LEARND_MODEL_QBUCKETS ?
			       X_HIST + r->param * LEARND_MODEL_QBUCKETS + (int)r->key : -1;
	}
	return -1;
}

static bool sane(double x)
{
	return x >= 0.0 && x <= 1e9; /* false for NaN too */
}

/* add row r scaled by f into its slot (another host's: validated first) */
static void add(const struct learnd_model_row *r, double f, bool foreign)
{
	struct learnd_model_row *a;
	int x = slot_of(r);

	if (x < 0 || !sane(r->n) || !sane(r->sum) || !sane(r->sum2) || !sane(r->sum_raw)) {
		rejected += foreign;
		return;
	}
	a = &acc[x];
	if (gen[x] != cur_gen) {
		gen[x] = cur_gen;
		*a = *r;
		a->n = a->sum = a->sum2 = a->sum_raw = 0;
	}
	a->n += r->n * f;
	a->sum += r->sum * f;
	a->sum2 += r->sum2 * f;
	a->sum_raw += r->sum_raw * f;
	a->last_ns = r->last_ns > a->last_ns ? r->last_ns : a->last_ns;
	a->age = r->age < a->age ? r->age : a->age;
}

/* records behind a host's rows (its prefix row), for the cap */
static double records_of(const struct rowset *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->r[i].kind == LEARND_ROW_PREFIX)
			return s->r[i].n;
	return 0;
}

/*
 * out = mine's prefix and parameter rows, then the sum of the statistics rows
 * of mine (in full) and of every other host's pushed rows (each scaled to at
 * most HOST_CAP records).  fleet 0: mine alone.
 */
static void fleet_merge(const struct rowset *mine, unsigned self, int fleet, struct rowset *out)
{
	out->n = 0;
	cur_gen++;
	for (size_t i = 0; i < mine->n; i++) {
		if (mine->r[i].kind == LEARND_ROW_PREFIX || mine->r[i].kind == LEARND_ROW_PARAM)
			out->r[out->n++] = mine->r[i];
		else
			add(&mine->r[i], 1.0, false);
	}
	for (unsigned g = 0; fleet && g <= HOSTS; g++) {
		double rec = records_of(&pushed[g]), f = rec > HOST_CAP ? HOST_CAP / rec : 1.0;

		if (g == self)
			continue;
		for (size_t i = 0; i < pushed[g].n; i++)
			if (pushed[g].r[i].kind != LEARND_ROW_PREFIX && pushed[g].r[i].kind != LEARND_ROW_PARAM)
				add(&pushed[g].r[i], f, true);
	}
	for (int x = 0; x < X_MAX; x++)
		if (gen[x] == cur_gen && out->n < LEARND_MODEL_MAX_ROWS)
			out->r[out->n++] = acc[x];
}

/* host h's rows: its own evidence, with the values it runs in force (LINK: its
 * model decides, so they are its own) */
static void own_rows(unsigned h, struct rowset *s)
{
	s->n = learnd_model_export(&L[h], s->r, LEARND_MODEL_MAX_ROWS);
	for (size_t i = 0; i < s->n && !created[h]; i++) {
		if (s->r[i].kind == LEARND_ROW_PREFIX)
			s->r[i].key = decided[h];
		if (s->r[i].kind == LEARND_ROW_PARAM && s->r[i].param < LEARND_PARAM__MAX && inforce[h][s->r[i].param])
			s->r[i].key = inforce[h][s->r[i].param];
	}
}

static void fleet_cfg(struct learnd_model_cfg *c)
{
	learnd_model_cfg_default(c);
	bound_learn(c, LEARND_PARAM_IW, 4, 128);
	bound_learn(c, LEARND_PARAM_RWND, 10, 256);
}

/* LINK: host h's prior from the other hosts' pushed rows (false: none yet) */
static bool link_prior(unsigned h, const struct learnd_model_cfg *c)
{
	struct ld_fleet_src src[HOSTS + 1];
	struct learnd_model_row *rows = NULL;
	struct ld_fleet_prefix fp;
	size_t ns = 0;
	int n;

	for (unsigned g = 0; g <= HOSTS; g++) {
		if (g == h || !pushed[g].n)
			continue;
		src[ns] = (struct ld_fleet_src){ .rows = pushed[g].r, .nrows = pushed[g].n, .site_weight = 1.0,
						 .samples = (uint64_t)records_of(&pushed[g]),
						 .conns_total = (uint64_t)records_of(&pushed[g]) };
		memcpy(src[ns].value, pushed_value[g], sizeof(src[ns].value));
		ns++;
	}
	memset(&fp, 0, sizeof(fp));
	if (!ns || (n = ld_fleet_merge(src, ns, LINK_CAP, &rows, &fp)) <= 0) {
		free(rows);
		return false;
	}
	learnd_model_init(&PR, c);
	learnd_model_import(&PR, rows, (size_t)n);
	free(rows);
	if (prior_decides) { /* as learner/learnd/prior.c: set_prior() */
		struct learnd_model_decision d;

		learnd_model_decide(&PR, &d);
	}
	return true;
}

/* host h decides: the slots of its next connection */
static void host_decide(unsigned h, enum mode mode, struct learnd_model_decision *d)
{
	struct learnd_model_cfg c;

	fleet_cfg(&c);
	if (mode == LINK) {
		bool prior = link_prior(h, &c);

		if (!created[h]) {
			if (prior)
				learnd_model_init_from_parent(&L[h], &c, &PR);
			created[h] = true;
		}
		learnd_model_decide_pooled(&L[h], prior ? &PR : NULL, d);
		if (prior && !learnd_model_samples(&L[h]) && d->nslots > 1) {
			d->nslots = 1;
			d->slots[0].share = LEARND_SHARE_ONE;
		}
	} else {
		learnd_model_init(&D, &c);
		own_rows(h, &own);
		fleet_merge(&own, h, mode == POOLED, &merged);
		learnd_model_import(&D, merged.r, merged.n);
		learnd_model_decide(&D, d);
		decided[h] = 1;
	}
	inforce[h][LEARND_PARAM_IW] = d->slots[0].iw;
	inforce[h][LEARND_PARAM_RWND] = d->slots[0].rwnd;
	inforce[h][LEARND_PARAM_SYN_RTO] = d->slots[0].syn_rto_ms;
	inforce[h][LEARND_PARAM_BASE_RTT] = d->slots[0].base_rtt_us;
}

struct fleet_out {
	long learned;      /* fleet-wide connections until learned; -1: not within FN */
	double block[FN / BLK]; /* mean true cost of each block of 25 fleet-wide connections / the default's */
	double after100;   /* mean true cost of connections 100.. / the best static value's */
	double first100;   /* mean true cost of the first 100 / the default's */
	unsigned joiner_iw; /* a 21st host, cold, at the end: the IW of its first connection */
	bool joiner_good;
};

static void fleet_run(const struct sim_path *sp, enum mode mode, uint64_t seed, struct fleet_out *o)
{
	double tr[LEARND_MODEL_MAX_VALUES + 1] = { 0 }, dflt, blk = 0;
	const struct learnd_model_stream *s = &D.stream[LEARND_PARAM_IW];
	struct learnd_model_cfg c;
	struct learnd_model_decision d;
	struct learnd_record rec;
	bool dirty[HOSTS + 1] = { false };
	long last_bad = 0;
	uint64_t next_sync = INTERVAL_S;
	struct rng r;

	fleet_cfg(&c);
	memset(inforce, 0, sizeof(inforce));
	memset(decided, 0, sizeof(decided));
	memset(created, 0, sizeof(created));
	memset(pushed_value, 0, sizeof(pushed_value));
	for (unsigned h = 0; h <= HOSTS; h++) {
		learnd_model_init(&L[h], &c);
		pushed[h].n = 0;
	}
	learnd_model_init(&D, &c);
	c.retrans_penalty = 0.0; /* scored on time, as the benchmarks measure */
	truth(sp, &c, LEARND_PARAM_IW, s->values, s->nvalues, tr);
	dflt = tr[s->dflt];
	memset(o, 0, sizeof(*o));
	rng_seed(&r, seed);
	for (unsigned k = 0; k < FN; k++) {
		uint64_t t = (uint64_t)k * GAP_S;
		unsigned h = k % HOSTS, sl;
		double cost;

		for (; next_sync <= t; next_sync += INTERVAL_S) /* push what changed */
			for (unsigned g = 0; g < HOSTS; g++)
				if (dirty[g]) {
					own_rows(g, &pushed[g]);
					memcpy(pushed_value[g], inforce[g], sizeof(inforce[g]));
					dirty[g] = false;
				}
		host_decide(h, mode, &d);
		if (!(tr[index_of(s, d.slots[0].iw)] <= 1.0 + TOL))
			last_bad = k + 1;
		sl = pick_slot(&d, &r);
		sim_record(sp, &r, &d.slots[sl], sl, 0, &rec);
		cost = tr[index_of(s, d.slots[sl].iw)];
		blk += cost;
		if ((k + 1) % BLK == 0) {
			o->block[k / BLK] = blk / BLK / dflt;
			blk = 0;
		}
		if (k < 100)
			o->first100 += cost / dflt / 100;
		else
			o->after100 += cost / (FN - 100);
		learnd_model_observe(&L[h], &rec, t * 1000000000ull);
		dirty[h] = true;
	}
	o->learned = last_bad < FN ? last_bad : -1;
	host_decide(HOSTS, mode, &d);
	o->joiner_iw = d.slots[0].iw;
	o->joiner_good = tr[index_of(s, d.slots[0].iw)] <= 1.0 + TOL;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	x = x < 0 ? 1L << 40 : x;
	y = y < 0 ? 1L << 40 : y;
	return (x > y) - (x < y);
}

struct fleet_sum {
	int within, joiner_ok;
	long median, worst;
	double after100, first100, curve[FN / BLK];
};

static void fleet_case(const char *name, const struct sim_path *sp, enum mode mode, struct fleet_sum *t)
{
	long v[SEEDS];
	struct fleet_out o;

	memset(t, 0, sizeof(*t));
	for (int sd = 0; sd < SEEDS; sd++) {
		fleet_run(sp, mode, 9000 + sd, &o);
		v[sd] = o.learned;
		t->within += o.learned >= 0 && o.learned <= LEARNED_BY;
		t->joiner_ok += o.joiner_good;
		t->after100 += o.after100 / SEEDS;
		t->first100 += o.first100 / SEEDS;
		for (unsigned b = 0; b < FN / BLK; b++)
			t->curve[b] += o.block[b] / SEEDS;
	}
	qsort(v, SEEDS, sizeof(long), cmp_long);
	t->median = v[SEEDS / 2];
	t->worst = v[SEEDS - 1];
	printf("    %-34s learned after median %ld, max %ld fleet-wide connections (-1: not by %d); "
	       "within %d: %d/%d\n", name, t->median, t->worst, FN, LEARNED_BY, t->within, SEEDS);
	printf("    %-34s first 100: %.3f of the default; after 100: %.3f of the best static value; "
	       "a cold host joining at the end starts on a value within %.0f%% of the best in %d/%d\n", "",
	       t->first100, t->after100, 100 * TOL, t->joiner_ok, SEEDS);
	printf("    %-34s blocks of %d fleet-wide connections / the default:", "", BLK);
	for (unsigned b = 0; b < FN / BLK; b++)
		printf(" %.2f", t->curve[b]);
	printf("\n");
}

static void fleet_path(struct sim_path *p)
{
	sim_path_deep(p); /* the sparse benchmark's deep path: 60 ms, 10 KB .. 1 MB */
	p->rtt_us = 60000;
	p->lo_bytes = 10000;
	p->hi_bytes = 1000000;
}

/* the four ways on one path: learnd's link, its prior without a decision of its
 * own (the vote of the hosts' values only), pooled decisions, alone */
static void fleet_cases(const char *path, const struct sim_path *p, struct fleet_sum t[4])
{
	static const char *name[4] = { "learnd's fleet link", "link, prior not deciding", "pooled decisions",
				       "alone" };
	static const enum mode mode[4] = { LINK, LINK, POOLED, ALONE };
	char label[80];

	for (int i = 0; i < 4; i++) {
		snprintf(label, sizeof(label), "%s, %s", path, name[i]);
		prior_decides = i != 1;
		fleet_case(label, p, mode[i], &t[i]);
	}
	prior_decides = true;
}

/* A deep path: IW 128 is the best value, the kernel's 10 far from it. */
static void test_fleet_deep(void)
{
	struct fleet_sum t[4];
	struct sim_path p;

	fleet_path(&p);
	fleet_cases("deep", &p, t);
	CHECK(t[0].within >= SEEDS - 2 && t[0].median <= LEARNED_BY,
	      "link: learned within %d fleet-wide connections in %d/%d (median %ld)", LEARNED_BY, t[0].within, SEEDS,
	      t[0].median);
	CHECK(t[0].after100 <= 1.05, "link: after 100 %.3f of the best", t[0].after100);
	CHECK(t[0].joiner_ok == SEEDS, "link: a cold host's first value good in %d/%d", t[0].joiner_ok, SEEDS);
	/* the hosts' votes alone never move: each host has 20 connections in 400 */
	CHECK(t[1].within < t[0].within, "link: a prior that does not decide learns as fast (%d vs %d)", t[1].within,
	      t[0].within);
	CHECK(t[2].within >= SEEDS - 1 && t[2].after100 <= 1.05, "pooled: within %d in %d/%d, after 100 %.3f",
	      LEARNED_BY, t[2].within, SEEDS, t[2].after100);
	/* alone, each host has had 5 connections by then: not enough for anything */
	CHECK(t[3].within == 0, "alone: learned within %d in %d/%d (the comparison means nothing)", LEARNED_BY,
	      t[3].within, SEEDS);
}

/* A buffer of 16 packets: IW 14 is the best, above it initial flights lose their tails. */
static void test_fleet_shallow(void)
{
	struct fleet_sum t[4];
	struct sim_path p;

	fleet_path(&p);
	p.knee = 16;
	fleet_cases("shallow (buffer 16)", &p, t);
	CHECK(t[0].within >= SEEDS - 1, "link: learned within %d in %d/%d", LEARNED_BY, t[0].within, SEEDS);
	CHECK(t[0].after100 <= 1.05, "link: after 100 %.3f of the best", t[0].after100);
	CHECK(t[0].curve[0] <= 1.05, "link: first block %.3f of the default", t[0].curve[0]);
	CHECK(t[2].within >= SEEDS - 1 && t[2].after100 <= 1.05, "pooled: within %d in %d/%d, after 100 %.3f",
	      LEARNED_BY, t[2].within, SEEDS, t[2].after100);
}

int main(void)
{
	RUN(test_fleet_deep);
	RUN(test_fleet_shallow);
	printf("    rows of other hosts rejected: %u\n", rejected);
	return t_summary();
}
