#!/bin/bash
# test_db_guard: learnd against a careless operator and an unprivileged local
# user (issue 13).  One learnd (tick 200 ms, heartbeat TTL 2 s) with
# [prefix 127.0.0.0/8] iw = 37 in its own cgroup and namespace; a connection
# gets 37 while the heartbeat is fresh and the kernel's 10 when it is stale or
# learnd is paused.
#   - metrics_file in a world-writable (1777) directory: nobody plants a hard
#     link to a file of theirs, then a FIFO, at the old predictable temporary
#     name (learnd.prom.PID.tmp).  The linked file stays as it was (content and
#     mode), the FIFO is left alone, learnd does not block (IW 37 throughout, the
#     heartbeat fresh) and the metrics file keeps being written;
#   - another process holds the database's write lock for 12 s (sqlite3, BEGIN
#     EXCLUSIVE): the heartbeat's age stays below 1 s all along (sampled every
#     250 ms from the pinned ctl_map) and connections keep IW 37;
#   - learnctl pause while the lock is held: exit 1, saying the pause is in
#     force but not recorded; connections get the kernel's IW at once and still
#     after learnd's ticks, also after the lock is gone; resume: IW 37 again;
#   - after the lock, the ticks are written again and each record is counted
#     once (every prefix's aggregates add up to its conns_total; the stored
#     connections equal learnd's record count);
#   - a second learnd on the same database (its own pin_dir): exit 1 within
#     10 s naming the first one's pid; one program stays attached to the cgroup;
#   - a 10 MB configuration (comments) on SIGHUP: reloaded, recorded once, cut
#     at 64 KiB in the database;
#   - status with the pause in the map only (the database was locked): says so,
#     and that learnd keeps it, not "learnd syncs at its next tick";
#   - another writer inside its read-modify-write of the control record (the
#     flock on the pinned ctl_map held 1.2 s): learnd writes no heartbeat over
#     it, learnctl pause waits for it; afterwards the heartbeat goes on, the pause
#     is in force;
#   - another program's tables only in the -wal of a database (python3's sqlite3,
#     WAL mode, copied before any checkpoint): learnd and learnctl exit 2, the
#     files byte-identical, no -shm made;
#   - the -shm removed under learnd (stopped between two ticks), then made anew by
#     a reader: learnctl pin exits 1 saying its write would not reach learnd, no
#     pin written; learnd, continued, says so once and stops (exit 1);
#   - rm learnd.db* under a learnd: a second learnd on the path is refused (exit
#     1, naming the first), the first says so once and stops (exit 1, detached,
#     no file made again); started again, it makes a new database.
set -euo pipefail
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init db_guard
PIN2=$PIN-second
tb_need "$LEARND" "$LC"
command -v sqlite3 >/dev/null || tb_fail "no sqlite3"
id nobody >/dev/null 2>&1 || tb_fail "no user nobody"
NOGROUP=$(id -gn nobody)
as_nobody() { setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups "$@"; }
tb_on_exit 'rm -rf "$PIN2"'
PROM=$WORK/textfile
chmod 755 "$WORK"
mkdir "$PROM"
chmod 1777 "$PROM" # as node_exporter's textfile directory often is
tb_loopback 5313 learnd_dbguard_$$ dbg$$ 37 tick_ms=200 heartbeat_ttl_ms=2000 metrics_file="$PROM/learnd.prom"
tb_start_learnd "$WORK/learnd.conf" "$WORK/learnd.log"
tb_wait_prefix "$DB" 127.0.0.0/8
for _ in $(seq 20); do [ "$(tb_iw)" = 37 ] && break; sleep 0.1; done
tb_expect_iw "learnd running" 37

# heartbeat age in ms, from the pinned ctl_map (CLOCK_MONOTONIC, as BPF reads it)
hb_age_ms() {
	local hb now
	hb=$(bpftool -j map dump pinned "$PIN/ctl_map" | grep -o '"heartbeat_ns":[0-9]*' | cut -d: -f2)
	now=$(python3 -c 'import time; print(time.monotonic_ns())')
	echo $(((now - hb) / 1000000))
}
# sample it every 250 ms into FILE until STOP exists
sampler() {
	while [ ! -e "$2" ]; do hb_age_ms >>"$1"; sleep 0.25; done
}
max_of() { sort -n "$1" | tail -n 1; }

# ---- metrics_file against a local user ----
TMPNAME=$PROM/learnd.prom.$LEARND_PID.tmp
as_nobody sh -c 'echo "mine, not learnd'"'"'s" >"$1" && chmod 600 "$1" && ln "$1" "$2"' sh "$PROM/victim" "$TMPNAME"
cp "$PROM/victim" "$WORK/victim.orig"
sleep 1 # five ticks, five metrics writes
cmp -s "$PROM/victim" "$WORK/victim.orig" || tb_fail "learnd rewrote a file hard-linked at its temporary name"
[ "$(stat -c %a "$PROM/victim")" = 600 ] || tb_fail "learnd changed the mode of a hard-linked file: $(stat -c %a "$PROM/victim")"
echo "  ok: a hard link at learnd.prom.PID.tmp: the linked file left as it was"
rm -f "$TMPNAME"
as_nobody mkfifo "$TMPNAME"
: >"$WORK/ages.metrics"
sampler "$WORK/ages.metrics" "$WORK/stop.metrics" &
tb_track $!
sleep 3 # longer than the TTL: a learnd blocked in open() goes stale
touch "$WORK/stop.metrics"
[ -p "$TMPNAME" ] || tb_fail "the FIFO at learnd.prom.PID.tmp is gone"
kill -0 "$LEARND_PID" || tb_fail "learnd died"
age=$(max_of "$WORK/ages.metrics")
[ "$age" -lt 1000 ] || tb_fail "heartbeat went $age ms old with a FIFO at learnd.prom.PID.tmp"
tb_expect_iw "a FIFO at learnd.prom.PID.tmp" 37
[ -f "$PROM/learnd.prom" ] && [ ! -L "$PROM/learnd.prom" ] || tb_fail "$PROM/learnd.prom is not a regular file"
[ $(($(date +%s) - $(stat -c %Y "$PROM/learnd.prom"))) -le 1 ] || tb_fail "$PROM/learnd.prom not written in the last second"
grep -q '^learnd_heartbeat_timestamp_seconds ' "$PROM/learnd.prom" || tb_fail "learnd.prom lacks the heartbeat"
echo "  ok: a FIFO at learnd.prom.PID.tmp: left alone, heartbeat at most $age ms old, learnd.prom fresh"

# ---- the database locked for 12 s ----
{ echo 'BEGIN EXCLUSIVE;'; echo "SELECT 'locked';"; sleep 12; echo 'COMMIT;'; } | sqlite3 "$DB" >"$WORK/lock.out" 2>&1 &
LOCK_PID=$!
tb_track $LOCK_PID
for _ in $(seq 50); do grep -q locked "$WORK/lock.out" && break; sleep 0.1; done
grep -q locked "$WORK/lock.out" || tb_fail "sqlite3 did not take the lock: $(cat "$WORK/lock.out")"
: >"$WORK/ages.lock"
sampler "$WORK/ages.lock" "$WORK/stop.lock" &
tb_track $!
for i in 1 2 3; do
	sleep 0.7
	tb_expect_iw "database locked, ${i}th probe" 37
done
# learnctl pause: its database write waits for the lock and fails; the map part holds
rc=0
"${CTL[@]}" pause >"$WORK/pause.out" 2>"$WORK/pause.err" || rc=$?
[ $rc -eq 1 ] || tb_fail "pause with the database locked: exit $rc, want 1 ($(cat "$WORK/pause.err"))"
grep -q "paused all the same: ctl_map PAUSED set" "$WORK/pause.err" ||
	tb_fail "pause with the database locked does not say it is in force: $(cat "$WORK/pause.err")"
kill -0 $LOCK_PID 2>/dev/null || tb_fail "the lock ended before the pause was tried: the test proves nothing"
tb_expect_iw "paused, database locked" 10
sleep 0.6 # three ticks of learnd
tb_expect_iw "paused, after learnd's ticks" 10
wait $LOCK_PID || true
tb_untrack $LOCK_PID
touch "$WORK/stop.lock"
age=$(max_of "$WORK/ages.lock")
[ "$age" -lt 1000 ] || tb_fail "heartbeat went $age ms old while another process held the database's write lock"
echo "  ok: database locked 12 s: heartbeat at most $age ms old ($(wc -l <"$WORK/ages.lock") samples)"
sleep 1
tb_expect_iw "paused, after the lock is gone" 10
# status says what is in force: paused in the map alone, kept by learnd (not
# "learnd syncs at its next tick", which it never does for this pause)
"${CTL[@]}" status >"$WORK/status.txt" 2>&1 || true
grep -q "^control: *PAUSED" "$WORK/status.txt" && grep -q "note: paused in ctl_map only (database paused=0" "$WORK/status.txt" &&
	! grep -q "syncs at its next tick" "$WORK/status.txt" ||
	tb_fail "status with the pause in the map only: $(grep -E '^control:|note:' "$WORK/status.txt")"
echo "  ok: status, paused in the map only: $(grep -o 'note: .*' "$WORK/status.txt" | cut -c1-90)..."
"${CTL[@]}" resume >/dev/null || tb_fail "resume failed"
for _ in $(seq 20); do [ "$(tb_iw)" = 37 ] && break; sleep 0.1; done
tb_expect_iw "resumed" 37

# written again, each record once
sleep 0.5
q() { sqlite3 -readonly "file:$DB?mode=ro" "$1"; }
last=$(q "SELECT value FROM daemon WHERE key = 'last_tick_ns'")
[ $(($(date +%s%N) - last)) -lt 1000000000 ] || tb_fail "learnd has not written the database since the lock"
twice=$(q "SELECT count(*) FROM prefixes p WHERE p.conns_total != (SELECT coalesce(sum(n), 0) FROM aggregates a
	WHERE a.prefix_id = p.id AND a.param = 'rwnd')")
[ "$twice" = 0 ] || tb_fail "$twice prefixes whose aggregates do not add up to their connections"
stored=$(q "SELECT sum(conns_total) FROM prefixes WHERE origin != 'default'")
records=$(q "SELECT value FROM daemon WHERE key = 'records'")
[ "$stored" = "$records" ] && [ "$records" -gt 0 ] || tb_fail "$stored connections stored for $records records"
echo "  ok: after the lock: $records records, each stored once"

# ---- a second learnd on the same database ----
rc=0
timeout 10 "$LEARND" --config "$WORK/learnd.conf" --pin-dir "$PIN2" >"$WORK/second.log" 2>&1 || rc=$?
[ $rc -eq 1 ] || tb_fail "a second learnd on one database: exit $rc, want 1: $(cat "$WORK/second.log")"
grep -q "database $DB is in use by another learnd, pid $LEARND_PID" "$WORK/second.log" ||
	tb_fail "the second learnd does not name the first: $(cat "$WORK/second.log")"
n=$(bpftool cgroup show "$CG" | grep -c sock_ops || true)
[ "$n" = 1 ] || tb_fail "$n programs attached to $CG, want 1"
[ ! -e "$PIN2" ] || tb_fail "the second learnd made its pin directory"
echo "  ok: second learnd: $(grep -o 'in use by.*' "$WORK/second.log" | head -n 1)"
kill -0 "$LEARND_PID" || tb_fail "learnd died"

# ---- a 10 MB configuration: reloaded, but not copied whole into the database ----
rows=$(q "SELECT count(*) FROM config")
python3 -c 'import sys
with open(sys.argv[1], "a") as f:
    for i in range(65000):
        f.write("# %06d %s\n" % (i, "x" * 150))' "$WORK/learnd.conf"
size=$(stat -c %s "$WORK/learnd.conf")
kill -HUP "$LEARND_PID"
for _ in $(seq 50); do grep -q 'configuration reloaded' "$WORK/learnd.log" && break; sleep 0.1; done
grep -q 'configuration reloaded' "$WORK/learnd.log" || tb_fail "the 10 MB configuration was not reloaded"
sleep 0.5
[ "$(q "SELECT count(*) FROM config")" = $((rows + 1)) ] || tb_fail "the reload was not recorded once"
len=$(q "SELECT length(text) FROM config ORDER BY id DESC LIMIT 1")
[ "$len" -le 65536 ] || tb_fail "a $size-byte configuration was stored with $len bytes"
q "SELECT substr(text, -60) FROM config ORDER BY id DESC LIMIT 1" | grep -q 'learnd: cut here' ||
	tb_fail "the stored configuration does not say it was cut"
echo "  ok: a $size-byte configuration reloaded, $len bytes of it recorded"
tb_expect_iw "after the reload" 37

# ---- the control record: one read-modify-write at a time ----
# another writer inside its read-modify-write (holding the control lock, the
# flock on the pinned ctl_map that learnctl pause takes): learnd's heartbeat
# waits, it does not write the record over it; learnctl pause waits as well,
# and after the lock learnd keeps the pause it finds
hb() { bpftool -j map dump pinned "$PIN/ctl_map" | grep -o '"heartbeat_ns":[0-9]*' | cut -d: -f2; }
python3 - "$PIN/ctl_map" "$WORK/ctl.held" <<'PY' &
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(1.2)
PY
HOLDER=$!
tb_track $HOLDER
for _ in $(seq 50); do [ -e "$WORK/ctl.held" ] && break; sleep 0.05; done
[ -e "$WORK/ctl.held" ] || tb_fail "could not take the control lock"
h0=$(hb)
sleep 0.6 # three ticks
h1=$(hb)
[ "$h0" = "$h1" ] || tb_fail "learnd wrote the control record while another writer was inside its read-modify-write"
t0=$(date +%s%N)
"${CTL[@]}" pause >/dev/null 2>"$WORK/pause2.err" || tb_fail "pause after the control lock: $(cat "$WORK/pause2.err")"
waited=$((($(date +%s%N) - t0) / 1000000))
wait $HOLDER || true
tb_untrack $HOLDER
[ "$waited" -ge 300 ] || tb_fail "learnctl pause did not wait for the control lock (took $waited ms)"
sleep 0.5
[ "$(hb)" != "$h1" ] || tb_fail "learnd did not write its heartbeat again after the control lock"
tb_expect_iw "paused, after waiting for the control lock" 10
"${CTL[@]}" resume >/dev/null || tb_fail "resume failed"
for _ in $(seq 20); do [ "$(tb_iw)" = 37 ] && break; sleep 0.1; done
tb_expect_iw "resumed after the control lock" 37
echo "  ok: control lock held 1.2 s: no heartbeat written over it, learnctl pause waited $waited ms, then in force"

# ---- another program's tables in its -wal alone: refused by learnd and learnctl ----
# (WAL mode, no checkpoint: the files are copied while the writer has them open)
python3 - "$WORK/writer.db" "$WORK/walonly.db" <<'PY'
import shutil, sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA journal_mode = WAL"); c.execute("PRAGMA wal_autocheckpoint = 0")
c.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT)"); c.execute("INSERT INTO notes VALUES (1, 'x')")
for suffix in ("", "-wal"):
    shutil.copyfile(sys.argv[1] + suffix, sys.argv[2] + suffix)
c.close()
PY
[ "$(stat -c %s "$WORK/walonly.db-wal")" -gt 32 ] || tb_fail "the -wal of walonly.db holds no frames"
wsum() { md5sum "$WORK/walonly.db" "$WORK/walonly.db-wal"; }
before=$(wsum)
sed "s|^db = .*|db = $WORK/walonly.db|" "$WORK/learnd.conf" >"$WORK/walonly.conf"
rc=0
timeout 10 "$LEARND" --config "$WORK/walonly.conf" --pin-dir "$PIN2" >"$WORK/walonly.log" 2>&1 || rc=$?
[ $rc -eq 2 ] && grep -q "not a learnd database (another program's: it has tables, in its -wal" "$WORK/walonly.log" ||
	tb_fail "learnd on another program's WAL-only tables: exit $rc: $(cat "$WORK/walonly.log")"
for cmd in report "pin 127.0.0.0/8 iw=37" status; do
	rc=0
	# shellcheck disable=SC2086 # cmd is split on purpose
	"$LC" -c "$WORK/walonly.conf" --pin-dir "$PIN2" $cmd >/dev/null 2>"$WORK/walonly.err" || rc=$?
	[ $rc -eq 2 ] && grep -q "in its -wal" "$WORK/walonly.err" ||
		tb_fail "learnctl $cmd on another program's WAL-only tables: exit $rc: $(cat "$WORK/walonly.err")"
done
[ "$(wsum)" = "$before" ] && [ ! -e "$WORK/walonly.db-shm" ] ||
	tb_fail "another program's WAL-only database was changed: $(ls -la "$WORK"/walonly.db*)"
echo "  ok: another program's tables in its -wal only: learnd and learnctl exit 2, files byte-identical, no -shm"

# continued_exits WANT WHAT: the stopped learnd continued; it must stop by itself
# within 5 s with exit status WANT
continued_exits() {
	local rc=0
	kill -CONT "$LEARND_PID"
	for _ in $(seq 50); do kill -0 "$LEARND_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$LEARND_PID" 2>/dev/null || rc=$?
	tb_untrack "$LEARND_PID"
	[ $rc -eq "$1" ] || tb_fail "$2: exit $rc, want $1 (it must stop)"
}

# ---- the -shm removed under learnd: learnctl refuses to write what learnd cannot see ----
pins() { sqlite3 -readonly "file:$DB?mode=ro" "SELECT count(*) FROM pins"; }
kill -STOP "$LEARND_PID" # learnd between two ticks: learnctl must tell by itself
rm -f "$DB-shm"
for how in removed replaced; do
	[ $how = removed ] || sqlite3 "$DB" "SELECT count(*) FROM prefixes" >/dev/null # a new -shm
	rc=0
	"${CTL[@]}" pin 127.0.0.0/8 iw=37 >"$WORK/pin.out" 2>"$WORK/pin.err" || rc=$?
	[ $rc -eq 1 ] && grep -q "database $DB: its -shm .*while learnd (pid $LEARND_PID) has it open: a write now would not reach learnd" \
		"$WORK/pin.err" && ! grep -q 'applies it' "$WORK/pin.out" ||
		tb_fail "learnctl pin, -shm $how under learnd: exit $rc: $(cat "$WORK/pin.out" "$WORK/pin.err")"
done
[ "$(pins)" = 0 ] || tb_fail "a pin was written with learnd's -shm replaced"
echo "  ok: -shm removed, then replaced: learnctl pin exit 1: $(cat "$WORK/pin.err")"
continued_exits 1 "learnd with its -shm replaced"
[ "$(grep -c "its -shm was replaced under learnd" "$WORK/learnd.log")" = 1 ] ||
	tb_fail "learnd did not say once that its -shm was replaced: $(grep -i shm "$WORK/learnd.log")"

# ---- rm learnd.db* under a running learnd: noticed, no second learnd meanwhile ----
tb_start_learnd "$WORK/learnd.conf" "$WORK/learnd2.log"
kill -STOP "$LEARND_PID"
rm -f "$DB" "$DB-wal" "$DB-shm"
rc=0
timeout 10 "$LEARND" --config "$WORK/learnd.conf" --pin-dir "$PIN2" >"$WORK/third.log" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "database $DB was removed under a learnd that still runs, pid $LEARND_PID" "$WORK/third.log" ||
	tb_fail "a second learnd on the removed database of a running one: exit $rc: $(cat "$WORK/third.log")"
[ ! -e "$DB" ] && [ ! -e "$PIN2" ] || tb_fail "the refused second learnd left $DB or $PIN2 behind"
continued_exits 1 "learnd with its database removed"
[ "$(grep -c "the file was removed under learnd" "$WORK/learnd2.log")" = 1 ] ||
	tb_fail "learnd did not say once that its database was removed: $(tail -n 5 "$WORK/learnd2.log")"
[ ! -e "$DB" ] || tb_fail "the stopped learnd made $DB again"
n=$(bpftool cgroup show "$CG" | grep -c sock_ops || true)
[ "$n" = 0 ] || tb_fail "$n programs still attached to $CG after learnd stopped"
echo "  ok: rm learnd.db*: a second learnd refused ($(grep -o 'removed under a learnd.*' "$WORK/third.log")), the first stopped: $(grep -o 'the file was removed under learnd.*' "$WORK/learnd2.log" | cut -c1-80)..."
tb_start_learnd "$WORK/learnd.conf" "$WORK/learnd3.log"
tb_wait_prefix "$DB" 127.0.0.0/8
echo "  ok: learnd started again makes a new database"
echo "PASS: $NAME"
