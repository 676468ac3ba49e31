// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fleet link's thread: one libpq connection, never used by the tick.
 * Every statement is sent asynchronously and waited for with a deadline
 * (timeout_ms, also the server's statement_timeout): a server that is down,
 * stopped, locked or slow costs this thread a wait, never the learner.  One
 * log line per change of state; reconnects with backoff (at most interval_s
 * while the server is away, a minute while it refuses us).
 */
#include "fleet.h"
#include "fleet_sql.h"

#include <errno.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cidr.h"
#include "clock.h"
#include "log.h"

struct ld_fleet_migration {
	unsigned version;
	const char *name;
	const char *sql;
};
extern const struct ld_fleet_migration ld_fleet_migrations[]; /* schema/fleet/, embedded */
extern const unsigned ld_fleet_nmigrations;

#define ROWS_PER_STATEMENT LD_FLEET_ROWS_PER_STATEMENT
#define CACHE_ROWS_MAX (4u << 20) /* foreign rows kept for merging (~200 MB): beyond, new prefixes are not kept */

/* one host's latest rows of one prefix */
struct fent {
	uint32_t host;        /* index in f->hosts */
	int64_t updated_us;   /* of its evidence rows */
	int64_t force_us;     /* of its in_force row */
	struct learnd_model_row *rows;
	size_t nrows;
	uint32_t value[LEARND_PARAM__MAX];
	uint64_t samples, conns_total;
};

struct fpfx {
	struct learnd_key key;
	struct fent *ent;
	size_t nent;
	bool dirty; /* changed by this pull: merged again */
};

struct fhost {
	char name[LD_FLEET_NAME_MAX];
	char site[LD_FLEET_NAME_MAX];
	bool warned; /* its rejected rows were logged */
};

struct ld_fleet {
	struct ld_fleet_config cfg;
	char version[32];
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool started;
	/* under mu */
	bool stop;
	struct ld_fleet_batch *pending; /* handed over, not pushed yet */
	uint64_t handed_ns;             /* monotonic time of the last hand-over */
	struct ld_fleet_prior *out;     /* priors for the tick */
	size_t nout, out_cap;
	struct ld_fleet_stats st;
	/* the thread's own */
	PGconn *conn;
	bool owner;
	char last_msg[256];
	int64_t since_us;  /* pull watermark (0: everything) */
	struct fhost *hosts;
	size_t nhosts, hosts_cap;
	struct fpfx **tab; /* open addressing by key */
	size_t tab_mask, npfx, nrows_cached;
	struct fpfx **dirty;
	size_t ndirty, dirty_cap;
};

/* ---- state, logged once per change ---- */

static void one_line(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	for (size_t n = strlen(s); n && s[n - 1] == ' ';)
		s[--n] = '\0';
}

static void set_state(struct ld_fleet *f, enum ld_fleet_state s, const char *msg)
{
	char m[256];
	bool changed;

	snprintf(m, sizeof(m), "%s", msg ? msg : "");
	one_line(m);
	pthread_mutex_lock(&f->mu);
	/* one line per change of state: a server that stays away is not logged again
	 * (REFUSED after DOWN is a change: the reason to act differs) */
	changed = f->st.state != s;
	f->st.state = s;
	pthread_mutex_unlock(&f->mu);
	if (!changed)
		return;
	snprintf(f->last_msg, sizeof(f->last_msg), "%s", m);
	if (s == LD_FLEET_CONNECTED)
		ld_info("fleet: connected to %s as host %s%s%s", m, f->cfg.host, f->cfg.site[0] ? " of site " : "",
			f->cfg.site);
	else if (s == LD_FLEET_REFUSED)
		ld_err("fleet: refused: %s (retried every minute; learning goes on locally)", m);
	else if (s == LD_FLEET_DOWN)
		ld_warn("fleet: %s (retrying; learning goes on locally)", m);
}

/* ---- statements with a deadline ---- */

static void drop(struct ld_fleet *f)
{
	PQfinish(f->conn);
	f->conn = NULL;
}

static bool stopping(struct ld_fleet *f)
{
	bool s;

	pthread_mutex_lock(&f->mu);
	s = f->stop;
	pthread_mutex_unlock(&f->mu);
	return s;
}

/* Waits for the socket (events) until deadline; false on stop, timeout or error. */
static bool wait_sock(struct ld_fleet *f, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = PQsocket(f->conn), .events = events };
		uint64_t now = ld_now_ns();
		int rc;

		if (pfd.fd < 0 || stopping(f) || now >= deadline)
			return false;
		rc = poll(&pfd, 1, 200);
		if (rc > 0)
			return true;
		if (rc < 0 && errno != EINTR)
			return false;
	}
}

/* Runs one statement; its result (check with ok()), or NULL when the
 * connection is gone (then dropped, with the reason in err). */
static PGresult *run(struct ld_fleet *f, const char *sql, int n, const char *const *vals, char *err, size_t len)
{
	uint64_t deadline = ld_now_ns() + ((uint64_t)f->cfg.timeout_ms + 2000) * 1000000ull;
	PGresult *res = NULL, *r;

	if (!f->conn)
		return NULL;
	/* without parameters: the simple protocol, which takes several statements (migrations) */
	if (!(n ? PQsendQueryParams(f->conn, sql, n, NULL, vals, NULL, NULL, 0) : PQsendQuery(f->conn, sql)))
		goto broken;
	for (;;) {
		int fl = PQflush(f->conn);

		if (fl < 0)
			goto broken;
		if (fl > 0) {
			if (!wait_sock(f, POLLOUT | POLLIN, deadline))
				goto timeout;
			if (!PQconsumeInput(f->conn))
				goto broken;
			continue;
		}
		while (!PQisBusy(f->conn)) {
			r = PQgetResult(f->conn);
			if (!r) {
				if (!res)
					goto broken;
				return res;
			}
			PQclear(res);
			res = r;
			if (PQstatus(f->conn) == CONNECTION_BAD)
				goto broken;
		}
		if (!wait_sock(f, POLLIN, deadline))
			goto timeout;
		if (!PQconsumeInput(f->conn))
			goto broken;
	}
timeout:
	PQclear(res);
	snprintf(err, len, "%s", stopping(f) ? "stopping" : "no answer within the timeout: connection dropped");
	drop(f);
	return NULL;
broken:
	PQclear(res);
	snprintf(err, len, "connection lost: %s", PQerrorMessage(f->conn));
	one_line(err);
	drop(f);
	return NULL;
}

static bool ok(PGresult *r, char *err, size_t len)
{
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return true;
	if (r) {
		snprintf(err, len, "%s", PQresultErrorMessage(r));
		one_line(err);
	}
	return false;
}

/* A statement whose result is not needed: true when it succeeded. */
static bool exec(struct ld_fleet *f, const char *sql, int n, const char *const *vals, char *err, size_t len)
{
	PGresult *r = run(f, sql, n, vals, err, len);
	bool good = ok(r, err, len);

	PQclear(r);
	return good;
}

/* ---- connecting ---- */

static bool connect_poll(struct ld_fleet *f, char *err, size_t len)
{
	static const char *const kw[] = { "dbname", "application_name", "connect_timeout", NULL };
	char tmo[16];
	const char *vals[4];
	uint64_t deadline = ld_now_ns() + ((uint64_t)f->cfg.timeout_ms + 1000) * 1000000ull;
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;

	snprintf(tmo, sizeof(tmo), "%u", (f->cfg.timeout_ms + 999) / 1000);
	vals[0] = f->cfg.conninfo;
	vals[1] = "learnd";
	vals[2] = tmo;
	vals[3] = NULL;
	/* expand_dbname: conninfo is the whole string; its own keys win over these */
	f->conn = PQconnectStartParams(kw, vals, 1);
	if (!f->conn) {
		snprintf(err, len, "out of memory");
		return false;
	}
	while (PQstatus(f->conn) != CONNECTION_BAD) {
		if (ps == PGRES_POLLING_OK)
			return true;
		if (ps == PGRES_POLLING_FAILED)
			break;
		if (!wait_sock(f, ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline)) {
			snprintf(err, len, "%s", stopping(f) ? "stopping" : "cannot connect: no answer within the timeout");
			drop(f);
			return false;
		}
		ps = PQconnectPoll(f->conn);
	}
	snprintf(err, len, "cannot connect: %s", PQerrorMessage(f->conn));
	one_line(err);
	drop(f);
	return false;
}

/* The schema: migrated when this role owns it, else checked.  0, or -EPERM
 * (refused: err says why) or -EIO (connection trouble). */
static int schema(struct ld_fleet *f, char *err, size_t len)
{
	PGresult *r = run(f,
			  "SELECT n.nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) "
			  "OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), "
			  "to_regclass('learnd.schema_version') IS NOT NULL FROM pg_namespace n WHERE n.nspname = 'learnd'",
			  0, NULL, err, len);
	unsigned have = 0, want = ld_fleet_nmigrations;
	bool has_table;

	if (!ok(r, err, len)) {
		PQclear(r);
		return f->conn ? -EPERM : -EIO;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		if (!exec(f, "CREATE SCHEMA learnd", 0, NULL, err, len)) {
			if (!f->conn)
				return -EIO;
			snprintf(err, len, "the fleet schema \"learnd\" does not exist and this role cannot create it: "
				 "create it as the owner (docs/fleet.md)");
			return -EPERM;
		}
		f->owner = true;
		has_table = false;
	} else {
		f->owner = PQgetvalue(r, 0, 0)[0] == 't';
		has_table = PQgetvalue(r, 0, 1)[0] == 't';
		PQclear(r);
	}
	if (f->owner) { /* one migrator at a time; the table checked again under the lock */
		if (!exec(f, "BEGIN", 0, NULL, err, len) ||
		    !exec(f, "SELECT pg_advisory_xact_lock(7308458913)", 0, NULL, err, len) ||
		    !exec(f, "SET LOCAL search_path = learnd", 0, NULL, err, len))
			goto fail;
		r = run(f, "SELECT to_regclass('learnd.schema_version') IS NOT NULL", 0, NULL, err, len);
		if (!ok(r, err, len)) {
			PQclear(r);
			goto fail;
		}
		has_table = PQgetvalue(r, 0, 0)[0] == 't';
		PQclear(r);
	}
	if (has_table) {
		r = run(f, "SELECT coalesce(max(version), 0) FROM learnd.schema_version", 0, NULL, err, len);
		if (!ok(r, err, len)) {
			PQclear(r);
			goto fail;
		}
		have = (unsigned)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
	}
	if (!f->owner) {
		if (have < want) {
			snprintf(err, len, "the fleet schema is at version %u, this learnd needs %u and its role does not "
				 "own the schema: apply schema/fleet/ as the owner (docs/fleet.md)", have, want);
			return -EPERM;
		}
		if (have > want)
			ld_info("fleet: schema version %u is newer than this learnd's %u: using the tables it knows", have,
				want);
		return 0;
	}
	for (unsigned i = have; i < want; i++) {
		if (!exec(f, ld_fleet_migrations[i].sql, 0, NULL, err, len)) {
			char e[512];

			snprintf(e, sizeof(e), "%.400s", err);
			snprintf(err, len, "schema/fleet/%s: %.400s", ld_fleet_migrations[i].name, e);
			goto fail;
		}
		ld_info("fleet: schema migrated to version %u (%s)", ld_fleet_migrations[i].version,
			ld_fleet_migrations[i].name);
	}
	if (!exec(f, "COMMIT", 0, NULL, err, len))
		goto fail;
	return 0;
fail:
	if (f->conn) {
		char e[8];

		exec(f, "ROLLBACK", 0, NULL, e, sizeof(e));
		return -EPERM;
	}
	return -EIO;
}

/* May this role write the rows of cfg.host?  The owner registers its host. */
static int check_host(struct ld_fleet *f, char *err, size_t len)
{
	const char *v[1] = { f->cfg.host };
	PGresult *r;
	bool allowed;

	if (f->owner && !exec(f, "INSERT INTO learnd.hosts (host, role) VALUES ($1, current_user) ON CONFLICT DO NOTHING",
			      1, v, err, len))
		return f->conn ? -EPERM : -EIO;
	r = run(f, "SELECT h.role::text, h.role = current_user, current_user::text FROM learnd.hosts h WHERE h.host = $1",
		1, v, err, len);
	if (!ok(r, err, len)) {
		PQclear(r);
		return f->conn ? -EPERM : -EIO;
	}
	allowed = f->owner || (PQntuples(r) == 1 && PQgetvalue(r, 0, 1)[0] == 't');
	if (!allowed) {
		if (PQntuples(r) == 1)
			ld_err("fleet: host %s belongs to role %s in learnd.hosts, not to this one: pulling only, "
			       "pushing nothing (docs/fleet.md, roles)", f->cfg.host, PQgetvalue(r, 0, 0));
		else
			ld_err("fleet: host %s is not in learnd.hosts: pulling only, pushing nothing until the "
			       "administrator adds it (docs/fleet.md, roles)", f->cfg.host);
	}
	PQclear(r);
	pthread_mutex_lock(&f->mu);
	f->st.push_allowed = allowed;
	pthread_mutex_unlock(&f->mu);
	return 0;
}

static int link_up(struct ld_fleet *f, char *err, size_t len)
{
	char tmo[64];
	const char *v[1] = { tmo };
	int rc;

	if (!connect_poll(f, err, len))
		return strstr(err, "authentication") || strstr(err, "password") || strstr(err, "does not exist") ||
				       strstr(err, "no pg_hba.conf") || strstr(err, "certificate")
			       ? -EPERM
			       : -EIO;
	snprintf(tmo, sizeof(tmo), "%u", f->cfg.timeout_ms);
	if (!exec(f, "SELECT set_config('statement_timeout', $1, false), set_config('lock_timeout', $1, false)", 1, v,
		  err, len))
		return f->conn ? -EPERM : -EIO;
	rc = schema(f, err, len);
	if (!rc)
		rc = check_host(f, err, len);
	if (!rc) {
		pthread_mutex_lock(&f->mu);
		f->st.connects++;
		pthread_mutex_unlock(&f->mu);
	}
	return rc;
}

/* ---- push ---- */

struct sbuf {
	char *s;
	size_t n, cap;
	bool oom;
};

__attribute__((format(printf, 2, 3))) static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->n;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->s && (size_t)n < room) {
			b->n += (size_t)n;
			return;
		}
		size_t c = b->cap ? b->cap * 2 : 65536;
		while (c < b->n + (size_t)n + 1)
			c *= 2;
		char *g = realloc(b->s, c);
		if (!g) {
			b->oom = true;
			return;
		}
		b->s = g;
		b->cap = c;
	}
}

/* Closes the n text arrays of col and makes them the parameters after host
 * (v[0]); false (err set) when one ran out of memory. */
static bool cols_close(struct ld_fleet *f, struct sbuf *col, int n, const char **v, char *err, size_t len)
{
	bool good = true;

	for (int c = 0; c < n; c++) {
		sb_add(&col[c], "}");
		good = good && !col[c].oom;
		v[1 + c] = col[c].s;
	}
	v[0] = f->cfg.host;
	if (!good)
		snprintf(err, len, "out of memory");
	return good;
}

/* Opens n text arrays, "{" each. */
static void cols_open(struct sbuf *col, int n)
{
	for (int c = 0; c < n; c++)
		sb_add(&col[c], "{");
}

static void cols_free(struct sbuf *col, int n)
{
	for (int c = 0; c < n; c++)
		free(col[c].s);
}

/* one text array per column, "{a,b,...}" */
#define NCOL_E 9
static bool push_rows(struct ld_fleet *f, const struct ld_fleet_batch *b, size_t p0, size_t p1, char *err, size_t len)
{
	struct sbuf col[NCOL_E] = { 0 };
	const char *v[1 + NCOL_E];
	bool good;

	cols_open(col, NCOL_E);
	for (size_t i = p0; i < p1; i++) {
		const struct ld_fleet_prefix *p = &b->pfx[i];
		char cidr[LD_CIDR_STRLEN];

		ld_cidr_format(&p->key, cidr, sizeof(cidr));
		for (size_t k = 0; k < p->nrows; k++) {
			const struct learnd_model_row *r = &b->rows[p->row0 + k];
			const char *sep = col[0].n > 1 ? "," : "";

			sb_add(&col[0], "%s%s", sep, cidr);
			sb_add(&col[1], "%s%u", sep, r->kind);
			sb_add(&col[2], "%s%u", sep, r->param);
			sb_add(&col[3], "%s%u", sep, r->key);
			sb_add(&col[4], "%s%.17g", sep, r->n);
			sb_add(&col[5], "%s%.17g", sep, r->sum);
			sb_add(&col[6], "%s%.17g", sep, r->sum2);
			sb_add(&col[7], "%s%.17g", sep, r->sum_raw);
			sb_add(&col[8], "%s%llu", sep, (unsigned long long)(r->age > INT64_MAX ? INT64_MAX : r->age));
		}
	}
	good = cols_close(f, col, NCOL_E, v, err, len) && exec(f, LD_FLEET_SQL_PUSH_EVIDENCE, 1 + NCOL_E, v, err, len);
	cols_free(col, NCOL_E);
	return good;
}

#define NCOL_F 10
static bool push_prefixes(struct ld_fleet *f, const struct ld_fleet_batch *b, size_t p0, size_t p1, char *err,
			  size_t len)
{
	struct sbuf col[NCOL_F] = { 0 };
	const char *v[1 + NCOL_F];
	bool good;

	cols_open(col, NCOL_F);
	for (size_t i = p0; i < p1; i++) {
		const struct ld_fleet_prefix *p = &b->pfx[i];
		char cidr[LD_CIDR_STRLEN];
		const char *sep = i > p0 ? "," : "";

		ld_cidr_format(&p->key, cidr, sizeof(cidr));
		sb_add(&col[0], "%s%s", sep, cidr);
		sb_add(&col[1], "%s%s", sep, p->origin[0] ? p->origin : "-");
		for (int k = 0; k < LEARND_PARAM__MAX; k++)
			sb_add(&col[2 + k], "%s%u", sep, p->value[k]);
		sb_add(&col[6], "%s%.6f", sep, p->share);
		sb_add(&col[7], "%s%llu", sep, (unsigned long long)p->samples);
		sb_add(&col[8], "%s%llu", sep, (unsigned long long)p->conns_total);
		sb_add(&col[9], "%s%lld", sep, (long long)(p->last_used_wall_ns / 1000));
	}
	good = cols_close(f, col, NCOL_F, v, err, len) && exec(f, LD_FLEET_SQL_PUSH_IN_FORCE, 1 + NCOL_F, v, err, len);
	/* the rows a prefix no longer has (a value its bounds dropped): older than this push */
	good = good && exec(f, LD_FLEET_SQL_PUSH_DELETE, 2, v, err, len);
	cols_free(col, NCOL_F);
	return good;
}

static bool push(struct ld_fleet *f, const struct ld_fleet_batch *b, char *err, size_t len)
{
	char nb[24], iv[16];
	const char *v[6] = { f->cfg.host, f->cfg.site, f->version, iv, nb };
	size_t i = 0;

	snprintf(nb, sizeof(nb), "%zu", b->n);
	snprintf(iv, sizeof(iv), "%u", f->cfg.interval_s);
	if (!exec(f, "BEGIN", 0, NULL, err, len))
		return false;
	while (i < b->n) {
		size_t j = i, rows = 0;

		while (j < b->n && (j == i || rows + b->pfx[j].nrows <= ROWS_PER_STATEMENT))
			rows += b->pfx[j++].nrows;
		if (!push_rows(f, b, i, j, err, len) || !push_prefixes(f, b, i, j, err, len))
			goto fail;
		i = j;
	}
	if (!exec(f, LD_FLEET_SQL_PUSH_HOST_STATE, 5, v, err, len) ||
	    !exec(f, "COMMIT", 0, NULL, err, len))
		goto fail;
	return true;
fail:
	if (f->conn) {
		char e[8];

		exec(f, "ROLLBACK", 0, NULL, e, sizeof(e));
	}
	return false;
}

/* ---- the cache of other hosts' rows, and pulls ---- */

static uint64_t key_hash(const struct learnd_key *k)
{
	uint64_t h = 1469598103934665603ull ^ k->prefixlen;

	for (int i = 0; i < 16; i++)
		h = (h ^ k->addr[i]) * 1099511628211ull;
	return h;
}

static bool key_eq(const struct learnd_key *a, const struct learnd_key *b)
{
	return a->prefixlen == b->prefixlen && !memcmp(a->addr, b->addr, 16);
}

static int tab_grow(struct ld_fleet *f)
{
	size_t cap = f->tab ? 2 * (f->tab_mask + 1) : 1024;
	struct fpfx **t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; f->tab && i <= f->tab_mask; i++) {
		struct fpfx *p = f->tab[i];

		if (!p)
			continue;
		for (size_t j = key_hash(&p->key) & (cap - 1);; j = (j + 1) & (cap - 1))
			if (!t[j]) {
				t[j] = p;
				break;
			}
	}
	free(f->tab);
	f->tab = t;
	f->tab_mask = cap - 1;
	return 0;
}

static struct fpfx *tab_get(struct ld_fleet *f, const struct learnd_key *k, bool create)
{
	size_t j;

	if (!f->tab && (!create || tab_grow(f)))
		return NULL;
	for (j = key_hash(k) & f->tab_mask; f->tab[j]; j = (j + 1) & f->tab_mask)
		if (key_eq(&f->tab[j]->key, k))
			return f->tab[j];
	if (!create)
		return NULL;
	if ((f->npfx + 1) * 2 > f->tab_mask + 1) {
		if (tab_grow(f))
			return NULL;
		return tab_get(f, k, true);
	}
	f->tab[j] = calloc(1, sizeof(struct fpfx));
	if (!f->tab[j])
		return NULL;
	f->tab[j]->key = *k;
	f->npfx++;
	return f->tab[j];
}

static int host_index(struct ld_fleet *f, const char *name)
{
	for (size_t i = 0; i < f->nhosts; i++)
		if (!strcmp(f->hosts[i].name, name))
			return (int)i;
	if (f->nhosts == f->hosts_cap) {
		size_t c = f->hosts_cap ? 2 * f->hosts_cap : 16;
		struct fhost *h = realloc(f->hosts, c * sizeof(*h));

		if (!h)
			return -1;
		f->hosts = h;
		f->hosts_cap = c;
	}
	memset(&f->hosts[f->nhosts], 0, sizeof(f->hosts[0]));
	snprintf(f->hosts[f->nhosts].name, LD_FLEET_NAME_MAX, "%s", name);
	return (int)f->nhosts++;
}

static struct fent *entry(struct fpfx *p, uint32_t host, bool create)
{
	struct fent *e;

	for (size_t i = 0; i < p->nent; i++)
		if (p->ent[i].host == host)
			return &p->ent[i];
	if (!create)
		return NULL;
	e = realloc(p->ent, (p->nent + 1) * sizeof(*e));
	if (!e)
		return NULL;
	p->ent = e;
	e = &p->ent[p->nent++];
	memset(e, 0, sizeof(*e));
	e->host = host;
	return e;
}

static void mark_dirty(struct ld_fleet *f, struct fpfx *p)
{
	if (p->dirty)
		return;
	if (f->ndirty == f->dirty_cap) {
		size_t c = f->dirty_cap ? 2 * f->dirty_cap : 256;
		struct fpfx **d = realloc(f->dirty, c * sizeof(*d));

		if (!d)
			return;
		f->dirty = d;
		f->dirty_cap = c;
	}
	p->dirty = true;
	f->dirty[f->ndirty++] = p;
}

static int64_t i64(PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* a rejected group of rows: counted, logged once per host */
static void reject(struct ld_fleet *f, uint32_t host, const char *cidr, size_t nrows, const char *why)
{
	pthread_mutex_lock(&f->mu);
	f->st.rows_rejected += nrows;
	f->st.prefixes_rejected++;
	pthread_mutex_unlock(&f->mu);
	if (!f->hosts[host].warned)
		ld_warn("fleet: rows of host %s rejected (%s %s; further rejections are only counted)",
			f->hosts[host].name, cidr, why);
	f->hosts[host].warned = true;
}

static void watermark(struct ld_fleet *f, int64_t us)
{
	int64_t margin = ((int64_t)f->cfg.timeout_ms + 1000) * 1000; /* transactions commit out of order */

	if (us - margin > f->since_us)
		f->since_us = us - margin;
}

/* one (host, prefix) group of evidence rows: [i, j) of r */
static void take_group(struct ld_fleet *f, PGresult *r, int i, int j, int64_t *max_us)
{
	struct learnd_key key;
	char err[160];
	const char *cidr = PQgetvalue(r, i, 1);
	int h = host_index(f, PQgetvalue(r, i, 0));
	int64_t upd = i64(r, i, 10);
	struct learnd_model_row *rows;
	struct ld_fleet_prefix fp = { 0 };
	struct fpfx *p;
	struct fent *e;

	if (upd > *max_us)
		*max_us = upd;
	if (h < 0)
		return;
	if (ld_cidr_parse(cidr, &key, err, sizeof(err))) {
		reject(f, (uint32_t)h, cidr, (size_t)(j - i), err);
		return;
	}
	fp.key = key;
	if (ld_fleet_prefix_check(&fp, err, sizeof(err))) {
		reject(f, (uint32_t)h, cidr, (size_t)(j - i), err);
		return;
	}
	p = tab_get(f, &key, false);
	e = p ? entry(p, (uint32_t)h, false) : NULL;
	if (e && e->updated_us == upd && e->nrows == (size_t)(j - i))
		return; /* seen in the overlap of the last pull */
	if (!e && f->nrows_cached + (size_t)(j - i) > CACHE_ROWS_MAX)
		return;
	rows = malloc((size_t)(j - i) * sizeof(*rows));
	if (!rows)
		return;
	for (int k = i; k < j; k++) {
		struct learnd_model_row *w = &rows[k - i];
		char *end;
		double d[4];
		bool num = true;

		memset(w, 0, sizeof(*w));
		for (int c = 0; c < 4; c++) {
			d[c] = strtod(PQgetvalue(r, k, 5 + c), &end);
			num = num && *end == '\0';
		}
		int64_t kind = i64(r, k, 2), param = i64(r, k, 3), kk = i64(r, k, 4), age = i64(r, k, 9);
		if (!num || kind < 0 || kind > 255 || param < 0 || param > 255 || kk < 0 || kk > UINT32_MAX || age < 0) {
			free(rows);
			reject(f, (uint32_t)h, cidr, (size_t)(j - i), "a column out of range");
			return;
		}
		w->kind = (uint8_t)kind;
		w->param = (uint8_t)param;
		w->key = (uint32_t)kk;
		w->n = d[0];
		w->sum = d[1];
		w->sum2 = d[2];
		w->sum_raw = d[3];
		w->age = (uint64_t)age;
		if (ld_fleet_row_check(w, err, sizeof(err))) {
			free(rows);
			reject(f, (uint32_t)h, cidr, (size_t)(j - i), err);
			/* what it said before is not trusted either */
			if (e) {
				f->nrows_cached -= e->nrows;
				free(e->rows);
				e->rows = NULL;
				e->nrows = 0;
				mark_dirty(f, p);
			}
			return;
		}
	}
	if (!p)
		p = tab_get(f, &key, true);
	e = p ? entry(p, (uint32_t)h, true) : NULL;
	if (!e) {
		free(rows);
		return;
	}
	f->nrows_cached += (size_t)(j - i) - e->nrows;
	free(e->rows);
	e->rows = rows;
	e->nrows = (size_t)(j - i);
	e->updated_us = upd;
	pthread_mutex_lock(&f->mu);
	f->st.rows_pulled += (uint64_t)(j - i);
	pthread_mutex_unlock(&f->mu);
	mark_dirty(f, p);
}

static bool pull_evidence(struct ld_fleet *f, char *err, size_t len, int64_t *max_us)
{
	char since[24];
	const char *v[2] = { since, f->cfg.host };
	PGresult *r;
	int n, i = 0;

	snprintf(since, sizeof(since), "%lld", (long long)f->since_us);
	r = run(f,
		LD_FLEET_SQL_PULL_EVIDENCE,
		2, v, err, len);
	if (!ok(r, err, len)) {
		PQclear(r);
		return false;
	}
	n = PQntuples(r);
	while (i < n) {
		int j = i + 1;

		while (j < n && !strcmp(PQgetvalue(r, j, 0), PQgetvalue(r, i, 0)) &&
		       !strcmp(PQgetvalue(r, j, 1), PQgetvalue(r, i, 1)) && !strcmp(PQgetvalue(r, j, 10), PQgetvalue(r, i, 10)))
			j++;
		take_group(f, r, i, j, max_us);
		i = j;
	}
	PQclear(r);
	return true;
}

static bool pull_in_force(struct ld_fleet *f, char *err, size_t len, int64_t *max_us)
{
	char since[24];
	const char *v[2] = { since, f->cfg.host };
	PGresult *r;

	snprintf(since, sizeof(since), "%lld", (long long)f->since_us);
	r = run(f,
		LD_FLEET_SQL_PULL_IN_FORCE,
		2, v, err, len);
	if (!ok(r, err, len)) {
		PQclear(r);
		return false;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		struct ld_fleet_prefix fp = { .share = strtod(PQgetvalue(r, i, 6), NULL) };
		int h = host_index(f, PQgetvalue(r, i, 0));
		int64_t upd = i64(r, i, 9), s = i64(r, i, 7), c = i64(r, i, 8);
		char why[160];
		struct fpfx *p;
		struct fent *e;

		if (upd > *max_us)
			*max_us = upd;
		if (h < 0)
			continue;
		bool bad = ld_cidr_parse(PQgetvalue(r, i, 1), &fp.key, why, sizeof(why)) != 0 || s < 0 || c < 0;
		for (int k = 0; k < LEARND_PARAM__MAX && !bad; k++) {
			int64_t x = i64(r, i, 2 + k);

			bad = x < 0 || x > UINT32_MAX;
			fp.value[k] = bad ? 0 : (uint32_t)x;
			if (bad)
				snprintf(why, sizeof(why), "a value in force out of range");
		}
		if (bad || ld_fleet_prefix_check(&fp, why, sizeof(why))) {
			reject(f, (uint32_t)h, PQgetvalue(r, i, 1), 1, why);
			continue;
		}
		p = tab_get(f, &fp.key, false);
		if (!p && f->nrows_cached > CACHE_ROWS_MAX)
			continue;
		if (!p)
			p = tab_get(f, &fp.key, true);
		e = p ? entry(p, (uint32_t)h, true) : NULL;
		if (!e || e->force_us == upd)
			continue;
		e->force_us = upd;
		memcpy(e->value, fp.value, sizeof(e->value));
		e->samples = (uint64_t)s;
		e->conns_total = (uint64_t)c;
		mark_dirty(f, p);
	}
	PQclear(r);
	return true;
}

static bool pull_sites(struct ld_fleet *f, char *err, size_t len)
{
	const char *v[1] = { f->cfg.host };
	PGresult *r = run(f, "SELECT host, site FROM learnd.host_state WHERE host <> $1", 1, v, err, len);

	if (!ok(r, err, len)) {
		PQclear(r);
		return false;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		int h = host_index(f, PQgetvalue(r, i, 0));

		if (h >= 0 && strcmp(f->hosts[h].site, PQgetvalue(r, i, 1))) {
			snprintf(f->hosts[h].site, LD_FLEET_NAME_MAX, "%s", PQgetvalue(r, i, 1));
			/* every prefix of this host weighs differently now */
			for (size_t j = 0; f->tab && j <= f->tab_mask; j++)
				if (f->tab[j] && entry(f->tab[j], (uint32_t)h, false))
					mark_dirty(f, f->tab[j]);
		}
	}
	PQclear(r);
	return true;
}

/* The dirty prefixes merged into priors for the tick. */
static void merge_dirty(struct ld_fleet *f)
{
	struct ld_fleet_src *src = NULL;
	size_t src_cap = 0;
	struct ld_fleet_prior *out = NULL;
	size_t nout = 0;

	out = calloc(f->ndirty ? f->ndirty : 1, sizeof(*out));
	for (size_t d = 0; out && d < f->ndirty; d++) {
		struct fpfx *p = f->dirty[d];
		size_t ns = 0;
		int n;

		p->dirty = false;
		if (p->nent > src_cap) {
			struct ld_fleet_src *g = realloc(src, p->nent * sizeof(*g));

			if (!g)
				continue;
			src = g;
			src_cap = p->nent;
		}
		for (size_t i = 0; i < p->nent; i++) {
			const struct fent *e = &p->ent[i];

			if (!e->nrows && !e->value[0] && !e->value[2])
				continue;
			src[ns++] = (struct ld_fleet_src){
				.rows = e->rows, .nrows = e->nrows, .samples = e->samples, .conns_total = e->conns_total,
				.site_weight = !strcmp(f->hosts[e->host].site, f->cfg.site) ? 1.0 : f->cfg.other_site_pct / 100.0,
			};
			memcpy(src[ns - 1].value, e->value, sizeof(e->value));
		}
		out[nout].p.key = p->key;
		n = ld_fleet_merge(src, ns, f->cfg.host_cap, &out[nout].rows, &out[nout].p);
		if (n < 0)
			continue;
		out[nout].p.nrows = (size_t)n;
		nout++;
	}
	free(src);
	f->ndirty = 0;
	if (!out)
		return;
	pthread_mutex_lock(&f->mu);
	if (f->nout + nout > f->out_cap) {
		size_t c = f->out_cap ? f->out_cap : 256;
		struct ld_fleet_prior *g;

		while (c < f->nout + nout)
			c *= 2;
		g = realloc(f->out, c * sizeof(*g));
		if (g) {
			f->out = g;
			f->out_cap = c;
		}
	}
	if (nout && f->nout + nout <= f->out_cap) {
		memcpy(f->out + f->nout, out, nout * sizeof(*out));
		f->nout += nout;
		nout = 0;
	}
	f->st.fleet_prefixes = f->npfx;
	pthread_mutex_unlock(&f->mu);
	ld_fleet_priors_free(out, nout); /* (only when out of memory) */
}

static bool pull(struct ld_fleet *f, char *err, size_t len)
{
	int64_t max_us = 0;

	if (!pull_sites(f, err, len) || !pull_evidence(f, err, len, &max_us) || !pull_in_force(f, err, len, &max_us))
		return false;
	watermark(f, max_us);
	merge_dirty(f);
	pthread_mutex_lock(&f->mu);
	f->st.last_pull_wall_ns = (uint64_t)ld_wall_ns();
	pthread_mutex_unlock(&f->mu);
	return true;
}

/* ---- the thread ---- */

static void sleep_until(struct ld_fleet *f, uint64_t mono_ns, bool wake_on_push)
{
	pthread_mutex_lock(&f->mu);
	while (!f->stop && ld_now_ns() < mono_ns && !(wake_on_push && f->pending)) {
		struct timespec ts;
		uint64_t left = mono_ns - ld_now_ns();

		if (left > 200000000ull)
			left = 200000000ull;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)left;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&f->cv, &f->mu, &ts);
	}
	pthread_mutex_unlock(&f->mu);
}

/* a push failed before and the last one went through: said once */
static bool push_failing_logged(struct ld_fleet *f, bool *failing)
{
	bool was = *failing;

	(void)f;
	*failing = false;
	return was && !f->pending;
}

static void *thread_main(void *arg)
{
	struct ld_fleet *f = arg;
	uint64_t backoff = 0, next_pull = 0, interval = (uint64_t)f->cfg.interval_s * 1000000000ull;
	char err[512];
	bool push_failing = false, pull_failing = false;

	while (!stopping(f)) {
		struct ld_fleet_batch *b;

		if (!f->conn) {
			int rc;

			if (f->st.state == LD_FLEET_OFF)
				set_state(f, LD_FLEET_CONNECTING, NULL);
			rc = link_up(f, err, sizeof(err));
			if (stopping(f))
				break;
			if (rc) {
				uint64_t cap = rc == -EPERM ? 60000000000ull : interval;

				drop(f);
				set_state(f, rc == -EPERM ? LD_FLEET_REFUSED : LD_FLEET_DOWN, err);
				backoff = backoff ? 2 * backoff : 1000000000ull;
				if (backoff > cap)
					backoff = cap;
				sleep_until(f, ld_now_ns() + backoff, false);
				continue;
			}
			backoff = 0;
			snprintf(err, sizeof(err), "%s%s%s", PQdb(f->conn), PQhost(f->conn) ? " on " : "",
				 PQhost(f->conn) ? PQhost(f->conn) : "");
			set_state(f, LD_FLEET_CONNECTED, err);
			next_pull = 0;
		}
		pthread_mutex_lock(&f->mu);
		b = f->pending;
		bool allowed = f->st.push_allowed;
		pthread_mutex_unlock(&f->mu);
		if (b && !allowed) { /* pulling only: nothing of ours goes out */
			pthread_mutex_lock(&f->mu);
			f->pending = NULL;
			pthread_mutex_unlock(&f->mu);
			ld_fleet_batch_free(b);
		} else if (b) {
			bool done = push(f, b, err, sizeof(err));

			pthread_mutex_lock(&f->mu);
			if (done) {
				f->pending = NULL;
				f->st.rows_pushed += b->nrows;
				f->st.prefixes_pushed += b->n;
				f->st.last_push_wall_ns = (uint64_t)ld_wall_ns();
			} else {
				f->st.pushes_failed++;
			}
			pthread_mutex_unlock(&f->mu);
			if (done)
				ld_fleet_batch_free(b);
			else if (f->conn && !push_failing)
				ld_warn("fleet: push failed, kept for the next one: %s", err);
			push_failing = !done;
			if (!f->conn) {
				set_state(f, LD_FLEET_DOWN, err);
				continue;
			}
		}
		if (ld_now_ns() >= next_pull) {
			if (!pull(f, err, sizeof(err))) {
				pthread_mutex_lock(&f->mu);
				f->st.pulls_failed++;
				pthread_mutex_unlock(&f->mu);
				if (!f->conn) {
					set_state(f, LD_FLEET_DOWN, err);
					continue;
				}
				if (!pull_failing)
					ld_warn("fleet: pull failed, tried again next interval: %s", err);
				pull_failing = true;
			} else {
				if (pull_failing || push_failing_logged(f, &push_failing))
					ld_info("fleet: pushes and pulls go through again");
				pull_failing = false;
			}
			next_pull = ld_now_ns() + interval;
		}
		sleep_until(f, next_pull, true);
	}
	drop(f);
	return NULL;
}

struct ld_fleet *ld_fleet_start(const struct ld_fleet_config *cfg, const char *version)
{
	struct ld_fleet *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->cfg = *cfg;
	snprintf(f->version, sizeof(f->version), "%s", version);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->st.state = LD_FLEET_OFF;
	if (pthread_create(&f->th, NULL, thread_main, f)) {
		ld_err("fleet: cannot start its thread");
		ld_fleet_stop(f);
		return NULL;
	}
	f->started = true;
	return f;
}

void ld_fleet_stop(struct ld_fleet *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (f->started)
		pthread_join(f->th, NULL);
	ld_fleet_batch_free(f->pending);
	ld_fleet_priors_free(f->out, f->nout);
	for (size_t i = 0; f->tab && i <= f->tab_mask; i++) {
		struct fpfx *p = f->tab[i];

		if (!p)
			continue;
		for (size_t j = 0; j < p->nent; j++)
			free(p->ent[j].rows);
		free(p->ent);
		free(p);
	}
	free(f->tab);
	free(f->dirty);
	free(f->hosts);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}

bool ld_fleet_push_wanted(struct ld_fleet *f, uint64_t mono_ns)
{
	bool w;

	pthread_mutex_lock(&f->mu);
	w = !f->pending && f->st.state == LD_FLEET_CONNECTED && f->st.push_allowed &&
	    mono_ns - f->handed_ns >= (uint64_t)f->cfg.interval_s * 1000000000ull;
	pthread_mutex_unlock(&f->mu);
	return w;
}

void ld_fleet_push(struct ld_fleet *f, struct ld_fleet_batch *b)
{
	pthread_mutex_lock(&f->mu);
	if (f->pending) { /* (the tick asks ld_fleet_push_wanted first) */
		pthread_mutex_unlock(&f->mu);
		ld_fleet_batch_free(b);
		return;
	}
	f->pending = b;
	f->handed_ns = ld_now_ns();
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

struct ld_fleet_prior *ld_fleet_take(struct ld_fleet *f, size_t *n)
{
	struct ld_fleet_prior *v;

	pthread_mutex_lock(&f->mu);
	v = f->out;
	*n = f->nout;
	f->out = NULL;
	f->nout = f->out_cap = 0;
	pthread_mutex_unlock(&f->mu);
	return v;
}

void ld_fleet_get_stats(struct ld_fleet *f, struct ld_fleet_stats *st)
{
	pthread_mutex_lock(&f->mu);
	*st = f->st;
	pthread_mutex_unlock(&f->mu);
}
