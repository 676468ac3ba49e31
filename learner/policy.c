// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "policy.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

uint32_t ld_arm_get(const struct learnd_arm *arm, enum ld_param p)
{
	switch (p) {
	case LD_IW: return arm->iw;
	case LD_RWND: return arm->rwnd;
	case LD_SYN_RTO_MS: return arm->syn_rto_ms;
	case LD_BASE_RTT_US: return arm->base_rtt_us;
	default: return 0;
	}
}

void ld_arm_set(struct learnd_arm *arm, enum ld_param p, uint32_t v)
{
	switch (p) {
	case LD_IW: arm->iw = (__u16)v; break;
	case LD_RWND: arm->rwnd = (__u16)v; break;
	case LD_SYN_RTO_MS: arm->syn_rto_ms = (__u16)v; break;
	case LD_BASE_RTT_US: arm->base_rtt_us = v; break;
	default: break;
	}
}

void ld_policy_fixed(const struct ld_bounds *b, uint32_t prefix_id, struct learnd_policy *out)
{
	memset(out, 0, sizeof(*out));
	out->prefix_id = prefix_id;
	out->nslots = 1;
	out->slots[0].share = LEARND_SHARE_ONE;
	for (int p = 0; p < LD_NPARAM; p++)
		if (b->r[p].set && b->r[p].min == b->r[p].max)
			ld_arm_set(&out->slots[0], (enum ld_param)p, b->r[p].min);
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
		for (int p = 0; p < LD_NPARAM; p++) {
			const struct ld_range *r = &b->r[p];
			uint32_t v = ld_arm_get(arm, (enum ld_param)p);
			bool ok = !r->set ? v == 0 : r->min == r->max ? v == r->min : (v == 0 || (v >= r->min && v <= r->max));

			if (!ok) {
				snprintf(why, whylen, "slot %u: %s = %u outside %u..%u", s, ld_param_name((enum ld_param)p), v,
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
