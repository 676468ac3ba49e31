/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The two clocks, once.  Monotonic time is the data plane's (bpf_ktime_get_ns:
 * heartbeats, record close times, tick scheduling); wall time is the database's
 * (every *_ns column, learnctl's --since and ages).
 */
#ifndef LEARND_CLOCK_H
#define LEARND_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ns. */
uint64_t ld_now_ns(void);
/* CLOCK_REALTIME in ns. */
int64_t ld_wall_ns(void);

#endif
