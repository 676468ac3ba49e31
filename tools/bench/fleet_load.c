// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The write load of a fleet on one PostgreSQL (docs/fleet-sizing.md;
 * tools/bench/fleet_scale.sh runs it on a throwaway cluster).  Each simulated
 * host is a thread with a libpq connection of its own role (so row-level
 * security runs as for a real host), pushing every INTERVAL seconds the rows
 * of its changed prefixes as the fleet link does: in one transaction, batched
 * multi-row INSERT ... ON CONFLICT DO UPDATE into learnd.evidence, the values
 * in force into learnd.in_force, then the prefix's older rows deleted.  The
 * rows are real: what learnd_model_export() gives for a prefix after RECORDS
 * simulated connections on the sparse benchmark's deep path (tests/unit/pathsim.h).
 *
 *   fleet_load --conninfo BASE --hosts N [--prefixes P] [--changed F] [--interval S]
 *              [--duration S] [--records R] [--batch B] [--pg-pid PID] [--max]
 *     BASE       libpq conninfo without user: host i logs in as fleet_load_hI (its
 *                password from the passfile) and writes the rows of fleet host hI
 *     --changed  share of the prefixes changed per interval (1: all)
 *     --max      no pause between pushes: what the server holds at full load
 *     --pg-pid   the postmaster: its and its children's CPU time is measured
 *   Prints one line of key=value: rows, rows_s, pushes, late (pushes that took
 *   longer than the interval), push_p50_ms, push_max_ms, pg_cpu (cores busy),
 *   client_cpu, rows_per_pg_cpu_s, rows_per_prefix.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "pathsim.h"

#define MAX_BATCH 1000
#define ROW_PARAMS 9 /* prefix kind param key n sum sum2 sum_raw age ($1 is the host) */

static const char *conninfo_base;
static int nhosts = 1, prefixes = 10000, batch = 500, max_mode;
static double changed = 1.0, interval_s = 10, duration_s = 60;
static struct learnd_model_row tmpl[LEARND_MODEL_MAX_ROWS];
static size_t ntmpl;

struct host {
	pthread_t th;
	int id;
	long rows, pushes, late, failed;
	double push_ms_max;
	double *push_ms; /* one per push (for the median) */
	long cap;
	char err[256];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU seconds of pid and its children (a postmaster's backends) */
static double pg_cpu_s(long pid)
{
	double hz = (double)sysconf(_SC_CLK_TCK), t = 0;
	struct dirent *e;
	DIR *d;

	if (pid <= 0 || !(d = opendir("/proc")))
		return 0;
	while ((e = readdir(d))) {
		char path[300], buf[1024], *p;
		unsigned long ut, st;
		long ppid, self;
		FILE *f;
		size_t n;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		self = atol(e->d_name);
		if (!(p = strrchr(buf, ')')) ||
		    sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ppid, &ut, &st) != 3)
			continue;
		if (self == pid || ppid == pid)
			t += (double)(ut + st) / hz;
	}
	closedir(d);
	return t;
}

/* a prefix's rows: one simulated prefix after records connections (the same
 * rows for every prefix: what is measured is the write, not their content) */
static void make_rows(unsigned records)
{
	struct learnd_model_cfg c;
	struct learnd_model_decision d;
	struct learnd_record rec;
	static struct learnd_model m;
	struct sim_path p;
	struct rng r;

	learnd_model_cfg_default(&c);
	bound_learn(&c, LEARND_PARAM_IW, 4, 128);
	bound_learn(&c, LEARND_PARAM_RWND, 10, 256);
	bound_learn(&c, LEARND_PARAM_SYN_RTO, 4, 1000);
	learnd_model_init(&m, &c);
	sim_path_deep(&p);
	p.rtt_us = 60000;
	p.lo_bytes = 10000;
	p.hi_bytes = 1000000;
	rng_seed(&r, 1);
	learnd_model_decide(&m, &d);
	for (unsigned k = 0; k < records; k++) {
		unsigned sl = pick_slot(&d, &r);

		sim_record(&p, &r, &d.slots[sl], sl, 0, &rec);
		learnd_model_observe(&m, &rec, (uint64_t)k * 1000000000ull);
		if ((k + 1) % 2 == 0)
			learnd_model_decide(&m, &d);
	}
	ntmpl = learnd_model_export(&m, tmpl, LEARND_MODEL_MAX_ROWS);
}

/* "INSERT ... VALUES ($1, $2, ...), ... ON CONFLICT ... DO UPDATE" for n rows */
static char *upsert_sql(int n)
{
	size_t len = 512 + (size_t)n * ROW_PARAMS * 16, o;
	char *s = malloc(len);

	if (!s)
		return NULL;
	o = (size_t)snprintf(s, len, "INSERT INTO learnd.evidence (host, prefix, kind, param, key, n, sum, sum2, "
				     "sum_raw, age, updated) VALUES ");
	for (int i = 0; i < n; i++) {
		int b = 2 + i * ROW_PARAMS;

		o += (size_t)snprintf(s + o, len - o, "%s($1,$%d::cidr,$%d::smallint,$%d::smallint,$%d::bigint,"
						       "$%d::float8,$%d::float8,$%d::float8,$%d::float8,$%d::bigint,now())",
				      i ? "," : "", b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8);
	}
	snprintf(s + o, len - o, " ON CONFLICT (host, prefix, kind, param, key) DO UPDATE SET n = EXCLUDED.n, "
				 "sum = EXCLUDED.sum, sum2 = EXCLUDED.sum2, sum_raw = EXCLUDED.sum_raw, "
				 "age = EXCLUDED.age, updated = EXCLUDED.updated");
	return s;
}

static const char *IN_FORCE_SQL =
	"INSERT INTO learnd.in_force (host, prefix, iw, rwnd, syn_rto_ms, base_rtt_us, samples, updated) "
	"SELECT $1, p, 128, 0, 300, 60000, 300, now() FROM unnest($2::cidr[]) p "
	"ON CONFLICT (host, prefix) DO UPDATE SET iw = EXCLUDED.iw, rwnd = EXCLUDED.rwnd, "
	"syn_rto_ms = EXCLUDED.syn_rto_ms, base_rtt_us = EXCLUDED.base_rtt_us, samples = EXCLUDED.samples, "
	"updated = EXCLUDED.updated";
static const char *DELETE_SQL =
	"DELETE FROM learnd.evidence WHERE host = $1 AND prefix = ANY($2::cidr[]) AND updated < now()";

static bool ok(PGresult *r, struct host *h, const char *what)
{
	ExecStatusType s = PQresultStatus(r);

	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
		PQclear(r);
		return true;
	}
	snprintf(h->err, sizeof(h->err), "%s: %s", what, PQresultErrorMessage(r));
	PQclear(r);
	return false;
}

/* prefix i: the same /24 on every host (the same clients reach all of them) */
static void prefix_of(long i, char *out, size_t len)
{
	snprintf(out, len, "%ld.%ld.%ld.0/24", 1 + i / 65536, (i / 256) % 256, i % 256);
}

/* one push: the rows of prefixes [first, first + n) in one transaction */
static bool push(PGconn *c, struct host *h, long first, long n, char *sql_tail, int tail_rows)
{
	static __thread char vals[MAX_BATCH * ROW_PARAMS][32];
	static __thread const char *pv[1 + MAX_BATCH * ROW_PARAMS];
	char hostname[32], *arr = malloc((size_t)n * 24 + 4);
	long total = n * (long)ntmpl, done = 0;
	size_t ao = 0;

	if (!arr)
		return false;
	snprintf(hostname, sizeof(hostname), "h%d", h->id);
	pv[0] = hostname;
	if (!ok(PQexec(c, "BEGIN"), h, "BEGIN"))
		goto fail;
	arr[ao++] = '{';
	for (long i = 0; i < n; i++) {
		char pfx[32];

		prefix_of((first + i) % prefixes, pfx, sizeof(pfx));
		ao += (size_t)sprintf(arr + ao, "%s%s", i ? "," : "", pfx);
	}
	arr[ao++] = '}';
	arr[ao] = 0;
	while (done < total) {
		int m = total - done >= batch ? batch : (int)(total - done);

		for (int j = 0; j < m; j++) {
			const struct learnd_model_row *r = &tmpl[(done + j) % (long)ntmpl];
			char (*v)[32] = &vals[j * ROW_PARAMS];

			prefix_of((first + (done + j) / (long)ntmpl) % prefixes, v[0], 32);
			snprintf(v[1], 32, "%u", r->kind);
			snprintf(v[2], 32, "%u", r->param);
			snprintf(v[3], 32, "%u", r->key);
			snprintf(v[4], 32, "%.17g", r->n);
			snprintf(v[5], 32, "%.17g", r->sum);
			snprintf(v[6], 32, "%.17g", r->sum2);
			snprintf(v[7], 32, "%.17g", r->sum_raw);
			snprintf(v[8], 32, "%llu", (unsigned long long)r->age);
			for (int q = 0; q < ROW_PARAMS; q++)
				pv[1 + j * ROW_PARAMS + q] = v[q];
		}
		if (m == batch) {
			if (!ok(PQexecPrepared(c, "up", 1 + m * ROW_PARAMS, pv, NULL, NULL, 0), h, "upsert"))
				goto fail;
		} else {
			char *s = m == tail_rows ? sql_tail : upsert_sql(m);

			if (!s || !ok(PQexecParams(c, s, 1 + m * ROW_PARAMS, NULL, pv, NULL, NULL, 0), h, "upsert")) {
				if (s != sql_tail)
					free(s);
				goto fail;
			}
			if (s != sql_tail)
				free(s);
		}
		done += m;
	}
	{
		const char *p2[2] = { hostname, arr };

		if (!ok(PQexecParams(c, IN_FORCE_SQL, 2, NULL, p2, NULL, NULL, 0), h, "in_force") ||
		    !ok(PQexecParams(c, DELETE_SQL, 2, NULL, p2, NULL, NULL, 0), h, "delete") ||
		    !ok(PQexec(c, "COMMIT"), h, "COMMIT"))
			goto fail;
	}
	free(arr);
	h->rows += total;
	return true;
fail:
	free(arr);
	PQclear(PQexec(c, "ROLLBACK"));
	return false;
}

static void *host_main(void *arg)
{
	struct host *h = arg;
	char ci[512], *full = upsert_sql(batch), *tail = NULL;
	long nch = (long)(prefixes * changed + 0.5), next = 0;
	int tail_rows = (int)((nch * (long)ntmpl) % batch);
	double t0 = now_s(), tnext = t0;
	PGconn *c;

	snprintf(ci, sizeof(ci), "%s user=fleet_load_h%d", conninfo_base, h->id);
	c = PQconnectdb(ci);
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(h->err, sizeof(h->err), "connect: %s", PQerrorMessage(c));
		goto out;
	}
	if (!ok(PQexec(c, "SET statement_timeout = '60s'"), h, "SET") ||
	    !ok(PQprepare(c, "up", full, 1 + batch * ROW_PARAMS, NULL), h, "prepare"))
		goto out;
	tail = tail_rows ? upsert_sql(tail_rows) : NULL;
	/* start spread over the interval, as hosts of a fleet are */
	tnext = t0 + (max_mode ? 0 : interval_s * h->id / nhosts);
	while (now_s() - t0 < duration_s) {
		double a, ms;

		if (!max_mode && tnext - t0 >= duration_s)
			break;
		if (!max_mode)
			while (now_s() < tnext)
				usleep(2000);
		a = now_s();
		if (a - t0 >= duration_s)
			break;
		if (!push(c, h, next, nch, tail, tail_rows)) {
			h->failed++;
			break;
		}
		next = (next + nch) % prefixes;
		ms = (now_s() - a) * 1000;
		if (h->pushes < h->cap)
			h->push_ms[h->pushes] = ms;
		h->pushes++;
		h->push_ms_max = ms > h->push_ms_max ? ms : h->push_ms_max;
		h->late += ms > interval_s * 1000;
		tnext += interval_s;
		if (tnext < now_s()) /* fell behind: the next push starts now */
			tnext = now_s();
	}
out:
	PQfinish(c);
	free(full);
	free(tail);
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fleet_load --conninfo BASE --hosts N [--prefixes P] [--changed F] [--interval S]\n"
		   "                  [--duration S] [--records R] [--batch B] [--pg-pid PID] [--max]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "conninfo", 1, 0, 'c' }, { "hosts", 1, 0, 'n' },    { "prefixes", 1, 0, 'p' },
		{ "changed", 1, 0, 'f' },  { "interval", 1, 0, 'i' }, { "duration", 1, 0, 'd' },
		{ "records", 1, 0, 'r' },  { "batch", 1, 0, 'b' },    { "pg-pid", 1, 0, 'g' },
		{ "max", 0, 0, 'm' },      { "help", 0, 0, 'h' },     { 0, 0, 0, 0 },
	};
	long pgpid = 0, rows = 0, pushes = 0, late = 0, failed = 0, np = 0;
	unsigned records = 300;
	double t0, t1, c0, c1, pmax = 0, *all;
	struct rusage ru;
	struct host *h;
	int o;

	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'c': conninfo_base = optarg; break;
		case 'n': nhosts = atoi(optarg); break;
		case 'p': prefixes = atoi(optarg); break;
		case 'f': changed = atof(optarg); break;
		case 'i': interval_s = atof(optarg); break;
		case 'd': duration_s = atof(optarg); break;
		case 'r': records = (unsigned)atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'g': pgpid = atol(optarg); break;
		case 'm': max_mode = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!conninfo_base || optind < argc || nhosts < 1 || nhosts > 4096 || prefixes < 1 || prefixes > 16777216 ||
	    !(changed > 0 && changed <= 1) || !(interval_s > 0) || !(duration_s > 0) || batch < 1 ||
	    batch > MAX_BATCH) {
		fprintf(stderr, "fleet_load: bad or missing option (--conninfo, --hosts 1..4096, --prefixes, "
				"--changed 0..1, --batch 1..%d)\n", MAX_BATCH);
		usage(stderr);
		return 2;
	}
	make_rows(records);
	h = calloc((size_t)nhosts, sizeof(*h));
	if (!h)
		return 1;
	t0 = now_s();
	c0 = pg_cpu_s(pgpid);
	for (int i = 0; i < nhosts; i++) {
		h[i].id = i;
		h[i].cap = (long)(duration_s / (max_mode ? 0.001 : interval_s)) + 2;
		h[i].cap = h[i].cap > 100000 ? 100000 : h[i].cap;
		h[i].push_ms = calloc((size_t)h[i].cap, sizeof(double));
		if (!h[i].push_ms || pthread_create(&h[i].th, NULL, host_main, &h[i]))
			return 1;
	}
	for (int i = 0; i < nhosts; i++)
		pthread_join(h[i].th, NULL);
	t1 = now_s();
	c1 = pg_cpu_s(pgpid);
	for (int i = 0; i < nhosts; i++)
		np += h[i].pushes < h[i].cap ? h[i].pushes : h[i].cap;
	all = calloc((size_t)np + 1, sizeof(double));
	np = 0;
	for (int i = 0; i < nhosts; i++) {
		rows += h[i].rows;
		pushes += h[i].pushes;
		late += h[i].late;
		failed += h[i].failed;
		pmax = h[i].push_ms_max > pmax ? h[i].push_ms_max : pmax;
		for (long k = 0; all && k < h[i].pushes && k < h[i].cap; k++)
			all[np++] = h[i].push_ms[k];
		if (h[i].err[0])
			fprintf(stderr, "fleet_load: host %d: %s", i, h[i].err);
	}
	if (all && np)
		qsort(all, (size_t)np, sizeof(double), cmp_d);
	getrusage(RUSAGE_SELF, &ru);
	printf("hosts=%d prefixes=%d changed=%g interval_s=%g duration_s=%.1f rows_per_prefix=%zu batch=%d "
	       "rows=%ld rows_s=%.0f pushes=%ld late=%ld failed=%ld push_p50_ms=%.0f push_max_ms=%.0f "
	       "pg_cpu=%.2f client_cpu=%.2f rows_per_pg_cpu_s=%.0f\n",
	       nhosts, prefixes, changed, interval_s, t1 - t0, ntmpl, batch, rows, rows / (t1 - t0), pushes, late,
	       failed, np ? all[np / 2] : 0.0, pmax, (c1 - c0) / (t1 - t0),
	       (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec)) /
		       (t1 - t0),
	       c1 > c0 ? rows / (c1 - c0) : 0.0);
	return failed ? 1 : 0;
}
