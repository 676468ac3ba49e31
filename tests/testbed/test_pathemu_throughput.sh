#!/bin/bash
# shellcheck disable=SC2154 # TOPO_* variables come from the sourced topo.env
# test_pathemu_throughput.sh — how fast pathemu forwards full-size packets.
#   1. unlimited rate, 2 ms RTT: TCP bulk goodput (1500 B data packets one way, ACKs
#      the other, both through pathemu) must exceed 100 Mbit/s; prints the maximum
#   2. rate 100 Mbit/s, 20 ms RTT: goodput within 5% of 100 × 1448/1500
# Prints pathemu's CPU use (user+system time / wall time) for both.
# Needs root. Env: LEARND_BUILD (build dir), LEARND_SRC (source tree).
set -euo pipefail
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init pathemu_throughput test_pathemu_tput
export LD_TOPO=tpt$$
STATE=/run/learnd-topo/$LD_TOPO
H=$SRC/tests/testbed/pathemu_probe.py
tb_need "$LEARND_BUILD/tools/pathemu"

cat >"$WORK/tput.paths" <<'EOF'
fast 2 0 10000 0 0
lim 20 100 1000 0 0
EOF
tb_topo_up "$WORK/tput.paths" none
tb_probe_server 5001

cpu_ticks() { # utime + stime of a pid, in clock ticks
	sed -E 's/^.*\) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

run() { # run PATH SIZE SKIP: prints "goodput_mbit cpu_percent avg_packet_bytes"
	local name=$1 pid c0 c1 t0 t1 got mbit
	pid=$(cat "$STATE/$name.pid")
	c0=$(cpu_ticks "$pid")
	t0=$(date +%s.%N)
	read -r got mbit < <("$TOPO" exec "$name" -- python3 "$H" bulk "$TOPO_SRV4" 5001 "$2" "$3")
	t1=$(date +%s.%N)
	c1=$(cpu_ticks "$pid")
	[ "$got" = "$2" ] || tb_fail "$name: received $got of $2 bytes"
	"$TOPO" stats "$name" >"$WORK/$name.stats"
	awk -F= -v m="$mbit" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" '
		$1 == "b2a_fwd_pkts" { n = $2 } $1 == "b2a_fwd_bytes" { b = $2 }
		END { printf "%s %.0f %.0f\n", m, 100 * (c1 - c0) / hz / (t1 - t0), b / n }' "$WORK/$name.stats"
}

echo "== 1. unlimited rate, 2 ms RTT, 300 MB"
read -r mbit cpu avg < <(run fast 300000000 20000000)
echo "  goodput $mbit Mbit/s; pathemu CPU $cpu% of one core; mean data packet $avg B"
tb_check "full-size packets (mean $avg B >= 1400)" "a >= 1400" -v a="$avg"
tb_check "pathemu sustains > 100 Mbit/s of full-size packets ($mbit)" "m > 100" -v m="$mbit"

echo "== 2. 100 Mbit/s bottleneck, 20 ms RTT, 100 MB"
exp=$(awk 'BEGIN { printf "%.2f", 100 * 1448 / 1500 }')
read -r mbit cpu avg < <(run lim 100000000 10000000)
echo "  goodput $mbit Mbit/s (expected $exp); pathemu CPU $cpu% of one core; mean data packet $avg B"
tb_check "goodput within 5% of $exp Mbit/s" "m >= e * 0.95 && m <= e * 1.05" -v m="$mbit" -v e="$exp"

echo "PASS: $NAME"
