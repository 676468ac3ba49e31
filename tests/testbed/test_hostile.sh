#!/bin/bash
# test_hostile: traffic designed to hurt learnd, with max_prefixes = 64.
#   - a spray of connections from 3000 distinct source prefixes (2000 IPv4 /24s,
#     1000 IPv6 /48s, in two rounds) through an emulated path: the policy map is
#     made with max_entries 64 (the kernel refuses a 65th insert), no map update
#     fails (learnd evicts before it inserts), it holds at most 64 entries after
#     the spray, `learnctl report` lists at most 64 prefixes, and learnd's RSS stays
#     bounded (the model is ~8.7 KB per prefix: 3000 kept would be +26 MB; the
#     second round, at the cap already, must add next to nothing);
#   - an adversary path that drops packets (30% SYN loss, 10% random loss) on its
#     own prefix: every value learnd writes for it stays within the configured
#     bounds (database slots and the policy map itself, checked every second),
#     and the slots of every other prefix (the default, a well-behaved path,
#     the spray's survivors) are exactly what they were before it started.
set -euo pipefail
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init hostile
PY=$(command -v python3)
export LD_TOPO=tho$$
PORT=5209
CAP=64
IW_MIN=4 IW_MAX=64 RTO_MIN=100 RTO_MAX=500
tb_need "$FG" "$LEARND" "$LC" "$LEARND_BUILD/tools/pathemu" "$PY"

printf 'spray 2 1000 1000 0 0\ngood 20 100 1000 0 0\nadv 20 100 1000 0 0\n' >"$WORK/t.paths"
tb_topo_up "$WORK/t.paths"
# the spray namespace owns 10.64.0.0/10 and fd64::/16 (any address in them is
# local); the server routes them back through the spray path
ip -n "$TOPO_NS_spray" route add local 10.64.0.0/10 dev lo
ip -n "$TOPO_NS_spray" -6 route add local fd64::/16 dev lo
ip -n "$TOPO_SRV_NS" route add 10.64.0.0/10 dev "$TOPO_DEV_spray" src "$TOPO_SRV4" congctl cubic
ip -n "$TOPO_SRV_NS" -6 route add fd64::/16 dev "$TOPO_DEV_spray" src "$TOPO_SRV6" congctl cubic

DB=$WORK/learnd.db
# record_budget 0: every spray connection recorded (this test is about the prefix
# table, not sampling)
tb_conf "$WORK/learnd.conf" "$TOPO_CGROUP" "$DB" record_budget=0 sample_rate=1 tick_ms=200 max_prefixes=$CAP <<EOF
[defaults]
iw = $IW_MIN..$IW_MAX
syn_rto_ms = $RTO_MIN..$RTO_MAX
EOF

tb_start_learnd "$WORK/learnd.conf" "$WORK/learnd.log"
tb_start_server $PORT --congestion cubic --idle-timeout 10

q() { sqlite3 -readonly "file:$DB?mode=ro" "$1"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$LEARND_PID/status"; }
# distinct keys, counted at rest: a dump while learnd inserts and deletes
# counts keys deleted and inserted during it (the trie's get_next_key starts
# over when the key it was given is gone), so a count taken during the spray
# is not the map's size
map_entries() {
	bpftool -j map dump pinned "$PIN/policy_map" | "$PY" -c 'import json, sys; print(len({tuple(e["key"]) for e in json.load(sys.stdin)}))'
}
spray() {
	ip netns exec "$TOPO_NS_spray" "$PY" "$SRC/tests/testbed/spray.py" "$TOPO_SRV4" "$TOPO_SRV6" $PORT "$@" \
		>"$WORK/spray.out" || tb_fail "spray $*: too many connections failed: $(cat "$WORK/spray.out")"
}

sleep 1
rss0=$(rss)
spray 0 1000 500
echo "spray round 1 (1000 IPv4 /24s, 500 IPv6 /48s): $(cat "$WORK/spray.out")"
sleep 1
rss1=$(rss)
spray 1000 1000 500
echo "spray round 2 (1000 IPv4 /24s, 500 IPv6 /48s): $(cat "$WORK/spray.out")"
sleep 1
rss2=$(rss)
recs=$(q "SELECT value FROM daemon WHERE key = 'records'")
known=$(q "SELECT count(*) FROM prefixes")
live=$(q "SELECT count(*) FROM prefixes WHERE evicted_ns IS NULL")
map_now=$(map_entries)
map_cap=$(bpftool -j map show pinned "$PIN/policy_map" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["max_entries"])')
[ "$map_cap" -eq $CAP ] || tb_fail "policy map max_entries $map_cap, want $CAP"
"$LC" -c "$WORK/learnd.conf" report --csv >"$WORK/report.csv" || tb_fail "learnctl report failed"
report_rows=$(($(wc -l <"$WORK/report.csv") - 1))
echo "after the spray: $recs records, $known prefixes in the history, $live live, report $report_rows rows," \
	"policy map $map_now (cap $CAP)"
echo "learnd RSS: $rss0 kB before, $rss1 kB after 1500 prefixes, $rss2 kB after 3000"
[ "$recs" -ge 2700 ] || tb_fail "only $recs records of the spray's 3000 connections"
# (a prefix discovered and evicted within one tick never reaches the database)
[ "$known" -gt $CAP ] || tb_fail "only $known prefixes discovered: the spray did not reach learnd as distinct prefixes"
v6=$(q "SELECT count(*) FROM prefixes WHERE cidr LIKE 'fd64:%'")
[ "$v6" -gt 0 ] || tb_fail "no IPv6 prefix of the spray discovered"
[ "$map_now" -le $CAP ] || tb_fail "policy map holds $map_now entries, cap $CAP"
[ "$live" -le $CAP ] || tb_fail "$live live prefixes in the database, cap $CAP"
[ "$report_rows" -le $CAP ] || tb_fail "learnctl report lists $report_rows prefixes, cap $CAP"
! grep -q 'policy map update failed' "$WORK/learnd.log" || tb_fail "$(grep -m1 'policy map update failed' "$WORK/learnd.log")"
[ $((rss1 - rss0)) -lt 6144 ] || tb_fail "RSS grew by $((rss1 - rss0)) kB over 1500 prefixes at a cap of $CAP"
[ $((rss2 - rss1)) -lt 1536 ] || tb_fail "RSS grew by $((rss2 - rss1)) kB over the second 1500 prefixes, already at the cap"

# the adversary: its own prefix and a well-behaved one are known first
ADV=$TOPO_PREFIX4_adv GOOD=$TOPO_PREFIX4_good
for p in good adv; do
	ns=TOPO_NS_$p
	ip netns exec "${!ns}" "$FG" client --server "$TOPO_SRV4" --port $PORT --sizes 10k,100k --count 20 \
		--concurrency 2 --timeout 10 --out /dev/null 2>/dev/null
done
sleep 1
[ "$(q "SELECT count(*) FROM prefixes WHERE cidr IN ('$ADV', '$GOOD') AND evicted_ns IS NULL")" -eq 2 ] ||
	tb_fail "$GOOD and $ADV were not discovered"
others() {
	q "SELECT cidr, slot, share, iw, rwnd, syn_rto_ms, base_rtt_us, epoch FROM v_slots WHERE cidr != '$ADV' ORDER BY cidr, slot"
}
adv_key() { # the policy map key of ADV, as bpftool prints it: v4-mapped, /120
	printf '%s' "${ADV%/24}" | awk -F. '{ printf "\"0x78\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0xff\",\"0xff\",\"0x%02x\",\"0x%02x\",\"0x%02x\",\"0x%02x\"", $1, $2, $3, $4 }'
}
map_others() { bpftool -j map dump pinned "$PIN/policy_map" | "$PY" -c '
import json, sys
adv = sys.argv[1]
for e in json.load(sys.stdin):
    if ",".join("\"%s\"" % b for b in e["key"]) != adv:
        print(e["key"], e["value"])
' "$(adv_key)" | sort; }
# every slot of every entry in the map within the configured bounds (0 = kernel default)
map_in_bounds() { bpftool -j map dump pinned "$PIN/policy_map" | "$PY" -c '
import json, sys
iw_min, iw_max, rto_min, rto_max = map(int, sys.argv[1:5])
bad = []
for e in json.load(sys.stdin):
    v = e["formatted"]["value"]
    for s in v["slots"][:v["nslots"]]:
        if (s["iw"] and not iw_min <= s["iw"] <= iw_max) or (s["syn_rto_ms"] and not rto_min <= s["syn_rto_ms"] <= rto_max) \
           or s["rwnd"] or s["base_rtt_us"]:
            bad.append((v["prefix_id"], s))
if bad:
    print(bad)
    sys.exit(1)
' $IW_MIN $IW_MAX $RTO_MIN $RTO_MAX; }
before=$(others)
before_map=$(map_others)
before_adv=$(q "SELECT group_concat(slot || ':' || iw || '/' || syn_rto_ms, ' ') FROM v_slots WHERE cidr = '$ADV'")
[ -n "$before" ] && [ -n "$before_map" ] || tb_fail "nothing to compare: no slots"
adv_dec0=$(q "SELECT count(*) FROM v_decisions WHERE cidr = '$ADV'")

"$TOPO" set adv syn_loss=0.3 loss=0.1 >/dev/null
ip netns exec "$TOPO_NS_adv" "$FG" client --server "$TOPO_SRV4" --port $PORT --sizes 10k,100k \
	--duration 600 --concurrency 6 --timeout 5 --out "$WORK/adv.csv" 2>/dev/null &
ADV_PID=$!
tb_track $ADV_PID
for _ in $(seq 12); do
	sleep 1
	out=$(q "SELECT slot, iw, syn_rto_ms, rwnd, base_rtt_us FROM v_slots WHERE cidr = '$ADV' AND
		NOT ((iw = 0 OR iw BETWEEN $IW_MIN AND $IW_MAX) AND (syn_rto_ms = 0 OR syn_rto_ms BETWEEN $RTO_MIN AND $RTO_MAX)
		     AND rwnd = 0 AND base_rtt_us = 0)")
	[ -z "$out" ] || tb_fail "adversary's slots out of bounds: $out"
	map_in_bounds || tb_fail "policy map values out of bounds"
done
kill -TERM "$ADV_PID"
wait "$ADV_PID" || true
tb_untrack "$ADV_PID"
sleep 0.5
kill -STOP "$LEARND_PID"
after=$(others)
after_map=$(map_others)
after_adv=$(q "SELECT group_concat(slot || ':' || iw || '/' || syn_rto_ms, ' ') FROM v_slots WHERE cidr = '$ADV'")
adv_dec=$(($(q "SELECT count(*) FROM v_decisions WHERE cidr = '$ADV'") - adv_dec0))
adv_conns=$(tail -n +2 "$WORK/adv.csv" | wc -l)
adv_bad=$(awk -F, 'NR > 1 && $6 != 1' "$WORK/adv.csv" | wc -l)
kill -CONT "$LEARND_PID"
echo "adversary: $adv_conns connections ($adv_bad failed), $adv_dec decisions; slots (slot:iw/syn_rto_ms) $before_adv -> $after_adv"
echo "others: $(echo "$before" | wc -l) slots of $(echo "$before" | cut -d'|' -f1 | sort -u | wc -l) prefixes compared"
[ "$adv_conns" -ge 20 ] || tb_fail "the adversary made only $adv_conns connections"
[ "$after" = "$before" ] || tb_fail "other prefixes' slots changed: $(diff <(echo "$before") <(echo "$after") | head)"
[ "$after_map" = "$before_map" ] || tb_fail "other prefixes' policy map entries changed"
kill -0 "$LEARND_PID" || tb_fail "learnd died"
echo "PASS: $NAME"
