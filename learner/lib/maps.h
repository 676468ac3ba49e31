/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reading and writing the data plane's maps by fd: the control block and the
 * per-CPU counters.  No skeleton: learnctl uses these on pinned maps, learnd on
 * the maps of its loaded object (loader.h).
 */
#ifndef LEARND_MAPS_H
#define LEARND_MAPS_H

#include <stdint.h>
#include "learnd_abi.h"

/* Control block: heartbeat (CLOCK_MONOTONIC ns), TTL, flags, sample rate.
 * ld_ctl_write stamps abi_version with this build's LEARND_ABI_VERSION. */
int ld_ctl_write(int ctl_fd, const struct learnd_ctl *ctl);
int ld_ctl_read(int ctl_fd, struct learnd_ctl *ctl);
/* Sum of a per-CPU counter over all CPUs. */
int ld_counters_read(int counters_fd, uint64_t out[LEARND_CNT__MAX]);
const char *ld_counter_name(enum learnd_counter c);
/* One sentence for a Prometheus HELP line (learnctl metrics, learnd's metrics_file). */
const char *ld_counter_help(enum learnd_counter c);

#endif
