// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * learnctl metrics: what the database and the pinned maps say, in Prometheus
 * text format, in the vocabulary of lib/prom.h (learnd's metrics_file uses the
 * same definitions; docs/metrics.md).
 */
#include <getopt.h>
#include <stdio.h>
#include "clock.h"
#include "query.h"
#include "dpinfo.h"
#include "learnctl.h"
#include "prom.h"
#include "report.h"

/* The per-prefix series, one block each; NaN (no estimate) is left out. */
static void prefix_series(const struct lc_report_rows *rows)
{
	for (int k = LD_M_PFX_CONNECTIONS; k <= LD_M_PFX_RETRANS; k++) {
		ld_prom_head(stdout, (enum ld_series)k);
		for (size_t i = 0; i < rows->n; i++) {
			const struct lc_report_row *r = &rows->row[i];
			double v;

			switch (k) {
			case LD_M_PFX_CONNECTIONS: v = (double)r->conns_total; break;
			case LD_M_PFX_CONNECTIONS_1H: v = (double)r->conns_1h; break;
			case LD_M_PFX_IW: v = r->val[LEARND_PARAM_IW]; break;
			case LD_M_PFX_RWND: v = r->val[LEARND_PARAM_RWND]; break;
			case LD_M_PFX_SYN_RTO: v = r->val[LEARND_PARAM_SYN_RTO] / 1e3; break;
			case LD_M_PFX_BASE_RTT: v = r->val[LEARND_PARAM_BASE_RTT] / 1e6; break;
			case LD_M_PFX_PROBE_SHARE: v = r->probe_share; break;
			case LD_M_PFX_FCT_CHANGE: v = r->fct_change; break;
			default: v = r->retrans_rate; break;
			}
			if (v == v) /* not NaN */
				ld_prom_prefix(stdout, (enum ld_series)k, r->cidr, r->origin, v);
		}
	}
}

struct metrics_opts {
	bool no_prefixes;
};

static int metrics_opt(struct lc *lc, void *st, int id, const char *arg)
{
	struct metrics_opts *o = st;

	(void)lc;
	(void)arg;
	if (id == 300)
		o->no_prefixes = true;
	return 0;
}

int cmd_metrics(struct lc *lc, int argc, char **argv)
{
	static const struct option extra[] = { { "no-prefixes", no_argument, NULL, 300 }, { 0 } };
	struct metrics_opts o = { 0 };
	struct lc_report_rows rows = { 0 };
	struct ld_db_facts f;
	struct lc_dp dp;
	int first, rc;
	int64_t age;
	bool alive;

	rc = lc_parse_opts(lc, argc, argv, NULL, extra, metrics_opt, &o, &first);
	if (rc)
		return rc;
	if (first < argc)
		return lc_fail(lc, LC_EXIT_USAGE, "unexpected argument '%s' (see learnctl metrics --help)", argv[first]);
	if (lc->fmt == LC_JSON)
		return lc_fail(lc, LC_EXIT_USAGE, "metrics prints the Prometheus text format only: --json does not apply "
			       "(learnctl --json status and report give the same facts)");
	/* Bad database: exit 2 before anything is printed. */
	rc = lc_db_facts_read(lc, &f);
	if (rc)
		return rc;
	if (!o.no_prefixes) {
		rc = lc_report_load(lc, &rows, NULL, false);
		if (rc)
			return rc;
	}
	lc_dp_open(&dp, lc->pin_dir, false);
	lc_dp_info(&dp);
	alive = lc_dp_alive(&dp, &age);

	ld_prom_u64(stdout, LD_M_UP, alive);
	if (dp.have_ctl && dp.ctl_val.heartbeat_ns)
		ld_prom_seconds(stdout, LD_M_HEARTBEAT_AGE, age);
	ld_prom_u64(stdout, LD_M_PAUSED, f.paused);
	if (dp.have_ctl) {
		ld_prom_u64(stdout, LD_M_DATAPLANE_PAUSED, !!(dp.ctl_val.flags & LEARND_CTL_PAUSED));
		ld_prom_u64(stdout, LD_M_OBSERVE_ONLY, !!(dp.ctl_val.flags & LEARND_CTL_OBSERVE_ONLY));
	}
	if (dp.have_counters)
		ld_prom_bpf_counters(stdout, dp.counter);
	if (dp.policy.present) {
		ld_prom_u64(stdout, LD_M_POLICY_CAPACITY, dp.policy.max_entries);
		if (dp.policy_entries >= 0)
			ld_prom_u64(stdout, LD_M_POLICY_ENTRIES, (uint64_t)dp.policy_entries);
	}
	ld_prom_u64(stdout, LD_M_DB_SIZE, (uint64_t)f.size);
	if (f.last_tick_ns > 0)
		ld_prom_seconds(stdout, LD_M_DB_LAST_TICK_AGE, ld_wall_ns() - f.last_tick_ns);
	if (f.fleet_state >= 0) {
		ld_prom_u64(stdout, LD_M_FLEET_CONNECTED, f.fleet_state == LD_FLEET_CONNECTED);
		if (f.fleet_push_ns > 0)
			ld_prom_seconds(stdout, LD_M_FLEET_PUSH_AGE, ld_wall_ns() - f.fleet_push_ns);
		if (f.fleet_pull_ns > 0)
			ld_prom_seconds(stdout, LD_M_FLEET_PULL_AGE, ld_wall_ns() - f.fleet_pull_ns);
		ld_prom_u64(stdout, LD_M_FLEET_ROWS_PUSHED, (uint64_t)f.fleet_pushed);
		ld_prom_u64(stdout, LD_M_FLEET_ROWS_PULLED, (uint64_t)f.fleet_pulled);
		ld_prom_u64(stdout, LD_M_FLEET_ROWS_REJECTED, (uint64_t)f.fleet_rejected);
		ld_prom_u64(stdout, LD_M_FLEET_INSTALLED, (uint64_t)f.fleet_installed);
	}
	ld_prom_u64(stdout, LD_M_PREFIXES, (uint64_t)f.prefixes_held);
	ld_prom_u64(stdout, LD_M_PINS, (uint64_t)f.pins);
	ld_prom_u64(stdout, LD_M_DECISIONS, (uint64_t)f.decisions);
	if (!o.no_prefixes && rows.n)
		prefix_series(&rows);
	lc_report_free(&rows);
	lc_dp_close(&dp);
	return 0;
}
