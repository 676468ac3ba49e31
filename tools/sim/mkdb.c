// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ld_mkdb(DB, NPREFIXES, BUCKETS): a learnd database made by the store's own
 * code (ld_store_open applies schema/, then the same
 * ld_store_put_* calls learnd makes every tick), with known contents, for
 * tests/unit/test_learnctl.sh and the testbed (through learnctl_mkdb), tools/bench_report.sh
 * and tests/fuzz/fuzz_learnctl.c.
 *
 * Prefix 1 is 192.0.2.0/24 (configured: iw 4..64, rwnd 10..100, syn_rto_ms
 * 200..3000), prefix 2 is 2001:db8:1::/48 (discovered, iw fixed at 20), prefix 3 is ::/0
 * (default), the rest 10.a.b.0/24 then 2001:db8:N::/48 (discovered).
 * Every prefix: slots {iw 20: 90%, iw 40: 10%}, rwnd 0, syn_rto_ms 300 (prefix
 * 1: pinned values are up to the test), BUCKETS 5-minute buckets ending now of
 * iw aggregates for values 10, 20, 40 (10 connections each, mean connection
 * time 300, 200, 150 ms, 1 retransmit per 100 segments), two decisions
 * (init 10, then 10 -> 20 with a quoted reason), one raw sample, the config.
 * Prefix 1 also has the model state of a server (40 connections that sent
 * 200 KB and received 300 B): IW learned, RWND "no effect here".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mkdb.h"
#include "model.h"
#include "pathsim.h" /* sim_server_record */
#include "store.h"

#define BUCKET_NS (300ull * 1000000000ull)

static void die(const char *what, int rc, struct ld_store *h)
{
	fprintf(stderr, "mkdb: %s: %s (%s)\n", what, strerror(-rc), ld_store_errmsg(h));
	exit(1);
}

static void prefix_text(unsigned long i, char *buf, size_t len)
{
	if (i == 1)
		snprintf(buf, len, "192.0.2.0/24");
	else if (i == 2)
		snprintf(buf, len, "2001:db8:1::/48");
	else if (i == 3)
		snprintf(buf, len, "::/0"); /* learnd's catch-all for [defaults] */
	else if (i - 4 < 65536)
		snprintf(buf, len, "10.%lu.%lu.0/24", (i - 4) / 256, (i - 4) % 256);
	else
		snprintf(buf, len, "2001:db8:%lx::/48", i - 4 - 65536 + 2);
}

/* The model state learnd would save for a server prefix, made by the model. */
static int put_server_model(struct ld_store *h, const struct ld_store_prefix *p, uint64_t now)
{
	static struct learnd_model m;
	static struct learnd_model_row rows[LEARND_MODEL_MAX_ROWS];
	struct learnd_model_cfg cfg;
	struct learnd_record r;
	size_t n;

	learnd_model_cfg_default(&cfg);
	memcpy(cfg.bound, p->bound, sizeof(cfg.bound));
	if (learnd_model_init(&m, &cfg))
		return -EINVAL;
	sim_server_record(&r, &(struct learnd_arm){ .iw = 20 }, 40000);
	for (int k = 0; k < 40; k++)
		learnd_model_observe(&m, &r, now);
	n = learnd_model_export(&m, rows, LEARND_MODEL_MAX_ROWS);
	return ld_store_put_model(h, p->id, rows, n, now);
}

int ld_mkdb(const char *path, unsigned long n, unsigned long buckets, unsigned long *aggregates)
{
	static const uint32_t values[] = { 10, 20, 40 };
	static const double mean_ms[] = { 300, 200, 150 };
	struct ld_store *h;
	char err[512];
	uint64_t now, first_bucket;
	int rc;

	rc = ld_store_open(path, &h, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "mkdb: %s\n", err);
		return 1;
	}
	if (aggregates)
		*aggregates = 0;
	now = ld_wall_ns();
	first_bucket = (now / BUCKET_NS - (buckets ? buckets - 1 : 0)) * BUCKET_NS;
	if ((rc = ld_store_begin(h)))
		die("begin", rc, h);
	rc = ld_store_put_config(h, now, "/etc/learnd/learnd.conf", "[defaults]\niw = 4..64\n");
	if (rc)
		die("config", rc, h);
	for (unsigned long i = 1; i <= n; i++) {
		struct ld_store_prefix p;
		struct learnd_policy pol;
		struct learnd_record rec;

		memset(&p, 0, sizeof(p));
		p.id = (uint32_t)i;
		prefix_text(i, p.cidr, sizeof(p.cidr));
		p.origin = learnd_origin_name(i == 1 ? LEARND_ORIGIN_CONFIGURED : i == 3 ? LEARND_ORIGIN_DEFAULT
							 : LEARND_ORIGIN_DISCOVERED, 0);
		p.created_ns = now - 7200ull * 1000000000ull;
		p.last_used_ns = now;
		p.conns_total = 30 * buckets + i % 7;
		p.bound[LEARND_PARAM_IW] = i == 2 ? (struct learnd_bound){ LEARND_BOUND_FIXED, 20, 20 }
						  : (struct learnd_bound){ LEARND_BOUND_LEARN, 4, 64 };
		if (i == 1) {
			p.bound[LEARND_PARAM_RWND] = (struct learnd_bound){ LEARND_BOUND_LEARN, 10, 100 };
			p.bound[LEARND_PARAM_SYN_RTO] = (struct learnd_bound){ LEARND_BOUND_LEARN, 200, 3000 };
		}
		if ((rc = ld_store_put_prefix(h, &p)))
			die("prefix", rc, h);

		memset(&pol, 0, sizeof(pol));
		pol.prefix_id = p.id;
		pol.epoch = 2;
		pol.nslots = 2;
		pol.slots[0] = (struct learnd_arm){ .share = LEARND_SHARE_ONE - 6554, .iw = 20, .syn_rto_ms = 300 };
		pol.slots[1] = (struct learnd_arm){ .share = 6554, .iw = 40, .syn_rto_ms = 300 };
		if ((rc = ld_store_put_slots(h, p.id, &pol)))
			die("slots", rc, h);
		if (i == 1 && (rc = put_server_model(h, &p, now)))
			die("model", rc, h);

		for (unsigned long b = 0; b < buckets; b++) {
			for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
				struct ld_agg a = {
					.n = 10, .failed = 0, .retrans = 1, .segs_out = 100, .bytes = 10 * 100000,
					.cost_sum = 10 * mean_ms[v],
					/* standard deviation 10% of the mean */
					.cost_sum2 = 10 * mean_ms[v] * mean_ms[v] * 1.01,
					.handshake_sum = 10 * 40.0,
				};

				rc = ld_store_add_aggregate(h, p.id, LEARND_PARAM_IW, values[v], first_bucket + b * BUCKET_NS, &a);
				if (rc)
					die("aggregate", rc, h);
				if (aggregates)
					++*aggregates;
			}
		}
		rc = ld_store_add_decision(h, now - 3600ull * 1000000000ull, p.id, LEARND_PARAM_IW, -1, 10, "init",
					   "first decision: kernel default 10");
		if (!rc)
			rc = ld_store_add_decision(h, now - 600ull * 1000000000ull, p.id, LEARND_PARAM_IW, 10, 20, "evidence",
						   "iw 10->20: cost \"0.67\" vs 1.00, n=240 vs 240");
		if (rc)
			die("decision", rc, h);

		sim_server_record(&rec, &pol.slots[0], 40000);
		rec.prefix_id = p.id;
		if ((rc = ld_store_put_sample(h, p.id, 0, now, &rec)))
			die("sample", rc, h);
		if (i % 20000 == 0) { /* keep one transaction from growing without end */
			if ((rc = ld_store_commit(h)) || (rc = ld_store_begin(h)))
				die("commit", rc, h);
		}
	}
	if ((rc = ld_store_put_daemon(h, "last_tick_ns", (int64_t)now)) || (rc = ld_store_commit(h)))
		die("commit", rc, h);
	ld_store_close(h);
	return 0;
}
