// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "policy.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The field the parameter table names (a __u16 or a __u32). */
uint32_t ld_arm_get(const struct learnd_arm *arm, enum learnd_param p)
{
	const struct learnd_param_info *pi = learnd_param_info(p);
	const char *f = (const char *)arm + pi->arm_off;
	__u16 v16;
	__u32 v32;

	if ((unsigned)p >= LEARND_PARAM__MAX)
		return 0;
	if (pi->arm_size == sizeof(v16)) {
		memcpy(&v16, f, sizeof(v16));
		return v16;
	}
	memcpy(&v32, f, sizeof(v32));
	return v32;
}

void ld_arm_set(struct learnd_arm *arm, enum learnd_param p, uint32_t v)
{
	const struct learnd_param_info *pi = learnd_param_info(p);
	char *f = (char *)arm + pi->arm_off;
	__u16 v16 = (__u16)v;

	if ((unsigned)p >= LEARND_PARAM__MAX)
		return;
	if (pi->arm_size == sizeof(v16))
		memcpy(f, &v16, sizeof(v16));
	else
		memcpy(f, &v, sizeof(v));
}

bool ld_policy_valid(const struct learnd_policy *pol, const struct ld_bounds *b, char *why, size_t whylen)
{
	uint64_t total = 0;
	char dummy[1];

	if (!why) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	if (pol->nslots < 1 || pol->nslots > LEARND_MAX_SLOTS) {
		snprintf(why, whylen, "nslots %u outside 1..%u", pol->nslots, LEARND_MAX_SLOTS);
		return false;
	}
	for (unsigned s = 0; s < LEARND_MAX_SLOTS; s++) {
		const struct learnd_arm *arm = &pol->slots[s];

		if (s >= pol->nslots) {
			if (arm->share) {
				snprintf(why, whylen, "unused slot %u has a share", s);
				return false;
			}
			continue;
		}
		total += arm->share;
		for (int p = 0; p < LEARND_PARAM__MAX; p++) {
			const struct ld_range *r = &b->r[p];
			uint32_t v = ld_arm_get(arm, (enum learnd_param)p);
			bool ok = !r->set ? v == 0 : r->min == r->max ? v == r->min : (v == 0 || (v >= r->min && v <= r->max));

			if (!ok) {
				snprintf(why, whylen, "slot %u: %s = %u outside %u..%u", s, ld_param_name((enum learnd_param)p), v,
					 r->set ? r->min : 0, r->set ? r->max : 0);
				return false;
			}
		}
	}
	if (total != LEARND_SHARE_ONE) {
		snprintf(why, whylen, "shares add up to %llu, not %u", (unsigned long long)total, LEARND_SHARE_ONE);
		return false;
	}
	return true;
}

int ld_policy_put(int map_fd, const struct learnd_key *key, const struct learnd_policy *p, const struct ld_bounds *b)
{
	if (!ld_policy_valid(p, b, NULL, 0))
		return -EINVAL;
	return bpf_map_update_elem(map_fd, key, p, BPF_ANY) ? -errno : 0;
}

int ld_policy_del(int map_fd, const struct learnd_key *key)
{
	return bpf_map_delete_elem(map_fd, key) && errno != ENOENT ? -errno : 0;
}

bool ld_pin_applies(const struct ld_range *r, int64_t v, char *why, size_t whylen)
{
	char dummy[1];

	if (!why) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	if (!r->set) {
		snprintf(why, whylen, "not managed for this prefix (no bounds in the config)");
		return false;
	}
	if (r->min == r->max && v != r->min) {
		snprintf(why, whylen, "the config fixes it at %u", r->min);
		return false;
	}
	if (r->min != r->max && v != 0 && (v < r->min || v > r->max)) {
		snprintf(why, whylen, "outside bounds %u..%u", r->min, r->max);
		return false;
	}
	return true;
}
