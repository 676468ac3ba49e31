#!/bin/bash
# Learning quality on the testbed (docs/benchmarks.md, "Learning quality").
#
# One run, four settings measured one after another on the same emulated paths
# (tools/paths/example.paths), with the same flow-size sequence:
#   default   no learnd: the kernel's IW 10, 1 s SYN RTO
#   global64  learnd with one static value everywhere: iw = 64 (what an operator sets by hand)
#   best      learnd with the per-path best static values (docs/sweep.md; SYN RTO by hand)
#   learnd    learnd learning within bounds, measured after a warm-up
# and prints, per path and size class, mean and p95 FCT under each, the ratios
# learnd/default and learnd/best, the server's retransmit rate, p99 connect time,
# and the values learnd chose; then, per path, learnd's convergence (flows until
# every later block of 50 flows is within 10% of the best static value's FCT)
# and its regret (FCT spent above the best static value, in total and per flow,
# next to what the default and global64 spend per flow).
#
# The server's learnd governs what the server controls: IW and RWND of its
# answers, the SYN-ACK RTO.  A lost SYN is retransmitted by the client, so on the
# SYN-loss path the client side runs a learnd too (its own cgroup, holding only
# that path's flow generator), as a host making outgoing connections would.
#
#   sudo tools/bench/learning.sh [-m SECONDS] [-w SECONDS] [-o DIR]
#     -m  measuring time per setting (default 90)
#     -w  learnd warm-up before measuring (default 180)
#     -o  output directory for CSVs, configs and logs (default results/learning)
#   Environment: LEARND_BUILD=DIR uses that build as it is (no deps, no build step).
set -euo pipefail
# shellcheck source=tools/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SRC=$BENCH_SRC
MEASURE=90 WARMUP=180 OUT=$SRC/results/learning
bench_options "m:MEASURE w:WARMUP o:OUT" "$@"
bench_whole 0 seconds "$MEASURE" "$WARMUP"
bench_need_root

PATHS=$SRC/tools/paths/example.paths
PIN=/sys/fs/bpf/learnd-bench
CLI_PIN=/sys/fs/bpf/learnd-bench-cli
PORT=5401
SIZES=10k,100k,200k,300k,1m
BLOCK=50 # flows per block for convergence (within 10% of the best static value)
# Per-path best static values: IW from docs/sweep.md (100-300 KB flows); the sweep
# does not cover SYN RTO, so the synloss path gets 3 x its 10 ms RTT + 2 jiffies.
declare -A BEST=([deep]="iw = 128" [shallow]="" [synloss]="syn_rto_ms = 40" [lossy]="iw = 128")
CLI_PATH=synloss # the path whose client side runs a learnd too
LEARN_BOUNDS="iw = 4..128
syn_rto_ms = 20..1000"

bench_build learnd learnctl flowgen pathemu
export LD_TOPO=lbench
mkdir -p "$OUT"
rm -f "$OUT"/*.csv "$OUT"/learnd.db*
SRV_PID="" CLI_CG=""

stop_learnd() { # the learnds bench_start_learnd registered (tb_track): nothing else is
	local pid
	for pid in "${TB_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	TB_PIDS=()
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_learnd
	[ -z "$SRV_PID" ] || { kill "$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; }
	"$SRC/tools/topo.sh" down >/dev/null 2>&1 || true
	[ -z "$CLI_CG" ] || rmdir "$CLI_CG" 2>/dev/null || true
	rm -rf "$PIN" "$CLI_PIN"
	exit $rc
}
trap cleanup EXIT INT TERM

"$SRC/tools/topo.sh" up "$PATHS" >/dev/null
# shellcheck disable=SC1090,SC1091,SC2154 # topo.env defines TOPO_*
. "/run/learnd-topo/$LD_TOPO/topo.env"
for name in $TOPO_PATHS; do
	ns=TOPO_NS_$name
	ip netns exec "${!ns}" sysctl -q -w net.ipv4.tcp_rmem="4096 524288 33554432" net.ipv4.tcp_no_metrics_save=1
done
ip netns exec "$TOPO_SRV_NS" sysctl -q -w net.ipv4.tcp_no_metrics_save=1
"$SRC/tools/topo.sh" exec srv -- "$B/tools/flowgen" server --port $PORT --congestion cubic 2>"$OUT/server.log" &
SRV_PID=$!
sleep 0.5

CLI_CG=${TOPO_CGROUP}-cli
mkdir -p "$CLI_CG"

# start_learnd NAME [cli]: write $OUT/NAME.conf from stdin (the sections after
# [learnd]) and run it on the server's cgroup, or with "cli" on the client one
start_learnd() {
	local name=$1 side=${2:-srv} cg=$TOPO_CGROUP PIN=$PIN
	if [ "$side" = cli ]; then cg=$CLI_CG PIN=$CLI_PIN name=$name-cli; fi
	tb_conf "$OUT/$name.conf" "$cg" "$OUT/$name.db" sample_rate=1 tick_ms=1000
	rm -f "$OUT/$name.db"*
	bench_start_learnd "$OUT/$name.conf" "$OUT/$name.log"
}

# traffic LABEL SECONDS: every path at once, 2 flows in flight each, same seed
traffic() {
	local label=$1 secs=$2 pids=() name ns
	for name in $TOPO_PATHS; do
		ns=TOPO_NS_$name
		# the client of CLI_PATH runs in the client-side cgroup
		sh -c 'cg=$1; shift; [ "$cg" = - ] || echo $$ >"$cg/cgroup.procs"; exec "$@"' sh \
			"$([ "$name" = "$CLI_PATH" ] && echo "$CLI_CG" || echo -)" \
			ip netns exec "${!ns}" "$B/tools/flowgen" client --server "$TOPO_SRV4" --port $PORT \
			--sizes $SIZES --order random --seed 7 --duration "$secs" --concurrency 2 --timeout 15 \
			--srv-retrans --path "$name" --out "$OUT/$label.$name.csv" 2>/dev/null &
		pids+=($!)
	done
	wait "${pids[@]}"
	cat "$OUT/$label".*.csv | awk -v m="$label" 'NR == 1 { print "mode," $0; next } !/^path/ { print m "," $0 }' \
		>>"$OUT/all.csv.tmp"
}

: >"$OUT/all.csv.tmp"
echo "== default ($MEASURE s)"
traffic default "$MEASURE"

echo "== global64 ($MEASURE s)"
start_learnd global64 < <(printf '[defaults]\niw = 64\n')
start_learnd global64 cli < <(printf '[defaults]\niw = 64\n')
traffic global64 "$MEASURE"
stop_learnd

echo "== best static ($MEASURE s)"
best_conf() {
	local name p
	for name in $TOPO_PATHS; do
		p=TOPO_PREFIX4_$name
		[ -z "${BEST[$name]:-}" ] || printf '[prefix %s]\n%s\n\n' "${!p}" "${BEST[$name]}"
	done
}
# (not a pipe: start_learnd must run in this shell, to register its learnd)
start_learnd best < <(best_conf)
start_learnd best cli < <(printf '[defaults]\n%s\n' "${BEST[$CLI_PATH]}")
traffic best "$MEASURE"
stop_learnd

echo "== learnd: warm-up $WARMUP s, then $MEASURE s"
start_learnd learnd < <(printf '[defaults]\n%s\n' "$LEARN_BOUNDS")
start_learnd learnd cli < <(printf '[defaults]\n%s\n' "$LEARN_BOUNDS")
[ "$WARMUP" -eq 0 ] || traffic warmup "$WARMUP"
traffic learnd "$MEASURE"
CHOSEN=$("$B/learner/learnctl" --config "$OUT/learnd.conf" report 2>&1 || true)
CHOSEN_CLI=$("$B/learner/learnctl" --config "$OUT/learnd-cli.conf" report 2>&1 || true)
stop_learnd
# one header
awk 'NR == 1 || !/^mode,/' "$OUT/all.csv.tmp" >"$OUT/all.csv" && rm -f "$OUT/all.csv.tmp"

echo
echo "FCT by path and size class (ms; mean / p95), server retransmit rate, p99 connect time"
awk -F, '
function cls(s) { return s < 50000 ? "10k" : s <= 300000 ? "100-300k" : "1m" }
function p(arr, n, q,   i, j, t) { # q-quantile of arr[1..n], sorted in place
	for (i = 2; i <= n; i++) { t = arr[i]; for (j = i - 1; j > 0 && arr[j] > t; j--) arr[j + 1] = arr[j]; arr[j + 1] = t }
	return n ? arr[int(q * (n - 1)) + 1] : 0
}
NR == 1 { next }
$1 == "warmup" || $7 != 1 { if ($1 != "warmup" && $7 != 1) fail[$1 SUBSEP $2]++; next }
{
	m = $1; path = $2; c = cls($3); k = m SUBSEP path SUBSEP c
	n[k]++; sum[k] += $5 / 1000; v[k, n[k]] = $5 / 1000
	kp = m SUBSEP path; rtx[kp] += $13; segs[kp] += $14; nc[kp]++; cv[kp, nc[kp]] = $4 / 1000
	paths[path] = 1; classes[c] = 1
}
END {
	split("default global64 best learnd", modes, " ")
	split("10k 100-300k 1m", cl, " ")
	printf "%-8s %-9s", "path", "size"
	for (i = 1; i <= 4; i++) printf " %17s", modes[i]
	printf " %9s %9s\n", "lrn/def", "lrn/best"
	for (path in paths) {
		for (ci = 1; ci <= 3; ci++) {
			c = cl[ci]
			printf "%-8s %-9s", path, c
			for (i = 1; i <= 4; i++) {
				k = modes[i] SUBSEP path SUBSEP c
				if (!n[k]) { printf " %17s", "-"; mean[i] = 0; continue }
				delete a; for (j = 1; j <= n[k]; j++) a[j] = v[k, j]
				mean[i] = sum[k] / n[k]
				printf " %8.1f/%8.1f", mean[i], p(a, n[k], 0.95)
			}
			printf " %9s %9s\n", mean[1] ? sprintf("%.2f", mean[4] / mean[1]) : "-", mean[3] ? sprintf("%.2f", mean[4] / mean[3]) : "-"
		}
		printf "%-8s %-9s", path, "rtx%"
		for (i = 1; i <= 4; i++) { kp = modes[i] SUBSEP path; printf " %17s", segs[kp] ? sprintf("%.2f%%", 100 * rtx[kp] / segs[kp]) : "-" }
		printf "\n%-8s %-9s", path, "conn p99"
		for (i = 1; i <= 4; i++) {
			kp = modes[i] SUBSEP path
			delete a; for (j = 1; j <= nc[kp]; j++) a[j] = cv[kp, j]
			printf " %14.1f ms", p(a, nc[kp], 0.99)
		}
		printf "\n%-8s %-9s", path, "flows"
		for (i = 1; i <= 4; i++) { kp = modes[i] SUBSEP path; printf " %11d (%d err)", nc[kp], fail[kp] }
		printf "\n\n"
	}
}' "$OUT/all.csv"
echo "Convergence and regret against the per-path best static value (learnd's flows from its"
echo "start: warm-up, then measurement; each flow's FCT against the best static mean FCT of"
echo "its size; blocks of $BLOCK flows; ms/flow = mean FCT above that best)"
awk -F, -v B="$BLOCK" '
NR == 1 || $7 != 1 { next }
{ m = $1; path = $2; size = $3; fct = $5 / 1000 }
m == "best" { bs[path, size] += fct; bn[path, size]++; next }
m == "warmup" || m == "learnd" { i = ++n[path]; lf[path, i] = fct; ls[path, i] = size; lt[path, i] = $10; lm[path, i] = m; next }
{ ex[m, path] += fct; exs[m, path, size]++; exn[m, path]++ }
END {
	printf "%-8s %6s %-22s %10s %11s %11s %11s %11s %11s\n", "path", "flows", "within 10% after", "last block",
		"regret s", "learnd all", "learnd meas", "default", "global64"
	for (path in n) {
		t0 = lt[path, 1]; reg = 0; regm = 0; nm = 0; conv = -1; r = -1
		for (i = 1; i <= n[path]; i++) {
			k = path SUBSEP ls[path, i]
			if (!bn[k]) continue
			b = bs[k] / bn[k]; reg += lf[path, i] - b
			if (lm[path, i] == "learnd") { regm += lf[path, i] - b; nm++ }
			bf += lf[path, i]; bb += b
			if (i % B == 0) { # a block ends: ratio of sums, robust to one slow flow
				r = bf / bb; bf = bb = 0
				if (r <= 1.10 && conv < 0) { conv = i - B; ct = (lt[path, i - B + 1] - t0) / 1e6 }
				if (r > 1.10) conv = -1
			}
		}
		bf = bb = 0
		# default and global64: their flows against the same best, per flow
		for (j = 1; j <= 2; j++) {
			mm = j == 1 ? "default" : "global64"; xd[j] = "-"
			if (!exn[mm, path]) continue
			tot = ex[mm, path]; tb = 0
			for (k2 in bn) { split(k2, kk, SUBSEP); if (kk[1] == path) tb += exs[mm, path, kk[2]] * bs[k2] / bn[k2] }
			xd[j] = sprintf("%.1f", (tot - tb) / exn[mm, path])
			ar[j] += tot - tb; an[j] += exn[mm, path]
		}
		ar[0] += regm; an[0] += nm
		printf "%-8s %6d %-22s %10s %11.1f %11.1f %11.1f %11s %11s\n", path, n[path],
			conv < 0 ? "not by the end" : sprintf("%d flows (%.0f s)", conv, ct),
			r < 0 ? "-" : sprintf("%.2f", r), reg / 1000,
			reg / n[path], nm ? regm / nm : 0, xd[1], xd[2]
	}
	# the mix of paths: every measured flow of a setting, against its path best
	printf "%-8s %6s %-22s %10s %11s %11s %11.1f %11.1f %11.1f\n", "all", "", "", "", "", "",
		an[0] ? ar[0] / an[0] : 0, an[1] ? ar[1] / an[1] : 0, an[2] ? ar[2] / an[2] : 0
}' "$OUT/all.csv"
echo
echo "learnd's choices at the end, server side (learnctl report):"
echo "$CHOSEN"
echo "client side of the $CLI_PATH path (remote = the server):"
echo "$CHOSEN_CLI"
echo "CSV of every flow: $OUT/all.csv"
