#!/bin/bash
# test_learnd_config: bad configuration and arguments, every key wrong in turn.
# Each must exit 2 with one message naming file, line and value, before learnd
# touches BPF, cgroups or the database (so this runs without root).
set -euo pipefail
LEARND=${LEARND_BUILD:?}/learner/learnd
WORK=$(mktemp -d /tmp/test_learnd_config.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

HEAD='[learnd]
cgroup = /sys/fs/cgroup/unified/never-created
db = '"$WORK"'/never.db
pin_dir = /sys/fs/bpf/never-created'

# expect_bad LINE EXPECTED-TEXT BODY: the body follows HEAD (4 lines), so the bad
# line number is known
expect_bad() {
	local line=$1 want=$2 body=$3 rc=0 out
	printf '%s\n%s\n' "$HEAD" "$body" >"$WORK/c.conf"
	out=$("$LEARND" --config "$WORK/c.conf" 2>&1) || rc=$?
	[ $rc -eq 2 ] || fail "[$body]: exit $rc, want 2 ($out)"
	[ "$(echo "$out" | grep -c .)" -eq 1 ] || fail "[$body]: not one line: $out"
	echo "$out" | grep -qF "c.conf:$line: " || [ "$line" = - ] || fail "[$body]: no 'c.conf:$line:' in: $out"
	echo "$out" | grep -qF -- "$want" || fail "[$body]: '$want' not in: $out"
	[ ! -e "$WORK/never.db" ] || fail "[$body]: the database was created"
}

expect_bad 5 "unknown key 'colour'" 'colour = blue'
expect_bad 5 "sample_rate = abc" 'sample_rate = abc'
expect_bad 5 "sample_rate = 0" 'sample_rate = 0'
expect_bad 5 "tick_ms = 99999999999" 'tick_ms = 99999999999'
expect_bad 5 "ringbuf_kb = 1000: must be a power of two" 'ringbuf_kb = 1000'
expect_bad 5 "auto_prefix_v4 = 33" 'auto_prefix_v4 = 33'
expect_bad 5 "observe_only = maybe" 'observe_only = maybe'
# (db is in HEAD already: a second one is refused as a repeat)
printf '[learnd]\ncgroup = /sys/fs/cgroup/unified/never-created\ndb = relative.db\n' >"$WORK/rel.conf"
rc=0; out=$("$LEARND" --config "$WORK/rel.conf" 2>&1) || rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -qF "rel.conf:3: db = relative.db: expected an absolute path" || fail "relative db: exit $rc: $out"
expect_bad 5 "metrics_file = learnd.prom: expected an absolute path" 'metrics_file = learnd.prom'
expect_bad 6 "iw = 128..4: MIN is above MAX" '[defaults]
iw = 128..4'
expect_bad 6 "iw = 0" '[defaults]
iw = 0'
expect_bad 6 "rwnd = 2000: outside 1..1024" '[defaults]
rwnd = 2000'
expect_bad 6 "syn_rto_ms = 70000" '[defaults]
syn_rto_ms = 70000'
expect_bad 6 "base_rtt_us = -5" '[defaults]
base_rtt_us = -5'
expect_bad 6 "iw = 4..x" '[defaults]
iw = 4..x'
# [fleet]: libpq parses conninfo; a password in it is refused (passfile only)
expect_bad 6 "conninfo: holds a password" '[fleet]
conninfo = host=/tmp dbname=fleet password=secret'
expect_bad 6 "conninfo: holds a password" '[fleet]
conninfo = postgresql://learnd:secret@db.example/fleet'
expect_bad 6 "conninfo: missing" '[fleet]
conninfo = host=/tmp dbname'
expect_bad 5 "[fleet] needs conninfo" '[fleet]
host = a'
expect_bad 6 "interval_s = 0: expected a whole number from 1 to 3600" '[fleet]
interval_s = 0'
expect_bad 6 "host = a b" '[fleet]
host = a b'
expect_bad 6 "unknown key 'colour' in [fleet]" '[fleet]
colour = blue'
expect_bad 7 "[fleet] given twice" '[fleet]
conninfo = dbname=fleet
[fleet]'
expect_bad 5 "10.1.2.3/24" '[prefix 10.1.2.3/24]'
expect_bad 5 "did you mean 10.1.2.0/24" '[prefix 10.1.2.3/24]'
expect_bad 5 "300.1.2.0/24" '[prefix 300.1.2.0/24]'
expect_bad 5 "fd00::/129" '[prefix fd00::/129]'
expect_bad 7 "10.1.0.0/16" '[prefix 10.1.0.0/16]
iw = 10
[prefix 10.1.0.0/16]'
expect_bad 6 "unknown key 'cwnd'" '[prefix 10.1.0.0/16]
cwnd = 10'
expect_bad 5 "unknown section [lernd]" '[lernd]'
expect_bad - "tick_ms = 6000 must be at most half of heartbeat_ttl_ms = 10000" 'tick_ms = 6000'
# found by fuzz_config (tests/fuzz/crashes): a long comment's tail is no key; the
# same prefix twice in a row is a duplicate; inih cuts long section names; the
# first error is reported, with its own line
expect_bad 5 "line longer than" "# $(printf 'x%.0s' $(seq 190)) sample_rate = 1000"
expect_bad 6 "duplicate prefix (first at line 5)" '[prefix 10.0.0.0/8]
[prefix 10.0.0.0/8]
iw = 10'
expect_bad 5 "/129" '[prefix 0000:0000:0000:0000:0000:0000:0000:0000/129]'
expect_bad 5 "unknown key 'o'" 'o = 1
[defaults]
iw = r'


# inih continues a value on an indented line and hands the key over again, and
# takes a repeated key or section with the last one winning: each of these once
# retargeted the cgroup (to the v2 mount: the whole host) or metrics_file.  The
# values here name nothing that exists, so that a learnd which accepts them
# still stops at the cgroup check: a test never names the mount root.
expect_bad 5 "indented line after a key: continuation lines are not supported" '  /sys/fs/bpf/never-created-2'
expect_bad 6 "continuation lines are not supported" 'metrics_file = /tmp/learnd.prom
	/etc/passwd'
expect_bad 7 "continuation lines are not supported" '[defaults]
iw = 10
  [prefix 10.0.0.0/8]'
expect_bad 5 "'cgroup' given twice in [learnd] (first at line 2)" 'cgroup = /sys/fs/cgroup/unified/never-created-2'
expect_bad 7 "[learnd] given twice (first at line 1)" '[defaults]
iw = 10
[learnd]'
expect_bad 8 "[defaults] given twice (first at line 5)" '[defaults]
iw = 10
[prefix 10.0.0.0/8]
[defaults]'
expect_bad 7 "'iw' given twice in [defaults] (first at line 6)" '[defaults]
iw = 4..64
iw = 10'
expect_bad 7 "'rwnd' given twice in [prefix 10.0.0.0/8] (first at line 6)" '[prefix 10.0.0.0/8]
rwnd = 10
rwnd = 20'
# the catch-all is the default prefix: a [prefix ::/0] made two rows of one cidr
# and failed every tick's transaction
expect_bad 5 "[prefix ::/0]: the catch-all prefix is [defaults]" '[prefix ::/0]
iw = 10'
# what stays accepted: indentation before the first key of a section, indented
# comments, blank lines (the parse passes; the cgroup is what stops learnd)
printf '%s\n%s\n' "$HEAD" '[defaults]
  iw = 4..64
	; an indented comment
  # another

rwnd = 10' >"$WORK/ok.conf"
rc=0; out=$("$LEARND" --config "$WORK/ok.conf" 2>&1) || rc=$?
echo "$out" | grep -q "never-created: No such file" || fail "indented first key or comment refused: $out"


# the database is checked before anything is written to it: another program's
# SQLite file is refused (exit 2) and left byte for byte as it was, without a
# -wal or -shm next to it.  The cgroup is a plain directory, not a cgroup: a
# learnd that took the file would stop there, attaching nothing.
mkdir "$WORK/cg"
foreign() { # foreign NAME SQL: refused, unchanged
	local db=$WORK/$1 rc=0 out
	sqlite3 "$db" "$2" >/dev/null
	cp "$db" "$db.orig"
	out=$("$LEARND" --cgroup "$WORK/cg" --db "$db" --pin-dir /sys/fs/bpf/never-created 2>&1) || rc=$?
	[ $rc -eq 2 ] || fail "$1: exit $rc, want 2 ($out)"
	echo "$out" | grep -qF "$db: not a learnd database" || fail "$1: no 'not a learnd database' in: $out"
	cmp -s "$db" "$db.orig" || fail "$1: the file was changed"
	[ ! -e "$db-wal" ] && [ ! -e "$db-shm" ] || fail "$1: -wal or -shm left behind"
}
foreign notes0.db 'CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes VALUES (1, "x")'
foreign notes1.db 'PRAGMA user_version = 1; CREATE TABLE notes(id INTEGER PRIMARY KEY)'
foreign prefixes.db 'CREATE TABLE prefixes(id INTEGER PRIMARY KEY, name TEXT)'
foreign wal.db 'PRAGMA journal_mode = WAL; CREATE TABLE notes(id INTEGER PRIMARY KEY)'
foreign app.db 'PRAGMA application_id = 42; CREATE TABLE t(x)'
# a dangling symbolic link as db: named as such (not "File exists"), nothing made
ln -s "$WORK/nowhere.db" "$WORK/link.db"
rc=0; out=$("$LEARND" --cgroup "$WORK/cg" --db "$WORK/link.db" --pin-dir /sys/fs/bpf/never-created 2>&1) || rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -qF "a symbolic link to $WORK/nowhere.db, which does not exist" ||
	fail "dangling symlink: exit $rc: $out"
[ ! -e "$WORK/nowhere.db" ] || fail "dangling symlink: its target was created"


# command line
rc=0; out=$("$LEARND" --frobnicate 2>&1) || rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "unknown option '--frobnicate'" || fail "unknown option: exit $rc: $out"
rc=0; out=$("$LEARND" --config "$WORK/missing.conf" 2>&1) || rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "missing.conf: cannot read" || fail "missing config: exit $rc: $out"
rc=0; out=$("$LEARND" --config 2>&1) || rc=$?
[ $rc -eq 2 ] || fail "--config without a file: exit $rc"
printf '[learnd]\ndb = %s/x.db\n' "$WORK" >"$WORK/nocg.conf"
rc=0; out=$("$LEARND" --config "$WORK/nocg.conf" 2>&1) || rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "no cgroup to attach to" || fail "no cgroup: exit $rc: $out"
out=$("$LEARND" --help) && echo "$out" | grep -q '^Usage: learnd' || fail "--help"
for opt in --config --cgroup --db --pin-dir --observe-only --verbose --version --help; do
	echo "$out" | grep -q -- "$opt" || fail "--help does not mention $opt"
done
"$LEARND" --version | grep -q '^learnd [0-9]' || fail "--version"

[ $fails -eq 0 ] && echo "PASS: test_learnd_config" || { echo "$fails failures" >&2; exit 1; }
