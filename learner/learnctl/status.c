// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * learnctl status: is learnd alive, where is it attached, counters, database,
 * config in force (text or JSON).  learnctl metrics is metrics.c.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include "cidr.h"
#include "query.h"
#include "dpinfo.h"
#include "jsonw.h"
#include "clock.h"
#include "maps.h"
#include "learnctl.h"

/* learnd ticks (and writes the heartbeat) at least twice per TTL, and its
 * database in the same tick: a fresh heartbeat with a database tick older than
 * the TTL means its writes fail (disk full, read-only, I/O errors).  The
 * daemon table cannot say so itself, it is written by the failing
 * transaction.  Returns the database tick's age, or -1 when it is not stale. */
static int64_t db_stale_ns(struct lc_dp *dp, const struct ld_db_facts *f)
{
	int64_t hb_age, age;

	if (!f->ok || f->last_tick_ns <= 0 || !lc_dp_alive(dp, &hb_age))
		return -1;
	age = ld_wall_ns() - f->last_tick_ns;
	return age > (int64_t)dp->ctl_val.ttl_ns ? age : -1;
}

static const char *attach_name(uint32_t t)
{
	return t == BPF_CGROUP_SOCK_OPS ? "sock_ops" : "other";
}

/* "record budget N/s per prefix and CPU" or "no record budget" (static buffer). */
static const char *budget_text(uint32_t budget)
{
	static char buf[64];

	if (!budget)
		return "no record budget";
	snprintf(buf, sizeof(buf), "record budget %u/s per prefix and CPU", budget);
	return buf;
}

static void fmt_range(const struct ld_range *r, char *buf, size_t len)
{
	if (!r->set)
		snprintf(buf, len, "-");
	else if (r->min == r->max)
		snprintf(buf, len, "%u", r->min);
	else
		snprintf(buf, len, "%u..%u", r->min, r->max);
}

static void json_bounds(struct jw *w, const struct ld_bounds *b)
{
	jw_obj(w);
	for (int p = 0; p < LEARND_PARAM__MAX; p++) {
		const struct ld_range *r = &b->r[p];

		jw_key(w, ld_param_name((enum learnd_param)p));
		if (!r->set) {
			jw_null(w);
			continue;
		}
		jw_obj(w);
		jw_kv_u64(w, "min", r->min);
		jw_kv_u64(w, "max", r->max);
		jw_end(w);
	}
	jw_end(w);
}

/* No control map to read: absent only when there is none; a map this user may
 * not read says nothing about learnd (it may well run). */
static bool ctl_unknown(const struct lc_dp *dp)
{
	return !dp->have_ctl && dp->ctl.err && dp->ctl.err != -ENOENT;
}

static void json_learnd(struct jw *w, struct lc_dp *dp)
{
	int64_t age;
	bool alive = lc_dp_alive(dp, &age);

	jw_key(w, "learnd");
	jw_obj(w);
	if (ctl_unknown(dp))
		jw_kv_null(w, "alive");
	else
		jw_kv_bool(w, "alive", alive);
	jw_kv_str(w, "state", ctl_unknown(dp) ? "unknown" : !dp->have_ctl ? "absent" : alive ? "alive" : "stale");
	if (ctl_unknown(dp))
		jw_kv_str(w, "error", strerror(-dp->ctl.err));
	if (dp->have_ctl && dp->ctl_val.heartbeat_ns) {
		jw_kv_dbl(w, "heartbeat_age_s", (double)age / 1e9);
	} else {
		jw_kv_null(w, "heartbeat_age_s");
	}
	if (dp->have_ctl) {
		jw_kv_dbl(w, "ttl_s", (double)dp->ctl_val.ttl_ns / 1e9);
		jw_kv_bool(w, "paused", dp->ctl_val.flags & LEARND_CTL_PAUSED);
		jw_kv_bool(w, "observe_only", dp->ctl_val.flags & LEARND_CTL_OBSERVE_ONLY);
		jw_kv_u64(w, "sample_rate", dp->ctl_val.sample_rate);
		jw_kv_u64(w, "record_budget", dp->ctl_val.record_budget);
	}
	jw_end(w);
}

static void json_link_program(struct jw *w, const struct lc_dp *dp)
{
	jw_key(w, "link");
	if (dp->link_present) {
		jw_obj(w);
		jw_kv_u64(w, "id", dp->link_id);
		jw_kv_u64(w, "cgroup_id", dp->cgroup_id);
		jw_kv_str(w, "cgroup", dp->cgroup_path[0] ? dp->cgroup_path : NULL);
		jw_kv_str(w, "attach_type", attach_name(dp->attach_type));
		jw_end(w);
	} else {
		jw_null(w);
	}
	jw_key(w, "program");
	if (dp->link_present && dp->prog_id) {
		jw_obj(w);
		jw_kv_u64(w, "id", dp->prog_id);
		jw_kv_str(w, "name", dp->prog_name);
		jw_kv_str(w, "tag", dp->prog_tag);
		jw_kv_u64(w, "run_cnt", dp->prog_run_cnt);
		jw_kv_u64(w, "run_time_ns", dp->prog_run_time_ns);
		jw_key(w, "map_ids");
		jw_arr(w);
		for (uint32_t i = 0; i < dp->prog_nr_maps; i++)
			jw_u64(w, dp->prog_map_ids[i]);
		jw_end(w);
		jw_end(w);
	} else {
		jw_null(w);
	}
}

static void json_dataplane(struct jw *w, struct lc *lc, struct lc_dp *dp)
{
	jw_key(w, "dataplane");
	jw_obj(w);
	jw_kv_str(w, "pin_dir", lc->pin_dir);
	json_link_program(w, dp);
	jw_key(w, "maps");
	jw_obj(w);
	const struct lc_map_info *maps[] = { &dp->policy, &dp->ctl, &dp->counters, &dp->records };
	const char *names[] = { LEARND_PIN_POLICY, LEARND_PIN_CTL, LEARND_PIN_COUNTERS, LEARND_PIN_RECORDS };
	for (int i = 0; i < 4; i++) {
		jw_key(w, names[i]);
		if (!maps[i]->present) {
			jw_obj(w);
			jw_kv_str(w, "error", strerror(-(maps[i]->err ? maps[i]->err : -ENOENT)));
			jw_end(w);
			continue;
		}
		jw_obj(w);
		jw_kv_u64(w, "id", maps[i]->id);
		jw_kv_u64(w, "max_entries", maps[i]->max_entries);
		if (i == 0 && dp->policy_entries >= 0)
			jw_kv_i64(w, "entries", dp->policy_entries);
		jw_end(w);
	}
	jw_end(w);
	jw_key(w, "counters");
	if (dp->have_counters) {
		jw_obj(w);
		for (int c = 0; c < LEARND_CNT__MAX; c++)
			jw_kv_u64(w, ld_counter_name((enum learnd_counter)c), dp->counter[c]);
		jw_end(w);
	} else {
		jw_null(w);
	}
	jw_end(w);
}

/* key: seconds since the wall time ns, or null when there is none (<= 0: absent) */
static void json_age(struct jw *w, const char *key, int64_t ns)
{
	if (ns > 0)
		jw_kv_dbl(w, key, (double)(ld_wall_ns() - ns) / 1e9);
	else
		jw_kv_null(w, key);
}

static void json_database(struct jw *w, struct lc *lc, struct lc_dp *dp, const struct ld_db_facts *f, const char *db_err)
{
	jw_key(w, "database");
	jw_obj(w);
	jw_kv_str(w, "path", lc->db);
	if (f->ok) {
		jw_kv_i64(w, "size_bytes", f->size);
		jw_kv_i64(w, "wal_bytes", f->wal_size > 0 ? f->wal_size : 0);
		jw_kv_i64(w, "schema_version", f->version);
		jw_kv_i64(w, "prefixes", f->prefixes);
		jw_kv_i64(w, "pins", f->pins);
		jw_kv_i64(w, "decisions", f->decisions);
		jw_kv_bool(w, "paused", f->paused);
		json_age(w, "last_tick_age_s", f->last_tick_ns);
		jw_kv_i64(w, "records", f->records);
		jw_kv_i64(w, "store_errors", f->store_errors);
		jw_kv_bool(w, "stale", db_stale_ns(dp, f) >= 0);
	} else {
		jw_kv_str(w, "error", db_err);
	}
	jw_end(w);
}

static void json_config(struct jw *w, struct lc *lc)
{
	jw_key(w, "config");
	jw_obj(w);
	jw_kv_str(w, "path", lc->cfg_from_file ? lc->cfg.path : NULL);
	jw_kv_str(w, "cgroup", lc->cfg.cgroup[0] ? lc->cfg.cgroup : NULL);
	jw_kv_u64(w, "sample_rate", lc->cfg.sample_rate);
	jw_kv_u64(w, "record_budget", lc->cfg.record_budget);
	jw_kv_u64(w, "heartbeat_ttl_ms", lc->cfg.heartbeat_ttl_ms);
	jw_kv_u64(w, "tick_ms", lc->cfg.tick_ms);
	jw_kv_u64(w, "max_prefixes", lc->cfg.max_prefixes);
	jw_kv_u64(w, "ringbuf_kb", lc->cfg.ringbuf_kb);
	jw_kv_bool(w, "observe_only", lc->cfg.observe_only);
	jw_key(w, "defaults");
	json_bounds(w, &lc->cfg.defaults);
	jw_key(w, "prefixes");
	jw_arr(w);
	for (size_t i = 0; i < lc->cfg.nprefixes; i++) {
		char text[LD_CIDR_STRLEN];

		ld_cidr_format(&lc->cfg.prefixes[i].key, text, sizeof(text));
		jw_obj(w);
		jw_kv_str(w, "prefix", text);
		jw_key(w, "bounds");
		json_bounds(w, &lc->cfg.prefixes[i].b);
		jw_end(w);
	}
	jw_end(w);
	jw_end(w);
}

/* The status object: learnd, dataplane, database, config. */
static void json_fleet(struct jw *w, struct lc *lc, const struct ld_db_facts *f);

static void status_json(struct lc *lc, struct lc_dp *dp, const struct ld_db_facts *f, const char *db_err)
{
	struct jw w;

	jw_init(&w, stdout, lc->pretty);
	jw_obj(&w);
	json_learnd(&w, dp);
	json_dataplane(&w, lc, dp);
	json_database(&w, lc, dp, f, db_err);
	json_fleet(&w, lc, f);
	json_config(&w, lc);
	jw_end(&w);
	jw_finish(&w);
}

static void print_bounds_line(const char *label, const struct ld_bounds *b)
{
	char r[LEARND_PARAM__MAX][32];

	for (int p = 0; p < LEARND_PARAM__MAX; p++)
		fmt_range(&b->r[p], r[p], sizeof(r[p]));
	printf("  %-20s iw %s, rwnd %s, syn_rto_ms %s, base_rtt_us %s\n", label, r[0], r[1], r[2], r[3]);
}

static void text_learnd(struct lc *lc, struct lc_dp *dp)
{
	char age_s[32];
	int64_t age;
	bool alive = lc_dp_alive(dp, &age);

	if (ctl_unknown(dp)) {
		printf("learnd:     cannot tell: %s/ctl_map: %s%s\n", lc->pin_dir, strerror(-dp->ctl.err),
		       dp->ctl.err == -EACCES || dp->ctl.err == -EPERM ? " (reading it needs root)" : "");
	} else if (!dp->have_ctl) {
		printf("learnd:     not running (no %s/ctl_map)\n", lc->pin_dir);
	} else if (!dp->ctl_val.heartbeat_ns) {
		printf("learnd:     never ticked (heartbeat 0): kernel defaults\n");
	} else {
		snprintf(age_s, sizeof(age_s), "%.1fs", (double)age / 1e9);
		printf("learnd:     %s (heartbeat %s ago, ttl %.1fs)%s\n", alive ? "alive" : "STALE", age_s,
		       (double)dp->ctl_val.ttl_ns / 1e9, alive ? "" : ": kernel defaults everywhere");
	}
	if (dp->have_ctl) {
		uint32_t fl = dp->ctl_val.flags;

		printf("control:    %s%s, sample 1/%u, %s\n", fl & LEARND_CTL_PAUSED ? "PAUSED (kernel defaults)" : "running",
		       fl & LEARND_CTL_OBSERVE_ONLY ? ", observe-only" : "", dp->ctl_val.sample_rate, budget_text(dp->ctl_val.record_budget));
	}
}

static void text_dataplane(struct lc *lc, const struct lc_dp *dp)
{
	if (dp->link_present) {
		printf("attached:   cgroup %s (id %" PRIu64 ") via link %u (%s)\n",
		       dp->cgroup_path[0] ? dp->cgroup_path : "(not found under the cgroup v2 mount)", dp->cgroup_id,
		       dp->link_id, attach_name(dp->attach_type));
		printf("program:    %s id %u tag %s, maps", dp->prog_name, dp->prog_id, dp->prog_tag);
		for (uint32_t i = 0; i < dp->prog_nr_maps; i++)
			printf(" %u", dp->prog_map_ids[i]);
		if (dp->prog_run_cnt)
			printf(", %" PRIu64 " runs, %.0f ns/run", dp->prog_run_cnt,
			       (double)dp->prog_run_time_ns / (double)dp->prog_run_cnt);
		printf("\n");
	} else {
		printf("attached:   no (no pinned link under %s: %s)\n", lc->pin_dir,
		       strerror(-(dp->link_err ? dp->link_err : -ENOENT)));
	}
	if (dp->policy.present) {
		printf("policy map: id %u, ", dp->policy.id);
		if (dp->policy_entries >= 0)
			printf("%" PRId64 " of %u entries (%.1f%%)\n", dp->policy_entries, dp->policy.max_entries,
			       dp->policy.max_entries ? 100.0 * (double)dp->policy_entries / dp->policy.max_entries : 0.0);
		else
			printf("%u entries max\n", dp->policy.max_entries);
	}
	if (dp->ctl.present || dp->counters.present || dp->records.present)
		printf("maps:       ctl_map id %u, counters id %u, records id %u (%u KiB ring)\n", dp->ctl.id,
		       dp->counters.id, dp->records.id, dp->records.max_entries / 1024);
	if (dp->have_counters) { /* the names of JSON and metrics (maps.c's table), three a line */
		printf("counters:   ");
		for (int c = 0; c < LEARND_CNT__MAX; c++)
			printf("%s%s %" PRIu64, !c ? "" : c % 3 ? ", " : ",\n            ",
			       ld_counter_name((enum learnd_counter)c), dp->counter[c]);
		printf("\n");
	}
}

/* The pause in force (the map's PAUSED bit, which learnd writes every
 * heartbeat) against the database's, when they differ: what is true of each. */
static const char *pause_note(struct lc_dp *dp, const struct ld_db_facts *f)
{
	int64_t age;
	bool alive = lc_dp_alive(dp, &age);

	if (!f->paused) /* the map is paused: learnctl pause could not record it */
		return alive ? "paused in ctl_map only (database paused=0: learnctl pause could not record it): learnd "
			       "keeps this pause in force until learnctl resume, also across its restarts while the "
			       "maps stay pinned"
			     : "ctl_map PAUSED=1, database paused=0: kernel defaults; a learnd started on these maps keeps "
			       "the pause until learnctl resume";
	return alive ? "database paused=1 but ctl_map not paused yet: learnd pauses at its next tick (if this stays, it "
		       "cannot read the database: see its log)"
		     : "database paused=1, ctl_map not paused: no learnd ticks (kernel defaults once its heartbeat is "
		       "stale); learnd pauses when it starts";
}

static void text_database(struct lc *lc, struct lc_dp *dp, const struct ld_db_facts *f, const char *db_err)
{
	if (f->ok) {
		char last[40];

		lc_fmt_time(f->last_decision_ns, last, sizeof(last));
		printf("database:   %s, %.1f MiB", lc->db, (double)f->size / 1048576.0);
		if (f->wal_size > 0)
			printf(" + %.1f MiB WAL", (double)f->wal_size / 1048576.0);
		printf(", schema %d\n            %" PRId64 " prefixes, %" PRId64 " pins, %" PRId64
		       " decisions (last %s), %s\n",
		       f->version, f->prefixes, f->pins, f->decisions, last, f->paused ? "paused=1" : "paused=0");
		if (f->last_tick_ns > 0) {
			char ago[16];

			lc_fmt_age(ld_wall_ns() - f->last_tick_ns, ago, sizeof(ago));
			printf("            learnd's last tick in the database: %s ago", ago);
			if (f->records >= 0)
				printf(", %" PRId64 " records", f->records);
			if (f->store_errors >= 0)
				printf(", %" PRId64 " store errors", f->store_errors);
			printf("\n");
		}
		if (db_stale_ns(dp, f) >= 0) {
			char ago[16];

			lc_fmt_age(db_stale_ns(dp, f), ago, sizeof(ago));
			printf("            STALE: database not written for %s while learnd is alive: its writes fail"
			       " (disk full? see its log)\n", ago);
		}
		if (dp->have_ctl && !!(dp->ctl_val.flags & LEARND_CTL_PAUSED) != f->paused)
			printf("            note: %s\n", pause_note(dp, f));
	} else {
		printf("database:   %s\n", db_err);
	}
}

static void text_config(struct lc *lc)
{
	printf("config:     %s\n", lc->cfg_from_file ? lc->cfg.path : "(built-in defaults: " LD_DEFAULT_CONFIG " not found)");
	printf("            tick %u ms, heartbeat ttl %u ms, sample 1/%u, %s, max_prefixes %u, ringbuf %u KiB%s\n",
	       lc->cfg.tick_ms, lc->cfg.heartbeat_ttl_ms, lc->cfg.sample_rate, budget_text(lc->cfg.record_budget),
	       lc->cfg.max_prefixes, lc->cfg.ringbuf_kb,
	       lc->cfg.observe_only ? ", observe-only" : "");
	print_bounds_line("[defaults]", &lc->cfg.defaults);
	for (size_t i = 0; i < lc->cfg.nprefixes; i++) {
		char text[LD_CIDR_STRLEN];

		ld_cidr_format(&lc->cfg.prefixes[i].key, text, sizeof(text));
		print_bounds_line(text, &lc->cfg.prefixes[i].b);
	}
}

/* the fleet link, from learnd's daemon table: only with [fleet] */
static void text_fleet(struct lc *lc, const struct ld_db_facts *f)
{
	char push[16] = "never", pull[16] = "never";

	if (!f->ok || (f->fleet_state < 0 && !lc->cfg.fleet.enabled))
		return;
	if (f->fleet_state < 0) {
		printf("fleet:      host %s, not started yet\n", lc->cfg.fleet.host);
		return;
	}
	if (f->fleet_push_ns > 0)
		lc_fmt_age(ld_wall_ns() - f->fleet_push_ns, push, sizeof(push));
	if (f->fleet_pull_ns > 0)
		lc_fmt_age(ld_wall_ns() - f->fleet_pull_ns, pull, sizeof(pull));
	printf("fleet:      %s as host %s%s%s; last push %s%s, last pull %s%s\n"
	       "            rows pushed %" PRId64 ", pulled %" PRId64 ", rejected %" PRId64 "; %" PRId64
	       " prefixes installed from the fleet\n",
	       ld_fleet_state_name((enum ld_fleet_state)f->fleet_state), lc->cfg.fleet.host,
	       lc->cfg.fleet.site[0] ? " of site " : "", lc->cfg.fleet.site, push, f->fleet_push_ns > 0 ? " ago" : "",
	       pull, f->fleet_pull_ns > 0 ? " ago" : "", f->fleet_pushed, f->fleet_pulled, f->fleet_rejected,
	       f->fleet_installed);
}

static void json_fleet(struct jw *w, struct lc *lc, const struct ld_db_facts *f)
{
	jw_key(w, "fleet");
	if (!f->ok || (f->fleet_state < 0 && !lc->cfg.fleet.enabled)) {
		jw_null(w);
		return;
	}
	jw_obj(w);
	jw_kv_str(w, "host", lc->cfg.fleet.host);
	jw_kv_str(w, "site", lc->cfg.fleet.site);
	jw_kv_str(w, "state", f->fleet_state < 0 ? "not started" : ld_fleet_state_name((enum ld_fleet_state)f->fleet_state));
	jw_kv_bool(w, "connected", f->fleet_state == LD_FLEET_CONNECTED);
	json_age(w, "last_push_age_s", f->fleet_push_ns);
	json_age(w, "last_pull_age_s", f->fleet_pull_ns);
	jw_kv_i64(w, "rows_pushed", f->fleet_pushed);
	jw_kv_i64(w, "rows_pulled", f->fleet_pulled);
	jw_kv_i64(w, "rows_rejected", f->fleet_rejected);
	jw_kv_i64(w, "prefixes_installed", f->fleet_installed);
	jw_end(w);
}

static void status_text(struct lc *lc, struct lc_dp *dp, const struct ld_db_facts *f, const char *db_err)
{
	text_learnd(lc, dp);
	text_dataplane(lc, dp);
	text_database(lc, dp, f, db_err);
	text_fleet(lc, f);
	text_config(lc);
}

int cmd_status(struct lc *lc, int argc, char **argv)
{
	struct ld_db_facts f;
	struct lc_dp dp;
	int first, rc, dbrc;
	char db_err[1024] = "";

	rc = lc_parse_opts(lc, argc, argv, NULL, NULL, NULL, NULL, &first);
	if (rc)
		return rc;
	if (first < argc)
		return lc_fail(lc, LC_EXIT_USAGE, "unexpected argument '%s' (see learnctl status --help)", argv[first]);
	lc_dp_open(&dp, lc->pin_dir, false);
	lc_dp_info(&dp);
	/* The database's one-line error goes to stderr and into the status (its
	 * "database" part); the rest is still shown. */
	lc->error_in_output = true;
	dbrc = lc_db_facts_read(lc, &f);
	lc->error_in_output = false;
	if (dbrc)
		snprintf(db_err, sizeof(db_err), "%s", lc->last_err);
	if (lc->fmt == LC_JSON)
		status_json(lc, &dp, &f, db_err);
	else
		status_text(lc, &dp, &f, db_err);
	lc_dp_close(&dp);
	return dbrc;
}

