// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* learnctl_mkdb DB NPREFIXES [BUCKETS]: the database of mkdb.c, from the shell. */
#include <stdio.h>
#include <stdlib.h>
#include "mkdb.h"

int main(int argc, char **argv)
{
	unsigned long n, buckets, aggregates = 0;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: learnctl_mkdb DB NPREFIXES [BUCKETS (default 24)]\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	buckets = argc > 3 ? strtoul(argv[3], NULL, 10) : 24;
	if (ld_mkdb(argv[1], n, buckets, &aggregates))
		return 1;
	printf("%s: %lu prefixes, %lu buckets, %lu aggregate rows\n", argv[1], n, buckets, aggregates);
	return 0;
}
