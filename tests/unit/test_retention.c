// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Retention of the history (ld_store_prune, which learnd runs hourly with
 * now - retention_days), through the store's own calls, checked with SQL as an
 * operator would:
 *
 *   prune_rules   aggregates of old buckets go; old decisions go except the last
 *                 of each (prefix, param); evicted prefixes unused within the
 *                 retention go with their samples and decisions; live prefixes
 *                 and recent history stay; a pruned id is never handed out again
 *   months        60 simulated days, an hour at a time (aggregates every 5
 *                 minutes, decisions, hourly prune with 30 days' retention):
 *                 the row counts level off at the bound docs/store.md states
 *                 instead of growing with time
 *
 * No root.  Files go to a fresh directory under $TMPDIR (default /tmp), removed
 * at the end unless a check failed.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "store.h"
#include "harness.h"
#include "sqlutil.h"

#define sql_open(path) t_sql_open(path, false)
#define sql_int(db, sql) t_sql_int(db, sql, -1)

#define SEC 1000000000ull
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
#define BUCKET (300 * SEC)

static char dir[4096];

static int open_store(const char *path, struct ld_store **h)
{
	char err[512];
	int rc = ld_store_open(path, h, err, sizeof(err));

	CHECK(rc == 0, "ld_store_open(%s): %s", path, err);
	return rc;
}

static int put_prefix(struct ld_store *h, uint32_t id, const char *cidr, uint64_t created, uint64_t last_used)
{
	struct ld_store_prefix p;

	memset(&p, 0, sizeof(p));
	p.id = id;
	snprintf(p.cidr, sizeof(p.cidr), "%s", cidr);
	p.origin = "discovered";
	p.created_ns = created;
	p.last_used_ns = last_used;
	p.conns_total = 10;
	p.bound[LEARND_PARAM_IW] = (struct learnd_bound){ LEARND_BOUND_LEARN, 4, 64 };
	return ld_store_put_prefix(h, &p);
}

static int put_agg(struct ld_store *h, uint32_t id, uint32_t iw, uint64_t bucket)
{
	struct ld_agg a = { .n = 10, .cost_sum = 1000, .cost_sum2 = 100000, .segs_out = 100, .bytes = 100000 };

	return ld_store_add_aggregate(h, id, LEARND_PARAM_IW, iw, bucket, &a);
}

static int put_sample(struct ld_store *h, uint32_t id, uint64_t ts)
{
	struct learnd_record r;

	memset(&r, 0, sizeof(r));
	r.raddr[10] = r.raddr[11] = 0xff;
	r.raddr[12] = 198;
	r.prefix_id = id;
	r.flags = LEARND_REC_ESTABLISHED;
	return ld_store_put_sample(h, id, 0, ts, &r);
}

static void prune_rules(void)
{
	uint64_t now = ld_wall_ns() / BUCKET * BUCKET, cutoff = now - 30 * DAY;
	struct ld_store *h;
	char path[4200];
	uint32_t max_id = 0;
	sqlite3 *db;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/rules.db", dir);
	if (open_store(path, &h))
		return;
	rc = ld_store_begin(h);
	/* 1: live; 2: evicted, unused for 40 days; 3: evicted yesterday; 4: evicted, old, the largest id */
	rc = rc ? rc : put_prefix(h, 1, "198.51.100.0/24", now - 90 * DAY, now);
	rc = rc ? rc : put_prefix(h, 2, "198.51.101.0/24", now - 90 * DAY, now - 40 * DAY);
	rc = rc ? rc : put_prefix(h, 3, "198.51.102.0/24", now - 90 * DAY, now - DAY);
	rc = rc ? rc : put_prefix(h, 4, "198.51.103.0/24", now - 90 * DAY, now - 45 * DAY);
	rc = rc ? rc : ld_store_evict_prefix(h, 2, now - 39 * DAY);
	rc = rc ? rc : ld_store_evict_prefix(h, 3, now - DAY);
	rc = rc ? rc : ld_store_evict_prefix(h, 4, now - 44 * DAY);
	for (uint32_t id = 1; id <= 4; id++) {
		rc = rc ? rc : put_agg(h, id, 10, now - 40 * DAY);
		rc = rc ? rc : put_agg(h, id, 20, now - 2 * DAY);
		rc = rc ? rc : put_sample(h, id, now - 40 * DAY);
	}
	/* prefix 1: iw decided 40, 38 and 35 days ago (the last one is in force);
	 * syn_rto_ms 40 days ago and yesterday */
	rc = rc ? rc : ld_store_add_decision(h, now - 40 * DAY, 1, LEARND_PARAM_IW, -1, 10, "init", "first");
	rc = rc ? rc : ld_store_add_decision(h, now - 38 * DAY, 1, LEARND_PARAM_IW, 10, 14, "evidence", "x");
	rc = rc ? rc : ld_store_add_decision(h, now - 35 * DAY, 1, LEARND_PARAM_IW, 14, 20, "evidence", "in force");
	rc = rc ? rc : ld_store_add_decision(h, now - 40 * DAY, 1, LEARND_PARAM_SYN_RTO, -1, 1000, "init", "first");
	rc = rc ? rc : ld_store_add_decision(h, now - DAY, 1, LEARND_PARAM_SYN_RTO, 1000, 300, "estimate", "y");
	rc = rc ? rc : ld_store_add_decision(h, now - 41 * DAY, 2, LEARND_PARAM_IW, -1, 10, "init", "gone");
	rc = rc ? rc : ld_store_add_decision(h, now - 41 * DAY, 3, LEARND_PARAM_IW, -1, 10, "init", "kept");
	rc = rc ? rc : ld_store_commit(h);
	CHECK(rc == 0, "set-up: %s", ld_store_errmsg(h));

	rc = ld_store_begin(h);
	rc = rc ? rc : ld_store_prune(h, cutoff);
	rc = rc ? rc : ld_store_commit(h);
	CHECK(rc == 0, "prune: %s", ld_store_errmsg(h));

	db = sql_open(path);
	CHECK(sql_int(db, "SELECT count(*) FROM aggregates WHERE value = 10") == 0,
	      "aggregates older than the retention must be gone");
	CHECK(sql_int(db, "SELECT count(*) FROM aggregates WHERE value = 20") == 2,
	      "recent aggregates of the prefixes kept (1 and 3) must stay: %lld",
	      (long long)sql_int(db, "SELECT count(*) FROM aggregates WHERE value = 20"));
	CHECK(sql_int(db, "SELECT count(*) FROM prefixes") == 2,
	      "prefixes 1 (live) and 3 (evicted yesterday) must stay, 2 and 4 go: %lld rows",
	      (long long)sql_int(db, "SELECT count(*) FROM prefixes"));
	CHECK(sql_int(db, "SELECT count(*) FROM prefixes WHERE id IN (1, 3)") == 2, "prefixes 1 and 3 must stay");
	CHECK(sql_int(db, "SELECT count(*) FROM samples WHERE prefix_id IN (2, 4)") == 0,
	      "samples of pruned prefixes must go");
	CHECK(sql_int(db, "SELECT count(*) FROM samples WHERE prefix_id IN (1, 3)") == 2,
	      "samples of kept prefixes stay (a ring, bounded anyway)");
	CHECK(sql_int(db, "SELECT count(*) FROM decisions WHERE prefix_id = 1 AND param = 'iw'") == 1 &&
		      sql_int(db, "SELECT new_value FROM decisions WHERE prefix_id = 1 AND param = 'iw'") == 20,
	      "of the old iw decisions only the one in force (20) must stay");
	CHECK(sql_int(db, "SELECT count(*) FROM decisions WHERE prefix_id = 1 AND param = 'syn_rto_ms'") == 1 &&
		      sql_int(db, "SELECT new_value FROM decisions WHERE prefix_id = 1 AND param = 'syn_rto_ms'") == 300,
	      "an old syn_rto_ms decision superseded by a recent one must go");
	CHECK(sql_int(db, "SELECT count(*) FROM decisions WHERE prefix_id = 2") == 0,
	      "decisions of a pruned prefix must go");
	CHECK(sql_int(db, "SELECT count(*) FROM decisions WHERE prefix_id = 3") == 1,
	      "the decision in force of a kept prefix stays");
	sqlite3_close(db);

	CHECK(ld_store_max_prefix_id(h, &max_id) == 0 && max_id == 4,
	      "the largest id ever used (4, pruned) must stay known, or it is handed out again: %u", max_id);
	ld_store_close(h);
	if (open_store(path, &h))
		return;
	max_id = 0;
	CHECK(ld_store_max_prefix_id(h, &max_id) == 0 && max_id == 4, "and after a reopen: %u", max_id);
	ld_store_close(h);
}

/* P prefixes, K (param, value) pairs each, every 5-minute bucket; each prefix
 * changes a value every 2 hours (one decision); a raw sample per bucket; pruned
 * every hour with R days of retention. */
#define M_PREFIXES 2
#define M_PAIRS 6
#define M_DAYS 60
#define M_RETENTION 30

static void months(void)
{
	uint64_t t0 = (ld_wall_ns() / HOUR - M_DAYS * 24) * HOUR;
	int64_t agg_max = 0, dec_max = 0, agg_at_retention = 0, rows;
	int64_t agg_bound = (int64_t)M_PREFIXES * M_PAIRS * 12 * 24 * (M_RETENTION + 1);
	int64_t dec_bound = (int64_t)M_PREFIXES * (12 * (M_RETENTION + 1) + LEARND_PARAM__MAX);
	struct ld_store *h;
	char path[4200];
	sqlite3 *db;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/months.db", dir);
	if (open_store(path, &h))
		return;
	db = sql_open(path);
	rc = ld_store_begin(h);
	for (uint32_t id = 1; !rc && id <= M_PREFIXES; id++) {
		char cidr[32];

		snprintf(cidr, sizeof(cidr), "203.0.%u.0/24", id);
		rc = put_prefix(h, id, cidr, t0, t0);
	}
	rc = rc ? rc : ld_store_commit(h);
	for (unsigned hour = 0; !rc && hour < M_DAYS * 24; hour++) {
		uint64_t th = t0 + hour * HOUR;

		rc = ld_store_begin(h);
		for (unsigned b = 0; !rc && b < 12; b++)
			for (uint32_t id = 1; !rc && id <= M_PREFIXES; id++) {
				for (uint32_t k = 0; !rc && k < M_PAIRS; k++)
					rc = put_agg(h, id, 4 + k, th + b * BUCKET);
				rc = rc ? rc : put_sample(h, id, th + b * BUCKET);
			}
		for (uint32_t id = 1; !rc && hour % 2 == 0 && id <= M_PREFIXES; id++)
			rc = ld_store_add_decision(h, th, id, LEARND_PARAM_IW, 4 + (hour / 2) % M_PAIRS,
						   4 + (hour / 2 + 1) % M_PAIRS, "evidence", "simulated");
		rc = rc ? rc : ld_store_prune(h, th - (uint64_t)M_RETENTION * DAY);
		rc = rc ? rc : ld_store_commit(h);
		if (hour % 24 == 23) {
			rows = sql_int(db, "SELECT count(*) FROM aggregates");
			agg_max = rows > agg_max ? rows : agg_max;
			if (hour / 24 + 1 == M_RETENTION + 1)
				agg_at_retention = rows;
			rows = sql_int(db, "SELECT count(*) FROM decisions");
			dec_max = rows > dec_max ? rows : dec_max;
		}
	}
	CHECK(rc == 0, "simulation: %s", ld_store_errmsg(h));
	rows = sql_int(db, "SELECT count(*) FROM aggregates");
	CHECK(agg_max <= agg_bound, "aggregates grew to %lld rows, over the bound prefixes x pairs x 12 x 24 x "
				    "(retention_days + 1) = %lld",
	      (long long)agg_max, (long long)agg_bound);
	CHECK(rows <= agg_at_retention, "aggregates must level off once the retention is reached: %lld rows at %d "
					"days, %lld at %d days",
	      (long long)agg_at_retention, M_RETENTION + 1, (long long)rows, M_DAYS);
	CHECK(dec_max <= dec_bound, "decisions grew to %lld rows, over %lld", (long long)dec_max, (long long)dec_bound);
	CHECK(sql_int(db, "SELECT count(*) FROM samples") <= M_PREFIXES * 32, "samples: a ring of 32 per prefix");
	printf("    %d days, %d prefixes x %d pairs: at most %lld aggregate rows (bound %lld), %lld decisions "
	       "(bound %lld), %lld bytes\n",
	       M_DAYS, M_PREFIXES, M_PAIRS, (long long)agg_max, (long long)agg_bound, (long long)dec_max,
	       (long long)dec_bound,
	       (long long)(sql_int(db, "PRAGMA page_count") * sql_int(db, "PRAGMA page_size")));
	sqlite3_close(db);
	ld_store_close(h);
}

int main(void)
{
	static const char *const files[] = { "rules.db", "months.db" };

	if (!t_db_dir(dir, sizeof(dir), "retention"))
		return 1;
	RUN(prune_rules);
	RUN(months);
	t_db_dir_done(dir, files, sizeof(files) / sizeof(files[0]), !t_failed);
	return t_summary();
}
