// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include "dpinfo.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroup.h"
#include "maps.h"
#include "clock.h"

static int pin_get(const char *dir, const char *name, bool rdonly, int *err)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = rdonly ? BPF_F_RDONLY : 0);
	char path[4096 + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get_opts(path, &o);
	*err = fd < 0 ? -errno : 0;
	return fd < 0 ? -1 : fd;
}

void lc_dp_open(struct lc_dp *dp, const char *pin_dir, bool write)
{
	memset(dp, 0, sizeof(*dp));
	snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", pin_dir);
	dp->policy_fd = pin_get(pin_dir, LEARND_PIN_POLICY, true, &dp->policy.err);
	dp->ctl_fd = pin_get(pin_dir, LEARND_PIN_CTL, !write, &dp->ctl.err);
	dp->counters_fd = pin_get(pin_dir, LEARND_PIN_COUNTERS, true, &dp->counters.err);
	dp->records_fd = pin_get(pin_dir, LEARND_PIN_RECORDS, true, &dp->records.err);
	dp->link_fd = pin_get(pin_dir, LEARND_PIN_LINK, false, &dp->link_err);
	dp->policy_entries = -1;
}

void lc_dp_close(struct lc_dp *dp)
{
	int *fds[] = { &dp->policy_fd, &dp->ctl_fd, &dp->counters_fd, &dp->records_fd, &dp->link_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* The kernel's info on the object behind fd (len bytes of it): 0 or -errno. */
static int obj_info(int fd, void *info, __u32 len)
{
	memset(info, 0, len);
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

static void map_info(int fd, struct lc_map_info *mi)
{
	struct bpf_map_info info;

	if (fd < 0)
		return;
	if ((mi->err = obj_info(fd, &info, sizeof(info))))
		return;
	mi->present = true;
	mi->id = info.id;
	mi->max_entries = info.max_entries;
	mi->type = info.type;
	snprintf(mi->name, sizeof(mi->name), "%s", info.name);
}

static void find_cgroup(struct lc_dp *dp)
{
	ld_cgroup_path(dp->cgroup_id, dp->cgroup_path, sizeof(dp->cgroup_path));
}

static void link_info(struct lc_dp *dp)
{
	struct bpf_link_info li;
	struct bpf_prog_info pi;
	__u32 len;
	int pfd;

	if (dp->link_fd < 0)
		return;
	if ((dp->link_err = obj_info(dp->link_fd, &li, sizeof(li))))
		return;
	dp->link_present = true;
	dp->link_id = li.id;
	dp->link_type = li.type;
	dp->prog_id = li.prog_id;
	if (li.type == BPF_LINK_TYPE_CGROUP) {
		dp->cgroup_id = li.cgroup.cgroup_id;
		dp->attach_type = li.cgroup.attach_type;
		find_cgroup(dp);
	}
	pfd = bpf_prog_get_fd_by_id(li.prog_id);
	if (pfd < 0)
		return;
	memset(&pi, 0, sizeof(pi));
	pi.nr_map_ids = sizeof(dp->prog_map_ids) / sizeof(dp->prog_map_ids[0]);
	pi.map_ids = (__u64)(uintptr_t)dp->prog_map_ids;
	len = sizeof(pi);
	if (bpf_obj_get_info_by_fd(pfd, &pi, &len) == 0) {
		snprintf(dp->prog_name, sizeof(dp->prog_name), "%s", pi.name);
		for (int i = 0; i < 8; i++)
			snprintf(dp->prog_tag + 2 * i, 3, "%02x", pi.tag[i]);
		dp->prog_run_cnt = pi.run_cnt;
		dp->prog_run_time_ns = pi.run_time_ns;
		dp->prog_nr_maps = pi.nr_map_ids < 16 ? pi.nr_map_ids : 16;
	}
	close(pfd);
}

static int64_t count_keys(int fd)
{
	struct learnd_key key, next;
	void *prev = NULL;
	int64_t n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		n++;
		key = next;
		prev = &key;
		if (n > 100000000)
			break;
	}
	return errno == ENOENT ? n : -1;
}

void lc_dp_info(struct lc_dp *dp)
{
	map_info(dp->policy_fd, &dp->policy);
	map_info(dp->ctl_fd, &dp->ctl);
	map_info(dp->counters_fd, &dp->counters);
	map_info(dp->records_fd, &dp->records);
	link_info(dp);
	if (dp->ctl_fd >= 0)
		dp->have_ctl = ld_ctl_read(dp->ctl_fd, &dp->ctl_val) == 0;
	if (dp->counters_fd >= 0)
		dp->have_counters = ld_counters_read(dp->counters_fd, dp->counter) == 0;
	if (dp->policy_fd >= 0)
		dp->policy_entries = count_keys(dp->policy_fd);
}

static int set_paused(struct learnd_ctl *ctl, void *arg)
{
	if (*(const bool *)arg)
		ctl->flags |= LEARND_CTL_PAUSED;
	else
		ctl->flags &= ~(__u32)LEARND_CTL_PAUSED;
	return 0;
}

int lc_dp_set_paused(struct lc_dp *dp, bool paused)
{
	char pin[4200];
	int err;

	if (dp->ctl_fd < 0)
		return dp->ctl.err ? dp->ctl.err : -ENOENT;
	/* under the control lock learnd's heartbeat takes too: it reads this bit
	 * before it writes, never writes over it */
	snprintf(pin, sizeof(pin), "%s/" LEARND_PIN_CTL, dp->pin_dir);
	err = ld_ctl_update(dp->ctl_fd, pin, 2000, set_paused, &paused);
	if (!err)
		dp->have_ctl = ld_ctl_read(dp->ctl_fd, &dp->ctl_val) == 0;
	return err;
}

bool lc_dp_alive(const struct lc_dp *dp, int64_t *age_ns)
{
	int64_t age;

	if (!dp->have_ctl || !dp->ctl_val.heartbeat_ns) {
		*age_ns = -1;
		return false;
	}
	age = (int64_t)(ld_now_ns() - dp->ctl_val.heartbeat_ns);
	*age_ns = age;
	return age >= 0 && (uint64_t)age <= dp->ctl_val.ttl_ns;
}
