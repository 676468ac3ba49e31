#!/bin/bash
# test_flowgen_fct: the FCT of a single 100 KB flow on a 40 ms RTT path (100 Mbit/s, deep
# queue, no loss) is 4-6 RTTs with the kernel default IW and 2-3.5 RTTs with initcwnd 80 on
# the server's route (median of 5 flows, each a new connection).
# shellcheck disable=SC2154 # TOPO_* come from the sourced topo.env
set -euo pipefail
NAME=flowgen_fct
SRC=${LEARND_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export LEARND_BUILD=${LEARND_BUILD:-$SRC/build}
FG=$LEARND_BUILD/tools/flowgen
TOPO=$SRC/tools/topo.sh
export LD_TOPO=tfg$$
WORK=$(mktemp -d /tmp/test_flowgen_fct.XXXXXX)
SRV_PID=""
PORT=5101
FLOWS=5

cleanup() {
	local rc=$?
	trap - EXIT
	if [ -n "$SRV_PID" ]; then
		kill "$SRV_PID" 2>/dev/null || true
		wait "$SRV_PID" 2>/dev/null || true
	fi
	"$TOPO" down >/dev/null 2>&1 || echo "cleanup: topo.sh down failed for $LD_TOPO" >&2
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $NAME: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root"
[ -x "$FG" ] || fail "flowgen not built ($FG)"
[ -x "$LEARND_BUILD/tools/pathemu" ] || fail "pathemu not built"

# name rtt_ms rate_mbit queue_pkts loss syn_loss
echo "fct40 40 100 1000 0 0" >"$WORK/fct.paths"
"$TOPO" up "$WORK/fct.paths" >/dev/null
# shellcheck disable=SC1090,SC2154 # topo.env defines TOPO_*
. "/run/learnd-topo/$LD_TOPO/topo.env"
SRV=$TOPO_SRV_NS
CLI=$TOPO_NS_fct40
RTT_MS=$TOPO_RTT_fct40
ip netns exec "$SRV" sysctl -q -w net.ipv4.tcp_no_metrics_save=1 >/dev/null
ip netns exec "$CLI" sysctl -q -w net.ipv4.tcp_no_metrics_save=1 \
	net.ipv4.tcp_rmem="4096 524288 33554432" >/dev/null

"$TOPO" exec srv -- "$FG" server --port $PORT --congestion cubic 2>"$WORK/server.log" &
SRV_PID=$!
for _ in $(seq 100); do
	ip netns exec "$SRV" ss -Hltn "sport = :$PORT" | grep -q . && break
	sleep 0.05
done
ip netns exec "$SRV" ss -Hltn "sport = :$PORT" | grep -q . || fail "server not listening"

# run FLOWS single 100 KB flows with the server route's initcwnd (0 = no attribute);
# prints "median_fct_us median_min_rtt_us max_srv_retrans"
measure() {
	local iw=$1 out=$WORK/iw$1.csv
	if [ "$iw" -eq 0 ]; then
		ip -n "$SRV" route change "$TOPO_PREFIX4_fct40" dev t-fct40 src "$TOPO_SRV4" congctl cubic
	else
		ip -n "$SRV" route change "$TOPO_PREFIX4_fct40" dev t-fct40 src "$TOPO_SRV4" congctl cubic initcwnd "$iw"
	fi
	ip netns exec "$CLI" "$FG" client --server "$TOPO_SRV4" --port $PORT --sizes 100k \
		--count $FLOWS --concurrency 1 --srv-retrans --timeout 10 --path fct40 --out "$out" 2>/dev/null
	[ "$(tail -n +2 "$out" | wc -l)" -eq $FLOWS ] || fail "iw $iw: expected $FLOWS rows in $out"
	awk -F, 'NR > 1 && $6 != 1 { bad = 1 } END { exit bad }' "$out" || fail "iw $iw: a flow failed: $(cat "$out")"
	tail -n +2 "$out" | awk -F, '{ print $4, $11, $12 }' | sort -n | awk -v n=$FLOWS '
		{ f[NR] = $1; r[NR] = $2; if ($3 > mx) mx = $3 }
		END { m = int((n + 1) / 2); printf "%d %d %d\n", f[m], r[m], mx + 0 }'
}

read -r def_fct def_rtt def_rtx <<<"$(measure 0)"
read -r iw80_fct iw80_rtt iw80_rtx <<<"$(measure 80)"
def_x=$(awk -v f="$def_fct" -v r="$RTT_MS" 'BEGIN { printf "%.2f", f / (r * 1000) }')
iw80_x=$(awk -v f="$iw80_fct" -v r="$RTT_MS" 'BEGIN { printf "%.2f", f / (r * 1000) }')
echo "path fct40: rtt $RTT_MS ms (client min_rtt: default run $((def_rtt / 1000)) ms, iw80 run $((iw80_rtt / 1000)) ms)"
echo "default IW: median FCT $((def_fct / 1000)) ms = $def_x RTT (server retransmits max $def_rtx)"
echo "initcwnd 80: median FCT $((iw80_fct / 1000)) ms = $iw80_x RTT (server retransmits max $iw80_rtx)"

awk -v x="$def_x" 'BEGIN { exit !(x >= 4 && x <= 6) }' || fail "default IW: $def_x RTT, expected 4..6"
awk -v x="$iw80_x" 'BEGIN { exit !(x >= 2 && x <= 3.5) }' || fail "initcwnd 80: $iw80_x RTT, expected 2..3.5"
echo "PASS: $NAME"
