// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The record path does no I/O (learner.h): ld_learner_record touches neither
 * the store nor the policy map.  What a record leaves for them -- the id of a
 * newly discovered prefix (a lookup in the store), the map entry and the row of
 * a prefix evicted at the cap -- waits for the next tick.
 *
 * Every SQLite statement the learner and its store run, and every policy map
 * call, goes through a wrapper here (linked with -Wl,--wrap, so the learner's
 * code is the one learnd runs): the map is a table in memory, and while records
 * are fed a call of either is counted and the first one named.
 *
 *   record_io    discovery up to the cap, eviction at the cap (of prefixes in
 *                the map and in the database), a stored prefix seen again: no
 *                call between the ticks; after each tick the map and the
 *                database say what they said when this was done at once
 *                (evicted entries out of the map, their rows marked evicted,
 *                the prefix seen again back under its old id)
 *
 * Files go to a fresh directory under $TMPDIR (default /tmp), removed at the
 * end unless a check failed.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cidr.h"
#include "config.h"
#include "learner.h"
#include "log.h"
#include "store.h"
#include "sqlutil.h"
#include "harness.h"
#include "store_sim.h"

/* ---- the wrappers ---- */

static bool guard;           /* records are being fed: no call allowed */
static unsigned guarded;     /* calls made while guard was set */
static const char *guarded_first;

static void touched(const char *fn)
{
	if (guard && !guarded++)
		guarded_first = fn;
}

int __real_sqlite3_step(sqlite3_stmt *st);
int __real_sqlite3_exec(sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **), void *ctx,
			char **err);
int __wrap_sqlite3_step(sqlite3_stmt *st);
int __wrap_sqlite3_exec(sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **), void *ctx,
			char **err);

int __wrap_sqlite3_step(sqlite3_stmt *st)
{
	touched("sqlite3_step");
	return __real_sqlite3_step(st);
}

int __wrap_sqlite3_exec(sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **), void *ctx,
			char **err)
{
	touched("sqlite3_exec");
	return __real_sqlite3_exec(db, sql, cb, ctx, err);
}

/* The policy map: an LPM trie in the kernel, a table of keys here. */
#define MAP_MAX 64
static struct {
	bool used;
	struct learnd_key key;
	struct learnd_policy pol;
} map[MAP_MAX];

static int map_find(const void *key)
{
	for (int i = 0; i < MAP_MAX; i++)
		if (map[i].used && !memcmp(&map[i].key, key, sizeof(map[i].key)))
			return i;
	return -1;
}

int __wrap_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);
int __wrap_bpf_map_delete_elem(int fd, const void *key);
int __wrap_bpf_map_get_next_key(int fd, const void *key, void *next_key);

int __wrap_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags)
{
	int i = map_find(key);

	(void)fd;
	(void)flags;
	touched("bpf_map_update_elem");
	for (int k = 0; i < 0 && k < MAP_MAX; k++)
		if (!map[k].used)
			i = k;
	if (i < 0) {
		errno = E2BIG;
		return -E2BIG;
	}
	map[i].used = true;
	memcpy(&map[i].key, key, sizeof(map[i].key));
	memcpy(&map[i].pol, value, sizeof(map[i].pol));
	return 0;
}

int __wrap_bpf_map_delete_elem(int fd, const void *key)
{
	int i = map_find(key);

	(void)fd;
	touched("bpf_map_delete_elem");
	if (i < 0) {
		errno = ENOENT;
		return -ENOENT;
	}
	map[i].used = false;
	return 0;
}

/* In table order (not the trie's: learnd starts over after each delete). */
int __wrap_bpf_map_get_next_key(int fd, const void *key, void *next_key)
{
	int i = key ? map_find(key) + 1 : 0;

	(void)fd;
	touched("bpf_map_get_next_key");
	for (; i < MAP_MAX; i++)
		if (map[i].used) {
			memcpy(next_key, &map[i].key, sizeof(map[i].key));
			return 0;
		}
	errno = ENOENT;
	return -ENOENT;
}

/* ---- helpers ---- */

static char dir[4096];

static struct learnd_key key_of(const struct site *s)
{
	struct learnd_key k = { .prefixlen = s->len };

	memcpy(k.addr, s->net, sizeof(k.addr));
	return k;
}

static const struct learnd_policy *map_policy(const struct site *s)
{
	struct learnd_key k = key_of(s);
	int i = map_find(&k);

	return i < 0 ? NULL : &map[i].pol;
}

/* The id of the site's row, -1 when there is none; evicted: only a row marked
 * evicted, else only one that is not. */
static int64_t stored_id(sqlite3 *db, const struct site *s, bool evicted)
{
	struct learnd_key k = key_of(s);
	char cidr[LD_CIDR_STRLEN], sql[256];

	ld_cidr_format(&k, cidr, sizeof(cidr));
	snprintf(sql, sizeof(sql), "SELECT id FROM prefixes WHERE cidr = '%s' AND evicted_ns IS %s", cidr,
		 evicted ? "NOT NULL" : "NULL");
	return t_sql_int(db, sql, -1);
}

/* n records from each of the sites [from, to), with the guard up: a call of the
 * store or the map is counted. */
static void feed(struct ld_learner *l, const struct site *s, unsigned from, unsigned to, unsigned n, struct rng *r)
{
	struct learnd_record rec;

	guard = true;
	for (unsigned i = from; i < to; i++)
		for (unsigned k = 0; k < n; k++) {
			site_record(&s[i], r, &rec);
			ld_learner_record(l, &rec);
		}
	guard = false;
}

#define CHECK_NO_IO(what)                                                                               \
	do {                                                                                            \
		CHECK(guarded == 0, "%s: %u store or map calls on the record path, the first %s", what, \
		      guarded, guarded_first ? guarded_first : "-");                                    \
		guarded = 0;                                                                            \
		guarded_first = NULL;                                                                   \
	} while (0)

/* ---- test ---- */

#define NSITES 20
#define CAP 16 /* max_prefixes: 15 discovered + the default */

static void record_io(void)
{
	struct ld_learner_stats st;
	struct site s[NSITES];
	struct ld_config cfg;
	struct ld_store *h = NULL;
	struct ld_learner *l;
	int64_t id0 = -1;
	char path[4200], err[256];
	int fd, tick_errs = 0;
	struct rng r;
	sqlite3 *db;

	rng_seed(&r, 14);
	for (unsigned i = 0; i < NSITES; i++)
		site_v4(&s[i], 10, 0, i, 20, 0);
	ld_config_init(&cfg);
	cfg.defaults.r[LEARND_PARAM_IW] = (struct ld_range){ .min = 4, .max = 64, .set = true };
	cfg.max_prefixes = CAP;
	snprintf(path, sizeof(path), "%s/record_io.db", dir);
	if (ld_store_open(path, &h, err, sizeof(err))) {
		CHECK(0, "ld_store_open: %s", err);
		return;
	}
	fd = open("/dev/null", O_RDONLY); /* the map's fd: only the wrappers see it */
	l = ld_learner_new(&cfg, h, fd);
	db = t_sql_open(path, false);
	if (!l || !db || fd < 0) {
		CHECK(0, "learner, fd and a connection of its own");
		goto out;
	}
	tick_errs += ld_learner_tick(l) != 0;

	/* discovery up to the cap: 15 prefixes, 6 records each (a model of
	 * their own from the fifth) */
	feed(l, s, 0, CAP - 1, 6, &r);
	CHECK_NO_IO("discovery");
	ld_learner_stats(l, &st);
	CHECK(st.records == (CAP - 1) * 6 && st.discovered == CAP - 1 && st.evicted == 0 && st.prefixes == CAP,
	      "records %llu discovered %llu evicted %llu prefixes %u", (unsigned long long)st.records,
	      (unsigned long long)st.discovered, (unsigned long long)st.evicted, st.prefixes);
	tick_errs += ld_learner_tick(l) != 0;
	id0 = stored_id(db, &s[0], false);
	CHECK(id0 > 0, "10.0.0.0/24 must be stored after the tick");
	CHECK(map_policy(&s[0]) && map_policy(&s[0])->prefix_id == id0,
	      "its policy must be in the map under its stored id %lld (map: %u)", (long long)id0,
	      map_policy(&s[0]) ? map_policy(&s[0])->prefix_id : 0);

	/* four more: each evicts the least recently used, 10.0.0..3.0/24, which
	 * are in the map and in the database */
	feed(l, s, CAP - 1, CAP + 3, 1, &r);
	CHECK_NO_IO("eviction");
	ld_learner_stats(l, &st);
	CHECK(st.discovered == CAP + 3 && st.evicted == 4 && st.prefixes == CAP,
	      "discovered %llu evicted %llu prefixes %u", (unsigned long long)st.discovered,
	      (unsigned long long)st.evicted, st.prefixes);
	tick_errs += ld_learner_tick(l) != 0;
	for (unsigned i = 0; i < 4; i++) {
		CHECK(!map_policy(&s[i]), "evicted 10.0.%u.0/24 must be out of the map after the tick", i);
		CHECK(stored_id(db, &s[i], true) > 0, "evicted 10.0.%u.0/24 must be marked evicted", i);
	}
	CHECK(map_policy(&s[4]), "10.0.4.0/24 (not evicted) must stay in the map");
	CHECK(stored_id(db, &s[CAP - 1], false) > 0, "10.0.15.0/24, discovered by one record, must be stored");

	/* 10.0.0.0/24 seen again: discovered under its old id (evicting 10.0.4.0/24) */
	feed(l, s, 0, 1, 1, &r);
	CHECK_NO_IO("rediscovery");
	tick_errs += ld_learner_tick(l) != 0;
	CHECK(stored_id(db, &s[0], false) == id0, "10.0.0.0/24 seen again must be back under its id %lld, is %lld",
	      (long long)id0, (long long)stored_id(db, &s[0], false));
	CHECK(!map_policy(&s[4]) && stored_id(db, &s[4], true) > 0,
	      "10.0.4.0/24, evicted for it, must be out of the map and marked evicted");
	ld_learner_stats(l, &st);
	CHECK(st.records == (CAP - 1) * 6 + 4 + 1 && st.discovered == CAP + 4 && st.evicted == 5 && st.prefixes == CAP,
	      "records %llu discovered %llu evicted %llu prefixes %u", (unsigned long long)st.records,
	      (unsigned long long)st.discovered, (unsigned long long)st.evicted, st.prefixes);
	CHECK(t_sql_int(db, "SELECT count(*) FROM prefixes WHERE evicted_ns IS NULL", -1) == CAP,
	      "the rows not marked evicted must be the %u prefixes held", CAP);
	CHECK(tick_errs == 0 && st.store_errors == 0, "ticks must commit (%d failed)", tick_errs);
out:
	sqlite3_close(db);
	ld_learner_free(l);
	ld_store_close(h);
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	ld_log_init("test_record_io", 0);
	if (!t_db_dir(dir, sizeof(dir), "record-io"))
		return 1;
	printf("files in %s\n", dir);
	RUN(record_io);
	if (!t_failed) {
		char p[4200];

		snprintf(p, sizeof(p), "%s/record_io.db", dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/record_io.db-wal", dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/record_io.db-shm", dir);
		unlink(p);
		rmdir(dir);
	}
	return t_summary();
}
