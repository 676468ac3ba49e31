#!/bin/bash
# learnd demo (README: "Demo"): installs what it needs, builds, brings up the four
# example emulated paths (tools/paths/example.paths), runs learnd on the server's
# cgroup with traffic from every path, and prints `learnctl report`.  Everything
# runs in namespaces and a cgroup the demo creates, and is removed at the end.
#
#   tools/demo.sh [-d SECONDS] [-p PATHFILE] [-k]
#     -d SECONDS   traffic time (default 120)
#     -p PATHFILE  paths to emulate (default tools/paths/example.paths)
#     -k           keep the database (results/demo/learnd.db) from an earlier run
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=120 PATHS=$SRC/tools/paths/example.paths KEEP=0
usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
while getopts "d:p:kh" o; do
	case $o in
	d) DURATION=$OPTARG ;;
	p) PATHS=$OPTARG ;;
	k) KEEP=1 ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[[ $DURATION =~ ^[0-9]+$ ]] && [ "$DURATION" -gt 0 ] || { echo "demo.sh: -d wants whole seconds, got '$DURATION'" >&2; exit 2; }
[ -r "$PATHS" ] || { echo "demo.sh: cannot read path file $PATHS" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: needs root (BPF, cgroups, network namespaces)" >&2; exit 2; }

"$SRC/tools/deps.sh"
echo "== building"
cmake -S "$SRC" -B "$SRC/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$SRC/build" -j "$(nproc)" >/dev/null
B=$SRC/build
export LEARND_BUILD=$B LD_TOPO=ldemo
OUT=$SRC/results/demo
PIN=/sys/fs/bpf/learnd-demo
PORT=5301
mkdir -p "$OUT"
[ $KEEP -eq 1 ] || rm -f "$OUT"/learnd.db*
PIDS=()

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	"$SRC/tools/topo.sh" down >/dev/null 2>&1 || true
	rm -rf "$PIN"
	exit $rc
}
trap cleanup EXIT INT TERM

echo "== bringing up the emulated paths from $PATHS"
"$SRC/tools/topo.sh" up "$PATHS"
# shellcheck disable=SC1091,SC2154 # topo.env defines TOPO_*
. "/run/learnd-topo/$LD_TOPO/topo.env"

cat >"$OUT/learnd.conf" <<EOF
# written by tools/demo.sh
[learnd]
cgroup = $TOPO_CGROUP
db = $OUT/learnd.db
pin_dir = $PIN
sample_rate = 1
tick_ms = 1000

[defaults]
iw = 4..128
syn_rto_ms = 20..1000
EOF
echo "== learnd, config $OUT/learnd.conf, log $OUT/learnd.log"
"$B/learner/learnd" --config "$OUT/learnd.conf" >"$OUT/learnd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q 'attached to' "$OUT/learnd.log" && break; sleep 0.1; done
grep -q 'attached to' "$OUT/learnd.log" || { cat "$OUT/learnd.log" >&2; exit 1; }

"$SRC/tools/topo.sh" exec srv -- "$B/tools/flowgen" server --port $PORT --congestion cubic 2>"$OUT/server.log" &
PIDS+=($!)
sleep 0.5

echo "== traffic for $DURATION s on every path (new connection per flow, 10 KB-1 MB)"
for name in $TOPO_PATHS; do
	ns=TOPO_NS_$name
	ip netns exec "${!ns}" sysctl -q -w net.ipv4.tcp_rmem="4096 524288 33554432" >/dev/null
	ip netns exec "${!ns}" "$B/tools/flowgen" client --server "$TOPO_SRV4" --port $PORT \
		--dist pareto:10k:1m:1.2 --duration "$DURATION" --concurrency 2 --timeout 10 \
		--path "$name" --out "$OUT/$name.csv" 2>/dev/null &
	PIDS+=($!)
done
for ((t = 0; t < DURATION; t += 10)); do
	sleep 10
	printf '   %3d s: %s flows\n' $((t + 10)) "$(cat "$OUT"/*.csv 2>/dev/null | grep -vc '^path' || true)"
done
sleep 3

echo
echo "== flows per path (flowgen summarize)"
cat "$OUT"/*.csv | awk 'NR == 1 || !/^path/' | "$B/tools/flowgen" summarize - --by path
echo
echo "== learnctl report"
"$B/learner/learnctl" --config "$OUT/learnd.conf" report
echo
echo "The database stays in $OUT/learnd.db: try"
echo "  $B/learner/learnctl --db $OUT/learnd.db show ${TOPO_PREFIX4_deep:-PREFIX}"
