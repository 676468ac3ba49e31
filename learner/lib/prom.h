/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The Prometheus vocabulary of learnd, once: every series learnd's metrics_file
 * or `learnctl metrics` prints is defined here (name, type, help), and both
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
	/* liveness */
	LD_M_UP,                  /* learnctl */
	LD_M_HEARTBEAT_AGE,       /* learnctl */
	LD_M_HEARTBEAT_TIME,      /* learnd */
	LD_M_START_TIME,          /* learnd */
	/* state */
	LD_M_PAUSED,              /* both */
	LD_M_DATAPLANE_PAUSED,    /* learnctl */
	LD_M_OBSERVE_ONLY,        /* both */
	/* learnd's own counters, since it started */
	LD_M_RECORDS_CONSUMED,    /* learnd */
	LD_M_RECORDS_MALFORMED,   /* learnd */
	LD_M_PREFIXES_DISCOVERED, /* learnd */
	LD_M_PREFIXES_EVICTED,    /* learnd */
	LD_M_DECISIONS_MADE,      /* learnd */
	LD_M_STORE_ERRORS,        /* learnd */
	/* the data plane */
	LD_M_POLICY_CAPACITY,     /* both */
	LD_M_POLICY_ENTRIES,      /* learnctl */
	/* the learner's prefixes and the database */
	LD_M_PREFIXES,            /* both */
	LD_M_PINS,                /* learnctl */
	LD_M_DECISIONS,           /* learnctl */
	LD_M_DB_SIZE,             /* learnctl */
	LD_M_DB_LAST_TICK_AGE,    /* learnctl */
	/* per prefix (labels prefix, origin): learnctl */
	LD_M_PFX_CONNECTIONS,
	LD_M_PFX_CONNECTIONS_1H,
	LD_M_PFX_IW,
	LD_M_PFX_RWND,
	LD_M_PFX_SYN_RTO,
	LD_M_PFX_BASE_RTT,
	LD_M_PFX_PROBE_SHARE,
	LD_M_PFX_FCT_CHANGE,
	LD_M_PFX_RETRANS,
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
