// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "jsonw.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

void jw_init(struct jw *w, FILE *f, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->pretty = pretty;
}

static void newline(struct jw *w)
{
	if (!w->pretty)
		return;
	fputc('\n', w->f);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->f);
}

/* Before any value or key: the comma and indentation its position needs. */
static void before_value(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0 && w->is_obj[w->depth])
		w->bad = true; /* a value in an object needs a key */
	if (w->need_comma[w->depth])
		fputc(',', w->f);
	if (w->depth > 0)
		newline(w);
	w->need_comma[w->depth] = true;
}

static void open_container(struct jw *w, char c, bool obj)
{
	before_value(w);
	if (w->depth >= JW_MAX_DEPTH) {
		w->bad = true;
		return;
	}
	fputc(c, w->f);
	w->depth++;
	w->need_comma[w->depth] = false;
	w->is_obj[w->depth] = obj;
}

void jw_obj(struct jw *w)
{
	open_container(w, '{', true);
}

void jw_arr(struct jw *w)
{
	open_container(w, '[', false);
}

void jw_end(struct jw *w)
{
	bool had = w->need_comma[w->depth];
	bool obj = w->is_obj[w->depth];

	if (w->depth == 0 || w->after_key) {
		w->bad = true;
		return;
	}
	w->depth--;
	if (had)
		newline(w);
	fputc(obj ? '}' : ']', w->f);
}

void jw_escape(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned c = *p;
		size_t n = 0;
		const unsigned char *run = p;

		/* a run of printable ASCII that needs no escaping: one fwrite */
		while (run < end && *run >= 0x20 && *run < 0x7f && *run != '"' && *run != '\\')
			run++;
		if (run > p) {
			fwrite(p, 1, (size_t)(run - p), f);
			p = run;
			continue;
		}

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc((int)c, f);
			p++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n': fputs("\\n", f); break;
			case '\r': fputs("\\r", f); break;
			case '\t': fputs("\\t", f); break;
			case '\b': fputs("\\b", f); break;
			case '\f': fputs("\\f", f); break;
			default: fprintf(f, "\\u%04x", c); break;
			}
			p++;
			continue;
		}
		if (c < 0x80) {
			fputc((int)c, f);
			p++;
			continue;
		}
		/* UTF-8: copy a well-formed sequence, replace anything else. */
		if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		if (n && (size_t)(end - p) >= n) {
			bool ok = true;
			uint32_t cp = c & (0xff >> (n + 1));

			for (size_t i = 1; i < n && ok; i++) {
				ok = (p[i] & 0xc0) == 0x80;
				cp = (cp << 6) | (p[i] & 0x3f);
			}
			/* no overlong forms, no surrogates, nothing above U+10FFFF */
			if (ok && ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
				   (cp >= 0xd800 && cp <= 0xdfff)))
				ok = false;
			if (ok) {
				fwrite(p, 1, n, f);
				p += n;
				continue;
			}
		}
		fputs("\\ufffd", f);
		p++;
	}
}

void jw_strn(struct jw *w, const char *s, size_t len)
{
	before_value(w);
	fputc('"', w->f);
	jw_escape(w->f, s, len);
	fputc('"', w->f);
}

void jw_str(struct jw *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	jw_strn(w, s, strlen(s));
}

void jw_key(struct jw *w, const char *key)
{
	if (w->depth == 0 || !w->is_obj[w->depth] || w->after_key) {
		w->bad = true;
		return;
	}
	if (w->need_comma[w->depth])
		fputc(',', w->f);
	newline(w);
	w->need_comma[w->depth] = true;
	fputc('"', w->f);
	jw_escape(w->f, key, strlen(key));
	fputs(w->pretty ? "\": " : "\":", w->f);
	w->after_key = true;
}

/* Decimal digits of v, without printf (report --json writes millions). */
static void put_u64(FILE *f, uint64_t v, bool neg)
{
	char buf[24], *e = buf + sizeof(buf), *q = e;

	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		*--q = '-';
	fwrite(q, 1, (size_t)(e - q), f);
}

void jw_i64(struct jw *w, int64_t v)
{
	before_value(w);
	put_u64(w->f, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, v < 0);
}

void jw_u64(struct jw *w, uint64_t v)
{
	before_value(w);
	put_u64(w->f, v, false);
}

void jw_dbl(struct jw *w, double v)
{
	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	before_value(w);
	/* %.10g: enough for measured values, and always valid JSON (no "inf", no ".5") */
	fprintf(w->f, "%.10g", v);
}

void jw_bool(struct jw *w, bool v)
{
	before_value(w);
	fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w)
{
	before_value(w);
	fputs("null", w->f);
}

int jw_finish(struct jw *w)
{
	if (w->depth != 0 || w->after_key)
		w->bad = true;
	fputc('\n', w->f);
	if (fflush(w->f) || ferror(w->f) || w->bad)
		return -EIO;
	return 0;
}

/* "key": value, one for each value writer above. */
#define JW_KV(type, kind)                                   \
	void jw_kv_##kind(struct jw *w, const char *k, type v) \
	{                                                       \
		jw_key(w, k);                                   \
		jw_##kind(w, v);                                \
	}
JW_KV(const char *, str)
JW_KV(int64_t, i64)
JW_KV(uint64_t, u64)
JW_KV(double, dbl)
JW_KV(bool, bool)

void jw_kv_null(struct jw *w, const char *k)
{
	jw_key(w, k);
	jw_null(w);
}
