// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Operator control: pins and pause, read from the store. */
#include "learner_int.h"

#include <string.h>
#include "log.h"

/* ---- operator control ---- */

static void on_pin(void *ctx, const char *cidr, const int64_t vals[LEARND_PARAM__MAX])
{
	struct ld_learner *l = ctx;
	struct learnd_key key;
	char err[128];
	struct pfx *p;

	if (ld_cidr_parse(cidr, &key, err, sizeof(err))) {
		ld_warn("pin %s ignored: %s", cidr, err);
		return;
	}
	p = lr_find_key(l, &key);
	if (!p) {
		/* evicted, or not configured any more: learnctl refuses new pins of
		 * unknown prefixes, so this is expected and not worth a warning */
		ld_debug("pin %s not applied: no such prefix in the table", cidr);
		return;
	}
	memcpy(p->pin, vals, sizeof(p->pin));
}

/* Pins of the prefixes born since the last read, when nobody else wrote: the
 * others' pins cannot have changed, so this costs the pins table, not a walk
 * of every prefix. */
static void on_pin_new(void *ctx, const char *cidr, const int64_t vals[LEARND_PARAM__MAX])
{
	struct ld_learner *l = ctx;
	struct learnd_key key;
	struct pfx *p;

	if (ld_cidr_parse(cidr, &key, NULL, 0) || !(p = lr_find_key(l, &key)) || p->born != l->pin_epoch)
		return;
	memcpy(p->pin, vals, sizeof(p->pin));
	ld_info("%s: operator pins (iw %lld rwnd %lld syn_rto_ms %lld base_rtt_us %lld; -1 = none)", p->cidr,
		(long long)p->pin[0], (long long)p->pin[1], (long long)p->pin[2], (long long)p->pin[3]);
	lr_apply_cfg(l, p);
}

/* Pins and pause: read when another connection (learnctl) wrote, and when this
 * learner has not read them for its current prefixes yet (at start: what the
 * operator set while learnd was down; after a prefix was added).  PRAGMA
 * data_version only sees other connections' commits, so the first read cannot
 * wait for it. */
void lr_read_control(struct ld_learner *l)
{
	bool was_paused = l->st.paused, paused;
	int rc;

	if (!l->store)
		return;
	if (!ld_store_changed(l->store) && !l->control_stale) {
		if (l->control_new && !ld_store_pins(l->store, on_pin_new, l)) {
			l->control_new = false;
			l->pin_epoch++;
		}
		return;
	}
	l->control_stale = false;
	if (ld_store_paused(l->store, &paused))
		l->control_stale = true; /* busy: keep what is in force, try again next tick */
	else
		l->st.paused = paused;
	if (was_paused != l->st.paused)
		ld_info("operator %s learnd", l->st.paused ? "paused" : "resumed");
	for (size_t i = 0; i < l->n; i++) {
		memcpy(l->all[i]->pin_prev, l->all[i]->pin, sizeof(l->all[i]->pin));
		for (int k = 0; k < LEARND_PARAM__MAX; k++)
			l->all[i]->pin[k] = -1;
	}
	rc = ld_store_pins(l->store, on_pin, l);
	if (rc) {
		/* a half-read table must not unpin anything */
		for (size_t i = 0; i < l->n; i++)
			memcpy(l->all[i]->pin, l->all[i]->pin_prev, sizeof(l->all[i]->pin));
		l->control_stale = true;
		ld_debug("store: pins: %s", ld_store_errmsg(l->store));
		return;
	}
	l->control_new = false;
	l->pin_epoch++;
	for (size_t i = 0; i < l->n; i++) {
		struct pfx *p = l->all[i];

		if (!memcmp(p->pin_prev, p->pin, sizeof(p->pin)))
			continue;
		ld_info("%s: operator pins changed (iw %lld rwnd %lld syn_rto_ms %lld base_rtt_us %lld; -1 = none)",
			p->cidr, (long long)p->pin[0], (long long)p->pin[1], (long long)p->pin[2], (long long)p->pin[3]);
		lr_apply_cfg(l, p);
	}
}
