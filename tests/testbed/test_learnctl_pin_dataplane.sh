#!/bin/bash
# test_learnctl_pin_dataplane: learnctl pin / unpin change what new connections
# get, through learnd (which reads the pins table every tick and applies them):
# pin iw=30, re-pin iw=12, unpin (back to what learnd had chosen).
#
# Own cgroup under the cgroup v2 mount, own pin dir, own network namespace; the
# traffic is loopback inside that namespace.  What a connection got is read from
# the client's tcp_info right after connect: snd_cwnd = the IW (kernel default 10).
# Config: 127.0.0.0/8 may learn iw in 4..64; nothing is learned without traffic
# to compare, so learnd keeps its first choice until the pin.
set -euo pipefail
NAME=learnctl_pin_dataplane
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
iw = 4..64
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
	out=$(sh -c 'echo $$ > "$1/cgroup.procs" && exec ip netns exec "$2" python3 "$3" "$4" ${5:-3}' sh "$CG" "$NS" "$PROBE" $PORT "${1:-}") ||
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
"$LEARND" -c "$WORK/learnd.conf" -v >"$WORK/learnd.log" 2>&1 &
LEARND_PID=$!
for _ in $(seq 100); do grep -q 'attached to' "$WORK/learnd.log" && break; sleep 0.05; done
grep -q 'attached to' "$WORK/learnd.log" || fail "learnd did not attach"
# learnctl pins only prefixes learnd has recorded (its first tick writes them)
for _ in $(seq 50); do
	[ "$(sqlite3 "$WORK/learnd.db" "SELECT count(*) FROM prefixes WHERE cidr = '127.0.0.0/8'" 2>/dev/null)" = 1 ] && break
	sleep 0.1
done

# all new connections get the pinned IW within a few ticks (tick 100 ms)
expect_pin() { # expect_pin WHAT IW
	local got=""
	for _ in $(seq 30); do
		got=$(probe 2>/dev/null || true)
		[ "$got" = "$2" ] && { echo "  ok: $1: IW $got"; return 0; }
		sleep 0.1
	done
	fail "$1: new connections got IW '$got', want $2 within 3 s"
}
"${CTL[@]}" pin 127.0.0.0/8 iw=30 >/dev/null
expect_pin "pinned iw=30" 30
"${CTL[@]}" pin 127.0.0.0/8 iw=12 >/dev/null
expect_pin "pin changed to iw=12" 12
"${CTL[@]}" unpin 127.0.0.0/8 >/dev/null
# back to learning: the incumbent learnd had (probes at most 20% each); 12 must
# no longer be what most of 20 connections get
for _ in $(seq 30); do
	n12=$(sh -c 'echo $$ > "$1/cgroup.procs" && exec ip netns exec "$2" python3 "$3" "$4" 20' sh "$CG" "$NS" "$PROBE" $PORT |
		tr ' ' '\n' | grep -cx 12 || true)
	[ "$n12" -lt 10 ] && break
	sleep 0.1
done
[ "$n12" -lt 10 ] || fail "after unpin, $n12 of 20 connections still got the pinned IW 12"
echo "  ok: unpinned: $n12 of 20 connections on IW 12"
grep -q "pin" <(sqlite3 "$WORK/learnd.db" "SELECT reason FROM decisions") ||
	echo "  note: learnd recorded no decision with reason 'pin'"
echo "PASS: $NAME"
