// SPDX-License-Identifier: GPL-2.0
/* flowgen: the size sequence (--sizes, --dist, --order) and `flowgen sizes`. */
#include "flowgen.h"

/* ------------------------------------------------------------------------------------ */
/* size sequence                                                                        */

void parse_sizes_list(struct sizegen *g, const char *arg)
{
	char *dup = strdup(arg);
	char *save = NULL;
	g->nsizes = 0;
	for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (g->nsizes >= MAX_SIZES)
			die_usage("--sizes: more than %d sizes", MAX_SIZES);
		if (!parse_size(tok, &g->sizes[g->nsizes]))
			die_usage("--sizes: bad size '%s' (expected e.g. 10k, 1.5m, 64Ki, 1000)", tok);
		g->nsizes++;
	}
	free(dup);
	if (g->nsizes == 0)
		die_usage("--sizes: empty list '%s'", arg);
}

void parse_dist(struct sizegen *g, const char *arg)
{
	char *dup = strdup(arg);
	char *f[5] = {0};
	int n = 0;
	char *p = dup;
	while (n < 5) {
		f[n++] = p;
		p = strchr(p, ':');
		if (!p)
			break;
		*p++ = 0;
	}
	if (n != 4 || strcmp(f[0], "pareto") != 0)
		die_usage("--dist: expected pareto:MIN:MAX:ALPHA, got '%s'", arg);
	uint64_t lo, hi;
	double a;
	if (!parse_size(f[1], &lo))
		die_usage("--dist: bad MIN '%s'", f[1]);
	if (!parse_size(f[2], &hi))
		die_usage("--dist: bad MAX '%s'", f[2]);
	if (hi <= lo)
		die_usage("--dist: MAX (%s) must be greater than MIN (%s)", f[2], f[1]);
	if (!parse_double(f[3], &a) || a <= 0 || a > 100)
		die_usage("--dist: bad ALPHA '%s' (expected a number in (0, 100])", f[3]);
	g->pareto = true;
	g->pmin = (double)lo;
	g->pmax = (double)hi;
	g->palpha = a;
	free(dup);
}

uint64_t size_at(const struct sizegen *g, uint64_t idx)
{
	if (g->pareto) {
		/* bounded Pareto, inverse CDF */
		double u = unit_at(g->seed, 1, idx);
		double ratio = pow(g->pmin / g->pmax, g->palpha);
		double x = g->pmin / pow(1.0 - u * (1.0 - ratio), 1.0 / g->palpha);
		if (x < g->pmin)
			x = g->pmin;
		if (x > g->pmax)
			x = g->pmax;
		return (uint64_t)llround(x);
	}
	if (g->cycle)
		return g->sizes[idx % (uint64_t)g->nsizes];
	return g->sizes[rand_at(g->seed, 1, idx) % (uint64_t)g->nsizes];
}


const char *parse_order(const char *a, bool *cycle)
{
	if (!strcmp(a, "cycle"))
		*cycle = true;
	else if (!strcmp(a, "random"))
		*cycle = false;
	else
		return "expected 'cycle' or 'random'";
	return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* sizes                                                                                */

int cmd_sizes(int argc, char **argv)
{
	static const struct option lo[] = {
		{"sizes", required_argument, 0, OPT_SIZES},
		{"order", required_argument, 0, OPT_ORDER},
		{"dist", required_argument, 0, OPT_DIST},
		{"count", required_argument, 0, OPT_COUNT},
		{"seed", required_argument, 0, OPT_SEED},
		{"help", no_argument, 0, OPT_HELP},
		{0, 0, 0, 0},
	};
	struct sizegen g;
	const char *sizes = NULL, *dist = NULL, *order = NULL;
	uint64_t count = 0;
	int o;

	memset(&g, 0, sizeof(g));
	g.seed = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:", lo, NULL)) != -1) {
		switch (o) {
		case OPT_SIZES: sizes = optarg; break;
		case OPT_ORDER: order = optarg; break;
		case OPT_DIST: dist = optarg; break;
		case OPT_COUNT:
			if (!parse_u64(optarg, &count) || count < 1)
				die_usage("sizes: --count: expected a positive integer, got '%s'", optarg);
			break;
		case OPT_SEED:
			if (!parse_u64(optarg, &g.seed))
				die_usage("sizes: --seed: expected a non-negative integer, got '%s'", optarg);
			break;
		default:
			opt_other("sizes", o, argv); /* --help, a missing value, an unknown option */
		}
	}
	if (optind < argc)
		die_usage("sizes: unexpected argument '%s'", argv[optind]);
	if (!count)
		die_usage("sizes: --count is required");
	if (sizes && dist)
		die_usage("sizes: --sizes and --dist exclude each other");
	if (order && dist)
		die_usage("sizes: --order applies to --sizes, not --dist");
	if (order) {
		const char *m = parse_order(order, &g.cycle);
		if (m)
			die_usage("sizes: --order: %s, got '%s'", m, order);
	}
	if (dist)
		parse_dist(&g, dist);
	else
		parse_sizes_list(&g, sizes ? sizes : "100k");
	for (uint64_t i = 0; i < count; i++)
		printf("%" PRIu64 "\n", size_at(&g, i));
	return 0;
}

