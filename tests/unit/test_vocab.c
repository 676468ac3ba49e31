// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The text that spells the vocabulary (include/learnd_vocab.h) outside the
 * code says the same as the code's tables: the schema's CHECK lists and its
 * reasons comment, docs/schema.md's origin and reason rows, the IW grid of
 * docs/config.md and learnd.conf(5), and the default paths in the man pages,
 * docs and the packaged learnd.conf.  LEARND_SRC is the source tree.
 */
#include <stdlib.h>
#include "harness.h"
#include "learnd_vocab.h"

#define NAMES_MAX 16

struct names {
	char v[NAMES_MAX][32];
	unsigned n;
};

/* The line of text that holds needle, as its own string (static). */
static const char *line_of(const char *text, const char *needle)
{
	static char line[4096];
	const char *at = text ? strstr(text, needle) : NULL, *b, *e;

	if (!at)
		return "";
	for (b = at; b > text && b[-1] != '\n'; b--)
		;
	e = strchr(at, '\n');
	if (!e)
		e = at + strlen(at);
	snprintf(line, sizeof(line), "%.*s", (int)(e - b), b);
	return line;
}

/* The words between quote characters q in s from its first open .. close. */
static struct names quoted(const char *s, const char *open, char q, char close)
{
	struct names w = { .n = 0 };
	const char *p = strstr(s, open), *end;

	if (!p)
		return w;
	p += strlen(open);
	end = strchr(p, close);
	if (!end)
		end = p + strlen(p);
	while ((p = strchr(p, q)) && p < end && w.n < NAMES_MAX) {
		const char *e = strchr(p + 1, q);

		if (!e || e > end)
			break;
		snprintf(w.v[w.n++], sizeof(w.v[0]), "%.*s", (int)(e - p - 1), p + 1);
		p = e + 1;
	}
	return w;
}

/* Words separated by sep (spaces trimmed), up to the first '(' or the end. */
static struct names split(const char *s, const char *sep)
{
	struct names w = { .n = 0 };
	char buf[512], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", s);
	buf[strcspn(buf, "(")] = '\0';
	for (tok = strtok_r(buf, sep, &save); tok && w.n < NAMES_MAX; tok = strtok_r(NULL, sep, &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		size_t n = strlen(tok);

		while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\n'))
			tok[--n] = '\0';
		if (n)
			snprintf(w.v[w.n++], sizeof(w.v[0]), "%s", tok);
	}
	return w;
}

/* Does got hold exactly the n names name(0..n-1), in any order? */
static bool same_set(const struct names *got, unsigned n, const char *(*name)(unsigned), const char *what)
{
	bool ok = got->n == n;

	for (unsigned i = 0; i < n; i++) {
		bool found = false;

		for (unsigned j = 0; j < got->n; j++)
			found |= !strcmp(got->v[j], name(i));
		if (!found)
			printf("    %s: '%s' missing\n", what, name(i));
		ok &= found;
	}
	if (got->n != n)
		printf("    %s: %u names, the code has %u\n", what, got->n, n);
	return ok;
}

static const char *param_name(unsigned p) { return learnd_param_info((enum learnd_param)p)->name; }
static const char *origin_name(unsigned o) { return learnd_origin_name((enum learnd_origin)o, 0); }
static const char *why_name(unsigned w) { return learnd_why_name(w); }

static void test_schema_lists(void)
{
	char *sql = t_read_src("schema/001_init.sql");
	struct names w;

	CHECK(sql, "schema/001_init.sql readable under %s", LEARND_SRC);
	w = quoted(line_of(sql, "origin IN ("), "origin IN (", '\'', ')');
	CHECK(same_set(&w, LEARND_ORIGIN__MAX, origin_name, "prefixes.origin CHECK"), "origins");
	for (const char *p = sql; p && (p = strstr(p, "param IN (")); p++) {
		w = quoted(line_of(p, "param IN ("), "param IN (", '\'', ')');
		CHECK(same_set(&w, LEARND_PARAM__MAX, param_name, "param CHECK"), "parameters");
	}
	w = split(strstr(line_of(sql, "reason TEXT"), "--") + 2, "|");
	CHECK(same_set(&w, LEARND_WHY__MAX, why_name, "decisions.reason comment"), "reasons");
	free(sql);
}

/* The backticked words of a docs table row's last cell, outside parentheses
 * ("`configured` (a `[prefix]` section), `discovered` ..."). */
static struct names row_words(const char *row)
{
	struct names w = { .n = 0 };
	const char *p = strstr(row, "TEXT |");
	int depth = 0;

	for (p = p ? p + 6 : ""; *p && w.n < NAMES_MAX; p++) {
		if (*p == '(' || *p == ')') {
			depth += *p == '(' ? 1 : -1;
		} else if (*p == '`') {
			const char *e = strchr(p + 1, '`');

			if (!e)
				break;
			if (!depth)
				snprintf(w.v[w.n++], sizeof(w.v[0]), "%.*s", (int)(e - p - 1), p + 1);
			p = e;
		}
	}
	return w;
}

static void test_schema_doc(void)
{
	char *md = t_read_src("docs/schema.md");
	struct names w;

	CHECK(md, "docs/schema.md readable");
	w = row_words(line_of(md, "| `origin` | TEXT |"));
	CHECK(same_set(&w, LEARND_ORIGIN__MAX, origin_name, "docs/schema.md origin"), "origins");
	w = row_words(line_of(md, "| `reason` | TEXT |"));
	CHECK(same_set(&w, LEARND_WHY__MAX, why_name, "docs/schema.md reason"), "reasons");
	free(md);
}

/* "a bandit over 4, 6, ..., 128 within the bounds" (the list may wrap) */
static void check_grid(const char *rel, const char *lead)
{
	static const uint16_t grid[LEARND_IW_GRID_N] = LEARND_IW_GRID;
	char *text = t_read_src(rel), *p, *end;
	unsigned n = 0;

	CHECK(text, "%s readable", rel);
	p = text ? strstr(text, lead) : NULL;
	CHECK(p, "%s: '%s' not found", rel, lead);
	if (!p) {
		free(text);
		return;
	}
	p += strlen(lead);
	end = strstr(p, "within");
	while (p && p < end) {
		char *e;
		unsigned long v = strtoul(p, &e, 10);

		if (e == p) {
			p++;
			continue;
		}
		CHECK(n < LEARND_IW_GRID_N && v == grid[n], "%s: grid value %u is %lu", rel, n, v);
		n++;
		p = e;
	}
	CHECK(n == LEARND_IW_GRID_N, "%s: %u grid values, the code has %d", rel, n, LEARND_IW_GRID_N);
	free(text);
}

static void test_grid_docs(void)
{
	check_grid("docs/config.md", "a bandit over");
	check_grid("man/learnd.conf.5", "a bandit over");
}

/* The default paths, as the pages that document them spell them. */
static void test_default_paths(void)
{
	static const struct {
		const char *file;
		bool config, db, pin_dir;
	} pages[] = {
		{ "man/learnd.8", true, true, true },      { "man/learnd.conf.5", true, true, true },
		{ "man/learnctl.8", true, true, true },    { "docs/config.md", false, true, true },
		{ "docs/learnctl.md", true, true, true },  { "packaging/learnd.conf", false, true, true },
	};

	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		char *text = t_read_src(pages[i].file);

		CHECK(text, "%s readable", pages[i].file);
		if (!text)
			continue;
		CHECK(!pages[i].config || strstr(text, LEARND_DEFAULT_CONFIG), "%s lacks %s", pages[i].file,
		      LEARND_DEFAULT_CONFIG);
		CHECK(!pages[i].db || strstr(text, LEARND_DEFAULT_DB), "%s lacks %s", pages[i].file, LEARND_DEFAULT_DB);
		CHECK(!pages[i].pin_dir || strstr(text, LEARND_DEFAULT_PIN_DIR), "%s lacks %s", pages[i].file,
		      LEARND_DEFAULT_PIN_DIR);
		free(text);
	}
}

int main(void)
{
	RUN(test_schema_lists);
	RUN(test_schema_doc);
	RUN(test_grid_docs);
	RUN(test_default_paths);
	return t_summary();
}
