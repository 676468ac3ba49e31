// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "prom.h"

#include <inttypes.h>
#include "maps.h"

static const struct {
	const char *name, *type, *help;
} series[LD_M__MAX] = {
#define SERIES(id, name, type, help) [LD_M_##id] = { name, type, help },
#include "prom_series.def"
#undef SERIES
};

const char *ld_series_name(enum ld_series s)
{
	return (unsigned)s < LD_M__MAX ? series[s].name : "?";
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void ld_prom_head(FILE *f, enum ld_series s)
{
	head(f, series[s].name, series[s].type, series[s].help);
}

void ld_prom_u64(FILE *f, enum ld_series s, uint64_t v)
{
	ld_prom_head(f, s);
	fprintf(f, "%s %" PRIu64 "\n", series[s].name, v);
}

void ld_prom_seconds(FILE *f, enum ld_series s, int64_t ns)
{
	ld_prom_head(f, s);
	fprintf(f, "%s %.3f\n", series[s].name, (double)ns / 1e9);
}

/* A label value: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

void ld_prom_prefix(FILE *f, enum ld_series s, const char *prefix, const char *origin, double v)
{
	fprintf(f, "%s{prefix=\"", series[s].name);
	label(f, prefix);
	fputs("\",origin=\"", f);
	label(f, origin);
	fprintf(f, "\"} %.10g\n", v);
}

void ld_prom_bpf_counters(FILE *f, const uint64_t counter[LEARND_CNT__MAX])
{
	for (int c = 0; c < LEARND_CNT__MAX; c++) {
		char name[96];

		snprintf(name, sizeof(name), "learnd_bpf_%s_total", ld_counter_name((enum learnd_counter)c));
		head(f, name, "counter", ld_counter_help((enum learnd_counter)c));
		fprintf(f, "%s %" PRIu64 "\n", name, counter[c]);
	}
}
