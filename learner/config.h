/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* learnd.conf: INI, parsed with inih.  See docs/config.md for every key. */
#ifndef LEARND_CONFIG_H
#define LEARND_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "learnd_abi.h"

enum ld_param { LD_IW, LD_RWND, LD_SYN_RTO_MS, LD_BASE_RTT_US, LD_NPARAM };

/* A parameter's setting: unset (kernel default), fixed (min == max) or bounds. */
struct ld_range {
	uint32_t min, max;
	bool set;
};

struct ld_bounds {
	struct ld_range r[LD_NPARAM];
};

struct ld_prefix_cfg {
	struct learnd_key key;
	struct ld_bounds b; /* keys not given in the section inherit [defaults] */
	unsigned line;      /* of the section header, for messages */
};

struct ld_config {
	char path[PATH_MAX];
	char cgroup[PATH_MAX];  /* "" = the cgroup v2 mount (the whole host) */
	char db[PATH_MAX];
	char pin_dir[PATH_MAX];
	uint32_t sample_rate;   /* record 1 in N connections */
	uint32_t heartbeat_ttl_ms;
	uint32_t tick_ms;
	uint32_t max_prefixes;  /* policy map capacity */
	uint32_t ringbuf_kb;
	bool observe_only;
	struct ld_bounds defaults;
	struct ld_prefix_cfg *prefixes;
	size_t nprefixes;
};

#define LD_DEFAULT_CONFIG "/etc/learnd/learnd.conf"

const char *ld_param_name(enum ld_param p);
/* Kernel-imposed limits of a parameter's values. */
void ld_param_limits(enum ld_param p, uint32_t *min, uint32_t *max);

/* Built-in defaults, as if from an empty file. */
void ld_config_init(struct ld_config *cfg);
/* Parse path into cfg (initialised first).  On error returns -EINVAL (bad
 * content, with "FILE:LINE: ..." in err) or -errno (cannot read) and frees what
 * it allocated; cfg is then unusable. */
int ld_config_load(const char *path, struct ld_config *cfg, char *err, size_t errlen);
void ld_config_free(struct ld_config *cfg);

#endif
