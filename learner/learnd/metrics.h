/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * learnd's Prometheus textfile (config metrics_file): a few counters and gauges
 * written every tick, atomically (a temporary file in the same directory, then
 * rename), for node_exporter's textfile collector.  The series are prom.h's:
 * one name, one meaning, whether learnd or `learnctl metrics` printed it.
 */
#ifndef LEARND_METRICS_H
#define LEARND_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include "learnd_abi.h"
#include "learner.h"

struct ld_metrics {
	struct ld_learner_stats st;
	uint64_t records;                  /* close records learnd consumed */
	uint64_t bad_records;              /* ... that did not decode */
	bool have_counters;                /* counter[] read from the counters map */
	uint64_t counter[LEARND_CNT__MAX];
	uint64_t policy_capacity;          /* max_prefixes */
	uint64_t heartbeat_wall_ns;        /* last heartbeat written; 0: none */
	uint64_t start_wall_ns;
	bool observe_only;
};

/* Write m to path (mode 0644).  0 or -errno; on failure path is unchanged and
 * no temporary file is left. */
int ld_metrics_write(const char *path, const struct ld_metrics *m);

#endif
