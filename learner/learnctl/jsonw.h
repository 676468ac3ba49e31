/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small streaming JSON writer: every string goes through one escaping
 * function (quotes, backslashes, control characters, invalid UTF-8 replaced by
 * U+FFFD), numbers that JSON cannot hold (NaN, infinities) become null.
 *
 *   struct jw w; jw_init(&w, stdout, true);
 *   jw_obj(&w); jw_kv_str(&w, "prefix", "10.0.0.0/8"); jw_kv_u64(&w, "conns", 3); jw_end(&w);
 *   jw_finish(&w);    newline after the top-level value
 */
#ifndef LEARND_JSONW_H
#define LEARND_JSONW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 32

struct jw {
	FILE *f;
	bool pretty;
	int depth;
	bool need_comma[JW_MAX_DEPTH + 1];
	bool is_obj[JW_MAX_DEPTH + 1];
	bool after_key;
	bool bad; /* misuse (too deep, end without begin): output is not valid JSON */
};

void jw_init(struct jw *w, FILE *f, bool pretty);
void jw_obj(struct jw *w);
void jw_arr(struct jw *w);
void jw_end(struct jw *w); /* closes the innermost object or array */
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s); /* NULL: null */
void jw_strn(struct jw *w, const char *s, size_t len);
void jw_i64(struct jw *w, int64_t v);
void jw_u64(struct jw *w, uint64_t v);
void jw_dbl(struct jw *w, double v); /* not finite: null */
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Newline after a complete top-level value; returns -EIO if the stream failed
 * or the writer was misused. */
int jw_finish(struct jw *w);

/* Key and value in one call. */
void jw_kv_str(struct jw *w, const char *k, const char *v);
void jw_kv_i64(struct jw *w, const char *k, int64_t v);
void jw_kv_u64(struct jw *w, const char *k, uint64_t v);
void jw_kv_dbl(struct jw *w, const char *k, double v);
void jw_kv_bool(struct jw *w, const char *k, bool v);
void jw_kv_null(struct jw *w, const char *k);

/* The escaped form of s (without quotes) written to f; exposed for tests. */
void jw_escape(FILE *f, const char *s, size_t len);

#endif
