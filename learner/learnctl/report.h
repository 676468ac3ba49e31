/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-prefix summaries, read from the database: what report, metrics share. */
#ifndef LEARND_REPORT_H
#define LEARND_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include "cidr.h"
#include "config.h"
#include "learnctl.h"

/* An operator's pin against what learnd has in force (lc_pin_state_text). */
enum lc_pin_state {
	LC_PIN_NONE,
	LC_PIN_IN_FORCE, /* slot 0 has the pinned value */
	LC_PIN_PENDING,  /* applies, but learnd has not put it in force yet (its next tick, or its start) */
	LC_PIN_IGNORED,  /* outside the bounds in force (ld_pin_applies), or the prefix evicted: learnd ignores it */
};

struct lc_report_row {
	char cidr[LD_CIDR_STRLEN];
	struct learnd_key key;
	int64_t prefix_id;
	char origin[16];          /* configured, discovered, default */
	int64_t conns_total, conns_1h;
	uint32_t val[LEARND_PARAM__MAX];  /* in force (slot 0); 0: kernel default */
	bool pinned[LEARND_PARAM__MAX];   /* an operator's pin is what is in force */
	int64_t pin[LEARND_PARAM__MAX];   /* the operator's pin, in force or not; -1: none */
	enum lc_pin_state pin_state[LEARND_PARAM__MAX];
	bool no_effect[LEARND_PARAM__MAX]; /* learnable, but cannot matter here (model state): kernel default */
	struct ld_range bound[LEARND_PARAM__MAX];
	double probe_share;       /* 0..1 */
	double fct_change, fct_lo, fct_hi; /* of the IW in force vs the kernel's 10: fraction
					    * (-0.3: 30% faster), 95% interval; NaN: no estimate */
	double retrans_rate;      /* NaN: no data */
	int64_t changed_ns;       /* last change of the choice (wall ns); 0: never */
	bool evicted;             /* out of the policy map (max_prefixes): history only */
};

struct lc_report_rows {
	struct lc_report_row *row;
	size_t n, cap;
};

/* Every prefix (inside filter, if not NULL; evicted ones only with
 * with_evicted), in database order.  0 or an exit status (message printed). */
int lc_report_load(struct lc *lc, struct lc_report_rows *rows, const struct learnd_key *filter, bool with_evicted);
void lc_report_free(struct lc_report_rows *rows);
/* Parameter p's pin state in words: "in force", "pending: ...", "ignored:
 * outside bounds 4..64"; "" without a pin. */
void lc_pin_state_text(const struct lc_report_row *r, int p, char *buf, size_t len);

#endif
