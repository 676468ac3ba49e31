#!/bin/bash
# test_learnd_cgroup_tick: learnd's main loop against its cgroup and its tick.
#   - tick_ms below the ring buffer poll's 50 ms is honoured: tick_ms 20 gives
#     about 50 ticks a second (the daemon table's tick count), not 20;
#   - the cgroup removed under a running learnd: it says so once, detaches,
#     removes its pins and exits 1; the same when the directory is replaced by a
#     new one of the same name (the link is on the old one).
# Own cgroup under the cgroup v2 mount, own pin directory and network namespace
# (no traffic is needed).
set -euo pipefail
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init learnd_cgroup_tick
tb_need "$LEARND"
tb_sandbox learnd_cgtick_$$ lcgt$$
DB=$WORK/learnd.db
tb_conf "$WORK/learnd.conf" "$CG" "$DB" tick_ms=20 heartbeat_ttl_ms=1000 </dev/null
ticks() { sqlite3 -cmd ".timeout 2000" "file:$DB?mode=ro" "SELECT value FROM daemon WHERE key = 'ticks'"; }

tb_start_learnd "$WORK/learnd.conf" "$WORK/learnd.log"
t0=$(date +%s%N) n0=$(ticks)
sleep 3
n1=$(ticks) t1=$(date +%s%N)
rate=$(awk -v n="$((n1 - n0))" -v t="$((t1 - t0))" 'BEGIN { printf "%.1f", n * 1e9 / t }')
# 50 a second when every tick is on time; 20 when each waits for a 50 ms poll
tb_check "tick_ms 20: $rate ticks a second (50 expected, at least 35)" 'r >= 35 && r <= 55' -v r="$rate"

# exit_of WHAT: wait (3 s) for learnd to exit by itself; its status in LEARND_RC
exit_of() {
	for _ in $(seq 60); do kill -0 "$LEARND_PID" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$LEARND_PID" 2>/dev/null && tb_fail "$1: learnd still running 3 s later"
	LEARND_RC=0
	wait "$LEARND_PID" || LEARND_RC=$?
	tb_untrack "$LEARND_PID"
}
rmdir "$CG"
exit_of "cgroup removed"
[ "$LEARND_RC" -eq 1 ] || tb_fail "cgroup removed: exit $LEARND_RC, want 1"
[ "$(grep -c "cgroup $CG was removed while learnd ran" "$WORK/learnd.log")" -eq 1 ] ||
	tb_fail "cgroup removed: not said once: $(cat "$WORK/learnd.log")"
[ ! -e "$PIN" ] || tb_fail "cgroup removed: pins left in $PIN: $(ls "$PIN")"
echo "  ok: cgroup removed: logged once, exit 1, pins removed"

mkdir "$CG"
tb_start_learnd "$WORK/learnd.conf" "$WORK/learnd.2.log"
rmdir "$CG"
mkdir "$CG"
exit_of "cgroup replaced"
[ "$LEARND_RC" -eq 1 ] || tb_fail "cgroup replaced: exit $LEARND_RC, want 1"
grep -Eq "cgroup $CG was (removed|replaced by another directory) while learnd ran" "$WORK/learnd.2.log" ||
	tb_fail "cgroup replaced: not said: $(cat "$WORK/learnd.2.log")"
[ ! -e "$PIN" ] || tb_fail "cgroup replaced: pins left in $PIN"
echo "  ok: cgroup replaced by a new directory: exit 1, pins removed"
echo "PASS: $NAME"
