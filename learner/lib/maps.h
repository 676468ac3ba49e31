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
/* The control block's read-modify-write, for learnd's heartbeat and learnctl's
 * pause and resume alike: fn changes what was read (its non-zero return: write
 * nothing), and the write is made under an flock on the pinned map's file
 * pin_path (pin_dir/ctl_map), so that neither writer rewrites the record over
 * what the other wrote between its read and its write.  Waits up to wait_ms
 * for the other one, then -EBUSY; pin_path NULL or not openable: no lock (no
 * one to share the map with).  0 or -errno. */
int ld_ctl_update(int ctl_fd, const char *pin_path, int wait_ms, int (*fn)(struct learnd_ctl *ctl, void *arg),
		  void *arg);
/* Sum of a per-CPU counter over all CPUs. */
int ld_counters_read(int counters_fd, uint64_t out[LEARND_CNT__MAX]);
const char *ld_counter_name(enum learnd_counter c);
/* One sentence for a Prometheus HELP line (learnctl metrics, learnd's metrics_file). */
const char *ld_counter_help(enum learnd_counter c);

#endif
