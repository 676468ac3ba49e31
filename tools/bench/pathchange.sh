#!/bin/bash
# Does learnd follow a path that changes?  (docs/benchmarks.md, "Path change")
#
# One emulated path, the example "deep" one (80 ms, 100 Mbit/s, queue 1000).
# learnd learns IW within 4..128 under steady traffic; then the path's queue is
# shrunk to 10 packets (a large initial burst is now dropped), and later learnd is
# stopped to measure the kernel default on the changed path.  Every 10 s the
# script prints the IW in force and the FCT and retransmit rate of the flows of
# those 10 s.
#
#   sudo tools/bench/pathchange.sh [-a SECONDS] [-b SECONDS] [-o DIR]
#     -a  learning time on the original path (default 180)
#     -b  time after the change (default 300)
#     -o  output directory (default results/pathchange)
#   Environment: LEARND_BUILD=DIR uses that build as it is (no deps, no build step).
set -euo pipefail
# shellcheck source=tools/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SRC=$BENCH_SRC
A=180 BSECS=300 OUT=$SRC/results/pathchange
bench_options "a:A b:BSECS o:OUT" "$@"
bench_whole 10 "times (seconds)" "$A" "$BSECS"
bench_need_root
bench_build learnd flowgen pathemu
export LD_TOPO=lpchg
PIN=/sys/fs/bpf/learnd-pathchange
PORT=5501
mkdir -p "$OUT"
rm -f "$OUT"/learnd.db* "$OUT"/flows.csv
bench_cleanup
echo "deep 80 100 1000 0 0" >"$OUT/path"
# the server's and the path's namespaces: no TCP metrics saved; the client's receive buffer open
tb_topo_up "$OUT/path" rmem
tb_conf "$OUT/learnd.conf" "$TOPO_CGROUP" "$OUT/learnd.db" tick_ms=1000 <<EOF
[defaults]
iw = 4..128
EOF
bench_start_learnd "$OUT/learnd.conf" "$OUT/learnd.log"
LEARND_PID=$BENCH_PID
"$SRC/tools/topo.sh" exec srv -- "$B/tools/flowgen" server --port $PORT --congestion cubic 2>/dev/null &
tb_track $!
sleep 1
ip netns exec "$TOPO_NS_deep" "$B/tools/flowgen" client --server "$TOPO_SRV4" --port $PORT --sizes 100k,200k,300k \
	--order random --duration $((A + BSECS + 90)) --concurrency 2 --timeout 15 --srv-retrans --out "$OUT/flows.csv" \
	2>/dev/null &
tb_track $!
T0=$(date +%s%N)

iw_now() {
	if [ -n "$LEARND_PID" ]; then
		"$B/learner/learnctl" --db "$OUT/learnd.db" show "$TOPO_PREFIX4_deep" --json 2>/dev/null |
			python3 -c 'import json, sys; print([s["iw"] for s in json.load(sys.stdin)["slots"] if s["slot"] == 0][0])' \
				2>/dev/null || echo "?"
	else
		echo "10 (kernel)"
	fi
}
# flows that started in [from, to) seconds after T0: count, mean FCT ms, server retransmit %
window() {
	awk -F, -v t0="$T0" -v a="$1" -v b="$2" 'NR > 1 && $6 == 1 {
		s = ($9 * 1000 - t0) / 1e9; if (s < a || s >= b) next
		n++; f += $4 / 1000; r += $12; g += $13 }
		END { if (n) printf "%5d %9.1f %7.2f", n, f / n, g ? 100 * r / g : 0; else printf "%5d %9s %7s", 0, "-", "-" }' "$OUT/flows.csv"
}

printf '%6s %-22s %-12s %5s %9s %7s\n' t_s phase iw_in_force flows fct_ms rtx%
phase="queue 1000" t=0
report() { printf '%6d %-22s %-12s %s\n' "$t" "$phase" "$(iw_now)" "$(window $((t - 10)) "$t")"; }
while [ $t -lt "$A" ]; do sleep 10; t=$((t + 10)); report; done
"$SRC/tools/topo.sh" set deep queue_pkts=10 >/dev/null
phase="queue 10 (changed)"
while [ $t -lt $((A + BSECS)) ]; do sleep 10; t=$((t + 10)); report; done
kill "$LEARND_PID"
wait "$LEARND_PID" 2>/dev/null || true
tb_untrack "$LEARND_PID"
LEARND_PID=""
phase="queue 10, no learnd"
while [ $t -lt $((A + BSECS + 80)) ]; do sleep 10; t=$((t + 10)); report; done
echo
echo "learnd's IW decisions (from $OUT/learnd.log):"
grep -E ': iw [0-9]+ -> ' "$OUT/learnd.log" | sed 's/^/  /' || true
echo
printf 'summary, 100-300 KB flows:  %-34s %s\n' "" "flows   fct_ms    rtx%"
printf '  %-56s %s\n' "learnd, last 60 s before the change" "$(window $((A - 60)) "$A")"
printf '  %-56s %s\n' "learnd, last 60 s after the change" "$(window $((A + BSECS - 60)) $((A + BSECS)))"
printf '  %-56s %s\n' "kernel default on the changed path (learnd stopped)" "$(window $((A + BSECS + 20)) $((A + BSECS + 80)))"
