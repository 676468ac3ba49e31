#!/bin/bash
# test_learnd_fixed: `learnd --config` on the testbed, as an operator runs it.
# Two 40 ms paths; the config gives path "fast" (10.201.1.0/24) iw = 37 and leaves
# path "plain" at kernel defaults.  Checks that:
#   - learnd attaches to the topology's server cgroup and pins under pin_dir; a
#     second learnd on the same pin_dir is refused and changes nothing;
#   - every flow produces one close record line (-v) with the right prefix id,
#     direction, IW and byte count, and none for flows that are not sampled away;
#   - the IW shows in the flows' completion time: a 50 KB answer fits in 37
#     segments (one round trip) but needs three with IW 10;
#   - SIGHUP with a broken config keeps the old one (and says why);
#   - SIGTERM detaches, unpins and exits 0: kernel defaults at once.
set -euo pipefail
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init learnd_fixed
export LD_TOPO=tlf$$
PORT=5201
FLOWS=8
tb_need "$FG" "$LEARND" "$LEARND_BUILD/tools/pathemu"

printf 'fast 40 100 1000 0 0\nplain 40 100 1000 0 0\n' >"$WORK/t.paths"
tb_topo_up "$WORK/t.paths" rmem

tb_conf "$WORK/learnd.conf" "$TOPO_CGROUP" "$WORK/learnd.db" sample_rate=1 <<EOF
[prefix $TOPO_PREFIX4_fast]
iw = 37
EOF

tb_start_learnd "$WORK/learnd.conf" "$WORK/learnd.log" -v
[ -e "$PIN/link" ] && [ -e "$PIN/policy_map" ] || tb_fail "nothing pinned under $PIN"
bpftool cgroup show "$TOPO_CGROUP" | grep -q sock_ops || tb_fail "no sock_ops program on $TOPO_CGROUP"
# a second learnd on the same pin_dir would take over the first one's maps: refused
rc=0
timeout 10 "$LEARND" --config "$WORK/learnd.conf" --db "$WORK/second.db" >"$WORK/second.log" 2>&1 || rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || tb_fail "a second learnd on the same pin_dir was not refused (rc $rc)"
grep -q 'in use by another running learnd' "$WORK/second.log" || tb_fail "second learnd: $(cat "$WORK/second.log")"
kill -0 $LEARND_PID || tb_fail "the first learnd died when a second one started"
[ -e "$PIN/link" ] || tb_fail "the second learnd removed the first one's pins"

tb_start_server $PORT --congestion cubic

# FLOWS flows of 50 KB from one path; prints the median FCT in ms
flows() {
	local path=$1 ns_var=TOPO_NS_$1 out=$WORK/$1.csv
	ip netns exec "${!ns_var}" "$FG" client --server "$TOPO_SRV4" --port $PORT --sizes 50k \
		--count $FLOWS --timeout 10 --path "$path" --out "$out" 2>/dev/null
	awk -F, 'NR > 1 && $6 != 1 { bad = 1 } END { exit bad }' "$out" || tb_fail "$path: a flow failed"
	tb_fct_median "$out"
}
fast_ms=$(flows fast)
plain_ms=$(flows plain)
echo "median FCT of 50 KB at 40 ms RTT: iw 37 $fast_ms ms, kernel default $plain_ms ms"
# iw 37: request + one round of data = 1 RTT after connect, 2 in all; IW 10: 4
[ "$fast_ms" -lt 120 ] || tb_fail "iw 37 path: median FCT $fast_ms ms, expected about 2 RTT (80 ms)"
[ "$plain_ms" -gt 140 ] || tb_fail "default path: median FCT $plain_ms ms, expected about 4 RTT (160 ms)"

# records: one per flow and side; the server's passive records carry prefix 1 and iw 37
sleep 0.5
fast_recs=$(grep -c "record raddr=${TOPO_PREFIX4_fast%.0/24}.2 .*dir=passive est=1 applied=1 iw_failed=0 iw_kernel=0 prefix_id=1 .* iw=37 .*bytes_acked=50000 bytes_received=8 " "$WORK/learnd.log" || true)
# (the plain path's prefix is discovered from its first record: prefix_id 0, then its own id)
plain_recs=$(grep -c "record raddr=${TOPO_PREFIX4_plain%.0/24}.2 .*dir=passive est=1 .* iw=0 .*bytes_acked=50000 bytes_received=8 " "$WORK/learnd.log" || true)
[ "$fast_recs" -eq $FLOWS ] || tb_fail "fast path: $fast_recs matching records, want $FLOWS"
[ "$plain_recs" -eq $FLOWS ] || tb_fail "plain path: $plain_recs matching records, want $FLOWS"

# a bad config on SIGHUP is refused; the old one stays in force
sed -i 's/^iw = 37$/iw = 0/' "$WORK/learnd.conf"
kill -HUP $LEARND_PID
for _ in $(seq 50); do grep -q 'not reloaded' "$WORK/learnd.log" && break; sleep 0.05; done
grep -q "learnd.conf:[0-9]*: .*iw" "$WORK/learnd.log" || tb_fail "reload error does not name file, line and key"
grep -q 'not reloaded' "$WORK/learnd.log" || tb_fail "no 'configuration not reloaded' message"
kill -0 $LEARND_PID || tb_fail "learnd died on a bad reload"
again_ms=$(flows fast)
[ "$again_ms" -lt 120 ] || tb_fail "after a refused reload: median FCT $again_ms ms, the old iw 37 should stay"

# SIGTERM: clean exit, link and pins gone, program detached
tb_stop_learnd TERM
[ $LEARND_RC -eq 0 ] || tb_fail "learnd exited $LEARND_RC on SIGTERM"
[ ! -e "$PIN" ] || tb_fail "$PIN left behind"
bpftool cgroup show "$TOPO_CGROUP" | grep -q sock_ops && tb_fail "program still attached after SIGTERM"
after_ms=$(flows fast)
[ "$after_ms" -gt 140 ] || tb_fail "after SIGTERM: median FCT $after_ms ms, kernel default expected"
echo "after a refused reload $again_ms ms; after SIGTERM (kernel default) $after_ms ms"
echo "PASS: $NAME"
