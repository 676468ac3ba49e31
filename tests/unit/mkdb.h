/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef LEARND_TEST_MKDB_H
#define LEARND_TEST_MKDB_H

/* Create the database PATH with NPREFIXES prefixes and BUCKETS 5-minute buckets
 * of aggregates each, through the store's own calls (contents: mkdb.c).
 * 0, or 1 with a message on stderr; a store failure midway exits(1). */
int ld_test_mkdb(const char *path, unsigned long nprefixes, unsigned long buckets);

#endif
