// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "prom.h"

#include <inttypes.h>
#include "maps.h"

static const struct {
	const char *name, *type, *help;
} series[LD_M__MAX] = {
	[LD_M_UP] = { "learnd_up", "gauge", "1 if learnd's heartbeat is within its TTL." },
	[LD_M_HEARTBEAT_AGE] = { "learnd_heartbeat_age_seconds", "gauge", "Seconds since learnd's last heartbeat." },
	[LD_M_HEARTBEAT_TIME] = { "learnd_heartbeat_timestamp_seconds", "gauge",
				  "Wall-clock time of learnd's last heartbeat (one per tick), seconds since the epoch." },
	[LD_M_START_TIME] = { "learnd_start_time_seconds", "gauge",
			      "Wall-clock time learnd started, seconds since the epoch." },
	[LD_M_PAUSED] = { "learnd_paused", "gauge", "1 if the operator paused learnd (database control 'paused')." },
	[LD_M_DATAPLANE_PAUSED] = { "learnd_dataplane_paused", "gauge",
				    "1 if the PAUSED flag is set in the pinned ctl_map." },
	[LD_M_OBSERVE_ONLY] = { "learnd_observe_only", "gauge", "1 if learnd runs observe-only." },
	[LD_M_RECORDS_CONSUMED] = { "learnd_records_consumed_total", "counter",
				    "Close records learnd took from the ring buffer." },
	[LD_M_RECORDS_MALFORMED] = { "learnd_records_malformed_total", "counter",
				     "Close records that did not decode (dropped)." },
	[LD_M_PREFIXES_DISCOVERED] = { "learnd_prefixes_discovered_total", "counter",
				       "Prefixes created from traffic since learnd started." },
	[LD_M_PREFIXES_EVICTED] = { "learnd_prefixes_evicted_total", "counter",
				    "Discovered prefixes dropped at the max_prefixes cap since learnd started." },
	[LD_M_DECISIONS_MADE] = { "learnd_decisions_made_total", "counter",
				  "Decisions learnd made since it started (including each prefix's initial values)." },
	[LD_M_STORE_ERRORS] = { "learnd_store_errors_total", "counter",
				"Ticks whose database transaction failed since learnd started (history kept in memory, retried)." },
	[LD_M_POLICY_CAPACITY] = { "learnd_policy_map_capacity", "gauge", "Policy map max_entries." },
	[LD_M_POLICY_ENTRIES] = { "learnd_policy_map_entries", "gauge", "Prefixes in the policy map." },
	[LD_M_PREFIXES] = { "learnd_prefixes", "gauge",
			    "Prefixes learnd holds (configured, discovered and the default; evicted ones not counted)." },
	[LD_M_PINS] = { "learnd_pins", "gauge", "Prefixes with an operator pin." },
	[LD_M_DECISIONS] = { "learnd_decisions_total", "counter",
			     "Decisions in the database (retention_days prunes the oldest: then it falls)." },
	[LD_M_DB_SIZE] = { "learnd_db_size_bytes", "gauge", "Size of the SQLite database file (without WAL)." },
	[LD_M_DB_LAST_TICK_AGE] = { "learnd_db_last_tick_age_seconds", "gauge",
				    "Seconds since learnd last committed a tick to the database (grows while its writes fail)." },
	[LD_M_PFX_CONNECTIONS] = { "learnd_prefix_connections_total", "counter", "Connections recorded for the prefix." },
	[LD_M_PFX_CONNECTIONS_1H] = { "learnd_prefix_connections_last_hour", "gauge",
				      "Connections recorded for the prefix in the last hour." },
	[LD_M_PFX_IW] = { "learnd_prefix_iw_packets", "gauge", "Initial congestion window in force (0: kernel default)." },
	[LD_M_PFX_RWND] = { "learnd_prefix_rwnd_packets", "gauge", "Initial receive window in force (0: kernel default)." },
	[LD_M_PFX_SYN_RTO] = { "learnd_prefix_syn_rto_seconds", "gauge", "SYN RTO in force (0: kernel default)." },
	[LD_M_PFX_BASE_RTT] = { "learnd_prefix_base_rtt_seconds", "gauge", "BASE_RTT in force (0: kernel default)." },
	[LD_M_PFX_PROBE_SHARE] = { "learnd_prefix_probe_share", "gauge", "Share of connections on probe slots." },
	[LD_M_PFX_FCT_CHANGE] = { "learnd_prefix_fct_change_ratio", "gauge",
				  "Estimated flow completion time change against the kernel default (-0.3: 30% faster)." },
	[LD_M_PFX_RETRANS] = { "learnd_prefix_retrans_ratio", "gauge", "Retransmitted over sent data segments." },
};

const char *ld_series_name(enum ld_series s)
{
	return (unsigned)s < LD_M__MAX ? series[s].name : "?";
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void ld_prom_head(FILE *f, enum ld_series s)
{
	head(f, series[s].name, series[s].type, series[s].help);
}

void ld_prom_u64(FILE *f, enum ld_series s, uint64_t v)
{
	ld_prom_head(f, s);
	fprintf(f, "%s %" PRIu64 "\n", series[s].name, v);
}

void ld_prom_seconds(FILE *f, enum ld_series s, int64_t ns)
{
	ld_prom_head(f, s);
	fprintf(f, "%s %.3f\n", series[s].name, (double)ns / 1e9);
}

/* A label value: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

void ld_prom_prefix(FILE *f, enum ld_series s, const char *prefix, const char *origin, double v)
{
	fprintf(f, "%s{prefix=\"", series[s].name);
	label(f, prefix);
	fputs("\",origin=\"", f);
	label(f, origin);
	fprintf(f, "\"} %.10g\n", v);
}

void ld_prom_bpf_counters(FILE *f, const uint64_t counter[LEARND_CNT__MAX])
{
	for (int c = 0; c < LEARND_CNT__MAX; c++) {
		char name[96];

		snprintf(name, sizeof(name), "learnd_bpf_%s_total", ld_counter_name((enum learnd_counter)c));
		head(f, name, "counter", ld_counter_help((enum learnd_counter)c));
		fprintf(f, "%s %" PRIu64 "\n", name, counter[c]);
	}
}
