#!/bin/bash
# test_learnd_control_restart: what the operator set while learnd was down holds
# after learnd starts again (learnd reads pins and pause in its first tick, before
# its first heartbeat, not only when learnctl writes while it runs):
#   1. learnd learns iw in 20..64 for 127.0.0.0/8: new connections get >= 20;
#   2. kill -9 learnd; learnctl pin iw=40 and learnctl pause while it is down:
#      connections get the kernel default 10 at once (learnctl sets PAUSED in the
#      pinned ctl map itself);
#   3. learnd starts again: still paused (its heartbeat must not clear the bit):
#      IW 10, learnd_dataplane_paused 1;
#   4. learnctl resume: every connection gets the pinned 40 (a pinned value is
#      not probed);
#   5. kill -9 and start again with no learnctl write in between: still 40.
#   6. SIGTERM: learnd exits 0 and detaches: IW 10.
#
# Own cgroup under the cgroup v2 mount, own pin dir, own network namespace; the
# traffic is loopback inside that namespace.  What a connection got is read from
# the client's tcp_info right after connect (snd_cwnd = the IW).
set -euo pipefail
NAME=learnd_control_restart
SRC=${LEARND_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LEARND_BUILD=${LEARND_BUILD:-$SRC/build}
LEARND=$LEARND_BUILD/learner/learnd
LEARNCTL=$LEARND_BUILD/learner/learnctl
PROBE=$SRC/tests/testbed/cwnd_probe.py
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
CG=$CG2/learnd_ctlrestart_$$
PIN=/sys/fs/bpf/learnd_ctlrestart_$$ # bpffs names must not contain dots
NS=lcr$$
WORK=$(mktemp -d /tmp/test_learnd_control_restart.XXXXXX)
PORT=5303
LEARND_PID="" SRV_PID=""

cleanup() {
	local rc=$?
	trap - EXIT
	for pid in $SRV_PID $LEARND_PID; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	# the probes (the only processes moved into the cgroup) have exited
	rm -f "$PIN"/* 2>/dev/null || true
	rmdir "$PIN" 2>/dev/null || true
	rmdir "$CG" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	[ $rc -eq 0 ] || { echo "--- learnd log:"; grep -v ' debug: ' "$WORK"/learnd*.log 2>/dev/null | tail -n 30; } >&2
	rm -rf "$WORK"
	[ $rc -eq 0 ] || echo "FAIL: $NAME (status $rc)" >&2
	exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $NAME: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root"
[ -n "$CG2" ] || fail "no cgroup v2 mount"
for b in "$LEARND" "$LEARNCTL"; do [ -x "$b" ] || fail "not built: $b"; done
command -v sqlite3 >/dev/null || fail "sqlite3 (the CLI) is needed"

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
iw = 20..64
CONF
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
for _ in $(seq 50); do ip netns exec "$NS" ss -Hltn "sport = :$PORT" | grep -q . && break; sleep 0.1; done

# IWs of N new connections from a process inside the cgroup, one per line
probe() {
	# join the cgroup first: `ip netns exec` mounts its own /sys, without the cgroup tree
	sh -c 'echo $$ > "$1/cgroup.procs" && exec ip netns exec "$2" python3 "$3" "$4" "$5"' \
		sh "$CG" "$NS" "$PROBE" $PORT "${1:-10}" | tr ' ' '\n' || fail "probe failed"
}
# expect WHAT TEST: every one of 10 new connections' IW passes TEST (a shell
# arithmetic expression of $iw), within 3 s
expect() {
	local got="" bad iw
	for _ in $(seq 30); do
		got=$(probe 10 | tr '\n' ' ')
		bad=0
		for iw in $got; do (( $2 )) || bad=$((bad + 1)); done
		[ $bad -eq 0 ] && { echo "  ok: $1: IW $got"; return 0; }
		sleep 0.1
	done
	fail "$1: new connections got IW $got, want every one with $2"
}
start_learnd() { # start_learnd LOGNAME
	"$LEARND" -c "$WORK/learnd.conf" -v >"$WORK/$1.log" 2>&1 &
	LEARND_PID=$!
	for _ in $(seq 100); do grep -q 'attached to' "$WORK/$1.log" && break; sleep 0.05; done
	grep -q 'attached to' "$WORK/$1.log" || fail "learnd did not attach ($1)"
}
kill9_learnd() {
	kill -9 "$LEARND_PID"
	wait "$LEARND_PID" 2>/dev/null || true
	LEARND_PID=""
}
dp_paused() { "${CTL[@]}" metrics | awk '$1 == "learnd_dataplane_paused" { print $2 }'; }

# 1. learning
start_learnd learnd1
for _ in $(seq 50); do
	[ "$(sqlite3 "$WORK/learnd.db" "SELECT count(*) FROM prefixes WHERE cidr = '127.0.0.0/8'" 2>/dev/null)" = 1 ] && break
	sleep 0.1
done
expect "learnd running, iw learned in 20..64" 'iw >= 20 && iw <= 64'

# 2. down; the operator pins and pauses
kill9_learnd
"${CTL[@]}" pin 127.0.0.0/8 iw=40 >/dev/null || fail "learnctl pin with learnd down"
"${CTL[@]}" pause >/dev/null || fail "learnctl pause with learnd down"
expect "learnd down, learnctl pause" 'iw == 10'

# 3. up again: still paused
start_learnd learnd2
sleep 0.5 # 5 ticks, 5 heartbeats
[ "$(dp_paused)" = 1 ] || fail "learnd's restart cleared the operator's pause (learnd_dataplane_paused $(dp_paused))"
expect "learnd restarted, still paused" 'iw == 10'

# 4. resume: the pin set while learnd was down is in force
"${CTL[@]}" resume >/dev/null
expect "resumed, pinned iw=40 in force" 'iw == 40'

# 5. kill -9 and start again, nobody writes: the pin holds from the first tick
kill9_learnd
start_learnd learnd3
expect "restarted again, pin still in force" 'iw == 40'
[ "$(dp_paused)" = 0 ] || fail "not paused, but learnd_dataplane_paused $(dp_paused)"

# 6. a clean stop detaches
kill -TERM "$LEARND_PID"
rc=0
wait "$LEARND_PID" || rc=$?
LEARND_PID=""
[ $rc -eq 0 ] || fail "learnd exited $rc on SIGTERM"
expect "SIGTERM: detached, kernel defaults" 'iw == 10'
echo "PASS: $NAME"
