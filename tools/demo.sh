#!/bin/bash
# learnd demo (README: "Demo"): installs what it needs, builds, brings up the four
# example emulated paths (tools/paths/example.paths), runs learnd on the server's
# cgroup with traffic from every path, prints `learnctl report`, and draws one
# picture per path with `learnctl plot` (results/demo/plot-PATH.svg: what each
# value cost, what was chosen when and why).  Everything runs in namespaces and
# a cgroup the demo creates, and is removed at the end.
#
#   tools/demo.sh [-d SECONDS] [-p PATHFILE] [-k]
#     -d SECONDS   traffic time (default 120)
#     -p PATHFILE  paths to emulate (default tools/paths/example.paths)
#     -k           keep the database (results/demo/learnd.db) from an earlier run
set -euo pipefail
# shellcheck source=tools/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench/lib.sh"
SRC=$BENCH_SRC
DURATION=120 PATHS=$SRC/tools/paths/example.paths KEEP=0
bench_options "d:DURATION p:PATHS k=KEEP" "$@"
[[ $DURATION =~ ^[0-9]+$ ]] && [ "$DURATION" -gt 0 ] || bench_die "-d wants whole seconds, got '$DURATION'"
[ -r "$PATHS" ] || bench_die "cannot read path file $PATHS"
bench_need_root "BPF, cgroups, network namespaces"

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
bench_cleanup

echo "== bringing up the emulated paths from $PATHS"
tb_topo_up "$PATHS" none

tb_conf "$OUT/learnd.conf" "$TOPO_CGROUP" "$OUT/learnd.db" sample_rate=1 tick_ms=1000 <<EOF
[defaults]
iw = 4..128
syn_rto_ms = 20..1000
EOF
echo "== learnd, config $OUT/learnd.conf, log $OUT/learnd.log"
bench_start_learnd "$OUT/learnd.conf" "$OUT/learnd.log"

"$SRC/tools/topo.sh" exec srv -- "$B/tools/flowgen" server --port $PORT --congestion cubic 2>"$OUT/server.log" &
tb_track $!
sleep 0.5

echo "== traffic for $DURATION s on every path (new connection per flow, 10 KB-1 MB)"
for name in $TOPO_PATHS; do
	ns=TOPO_NS_$name
	ip netns exec "${!ns}" sysctl -q -w net.ipv4.tcp_rmem="4096 524288 33554432" >/dev/null
	ip netns exec "${!ns}" "$B/tools/flowgen" client --server "$TOPO_SRV4" --port $PORT \
		--dist pareto:10k:1m:1.2 --duration "$DURATION" --concurrency 2 --timeout 10 \
		--path "$name" --out "$OUT/$name.csv" 2>/dev/null &
	tb_track $!
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
echo "== pictures (learnctl plot: what each value cost, what was chosen when and why; open in a browser)"
for name in $TOPO_PATHS; do
	pfx=TOPO_PREFIX4_$name
	rm -f "$OUT/plot-$name.svg"
	if "$B/learner/learnctl" --db "$OUT/learnd.db" plot "${!pfx}" -o "$OUT/plot-$name.svg" 2>"$OUT/plot-$name.err"; then
		printf '   %-8s %-15s %s\n' "$name" "${!pfx}" "$OUT/plot-$name.svg"
	else
		printf '   %-8s %-15s no picture: %s\n' "$name" "${!pfx}" "$(cat "$OUT/plot-$name.err")"
	fi
	rm -f "$OUT/plot-$name.err"
done
echo
echo "The database stays in $OUT/learnd.db: try"
echo "  $B/learner/learnctl --db $OUT/learnd.db show ${TOPO_PREFIX4_deep:-PREFIX}"
