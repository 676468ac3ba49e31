// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "table.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Display width of UTF-8 text: count code points (no wide characters here). */
static int text_width(const char *s)
{
	int n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Text: one cell, right-aligned in its column unless TC_LEFT; a cell wider than
 * its column pushes the rest of the line right rather than being cut. */
static void text_cell(struct tab *t, int c, const char *raw)
{
	char s[512];

	lc_text_clean(raw, s, sizeof(s));
	const struct tab_col *col = &t->cols[c];
	int w = text_width(s);
	int sep = t->text_pos ? 1 : 0;

	t->text_want += (t->text_want ? 1 : 0) + col->width;
	if (col->flags & TC_LEFT) {
		fprintf(t->f, "%*s%s", sep, "", s);
		t->text_pos += sep + w;
	} else {
		int pad = t->text_want - t->text_pos - w;

		if (pad < sep)
			pad = sep;
		fprintf(t->f, "%*s%s", pad, "", s);
		t->text_pos += pad + w;
	}
	if (col->flags & TC_LEFT) {
		/* pad to the column's end now, unless it is the last column */
		if (c + 1 < t->ncols && t->text_pos < t->text_want) {
			fprintf(t->f, "%*s", t->text_want - t->text_pos, "");
			t->text_pos = t->text_want;
		}
	}
}

void tab_begin(struct tab *t, FILE *f, enum lc_fmt fmt, bool pretty, const struct tab_col *cols, int ncols)
{
	memset(t, 0, sizeof(*t));
	t->f = f;
	t->fmt = fmt;
	t->cols = cols;
	t->ncols = ncols;
	if (fmt == LC_JSON) {
		jw_init(&t->jw, f, pretty);
		jw_arr(&t->jw);
		return;
	}
	for (int c = 0; c < ncols; c++) {
		if (fmt == LC_CSV) {
			if (c)
				fputc(',', f);
			csv_field(f, cols[c].name);
		} else {
			text_cell(t, c, cols[c].name);
		}
	}
	fputc('\n', f);
}

void tab_row(struct tab *t)
{
	t->col = 0;
	t->text_pos = 0;
	t->text_want = 0;
	if (t->fmt == LC_JSON)
		jw_obj(&t->jw);
}

/* The next column; false past the last one. */
static bool next_col(struct tab *t, int *c)
{
	*c = t->col++;
	return *c < t->ncols;
}

static void csv_sep(struct tab *t, int c)
{
	if (c)
		fputc(',', t->f);
}

void tab_str(struct tab *t, const char *v)
{
	int c;

	if (!next_col(t, &c))
		return;
	if (t->fmt == LC_JSON) {
		jw_kv_str(&t->jw, t->cols[c].name, v);
	} else if (t->fmt == LC_CSV) {
		csv_sep(t, c);
		if (v)
			csv_field(t->f, v);
	} else {
		text_cell(t, c, v ? v : "-");
	}
}

void tab_null(struct tab *t)
{
	int c;

	if (!next_col(t, &c))
		return;
	if (t->fmt == LC_JSON)
		jw_kv_null(&t->jw, t->cols[c].name);
	else if (t->fmt == LC_CSV)
		csv_sep(t, c);
	else
		text_cell(t, c, "-");
}

/* JSON: the key of the next column, NULL past the last one. */
static const char *json_key(struct tab *t)
{
	int c;

	return next_col(t, &c) ? t->cols[c].name : NULL;
}

/* Numbers are cells like text in CSV and text format (tab_str). */
void tab_i64(struct tab *t, int64_t v)
{
	char buf[32];
	const char *k;

	if (t->fmt != LC_JSON) {
		snprintf(buf, sizeof(buf), "%" PRId64, v);
		tab_str(t, buf);
	} else if ((k = json_key(t))) {
		jw_kv_i64(&t->jw, k, v);
	}
}

void tab_dbl(struct tab *t, double v, const char *text)
{
	char buf[48];
	const char *k;

	if (t->fmt == LC_JSON) {
		if ((k = json_key(t)))
			jw_kv_dbl(&t->jw, k, v);
		return;
	}
	/* CSV: the number in full, never the text; NaN: empty / "-" */
	if (t->fmt == LC_CSV || !text) {
		text = NULL;
		if (isfinite(v)) {
			snprintf(buf, sizeof(buf), t->fmt == LC_CSV ? "%.10g" : "%.3g", v);
			text = buf;
		}
	}
	tab_str(t, text);
}

void tab_row_end(struct tab *t)
{
	/* columns not given: null/empty */
	while (t->col < t->ncols)
		tab_null(t);
	if (t->fmt == LC_JSON)
		jw_end(&t->jw);
	else
		fputc('\n', t->f);
}

int tab_end(struct tab *t)
{
	if (t->fmt == LC_JSON) {
		jw_end(&t->jw);
		return jw_finish(&t->jw);
	}
	return fflush(t->f) || ferror(t->f) ? -EIO : 0;
}

#include <stdlib.h>
#include "query.h"

int tab_from_query(FILE *f, enum lc_fmt fmt, bool pretty, struct ld_query *q, long *nrows)
{
	int n = ld_query_ncols(q), rc;
	struct tab_col *cols = calloc((size_t)(n ? n : 1), sizeof(*cols));
	struct tab t;

	*nrows = 0;
	if (!cols)
		return 1;
	for (int i = 0; i < n; i++) {
		cols[i].name = ld_query_name(q, i);
		cols[i].width = 10;
	}
	tab_begin(&t, f, fmt, pretty, cols, n);
	while ((rc = ld_query_next(q)) == 1) {
		tab_row(&t);
		for (int i = 0; i < n; i++) {
			switch (ld_query_type(q, i)) {
			case LD_COL_INT: tab_i64(&t, ld_query_int(q, i)); break;
			case LD_COL_FLOAT: tab_dbl(&t, ld_query_dbl(q, i), NULL); break;
			case LD_COL_NULL: tab_null(&t); break;
			default: tab_str(&t, ld_query_text(q, i)); break;
			}
		}
		tab_row_end(&t);
		(*nrows)++;
	}
	if (tab_end(&t) && rc == 0)
		rc = 1;
	free(cols);
	return rc;
}
