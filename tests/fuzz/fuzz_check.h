/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The fuzz targets' property check: a violated one is a finding, so abort (libFuzzer
 * saves the input) after naming the check.  Named apart from the unit and
 * kernel tests' CHECK, which counts a failure and goes on. */
#ifndef LEARND_FUZZ_CHECK_H
#define LEARND_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_ASSERT(cond)                                                                    \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                             \
		}                                                                            \
	} while (0)

#endif
