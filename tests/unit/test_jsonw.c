// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* learnctl's JSON writer: escaping, structure, numbers JSON cannot hold. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jsonw.h"

static int failures;

static void expect(const char *what, const char *got, const char *want)
{
	if (strcmp(got, want)) {
		fprintf(stderr, "FAIL %s:\n  got  %s\n  want %s\n", what, got, want);
		failures++;
	}
}

static char *escaped(const char *s, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	jw_escape(f, s, len);
	fclose(f);
	return buf;
}

static void esc(const char *what, const char *in, size_t len, const char *want)
{
	char *got = escaped(in, len);

	expect(what, got, want);
	free(got);
}

int main(void)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f;
	struct jw w;

	esc("plain", "10.0.0.0/8", 10, "10.0.0.0/8");
	esc("quote and backslash", "a\"b\\c", 5, "a\\\"b\\\\c");
	esc("control characters", "a\nb\tc\x01" "d\x7f", 8, "a\\nb\\tc\\u0001d\\u007f");
	esc("embedded NUL", "a\0b", 3, "a\\u0000b");
	esc("valid UTF-8 kept", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	esc("invalid byte", "a\xff" "b", 3, "a\\ufffdb");
	esc("truncated sequence", "a\xe2\x82", 3, "a\\ufffd\\ufffd");
	esc("overlong", "\xc0\xaf", 2, "\\ufffd\\ufffd");
	esc("surrogate", "\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd");

	f = open_memstream(&buf, &n);
	jw_init(&w, f, false);
	jw_obj(&w);
	jw_kv_str(&w, "who", "eve\"},{\"x\":1");
	jw_kv_dbl(&w, "nan", NAN);
	jw_kv_dbl(&w, "inf", INFINITY);
	jw_kv_dbl(&w, "half", 0.5);
	jw_kv_i64(&w, "neg", -3);
	jw_kv_str(&w, "null", NULL);
	jw_key(&w, "a");
	jw_arr(&w);
	jw_u64(&w, 1);
	jw_obj(&w);
	jw_end(&w);
	jw_arr(&w);
	jw_end(&w);
	jw_end(&w);
	jw_end(&w);
	if (jw_finish(&w)) {
		fprintf(stderr, "FAIL: jw_finish reported misuse\n");
		failures++;
	}
	fclose(f);
	expect("document", buf,
	       "{\"who\":\"eve\\\"},{\\\"x\\\":1\",\"nan\":null,\"inf\":null,\"half\":0.5,\"neg\":-3,\"null\":null,"
	       "\"a\":[1,{},[]]}\n");
	free(buf);

	/* misuse is reported, not silently produced */
	buf = NULL;
	f = open_memstream(&buf, &n);
	jw_init(&w, f, false);
	jw_obj(&w);
	jw_u64(&w, 1); /* value without key */
	jw_end(&w);
	if (!jw_finish(&w)) {
		fprintf(stderr, "FAIL: a value without a key was not reported\n");
		failures++;
	}
	fclose(f);
	free(buf);

	if (failures)
		return 1;
	printf("jsonw: all passed\n");
	return 0;
}
