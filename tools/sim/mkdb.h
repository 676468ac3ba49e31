/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef LEARND_SIM_MKDB_H
#define LEARND_SIM_MKDB_H

/* Create the database PATH with NPREFIXES prefixes and BUCKETS 5-minute buckets
 * of aggregates each, through the store's own calls (contents: mkdb.c);
 * *aggregates (may be NULL) gets the number of aggregate rows written.
 * 0, or 1 with a message on stderr; a store failure midway exits(1). */
int ld_mkdb(const char *path, unsigned long nprefixes, unsigned long buckets, unsigned long *aggregates);

#endif
