// SPDX-License-Identifier: GPL-2.0
/* flowgen summarize: count / mean / percentiles of a client CSV, per group. */
#include "flowgen.h"

/* ------------------------------------------------------------------------------------ */
/* summarize                                                                            */

struct row {
	uint64_t size;
	int64_t connect_us, fct_us;
	long retrans;
	long srv_retrans, srv_segs; /* -1 = absent */
	bool ok;
	char *key;
};

struct group {
	char *key;   /* display label */
	char *kpath; /* sort keys */
	uint64_t ksize, kclass;
	size_t n, nok, nerr;
	double *fct, *conn;
	size_t nfct, nconn;
	long cli_rtx;
	long srv_rtx, srv_segs, srv_rtx_flows;
	size_t nsrv;
};

enum { K_PATH, K_SIZE, K_CLASS };
static int g_keys[3], g_nkeys;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
	if (!n)
		return NAN;
	size_t k = (size_t)ceil(p / 100.0 * (double)n);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static double mean(const double *v, size_t n)
{
	double s = 0;
	if (!n)
		return NAN;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s / (double)n;
}

static void size_class_label(uint64_t s, char *b, size_t bl)
{
	static const char *u[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
	int l = 0;
	while (l < 61 && (UINT64_C(1) << (l + 1)) <= s)
		l++;
	/* [2^l, 2^(l+1)) */
	int lo = l, hi = l + 1;
	snprintf(b, bl, "%" PRIu64 "%s-%" PRIu64 "%s", UINT64_C(1) << (lo % 10), u[lo / 10],
		 UINT64_C(1) << (hi % 10), u[hi / 10]);
}

/* split a CSV line in place (no quoting: flowgen never writes quotes) */
static int split_csv(char *line, char **f, int maxf)
{
	int n = 0;
	char *p = line;
	size_t l = strlen(p);
	while (l && (p[l - 1] == '\n' || p[l - 1] == '\r'))
		p[--l] = 0;
	for (;;) {
		if (n < maxf)
			f[n++] = p;
		char *c = strchr(p, ',');
		if (!c)
			break;
		*c = 0;
		p = c + 1;
	}
	return n;
}

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	for (int k = 0; k < g_nkeys; k++) {
		int c = 0;
		if (g_keys[k] == K_PATH)
			c = strcmp(x->kpath, y->kpath);
		else if (g_keys[k] == K_SIZE)
			c = (x->ksize > y->ksize) - (x->ksize < y->ksize);
		else
			c = (x->kclass > y->kclass) - (x->kclass < y->kclass);
		if (c)
			return c;
	}
	return 0;
}

static uint64_t size_class_of(uint64_t s)
{
	int l = 0;
	while (l < 62 && (UINT64_C(1) << (l + 1)) <= s)
		l++;
	return UINT64_C(1) << l;
}

struct summ_opts {
	const char *by, *file;
	bool csv;
	uint64_t rmin, rmax;
};

static void summ_range(struct summ_opts *o, const char *arg)
{
	char *dup = strdup(arg);
	char *colon = strchr(dup, ':');
	if (!colon)
		die_usage("summarize: --size-range: expected MIN:MAX, got '%s'", arg);
	*colon = 0;
	if ((*dup && !parse_size(dup, &o->rmin)) || (colon[1] && !parse_size(colon + 1, &o->rmax)) ||
	    o->rmax < o->rmin)
		die_usage("summarize: --size-range: bad range '%s'", arg);
	free(dup);
}

static void summ_args(int argc, char **argv, struct summ_opts *so)
{
	static const struct option lo[] = {
		{"by", required_argument, 0, OPT_BY},
		{"size-range", required_argument, 0, OPT_RANGE},
		{"csv", no_argument, 0, OPT_CSV},
		{"help", no_argument, 0, OPT_HELP},
		{0, 0, 0, 0},
	};
	int o;

	opterr = 0;
	/* permute: FILE may come before or after the options */
	while ((o = getopt_long(argc, argv, "-:", lo, NULL)) != -1) {
		switch (o) {
		case 1:
			if (so->file)
				die_usage("summarize: more than one input file ('%s', '%s')", so->file, optarg);
			so->file = optarg;
			break;
		case OPT_BY: so->by = optarg; break;
		case OPT_RANGE: summ_range(so, optarg); break;
		case OPT_CSV: so->csv = true; break;
		default:
			opt_other("summarize", o, argv); /* --help, a missing value, an unknown option */
		}
	}
	if (!so->file)
		die_usage("summarize: an input file is required ('-' for stdin)");
}

/* --by into g_keys / g_nkeys. */
static void summ_keys(const char *by)
{
	char *dup = strdup(by), *save = NULL;

	g_nkeys = 0;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int k;
		if (!strcmp(t, "none"))
			continue;
		if (!strcmp(t, "path"))
			k = K_PATH;
		else if (!strcmp(t, "size"))
			k = K_SIZE;
		else if (!strcmp(t, "class"))
			k = K_CLASS;
		else
			die_usage("summarize: --by: unknown key '%s' (expected path, size, class, none)", t);
		if (g_nkeys >= 3)
			die_usage("summarize: --by: too many keys in '%s'", by);
		g_keys[g_nkeys++] = k;
	}
	free(dup);
}

static const char *const need[] = {"path", "size", "connect_us", "fct_us", "retrans", "ok",
				   "srv_retrans", "srv_segs"};
enum { C_PATH, C_SIZE, C_CONN, C_FCT, C_RTX, C_OK, C_SRTX, C_SSEGS, C_N };

/* The header line: where each needed column is (the srv_* ones may be absent). */
static void summ_header(FILE *f, const char *file, char **line, size_t *cap, int col[C_N])
{
	char *fl[64];
	int nf;

	for (int i = 0; i < C_N; i++)
		col[i] = -1;
	if (getline(line, cap, f) <= 0) {
		fprintf(stderr, "%s: summarize: %s: empty file\n", prog, file);
		exit(2);
	}
	nf = split_csv(*line, fl, 64);
	for (int i = 0; i < nf; i++)
		for (int j = 0; j < C_N; j++)
			if (!strcmp(fl[i], need[j]))
				col[j] = i;
	for (int j = 0; j < C_SRTX; j++)
		if (col[j] < 0) {
			fprintf(stderr, "%s: summarize: %s line 1: missing column '%s'\n", prog, file, need[j]);
			exit(2);
		}
}

/* One data line (already split) into r and its group key; false: outside --size-range. */
static bool summ_row(char **fl, int nf, const int col[C_N], const struct summ_opts *so, long lineno,
		     struct row *r, char *key, size_t keylen)
{
	int maxc = 0;
	size_t kl = 0;

	for (int j = 0; j < C_SRTX; j++)
		if (col[j] > maxc)
			maxc = col[j];
	if (nf <= maxc) {
		fprintf(stderr, "%s: summarize: %s line %ld: %d fields, expected at least %d\n", prog,
			so->file, lineno, nf, maxc + 1);
		exit(2);
	}
	if (!parse_u64(fl[col[C_SIZE]], &r->size)) {
		fprintf(stderr, "%s: summarize: %s line %ld: bad size '%s'\n", prog, so->file, lineno,
			fl[col[C_SIZE]]);
		exit(2);
	}
	if (r->size < so->rmin || r->size > so->rmax)
		return false;
	r->connect_us = strtoll(fl[col[C_CONN]], NULL, 10);
	r->fct_us = strtoll(fl[col[C_FCT]], NULL, 10);
	r->retrans = strtol(fl[col[C_RTX]], NULL, 10);
	r->ok = !strcmp(fl[col[C_OK]], "1");
	r->srv_retrans = r->srv_segs = -1;
	if (col[C_SRTX] >= 0 && col[C_SRTX] < nf && *fl[col[C_SRTX]])
		r->srv_retrans = strtol(fl[col[C_SRTX]], NULL, 10);
	if (col[C_SSEGS] >= 0 && col[C_SSEGS] < nf && *fl[col[C_SSEGS]])
		r->srv_segs = strtol(fl[col[C_SSEGS]], NULL, 10);

	key[0] = '\0';
	for (int k = 0; k < g_nkeys; k++) {
		char part[96];
		if (g_keys[k] == K_PATH)
			snprintf(part, sizeof(part), "%s", fl[col[C_PATH]]);
		else if (g_keys[k] == K_SIZE)
			snprintf(part, sizeof(part), "%" PRIu64, r->size);
		else
			size_class_label(r->size, part, sizeof(part));
		kl += (size_t)snprintf(key + kl, keylen - kl, "%s%s", k ? "," : "", part);
		if (kl >= keylen)
			kl = keylen - 1;
	}
	if (!g_nkeys)
		snprintf(key, keylen, "all");
	return true;
}

struct groups {
	struct group *gs;
	size_t ng, gcap;
};

static struct group *group_get(struct groups *G, const char *key, const char *path, uint64_t size)
{
	struct group *g;

	for (size_t i = 0; i < G->ng; i++)
		if (!strcmp(G->gs[i].key, key))
			return &G->gs[i];
	if (G->ng == G->gcap) {
		G->gcap = G->gcap ? G->gcap * 2 : 16;
		G->gs = realloc(G->gs, G->gcap * sizeof(*G->gs));
		if (!G->gs)
			die_runtime("summarize: out of memory");
	}
	g = &G->gs[G->ng++];
	memset(g, 0, sizeof(*g));
	g->key = strdup(key);
	g->kpath = strdup(path);
	g->ksize = size;
	g->kclass = size_class_of(size);
	return g;
}

static void group_add(struct group *g, const struct row *r)
{
	g->n++;
	g->fct = realloc(g->fct, g->n * sizeof(double));
	g->conn = realloc(g->conn, g->n * sizeof(double));
	if (!g->fct || !g->conn)
		die_runtime("summarize: out of memory");
	if (r->ok) {
		g->nok++;
		g->fct[g->nfct++] = (double)r->fct_us;
	} else {
		g->nerr++;
	}
	if (r->connect_us >= 0 && r->ok)
		g->conn[g->nconn++] = (double)r->connect_us;
	g->cli_rtx += r->retrans;
	if (r->srv_retrans >= 0) {
		g->nsrv++;
		g->srv_rtx += r->srv_retrans;
		if (r->srv_retrans > 0)
			g->srv_rtx_flows++;
		if (r->srv_segs > 0)
			g->srv_segs += r->srv_segs;
	}
}

/* Every data line of f into groups. */
static void summ_read(FILE *f, const struct summ_opts *so, struct groups *G)
{
	char *line = NULL;
	size_t cap = 0;
	int col[C_N];
	long lineno = 1;

	summ_header(f, so->file, &line, &cap, col);
	while (getline(&line, &cap, f) > 0) {
		char *fl[64], key[256];
		struct row r;
		int nf;

		lineno++;
		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (!strncmp(line, "path,", 5))
			continue; /* a repeated header (concatenated files) */
		nf = split_csv(line, fl, 64);
		if (summ_row(fl, nf, col, so, lineno, &r, key, sizeof(key)))
			group_add(group_get(G, key, fl[col[C_PATH]], r.size), &r);
	}
	free(line);
}

static void print_head(bool csv)
{
	if (csv)
		printf("key,flows,ok,errors,fct_mean_us,fct_p50_us,fct_p95_us,fct_p99_us,"
		       "connect_mean_us,connect_p50_us,connect_p95_us,connect_p99_us,"
		       "cli_retrans_per_flow,srv_retrans_per_flow,srv_retrans_flow_share,srv_retrans_seg_rate\n");
	else
		printf("%-24s %6s %5s %5s %9s %9s %9s %9s %8s %8s %8s %7s %7s %7s\n", "group", "flows", "ok",
		       "err", "fct_mean", "fct_p50", "fct_p95", "fct_p99", "con_mean", "con_p50",
		       "con_p99", "srv_rtx", "rtx_fl%", "rtx_sg%");
}

/* One group's line (its times sorted first). */
static void print_group(struct group *g, bool csv)
{
	qsort(g->fct, g->nfct, sizeof(double), cmp_double);
	qsort(g->conn, g->nconn, sizeof(double), cmp_double);
	double fm = mean(g->fct, g->nfct), cm = mean(g->conn, g->nconn);
	double crx = g->n ? (double)g->cli_rtx / (double)g->n : NAN;
	double srx = g->nsrv ? (double)g->srv_rtx / (double)g->nsrv : NAN;
	double sfl = g->nsrv ? (double)g->srv_rtx_flows / (double)g->nsrv : NAN;
	double ssg = g->srv_segs ? (double)g->srv_rtx / (double)g->srv_segs : NAN;
	if (csv) {
		/* key may hold commas: replace by '/' to keep the CSV shape */
		for (char *p = g->key; *p; p++)
			if (*p == ',')
				*p = '/';
		printf("%s,%zu,%zu,%zu,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.3f,", g->key, g->n,
		       g->nok, g->nerr, fm, pct(g->fct, g->nfct, 50), pct(g->fct, g->nfct, 95),
		       pct(g->fct, g->nfct, 99), cm, pct(g->conn, g->nconn, 50),
		       pct(g->conn, g->nconn, 95), pct(g->conn, g->nconn, 99), crx);
		if (g->nsrv)
			printf("%.3f,%.4f,", srx, sfl);
		else
			printf(",,");
		if (g->srv_segs)
			printf("%.5f\n", ssg);
		else
			printf("\n");
	} else {
		char a[16] = "-", b[16] = "-", cc[16] = "-";
		if (g->nsrv) {
			snprintf(a, sizeof(a), "%.2f", srx);
			snprintf(b, sizeof(b), "%.1f", 100 * sfl);
		}
		if (g->srv_segs)
			snprintf(cc, sizeof(cc), "%.2f", 100 * ssg);
		printf("%-24s %6zu %5zu %5zu %9.1f %9.1f %9.1f %9.1f %8.1f %8.1f %8.1f %7s %7s %7s\n",
		       g->key, g->n, g->nok, g->nerr, fm / 1e3, pct(g->fct, g->nfct, 50) / 1e3,
		       pct(g->fct, g->nfct, 95) / 1e3, pct(g->fct, g->nfct, 99) / 1e3, cm / 1e3,
		       pct(g->conn, g->nconn, 50) / 1e3, pct(g->conn, g->nconn, 99) / 1e3, a, b, cc);
	}
}

int cmd_summarize(int argc, char **argv)
{
	struct summ_opts so = { .by = "path,size", .rmax = UINT64_MAX };
	struct groups G = { 0 };
	FILE *f;

	summ_args(argc, argv, &so);
	summ_keys(so.by);
	f = strcmp(so.file, "-") ? fopen(so.file, "r") : stdin;
	if (!f)
		die_runtime("summarize: %s: %s", so.file, strerror(errno));
	summ_read(f, &so, &G);
	if (f != stdin)
		fclose(f);

	/* order groups by the keys in --by order: paths by name, sizes numerically */
	qsort(G.gs, G.ng, sizeof(*G.gs), group_cmp);
	print_head(so.csv);
	for (size_t i = 0; i < G.ng; i++) {
		struct group *g = &G.gs[i];

		print_group(g, so.csv);
		free(g->fct);
		free(g->conn);
		free(g->key);
		free(g->kpath);
	}
	if (!so.csv)
		printf("(times in ms over ok flows; srv_rtx = server retransmits per flow, rtx_fl%% = flows "
		       "with a server retransmit, rtx_sg%% = server segments retransmitted)\n");
	free(G.gs);
	return 0;
}
