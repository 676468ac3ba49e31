-- learnd's fleet schema (PostgreSQL), migration 1.  Applied inside the schema
-- "learnd" (search_path = learnd) by learnd when its role owns that schema, or by
-- an administrator: psql -1 -c 'SET search_path = learnd' -f 001_init.sql.
-- docs/fleet.md describes the tables; the views carry the names of the SQLite
-- ones (docs/schema.md) with a host column.
--
-- Roles: the schema's owner (e.g. learnd_owner) administers; every host logs in
-- with a role of its own, member of the group role learnd_host, and may write
-- only the rows of the hosts that learnd.hosts maps to it (row-level security).

CREATE TABLE schema_version (
	version integer PRIMARY KEY,
	name text NOT NULL,
	applied timestamptz NOT NULL DEFAULT now()
);

-- host name -> the role allowed to write its rows (written by the administrator)
CREATE TABLE hosts (
	host text PRIMARY KEY CHECK (length(host) BETWEEN 1 AND 255),
	role name NOT NULL,
	added timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hosts_role ON hosts (role);

-- what each host says of itself, rewritten at every push
CREATE TABLE host_state (
	host text PRIMARY KEY REFERENCES hosts (host),
	site text NOT NULL DEFAULT '',
	learnd_version text NOT NULL DEFAULT '',
	interval_s integer NOT NULL DEFAULT 10,
	prefixes integer NOT NULL DEFAULT 0,
	updated timestamptz NOT NULL DEFAULT now()
);

-- names of the numbers below
CREATE TABLE params (param smallint PRIMARY KEY, name text NOT NULL UNIQUE);
INSERT INTO params VALUES (0, 'iw'), (1, 'rwnd'), (2, 'syn_rto_ms'), (3, 'base_rtt_us');
CREATE TABLE row_kinds (kind smallint PRIMARY KEY, name text NOT NULL UNIQUE);
INSERT INTO row_kinds VALUES (1, 'prefix'), (2, 'param'), (3, 'arm'), (4, 'cell'), (5, 'hist'),
	(6, 'flight'), (7, 'rel');

-- The model's summaries of one prefix on one host: the rows learnd's model
-- exports (docs/model.md, "Persistence"), discounted to the time of the push.
-- kind: row_kinds; param: params (hist rows: 0 handshake, 1 min RTT, 2 peer
-- window); key: the value (cell rows: value | size class << 16; hist rows:
-- bucket).  A push rewrites all rows of a changed prefix with one "updated"
-- and deletes the rest of that prefix's rows.
CREATE TABLE evidence (
	host text NOT NULL REFERENCES hosts (host),
	prefix cidr NOT NULL,
	kind smallint NOT NULL,
	param smallint NOT NULL,
	key bigint NOT NULL,
	n double precision NOT NULL,
	sum double precision NOT NULL DEFAULT 0,
	sum2 double precision NOT NULL DEFAULT 0,
	sum_raw double precision NOT NULL DEFAULT 0,
	age bigint NOT NULL DEFAULT 0,
	updated timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (host, prefix, kind, param, key)
);
CREATE INDEX evidence_updated ON evidence (updated);

-- Each host's values in force per prefix (slot 0 of its policy).
CREATE TABLE in_force (
	host text NOT NULL REFERENCES hosts (host),
	prefix cidr NOT NULL,
	origin text NOT NULL DEFAULT '',
	iw integer NOT NULL DEFAULT 0,
	rwnd integer NOT NULL DEFAULT 0,
	syn_rto_ms integer NOT NULL DEFAULT 0,
	base_rtt_us integer NOT NULL DEFAULT 0,
	share double precision NOT NULL DEFAULT 1,
	samples bigint NOT NULL DEFAULT 0,
	conns_total bigint NOT NULL DEFAULT 0,
	last_used timestamptz,
	updated timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (host, prefix)
);
CREATE INDEX in_force_updated ON in_force (updated);

-- Row-level security: everyone in learnd_host reads everything; writes only
-- where learnd.hosts maps the row's host to the writing role.
CREATE FUNCTION my_host(h text) RETURNS boolean LANGUAGE sql STABLE AS
	$$ SELECT EXISTS (SELECT 1 FROM learnd.hosts x WHERE x.host = h AND x.role = current_user) $$;

ALTER TABLE evidence ENABLE ROW LEVEL SECURITY;
ALTER TABLE in_force ENABLE ROW LEVEL SECURITY;
ALTER TABLE host_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY evidence_read ON evidence FOR SELECT USING (true);
CREATE POLICY evidence_insert ON evidence FOR INSERT WITH CHECK (my_host(host));
CREATE POLICY evidence_update ON evidence FOR UPDATE USING (my_host(host)) WITH CHECK (my_host(host));
CREATE POLICY evidence_delete ON evidence FOR DELETE USING (my_host(host));
CREATE POLICY in_force_read ON in_force FOR SELECT USING (true);
CREATE POLICY in_force_insert ON in_force FOR INSERT WITH CHECK (my_host(host));
CREATE POLICY in_force_update ON in_force FOR UPDATE USING (my_host(host)) WITH CHECK (my_host(host));
CREATE POLICY in_force_delete ON in_force FOR DELETE USING (my_host(host));
CREATE POLICY host_state_read ON host_state FOR SELECT USING (true);
CREATE POLICY host_state_insert ON host_state FOR INSERT WITH CHECK (my_host(host));
CREATE POLICY host_state_update ON host_state FOR UPDATE USING (my_host(host)) WITH CHECK (my_host(host));

-- The SQLite view names (docs/schema.md), per host.
CREATE VIEW v_prefix_summary AS
SELECT f.host, f.prefix AS cidr, f.origin, f.conns_total, f.samples, f.iw, f.rwnd, f.syn_rto_ms,
	f.base_rtt_us, 1.0 - f.share AS probe_share, f.last_used, f.updated
FROM in_force f;

CREATE VIEW v_slots AS
SELECT f.host, f.prefix AS cidr, 0 AS slot, f.share, f.iw, f.rwnd, f.syn_rto_ms, f.base_rtt_us
FROM in_force f;

-- per (host, prefix, parameter, value): discounted samples and mean cost in round trips
CREATE VIEW v_value_stats AS
SELECT e.host, e.prefix AS cidr, p.name AS param, e.key AS value, e.n AS samples,
	e.sum_raw / nullif(e.n, 0) AS mean_cost, e.updated
FROM evidence e JOIN params p ON p.param = e.param
WHERE e.kind = 3;

-- fleet-wide: the same, summed over the hosts
CREATE VIEW v_fleet_value_stats AS
SELECT cidr, param, value, count(*) AS hosts, sum(samples) AS samples,
	sum(mean_cost * samples) / nullif(sum(samples), 0) AS mean_cost, max(updated) AS updated
FROM v_value_stats GROUP BY cidr, param, value;

CREATE VIEW v_fleet_prefix_summary AS
SELECT cidr, count(*) AS hosts, sum(conns_total) AS conns_total,
	min(iw) AS iw_min, max(iw) AS iw_max, mode() WITHIN GROUP (ORDER BY iw) AS iw,
	mode() WITHIN GROUP (ORDER BY syn_rto_ms) AS syn_rto_ms, max(updated) AS updated
FROM v_prefix_summary GROUP BY cidr;

GRANT USAGE ON SCHEMA learnd TO learnd_host;
GRANT SELECT ON ALL TABLES IN SCHEMA learnd TO learnd_host;
GRANT INSERT, UPDATE, DELETE ON evidence, in_force TO learnd_host;
GRANT INSERT, UPDATE ON host_state TO learnd_host;

INSERT INTO schema_version (version, name) VALUES (1, '001_init.sql');
