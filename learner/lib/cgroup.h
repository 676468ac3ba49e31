/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Where cgroup v2 is, and which directory a cgroup id names. */
#ifndef LEARND_CGROUP_H
#define LEARND_CGROUP_H

#include <stddef.h>
#include <stdint.h>

/* The cgroup v2 mount point ("/sys/fs/cgroup/unified" on hybrid hosts), or NULL. */
const char *ld_cgroup2_mount(void);
/* Whether path is the root of a cgroup v2 mount (every socket of the host, or
 * of a cgroup namespace): a directory on cgroup2 whose parent is not on the
 * same filesystem.  0 when it is not, or cannot be looked at. */
int ld_cgroup_is_v2_root(const char *path);
/* The directory below the mount whose inode is cgroup id (a cgroup v2
 * directory's inode number is its id), or "" when there is none. */
void ld_cgroup_path(uint64_t id, char *buf, size_t len);

#endif
