// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE /* vasprintf */
#include "loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include "learnd.skel.h"
#include "log.h"

static int libbpf_to_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *buf = NULL;
	size_t n;

	if (level == LIBBPF_DEBUG && ld_log_verbosity() < 2)
		return 0;
	/* Whole messages: a verifier log is one message of many kilobytes. */
	if (vasprintf(&buf, fmt, ap) < 0)
		return 0;
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	ld_log(level == LIBBPF_WARN ? LOG_WARNING : level == LIBBPF_INFO ? LOG_INFO : LOG_DEBUG, "%s", buf);
	free(buf);
	return 0;
}

static int check_cgroup(const char *cgroup, uint64_t *id)
{
	struct statfs sfs;
	struct stat st;

	if (statfs(cgroup, &sfs) || stat(cgroup, &st)) {
		int e = errno;

		ld_err("cgroup %s: %s", cgroup, strerror(e));
		return -e;
	}
	if (sfs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode)) {
		ld_err("cgroup %s is not a cgroup v2 directory (cgroup v2 is mounted at %s)", cgroup,
		       ld_cgroup2_mount() ? ld_cgroup2_mount() : "nowhere");
		return -EINVAL;
	}
	*id = st.st_ino; /* a cgroup v2 directory's inode number is its cgroup id */
	return 0;
}

/* One learnd per pin directory: a second one would adopt the first one's link and
 * maps and the two would overwrite each other's policies.  flock() on the directory
 * is released by the kernel however the holder dies, kill -9 included. */
static int lock_pin_dir(struct ld_dataplane *dp)
{
	int fd = open(dp->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		ld_err("pin directory %s: %s", dp->pin_dir, strerror(e));
		return -e;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK) {
			ld_err("pin directory %s is in use by another running learnd (one learnd per pin_dir)",
			       dp->pin_dir);
			return -EBUSY;
		}
		ld_err("cannot lock pin directory %s: %s", dp->pin_dir, strerror(e));
		return -e;
	}
	dp->lock_fd = fd;
	dp->locked = true;
	return 0;
}

static int prepare_pin_dir(const char *dir)
{
	struct statfs sfs;
	char parent[4096], *slash;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	/* As bpftool does: mount bpffs at its standard place if nothing is there. */
	if (!strcmp(parent, "/sys/fs/bpf") && (statfs(parent, &sfs) || sfs.f_type != BPF_FS_MAGIC)) {
		if (mount("bpf", parent, "bpf", 0, "mode=0700"))
			ld_warn("cannot mount bpffs at %s: %s", parent, strerror(errno));
		else
			ld_info("mounted bpffs at %s", parent);
	}
	if (statfs(parent, &sfs) || sfs.f_type != BPF_FS_MAGIC) {
		ld_err("pin directory %s: %s is not on a bpf filesystem (mount -t bpf bpf /sys/fs/bpf)", dir, parent);
		return -EINVAL;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		int e = errno;

		ld_err("pin directory %s: %s", dir, strerror(e));
		return -e;
	}
	return 0;
}

/* Maps whose contents outlive a learnd process (not .rodata/.kconfig). */
static bool pinned_map(const struct bpf_map *map)
{
	return !bpf_map__is_internal(map);
}

static bool known_pin(const char *name)
{
	static const char *const pins[] = { LEARND_PINS };

	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++)
		if (!strcmp(pins[i], name))
			return true;
	return false;
}

static int set_pin_paths(struct ld_dataplane *dp)
{
	struct bpf_map *map;
	char path[4096 + 64];
	int err;

	bpf_object__for_each_map(map, dp->skel->obj) {
		if (!pinned_map(map))
			continue;
		if (!known_pin(bpf_map__name(map))) {
			ld_err("BPF map %s is not among the pins of learnd_abi.h (LEARND_PINS)", bpf_map__name(map));
			return -EINVAL;
		}
		snprintf(path, sizeof(path), "%s/%s", dp->pin_dir, bpf_map__name(map));
		err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

/* Pinned maps left by a learnd of another ABI version are not adopted: their
 * layout or meaning differs although libbpf's checks (type, sizes) may pass.
 * The version is in the pinned control block; 0 there is a learnd from before
 * the field had a name, which wrote ABI 2 maps. */
static int check_pinned_abi(const struct ld_dataplane *dp)
{
	char path[4096 + 16];
	struct learnd_ctl ctl;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dp->pin_dir, LEARND_PIN_CTL);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0; /* nothing to adopt */
	err = ld_ctl_read(fd, &ctl);
	close(fd);
	if (err || !ctl.abi_version || ctl.abi_version == LEARND_ABI_VERSION)
		return 0;
	ld_err("maps pinned under %s are of data-plane ABI %u, this learnd speaks ABI %u: "
	       "stop the other learnd or remove the pin directory", dp->pin_dir, ctl.abi_version,
	       LEARND_ABI_VERSION);
	return -EPROTO;
}

/*
 * Pinned maps from a previous learnd that this one cannot reuse as they are.
 * A map of another layout (type, key or value size, flags) is another learnd's
 * and refused with its name.  The two maps whose size the config sets
 * (policy_map: max_prefixes, records: ringbuf_kb) are recreated when only
 * their size differs: the old pin is taken out of the way (its fd kept in
 * dp->old_fd), libbpf creates and pins a new one at load, and carry_over()
 * copies the policies into it before the link moves to the new program.  Every
 * other pin (ctl_map with the heartbeat and the operator's pause, counters,
 * socket storage) is reused as it is.
 */
static int check_pinned_maps(struct ld_dataplane *dp)
{
	struct bpf_map *map;
	char path[4096 + 64];

	bpf_object__for_each_map(map, dp->skel->obj) {
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		int slot = map == dp->skel->maps.policy_map ? LD_DP_OLD_POLICY :
			   map == dp->skel->maps.records    ? LD_DP_OLD_RECORDS : -1;
		int fd, err;

		if (!pinned_map(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dp->pin_dir, bpf_map__name(map));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue; /* nothing pinned: created at load */
		memset(&info, 0, sizeof(info));
		err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
		if (err) {
			ld_err("pinned map %s: %s", path, strerror(-err));
			close(fd);
			return err;
		}
		if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
		    info.value_size != bpf_map__value_size(map) || info.map_flags != bpf_map__map_flags(map)) {
			ld_err("pinned map %s is not one this learnd makes (type %u, key %u, value %u bytes, flags %#x; "
			       "expected type %u, key %u, value %u, flags %#x): maps pinned by an incompatible learnd; "
			       "stop it or remove the pin directory", path, info.type, info.key_size, info.value_size,
			       info.map_flags, bpf_map__type(map), bpf_map__key_size(map), bpf_map__value_size(map),
			       bpf_map__map_flags(map));
			close(fd);
			return -EPROTO;
		}
		if (info.max_entries == bpf_map__max_entries(map) || slot < 0) {
			close(fd); /* reused by libbpf (or refused by it, with its message) */
			continue;
		}
		ld_info("pinned %s has %u entries, the configuration %u (%s): recreated", bpf_map__name(map),
			info.max_entries, bpf_map__max_entries(map),
			slot == LD_DP_OLD_POLICY ? "max_prefixes" : "ringbuf_kb, in bytes");
		if (unlink(path)) {
			err = -errno;
			ld_err("cannot remove the old pin %s: %s", path, strerror(-err));
			close(fd);
			return err;
		}
		dp->old_fd[slot] = fd;
	}
	return 0;
}

/* A start that fails before its maps are loaded leaves the pins as they were
 * (another learnd's, or maps libbpf refused): ld_dp_close must not remove them. */
static void forget_pin_paths(struct ld_dataplane *dp)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, dp->skel->obj)
		bpf_map__set_pin_path(map, NULL);
}

/* After a failed load: the old maps back at their pins, as they were. */
static void restore_old_pins(struct ld_dataplane *dp)
{
	static const char *const names[LD_DP_OLD__MAX] = { LEARND_PIN_POLICY, LEARND_PIN_RECORDS };
	char path[4096 + 64];

	for (int i = 0; i < LD_DP_OLD__MAX; i++) {
		if (dp->old_fd[i] < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dp->pin_dir, names[i]);
		unlink(path); /* a new one libbpf may have pinned */
		if (bpf_obj_pin(dp->old_fd[i], path))
			ld_warn("cannot pin the old %s back at %s: %s", names[i], path, strerror(errno));
	}
}

/* The old policy map's entries into the new one, as many as it holds; records
 * still in the old ring buffer are lost (nobody read them while learnd was
 * down).  The learner then deletes what it does not know (lr_reconcile_map)
 * and rewrites the rest at its first tick. */
static void carry_over(struct ld_dataplane *dp)
{
	int from = dp->old_fd[LD_DP_OLD_POLICY], to = bpf_map__fd(dp->skel->maps.policy_map);
	struct learnd_key key, *prev = NULL;
	struct learnd_policy pol;
	unsigned copied = 0, left = 0;

	while (from >= 0 && bpf_map_get_next_key(from, prev, &key) == 0) {
		if (!bpf_map_lookup_elem(from, &key, &pol)) {
			if (bpf_map_update_elem(to, &key, &pol, BPF_NOEXIST))
				left++;
			else
				copied++;
		}
		prev = &key;
	}
	if (from >= 0)
		ld_info("policy map recreated: %u policies carried over%s", copied,
			left ? "; the rest did not fit max_prefixes" : "");
	if (left)
		ld_warn("%u policies of the previous policy map left out: more than max_prefixes = %u", left,
			bpf_map__max_entries(dp->skel->maps.policy_map));
	for (int i = 0; i < LD_DP_OLD__MAX; i++) {
		if (dp->old_fd[i] >= 0)
			close(dp->old_fd[i]);
		dp->old_fd[i] = -1;
	}
}

/* Adopt a pinned link left by a previous learnd, if it is on our cgroup. */
static int adopt_link(struct ld_dataplane *dp, const char *path)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	struct bpf_link *link;
	int err;

	link = bpf_link__open(path);
	if (!link)
		return -errno;
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &len);
	if (!err && info.type == BPF_LINK_TYPE_CGROUP && info.cgroup.cgroup_id == dp->cgroup_id) {
		err = bpf_link__update_program(link, dp->skel->progs.learnd_sockops);
		if (!err) {
			dp->link = link;
			dp->adopted = true;
			ld_info("adopted pinned link %s", path);
			return 0;
		}
	}
	/* Stale or elsewhere: remove it, so only our attachment remains. */
	ld_warn("removing pinned link %s from a previous run (%s)", path,
		err ? strerror(-err) : "attached to another cgroup");
	bpf_link__detach(link);
	bpf_link__unpin(link);
	bpf_link__destroy(link);
	return -ENOENT;
}

/*
 * Capabilities the data plane needs that this process lacks, as text; false when
 * none is missing.  Measured: CAP_BPF, CAP_NET_ADMIN (sock_ops attach) and
 * CAP_PERFMON (without it the verifier rejects the tcp_sock reads, EINVAL) are
 * enough; CAP_SYS_ADMIN only to mount bpffs when nothing is mounted.
 */
static bool missing_caps(char *buf, size_t len)
{
	static const struct {
		int bit;
		const char *name;
	} need[] = { { 39, "CAP_BPF" }, { 12, "CAP_NET_ADMIN" }, { 38, "CAP_PERFMON" } };
	unsigned long long eff = ~0ull;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");
	size_t off = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	if (f)
		fclose(f);
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!(eff & (1ull << need[i].bit)) && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? " " : "", need[i].name);
	return buf[0] != '\0';
}

int ld_dp_open(struct ld_dataplane *dp, const struct ld_dp_opts *opts)
{
	char link_path[4096 + 16];
	int cgfd = -1, err;

	memset(dp, 0, sizeof(*dp));
	for (int i = 0; i < LD_DP_OLD__MAX; i++)
		dp->old_fd[i] = -1;
	libbpf_set_print(libbpf_to_log);
	err = check_cgroup(opts->cgroup, &dp->cgroup_id);
	if (err)
		return err;
	if (opts->pin_dir) {
		snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", opts->pin_dir);
		err = prepare_pin_dir(dp->pin_dir);
		if (!err)
			err = lock_pin_dir(dp);
		if (err)
			return err;
	}

	dp->skel = learnd__open();
	if (!dp->skel) {
		err = -errno;
		ld_err("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	bpf_map__set_max_entries(dp->skel->maps.policy_map, opts->max_prefixes);
	bpf_map__set_max_entries(dp->skel->maps.records, opts->ringbuf_kb * 1024);
	if (dp->pin_dir[0]) {
		err = check_pinned_abi(dp);
		if (!err)
			err = set_pin_paths(dp);
		if (!err)
			err = check_pinned_maps(dp);
		if (err) {
			restore_old_pins(dp);
			goto fail_unloaded;
		}
	}
	err = learnd__load(dp->skel);
	if (err) {
		char missing[64];

		if (missing_caps(missing, sizeof(missing)))
			ld_err("cannot load the BPF program: %s (missing %s; learnd needs CAP_BPF, CAP_NET_ADMIN "
			       "and CAP_PERFMON)", strerror(-err), missing);
		else
			ld_err("cannot load the BPF program: %s%s", strerror(-err),
			       dp->pin_dir[0] ? " (maps pinned by an incompatible learnd? remove the pin directory)" : "");
		restore_old_pins(dp);
		goto fail_unloaded;
	}
	carry_over(dp); /* before the link moves: no connection sees an empty map */

	snprintf(link_path, sizeof(link_path), "%s/%s", dp->pin_dir, LEARND_PIN_LINK);
	if (dp->pin_dir[0] && access(link_path, F_OK) == 0 && adopt_link(dp, link_path) == 0)
		return 0;

	cgfd = open(opts->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0) {
		err = -errno;
		ld_err("cgroup %s: %s", opts->cgroup, strerror(-err));
		goto fail;
	}
	dp->link = bpf_program__attach_cgroup(dp->skel->progs.learnd_sockops, cgfd);
	close(cgfd);
	if (!dp->link) {
		err = -errno;
		dp->link = NULL;
		ld_err("cannot attach to cgroup %s: %s", opts->cgroup, strerror(-err));
		goto fail;
	}
	if (dp->pin_dir[0]) {
		err = bpf_link__pin(dp->link, link_path);
		if (err) {
			ld_err("cannot pin link at %s: %s", link_path, strerror(-err));
			goto fail;
		}
	}
	return 0;
fail_unloaded:
	forget_pin_paths(dp);
	for (int i = 0; i < LD_DP_OLD__MAX; i++)
		if (dp->old_fd[i] >= 0)
			close(dp->old_fd[i]);
fail:
	ld_dp_close(dp, true);
	return err;
}

bool ld_dp_cgroup_alive(const struct ld_dataplane *dp, const char *cgroup)
{
	struct stat st;
	int e = stat(cgroup, &st) ? errno : 0;

	if (!e && S_ISDIR(st.st_mode) && st.st_ino == dp->cgroup_id)
		return true;
	if (e && e != ENOENT && e != ENOTDIR)
		return true; /* cannot tell (e.g. EACCES): not a reason to stop */
	ld_err("cgroup %s %s while learnd ran: the program attached to it tunes no connection any more; "
	       "detaching and exiting (start learnd again once the cgroup exists)", cgroup,
	       e ? "was removed" : "was replaced by another directory");
	return false;
}

void ld_dp_close(struct ld_dataplane *dp, bool detach)
{
	if (detach && dp->link) {
		bpf_link__unpin(dp->link);
		bpf_link__detach(dp->link);
	}
	bpf_link__destroy(dp->link); /* only our fd when still pinned */
	dp->link = NULL;
	if (detach && dp->skel && dp->pin_dir[0]) {
		bpf_object__unpin_maps(dp->skel->obj, NULL);
		rmdir(dp->pin_dir);
	}
	learnd__destroy(dp->skel);
	dp->skel = NULL;
	if (dp->locked)
		close(dp->lock_fd);
	dp->locked = false;
}

int ld_dp_policy_fd(const struct ld_dataplane *dp)
{
	return bpf_map__fd(dp->skel->maps.policy_map);
}

int ld_dp_ctl_fd(const struct ld_dataplane *dp)
{
	return bpf_map__fd(dp->skel->maps.ctl_map);
}

int ld_dp_counters_fd(const struct ld_dataplane *dp)
{
	return bpf_map__fd(dp->skel->maps.counters);
}

int ld_dp_records_fd(const struct ld_dataplane *dp)
{
	return bpf_map__fd(dp->skel->maps.records);
}
