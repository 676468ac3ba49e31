#!/bin/bash
# shellcheck disable=SC2154 # TOPO_* variables come from the sourced topo.env
# test_pathemu_throughput.sh — how fast pathemu forwards full-size packets.
#   1. unlimited rate, 2 ms RTT: TCP bulk goodput (1500 B data packets one way, ACKs
#      the other, both through pathemu) must exceed 100 Mbit/s; prints the maximum
#   2. rate 100 Mbit/s, 20 ms RTT: goodput within 5% of 100 × 1448/1500
# Prints pathemu's CPU use (user+system time / wall time) for both.
# Needs root. Env: LEARND_BUILD (build dir), LEARND_SRC (source tree).
set -euo pipefail

NAME=pathemu_throughput
SRC=${LEARND_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export LEARND_BUILD=${LEARND_BUILD:-$SRC/build}
TOPO=$SRC/tools/topo.sh
export LD_TOPO=tpt$$
STATE=/run/learnd-topo/$LD_TOPO
TMP=$(mktemp -d /tmp/test_pathemu_tput.XXXXXX)
BG=()

cleanup() {
	local rc=$? p
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done
	"$TOPO" down >/dev/null 2>&1 || true
	rm -rf "$TMP"
	[ $rc -eq 0 ] || echo "FAIL: $NAME (status $rc)"
	exit $rc
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
check() {
	local desc=$1 cond=$2
	shift 2
	if awk "$@" "BEGIN { exit !($cond) }"; then echo "  ok: $desc"; else fail "$desc"; fi
}

[ "$(id -u)" -eq 0 ] || fail "$NAME needs root (network namespaces, TUN devices, cgroups)"
[ -x "$LEARND_BUILD/tools/pathemu" ] || fail "no $LEARND_BUILD/tools/pathemu (build target pathemu)"

cat >"$TMP/h.py" <<'EOF'
import socket, sys, time
if sys.argv[1] == "srv":
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", int(sys.argv[2]))); s.listen(16)
    buf = b"x" * (1 << 20)
    while True:
        c, _ = s.accept()
        n = int(c.recv(64).split(b"\n")[0])
        while n > 0:
            n -= c.send(buf[:min(n, len(buf))])
        c.close()
else:  # cli HOST PORT SIZE SKIP -> goodput Mbit/s after the first SKIP bytes
    h, p, size, skip = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    s = socket.socket(socket.AF_INET); s.connect((h, p)); s.sendall(b"%d\n" % size)
    got = 0; ts = None; gs = 0
    while True:
        d = s.recv(1 << 20)
        if not d: break
        got += len(d)
        if ts is None and got >= skip: ts = time.monotonic(); gs = got
    print("%d %.1f" % (got, (got - gs) * 8 / (time.monotonic() - ts) / 1e6))
EOF

cat >"$TMP/tput.paths" <<'EOF'
fast 2 0 10000 0 0
lim 20 100 1000 0 0
EOF
"$TOPO" up "$TMP/tput.paths"
# shellcheck disable=SC1090,SC1091
. "$STATE/topo.env"
"$TOPO" exec srv -- python3 "$TMP/h.py" srv 5001 &
BG+=($!)
for _ in $(seq 50); do
	ip netns exec "$TOPO_SRV_NS" ss -Hltn 'sport = :5001' | grep -q . && break
	sleep 0.05
done

cpu_ticks() { # utime + stime of a pid, in clock ticks
	sed -E 's/^.*\) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

run() { # run PATH SIZE SKIP: prints "goodput_mbit cpu_percent avg_packet_bytes"
	local name=$1 pid c0 c1 t0 t1 got mbit
	pid=$(cat "$STATE/$name.pid")
	c0=$(cpu_ticks "$pid")
	t0=$(date +%s.%N)
	read -r got mbit < <("$TOPO" exec "$name" -- python3 "$TMP/h.py" cli "$TOPO_SRV4" 5001 "$2" "$3")
	t1=$(date +%s.%N)
	c1=$(cpu_ticks "$pid")
	[ "$got" = "$2" ] || fail "$name: received $got of $2 bytes"
	"$TOPO" stats "$name" >"$TMP/$name.stats"
	awk -F= -v m="$mbit" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" '
		$1 == "b2a_fwd_pkts" { n = $2 } $1 == "b2a_fwd_bytes" { b = $2 }
		END { printf "%s %.0f %.0f\n", m, 100 * (c1 - c0) / hz / (t1 - t0), b / n }' "$TMP/$name.stats"
}

echo "== 1. unlimited rate, 2 ms RTT, 300 MB"
read -r mbit cpu avg < <(run fast 300000000 20000000)
echo "  goodput $mbit Mbit/s; pathemu CPU $cpu% of one core; mean data packet $avg B"
check "full-size packets (mean $avg B >= 1400)" "a >= 1400" -v a="$avg"
check "pathemu sustains > 100 Mbit/s of full-size packets ($mbit)" "m > 100" -v m="$mbit"

echo "== 2. 100 Mbit/s bottleneck, 20 ms RTT, 100 MB"
exp=$(awk 'BEGIN { printf "%.2f", 100 * 1448 / 1500 }')
read -r mbit cpu avg < <(run lim 100000000 10000000)
echo "  goodput $mbit Mbit/s (expected $exp); pathemu CPU $cpu% of one core; mean data packet $avg B"
check "goodput within 5% of $exp Mbit/s" "m >= e * 0.95 && m <= e * 1.05" -v m="$mbit" -v e="$exp"

echo "PASS: $NAME"
