/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The data plane's life cycle: open the skeleton, size and load it, attach it to a
 * cgroup through a BPF link, pin maps and link under a directory, and undo it.
 *
 * Restart semantics: maps and link are pinned, so a learnd that dies (even with
 * kill -9) leaves the program running with the last values until the heartbeat TTL
 * expires, then kernel defaults.  The next learnd reuses the pinned maps and moves
 * the pinned link to its freshly loaded program.  A pinned policy_map or records
 * ring of another size (max_prefixes or ringbuf_kb changed) is recreated at the
 * new size, the policies copied over (as many as fit) before the link moves;
 * maps of another layout are refused.  A clean stop (ld_dp_close with
 * detach) removes link and pins: kernel defaults at once.
 */
#ifndef LEARND_LOADER_H
#define LEARND_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include "cgroup.h"
#include "clock.h"
#include "learnd_abi.h"
#include "maps.h" /* the maps, once open: ld_ctl_write(ld_dp_ctl_fd(dp), ...) */

struct learnd;     /* the skeleton, learnd.skel.h */
struct bpf_link;

struct ld_dp_opts {
	const char *cgroup;   /* cgroup v2 directory to attach to */
	const char *pin_dir;  /* bpffs directory for maps and link; NULL: no pins */
	uint32_t max_prefixes;
	uint32_t ringbuf_kb;
};

/* Old pinned maps recreated with the configuration's size (loader.c). */
enum { LD_DP_OLD_POLICY, LD_DP_OLD_RECORDS, LD_DP_OLD__MAX };

struct ld_dataplane {
	struct learnd *skel;
	struct bpf_link *link;
	char pin_dir[4096];
	bool adopted; /* the link (and maybe maps) came from a previous learnd */
	bool locked;  /* lock_fd holds the pin directory's lock: one learnd per pin_dir */
	int lock_fd;
	uint64_t cgroup_id;
	int old_fd[LD_DP_OLD__MAX]; /* during ld_dp_open: maps of a previous learnd being replaced */
};

/* Everything above; returns 0 or -errno, logging what failed. */
int ld_dp_open(struct ld_dataplane *dp, const struct ld_dp_opts *opts);
/* detach: remove link and pins (kernel defaults at once).  Safe on a zeroed dp. */
void ld_dp_close(struct ld_dataplane *dp, bool detach);

/* False, logged, when cgroup (the one attached to at ld_dp_open) was removed, or
 * replaced by a directory of another inode: the link on the old one tunes nothing. */
bool ld_dp_cgroup_alive(const struct ld_dataplane *dp, const char *cgroup);

int ld_dp_policy_fd(const struct ld_dataplane *dp);
int ld_dp_ctl_fd(const struct ld_dataplane *dp);
int ld_dp_counters_fd(const struct ld_dataplane *dp);
int ld_dp_records_fd(const struct ld_dataplane *dp);

#endif
