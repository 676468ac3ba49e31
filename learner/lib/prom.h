/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The Prometheus vocabulary of learnd, once: every series learnd's metrics_file
 * or `learnctl metrics` prints is defined here (prom_series.def: its id, name,
 * type and help, and which of them prints it), and both
 * print through these functions, so a name has one meaning whichever program
 * wrote it.  A series a program cannot know (learnd's own counters since it
 * started; the database's sizes) is printed by that program only.
 * docs/metrics.md lists them with their writers.
 */
#ifndef LEARND_PROM_H
#define LEARND_PROM_H

#include <stdint.h>
#include <stdio.h>
#include "learnd_abi.h"

enum ld_series {
#define SERIES(id, name, type, help) LD_M_##id,
#include "prom_series.def"
#undef SERIES
	LD_M__MAX,
};

const char *ld_series_name(enum ld_series s);

/* "# HELP" and "# TYPE" of s. */
void ld_prom_head(FILE *f, enum ld_series s);
/* Head and one sample: an integer, or seconds (from ns) with 3 decimals. */
void ld_prom_u64(FILE *f, enum ld_series s, uint64_t v);
void ld_prom_seconds(FILE *f, enum ld_series s, int64_t ns);
/* One sample of a per-prefix series (after its head): %.10g. */
void ld_prom_prefix(FILE *f, enum ld_series s, const char *prefix, const char *origin, double v);
/* learnd_bpf_<counter>_total for each data-plane counter, heads included. */
void ld_prom_bpf_counters(FILE *f, const uint64_t counter[LEARND_CNT__MAX]);

#endif
