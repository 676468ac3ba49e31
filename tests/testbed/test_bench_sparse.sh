#!/bin/bash
# Smoke test of the sparse-traffic benchmark (tools/bench/sparse.sh -q, about a minute): it runs
# all three server arms and the client mode on one path each, writes every connection,
# prints a score per path and case, refuses bad options with exit 2, and leaves no
# namespace, cgroup or pin directory behind.  It checks the machinery, not learnd's
# numbers (docs/benchmarks.md, "Sparse traffic", has those).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init bench_sparse
tb_need "$FG" "$LEARND" "$LC" "$LEARND_BUILD/tools/pathemu"
S=$SRC/tools/bench/sparse.sh

# bad options: exit 2 with a message naming the option, before anything is set up
for bad in "-n 30" "-c 0" "-m sideways" "-s x"; do
	rc=0
	# shellcheck disable=SC2086
	bash "$S" $bad -o "$WORK/bad" >"$WORK/bad.out" 2>&1 || rc=$?
	[ $rc -eq 2 ] || tb_fail "sparse.sh $bad: exit $rc, expected 2"
	grep -q "sparse.sh: ${bad%% *}" "$WORK/bad.out" || tb_fail "sparse.sh $bad: no message naming the option: $(cat "$WORK/bad.out")"
done

bash "$S" -q -s 3 -o "$WORK/out" >"$WORK/run.out" 2>&1 &
pid=$!
tb_track "$pid"
rc=0
wait "$pid" || rc=$?
tb_untrack "$pid"
[ $rc -eq 0 ] || tb_fail "sparse.sh -q: exit $rc: $(tail -n 20 "$WORK/run.out")"

# every connection of every arm is a row, all complete
srv=$WORK/out/srv/conns.csv cli=$WORK/out/cli/conns.csv
for arm in learnd default static40; do
	n=$(awk -F, -v a="$arm" '$1 == a && $3 == "deep" && $8 == 1' "$srv" | wc -l)
	[ "$n" -eq 25 ] || tb_fail "server arm $arm: $n complete connections, expected 25"
done
for arm in learnd.iw10 default.iw10 learnd.iw64 default.iw64; do
	n=$(awk -F, -v a="$arm" '$1 == a && $3 == "cdeb" && $8 == 1' "$cli" | wc -l)
	[ "$n" -eq 25 ] || tb_fail "client arm $arm: $n complete connections, expected 25"
done
# paired blocks: the learnd block and the default block of a round ask for the same sizes
a=$(awk -F, '$1 == "learnd" { print $4 }' "$srv" | sort | md5sum)
b=$(awk -F, '$1 == "default" { print $4 }' "$srv" | sort | md5sum)
[ "$a" = "$b" ] || tb_fail "learnd and default blocks of round 0 drew different sizes"
# learnd saw the server's connections (the learnd arm only) and the client's
[ -s "$WORK/out/srv/report.txt" ] || tb_fail "no learnctl report"
grep -q '^10\.201\.1\.0/24' "$WORK/out/srv/report.txt" || tb_fail "server learnd has no row for the path: $(cat "$WORK/out/srv/report.txt")"
grep -q '^10\.200\.1\.0/24' "$WORK/out/cli/report.cdeb.txt" || tb_fail "client learnd has no row for the IW 64 server"
conns=$(awk '$1 == "10.201.1.0/24" { print $3 }' "$WORK/out/srv/report.txt")
[ "$conns" = 25 ] || tb_fail "server learnd counted $conns connections in the last hour, expected 25 (only the learnd arm is in its cgroup)"
# the tables
out=$WORK/out/summary.txt
grep -Eq '^deep +25 +[0-9.]+ ' "$out" || tb_fail "no server score row for deep: $(cat "$out")"
grep -Eq '^cdeb +iw64 +25 +[0-9.]+ \[' "$out" || tb_fail "no client score row for cdeb/iw64: $(cat "$out")"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[0]['path']=='deep' and len(d[0]['curve'])==1" \
	"$WORK/out/srv/scores.json" || tb_fail "scores.json"

# nothing left behind
for t in "sp$pid" "spc$pid"; do
	[ ! -e "/run/netns/$t-srv" ] || tb_fail "namespace $t-srv left behind"
	[ ! -e "/run/learnd-topo/$t" ] || tb_fail "topology state $t left behind"
done
! ls -d /sys/fs/cgroup/unified/sp"$pid"-* /sys/fs/cgroup/unified/spc"$pid"-* 2>/dev/null || tb_fail "cgroup left behind"
! ls -d /sys/fs/bpf/learnd-sp"$pid"* 2>/dev/null || tb_fail "pin directory left behind"
echo "PASS: bench_sparse ($(grep -E '^deep ' "$out" | head -n 1))"
