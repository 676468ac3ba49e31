/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* learnd.conf: INI, parsed with inih.  See docs/config.md for every key. */
#ifndef LEARND_CONFIG_H
#define LEARND_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fleet_config.h"
#include "learnd_abi.h"
#include "model.h"
#include "param.h" /* the four parameters: enum learnd_param, learnd_param_info() */

/* A parameter's setting: unset (kernel default), fixed (min == max) or bounds. */
struct ld_range {
	uint32_t min, max;
	bool set;
};

struct ld_bounds {
	struct ld_range r[LEARND_PARAM__MAX];
};

struct ld_prefix_cfg {
	struct learnd_key key;
	struct ld_bounds b; /* keys not given in the section inherit [defaults] */
	unsigned line;      /* of the section header, for messages */
};

struct ld_config {
	char path[PATH_MAX];
	char cgroup[PATH_MAX];  /* required; the cgroup v2 mount itself means the whole host */
	char db[PATH_MAX];
	char pin_dir[PATH_MAX];
	char metrics_file[PATH_MAX]; /* Prometheus textfile written every tick; "" = none */
	uint32_t sample_rate;   /* record 1 in N connections */
	uint32_t record_budget; /* records per second per prefix and CPU before sampling; 0 = no budget */
	uint32_t heartbeat_ttl_ms;
	uint32_t tick_ms;
	uint32_t max_prefixes;  /* policy map capacity */
	uint32_t ringbuf_kb;
	uint32_t auto_prefix_v4; /* length of discovered IPv4 prefixes; 0: no discovery */
	uint32_t auto_prefix_v6;
	uint32_t window;         /* the model's discount, in records of a prefix */
	uint32_t probe_pct;      /* share of connections on probes, at least, % */
	uint32_t retention_days; /* aggregates older than this are dropped */
	bool observe_only;
	struct ld_bounds defaults;
	struct ld_fleet_config fleet; /* [fleet]; fleet.enabled false: none */
	struct ld_prefix_cfg *prefixes;
	size_t nprefixes;
};

#define LD_DEFAULT_CONFIG "/etc/learnd/learnd.conf"

/* param.h's name of p, or "?". */
const char *ld_param_name(enum learnd_param p);
/* Kernel-imposed limits of a parameter's values (param.h). */
void ld_param_limits(enum learnd_param p, uint32_t *min, uint32_t *max);

/* Built-in defaults, as if from an empty file. */
void ld_config_init(struct ld_config *cfg);
/* Parse path into cfg (initialised first).  On error returns -EINVAL (bad
 * content, with "FILE:LINE: ..." in err) or -errno (cannot read) and frees what
 * it allocated; cfg is then unusable. */
int ld_config_load(const char *path, struct ld_config *cfg, char *err, size_t errlen);
void ld_config_free(struct ld_config *cfg);
/* The model's view of a prefix's bounds: unset, fixed (min == max) or learn. */
void ld_bounds_to_model(const struct ld_bounds *b, struct learnd_bound out[LEARND_PARAM__MAX]);

#endif
