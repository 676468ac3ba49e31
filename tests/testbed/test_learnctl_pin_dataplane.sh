#!/bin/bash
# test_learnctl_pin_dataplane: learnctl pin / unpin change what new connections
# get, through learnd (which reads the pins table every tick and applies them):
# pin iw=30, re-pin iw=12, unpin (back to what learnd had chosen); a pin the
# bounds, reloaded, no longer allow: ignored by learnd and shown as such; a pin
# to 0, the kernel default.
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

# A pin the bounds no longer allow: pin iw=100 under bounds 4..128, then the
# bounds reloaded to 4..64.  learnd ignores the pin (and logs it); report, --json
# and show give the IW in force and the pin as ignored, with why.
reload_iw() { # reload_iw RANGE: iw = RANGE in the config, SIGHUP, wait until learnd has the bounds in the database
	sed -i "s/^iw = .*/iw = $1/" "$WORK/learnd.conf"
	kill -HUP "$LEARND_PID"
	for _ in $(seq 50); do
		[ "$(sqlite3 "$DB" "SELECT iw_min || '..' || iw_max FROM prefixes WHERE cidr = '127.0.0.0/8'")" = "$1" ] && return 0
		sleep 0.1
	done
	tb_fail "learnd did not take the bounds iw = $1"
}
reload_iw 4..128
"${CTL[@]}" pin 127.0.0.0/8 iw=100 >/dev/null
expect_pin "pinned iw=100 (bounds 4..128)" 100
"${CTL[@]}" report | grep -Eq '^127\.0\.0\.0/8 .* 100P ' || tb_fail "report, pin in force: $("${CTL[@]}" report | grep 127.0.0.0)"
reload_iw 4..64
for _ in $(seq 30); do
	iws=$(tb_probe_iws 20)
	grep -qw 100 <<<"$iws" || break
	sleep 0.1
done
! grep -qw 100 <<<"$iws" || tb_fail "bounds 4..64: connections still get the ignored pin's IW 100: $iws"
iw=$("${CTL[@]}" report --json | python3 -c '
import json, sys
r = {r["prefix"]: r for r in json.load(sys.stdin)}["127.0.0.0/8"]
assert r["iw_pinned"] == 0 and r["iw_pin"] == 100, r
assert r["iw_pin_state"] == "ignored: outside bounds 4..64", r
assert 4 <= r["iw"] <= 64 or r["iw"] == 0, r
print(r["iw"])
') || tb_fail "report --json, ignored pin: $("${CTL[@]}" report --json)"
grep -qw "$iw" <<<"$iws" || tb_fail "report says IW $iw in force, connections got $iws"
"${CTL[@]}" report --wide | grep -Eq "^127\.0\.0\.0/8 .* $iw! \(4\.\.64\) " ||
	tb_fail "report, ignored pin: $("${CTL[@]}" report --wide | grep 127.0.0.0)"
"${CTL[@]}" show 127.0.0.0/8 | grep -q "^pinned by .* iw=100 (ignored: outside bounds 4\.\.64; $iw in force)" ||
	tb_fail "show, ignored pin: $("${CTL[@]}" show 127.0.0.0/8 | grep pinned)"
grep -q 'pin 127.0.0.0/8 iw=100 ignored: outside bounds 4..64' "$WORK/learnd.log" || tb_fail "learnd did not log the ignored pin"
echo "  ok: pin iw=100 outside bounds 4..64: connections on $iws; report ${iw}!, show and --json say ignored"
reload_iw 4..128
expect_pin "bounds 4..128 again: the pin is back in force" 100
# iw=0, which learnctl allows for a range: the kernel default, in force (not ignored)
"${CTL[@]}" pin 127.0.0.0/8 iw=0 >/dev/null
expect_pin "pinned iw=0 (kernel default)" 10
for _ in $(seq 30); do
	state=$("${CTL[@]}" report --json | python3 -c '
import json, sys
r = {r["prefix"]: r for r in json.load(sys.stdin)}["127.0.0.0/8"]
print(r["iw"], r["iw_pinned"], r["iw_pin_state"])')
	[ "$state" = "0 1 in force" ] && break
	sleep 0.1
done
[ "$state" = "0 1 in force" ] || tb_fail "pin iw=0: report says '$state', want the kernel default (0) pinned in force"
! grep -q 'iw=0 ignored' "$WORK/learnd.log" || tb_fail "learnd ignored the pin iw=0"
echo "  ok: pin iw=0: the kernel default in force, pinned"
"${CTL[@]}" unpin 127.0.0.0/8 >/dev/null
# learnd's decisions say which changes the pins made, and which one it ignored
decs=$(sqlite3 "$DB" "SELECT old_value || '>' || new_value || ' ' || reason || ': ' || why FROM v_decisions
                      WHERE cidr = '127.0.0.0/8' AND param = 'iw' ORDER BY ts_ns")
for want in "10>30 pin: operator pin iw=30" "30>12 pin: operator pin iw=12" "10>100 pin: operator pin iw=100" \
	    "100>10 bounds: operator pin iw=100 ignored: outside bounds 4..64" "10>100 pin: operator pin iw=100" \
	    "100>0 pin: operator pin iw=0"; do
	grep -qxF "$want" <<<"$decs" || tb_fail "no decision '$want' among: $decs"
done
echo "  ok: decisions: the pins' changes with reason 'pin', the ignored pin with why"
echo "PASS: $NAME"
