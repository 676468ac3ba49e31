-- learnd history, schema version 1.  docs/schema.md documents every column.
-- Times (*_ns) are CLOCK_REALTIME nanoseconds.  Values use the units of
-- include/learnd_abi.h: iw and rwnd in packets, syn_rto_ms in ms, base_rtt_us in us;
-- 0 means "kernel default".

-- One row per prefix learnd has known.  id is the prefix_id in the policy map and
-- in close records; it is never reused.
CREATE TABLE prefixes (
	id INTEGER PRIMARY KEY,
	cidr TEXT NOT NULL UNIQUE,
	origin TEXT NOT NULL CHECK (origin IN ('configured', 'discovered', 'default')),
	parent_id INTEGER REFERENCES prefixes(id),
	created_ns INTEGER NOT NULL,
	last_used_ns INTEGER NOT NULL,
	conns_total INTEGER NOT NULL DEFAULT 0,
	evicted_ns INTEGER,              -- dropped from the map (prefix cap); history stays
	iw_min INTEGER, iw_max INTEGER,  -- bounds in force (NULL: kernel default, not learned)
	rwnd_min INTEGER, rwnd_max INTEGER,
	syn_rto_ms_min INTEGER, syn_rto_ms_max INTEGER,
	base_rtt_us_min INTEGER, base_rtt_us_max INTEGER
);

-- The learner's statistics of a prefix (learnd_model_export rows, packed), so a
-- restart resumes with the same statistics and the same decisions.
CREATE TABLE model_state (
	prefix_id INTEGER PRIMARY KEY REFERENCES prefixes(id),
	format INTEGER NOT NULL,         -- sizeof(struct learnd_model_row) << 8 | row format version
	nrows INTEGER NOT NULL,
	rows BLOB NOT NULL,
	saved_ns INTEGER NOT NULL
);

-- The slots in force in the policy map.
CREATE TABLE slots (
	prefix_id INTEGER NOT NULL REFERENCES prefixes(id),
	slot INTEGER NOT NULL,
	share REAL NOT NULL,             -- 0..1 of new connections
	iw INTEGER NOT NULL, rwnd INTEGER NOT NULL,
	syn_rto_ms INTEGER NOT NULL, base_rtt_us INTEGER NOT NULL,
	epoch INTEGER NOT NULL,
	PRIMARY KEY (prefix_id, slot)
) WITHOUT ROWID;

-- Outcomes per (prefix, parameter, value the connection had, 5-minute bucket).
-- Bounded: per prefix and hour at most 12 buckets x the values a parameter can
-- take (docs/store.md), whatever the connection rate.
CREATE TABLE aggregates (
	prefix_id INTEGER NOT NULL,
	param TEXT NOT NULL CHECK (param IN ('iw', 'rwnd', 'syn_rto_ms', 'base_rtt_us')),
	value INTEGER NOT NULL,
	bucket_ns INTEGER NOT NULL,      -- start of the bucket
	n INTEGER NOT NULL,              -- connections
	failed INTEGER NOT NULL,         -- of which never established
	cost_sum REAL NOT NULL,          -- sum of connection time, ms (established ones)
	cost_sum2 REAL NOT NULL,         -- sum of its squares
	handshake_sum REAL NOT NULL,     -- sum of handshake time, ms
	retrans INTEGER NOT NULL,        -- retransmitted segments
	segs_out INTEGER NOT NULL,       -- data segments sent
	bytes INTEGER NOT NULL,          -- bytes acked + received
	PRIMARY KEY (prefix_id, param, value, bucket_ns)
) WITHOUT ROWID;
CREATE INDEX aggregates_bucket ON aggregates(bucket_ns);

-- Every change of a value in force, with the learner's reason.
CREATE TABLE decisions (
	id INTEGER PRIMARY KEY,
	ts_ns INTEGER NOT NULL,
	prefix_id INTEGER NOT NULL,
	param TEXT NOT NULL,
	old_value INTEGER,               -- NULL: first decision
	new_value INTEGER NOT NULL,
	reason TEXT NOT NULL,            -- none | init | estimate | evidence | bounds | pin (learnd_vocab.h)
	why TEXT NOT NULL                -- the learner's explanation
);
CREATE INDEX decisions_prefix_ts ON decisions(prefix_id, ts_ns);

-- A bounded sample of raw close records: a ring of 32 per prefix.
CREATE TABLE samples (
	prefix_id INTEGER NOT NULL,
	seq INTEGER NOT NULL,            -- 0..31, overwritten in turn
	ts_ns INTEGER NOT NULL,
	raddr TEXT NOT NULL,
	active INTEGER NOT NULL, established INTEGER NOT NULL, applied INTEGER NOT NULL,
	slot INTEGER NOT NULL,
	iw INTEGER NOT NULL, rwnd INTEGER NOT NULL, syn_rto_ms INTEGER NOT NULL, base_rtt_us INTEGER NOT NULL,
	handshake_us INTEGER NOT NULL, syn_retrans INTEGER NOT NULL,
	srtt_us INTEGER NOT NULL, min_rtt_us INTEGER NOT NULL,
	retrans INTEGER NOT NULL, segs_out INTEGER NOT NULL, segs_in INTEGER NOT NULL,
	duration_us INTEGER NOT NULL, busy_us INTEGER NOT NULL,
	bytes_acked INTEGER NOT NULL, bytes_received INTEGER NOT NULL,
	PRIMARY KEY (prefix_id, seq)
) WITHOUT ROWID;

-- The configuration in force, each time it changed.
CREATE TABLE config (
	id INTEGER PRIMARY KEY,
	ts_ns INTEGER NOT NULL,
	path TEXT NOT NULL,
	text TEXT NOT NULL
);

-- Operator control, written by learnctl and read by learnd every tick.
CREATE TABLE pins (
	cidr TEXT PRIMARY KEY,
	iw INTEGER, rwnd INTEGER, syn_rto_ms INTEGER, base_rtt_us INTEGER, -- NULL: not pinned
	ts_ns INTEGER NOT NULL,
	who TEXT NOT NULL
);
CREATE TABLE control (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO control VALUES ('paused', '0');
CREATE TABLE operator_log (
	ts_ns INTEGER NOT NULL,
	who TEXT NOT NULL,
	action TEXT NOT NULL,
	cidr TEXT,
	detail TEXT
);

-- learnd's own state, rewritten every tick (learnctl status).
CREATE TABLE daemon (key TEXT PRIMARY KEY, value) WITHOUT ROWID;

-- ---- views (learnctl reads these) ----

CREATE VIEW v_prefix_summary AS
SELECT p.id AS prefix_id, p.cidr, p.origin, p.conns_total,
	(SELECT coalesce(sum(a.n), 0) FROM aggregates a
	 WHERE a.prefix_id = p.id AND a.param = 'iw'
	   AND a.bucket_ns >= CAST(strftime('%s', 'now') AS INTEGER) * 1000000000 - 3600000000000) AS conns_1h,
	s.iw, s.rwnd, s.syn_rto_ms, s.base_rtt_us,
	p.iw_min, p.iw_max, p.rwnd_min, p.rwnd_max, p.syn_rto_ms_min, p.syn_rto_ms_max,
	p.base_rtt_us_min, p.base_rtt_us_max,
	1.0 - coalesce(s.share, 1.0) AS probe_share,
	(SELECT CAST(sum(a.retrans) AS REAL) / nullif(sum(a.segs_out), 0) FROM aggregates a
	 WHERE a.prefix_id = p.id AND a.param = 'iw') AS retrans_rate,
	(SELECT max(d.ts_ns) FROM decisions d WHERE d.prefix_id = p.id) AS changed_ts_ns,
	p.last_used_ns, p.evicted_ns
FROM prefixes p LEFT JOIN slots s ON s.prefix_id = p.id AND s.slot = 0;

CREATE VIEW v_value_stats AS
SELECT p.cidr, a.param, a.value, sum(a.n) AS samples, sum(a.failed) AS failed,
	sum(a.cost_sum) / nullif(sum(a.n) - sum(a.failed), 0) AS mean_cost,
	sum(a.handshake_sum) / nullif(sum(a.n) - sum(a.failed), 0) AS mean_handshake_ms,
	CAST(sum(a.retrans) AS REAL) / nullif(sum(a.segs_out), 0) AS retrans_rate
FROM aggregates a JOIN prefixes p ON p.id = a.prefix_id
GROUP BY p.cidr, a.param, a.value;

CREATE VIEW v_slots AS
SELECT p.cidr, s.slot, s.share, s.iw, s.rwnd, s.syn_rto_ms, s.base_rtt_us, s.epoch
FROM slots s JOIN prefixes p ON p.id = s.prefix_id;

CREATE VIEW v_decisions AS
SELECT d.ts_ns, p.cidr, d.param, d.old_value, d.new_value, d.reason, d.why
FROM decisions d JOIN prefixes p ON p.id = d.prefix_id;

CREATE VIEW v_aggregates AS
SELECT a.bucket_ns AS ts_ns, p.cidr, a.param, a.value, a.n AS samples, a.failed,
	a.cost_sum / nullif(a.n - a.failed, 0) AS mean_cost, a.retrans, a.segs_out, a.bytes
FROM aggregates a JOIN prefixes p ON p.id = a.prefix_id;
