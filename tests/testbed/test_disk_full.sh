#!/bin/bash
# test_disk_full: learnd's database on a 1 MiB tmpfs that fills up under traffic.
#   - while the disk is full the data plane goes on: the heartbeat stays fresh
#     and new connections still get the configured IW 37 (50 KB in ~2 RTT on a
#     40 ms path, against ~4 with the kernel's 10);
#   - the failure is logged once (learnd logs it at most once a minute), not
#     once per 200 ms tick;
#   - `learnctl status` (text and --json) says the database is stale while the
#     heartbeat is fresh;
#   - when space returns learnd writes again (logged once), and no connection
#     is lost from the history: the aggregates' connection count equals learnd's
#     record count, which equals the flows the client ran;
#   - a full disk at start (the database there, or not created yet): exit 1
#     naming the full disk (not "corrupt", exit 2, which systemd does not
#     restart), nothing attached, the database unchanged;
#   - a read-only database directory (the tmpfs remounted ro): learnd refuses to
#     start with one line naming the cause, exit 1, attaches nothing and leaves
#     the file as it was; the same for a database not created yet.
set -euo pipefail
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init disk_full
export LD_TOPO=tdf$$
MNT=$WORK/db
PORT=5208
TTL_MS=2000
tb_need "$FG" "$LEARND" "$LC" "$LEARND_BUILD/tools/pathemu"

mkdir "$MNT"
mount -t tmpfs -o size=1m,mode=0700 "ldtest$$" "$MNT"
tb_on_exit 'umount "$MNT" || umount -l "$MNT" || echo "cleanup: cannot unmount $MNT" >&2'

printf 'fast 40 100 1000 0 0\n' >"$WORK/t.paths"
tb_topo_up "$WORK/t.paths" rmem

DB=$MNT/learnd.db
tb_conf "$WORK/learnd.conf" "$TOPO_CGROUP" "$DB" sample_rate=1 tick_ms=200 heartbeat_ttl_ms=$TTL_MS <<EOF
[prefix $TOPO_PREFIX4_fast]
iw = 37
EOF

tb_start_learnd "$WORK/learnd.conf" "$WORK/learnd.log"
tb_start_server $PORT --congestion cubic

q() { sqlite3 -readonly "file:$DB?mode=ro" "$1"; }
now_us() { echo $(($(date +%s%N) / 1000)); }
# median FCT (ms) of the flows started in [from_us, to_us)
median_fct() {
	awk -F, -v a="$1" -v b="$2" 'NR > 1 && $6 == 1 && $9 >= a && $9 < b { print $4 }' "$WORK/flows.csv" | sort -n |
		awk '{ f[NR] = $1 } END { if (NR) printf "%d %d\n", f[int((NR + 1) / 2)] / 1000, NR; else print "-1 0" }'
}

# traffic all along: 50 KB answers, two at a time
ip netns exec "$TOPO_NS_fast" "$FG" client --server "$TOPO_SRV4" --port $PORT --sizes 50k \
	--duration 600 --concurrency 2 --timeout 10 --out "$WORK/flows.csv" 2>/dev/null &
TRAFFIC_PID=$!
tb_track $TRAFFIC_PID
sleep 2
n0=$(q "SELECT value FROM daemon WHERE key = 'records'")
[ "${n0:-0}" -gt 0 ] || tb_fail "no records in the database before the disk filled"

# fill the disk, while learnd writes
t_full=$(now_us)
dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null || true
[ "$(df --output=avail "$MNT" | tail -n 1)" -eq 0 ] || tb_fail "$MNT is not full: $(df -h "$MNT")"
for _ in $(seq 50); do grep -q 'history not written' "$WORK/learnd.log" && break; sleep 0.1; done
grep -q 'history not written' "$WORK/learnd.log" || tb_fail "nothing logged with the disk full"
sleep 6 # 30 ticks that cannot be written
kill -0 "$LEARND_PID" || tb_fail "learnd died with the disk full"
"$LC" -c "$WORK/learnd.conf" status >"$WORK/status.txt" 2>&1 || tb_fail "learnctl status failed: $(cat "$WORK/status.txt")"
"$LC" -c "$WORK/learnd.conf" --json status >"$WORK/status.json" 2>&1 || tb_fail "learnctl --json status failed"
t_back=$(now_us)
full_errs=$(grep -c 'history not written' "$WORK/learnd.log" || true)
grep -q '^learnd: *alive' "$WORK/status.txt" || tb_fail "heartbeat not fresh with the disk full: $(head -n 1 "$WORK/status.txt")"
grep -q 'STALE: database not written for' "$WORK/status.txt" ||
	tb_fail "learnctl status does not report the database failure: $(cat "$WORK/status.txt")"
grep -q '"stale":true' "$WORK/status.json" || tb_fail "learnctl --json status: database not stale: $(cat "$WORK/status.json")"
echo "disk full: $full_errs error line(s) in 6 s of 200 ms ticks; status: $(grep STALE "$WORK/status.txt" | sed 's/^ *//')"
[ "$full_errs" -eq 1 ] || tb_fail "the failure was logged $full_errs times, want once"
read -r full_ms full_n < <(median_fct "$t_full" "$t_back")
[ "$full_n" -ge 5 ] || tb_fail "only $full_n flows completed while the disk was full"
[ "$full_ms" -lt 120 ] || tb_fail "disk full: median FCT $full_ms ms over $full_n flows, IW 37 (~80 ms) expected"
echo "disk full: $full_n flows, median FCT $full_ms ms (IW 37 still applied)"

# space again
rm -f "$MNT/filler"
for _ in $(seq 50); do grep -q 'writing again' "$WORK/learnd.log" && break; sleep 0.1; done
grep -q 'database: writing again' "$WORK/learnd.log" || tb_fail "no 'writing again' after space returned"
sleep 1
"$LC" -c "$WORK/learnd.conf" --json status >"$WORK/status.json" 2>&1 || tb_fail "learnctl --json status failed"
grep -q '"stale":false' "$WORK/status.json" || tb_fail "database still stale after space returned"
errs=$(q "SELECT value FROM daemon WHERE key = 'store_errors'")
[ "$errs" -ge 20 ] || tb_fail "store_errors $errs in the database, want about 30"

# stop the traffic; every connection must be in the aggregates
kill -TERM "$TRAFFIC_PID"
wait "$TRAFFIC_PID" || true
tb_untrack "$TRAFFIC_PID"
sleep 1.5
kill -STOP "$LEARND_PID" # a still picture
flows=$(tail -n +2 "$WORK/flows.csv" | wc -l)
recs=$(q "SELECT value FROM daemon WHERE key = 'records'")
agg=$(q "SELECT coalesce(sum(n), 0) FROM aggregates WHERE param = 'iw'")
agg37=$(q "SELECT coalesce(sum(n), 0) FROM aggregates WHERE param = 'iw' AND value = 37")
kill -CONT "$LEARND_PID"
echo "after recovery: $flows flows, $recs records, $agg connections in the aggregates ($agg37 at iw 37), $errs failed ticks"
[ "$agg" -eq "$recs" ] || tb_fail "aggregates hold $agg connections, learnd consumed $recs records: failed ticks lost"
# (a flow interrupted before the server accepted it has a row but no record)
[ "$recs" -le "$flows" ] && [ "$recs" -ge $((flows - 2)) ] || tb_fail "$recs records for $flows flows"
[ "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok ] || tb_fail "integrity_check failed after the full disk"

# clean stop, then a full disk at start: a runtime condition (exit 1, so that
# systemd restarts it), named as such, not "corrupt" (exit 2, no restart)
tb_stop_learnd TERM
[ $LEARND_RC -eq 0 ] || tb_fail "learnd exited $LEARND_RC on SIGTERM"
sum=$(md5sum <"$DB")
dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null || true
[ "$(df --output=avail "$MNT" | tail -n 1)" -eq 0 ] || tb_fail "$MNT is not full: $(df -h "$MNT")"
for db in "$DB" "$MNT/new.db"; do
	rc=0
	timeout 10 "$LEARND" --config "$WORK/learnd.conf" --db "$db" >"$WORK/full.log" 2>&1 || rc=$?
	[ $rc -eq 1 ] || tb_fail "full disk at start, $db: learnd exit $rc, want 1: $(cat "$WORK/full.log")"
	grep -q "database $db: the disk is full" "$WORK/full.log" || tb_fail "full disk at start, $db: unclear: $(cat "$WORK/full.log")"
	! grep -q "corrupt" "$WORK/full.log" || tb_fail "full disk at start, $db: called corrupt: $(cat "$WORK/full.log")"
	[ ! -e "$PIN" ] || tb_fail "full disk at start, $db: pins made under $PIN"
	! bpftool cgroup show "$TOPO_CGROUP" | grep -q sock_ops || tb_fail "full disk at start, $db: program attached"
done
echo "full disk at start: $(cat "$WORK/full.log")"
[ "$(md5sum <"$DB")" = "$sum" ] || tb_fail "full disk at start: the database changed"
rm -f "$MNT/filler" "$MNT/new.db" "$DB-wal" "$DB-shm"

# a read-only directory: refused at start
sum=$(md5sum <"$DB")
mount -o remount,ro "$MNT"
for db in "$DB" "$MNT/new.db"; do
	rc=0
	timeout 10 "$LEARND" --config "$WORK/learnd.conf" --db "$db" >"$WORK/ro.log" 2>&1 || rc=$?
	[ $rc -eq 1 ] || tb_fail "read-only $db: learnd exit $rc, want 1: $(cat "$WORK/ro.log")"
	[ "$(wc -l <"$WORK/ro.log")" -eq 1 ] || tb_fail "read-only $db: more than one line: $(cat "$WORK/ro.log")"
	grep -q "database $db: Read-only file system" "$WORK/ro.log" || tb_fail "read-only $db: unclear: $(cat "$WORK/ro.log")"
	[ ! -e "$PIN" ] || tb_fail "read-only $db: pins made under $PIN"
	! bpftool cgroup show "$TOPO_CGROUP" | grep -q sock_ops || tb_fail "read-only $db: program attached"
done
[ "$(md5sum <"$DB")" = "$sum" ] || tb_fail "the database changed"
echo "read-only: $(cat "$WORK/ro.log")"
echo "PASS: $NAME"
