#!/bin/bash
# Smoke test of the fleet benchmark (tools/bench/fleet.sh -q, under two minutes): a
# throwaway PostgreSQL, hosts A, B and C, the warm-up, the first-25 phase and the
# fault phase on two paths; every arm's connections written, the tables printed,
# bad options refused with exit 2, and nothing left behind (namespaces, cgroups,
# pins, the cluster and its directory).  It checks the machinery, not the numbers
# (docs/benchmarks.md, "Fleet", has those).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init bench_fleet
tb_need "$FG" "$LEARND" "$LC" "$LEARND_BUILD/tools/pathemu"
S=$SRC/tools/bench/fleet.sh

for bad in "-n 30" "-r 0" "-i x" "-s -1"; do
	rc=0
	# shellcheck disable=SC2086
	bash "$S" $bad -o "$WORK/bad" >"$WORK/bad.out" 2>&1 || rc=$?
	[ $rc -eq 2 ] || tb_fail "fleet.sh $bad: exit $rc, expected 2"
	grep -q "fleet.sh: " "$WORK/bad.out" || tb_fail "fleet.sh $bad: no message: $(cat "$WORK/bad.out")"
done

before_pg=$(ls -d /tmp/learnd-fleet.* 2>/dev/null | sort || true)
bash "$S" -q -o "$WORK/out" >"$WORK/run.out" 2>&1 &
pid=$!
tb_track "$pid"
rc=0
wait "$pid" || rc=$?
tb_untrack "$pid"
[ $rc -eq 0 ] || tb_fail "fleet.sh -q: exit $rc: $(tail -n 20 "$WORK/run.out")"

csv=$WORK/out/srv/conns.csv
for arm in a b c b0 c0; do
	for p in deep shallow; do
		n=$(awk -F, -v a="$arm" -v p="$p" '$1 == a && $3 == p && $8 == 1' "$csv" | wc -l)
		want=25
		[ "$arm" != a ] || want=50
		[ "$n" -eq $want ] || tb_fail "arm $arm on $p: $n complete connections, expected $want"
	done
done
n=$(awk -F, '$1 == "best" && $8 == 1' "$csv" | wc -l)
[ "$n" -eq 50 ] || tb_fail "best static beside B and C: $n connections, expected 50"
# B's, C's and the default's blocks of the first-25 phase draw the same sizes
for arm in c default; do
	a=$(awk -F, '$1 == "b" && $2 == 1000 { print $3, $4 }' "$csv" | sort | md5sum)
	b=$(awk -F, -v a="$arm" '$1 == a && $2 == 1000 { print $3, $4 }' "$csv" | sort | md5sum)
	[ "$a" = "$b" ] || tb_fail "B and $arm drew different sizes"
done
# each host's learnd saw its own arm only
for h in a b c; do
	conns=$(awk '$1 == "10.201.1.0/24" { print $4 }' "$WORK/out/srv/report.$h.txt")
	want=25
	[ $h != a ] || want=50
	[ "$conns" = $want ] || tb_fail "host $h counted $conns connections of deep, expected $want"
done
out=$WORK/out/summary.txt
grep -Eq '^deep +IW[0-9]+ [0-9.]+ ' "$out" || tb_fail "no score row for deep: $(cat "$out")"
grep -q '^== PostgreSQL stopped' "$out" || tb_fail "no fault table: $(cat "$out")"
grep -Eq '^shallow +[0-9.]+ \[' "$out" || tb_fail "no fault row for shallow: $(cat "$out")"

# nothing left behind
t=fl$pid
[ ! -e "/run/netns/$t-srv" ] || tb_fail "namespace $t-srv left behind"
[ ! -e "/run/learnd-topo/$t" ] || tb_fail "topology state $t left behind"
! ls -d /sys/fs/cgroup/unified/"$t"-* 2>/dev/null || tb_fail "cgroup left behind"
! ls -d /sys/fs/bpf/learnd-"$t"* 2>/dev/null || tb_fail "pin directory left behind"
after_pg=$(ls -d /tmp/learnd-fleet.* 2>/dev/null | sort || true)
[ "$before_pg" = "$after_pg" ] || tb_fail "cluster directory left behind: $after_pg"
echo "PASS: bench_fleet ($(grep -E '^deep ' "$out" | head -n 1))"
