/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * learnd's vocabulary, said once: the four parameters, the kernel's defaults
 * for them, the IW grid the learner probes, the origins of a prefix, the
 * reasons of a decision and the default paths.  The model, lib/, the store,
 * learnd and learnctl all read these; nothing else spells them.  The schema
 * (schema/001_init.sql: CHECK lists, comments) and the docs keep their own
 * text, which tests/unit/test_vocab.c checks against these tables.
 *
 * A parameter's name is its learnd.conf key, its column in the database
 * (prefixes, pins, slots, aggregates), its key in learnctl's JSON and the
 * value of --param; its limits are what the kernel accepts (learnd_abi.h);
 * its field is where it sits in a struct learnd_arm.
 *
 * Header only (function-local tables), so the model library, which links
 * nothing, can use it as well as everything above it.  Not for BPF.
 */
#ifndef LEARND_VOCAB_H
#define LEARND_VOCAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "learnd_abi.h"

#define LEARND_STR_(x) #x
#define LEARND_STR(x) LEARND_STR_(x)

/* ---- default paths (learnd.conf's cgroup has none: it is required) ---- */

#define LEARND_DEFAULT_CONFIG "/etc/learnd/learnd.conf"
#define LEARND_DEFAULT_DB "/var/lib/learnd/learnd.db"
#define LEARND_DEFAULT_PIN_DIR "/sys/fs/bpf/learnd"

/* ---- the kernel's own values, where learnd sets none ---- */

#define LEARND_KERNEL_IW 10            /* TCP_INIT_CWND: segments */
#define LEARND_KERNEL_SYN_RTO_MS 1000  /* TCP_TIMEOUT_INIT: ms */

/* The IW / RWND values the learner probes between a prefix's bounds (the
 * bounds themselves are values too): geometric, with the kernel's IW in it. */
#define LEARND_IW_GRID { 4, 6, 8, 10, 14, 20, 28, 40, 56, 80, 112, 128 }
#define LEARND_IW_GRID_N 12

/* ---- parameters ---- */

/* The four parameters, in the order of the model's cfg.bound[] array. */
enum learnd_param {
	LEARND_PARAM_IW = 0,   /* packets; learned by A/B probes (sender side) */
	LEARND_PARAM_RWND,     /* packets; learned by A/B probes (receiver side) */
	LEARND_PARAM_SYN_RTO,  /* ms; estimated from handshake RTTs, never probed */
	LEARND_PARAM_BASE_RTT, /* us; estimated from min RTTs, never probed */
	LEARND_PARAM__MAX,
};

/* How a parameter is set for a prefix (the model's cfg.bound[], from learnd.conf and pins). */
enum learnd_bound_mode {
	LEARND_BOUND_UNSET = 0, /* kernel default: the value 0 is written, never touched */
	LEARND_BOUND_FIXED,     /* always .min (== .max) */
	LEARND_BOUND_LEARN,     /* learned within .min ... .max (inclusive) */
};

struct learnd_bound {
	uint32_t mode; /* enum learnd_bound_mode */
	uint32_t min;  /* FIXED: the value; LEARN: lower bound */
	uint32_t max;  /* FIXED: ignored (treated as min); LEARN: upper bound */
};

struct learnd_param_info {
	const char *name;  /* config key, column, JSON key, --param value */
	const char *unit;  /* of its values */
	uint32_t min, max; /* the kernel's limits (0, "kernel default", aside) */
	size_t arm_off;    /* its field in struct learnd_arm ... */
	size_t arm_size;   /* ... __u16 or __u32 */
	const char *felt_by; /* which connections can feel a change of it */
	uint32_t kernel;   /* the kernel's own value (what 0 gets): IW 10, SYN RTO 1000 ms;
			    * 0 where it has no one number (RWND: the buffer's window; BASE_RTT: none) */
};

#define LEARND_PARAM_ARM(f) offsetof(struct learnd_arm, f), sizeof(((struct learnd_arm *)0)->f)

static inline const struct learnd_param_info *learnd_param_info(enum learnd_param p)
{
	static const struct learnd_param_info t[LEARND_PARAM__MAX] = {
		[LEARND_PARAM_IW] = { "iw", "packets", 1, LEARND_IW_MAX, LEARND_PARAM_ARM(iw),
				      "connections that send more than the kernel's IW ("
				      LEARND_STR(LEARND_KERNEL_IW) " segments)", LEARND_KERNEL_IW },
		[LEARND_PARAM_RWND] = { "rwnd", "packets", 1, LEARND_RWND_MAX, LEARND_PARAM_ARM(rwnd),
					"connections that receive more than the kernel's initial window", 0 },
		/* learnd_arm.syn_rto_ms is a __u16: TCP_RTO_MAX (120000) would not fit */
		[LEARND_PARAM_SYN_RTO] = { "syn_rto_ms", "ms", LEARND_SYN_RTO_MS_MIN, LEARND_SYN_RTO_MS_MAX,
					   LEARND_PARAM_ARM(syn_rto_ms), "handshakes that lose a SYN or SYN-ACK",
					   LEARND_KERNEL_SYN_RTO_MS },
		[LEARND_PARAM_BASE_RTT] = { "base_rtt_us", "us", 1, LEARND_BASE_RTT_US_MAX, LEARND_PARAM_ARM(base_rtt_us),
					    "connections whose congestion control asks for BASE_RTT (delay-based)", 0 },
	};
	_Static_assert(LEARND_SYN_RTO_MS_MAX <= UINT16_MAX, "syn_rto_ms fits learnd_arm's __u16");
	return &t[(unsigned)p < LEARND_PARAM__MAX ? p : 0];
}

/* The parameter named name, or -1. */
static inline int learnd_param_by_name(const char *name)
{
	for (int p = 0; p < LEARND_PARAM__MAX; p++)
		if (!strcmp(learnd_param_info((enum learnd_param)p)->name, name))
			return p;
	return -1;
}

/* "iw, rwnd, syn_rto_ms or base_rtt_us", for messages that list them. */
static inline const char *learnd_param_list(void)
{
	static char buf[80];

	if (!buf[0])
		for (int p = 0; p < LEARND_PARAM__MAX; p++)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
				 !p ? "" : p == LEARND_PARAM__MAX - 1 ? " or " : ", ",
				 learnd_param_info((enum learnd_param)p)->name);
	return buf;
}

/* ---- origins: how a prefix came to be learned (prefixes.origin) ---- */

enum learnd_origin {
	LEARND_ORIGIN_CONFIGURED = 0, /* a [prefix ...] section of learnd.conf */
	LEARND_ORIGIN_DISCOVERED,     /* auto_prefix_v4/v6: traffic showed it */
	LEARND_ORIGIN_DEFAULT,        /* ::/0, everything no other prefix holds */
	LEARND_ORIGIN__MAX,
};

/* Its name in the database, JSON and metrics labels ("configured"); short:
 * the column of learnctl report's narrow table ("conf"). */
static inline const char *learnd_origin_name(enum learnd_origin o, int short_name)
{
	static const char *const t[LEARND_ORIGIN__MAX][2] = {
		[LEARND_ORIGIN_CONFIGURED] = { "configured", "conf" },
		[LEARND_ORIGIN_DISCOVERED] = { "discovered", "disc" },
		[LEARND_ORIGIN_DEFAULT] = { "default", "dflt" },
	};
	return (unsigned)o < LEARND_ORIGIN__MAX ? t[o][!!short_name] : "?";
}

/* The origin named name, or -1. */
static inline int learnd_origin_by_name(const char *name)
{
	for (int o = 0; o < LEARND_ORIGIN__MAX; o++)
		if (name && !strcmp(learnd_origin_name((enum learnd_origin)o, 0), name))
			return o;
	return -1;
}

/* ---- decision reasons (decisions.reason): the most important change ---- */

enum learnd_why {
	LEARND_WHY_NONE = 0,  /* no new reason (a decision written after one that was not) */
	LEARND_WHY_INIT,      /* first decision of this state */
	LEARND_WHY_ESTIMATE,  /* SYN RTO / BASE_RTT estimate moved */
	LEARND_WHY_EVIDENCE,  /* a probe beat the incumbent, or the parameter cannot matter here */
	LEARND_WHY_BOUNDS,    /* bounds changed (config, pin): incumbent snapped into them */
	LEARND_WHY_PIN,       /* an operator's pin took effect (the learner's, never the model's) */
	LEARND_WHY__MAX,
};

static inline const char *learnd_why_name(uint32_t why)
{
	static const char *const t[LEARND_WHY__MAX] = {
		[LEARND_WHY_NONE] = "none",         [LEARND_WHY_INIT] = "init",
		[LEARND_WHY_ESTIMATE] = "estimate", [LEARND_WHY_EVIDENCE] = "evidence",
		[LEARND_WHY_BOUNDS] = "bounds",     [LEARND_WHY_PIN] = "pin",
	};
	return why < LEARND_WHY__MAX ? t[why] : t[LEARND_WHY_NONE];
}

#endif /* LEARND_VOCAB_H */
