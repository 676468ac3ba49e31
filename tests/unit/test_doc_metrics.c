// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * docs/learnctl.md's list of the series `learnctl metrics` prints holds every
 * series learner/lib/prom_series.def gives learnctl ("learnctl", "both", the
 * per-prefix block) and no other, and the data-plane counters it and
 * docs/metrics.md name are maps.c's counter names (ld_counter_name), the
 * names status and its JSON print.  LEARND_SRC is the source tree.
 */
#include <stdlib.h>
#include "harness.h"
#include "maps.h"

#define MAXN 64

struct names {
	char v[MAXN][64];
	unsigned n;
};

static bool has(const struct names *w, const char *s)
{
	for (unsigned i = 0; i < w->n; i++)
		if (!strcmp(w->v[i], s))
			return true;
	return false;
}

static void add(struct names *w, const char *s, size_t len)
{
	if (w->n < MAXN)
		snprintf(w->v[w->n++], sizeof(w->v[0]), "%.*s", (int)len, s);
}

/* The series of prom_series.def that learnctl prints. */
static struct names learnctl_series(const char *def)
{
	struct names w = { .n = 0 };
	const char *per_prefix = strstr(def, "/* per prefix");
	const char *p = def;

	while ((p = strstr(p, "SERIES(")) && p[-1] != '(') {
		const char *next = strstr(p + 7, "\nSERIES("), *q = strchr(p, '"'), *qe = q ? strchr(q + 1, '"') : NULL;
		size_t span = next ? (size_t)(next - p) : strlen(p);
		char entry[1024];

		if (!qe)
			break;
		snprintf(entry, sizeof(entry), "%.*s", (int)span, p);
		if ((per_prefix && p > per_prefix) || strstr(entry, "/* learnctl */") || strstr(entry, "/* both */"))
			add(&w, q + 1, (size_t)(qe - q - 1));
		p += 7;
	}
	return w;
}

/* The paragraph of text from its line starting with lead to the blank line. */
static char *paragraph(const char *text, const char *lead)
{
	const char *b = text ? strstr(text, lead) : NULL, *e;

	if (!b)
		return calloc(1, 1);
	e = strstr(b, "\n\n");
	return strndup(b, e ? (size_t)(e - b) : strlen(b));
}

/* Backticked series names of a paragraph; "`_capacity`" after
 * "`learnd_policy_map_entries`" is the sibling that a known name ends in. */
static struct names doc_series(const char *para, const struct names *known)
{
	struct names w = { .n = 0 };
	char last[64] = "";

	for (const char *p = para; (p = strchr(p, '`'));) {
		const char *e = strchr(p + 1, '`');
		char tok[64];

		if (!e)
			break;
		snprintf(tok, sizeof(tok), "%.*s", (int)(e - p - 1), p + 1);
		p = e + 1;
		if (tok[strspn(tok, "abcdefghijklmnopqrstuvwxyz0123456789_<>")])
			continue; /* an expression such as `learnd_up == 0` */
		if (!strncmp(tok, "learnd_", 7)) {
			snprintf(last, sizeof(last), "%s", tok);
			if (!strstr(tok, "<counter>"))
				add(&w, tok, strlen(tok));
		} else if (tok[0] == '_' && last[0]) {
			char full[128] = "";

			for (size_t cut = strlen(last); cut > 6; cut--)
				if (last[cut] == '_' || !last[cut]) {
					snprintf(full, sizeof(full), "%.*s%s", (int)cut, last, tok);
					if (has(known, full))
						break;
					full[0] = '\0';
				}
			if (full[0])
				add(&w, full, strlen(full));
			else
				add(&w, tok, strlen(tok)); /* unknown: reported below */
		}
	}
	return w;
}

static void test_learnctl_md_series(void)
{
	char *def = t_read_src("learner/lib/prom_series.def"), *md = t_read_src("docs/learnctl.md");
	char *para = paragraph(md, "Series: ");
	struct names want, got;

	CHECK(def && md, "prom_series.def and docs/learnctl.md readable under %s", LEARND_SRC);
	want = learnctl_series(def ? def : "");
	got = doc_series(para, &want);
	CHECK(want.n >= 10, "%u learnctl series found in prom_series.def", want.n);
	for (unsigned i = 0; i < want.n; i++)
		CHECK(has(&got, want.v[i]), "docs/learnctl.md's Series list lacks %s", want.v[i]);
	for (unsigned i = 0; i < got.n; i++)
		CHECK(has(&want, got.v[i]), "docs/learnctl.md lists %s, which learnctl does not print", got.v[i]);
	free(para);
	free(def);
	free(md);
}

/* The comma-separated list in parentheses after "learnd_bpf_<counter>_total". */
static void check_counters(const char *rel)
{
	char *text = t_read_src(rel), list[512], *tok, *save;
	const char *at = text ? strstr(text, "learnd_bpf_<counter>_total") : NULL, *b, *e;
	unsigned n = 0;

	CHECK(at, "%s names learnd_bpf_<counter>_total", rel);
	b = at ? strchr(at, '(') : NULL;
	e = b ? strchr(b, ')') : NULL;
	/* docs/metrics.md's table cell: "..., summed: records, ..." */
	if (at && (!b || (strchr(at, '|') && strchr(at, '|') < b))) {
		b = strstr(at, "summed:");
		b = b ? b + 6 : NULL;
		e = b ? strchr(b, '|') : NULL;
	}
	CHECK(b && e, "%s: no list of counters after learnd_bpf_<counter>_total", rel);
	if (!b || !e) {
		free(text);
		return;
	}
	snprintf(list, sizeof(list), "%.*s", (int)(e - b - 1), b + 1);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char name[64];

		if (sscanf(tok, " %63[a-z0-9_]", name) != 1)
			name[0] = '\0';
		CHECK(n < LEARND_CNT__MAX && !strcmp(name, ld_counter_name((enum learnd_counter)n)),
		      "%s: counter %u is '%s', maps.c's is %s", rel, n, name,
		      n < LEARND_CNT__MAX ? ld_counter_name((enum learnd_counter)n) : "(none)");
		n++;
	}
	CHECK(n == LEARND_CNT__MAX, "%s: %u counters, maps.c has %d", rel, n, LEARND_CNT__MAX);
	free(text);
}

static void test_counter_names(void)
{
	check_counters("docs/learnctl.md");
	check_counters("docs/metrics.md");
}

int main(void)
{
	RUN(test_learnctl_md_series);
	RUN(test_counter_names);
	return t_summary();
}
