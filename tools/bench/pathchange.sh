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
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
A=180 BSECS=300 OUT=$SRC/results/pathchange
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
while getopts "a:b:o:h" o; do
	case $o in
	a) A=$OPTARG ;;
	b) BSECS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
for v in "$A" "$BSECS"; do
	[[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge 10 ] || { echo "pathchange.sh: times are whole seconds >= 10, got '$v'" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "pathchange.sh: needs root" >&2; exit 2; }
B=${LEARND_BUILD:-$SRC/build}
if [ -z "${LEARND_BUILD:-}" ]; then
	"$SRC/tools/deps.sh"
	cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$B" -j "$(nproc)" --target learnd flowgen pathemu >/dev/null
fi
export LEARND_BUILD=$B LD_TOPO=lpchg
PIN=/sys/fs/bpf/learnd-pathchange
PORT=5501
mkdir -p "$OUT"
rm -f "$OUT"/learnd.db* "$OUT"/flows.csv
PIDS=() LEARND_PID=""
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for pid in $LEARND_PID "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in $LEARND_PID "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	"$SRC/tools/topo.sh" down >/dev/null 2>&1 || true
	rm -rf "$PIN"
	exit $rc
}
trap cleanup EXIT INT TERM

echo "deep 80 100 1000 0 0" >"$OUT/path"
"$SRC/tools/topo.sh" up "$OUT/path" >/dev/null
# shellcheck disable=SC1091,SC2154 # topo.env defines TOPO_*
. "/run/learnd-topo/$LD_TOPO/topo.env"
ip netns exec "$TOPO_SRV_NS" sysctl -q -w net.ipv4.tcp_no_metrics_save=1
ip netns exec "$TOPO_NS_deep" sysctl -q -w net.ipv4.tcp_no_metrics_save=1 net.ipv4.tcp_rmem="4096 524288 33554432"
cat >"$OUT/learnd.conf" <<EOF
[learnd]
cgroup = $TOPO_CGROUP
db = $OUT/learnd.db
pin_dir = $PIN
tick_ms = 1000

[defaults]
iw = 4..128
EOF
"$B/learner/learnd" --config "$OUT/learnd.conf" >"$OUT/learnd.log" 2>&1 &
LEARND_PID=$!
"$SRC/tools/topo.sh" exec srv -- "$B/tools/flowgen" server --port $PORT --congestion cubic 2>/dev/null &
PIDS+=($!)
sleep 1
ip netns exec "$TOPO_NS_deep" "$B/tools/flowgen" client --server "$TOPO_SRV4" --port $PORT --sizes 100k,200k,300k \
	--order random --duration $((A + BSECS + 90)) --concurrency 2 --timeout 15 --srv-retrans --out "$OUT/flows.csv" \
	2>/dev/null &
PIDS+=($!)
T0=$(date +%s%N)

iw_now() {
	if [ -n "$LEARND_PID" ]; then
		sqlite3 -readonly "$OUT/learnd.db" "SELECT iw FROM v_slots WHERE cidr = '$TOPO_PREFIX4_deep' AND slot = 0" 2>/dev/null || echo "?"
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
