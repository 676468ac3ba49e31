#!/bin/bash
# bench_report.sh [NPREFIXES] [BUCKETS]: time `learnctl report` on a database of
# NPREFIXES prefixes (default 100000) made by the store's own code
# (build/tools/sim/learnctl_mkdb: ld_store_put_prefix/slots/aggregate/decision,
# as learnd writes them), each with BUCKETS 5-minute buckets (default 12: an hour)
# of IW aggregates for 3 values.  Target: under 2 s for 100,000 prefixes.
# Prints the median of 3 runs per output format, wall and CPU seconds.
# Env: LEARND_BUILD (default ./build), KEEP=1 keeps the database.
set -euo pipefail
N=${1:-100000}
BUCKETS=${2:-12}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${LEARND_BUILD:-$SRC/build}
LC=$B/learner/learnctl
MKDB=$B/tools/sim/learnctl_mkdb
for b in "$LC" "$MKDB"; do [ -x "$b" ] || { echo "not built: $b (make -C $B learnctl learnctl_mkdb)" >&2; exit 1; }; done
WORK=$(mktemp -d /tmp/bench_report.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
DB=$WORK/learnd.db

t0=$(date +%s.%N)
made=$("$MKDB" "$DB" "$N" "$BUCKETS" 2>/dev/null) # "DB: N prefixes, B buckets, R aggregate rows"
t1=$(date +%s.%N)
rows=$(echo "$made" | sed -n 's/.* \([0-9]*\) aggregate rows$/\1/p')
printf 'database: %d prefixes, %d aggregate rows, %d MB, made in %.1f s\n' "$N" "$rows" \
	$(($(stat -c %s "$DB") / 1048576)) "$(echo "$t1 - $t0" | bc)"
printf 'machine: %s CPUs, load %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
cat "$DB" >/dev/null # page cache warm, as on a host where learnd writes it

run() { # run LABEL ARGS... : median wall and CPU of 3 runs
	local label=$1 i
	shift
	for i in 1 2 3; do
		/usr/bin/time -f '%e %U %S' "$LC" --db "$DB" "$@" 2>&1 >/dev/null | tail -1
	done | sort -n | sed -n 2p | awk -v l="$label" '{ printf "  %-34s %5.2f s wall, %5.2f s CPU\n", l, $1, $2 + $3 }'
}
echo "learnctl report, median of 3:"
run "report (text, all rows)" report
run "report --json" report --json
run "report --csv" report --csv
run "report --sort gain --limit 20" report --sort gain --limit 20
run "report --prefix 10.1.0.0/16" report --prefix 10.1.0.0/16
run "metrics" metrics
[ "${KEEP:-0}" = 1 ] && echo "kept $DB"
exit 0
