#!/bin/bash
# Sparse traffic: learnd against the kernel default and the best static IW, the way
# users' traffic reaches a server (docs/benchmarks.md, "Sparse traffic").
#
# Server mode: on every path of tools/paths/sparse.paths, one connection at a time
# (flowgen, a new connection per request, sizes 10k 30k 100k 300k 1m in random order).
# Three servers in the server namespace, measured in turn in blocks of 25 connections:
#   learnd   flowgen in the topology cgroup, where learnd (bounds only: iw = 4..128,
#            rwnd = 10..256, syn_rto_ms = 4..1000, default sampling) is attached
#   default  flowgen outside any learnd cgroup, at 10.200.0.1: the kernel default
#   static   the same flowgen at 10.200.0.(10+k): a policy rule sends its answers through
#            routing table 100+k, whose routes carry initcwnd SWEEP[k]
#   floor    (connect phase of SYN-loss paths) flowgen in a cgroup of its own, where a
#            second learnd holds syn_rto_ms at the lower bound: the fastest connect any
#            server SYN-ACK timer gets
# A round is a learnd block, a default block and a static block (the static value
# rotates through the sweep); a learnd block and the other blocks of its round draw the
# same sizes (same seed).  Prints per path the score against the default, the best
# static value and its score, the convergence curve, cumulative time over the first
# 300, probe share, retransmits, connect time and learnd's values, with 95% intervals.
#
# Client mode (tools/paths/sparse-client.paths, its own topology, run at the same time):
# learnd on the client side, one learnd and one cgroup per client namespace, holding
# the clients of the learnd blocks; servers at IW 10 (10.200.0.1) and IW 64
# (10.200.1.64, initcwnd 64 by policy route); client tcp_rmem at the Debian default
# (cdeb) and raised (craise); connect time on a SYN-loss path (csyn, 10 KB requests).
# Client sizes add 80k (55 packets): it fits an IW 64 sender's first flight but not
# the client's default window of 44 packets, the case where RWND can gain.
#
#   sudo tools/bench/sparse.sh [-n CONNS] [-c CONNS] [-s SEED] [-o DIR] [-m MODE] [-q]
#     -n  learnd connections per path, server mode (default 400; a multiple of 25)
#     -c  learnd connections per path and server, client mode (default 300)
#     -s  seed of the size sequences (default 1)
#     -o  output directory (default results/sparse)
#     -m  server, client or both (default both)
#     -k  connect-phase rounds on paths with SYN loss, server mode (default 10: 1,000
#         10 KB requests each for learnd, the default and the floor, 4 at a time; 0: none)
#     -q  quick: 2 paths, -n 25 -c 25, sweep 40 (the ctest smoke test)
#   Environment: LEARND_BUILD=DIR uses that build as it is (no deps, no build step);
#   SPARSE_PATHS / SPARSE_CLIENT_PATHS: other path files.
set -euo pipefail
# shellcheck source=tools/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SRC=$BENCH_SRC
N=400 NC=300 SEED=1 OUT=$SRC/results/sparse MODE=both QUICK=0 CONN_ROUNDS=10 CONN_COUNT=100
BLOCK=25
SIZES=10k,30k,100k,300k,1m
CSIZES=10k,30k,80k,100k,300k,1m
SWEEP="4 10 20 40 80 128"
die() { bench_die "$@"; }
bench_options "n:N c:NC s:SEED o:OUT m:MODE k:CONN_ROUNDS q=QUICK" "$@"
[[ $N =~ ^[0-9]+$ ]] || die "-n $N: not a whole number"
[[ $NC =~ ^[0-9]+$ ]] || die "-c $NC: not a whole number"
[[ $SEED =~ ^[0-9]+$ ]] || die "-s $SEED: not a whole number"
[[ $CONN_ROUNDS =~ ^[0-9]+$ ]] || die "-k $CONN_ROUNDS: not a whole number"
[ $((N % BLOCK)) -eq 0 ] && [ "$N" -gt 0 ] || die "-n $N: must be a positive multiple of $BLOCK"
[ $((NC % BLOCK)) -eq 0 ] && [ "$NC" -gt 0 ] || die "-c $NC: must be a positive multiple of $BLOCK"
case $MODE in server | client | both) ;; *) die "-m $MODE: server, client or both" ;; esac
bench_need_root

PATHS=${SPARSE_PATHS:-$SRC/tools/paths/sparse.paths}
CPATHS=${SPARSE_CLIENT_PATHS:-$SRC/tools/paths/sparse-client.paths}
if [ $QUICK -eq 1 ]; then
	N=25 NC=25 SWEEP="40" CONN_ROUNDS=1 CONN_COUNT=25
	PATHS=$(mktemp) CPATHS=$(mktemp)
	printf 'deep 20 100 1000 0 0\nsynloss 10 50 100 0 0.2\n' >"$PATHS"
	printf 'cdeb 20 100 1000 0 0\ncsyn 10 50 100 0 0.2\n' >"$CPATHS"
fi
read -ra SW <<<"$SWEEP"
BOUNDS_RTO_MIN=4
BOUNDS="iw = 4..128
rwnd = 10..256
syn_rto_ms = $BOUNDS_RTO_MIN..1000"

bench_build learnd learnctl flowgen pathemu
for f in learner/learnd learner/learnctl tools/flowgen tools/pathemu; do
	[ -x "$B/$f" ] || die "$B/$f not found (build it, or set LEARND_BUILD)"
done
FLOWGEN=$B/tools/flowgen
mkdir -p "$OUT"
rm -rf "${OUT:?}"/srv "${OUT:?}"/cli "$OUT"/*.csv "$OUT"/*.txt
TS=sp$$ TC=spc$$ # topology names
PIN=/sys/fs/bpf/learnd-$TS
RUN=$OUT/.run # what to clean up: "pid N", "cg DIR", "pin DIR" (also from the client subshell)
: >"$RUN"

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -z "${CPID:-}" ] || kill "$CPID" 2>/dev/null || true
	sp_cleanup_run "$TS" "$TC"
	[ $QUICK -eq 0 ] || rm -f "$PATHS" "$CPATHS"
	exit $rc
}
trap cleanup EXIT INT TERM

# show_json DB CIDR: `learnctl show CIDR --json` (slots, sampled records, ...);
# nothing when the prefix is not in the database yet.
show_json() { "$B/learner/learnctl" --db "$1" show "$2" --json 2>/dev/null || true; }

# probes DB CIDR SINCE_TS: the close records learnd sampled after SINCE_TS, as
# "records probes params planned": probes = records on a slot other than 0 (the
# incumbent); params = the parameters in which the probe slots learnd plans now
# (share > 0) differ from slot 0; planned = 1 - share of slot 0 now.  (learnd keeps
# one record per prefix and tick in a ring of 32, so records is a sample of the
# block's connections.)
probes() {
	show_json "$1" "$2" | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    d = {}
if "samples" not in d:  # not in the database yet ({"error": ...})
    print("0 0 - -1")
    sys.exit()
since = int(sys.argv[1])
s = [r for r in d["samples"] if r["ts_ns"] > since]
inc = [x for x in d["slots"] if x["slot"] == 0][:1]
pr = [x for x in d["slots"] if x["slot"] != 0 and x["share"] > 0]
short = {"iw": "iw", "rwnd": "rwnd", "syn_rto_ms": "syn_rto", "base_rtt_us": "base_rtt"}
par = sorted({short[k] for p in pr for k in short if inc and p[k] != inc[0][k]})
print(len(s), sum(r["slot"] != 0 for r in s), ";".join(par) or "-", round(1 - inc[0]["share"], 3) if inc else -1)
' "$3" 2>/dev/null || echo "0 0 ? -1"
}
# last_ts DB CIDR: the time of the newest record of CIDR learnd sampled (0: none)
last_ts() {
	show_json "$1" "$2" | python3 -c '
import json, sys
try:
    print(max([r["ts_ns"] for r in json.load(sys.stdin)["samples"]] + [0]))
except (ValueError, KeyError):
    print(0)' 2>/dev/null || echo 0
}

# ------------------------------------------------------------------ server mode
# serve_path NAME: the rounds of one path (runs in the background, one per path)
serve_path() {
	local name=$1 dir=$OUT/srv r nr=$((N / BLOCK)) k ns a t0 pr
	ns=TOPO_NS_$name
	a=TOPO_PREFIX4_$name
	PATH_NAME=$name
	for r in $(seq 0 $((nr - 1))); do
		t0=$(last_ts "$dir/learnd.db" "${!a}")
		sp_block "$dir" learnd "$r" "$TOPO_SRV4" 5601 "${!ns}"
		sleep 1.2 # one tick: the block's records are in the samples ring
		pr=$(probes "$dir/learnd.db" "${!a}" "$t0")
		echo "$name,$r,${pr// /,}" >>"$dir/probes.$name.csv"
		sp_block "$dir" default "$r" "$TOPO_SRV4" 5602 "${!ns}"
		k=$((r % ${#SW[@]}))
		sp_block "$dir" "static${SW[$k]}" "$r" "10.200.0.$((10 + k))" 5602 "${!ns}"
	done
	# A path with SYN loss: connect time needs more samples than the rounds give
	# (a lost SYN costs the client's own 1 s whatever the server does), so
	# CONN_ROUNDS more rounds of CONN_COUNT 10 KB requests, 4 at a time, learnd, the
	# default and the floor in turn (the report's "Connect time" table).
	if [ "$(sp_syn_loss_of "$name")" != 0 ]; then
		for r in $(seq 0 $((CONN_ROUNDS - 1))); do
			SZ=10k CONC=4 COUNT=$CONN_COUNT sp_block "$dir" conn-learnd "$r" "$TOPO_SRV4" 5601 "${!ns}"
			SZ=10k CONC=4 COUNT=$CONN_COUNT sp_block "$dir" conn-default "$r" "$TOPO_SRV4" 5602 "${!ns}"
			SZ=10k CONC=4 COUNT=$CONN_COUNT sp_block "$dir" conn-floor "$r" "$TOPO_SRV4" 5603 "${!ns}"
		done
	fi
}

server_mode() {
	local name ns pids=() k dir=$OUT/srv nsrv
	export LD_TOPO=$TS
	"$SRC/tools/topo.sh" up "$PATHS" >/dev/null
	# shellcheck disable=SC1090 # topo.env defines TOPO_*
	. "/run/learnd-topo/$TS/topo.env"
	mkdir -p "$dir"
	for k in "${!SW[@]}"; do
		sp_static_routes "$TOPO_SRV_NS" "10.200.0.$((10 + k))" $((100 + k)) "${SW[$k]}"
	done
	sp_start_learnd "$dir" "$TOPO_CGROUP" "$PIN"
	# The floor of a server's SYN-ACK timer, where a path has SYN loss: a second
	# learnd holding syn_rto_ms at its lowest bound on a cgroup of its own, with a
	# server on port 5603 (connect phase only; what no server RTO can save is the
	# client's own lost SYNs)
	nsrv=2
	for name in $TOPO_PATHS; do [ "$(sp_syn_loss_of "$name")" = 0 ] || nsrv=3; done
	if [ $nsrv = 3 ]; then
		sp_cgroup "$TS-floor"
		BOUNDS="syn_rto_ms = ${BOUNDS_RTO_MIN}" sp_start_learnd "$dir/floor" "$SP_CG" "$PIN-floor"
		sp_server "$SP_CG" 5603 "$dir/server-floor.log"
	fi
	"$SRC/tools/topo.sh" exec srv -- "$FLOWGEN" server --port 5601 --congestion cubic 2>"$dir/server-learnd.log" &
	echo "pid $!" >>"$RUN"
	sp_server - 5602 "$dir/server-default.log"
	sp_wait_listen $nsrv 5601 5602 5603
	for name in $TOPO_PATHS; do
		serve_path "$name" &
		pids+=($!)
	done
	wait "${pids[@]}"
	sp_merge_conns "$dir"
	sleep 1.2
	"$B/learner/learnctl" --config "$dir/learnd.conf" report >"$dir/report.txt" 2>&1 || true
	"$B/learner/learnctl" --config "$dir/learnd.conf" report --json >"$dir/report.json" 2>/dev/null || true
	"$B/learner/learnctl" --db "$dir/learnd.db" export --what decisions --format csv -o "$dir/decisions.csv" 2>/dev/null || true
	for name in $TOPO_PATHS; do
		LD_TOPO=$TS "$SRC/tools/topo.sh" stats "$name" >"$dir/pathemu.$name.stats" 2>/dev/null || true
	done
	cat "$dir"/probes.*.csv >"$dir/probes.csv"
}

# ------------------------------------------------------------------ client mode
client_path() {
	local name=$1 dir=$OUT/cli r nr=$((NC / BLOCK)) ns cg srv addr
	ns=TOPO_NS_$name
	cg=$CGROOT/$TC-cli-$name
	PATH_NAME=$name
	for r in $(seq 0 $((nr - 1))); do
		if [ "$name" = csyn ]; then
			SZ=10k sp_block "$dir" "learnd.iw10" "$r" "$TOPO_SRV4" 5701 "${!ns}" "$cg"
			SZ=10k sp_block "$dir" "default.iw10" "$r" "$TOPO_SRV4" 5701 "${!ns}"
			continue
		fi
		for srv in iw10 iw64; do
			addr=$TOPO_SRV4
			[ $srv = iw10 ] || addr=10.200.1.64
			SZ=$CSIZES sp_block "$dir" "learnd.$srv" "$r" "$addr" 5701 "${!ns}" "$cg"
			SZ=$CSIZES sp_block "$dir" "default.$srv" "$r" "$addr" 5701 "${!ns}"
		done
	done
}

client_mode() {
	local name ns pids=() dir=$OUT/cli cg
	LD_TOPO=$TC "$SRC/tools/topo.sh" up "$CPATHS" >/dev/null
	# shellcheck disable=SC1090
	. "/run/learnd-topo/$TC/topo.env"
	CGROOT=$(dirname "$TOPO_CGROUP")
	mkdir -p "$dir"
	# the IW 64 server address: its own /24, so client-side learnd keeps it apart
	sp_static_routes "$TOPO_SRV_NS" 10.200.1.64 164 64
	for name in $TOPO_PATHS; do
		ns=TOPO_NS_$name
		if [ "$name" = cdeb ]; then
			ip netns exec "${!ns}" sysctl -q -w net.ipv4.tcp_rmem="4096 131072 6291456"
		fi
		sp_cgroup "$TC-cli-$name"
		sp_start_learnd "$dir/$name" "$SP_CG" "$PIN-cli-$name"
	done
	sp_server - 5701 "$dir/server.log"
	sp_wait_listen 1 5701
	for name in $TOPO_PATHS; do
		client_path "$name" &
		pids+=($!)
	done
	wait "${pids[@]}"
	sp_merge_conns "$dir"
	sleep 1.2
	for name in $TOPO_PATHS; do
		"$B/learner/learnctl" --config "$dir/$name/learnd.conf" report >"$dir/report.$name.txt" 2>&1 || true
	done
}

echo "sparse.sh: mode $MODE, $N connections per path (server), $NC per path and server (client), seed $SEED, output $OUT" >&2
case $MODE in
server) server_mode ;;
client) client_mode ;;
both)
	(trap - EXIT INT TERM; client_mode) &
	CPID=$!
	server_mode
	wait $CPID || exit 1
	CPID=""
	;;
esac
SPARSE_PATHS_FILE=$PATHS python3 "$SRC/tools/bench/sparse_report.py" --block $BLOCK --out "$OUT" | tee "$OUT/summary.txt"
