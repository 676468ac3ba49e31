/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Encoding decisions into policy-map values, and the single gate through which
 * every value reaches the map: nothing outside its bounds is ever written. */
#ifndef LEARND_POLICY_H
#define LEARND_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"
#include "learnd_abi.h"

/* The value of parameter p in an arm (its field in learnd_vocab.h's table). */
uint32_t ld_arm_get(const struct learnd_arm *arm, enum learnd_param p);
void ld_arm_set(struct learnd_arm *arm, enum learnd_param p, uint32_t v);

/* True when every slot's values respect b (unset: 0; fixed: exact; bounds: 0 or
 * within), shares add up to LEARND_SHARE_ONE and nslots is sane.  why (may be NULL)
 * gets a reason when false. */
bool ld_policy_valid(const struct learnd_policy *p, const struct ld_bounds *b, char *why, size_t whylen);

/* Write p for key after ld_policy_valid(); -EINVAL (nothing written) if invalid. */
int ld_policy_put(int map_fd, const struct learnd_key *key, const struct learnd_policy *p, const struct ld_bounds *b);
int ld_policy_del(int map_fd, const struct learnd_key *key);

/* Whether learnd applies an operator's pin v (>= 0) of a parameter with bounds
 * r (the bounds in force, as stored in the prefixes table): a range takes 0
 * (kernel default) or min..max, a fixed value only itself, a parameter without
 * bounds nothing.  When not, why (may be NULL) says why, e.g. "outside bounds
 * 4..64".  learnd ignores a pin that does not apply; learnctl says so. */
bool ld_pin_applies(const struct ld_range *r, int64_t v, char *why, size_t whylen);

#endif
