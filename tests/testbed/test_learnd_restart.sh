#!/bin/bash
# test_learnd_restart: kill -9 of learnd under traffic, then a restart.
#   - while learnd is down, connections keep the last values until the heartbeat
#     TTL, then get kernel defaults (seen in FCT: IW 37 vs 10 on a 40 ms path);
#   - the database opens cleanly (integrity_check ok) and every aggregate
#     committed before the kill is still there;
#   - within one tick of the restart the policy map and the slots are the same
#     as before the kill, without new "init" decisions;
#   - the kill, repeated three times, changes none of this;
#   - a restart after kill -9 with another max_prefixes and ringbuf_kb (larger,
#     then smaller than the pinned maps, with more policies pinned than the new
#     cap holds) starts, recreates the two maps at the new sizes, carries the
#     policies over and keeps the values on the connections;
#   - maps of another layout pinned by someone else are refused with their
#     name, and left where they are.
set -euo pipefail
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init learnd_restart
export LD_TOPO=tlr$$
PORT=5202
TTL_MS=3000
tb_need "$FG" "$LEARND" "$LEARND_BUILD/tools/pathemu"

printf 'fast 40 100 1000 0 0\n' >"$WORK/t.paths"
tb_topo_up "$WORK/t.paths" rmem

DB=$WORK/learnd.db
tb_conf "$WORK/learnd.conf" "$TOPO_CGROUP" "$DB" sample_rate=1 tick_ms=500 heartbeat_ttl_ms=$TTL_MS <<EOF
[defaults]
syn_rto_ms = 20..1000

[prefix $TOPO_PREFIX4_fast]
iw = 37
EOF

start_learnd() { tb_start_learnd -m -log "${2:-$WORK/learnd.conf}" "$WORK/learnd.$1.log"; }
tb_start_server $PORT --congestion cubic

# median FCT (ms) of N flows of 50 KB: ~80 ms with IW 37 (2 RTT), ~160 with IW 10
fct() {
	local out=$WORK/fct.$RANDOM.csv
	ip netns exec "$TOPO_NS_fast" "$FG" client --server "$TOPO_SRV4" --port $PORT --sizes 50k \
		--count "${1:-5}" --timeout 10 --out "$out" 2>/dev/null
	tb_fct_median "$out"
}
q() { sqlite3 -readonly "file:$DB?mode=ro" "$1"; }
policy_dump() { bpftool map dump pinned "$PIN/policy_map" | sort; }

start_learnd 0
# background traffic, so the kill happens mid-stream
ip netns exec "$TOPO_NS_fast" "$FG" client --server "$TOPO_SRV4" --port $PORT --sizes 10k,100k \
	--duration 600 --concurrency 2 --timeout 10 --out /dev/null 2>/dev/null &
tb_track $!
sleep 6 # a learned SYN RTO needs ~20 handshakes
[ "$(q "SELECT syn_rto_ms FROM v_slots WHERE cidr = '$TOPO_PREFIX4_fast' AND slot = 0")" != 1000 ] ||
	tb_fail "no SYN RTO learned before the kill"

for round in 1 2 3; do
	sleep 1.5
	kill -STOP "$LEARND_PID" # a still picture: no tick between it and the kill
	before_n=$(q "SELECT coalesce(sum(n), 0) FROM aggregates")
	before_slots=$(q "SELECT cidr, slot, share, iw, rwnd, syn_rto_ms, base_rtt_us FROM v_slots ORDER BY cidr, slot")
	before_inits=$(q "SELECT count(*) FROM decisions WHERE reason = 'init'")
	before_map=$(policy_dump)
	tb_stop_learnd KILL
	if [ $round -eq 1 ]; then
		# down, before the TTL: the last values stay
		down_ms=$(fct 3)
		[ "$down_ms" -lt 120 ] || tb_fail "learnd down, within the TTL: FCT $down_ms ms, the last IW 37 should stay"
		sleep $((TTL_MS / 1000 + 1))
		stale_ms=$(fct 3)
		[ "$stale_ms" -gt 140 ] || tb_fail "learnd down past the TTL: FCT $stale_ms ms, kernel defaults expected"
		echo "learnd killed: FCT $down_ms ms within the TTL, $stale_ms ms after it (kernel default)"
	fi
	[ "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok ] || tb_fail "round $round: integrity_check failed"
	after_n=$(q "SELECT coalesce(sum(n), 0) FROM aggregates")
	[ "$after_n" -ge "$before_n" ] || tb_fail "round $round: aggregates lost: $before_n connections before, $after_n after"
	start_learnd $round
	kill -STOP "$LEARND_PID" # compare before learning moves on with new traffic
	sleep 0.1
	after_slots=$(q "SELECT cidr, slot, share, iw, rwnd, syn_rto_ms, base_rtt_us FROM v_slots ORDER BY cidr, slot")
	[ "$after_slots" = "$before_slots" ] ||
		tb_fail "round $round: slots after the restart differ: $(diff <(echo "$before_slots") <(echo "$after_slots"))"
	[ "$(q "SELECT count(*) FROM decisions WHERE reason = 'init'")" -eq "$before_inits" ] ||
		tb_fail "round $round: the restart made new 'init' decisions"
	[ "$(policy_dump)" = "$before_map" ] || tb_fail "round $round: the policy map differs after the restart"
	grep -q 'restored [0-9]* prefixes' "$WORK/learnd.$round.log" || tb_fail "round $round: nothing restored"
	kill -CONT "$LEARND_PID"
	echo "round $round: $before_n connections committed before kill -9, $after_n after; policies restored"
done
ok_ms=$(fct 3)
[ "$ok_ms" -lt 120 ] || tb_fail "after the restarts: FCT $ok_ms ms, IW 37 expected"

# max_entries of a pinned map
entries() { bpftool -j map show pinned "$PIN/$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["max_entries"])'; }
# stale_policies N: N policies a previous learnd might have left (10.99.i.0/24, prefix ids 9000+i)
stale_policies() {
	local i
	for ((i = 0; i < $1; i++)); do
		bpftool map update pinned "$PIN/policy_map" \
			key hex 78 00 00 00 00 00 00 00 00 00 00 00 00 00 ff ff 0a 63 $(printf '%02x' "$i") 00 \
			value hex $(printf '%02x %02x' $(((9000 + i) % 256)) $(((9000 + i) / 256))) 00 00 01 00 00 00 01 00 00 00 \
			00 00 00 00 00 00 01 00 00 00 00 00 0a 00 00 00 00 00 00 00 $(printf '00 %.0s' $(seq 48))
	done
}
# kill -9, then a start with another max_prefixes and ringbuf_kb
for resize in "131072 1024 0" "16 8192 20"; do
	read -r maxp rbkb stale <<<"$resize"
	round=$((round + 1))
	kill -STOP "$LEARND_PID"
	before_map=$(policy_dump)
	tb_stop_learnd KILL
	[ "$stale" -eq 0 ] || stale_policies "$stale"
	sed "s/^\[learnd\]\$/[learnd]\nmax_prefixes = $maxp\nringbuf_kb = $rbkb/" "$WORK/learnd.conf" >"$WORK/learnd.$round.conf"
	start_learnd $round "$WORK/learnd.$round.conf"
	kill -STOP "$LEARND_PID"
	sleep 0.1
	[ "$(entries policy_map)" -eq "$maxp" ] || tb_fail "max_prefixes $maxp: the policy map has $(entries policy_map) entries"
	[ "$(entries records)" -eq $((rbkb * 1024)) ] || tb_fail "ringbuf_kb $rbkb: the ring buffer has $(entries records) bytes"
	[ "$(policy_dump)" = "$before_map" ] ||
		tb_fail "max_prefixes $maxp: the policy map differs after the restart: $(diff <(echo "$before_map") <(policy_dump))"
	grep -q 'policies carried over' "$WORK/learnd.$round.log" || tb_fail "max_prefixes $maxp: nothing carried over"
	[ "$stale" -eq 0 ] || grep -q 'policies of the previous policy map left out' "$WORK/learnd.$round.log" ||
		tb_fail "max_prefixes $maxp: $stale stale policies, none left out"
	kill -CONT "$LEARND_PID"
	ok_ms=$(fct 3)
	[ "$ok_ms" -lt 120 ] || tb_fail "max_prefixes $maxp, ringbuf_kb $rbkb: FCT $ok_ms ms, IW 37 expected"
	echo "max_prefixes $maxp, ringbuf_kb $rbkb after kill -9: maps recreated, policies carried over, FCT $ok_ms ms"
done

# another learnd's map (another value size) under a pin directory: refused by name, left alone
tb_stop_learnd TERM
PIN2=$PIN-other
tb_on_exit "rm -rf '$PIN2'"
mkdir "$PIN2"
bpftool map create "$PIN2/policy_map" type lpm_trie key 20 value 64 entries 16 name policy_map flags 1
rc=0
"$LEARND" --config "$WORK/learnd.conf" --pin-dir "$PIN2" >"$WORK/learnd.other.log" 2>&1 || rc=$?
[ $rc -eq 1 ] || tb_fail "a foreign policy_map: exit $rc, want 1"
grep -q "pinned map $PIN2/policy_map is not one this learnd makes" "$WORK/learnd.other.log" ||
	tb_fail "a foreign policy_map: $(cat "$WORK/learnd.other.log")"
[ -e "$PIN2/policy_map" ] || tb_fail "a foreign policy_map was removed"
echo "a foreign policy_map: refused by name (exit 1), left in place"
echo "PASS: $NAME"
