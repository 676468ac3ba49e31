#!/bin/bash
# test_learnctl_dataplane: learnctl pause/resume change what new connections
# get, with learnd running and with learnd dead (kill -9: pins and link stay,
# within the heartbeat TTL).  Pins: test_learnctl_pin_dataplane.sh.
#
# Own cgroup under the cgroup v2 mount, own pin dir, own network namespace; the
# traffic is loopback inside that namespace.  What a connection got is read from
# the client's tcp_info right after connect: snd_cwnd = the IW (kernel default 10).
# Config: 127.0.0.0/8 has iw fixed at 20.
set -euo pipefail
NAME=learnctl_dataplane
SRC=${LEARND_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LEARND_BUILD=${LEARND_BUILD:-$SRC/build}
LEARND=$LEARND_BUILD/learner/learnd
LEARNCTL=$LEARND_BUILD/learner/learnctl
MKDB=$LEARND_BUILD/tests/unit/learnctl_mkdb
PROBE=$SRC/tests/testbed/cwnd_probe.py
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
CG=$CG2/learnctl_test_$$
PIN=/sys/fs/bpf/learnctl_test_$$   # bpffs names must not contain dots
NS=lctl$$
WORK=$(mktemp -d /tmp/test_learnctl_dp.XXXXXX)
PORT=5301
LEARND_PID="" SRV_PID=""

cleanup() {
	local rc=$?
	trap - EXIT
	for pid in $SRV_PID $LEARND_PID; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	# processes we moved into the cgroup have exited (each probe is one process)
	rm -f "$PIN"/* 2>/dev/null || true
	rmdir "$PIN" 2>/dev/null || true
	rmdir "$CG" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	[ $rc -eq 0 ] || { echo "--- learnd log:"; tail -n 20 "$WORK/learnd.log" 2>/dev/null; } >&2
	rm -rf "$WORK"
	[ $rc -eq 0 ] || echo "FAIL: $NAME (status $rc)" >&2
	exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $NAME: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root"
[ -n "$CG2" ] || fail "no cgroup v2 mount"
for b in "$LEARND" "$LEARNCTL" "$MKDB"; do [ -x "$b" ] || fail "not built: $b"; done

mkdir "$CG"
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -q -w net.ipv4.tcp_no_metrics_save=1

cat >"$WORK/learnd.conf" <<CONF
[learnd]
cgroup = $CG
db = $WORK/learnd.db
pin_dir = $PIN
tick_ms = 100
heartbeat_ttl_ms = 60000

[prefix 127.0.0.0/8]
iw = 20
CONF
# The database learnd keeps (made by the store's own code, as learnd does).
"$MKDB" "$WORK/learnd.db" 0 >/dev/null 2>"$WORK/mkdb.err" || fail "learnctl_mkdb: $(cat "$WORK/mkdb.err")"
CTL=("$LEARNCTL" -c "$WORK/learnd.conf")

# a listener in the namespace (not in the cgroup: only the client side is probed)
ip netns exec "$NS" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
while True:
    c, _ = s.accept(); c.close()
' $PORT &
SRV_PID=$!

# cwnd of 3 new connections from a process inside the cgroup; all must agree
probe() {
	local out
	# join the cgroup first: `ip netns exec` mounts its own /sys, without the cgroup tree
	out=$(sh -c 'echo $$ > "$1/cgroup.procs" && exec ip netns exec "$2" python3 "$3" "$4" 3' sh "$CG" "$NS" "$PROBE" $PORT) ||
		fail "probe failed"
	set -- $out
	[ "$1" = "$2" ] && [ "$2" = "$3" ] || fail "connections disagree: $out"
	echo "$1"
}
expect() { # expect WHAT CWND
	local got
	got=$(probe)
	[ "$got" = "$2" ] || fail "$1: new connections got IW $got, want $2"
	echo "  ok: $1: IW $got"
}

for _ in $(seq 50); do ip netns exec "$NS" ss -Hltn "sport = :$PORT" | grep -q . && break; sleep 0.1; done
expect "no learnd" 10

"$LEARND" -c "$WORK/learnd.conf" -v >"$WORK/learnd.log" 2>&1 &
LEARND_PID=$!
for _ in $(seq 100); do grep -q 'attached to' "$WORK/learnd.log" && break; sleep 0.05; done
grep -q 'attached to' "$WORK/learnd.log" || fail "learnd did not attach"
expect "learnd running, config iw = 20" 20

"${CTL[@]}" pause >/dev/null
"${CTL[@]}" status | grep -q 'PAUSED' || fail "status does not show PAUSED"
expect "paused with learnd running" 10
sleep 0.3 # learnd ticks (100 ms) must keep the pause
expect "still paused after learnd's ticks" 10
"${CTL[@]}" resume >/dev/null
expect "resumed with learnd running" 20

kill -9 "$LEARND_PID"; wait "$LEARND_PID" 2>/dev/null || true; LEARND_PID=""
[ -e "$PIN/ctl_map" ] || fail "pins gone after kill -9"
expect "learnd dead, within the TTL: last values stay" 20
"${CTL[@]}" pause >/dev/null
expect "paused with learnd dead" 10
[ "$(sqlite3 "$WORK/learnd.db" "SELECT value FROM control WHERE key = 'paused'")" = 1 ] || fail "control paused != 1"
"${CTL[@]}" resume >/dev/null
expect "resumed with learnd dead" 20
[ "$(sqlite3 "$WORK/learnd.db" "SELECT count(*) FROM operator_log WHERE action IN ('pause', 'resume')")" = 4 ] ||
	fail "operator_log does not hold the 4 pause/resume actions"
echo "PASS: $NAME"
