#!/bin/bash
# sweep.sh — static initcwnd sweep: the baseline every learnd result is compared against.
#
#   tools/sweep.sh [options]
#
# Brings up its own topology (tools/topo.sh; LD_TOPO=sw<pid> unless SWEEP_TOPO is set),
# starts `flowgen server` in the server namespace, and for every path and every initcwnd
# value N (0 = kernel default: no initcwnd attribute) sets the server's route to that path's
# client prefix to `congctl cubic [initcwnd N]` (the server is the sender), runs the same
# flows (same sizes, same seed, one at a time, a new connection each) and prints, per path,
# per size, per N: mean / p50 / p95 FCT (ms) and the server's retransmits; then per path
# the best N (lowest mean FCT over the --best-range flows) beside the kernel default.
# Clients get tcp_rmem "4096 524288 33554432" and initrwnd 1000 on their default route, so
# the receive window does not cap the IW.
#
# Options:
#   --paths FILE         path file (name rtt_ms rate_mbit queue_pkts loss syn_loss);
#                        default tools/paths/example.paths
#   --iw "LIST"          initcwnd values, 0 = kernel default; default "0 4 10 16 32 64 128"
#   --flows N            flows per (path, N); default 60
#   --sizes LIST         flow sizes, cycled; default 10k,100k,300k (flowgen size syntax)
#   --dist SPEC          instead of --sizes: pareto:MIN:MAX:ALPHA (table by log2 size class)
#   --seed N             flowgen seed; default 1
#   --best-range MIN:MAX flows that decide the best N; default 100k:300k
#   --serial             one path at a time (default: all paths concurrently)
#   --timeout S          per-flow time limit; default 30
#   --out DIR            keep the per-(path, N) CSVs and logs in DIR
#   -h, --help           this text
# Exit status: 0 done, 1 runtime failure, 2 bad usage.
# Environment: LEARND_BUILD (build dir, default tools/../build), SWEEP_TOPO (topology name).

# shellcheck disable=SC2015 # "A && B || die" is intended: die when either fails
set -euo pipefail

PROG=sweep.sh
TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export LEARND_BUILD=${LEARND_BUILD:-$TOOLS_DIR/../build}
FG=$LEARND_BUILD/tools/flowgen
TOPO=$TOOLS_DIR/topo.sh

PATHS_FILE=$TOOLS_DIR/paths/example.paths
IWS="0 4 10 16 32 64 128"
FLOWS=60
SIZES=10k,100k,300k
DIST=""
SEED=1
BEST_RANGE=100k:300k
SERIAL=0
OUT_DIR=""
PORT=5001
TIMEOUT=30
CLI_RMEM="4096 524288 33554432"
INITRWND=1000

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }
usage_err() { echo "$PROG: $*" >&2; exit 2; }
die() { echo "$PROG: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }

need_val() { [ $# -ge 2 ] && [ -n "$2" ] || usage_err "option $1 needs a value"; }
while [ $# -gt 0 ]; do
	case $1 in
	--paths) need_val "$@"; PATHS_FILE=$2; shift 2 ;;
	--iw) need_val "$@"; IWS=$2; shift 2 ;;
	--flows) need_val "$@"; FLOWS=$2; shift 2 ;;
	--sizes) need_val "$@"; SIZES=$2; shift 2 ;;
	--dist) need_val "$@"; DIST=$2; shift 2 ;;
	--seed) need_val "$@"; SEED=$2; shift 2 ;;
	--best-range) need_val "$@"; BEST_RANGE=$2; shift 2 ;;
	--serial) SERIAL=1; shift ;;
	--out) need_val "$@"; OUT_DIR=$2; shift 2 ;;
	--timeout) need_val "$@"; TIMEOUT=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage_err "unknown argument '$1'" ;;
	esac
done

[[ $FLOWS =~ ^[1-9][0-9]*$ ]] || usage_err "--flows: expected a positive integer, got '$FLOWS'"
[[ $SEED =~ ^[0-9]+$ ]] || usage_err "--seed: expected a non-negative integer, got '$SEED'"
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || usage_err "--timeout: expected a positive integer, got '$TIMEOUT'"
[ -n "${IWS// /}" ] || usage_err "--iw: empty list"
for n in $IWS; do
	[[ $n =~ ^[0-9]+$ ]] && [ "$n" -le 1024 ] || usage_err "--iw: bad value '$n' (0 = kernel default, else 1..1024)"
done
[ -x "$FG" ] || die "flowgen not found at $FG (cmake --build build --target flowgen, or set LEARND_BUILD)"
# size options: let flowgen validate them (same parser as the client)
if [ -n "$DIST" ]; then
	SIZE_ARGS=(--dist "$DIST")
else
	SIZE_ARGS=(--sizes "$SIZES" --order cycle)
fi
err=$("$FG" sizes "${SIZE_ARGS[@]}" --count 1 --seed "$SEED" 2>&1 >/dev/null) ||
	usage_err "$(sed 's/^flowgen: sizes: //; s/ (see .*//' <<<"$err")"
[[ $BEST_RANGE =~ ^[^:]+:[^:]+$ ]] &&
	"$FG" sizes --sizes "${BEST_RANGE%:*},${BEST_RANGE#*:}" --count 1 >/dev/null 2>&1 ||
	usage_err "--best-range: expected MIN:MAX sizes (e.g. 100k:300k), got '$BEST_RANGE'"
[ -r "$PATHS_FILE" ] || usage_err "--paths: cannot read '$PATHS_FILE'"
[ "$(id -u)" -eq 0 ] || die "must run as root (namespaces, routes)"
[ -x "$LEARND_BUILD/tools/pathemu" ] || die "pathemu not found at $LEARND_BUILD/tools/pathemu"
if [ -n "$OUT_DIR" ]; then
	mkdir -p "$OUT_DIR" || die "--out: cannot create '$OUT_DIR'"
fi

export LD_TOPO=${SWEEP_TOPO:-sw$$}
WORK=$(mktemp -d /tmp/sweep.XXXXXX)
SRV_PID=""
WORKER_PIDS=""

cleanup() {
	local rc=$? pid f
	trap - EXIT INT TERM
	for pid in $WORKER_PIDS; do kill "$pid" 2>/dev/null || true; done
	for f in "$WORK"/*.cpid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f" 2>/dev/null || true)
		[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	done
	if [ -n "$SRV_PID" ]; then
		kill "$SRV_PID" 2>/dev/null || true
		wait "$SRV_PID" 2>/dev/null || true
	fi
	wait 2>/dev/null || true
	"$TOPO" down >/dev/null 2>&1 || log "topo.sh down failed for '$LD_TOPO'"
	if [ -n "$OUT_DIR" ] && [ -d "$WORK" ]; then
		cp -f "$WORK"/*.csv "$WORK"/*.log "$OUT_DIR"/ 2>/dev/null || true
	fi
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

T0=$SECONDS
log "topology '$LD_TOPO' from $PATHS_FILE"
"$TOPO" up "$PATHS_FILE" >"$WORK/topo.log" 2>&1 || { cat "$WORK/topo.log" >&2; die "topo.sh up failed"; }
# shellcheck disable=SC1090,SC2154 # topo.env defines TOPO_*
. "/run/learnd-topo/$LD_TOPO/topo.env"
SRV=$TOPO_SRV_NS

# server side: the sender. No metrics cache between flows.
ip netns exec "$SRV" sysctl -q -w net.ipv4.tcp_no_metrics_save=1 >/dev/null
"$TOPO" exec srv -- "$FG" server --port "$PORT" --congestion cubic 2>"$WORK/server.log" &
SRV_PID=$!
for _ in $(seq 100); do
	ip netns exec "$SRV" ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q . && break
	kill -0 "$SRV_PID" 2>/dev/null || die "flowgen server exited: $(cat "$WORK/server.log")"
	sleep 0.05
done
ip netns exec "$SRV" ss -Hltn "sport = :$PORT" | grep -q . || die "flowgen server does not listen on $PORT"

# client side: the receiver. Raise tcp_rmem and initrwnd so the receive window does not
# cap the IW (a default client advertises ~64 KB = 44 segments).
for name in $TOPO_PATHS; do
	ns_var=TOPO_NS_$name
	ns=${!ns_var}
	ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_rmem="$CLI_RMEM" net.ipv4.tcp_no_metrics_save=1 >/dev/null
	ip -n "$ns" route change default dev t0 congctl cubic initrwnd "$INITRWND"
	rmem=$(ip netns exec "$ns" sysctl -n net.ipv4.tcp_rmem | awk '{print $2}')
	[ "$rmem" -ge 524288 ] || die "client $ns: tcp_rmem default $rmem, expected >= 524288"
done

# the server's route to one path's client prefix, with initcwnd N (0 = no attribute)
set_iw() {
	local name=$1 n=$2 pfx_var dev got
	pfx_var=TOPO_PREFIX4_$name
	dev=t-$name
	if [ "$n" -eq 0 ]; then
		ip -n "$SRV" route change "${!pfx_var}" dev "$dev" src "$TOPO_SRV4" congctl cubic
	else
		ip -n "$SRV" route change "${!pfx_var}" dev "$dev" src "$TOPO_SRV4" congctl cubic initcwnd "$n"
	fi
	got=$(ip -n "$SRV" route show "${!pfx_var}")
	if [ "$n" -eq 0 ]; then
		[[ $got != *initcwnd* ]] || die "route for $name still has initcwnd: $got"
	else
		[[ $got == *"initcwnd $n"* ]] || die "route for $name lacks initcwnd $n: $got"
	fi
}

run_path() {
	local name=$1 n ns_var cpid
	ns_var=TOPO_NS_$name
	for n in $IWS; do
		set_iw "$name" "$n"
		ip netns exec "${!ns_var}" "$FG" client --server "$TOPO_SRV4" --port "$PORT" \
			"${SIZE_ARGS[@]}" --count "$FLOWS" --seed "$SEED" --srv-retrans \
			--timeout "$TIMEOUT" --path "$name" --out "$WORK/$name.iw$n.csv" \
			2>>"$WORK/$name.log" &
		cpid=$!
		echo "$cpid" >"$WORK/$name.cpid"
		wait "$cpid" || { echo "$PROG: flowgen client failed on $name iw $n" >&2; return 1; }
		rm -f "$WORK/$name.cpid"
	done
	set_iw "$name" 0
}

log "paths: $TOPO_PATHS; iw: $IWS; $FLOWS flows per (path, iw); $([ "$SERIAL" = 1 ] && echo serial || echo concurrent)"
if [ "$SERIAL" = 1 ]; then
	for name in $TOPO_PATHS; do run_path "$name"; done
else
	for name in $TOPO_PATHS; do
		run_path "$name" &
		WORKER_PIDS="$WORKER_PIDS $!"
	done
	fail=0
	for pid in $WORKER_PIDS; do wait "$pid" || fail=1; done
	WORKER_PIDS=""
	[ $fail -eq 0 ] || die "a path failed (logs: $WORK/*.log)"
fi
ELAPSED=$((SECONDS - T0))

# ------------------------------------------------------------------ table
fmt_size() { awk -v s="$1" 'BEGIN { if (s >= 1e6 && s % 1e6 == 0) printf "%dM", s/1e6; else if (s >= 1000 && s % 1000 == 0) printf "%dk", s/1000; else printf "%d", s }'; }
GROUP=size
[ -n "$DIST" ] && GROUP=class

echo "# static initcwnd sweep: $(basename "$PATHS_FILE"), flows/(path,iw)=$FLOWS, sizes=${DIST:-$SIZES}, seed=$SEED, cc=cubic (server route), $([ "$SERIAL" = 1 ] && echo serial || echo "paths concurrent"), ${ELAPSED}s"
echo "# FCT = client: just before connect() to last byte (ms); rtx = server retransmits: per flow / % of flows with any / % of data segments"
BEST_SUMMARY=""
while read -r _ name rtt rate queue loss syn; do
	echo
	echo "== path $name: rtt ${rtt} ms, rate ${rate} Mbit/s, queue ${queue} pkts, loss ${loss}, syn_loss ${syn} =="
	printf '%-12s %5s %5s %4s %9s %9s %9s %8s %6s %6s\n' size iw flows err mean_ms p50_ms p95_ms rtx/flow rtx_f% rtx_s%
	# rows: key=size|class; sort by size then the iw order given
	for n in $IWS; do
		"$FG" summarize "$WORK/$name.iw$n.csv" --by "$GROUP" --csv | tail -n +2 | sed "s/^/$n,/"
	done | awk -F, -v iws="$IWS" '
		BEGIN { k = split(iws, a, " "); for (i = 1; i <= k; i++) ord[a[i]] = i }
		{ print (($2 ~ /^[0-9]+$/) ? $2 : 0), ord[$1], $0 }' |
		sort -k1,1n -k2,2n | cut -d" " -f3- |
		while IFS=, read -r n key flows _ errs fm f50 f95 _ _ _ _ _ _ srx sfl ssg; do
			label=$key
			[[ $key =~ ^[0-9]+$ ]] && label=$(fmt_size "$key")
			iwl=$n
			[ "$n" = 0 ] && iwl=def
			awk -v l="$label" -v iw="$iwl" -v fl="$flows" -v er="$errs" -v fm="$fm" -v f50="$f50" -v f95="$f95" \
				-v srx="$srx" -v sfl="$sfl" -v ssg="$ssg" 'BEGIN {
				printf "%-12s %5s %5d %4d %9.1f %9.1f %9.1f %8.2f %6.1f %6.2f\n", l, iw, fl, er, fm/1e3, f50/1e3, f95/1e3, srx, 100*sfl, 100*ssg }'
		done
	# best N over the best-range flows
	best="" best_mean="" def_line=""
	rows=""
	for n in $IWS; do
		line=$("$FG" summarize "$WORK/$name.iw$n.csv" --by none --size-range "$BEST_RANGE" --csv | tail -n +2)
		[ -n "$line" ] || continue
		rows="$rows$n,$line"$'\n'
	done
	[ -n "$rows" ] || { echo "best: no flows in $BEST_RANGE"; continue; }
	read -r best best_mean best50 best95 bestrx <<<"$(awk -F, 'NF > 5 && $4 > 0 && $6 != "" {
		# n,key,flows,ok,errors,fct_mean,p50,p95,...,srv_retrans_seg_rate ($17): lowest mean FCT
		if (best == "" || $6 < bm) { best = $1; bm = $6; b50 = $7; b95 = $8; brx = $17 } }
		END { printf "%s %.1f %.1f %.1f %.2f\n", best, bm/1e3, b50/1e3, b95/1e3, 100*brx }' <<<"$rows")"
	near=$(awk -F, -v bm="$best_mean" '$6 != "" && $6/1e3 <= bm * 1.03 { printf "%s%s", s, ($1 == 0 ? "def" : $1); s = " " }' <<<"$rows")
	def_line=$(awk -F, '$1 == 0 { printf "mean %.1f ms, p50 %.1f, p95 %.1f, rtx_s %.2f%%", $6/1e3, $7/1e3, $8/1e3, 100*$17 }' <<<"$rows")
	[ -n "$def_line" ] || def_line="(0 not in --iw)"
	bl=$best
	[ "$best" = 0 ] && bl="def (kernel default)"
	echo "best static IW over $BEST_RANGE B flows: $bl — mean ${best_mean} ms, p50 ${best50}, p95 ${best95}, rtx_s ${bestrx}% | kernel default: $def_line | within 3% of best: $near"
	BEST_SUMMARY="$BEST_SUMMARY$(printf '%-10s best IW %-4s mean %8.1f ms   default mean %s' "$name" "$([ "$best" = 0 ] && echo def || echo "$best")" "$best_mean" "$(awk -F, '$1 == 0 { printf "%.1f ms", $6/1e3 }' <<<"$rows")")"$'\n'
done <"/run/learnd-topo/$LD_TOPO/paths.parsed"
echo
echo "== per-path oracle among static values (mean FCT over $BEST_RANGE B flows) =="
printf '%s' "$BEST_SUMMARY"
