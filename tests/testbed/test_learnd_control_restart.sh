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
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init learnd_control_restart
PIN=/sys/fs/bpf/learnd_ctlrestart_$$ # bpffs names must not contain dots
tb_need "$LEARND" "$LC"
command -v sqlite3 >/dev/null || tb_fail "sqlite3 (the CLI) is needed"
# (with a listener in the namespace, not in the cgroup: only the client side is probed)
tb_loopback 5303 learnd_ctlrestart_$$ lcr$$ 20..64 tick_ms=100 heartbeat_ttl_ms=60000

# IWs of N new connections from a process inside the cgroup, one per line
probe() {
	tb_probe_iws "${1:-10}" | tr ' ' '\n' || tb_fail "probe failed"
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
	tb_fail "$1: new connections got IW $got, want every one with $2"
}
start_learnd() { # start_learnd LOGNAME
	tb_start_learnd -m "learnd did not attach ($1)" "$WORK/learnd.conf" "$WORK/$1.log" -v
}
dp_paused() { "${CTL[@]}" metrics | awk '$1 == "learnd_dataplane_paused" { print $2 }'; }

# 1. learning
start_learnd learnd1
tb_wait_prefix "$DB" 127.0.0.0/8
expect "learnd running, iw learned in 20..64" 'iw >= 20 && iw <= 64'

# 2. down; the operator pins and pauses
tb_stop_learnd KILL
"${CTL[@]}" pin 127.0.0.0/8 iw=40 >/dev/null || tb_fail "learnctl pin with learnd down"
"${CTL[@]}" pause >/dev/null || tb_fail "learnctl pause with learnd down"
expect "learnd down, learnctl pause" 'iw == 10'

# 3. up again: still paused
start_learnd learnd2
sleep 0.5 # 5 ticks, 5 heartbeats
[ "$(dp_paused)" = 1 ] || tb_fail "learnd's restart cleared the operator's pause (learnd_dataplane_paused $(dp_paused))"
expect "learnd restarted, still paused" 'iw == 10'

# 4. resume: the pin set while learnd was down is in force
"${CTL[@]}" resume >/dev/null
expect "resumed, pinned iw=40 in force" 'iw == 40'

# 5. kill -9 and start again, nobody writes: the pin holds from the first tick
tb_stop_learnd KILL
start_learnd learnd3
expect "restarted again, pin still in force" 'iw == 40'
[ "$(dp_paused)" = 0 ] || tb_fail "not paused, but learnd_dataplane_paused $(dp_paused)"

# 6. a clean stop detaches
tb_stop_learnd TERM
[ $LEARND_RC -eq 0 ] || tb_fail "learnd exited $LEARND_RC on SIGTERM"
expect "SIGTERM: detached, kernel defaults" 'iw == 10'
echo "PASS: $NAME"
