// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Intake throughput of the learner on one core: decoded close records through
 * ld_learner_record() (what learnd's ring-buffer callback calls), a
 * ld_learner_tick() every TICK records (decide + one transaction into the
 * store), with a real store on a temporary file and with no store (NULL) for
 * comparison.  Prints a table: records/s in all (ticks included), the intake
 * alone, the ticks, and the database size per prefix.
 *
 *   bench_intake [RECORDS [TICK [PREFIXES,...]]]    (5000000 100000 1,100,10000)
 *   bench_intake --scale [KNOWN [ACTIVE,... [sqlite|null [TICKS]]]] (1000000 10000,100000 sqlite 10)
 *
 * --scale: KNOWN prefixes discovered from one record each (the sparse
 * majority), the learner's heap and resident memory per prefix, then ticks in
 * which ACTIVE of them have records (see scale() below); "null": no store.
 *
 * The records come from a pool of 2^17 made beforehand (sim paths of
 * tools/sim/pathsim.h), each from a random prefix among K, carrying that
 * prefix's id and a slot's values as the data plane writes them (incumbent iw
 * 20 on 90%, probes 14, 28, 40).  The prefixes are discovered first (one record
 * each with prefix_id 0, then a tick), as learnd meets them; "unmatched" rows
 * feed every record with prefix_id 0 (the default prefix and discovery path).
 * Files go to $TMPDIR (default /tmp) and are removed.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "config.h"
#include "learner.h"
#include "log.h"
#include "store.h"
#include "store_sim.h"

#define POOL (1u << 17)

/* CPU time of this thread: what one core spends, whatever else runs on the
 * machine (wall time is printed too; it adds waiting for the disk and for the
 * CPU). */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void site_of(struct site *s, unsigned i)
{
	if (i % 2 == 0)
		site_v4(s, 10, (i / 2) / 256 % 256, (i / 2) % 256, 10.0 + i % 7 * 20.0, i % 3 ? 0 : 24);
	else
		site_v6(s, i / 2 + 1, 10.0 + i % 5 * 30.0, 0);
}

static off_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? 0 : sb.st_size;
}

struct result {
	double total_s, tick_s, tick_max_s; /* CPU */
	double wall_s;
	unsigned ticks;
	off_t db_bytes;
	uint32_t prefixes;
};

/* The benchmarks' bounds: iw 4..64, syn_rto_ms 200..3000. */
static void bench_cfg(struct ld_config *cfg)
{
	ld_config_init(cfg);
	cfg->defaults.r[LEARND_PARAM_IW] = (struct ld_range){ .min = 4, .max = 64, .set = true };
	cfg->defaults.r[LEARND_PARAM_SYN_RTO] = (struct ld_range){ .min = 200, .max = 3000, .set = true };
}

/* A learner on cfg over the database db (NULL: no store); 0 or -errno, said. */
static int open_learner(const struct ld_config *cfg, const char *db, struct ld_store **h, struct ld_learner **l)
{
	char err[512];
	int rc;

	*h = NULL;
	if (db && (rc = ld_store_open(db, h, err, sizeof(err)))) {
		printf("bench_intake: %s\n", err);
		return rc;
	}
	*l = ld_learner_new(cfg, *h, -1);
	if (!*l) {
		ld_store_close(*h);
		return -ENOMEM;
	}
	return 0;
}

static int run(const char *db, unsigned k, long n, long tick, bool unmatched, struct result *res)
{
	static const struct learnd_arm arms[] = {
		{ .share = 58982, .iw = 20, .syn_rto_ms = 300 }, /* 90% */
		{ .share = 2184, .iw = 14, .syn_rto_ms = 300 },
		{ .share = 2185, .iw = 28, .syn_rto_ms = 300 },
		{ .share = 2185, .iw = 40, .syn_rto_ms = 300 },
	};
	struct learnd_record *pool = calloc(POOL, sizeof(*pool));
	struct ld_learner_stats st;
	struct ld_store *h = NULL;
	struct ld_learner *l;
	struct ld_config cfg;
	struct rng r;
	double t0, w0;
	int rc;

	if (!pool)
		return -ENOMEM;
	memset(res, 0, sizeof(*res));
	bench_cfg(&cfg);
	rc = open_learner(&cfg, db, &h, &l);
	if (rc) {
		free(pool);
		return rc;
	}
	/* discovery, in order: the default prefix is id 1, site i gets id i + 2
	 * (checked below against what the learner reports) */
	rng_seed(&r, 42);
	for (unsigned i = 0; i < k; i++) {
		struct site s;
		struct learnd_record rec;

		site_of(&s, i);
		site_record(&s, &r, &rec);
		ld_learner_record(l, &rec);
	}
	ld_learner_tick(l);
	ld_learner_stats(l, &st);
	if (st.discovered != k) {
		printf("bench_intake: %llu prefixes discovered, want %u\n", (unsigned long long)st.discovered,
			k);
		ld_learner_free(l);
		ld_store_close(h);
		free(pool);
		return -EINVAL;
	}
	for (unsigned i = 0; i < POOL; i++) {
		unsigned j = k > 1 ? rng_below(&r, k) : 0;
		struct site s;

		site_of(&s, j);
		if (!unmatched) {
			s.pol.prefix_id = j + 2;
			s.pol.epoch = 1;
			s.pol.nslots = 4;
			memcpy(s.pol.slots, arms, sizeof(arms));
		}
		site_record(&s, &r, &pool[i]);
	}

	w0 = wall_s();
	t0 = cpu_s();
	for (long i = 0; i < n; i++) {
		ld_learner_record(l, &pool[(unsigned long)i & (POOL - 1)]);
		if ((i + 1) % tick == 0) {
			double a = cpu_s(), d;

			ld_learner_tick(l);
			d = cpu_s() - a;
			res->tick_s += d;
			if (d > res->tick_max_s)
				res->tick_max_s = d;
			res->ticks++;
		}
	}
	res->total_s = cpu_s() - t0;
	res->wall_s = wall_s() - w0;
	ld_learner_stats(l, &st);
	res->prefixes = st.prefixes;
	if (st.store_errors)
		printf("bench_intake: %llu ticks failed to store\n", (unsigned long long)st.store_errors);
	ld_learner_flush(l);
	ld_learner_free(l);
	ld_store_close(h); /* checkpoints the WAL into the file */
	if (db)
		res->db_bytes = file_size(db);
	free(pool);
	return 0;
}


/* ---- scale (issue 16, item 7): many known prefixes, few active ---- */

/* 10+a.b.c.0/24 for i < 16 M: distinct /24s in order. */
static void scale_site(struct site *s, unsigned i)
{
	site_v4(s, 10 + i / 65536, (i / 256) % 256, i % 256, 10.0 + i % 7 * 20.0, i % 3 ? 0 : 24);
}

/* The longest time a tick went without calling its yield (learnd reads the
 * ring there), from the tick's start to its end. */
static double yield_last, yield_gap;

static void on_yield(void *ctx)
{
	double now = wall_s();

	(void)ctx;
	if (now - yield_last > yield_gap)
		yield_gap = now - yield_last;
	yield_last = now;
}

/* Heap in use (malloc'd, including its mmap'd blocks) and resident set, bytes. */
static void heap_bytes(size_t *heap, size_t *rss)
{
	struct mallinfo2 mi = mallinfo2();
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0, res = 0;

	*heap = mi.uordblks + mi.hblkhd;
	if (f && fscanf(f, "%lu %lu", &pages, &res) == 2)
		*rss = res * (size_t)sysconf(_SC_PAGESIZE);
	else
		*rss = 0;
	if (f)
		fclose(f);
}

/*
 * KNOWN prefixes discovered (one record each: the sparse majority), ticks every
 * 100,000 records as learnd's 1 s tick would at that rate; then, for each A in
 * ACTIVE, TICKS ticks in which A of them (a moving window, so they are mostly
 * not the same ones from one A to the next) get PER records each, with their
 * own prefix ids and a slot's values, as if they were in the map.  Prints the
 * learner's memory per known prefix and each tick's cost.
 */
static int scale(unsigned known, const char *alist, bool store, const char *db, int TICKS)
{
	enum { PER = 2 };
	static const struct learnd_arm arm = { .share = LEARND_SHARE_ONE, .iw = 20, .syn_rto_ms = 300 };
	size_t heap0, rss0, heap1, rss1;
	struct ld_learner_stats st;
	struct ld_store *h = NULL;
	struct ld_learner *l;
	struct ld_config cfg;
	struct rng r;
	char err[512];
	double t0, w0, disc_s, disc_w, tmax = 0;
	unsigned base = 0;

	bench_cfg(&cfg);
	cfg.max_prefixes = known + 16;
	if (store && ld_store_open(db, &h, err, sizeof(err))) {
		printf("bench_intake: %s\n", err);
		return -EIO;
	}
	heap_bytes(&heap0, &rss0); /* after the store's open: the learner's heap */
	l = ld_learner_new(&cfg, h, -1);
	if (!l) {
		ld_store_close(h);
		return -ENOMEM;
	}
	ld_learner_set_yield(l, on_yield, NULL);
	rng_seed(&r, 7);
	w0 = wall_s();
	t0 = cpu_s();
	for (unsigned i = 0; i < known; i++) {
		struct site s;
		struct learnd_record rec;

		scale_site(&s, i);
		site_record(&s, &r, &rec);
		ld_learner_record(l, &rec);
		if ((i + 1) % 100000 == 0 || i + 1 == known) {
			double a = cpu_s();

			ld_learner_tick(l);
			if (cpu_s() - a > tmax)
				tmax = cpu_s() - a;
		}
	}
	disc_s = cpu_s() - t0;
	disc_w = wall_s() - w0;
	heap_bytes(&heap1, &rss1);
	ld_learner_stats(l, &st);
	printf("%u prefixes known (discovered %llu; one record each, a tick every 100,000: %.1f s CPU, %.1f s wall, "
	       "longest tick %.0f ms)\n",
	       st.prefixes, (unsigned long long)st.discovered, disc_s, disc_w, tmax * 1e3);
	{
		unsigned k = 0;
		double a = wall_s();

		for (ld_learner_stats(l, &st); k < 1000 && (st.waiting_history || st.waiting_decisions); k++) {
			ld_learner_tick(l);
			ld_learner_stats(l, &st);
		}
		printf("then %u ticks without records (%.1f s) until nothing waits\n", k, wall_s() - a);
	}
	printf("learner memory: heap %.1f MiB (%.0f B per prefix), resident %.1f MiB (%.0f B per prefix); "
	       "store %s (SQLite's own heap %.1f MiB of it)\n\n",
	       (double)(heap1 - heap0) / 1048576.0, (double)(heap1 - heap0) / known, (double)(rss1 - rss0) / 1048576.0,
	       (double)(rss1 - rss0) / known, store ? "sqlite" : "NULL", (double)sqlite3_memory_used() / 1048576.0);
	printf("%9s %9s %8s %12s %9s %9s %9s %7s %7s %7s %7s %9s %9s %9s %9s %8s %7s\n", "active", "records", "ticks",
	       "intake/s", "tick ms", "max ms", "wall ms", "decide", "write", "models", "commit", "dec late",
	       "hist late", "light", "db MiB", "gap ms", "ring");
	for (const char *p = alist; *p;) {
		unsigned a = (unsigned)strtoul(p, NULL, 10), n = a * PER, light = 0;
		unsigned long long late = 0, hlate = 0;
		double gap = 0;
		struct learnd_record *recs = a ? calloc(n, sizeof(*recs)) : NULL;
		double in_s = 0, tk_s = 0, tk_max = 0, tk_w = 0, part[4] = { 0 };
		uint64_t late0, hlate0;

		if (a > known)
			a = known;
		if (!recs)
			break;
		for (int t = 0; t < TICKS; t++) {
			double c0, c1, ww;

			for (unsigned k = 0; k < n; k++) {
				unsigned j = (base + k % a) % known;
				struct site s;

				scale_site(&s, j);
				s.pol.prefix_id = j + 2; /* discovery order: the default is 1 */
				s.pol.epoch = 1;
				s.pol.nslots = 1;
				s.pol.slots[0] = arm;
				site_record(&s, &r, &recs[k]);
			}
			c0 = cpu_s();
			for (unsigned k = 0; k < n; k++)
				ld_learner_record(l, &recs[k]);
			c1 = cpu_s();
			ld_learner_stats(l, &st);
			late0 = st.decisions_late;
			hlate0 = st.history_late;
			ww = yield_last = wall_s();
			yield_gap = 0;
			ld_learner_tick(l);
			on_yield(NULL);
			ww = wall_s() - ww;
			if (yield_gap > gap)
				gap = yield_gap;
			ld_learner_stats(l, &st);
			part[0] += st.tick_decide_ns * 1e-6;
			part[1] += st.tick_write_ns * 1e-6;
			part[2] += st.tick_models_ns * 1e-6;
			part[3] += st.tick_commit_ns * 1e-6;
			late += st.decisions_late - late0;
			hlate += st.history_late - hlate0;
			if (t == TICKS - 1)
				light = st.light;
			in_s += c1 - c0;
			tk_s += cpu_s() - c1;
			tk_w += ww;
			if (cpu_s() - c1 > tk_max)
				tk_max = cpu_s() - c1;
		}
		base += a;
		ld_learner_stats(l, &st);
		/* records that arrive in the longest gap, at n a second (learnd's
		 * default 1 s tick), against the default 4 MiB ring (160 B each) */
		printf("%9u %9u %8d %12.0f %9.1f %9.1f %9.1f %7.0f %7.0f %7.0f %7.0f %9llu %9llu %9u %9.1f %8.1f %6.0f%%\n",
		       a, n, TICKS, (double)n * TICKS / in_s, tk_s * 1e3 / TICKS, tk_max * 1e3, tk_w * 1e3 / TICKS,
		       part[0] / TICKS, part[1] / TICKS, part[2] / TICKS, part[3] / TICKS, (unsigned long long)late,
		       (unsigned long long)hlate, light, store ? file_size(db) / 1048576.0 : 0.0, gap * 1e3,
		       100.0 * n * gap / (4096.0 * 1024 / 160));
		printf("          after the last tick: %zu prefixes with history waiting, %zu with a decision due\n",
		       st.waiting_history, st.waiting_decisions);
		fflush(stdout);
		free(recs);
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	ld_learner_stats(l, &st);
	if (st.store_errors)
		printf("bench_intake: %llu ticks failed to store\n", (unsigned long long)st.store_errors);
	ld_learner_free(l);
	ld_store_close(h);
	return 0;
}

int main(int argc, char **argv)
{
	bool scale_mode = argc > 1 && !strcmp(argv[1], "--scale");
	long n = argc > 1 && !scale_mode ? atol(argv[1]) : 5000000;
	long tick = argc > 2 ? atol(argv[2]) : 100000;
	const char *klist = argc > 3 ? argv[3] : "1,100,10000";
	const char *tmp = getenv("TMPDIR");
	char dir[4096], db[4200], logpath[4200];
	cpu_set_t one;

	if (n <= 0 || tick <= 0) {
		fprintf(stderr, "usage: bench_intake [RECORDS [TICK [PREFIXES,...]]]\n");
		return 2;
	}
	ld_log_init("bench_intake", -1);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
	sched_setaffinity(0, sizeof(one), &one); /* one core */
	snprintf(dir, sizeof(dir), "%s/learnd-bench-intake.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	/* learnd's own log lines (decisions, one per prefix and change) go to a
	 * file, not between the rows of the table */
	snprintf(logpath, sizeof(logpath), "%s/learnd.log", dir);
	if (!freopen(logpath, "w", stderr)) {
		perror(logpath);
		return 1;
	}
	if (scale_mode) {
		unsigned known = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1000000;
		int rc;

		printf("scale: one core (CPU time of the thread); struct learnd_model %zu bytes\n", sizeof(struct learnd_model));
		snprintf(db, sizeof(db), "%s/scale.db", dir);
		rc = scale(known ? known : 1, argc > 3 ? argv[3] : "10000,100000", !(argc > 4 && !strcmp(argv[4], "null")),
			   db, argc > 5 && atoi(argv[5]) > 0 ? atoi(argv[5]) : 10);
		for (const char *sfx = ""; sfx; sfx = !*sfx ? "-wal" : !strcmp(sfx, "-wal") ? "-shm" : NULL) {
			char p2[4300];

			snprintf(p2, sizeof(p2), "%s%s", db, sfx);
			unlink(p2);
		}
		unlink(logpath);
		rmdir(dir);
		return rc ? 1 : 0;
	}
	printf("%ld records, a tick every %ld, one core (CPU time of the thread); struct learnd_model %zu bytes\n\n",
	       n, tick, sizeof(struct learnd_model));
	printf("%9s %-9s %-6s %12s %12s %12s %6s %9s %9s %12s\n", "prefixes", "records", "store", "records/s",
	       "intake/s", "wall rec/s", "ticks", "tick ms", "max ms", "db B/prefix");
	for (const char *p = klist; *p;) {
		unsigned k = (unsigned)strtoul(p, NULL, 10);

		for (int c = 0; c < 3; c++) {
			bool store = c != 1, unmatched = c == 2;
			struct result res;
			int rc;

			if (unmatched && k < 100)
				continue;
			snprintf(db, sizeof(db), "%s/intake.db", dir);
			rc = run(store ? db : NULL, k, n, tick, unmatched, &res);
			if (rc) {
				printf("bench_intake: K=%u: %s\n", k, strerror(-rc));
				return 1;
			}
			printf("%9u %-9s %-6s %12.0f %12.0f %12.0f %6u %9.2f %9.2f %12lld\n", k,
			       unmatched ? "unmatched" : "matched", store ? "sqlite" : "NULL", (double)n / res.total_s,
			       (double)n / (res.total_s - res.tick_s), (double)n / res.wall_s, res.ticks,
			       res.ticks ? res.tick_s * 1e3 / res.ticks : 0.0, res.tick_max_s * 1e3,
			       (long long)(res.db_bytes / (res.prefixes ? res.prefixes : 1)));
			fflush(stdout);
			if (store) {
				char p2[4300];

				unlink(db);
				snprintf(p2, sizeof(p2), "%s-wal", db);
				unlink(p2);
				snprintf(p2, sizeof(p2), "%s-shm", db);
				unlink(p2);
			}
		}
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	fflush(stderr);
	{
		FILE *f = fopen(logpath, "r");
		char line[1024];
		unsigned errs = 0;

		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, " error: ")) {
				if (errs++ < 5)
					printf("learnd: %s", line);
			}
		if (f)
			fclose(f);
		if (errs)
			printf("%u error lines from the learner\n", errs);
	}
	unlink(logpath);
	rmdir(dir);
	return 0;
}
