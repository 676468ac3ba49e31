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
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init learnctl_dataplane test_learnctl_dp
# (with a listener in the namespace, not in the cgroup: only the client side is probed)
tb_loopback 5301 learnctl_test_$$ lctl$$ 20 tick_ms=100 heartbeat_ttl_ms=60000
tb_mkdb "$DB"

tb_expect_iw "no learnd" 10

tb_start_learnd "$WORK/learnd.conf" "$WORK/learnd.log" -v
tb_expect_iw "learnd running, config iw = 20" 20

# status names its counters in text as in JSON (and the metrics): maps.c's table
text_names=$("${CTL[@]}" status | sed -n '/^counters:/,/^database:/p' | sed '$d' | sed 's/^counters://' |
	tr ',' '\n' | awk 'NF == 2 { print $1 }')
json_names=$("${CTL[@]}" status --json | python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin)["dataplane"]["counters"]))')
[ -n "$text_names" ] && [ "$text_names" = "$json_names" ] ||
	tb_fail "status counters: text names '$(echo $text_names)' differ from JSON's '$(echo $json_names)'"

"${CTL[@]}" pause >/dev/null
"${CTL[@]}" status | grep -q 'PAUSED' || tb_fail "status does not show PAUSED"
tb_expect_iw "paused with learnd running" 10
sleep 0.3 # learnd ticks (100 ms) must keep the pause
tb_expect_iw "still paused after learnd's ticks" 10
"${CTL[@]}" resume >/dev/null
tb_expect_iw "resumed with learnd running" 20

tb_stop_learnd KILL
[ -e "$PIN/ctl_map" ] || tb_fail "pins gone after kill -9"
tb_expect_iw "learnd dead, within the TTL: last values stay" 20
"${CTL[@]}" pause >/dev/null
tb_expect_iw "paused with learnd dead" 10
[ "$(sqlite3 "$DB" "SELECT value FROM control WHERE key = 'paused'")" = 1 ] || tb_fail "control paused != 1"
"${CTL[@]}" resume >/dev/null
tb_expect_iw "resumed with learnd dead" 20
[ "$(sqlite3 "$DB" "SELECT count(*) FROM operator_log WHERE action IN ('pause', 'resume')")" = 4 ] ||
	tb_fail "operator_log does not hold the 4 pause/resume actions"
echo "PASS: $NAME"
