// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE /* nftw, FTW_PHYS, FTW_MOUNT */
#include "cgroup.h"

#include <ftw.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

const char *ld_cgroup2_mount(void)
{
	static char path[4096];
	char dev[256], dir[4096], type[64];
	FILE *f = fopen("/proc/mounts", "re");

	if (!f)
		return NULL;
	path[0] = '\0';
	while (fscanf(f, "%255s %4095s %63s %*[^\n]\n", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2")) {
			snprintf(path, sizeof(path), "%s", dir);
			break;
		}
	}
	fclose(f);
	return path[0] ? path : NULL;
}

int ld_cgroup_is_v2_root(const char *path)
{
	char parent[PATH_MAX + 4];
	struct statfs sf;
	struct stat st, pst;

	if (!path[0] || statfs(path, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC)
		return 0;
	snprintf(parent, sizeof(parent), "%s/..", path);
	if (stat(path, &st) || stat(parent, &pst))
		return 0;
	return st.st_dev != pst.st_dev || st.st_ino == pst.st_ino;
}

/* Find the cgroup directory whose inode is the cgroup id (cgroup v2). */
static uint64_t want_ino;
static char *found_path;
static size_t found_len;

static int cg_visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D && sb->st_ino == want_ino) {
		snprintf(found_path, found_len, "%s", path);
		return 1; /* stop */
	}
	return 0;
}

void ld_cgroup_path(uint64_t id, char *buf, size_t len)
{
	const char *root = ld_cgroup2_mount();

	buf[0] = '\0';
	if (!root || !id)
		return;
	want_ino = id;
	found_path = buf;
	found_len = len;
	nftw(root, cg_visit, 16, FTW_PHYS | FTW_MOUNT);
}
