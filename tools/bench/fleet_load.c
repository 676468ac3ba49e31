// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The write load of a fleet on one PostgreSQL (docs/fleet-sizing.md;
 * tools/bench/fleet_scale.sh runs it on a throwaway cluster).  Each simulated
 * host is a thread with a libpq connection of its own role (so row-level
 * security runs as for a real host), pushing every INTERVAL seconds the rows
 * of its changed prefixes with the fleet link's statements (learner/fleet/fleet.c):
 * in one transaction, INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO
 * UPDATE into learnd.evidence (at most 4,000 rows a statement), the values in
 * force into learnd.in_force, the prefixes' older rows deleted, its host_state;
 * then it pulls, as the link does, the other hosts' rows updated since its last
 * pull (--no-pull: not).  The
 * rows are real: what learnd_model_export() gives for a prefix after RECORDS
 * simulated connections on the sparse benchmark's deep path (tests/unit/pathsim.h).
 *
 *   fleet_load --conninfo BASE --hosts N [--prefixes P] [--changed F] [--interval S]
 *              [--duration S] [--records R] [--pg-pid PID] [--max] [--no-pull]
 *     BASE       libpq conninfo without user: host i logs in as fleet_load_hI (its
 *                password from the passfile) and writes the rows of fleet host hI
 *     --changed  share of the prefixes changed per interval (1: all)
 *     --max      no pause between pushes: what the server holds at full load
 *     --pg-pid   the postmaster: its and its children's CPU time is measured
 *   --rows-only: print the rows a prefix exports after --records connections, and exit.
 *   Prints one line of key=value: rows, rows_s (pushed), pulled_rows_s, pushes, late (pushes that took
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

#include "fleet_sql.h"
#include "pathsim.h"


static const char *conninfo_base;
static int nhosts = 1, prefixes = 10000, max_mode, no_pull;
static double changed = 1.0, interval_s = 10, duration_s = 60;
static struct learnd_model_row tmpl[LEARND_MODEL_MAX_ROWS];
static pthread_barrier_t done; /* the hosts' backends live until main has read their CPU */
static size_t ntmpl;

struct host {
	pthread_t th;
	int id;
	long rows, pulled, pushes, late, failed;
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

/*
 * The statements of the fleet link's push and pull (learner/fleet/fleet.c:
 * push_rows, push_prefixes, push, pull_evidence, pull_in_force), the same text.
 */
static const char *EVIDENCE_SQL = LD_FLEET_SQL_PUSH_EVIDENCE;
static const char *IN_FORCE_SQL = LD_FLEET_SQL_PUSH_IN_FORCE;
static const char *DELETE_SQL = LD_FLEET_SQL_PUSH_DELETE;
static const char *HOST_STATE_SQL = LD_FLEET_SQL_PUSH_HOST_STATE;
static const char *PULL_EVIDENCE_SQL = LD_FLEET_SQL_PULL_EVIDENCE;
static const char *PULL_IN_FORCE_SQL = LD_FLEET_SQL_PULL_IN_FORCE;

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

/* the statements of one chunk of prefixes [p0, p1): their rows, then their values in force */
static bool push_chunk(PGconn *c, struct host *h, const char *hostname, long p0, long p1)
{
	char *buf[19] = { 0 };
	size_t len[19];
	FILE *col[19];
	const char *v[11];
	bool good;

	for (int k = 0; k < 19; k++) /* one text array per column, "{a,b,...}" */
		if (!(col[k] = open_memstream(&buf[k], &len[k])) || fputc('{', col[k]) == EOF)
			abort();
	for (long i = p0; i < p1; i++) {
		char cidr[32];
		const char *sep = i > p0 ? "," : "";

		prefix_of(i % prefixes, cidr, sizeof(cidr));
		for (size_t k = 0; k < ntmpl; k++) {
			const struct learnd_model_row *r = &tmpl[k];
			const char *rs = i > p0 || k ? "," : "";

			fprintf(col[0], "%s%s", rs, cidr);
			fprintf(col[1], "%s%u", rs, r->kind);
			fprintf(col[2], "%s%u", rs, r->param);
			fprintf(col[3], "%s%u", rs, r->key);
			fprintf(col[4], "%s%.17g", rs, r->n);
			fprintf(col[5], "%s%.17g", rs, r->sum);
			fprintf(col[6], "%s%.17g", rs, r->sum2);
			fprintf(col[7], "%s%.17g", rs, r->sum_raw);
			fprintf(col[8], "%s%llu", rs, (unsigned long long)r->age);
		}
		fprintf(col[9], "%s%s", sep, cidr);
		fprintf(col[10], "%sdiscovered", sep);
		fprintf(col[11], "%s128", sep);
		fprintf(col[12], "%s0", sep);
		fprintf(col[13], "%s300", sep);
		fprintf(col[14], "%s60000", sep);
		fprintf(col[15], "%s0.950000", sep);
		fprintf(col[16], "%s300", sep);
		fprintf(col[17], "%s300", sep);
		fprintf(col[18], "%s%lld", sep, (long long)time(NULL) * 1000000);
	}
	for (int k = 0; k < 19; k++)
		if (fputc('}', col[k]) == EOF || fclose(col[k]))
			abort();
	v[0] = hostname;
	for (int k = 0; k < 9; k++)
		v[1 + k] = buf[k];
	good = ok(PQexecParams(c, EVIDENCE_SQL, 10, NULL, v, NULL, NULL, 0), h, "evidence");
	for (int k = 0; k < 10; k++)
		v[1 + k] = buf[9 + k];
	good = good && ok(PQexecParams(c, IN_FORCE_SQL, 11, NULL, v, NULL, NULL, 0), h, "in_force") &&
	       ok(PQexecParams(c, DELETE_SQL, 2, NULL, v, NULL, NULL, 0), h, "delete");
	for (int k = 0; k < 19; k++)
		free(buf[k]);
	return good;
}

/* one push, as the link's: the rows of prefixes [first, first + n) in one transaction */
static bool push(PGconn *c, struct host *h, long first, long n)
{
	long per = LD_FLEET_ROWS_PER_STATEMENT / (long)ntmpl, i;
	char hostname[32], nb[24];
	const char *v[5] = { hostname, "bench", "fleet_load", "10", nb };

	per = per < 1 ? 1 : per;
	snprintf(hostname, sizeof(hostname), "h%d", h->id);
	snprintf(nb, sizeof(nb), "%ld", n);
	if (!ok(PQexec(c, "BEGIN"), h, "BEGIN"))
		return false;
	for (i = first; i < first + n; i += per)
		if (!push_chunk(c, h, hostname, i, i + per < first + n ? i + per : first + n))
			goto fail;
	if (!ok(PQexecParams(c, HOST_STATE_SQL, 5, NULL, v, NULL, NULL, 0), h, "host_state") ||
	    !ok(PQexec(c, "COMMIT"), h, "COMMIT"))
		goto fail;
	h->rows += n * (long)ntmpl;
	return true;
fail:
	PQclear(PQexec(c, "ROLLBACK"));
	return false;
}

/* one pull, as the link's: the other hosts' rows updated since the last one */
static bool pull(PGconn *c, struct host *h, long long *since_us)
{
	const char *sql[2] = { PULL_EVIDENCE_SQL, PULL_IN_FORCE_SQL };
	char since[24], hostname[32];
	const char *v[2] = { since, hostname };
	long long mx = *since_us;

	snprintf(since, sizeof(since), "%lld", *since_us);
	snprintf(hostname, sizeof(hostname), "h%d", h->id);
	for (int q = 0; q < 2; q++) {
		PGresult *r = PQexecParams(c, sql[q], 2, NULL, v, NULL, NULL, 0);
		int n = PQntuples(r), col = q ? 9 : 10;

		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			return ok(r, h, "pull");
		for (int i = 0; i < n; i++) {
			long long u = atoll(PQgetvalue(r, i, col));

			mx = u > mx ? u : mx;
		}
		if (!q)
			h->pulled += n;
		PQclear(r);
	}
	*since_us = mx;
	return true;
}

static void *host_main(void *arg)
{
	struct host *h = arg;
	long nch = (long)(prefixes * changed + 0.5), next = 0;
	double t0 = now_s(), tnext = t0;
	long long since_us = 0;
	char ci[512];
	PGconn *c;

	snprintf(ci, sizeof(ci), "%s user=fleet_load_h%d", conninfo_base, h->id);
	c = PQconnectdb(ci);
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(h->err, sizeof(h->err), "connect: %s", PQerrorMessage(c));
		goto out;
	}
	if (!ok(PQexec(c, "SET statement_timeout = '60s'"), h, "SET"))
		goto out;
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
		if (!push(c, h, next, nch) || (!no_pull && !pull(c, h, &since_us))) {
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
	pthread_barrier_wait(&done);
	pthread_barrier_wait(&done);
	PQfinish(c);
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
		   "                  [--duration S] [--records R] [--pg-pid PID] [--max] [--no-pull] [--rows-only]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "conninfo", 1, 0, 'c' }, { "hosts", 1, 0, 'n' },    { "prefixes", 1, 0, 'p' },
		{ "changed", 1, 0, 'f' },  { "interval", 1, 0, 'i' }, { "duration", 1, 0, 'd' },
		{ "records", 1, 0, 'r' },  { "no-pull", 0, 0, 'u' },    { "pg-pid", 1, 0, 'g' },
		{ "max", 0, 0, 'm' },      { "help", 0, 0, 'h' },     { "rows-only", 0, 0, 'o' },
		{ 0, 0, 0, 0 },
	};
	int rows_only = 0;
	long pgpid = 0, rows = 0, pulled = 0, pushes = 0, late = 0, failed = 0, np = 0;
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
		case 'u': no_pull = 1; break;
		case 'o': rows_only = 1; break;
		case 'g': pgpid = atol(optarg); break;
		case 'm': max_mode = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (rows_only) {
		make_rows(records);
		printf("records=%u rows_per_prefix=%zu\n", records, ntmpl);
		return 0;
	}
	if (!conninfo_base || optind < argc || nhosts < 1 || nhosts > 4096 || prefixes < 1 || prefixes > 16777216 ||
	    !(changed > 0 && changed <= 1) || !(interval_s > 0) || !(duration_s > 0)) {
		fprintf(stderr, "fleet_load: bad or missing option (--conninfo, --hosts 1..4096, --prefixes, "
				"--changed 0..1)\n");
		usage(stderr);
		return 2;
	}
	make_rows(records);
	h = calloc((size_t)nhosts, sizeof(*h));
	if (!h)
		return 1;
	if (pthread_barrier_init(&done, NULL, (unsigned)nhosts + 1))
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
	pthread_barrier_wait(&done); /* every host done, its backend still there */
	c1 = pg_cpu_s(pgpid);
	t1 = now_s();
	pthread_barrier_wait(&done);
	for (int i = 0; i < nhosts; i++)
		pthread_join(h[i].th, NULL);
	if (!max_mode && t1 - t0 < duration_s) /* the last pushes ended early: rates over the whole run */
		t1 = t0 + duration_s;
	for (int i = 0; i < nhosts; i++)
		np += h[i].pushes < h[i].cap ? h[i].pushes : h[i].cap;
	all = calloc((size_t)np + 1, sizeof(double));
	np = 0;
	for (int i = 0; i < nhosts; i++) {
		rows += h[i].rows;
		pulled += h[i].pulled;
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
	printf("hosts=%d prefixes=%d changed=%g interval_s=%g duration_s=%.1f rows_per_prefix=%zu "
	       "rows=%ld rows_s=%.0f pulled_rows_s=%.0f pushes=%ld late=%ld failed=%ld push_p50_ms=%.0f push_max_ms=%.0f "
	       "pg_cpu=%.2f client_cpu=%.2f rows_per_pg_cpu_s=%.0f\n",
	       nhosts, prefixes, changed, interval_s, t1 - t0, ntmpl, rows, rows / (t1 - t0), pulled / (t1 - t0), pushes, late,
	       failed, np ? all[np / 2] : 0.0, pmax, (c1 - c0) / (t1 - t0),
	       (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec)) /
		       (t1 - t0),
	       c1 > c0 ? rows / (c1 - c0) : 0.0);
	for (int i = 0; i < nhosts; i++)
		free(h[i].push_ms);
	free(h);
	free(all);
	pthread_barrier_destroy(&done);
	return failed ? 1 : 0;
}
