/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The data plane as learnctl sees it: the maps and link learnd pins under
 * pin_dir (policy_map, ctl_map, counters, records, link), opened by path, and
 * what the kernel says about them (ids, cgroup, program, occupancy).
 */
#ifndef LEARND_DPINFO_H
#define LEARND_DPINFO_H

#include <stdbool.h>
#include <stdint.h>
#include "learnd_abi.h"

struct lc_map_info {
	bool present;
	int err;             /* -errno when not opened (ENOENT: not pinned) */
	uint32_t id, max_entries, type;
	char name[16];
};

struct lc_dp {
	int policy_fd, ctl_fd, counters_fd, records_fd, link_fd; /* -1 when absent */
	char pin_dir[4096];
	/* filled by lc_dp_info() */
	struct lc_map_info policy, ctl, counters, records;
	bool link_present;
	int link_err;
	uint32_t link_id, link_type, attach_type, prog_id;
	uint64_t cgroup_id;
	char cgroup_path[4096]; /* "" if not found under the cgroup v2 mount */
	char prog_name[16], prog_tag[17];
	uint64_t prog_run_cnt, prog_run_time_ns; /* non-zero with kernel.bpf_stats_enabled=1 */
	uint32_t prog_map_ids[16], prog_nr_maps;
	bool have_ctl, have_counters;
	struct learnd_ctl ctl_val;
	uint64_t counter[LEARND_CNT__MAX];
	int64_t policy_entries; /* -1 if not counted */
};

/* Open what is pinned under pin_dir; absent pins are not an error (fds -1,
 * err recorded).  write: open ctl_map for writing too. */
void lc_dp_open(struct lc_dp *dp, const char *pin_dir, bool write);
void lc_dp_close(struct lc_dp *dp);
/* Read ids, link, cgroup, program, counters, ctl and occupancy. */
void lc_dp_info(struct lc_dp *dp);
/* Set or clear LEARND_CTL_PAUSED in ctl_map.  0, -ENOENT (no ctl_map) or -errno. */
int lc_dp_set_paused(struct lc_dp *dp, bool paused);
/* True when the heartbeat is within its TTL. */
bool lc_dp_alive(const struct lc_dp *dp, int64_t *age_ns);

#endif
