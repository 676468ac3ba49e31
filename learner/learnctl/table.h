/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Rows out in three formats from one call path: aligned text (fixed column
 * widths, for an 80-column terminal), CSV (RFC 4180 quoting, header line) and
 * JSON (an array of objects, through jsonw).  Every column is in every format;
 * a number's text rendering (tab_dbl's text, such as "-38%±4") is text-only.
 */
#ifndef LEARND_TABLE_H
#define LEARND_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "jsonw.h"
#include "learnctl.h"

enum { TC_LEFT = 1 }; /* text: left-aligned, padded to its width */

struct tab_col {
	const char *name;  /* CSV header and JSON key (data); text header (text) */
	int width;         /* text: minimum width */
	unsigned flags;
};

struct tab {
	FILE *f;
	enum lc_fmt fmt;
	const struct tab_col *cols;
	int ncols;
	int col;          /* next column of the current row */
	int text_pos;     /* characters written on the current text line */
	int text_want;    /* where the current text column should end */
	struct jw jw;
};

void tab_begin(struct tab *t, FILE *f, enum lc_fmt fmt, bool pretty, const struct tab_col *cols, int ncols);
void tab_row(struct tab *t);
/* Cells, in column order.  Text rendering: str as is (NULL: "-"); numbers as
 * given by text (NULL: a default rendering). */
void tab_str(struct tab *t, const char *v);
void tab_i64(struct tab *t, int64_t v);
void tab_dbl(struct tab *t, double v, const char *text); /* NaN: null / empty / "-" */
void tab_null(struct tab *t);
void tab_row_end(struct tab *t);
/* Returns -EIO if writing failed. */
int tab_end(struct tab *t);

/* Stream every row of a store query (query.h), columns named as in its SQL
 * (integers, reals, text; NULL as null / empty / "-").  Text format uses
 * width 10 per column.  Returns 0, 1 when the output could not be written (or
 * out of memory), or the query's error code (< 0); *nrows gets the count. */
struct ld_query;
int tab_from_query(FILE *f, enum lc_fmt fmt, bool pretty, struct ld_query *q, long *nrows);

#endif
