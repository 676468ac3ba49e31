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
#include "learnd_vocab.h" /* the four parameters, the default paths */

struct learnd_model_cfg; /* model.h */

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
	bool allow_root_cgroup;  /* cgroup may be the cgroup v2 mount itself (the whole host) */
	struct ld_bounds defaults;
	struct ld_fleet_config fleet; /* [fleet]; fleet.enabled false: none */
	struct ld_prefix_cfg *prefixes;
	size_t nprefixes;
};

#define LD_DEFAULT_CONFIG LEARND_DEFAULT_CONFIG /* the vocabulary's; learnd_vocab.h */

/* The keys of the scalar sections ([learnd]; [defaults] and [prefix] hold the
 * parameters of learnd_vocab.h instead): one row each, in config.c's table, which
 * gives ld_config_init its defaults and the parser its checks; docs/config.md,
 * learnd.conf(5) and packaging/learnd.conf are checked against it
 * (tests/cli/test_config_docs.sh).  A section of its own is rows with another
 * section name and fields of their own in struct ld_config. */
enum ld_key_type {
	LD_KEY_PATH, /* an absolute path; trailing slashes dropped */
	LD_KEY_U32,  /* a whole number within min..max */
	LD_KEY_BOOL, /* true/false, yes/no, on/off, 1/0 */
	LD_KEY_TEXT, /* a string, checked by the row's check() */
};

enum ld_key_reload {
	LD_KEY_SIGHUP,  /* in force after SIGHUP */
	LD_KEY_RESTART, /* taken at the next start (SIGHUP warns and keeps the old value) */
};

#define LD_KEY_POW2 0x1u /* LD_KEY_U32: a power of two */

struct ld_key {
	const char *section;
	const char *name;
	enum ld_key_type type;
	size_t off, size;      /* of its field in struct ld_config */
	const char *def;       /* LD_KEY_PATH's and LD_KEY_TEXT's default; "" = none */
	uint32_t defv;         /* the default of LD_KEY_U32 and LD_KEY_BOOL (0/1) */
	uint32_t min, max;     /* the range of LD_KEY_U32 (and 0..1 for LD_KEY_BOOL) */
	unsigned flags;
	enum ld_key_reload reload;
	const char *help;      /* one line */
	/* LD_KEY_TEXT: 0, or -EINVAL with "NAME = VALUE: why" in msg */
	int (*check)(const char *name, const char *value, char *msg, size_t len);
};

/* The table: n rows. */
const struct ld_key *ld_config_keys(size_t *n);
/* The comment rule, for every value: a '#' or ';' at the start of the value
 * or after whitespace starts a comment (to the end of the line); trailing
 * whitespace goes too.  Cuts s in place and returns it. */
char *ld_config_strip_comment(char *s);
/* Drops the trailing slashes of an absolute path (not "/" itself). */
void ld_path_trim(char *path);
/* Refuses (-EPERM, message in err) a cgroup that is the cgroup v2 mount root,
 * every socket of the host, unless allow_root_cgroup is set. */
int ld_config_check_cgroup(const struct ld_config *cfg, char *err, size_t errlen);
/* For a reload: the LD_KEY_RESTART keys of next take old's values again;
 * changed gets the names of those that differed ("" if none). */
void ld_config_keep_restart(struct ld_config *next, const struct ld_config *old, char *changed, size_t len);
/* The model's configuration for bounds b under cfg (window, probe share). */
void ld_config_model_cfg(const struct ld_config *cfg, const struct ld_bounds *b, struct learnd_model_cfg *mc);

/* learnd_vocab.h's name of p, or "?". */
const char *ld_param_name(enum learnd_param p);
/* Kernel-imposed limits of a parameter's values (learnd_vocab.h). */
void ld_param_limits(enum learnd_param p, uint32_t *min, uint32_t *max);

/* Built-in defaults, as if from an empty file. */
void ld_config_init(struct ld_config *cfg);
/* Parse path into cfg (initialised first).  On error returns -EINVAL (bad
 * content, with "FILE:LINE: ..." in err; also bounds or knobs the model would
 * refuse; also anything but a regular file, or a symbolic link to one) or
 * -errno (cannot read: also a directory, or a read error inside the file) and
 * frees what it allocated; cfg is then unusable. */
int ld_config_load(const char *path, struct ld_config *cfg, char *err, size_t errlen);
void ld_config_free(struct ld_config *cfg);
/* The model's view of a prefix's bounds: unset, fixed (min == max) or learn. */
void ld_bounds_to_model(const struct ld_bounds *b, struct learnd_bound out[LEARND_PARAM__MAX]);

#endif
