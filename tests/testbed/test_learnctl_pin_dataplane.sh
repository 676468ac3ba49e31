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
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init learnctl_pin_dataplane test_learnctl_dp
# (with a listener in the namespace, not in the cgroup: only the client side is probed)
tb_loopback 5301 learnctl_test_$$ lctl$$ 4..64 tick_ms=100 heartbeat_ttl_ms=60000
tb_mkdb "$DB"

tb_start_learnd "$WORK/learnd.conf" "$WORK/learnd.log" -v
# learnctl pins only prefixes learnd has recorded (its first tick writes them)
tb_wait_prefix "$DB" 127.0.0.0/8

# all new connections get the pinned IW within a few ticks (tick 100 ms)
expect_pin() { # expect_pin WHAT IW
	local got=""
	for _ in $(seq 30); do
		got=$(tb_iw 2>/dev/null || true)
		[ "$got" = "$2" ] && { echo "  ok: $1: IW $got"; return 0; }
		sleep 0.1
	done
	tb_fail "$1: new connections got IW '$got', want $2 within 3 s"
}
"${CTL[@]}" pin 127.0.0.0/8 iw=30 >/dev/null
expect_pin "pinned iw=30" 30
"${CTL[@]}" pin 127.0.0.0/8 iw=12 >/dev/null
expect_pin "pin changed to iw=12" 12
"${CTL[@]}" unpin 127.0.0.0/8 >/dev/null
# back to learning: the incumbent learnd had (probes at most 20% each); 12 must
# no longer be what most of 20 connections get
for _ in $(seq 30); do
	n12=$(tb_probe_iws 20 | tr ' ' '\n' | grep -cx 12 || true)
	[ "$n12" -lt 10 ] && break
	sleep 0.1
done
[ "$n12" -lt 10 ] || tb_fail "after unpin, $n12 of 20 connections still got the pinned IW 12"
echo "  ok: unpinned: $n12 of 20 connections on IW 12"
grep -q "pin" <(sqlite3 "$DB" "SELECT reason FROM decisions") ||
	echo "  note: learnd recorded no decision with reason 'pin'"
echo "PASS: $NAME"
