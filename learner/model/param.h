/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The four parameters learnd sets, described once.  A parameter's name is its
 * learnd.conf key, its column in the database (prefixes, pins, slots,
 * aggregates), its key in learnctl's JSON and the value of --param; its limits
 * are what the kernel accepts (learnd_abi.h); its field is where it sits in a
 * struct learnd_arm.  The configuration, the policy gate, the store, learnctl
 * and the model read this table; nothing else spells a parameter.
 *
 * Header only (a function-local table), so the model library, which links
 * nothing, can use it as well as everything above it.
 */
#ifndef LEARND_PARAM_H
#define LEARND_PARAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "learnd_abi.h"
#include "model.h" /* enum learnd_param */

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
				      "connections that send more than the kernel's IW (10 segments)", 10 },
		[LEARND_PARAM_RWND] = { "rwnd", "packets", 1, LEARND_RWND_MAX, LEARND_PARAM_ARM(rwnd),
					"connections that receive more than the kernel's initial window", 0 },
		/* learnd_arm.syn_rto_ms is a __u16: TCP_RTO_MAX (120000) would not fit */
		[LEARND_PARAM_SYN_RTO] = { "syn_rto_ms", "ms", LEARND_SYN_RTO_MS_MIN, LEARND_SYN_RTO_MS_MAX,
					   LEARND_PARAM_ARM(syn_rto_ms), "handshakes that lose a SYN or SYN-ACK", 1000 },
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

#endif /* LEARND_PARAM_H */
