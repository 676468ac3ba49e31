#!/bin/bash
# The fleet benchmark: what one host learned, a cold host on the fleet knows
# (docs/benchmarks.md, "Fleet"; docs/fleet.md).  Sparse traffic as in
# tools/bench/sparse.sh (the same paths, sizes, blocks of 25 and scores), one
# throwaway PostgreSQL (tools/pgtmp.sh) and three learnd "hosts", each on a cgroup
# of its own with its own database, pin directory and server in the server
# namespace (bounds only: iw = 4..128, rwnd = 10..256, syn_rto_ms = 4..1000):
#   A  [fleet] host = a (port 5611): warms up on every path, N connections, in
#      rounds with the kernel default (5602) and a static IW (10.200.0.(10+k),
#      initcwnd SWEEP[k], rotating) as sparse.sh does: the best static value per path
#   B  [fleet] host = b, the same site (port 5612), started cold after A's warm-up
#      once A has pushed: its first 25 connections per path
#   C  no [fleet] (port 5613), cold, started with B: its first 25 connections
# B's and C's first 25 are measured next to REPS default blocks and REPS blocks of
# the best static value of the warm-up (the same sizes, the same seed).  Then the
# fault case: PostgreSQL stopped (pg_ctl -m immediate), B and C replaced by cold
# ones (B still with its [fleet] section), their first 25 again next to the default:
# B's should be C's, within noise.  Prints per path B's and C's first 25 against the
# default and against the best static value, with 95% intervals.
#
#   sudo tools/bench/fleet.sh [-n CONNS] [-r REPS] [-i SECONDS] [-s SEED] [-o DIR] [-F] [-q]
#     -n  A's warm-up connections per path (default 300; a multiple of 25)
#     -r  default and best-static blocks next to B's and C's (default 2)
#     -i  the fleet's interval_s (default 5)
#     -s  seed of the size sequences (default 1)
#     -o  output directory (default results/fleet)
#     -F  no fault phase
#     -q  quick: 2 paths, -n 50 -r 1 -i 2, sweep 10 40 (the ctest smoke test)
#   Environment: LEARND_BUILD=DIR uses that build as it is (no deps, no build step);
#   FLEET_PATHS: another path file.
set -euo pipefail
# shellcheck source=tools/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SRC=$BENCH_SRC
N=300 REPS=2 INTERVAL=5 SEED=1 OUT=$SRC/results/fleet NOFAULT=0 QUICK=0
BLOCK=25
SIZES=10k,30k,100k,300k,1m
SWEEP="4 10 20 40 80 128"
bench_options "n:N r:REPS i:INTERVAL s:SEED o:OUT F=NOFAULT q=QUICK" "$@"
bench_whole 1 "-n, -r, -i and -s" "$N" "$REPS" "$INTERVAL" "$SEED"
[ $((N % BLOCK)) -eq 0 ] || bench_die "-n $N: must be a positive multiple of $BLOCK"
bench_need_root

PATHS=${FLEET_PATHS:-$SRC/tools/paths/sparse.paths}
if [ "$QUICK" = 1 ]; then
	N=50 REPS=1 INTERVAL=2 SWEEP="10 40"
	PATHS=$(mktemp)
	printf 'deep 20 100 1000 0 0\nshallow 20 20 12 0 0\n' >"$PATHS"
fi
read -ra SW <<<"$SWEEP"
BOUNDS="iw = 4..128
rwnd = 10..256
syn_rto_ms = 4..1000"
M1=1000 M2=2000 # the rounds (size sequences) of the first-25 phases

bench_build learnd learnctl flowgen pathemu
for f in learner/learnd learner/learnctl tools/flowgen tools/pathemu; do
	[ -x "$B/$f" ] || bench_die "$B/$f not found (build it, or set LEARND_BUILD)"
done
FLOWGEN=$B/tools/flowgen
# shellcheck source=tools/pgtmp.sh
. "$SRC/tools/pgtmp.sh"
mkdir -p "$OUT"
rm -rf "${OUT:?}"/srv "$OUT"/*.txt "$OUT"/*.json
TS=fl$$ # topology name
PIN=/sys/fs/bpf/learnd-$TS
RUN=$OUT/.run
: >"$RUN"
PGW=$(mktemp -d /tmp/learnd-fleet.XXXXXX)
chmod 755 "$PGW"

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	sp_cleanup_run "$TS"
	pgtmp_stop "$PGW/pg"
	rm -rf "$PGW"
	[ "$QUICK" = 0 ] || rm -f "$PATHS"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fleet_conf HOST: the [fleet] section of host HOST (its own role, password in a passfile)
fleet_conf() {
	printf '[fleet]\nconninfo = %s passfile=%s\nhost = %s\nsite = bench\ninterval_s = %s\n' \
		"$(pgtmp_conninfo "$PGW/pg" "fleet_$1")" "$PGW/passfile" "$1" "$INTERVAL"
}

# warm_path NAME: A's rounds on one path (A, the default, a static value in turn)
warm_path() {
	local r k ns=TOPO_NS_$1
	PATH_NAME=$1
	for r in $(seq 0 $((N / BLOCK - 1))); do
		sp_block "$DIR" a "$r" "$TOPO_SRV4" 5611 "${!ns}"
		sp_block "$DIR" default "$r" "$TOPO_SRV4" 5602 "${!ns}"
		k=$((r % ${#SW[@]}))
		sp_block "$DIR" "static${SW[$k]}" "$r" "10.200.0.$((10 + k))" 5602 "${!ns}"
	done
}

# first_path NAME ROUND B C [STATIC]: the first 25 of hosts B and C (arm names), then
# REPS blocks of the default and of STATIC (an index into SW), the same sizes
first_path() {
	local name=$1 round=$2 k=${5:-} i ns=TOPO_NS_$1
	PATH_NAME=$name
	sp_block "$DIR" "$3" "$round" "$TOPO_SRV4" 5612 "${!ns}"
	sp_block "$DIR" "$4" "$round" "$TOPO_SRV4" 5613 "${!ns}"
	for i in $(seq "$REPS"); do
		sp_block "$DIR" default "$round" "$TOPO_SRV4" 5602 "${!ns}"
		[ -z "$k" ] || sp_block "$DIR" best "$round" "10.200.0.$((10 + k))" 5602 "${!ns}"
	done
}

# each_path FUNCTION ARGS...: FUNCTION NAME ARGS on every path at once; waits for all
each_path() {
	local name pids=()
	for name in $TOPO_PATHS; do
		"$1" "$name" "${@:2}" &
		pids+=($!)
	done
	wait "${pids[@]}"
}

# report HOST: learnctl report of host HOST (its directory) into DIR/report.HOST.txt
report() {
	"$B/learner/learnctl" --config "$DIR/$1/learnd.conf" report >"$DIR/report.$1.txt" 2>&1 || true
}

# wait_fleet HOST WHAT: until the link of HOST has WHAT ("pushed" or "pulled") rows
# (its daemon table, fleet_rows_WHAT), at most 4 intervals; says so when it never did
wait_fleet() {
	local v
	for _ in $(seq $((INTERVAL * 20))); do
		v=$(sqlite3 -readonly "$DIR/$1/learnd.db" "SELECT value FROM daemon WHERE key = 'fleet_rows_$2'" 2>/dev/null || true)
		[ "${v:-0}" -gt 0 ] 2>/dev/null && return 0
		sleep 0.2
	done
	echo "fleet.sh: host $1: no fleet rows $2 after $((INTERVAL * 4)) s" >&2
}

echo "fleet.sh: A warms up on $N connections per path, B and C first 25 next to $REPS default and best-static blocks, interval $INTERVAL s, seed $SEED, output $OUT" >&2
pgtmp_start "$PGW/pg" >/dev/null
PW=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
for h in a b; do pgtmp_role "$PGW/pg" "fleet_$h" "$PW" "$h"; done
(umask 077 && echo "*:*:*:*:$PW" >"$PGW/passfile")

export LD_TOPO=$TS
"$SRC/tools/topo.sh" up "$PATHS" >/dev/null
# shellcheck disable=SC1090 # topo.env defines TOPO_*
. "/run/learnd-topo/$TS/topo.env"
DIR=$OUT/srv
mkdir -p "$DIR"
for k in "${!SW[@]}"; do
	sp_static_routes "$TOPO_SRV_NS" "10.200.0.$((10 + k))" $((100 + k)) "${SW[$k]}"
done
declare -A CG
for h in a b c; do
	sp_cgroup "$TS-$h"
	CG[$h]=$SP_CG
done
sp_start_learnd "$DIR/a" "${CG[a]}" "$PIN-a" "$(fleet_conf a)"
sp_server "${CG[a]}" 5611 "$DIR/server-a.log"
sp_server "${CG[b]}" 5612 "$DIR/server-b.log"
sp_server "${CG[c]}" 5613 "$DIR/server-c.log"
sp_server - 5602 "$DIR/server-default.log"
sp_wait_listen 4 5611 5612 5613 5602

# 1. A warms up; the best static value per path from the sweep beside it
each_path warm_path
sp_merge_conns "$DIR"
report a
wait_fleet a pushed
sleep $((2 * INTERVAL)) # A's push of its last evidence
declare -A BEST
while read -r name v; do
	for k in "${!SW[@]}"; do [ "${SW[$k]}" != "$v" ] || BEST[$name]=$k; done
done < <(python3 "$SRC/tools/bench/fleet_report.py" --out "$OUT" --best)

# 2. B (on the fleet) and C (alone), cold: their first 25 connections
sp_start_learnd "$DIR/b" "${CG[b]}" "$PIN-b" "$(fleet_conf b)"
PID_B=$SP_PID
sp_start_learnd "$DIR/c" "${CG[c]}" "$PIN-c"
PID_C=$SP_PID
wait_fleet b pulled
sleep "$INTERVAL" # B installs what it pulled
FPIDS=()
for name in $TOPO_PATHS; do
	first_path "$name" $M1 b c "${BEST[$name]:-}" &
	FPIDS+=($!)
done
wait "${FPIDS[@]}"
report b
report c

# 3. The fault case: PostgreSQL stopped hard; a cold B (with [fleet]) and a cold C
if [ "$NOFAULT" = 0 ]; then
	pgtmp_kill "$PGW/pg"
	sp_stop "$PID_B"
	sp_stop "$PID_C"
	sp_start_learnd "$DIR/b0" "${CG[b]}" "$PIN-b0" "$(fleet_conf b)"
	sp_start_learnd "$DIR/c0" "${CG[c]}" "$PIN-c0"
	sleep $((2 * INTERVAL)) # B tries the link, and fails
	each_path first_path $M2 b0 c0
	report b0
	report c0
	grep -i fleet "$DIR/b0/learnd.log" | head -n 5 >"$DIR/fault-log.txt" || true
fi
sp_merge_conns "$DIR"
FLEET_PATHS_FILE=$PATHS python3 "$SRC/tools/bench/fleet_report.py" --block $BLOCK --out "$OUT" | tee "$OUT/summary.txt"
