// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The data plane's maps seen through their fds (a skeleton's or pinned ones). */
#include "maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

int ld_ctl_write(int ctl_fd, const struct learnd_ctl *ctl)
{
	struct learnd_ctl v = *ctl;
	__u32 zero = 0;

	v.abi_version = LEARND_ABI_VERSION; /* whoever writes it speaks this ABI */
	return bpf_map_update_elem(ctl_fd, &zero, &v, BPF_ANY) ? -errno : 0;
}

int ld_ctl_read(int ctl_fd, struct learnd_ctl *ctl)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(ctl_fd, &zero, ctl) ? -errno : 0;
}

int ld_ctl_update(int ctl_fd, const char *pin_path, int wait_ms, int (*fn)(struct learnd_ctl *ctl, void *arg),
		  void *arg)
{
	struct learnd_ctl v;
	int lk = pin_path ? open(pin_path, O_RDONLY | O_CLOEXEC) : -1, err;

	/* the map cannot be locked from user space: its pinned file can (bpffs
	 * opens a map with BTF as a file); no file, no lock to share either */
	for (int waited = 0; lk >= 0 && flock(lk, LOCK_EX | LOCK_NB); waited++) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(lk);
			lk = -1;
		} else if (waited >= wait_ms) {
			close(lk);
			return -EBUSY;
		} else {
			nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
		}
	}
	err = ld_ctl_read(ctl_fd, &v);
	if (!err)
		err = fn(&v, arg);
	if (!err)
		err = ld_ctl_write(ctl_fd, &v);
	if (lk >= 0)
		close(lk); /* and the flock with it */
	return err;
}

int ld_counters_read(int counters_fd, uint64_t out[LEARND_CNT__MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 i = 0; i < LEARND_CNT__MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(counters_fd, &i, vals)) {
			int e = -errno;

			free(vals);
			return e;
		}
		for (int c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
	return 0;
}

/* Each counter's name (learnctl status in text and JSON, learnd_bpf_<name>_total) and help. */
static const struct {
	const char *name, *help;
} counters[LEARND_CNT__MAX] = {
	[LEARND_CNT_RECORDS] = { "records", "Close records written to the ring buffer." },
	[LEARND_CNT_RB_DROPS] = { "ringbuf_drops", "Close records lost because the ring buffer was full." },
	[LEARND_CNT_LOOKUPS] = { "lookups", "Policy map lookups." },
	[LEARND_CNT_MISSES] = { "misses", "Policy map lookups that matched no prefix." },
	[LEARND_CNT_IW_FAIL] = { "iw_setsockopt_failures", "bpf_setsockopt(TCP_BPF_IW) failures." },
	[LEARND_CNT_RCVBUF_FAIL] = { "rcvbuf_setsockopt_failures", "bpf_setsockopt(SO_RCVLOWAT or TCP_WINDOW_CLAMP) failures while raising the receive buffer for an rwnd." },
	[LEARND_CNT_STORAGE_FAIL] = { "storage_failures", "Socket storage allocation failures." },
	[LEARND_CNT_DEFAULTED] = { "defaulted",
				   "Replies forced to kernel defaults (stale heartbeat, paused, observe-only)." },
	[LEARND_CNT_IW_KERNEL] = { "iw_kernel_kept",
				   "IW values not applied because the kernel had cut cwnd to 1 after a lost handshake." },
};

const char *ld_counter_name(enum learnd_counter c)
{
	return (unsigned)c < LEARND_CNT__MAX ? counters[c].name : "?";
}

const char *ld_counter_help(enum learnd_counter c)
{
	return (unsigned)c < LEARND_CNT__MAX ? counters[c].help : "?";
}
