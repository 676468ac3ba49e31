#!/bin/bash
# test_learnd_restart: kill -9 of learnd under traffic, then a restart.
#   - while learnd is down, connections keep the last values until the heartbeat
#     TTL, then get kernel defaults (seen in FCT: IW 37 vs 10 on a 40 ms path);
#   - the database opens cleanly (integrity_check ok) and every aggregate
#     committed before the kill is still there;
#   - within one tick of the restart the policy map and the slots are the same
#     as before the kill, without new "init" decisions;
#   - the kill, repeated three times, changes none of this.
set -euo pipefail
NAME=learnd_restart
SRC=${LEARND_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export LEARND_BUILD=${LEARND_BUILD:-$SRC/build}
FG=$LEARND_BUILD/tools/flowgen
LEARND=$LEARND_BUILD/learner/learnd
TOPO=$SRC/tools/topo.sh
export LD_TOPO=tlr$$
WORK=$(mktemp -d /tmp/test_learnd_restart.XXXXXX)
PIN=/sys/fs/bpf/learnd-test-$$
SRV_PID="" LEARND_PID="" TRAFFIC_PID=""
PORT=5202
TTL_MS=3000

cleanup() {
	local rc=$?
	trap - EXIT
	for pid in $TRAFFIC_PID $SRV_PID $LEARND_PID; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	"$TOPO" down >/dev/null 2>&1 || echo "cleanup: topo.sh down failed for $LD_TOPO" >&2
	rm -rf "$PIN"
	[ $rc -eq 0 ] || { echo "--- learnd log:"; grep -v ' debug: ' "$WORK"/learnd*.log | tail -n 30; } >&2
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $NAME: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root"
for b in "$FG" "$LEARND" "$LEARND_BUILD/tools/pathemu"; do [ -x "$b" ] || fail "not built: $b"; done

printf 'fast 40 100 1000 0 0\n' >"$WORK/t.paths"
"$TOPO" up "$WORK/t.paths" >/dev/null
# shellcheck disable=SC1090,SC2154 # topo.env defines TOPO_*
. "/run/learnd-topo/$LD_TOPO/topo.env"
ip netns exec "$TOPO_SRV_NS" sysctl -q -w net.ipv4.tcp_no_metrics_save=1
ip netns exec "$TOPO_NS_fast" sysctl -q -w net.ipv4.tcp_no_metrics_save=1 net.ipv4.tcp_rmem="4096 524288 33554432"

DB=$WORK/learnd.db
cat >"$WORK/learnd.conf" <<EOF
[learnd]
cgroup = $TOPO_CGROUP
db = $DB
pin_dir = $PIN
sample_rate = 1
tick_ms = 500
heartbeat_ttl_ms = $TTL_MS

[defaults]
syn_rto_ms = 20..1000

[prefix $TOPO_PREFIX4_fast]
iw = 37
EOF

start_learnd() {
	local log=$WORK/learnd.$1.log
	"$LEARND" --config "$WORK/learnd.conf" >"$log" 2>&1 &
	LEARND_PID=$!
	for _ in $(seq 100); do grep -q 'attached to' "$log" && return 0; sleep 0.05; done
	fail "learnd did not attach: $(cat "$log")"
}

"$TOPO" exec srv -- "$FG" server --port $PORT --congestion cubic 2>"$WORK/server.log" &
SRV_PID=$!
for _ in $(seq 100); do
	ip netns exec "$TOPO_SRV_NS" ss -Hltn "sport = :$PORT" | grep -q . && break
	sleep 0.05
done

# median FCT (ms) of N flows of 50 KB: ~80 ms with IW 37 (2 RTT), ~160 with IW 10
fct() {
	local out=$WORK/fct.$RANDOM.csv
	ip netns exec "$TOPO_NS_fast" "$FG" client --server "$TOPO_SRV4" --port $PORT --sizes 50k \
		--count "${1:-5}" --timeout 10 --out "$out" 2>/dev/null
	tail -n +2 "$out" | awk -F, '{ print $4 }' | sort -n | awk '{ f[NR] = $1 } END { printf "%d\n", f[int((NR + 1) / 2)] / 1000 }'
}
q() { sqlite3 -readonly "file:$DB?mode=ro" "$1"; }
policy_dump() { bpftool map dump pinned "$PIN/policy_map" | sort; }

start_learnd 0
# background traffic, so the kill happens mid-stream
ip netns exec "$TOPO_NS_fast" "$FG" client --server "$TOPO_SRV4" --port $PORT --sizes 10k,100k \
	--duration 600 --concurrency 2 --timeout 10 --out /dev/null 2>/dev/null &
TRAFFIC_PID=$!
sleep 6 # a learned SYN RTO needs ~20 handshakes
[ "$(q "SELECT syn_rto_ms FROM v_slots WHERE cidr = '$TOPO_PREFIX4_fast' AND slot = 0")" != 1000 ] ||
	fail "no SYN RTO learned before the kill"

for round in 1 2 3; do
	sleep 1.5
	kill -STOP "$LEARND_PID" # a still picture: no tick between it and the kill
	before_n=$(q "SELECT coalesce(sum(n), 0) FROM aggregates")
	before_slots=$(q "SELECT cidr, slot, share, iw, rwnd, syn_rto_ms, base_rtt_us FROM v_slots ORDER BY cidr, slot")
	before_inits=$(q "SELECT count(*) FROM decisions WHERE reason = 'init'")
	before_map=$(policy_dump)
	kill -9 "$LEARND_PID"
	wait "$LEARND_PID" 2>/dev/null || true
	LEARND_PID=""
	if [ $round -eq 1 ]; then
		# down, before the TTL: the last values stay
		down_ms=$(fct 3)
		[ "$down_ms" -lt 120 ] || fail "learnd down, within the TTL: FCT $down_ms ms, the last IW 37 should stay"
		sleep $((TTL_MS / 1000 + 1))
		stale_ms=$(fct 3)
		[ "$stale_ms" -gt 140 ] || fail "learnd down past the TTL: FCT $stale_ms ms, kernel defaults expected"
		echo "learnd killed: FCT $down_ms ms within the TTL, $stale_ms ms after it (kernel default)"
	fi
	[ "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok ] || fail "round $round: integrity_check failed"
	after_n=$(q "SELECT coalesce(sum(n), 0) FROM aggregates")
	[ "$after_n" -ge "$before_n" ] || fail "round $round: aggregates lost: $before_n connections before, $after_n after"
	start_learnd $round
	kill -STOP "$LEARND_PID" # compare before learning moves on with new traffic
	sleep 0.1
	after_slots=$(q "SELECT cidr, slot, share, iw, rwnd, syn_rto_ms, base_rtt_us FROM v_slots ORDER BY cidr, slot")
	[ "$after_slots" = "$before_slots" ] ||
		fail "round $round: slots after the restart differ: $(diff <(echo "$before_slots") <(echo "$after_slots"))"
	[ "$(q "SELECT count(*) FROM decisions WHERE reason = 'init'")" -eq "$before_inits" ] ||
		fail "round $round: the restart made new 'init' decisions"
	[ "$(policy_dump)" = "$before_map" ] || fail "round $round: the policy map differs after the restart"
	grep -q 'restored [0-9]* prefixes' "$WORK/learnd.$round.log" || fail "round $round: nothing restored"
	kill -CONT "$LEARND_PID"
	echo "round $round: $before_n connections committed before kill -9, $after_n after; policies restored"
done
ok_ms=$(fct 3)
[ "$ok_ms" -lt 120 ] || fail "after the restarts: FCT $ok_ms ms, IW 37 expected"
echo "PASS: $NAME"
