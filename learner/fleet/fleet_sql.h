/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The fleet link's push and pull statements (fleet.c), in one place: the
 * write-load benchmark (tools/bench/fleet_load.c) runs the same text.
 */
#ifndef LEARND_FLEET_SQL_H
#define LEARND_FLEET_SQL_H

/* a push's evidence rows go in statements of at most this many */
#define LD_FLEET_ROWS_PER_STATEMENT 4000

#define LD_FLEET_SQL_PUSH_EVIDENCE \
	"INSERT INTO learnd.evidence AS e (host, prefix, kind, param, key, n, sum, sum2, sum_raw, age, updated) " \
	"SELECT $1, * , now() FROM unnest($2::cidr[], $3::int2[], $4::int2[], $5::int8[], $6::float8[], " \
	"$7::float8[], $8::float8[], $9::float8[], $10::int8[]) " \
	"ON CONFLICT (host, prefix, kind, param, key) DO UPDATE SET n = excluded.n, sum = excluded.sum, " \
	"sum2 = excluded.sum2, sum_raw = excluded.sum_raw, age = excluded.age, updated = excluded.updated"

#define LD_FLEET_SQL_PUSH_IN_FORCE \
	"INSERT INTO learnd.in_force (host, prefix, origin, iw, rwnd, syn_rto_ms, base_rtt_us, share, samples, " \
	"conns_total, last_used, updated) " \
	"SELECT $1, c, o, a, b, s, r, sh, n, t, CASE WHEN u > 0 THEN 'epoch'::timestamptz + u * interval '1 " \
	"microsecond' END, now() FROM unnest($2::cidr[], $3::text[], $4::int4[], $5::int4[], $6::int4[], " \
	"$7::int4[], $8::float8[], $9::int8[], $10::int8[], $11::int8[]) AS x(c, o, a, b, s, r, sh, n, t, u) " \
	"ON CONFLICT (host, prefix) DO UPDATE SET origin = excluded.origin, iw = excluded.iw, rwnd = excluded.rwnd, " \
	"syn_rto_ms = excluded.syn_rto_ms, base_rtt_us = excluded.base_rtt_us, share = excluded.share, " \
	"samples = excluded.samples, conns_total = excluded.conns_total, last_used = excluded.last_used, " \
	"updated = excluded.updated"

#define LD_FLEET_SQL_PUSH_DELETE \
	"DELETE FROM learnd.evidence WHERE host = $1 AND prefix = ANY($2::cidr[]) AND updated < now()"

#define LD_FLEET_SQL_PUSH_HOST_STATE \
	"INSERT INTO learnd.host_state (host, site, learnd_version, interval_s, prefixes, updated) " \
	"VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (host) DO UPDATE SET site = excluded.site, " \
	"learnd_version = excluded.learnd_version, interval_s = excluded.interval_s, " \
	"prefixes = greatest(host_state.prefixes, excluded.prefixes), updated = excluded.updated"

#define LD_FLEET_SQL_PULL_EVIDENCE \
	"SELECT host, prefix::text, kind, param, key, n, sum, sum2, sum_raw, age, " \
	"(extract(epoch FROM updated) * 1000000)::int8 FROM learnd.evidence " \
	"WHERE updated > 'epoch'::timestamptz + $1::int8 * interval '1 microsecond' AND host <> $2 " \
	"ORDER BY host, prefix, updated"

#define LD_FLEET_SQL_PULL_IN_FORCE \
	"SELECT host, prefix::text, iw, rwnd, syn_rto_ms, base_rtt_us, share, samples, conns_total, " \
	"(extract(epoch FROM updated) * 1000000)::int8 FROM learnd.in_force " \
	"WHERE updated > 'epoch'::timestamptz + $1::int8 * interval '1 microsecond' AND host <> $2"

#endif
