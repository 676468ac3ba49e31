/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The unit tests' runner (tests/unit): CHECK counts a failed check and goes
 * on, RUN runs one test function, t_summary gives the exit status; and the
 * PRNG of tools/sim/prng.h, which the tests draw from.
 * Header-only (static functions) so each test program is one source file.
 * The kernel tests' CHECK (tests/kernel/ktest.h) means the same (count, go
 * on; it reports on stderr); the fuzz targets' FUZZ_ASSERT (tests/fuzz/
 * fuzz_check.h) aborts, so it has its own name.
 */
#ifndef LEARND_TEST_HARNESS_H
#define LEARND_TEST_HARNESS_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prng.h" /* tools/sim */

/* ---- test runner ---- */

static int t_failed_checks __attribute__((unused));
static int t_passed __attribute__((unused)), t_failed __attribute__((unused));

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			t_failed_checks++;                                                         \
			printf("    check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond);       \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
		}                                                                                  \
	} while (0)

#define RUN(fn)                                                                                    \
	do {                                                                                       \
		int before_ = t_failed_checks;                                                     \
		fn();                                                                              \
		if (t_failed_checks == before_) {                                                  \
			t_passed++;                                                                \
			printf("ok   %s\n", #fn);                                                  \
		} else {                                                                           \
			t_failed++;                                                                \
			printf("FAIL %s\n", #fn);                                                  \
		}                                                                                  \
		fflush(stdout);                                                                    \
	} while (0)

/* The file rel under the directory src, whole and NUL-terminated (free it), or NULL. */
static inline char *t_read_file(const char *src, const char *rel)
{
	char path[4096];
	FILE *f;
	char *buf = NULL;
	long len;

	snprintf(path, sizeof(path), "%s/%s", src, rel);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (len = ftell(f)) >= 0) {
		rewind(f);
		buf = calloc(1, (size_t)len + 1);
		if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

#ifdef LEARND_SRC
/* A file of the source tree (the test's LEARND_SRC). */
#define t_read_src(rel) t_read_file(LEARND_SRC, rel)
#endif

static inline int t_summary(void)
{
	printf("%d passed, %d failed\n", t_passed, t_failed);
	return t_failed ? 1 : 0;
}

#endif /* LEARND_TEST_HARNESS_H */
