#!/bin/bash
# The write load one PostgreSQL holds for a fleet (docs/fleet-sizing.md): a
# throwaway cluster (tools/pgtmp.sh) with the fleet schema (schema/fleet/), set
# durable as in production (fsync, synchronous_commit, full_page_writes on), and
# fleet_load's simulated hosts, each logged in with a role of its own (row-level
# security as for real hosts), pushing the rows of learnd_model_export() for
# their changed prefixes:
#   capacity  hosts pushing back to back (1, 2, 4): rows/s, and rows per second
#             of PostgreSQL CPU (what a core of the server holds)
#   interval  N hosts x PREFIXES active prefixes at the default interval (10 s),
#             a share CHANGED of them changed per interval, each host pulling the
#             others' rows after its push as the link does: rows/s pushed and
#             pulled, PostgreSQL's CPU, pushes that took longer than the interval
#
#   sudo tools/bench/fleet_scale.sh [-p PREFIXES] [-f CHANGED] [-n "N..."] [-d SECONDS] [-o DIR] [-q]
#     -p  active prefixes per host (default 10000)
#     -f  share of them changed per interval (default 0.17: a connection a minute
#         reaches a prefix in one interval of 10 s in six)
#     -n  host counts of the interval runs (default "1 2 4 8")
#     -d  seconds per interval run (default 60; capacity runs: 20)
#     -o  output directory (default results/fleet-scale)
#     -q  quick: -p 500 -n 2 -d 12, capacity with 1 host for 5 s
#   Environment: LEARND_BUILD=DIR uses that build as it is.
set -euo pipefail
# shellcheck source=tools/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SRC=$BENCH_SRC
PREFIXES=10000 CHANGED=0.17 COUNTS="1 2 4 8" DUR=60 OUT=$SRC/results/fleet-scale QUICK=0
bench_options "p:PREFIXES f:CHANGED n:COUNTS d:DUR o:OUT q=QUICK" "$@"
bench_whole 1 "-p and -d" "$PREFIXES" "$DUR"
# shellcheck disable=SC2086
bench_whole 1 "-n" $COUNTS
[[ $CHANGED =~ ^(0?[.][0-9]+|1)$ ]] || bench_die "-f $CHANGED: a share in (0, 1]"
bench_need_root "the cluster runs as the postgres user"
CAP_COUNTS="1 2 4" CAP_DUR=20 CAP_PREFIXES=2000
if [ "$QUICK" = 1 ]; then
	PREFIXES=500 COUNTS=2 DUR=12 CAP_COUNTS=1 CAP_DUR=5 CAP_PREFIXES=200
fi
bench_build fleet_load
LOAD=$B/tools/bench/fleet_load
[ -x "$LOAD" ] || bench_die "$LOAD not found (build it, or set LEARND_BUILD)"
# shellcheck source=tools/pgtmp.sh
. "$SRC/tools/pgtmp.sh"

mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/learnd-fleet-scale.XXXXXX)
chmod 755 "$WORK"
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	pgtmp_stop "$WORK/pg"
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

MAXN=4
for n in $COUNTS; do [ "$n" -le "$MAXN" ] || MAXN=$n; done
pgtmp_start "$WORK/pg" >/dev/null
pgtmp_psql "$WORK/pg" postgres -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
	-c "ALTER SYSTEM SET full_page_writes = on" -c "SELECT pg_reload_conf()" >/dev/null
# one role per simulated host, mapped to fleet host hI; one password, in a passfile
pgtmp_psql "$WORK/pg" postgres -v n=$((MAXN - 1)) >/dev/null <<'EOF'
SELECT format('CREATE ROLE fleet_load_h%s LOGIN PASSWORD %L IN ROLE learnd_host', i, 'load')
FROM generate_series(0, :n) i \gexec
INSERT INTO learnd.hosts (host, role) SELECT 'h' || i, 'fleet_load_h' || i FROM generate_series(0, :n) i;
EOF
echo '*:*:*:*:load' >"$WORK/passfile"
chmod 600 "$WORK/passfile"
export PGPASSFILE=$WORK/passfile
BASE=$(pgtmp_conninfo "$WORK/pg" | sed 's/ user=[^ ]*//')
PGPID=$(head -n1 "$WORK/pg/data/postmaster.pid")

# load NAME ARGS...: one fleet_load run, its line in OUT/NAME.txt and on stderr
load() {
	local name=$1
	shift
	pgtmp_psql "$WORK/pg" postgres -c "TRUNCATE learnd.evidence, learnd.in_force" -c "CHECKPOINT" >/dev/null
	"$LOAD" --conninfo "$BASE" --pg-pid "$PGPID" "$@" | tee "$OUT/$name.txt" >&2
}
kv() { tr ' ' '\n' <"$OUT/$1.txt" | awk -F= -v k="$2" '$1 == k { print $2 }'; }

echo "fleet_scale.sh: $(nproc) cores, PostgreSQL $("$PGTMP_BIN/postgres" --version | awk '{ print $3 }'), output $OUT" >&2
for n in $CAP_COUNTS; do
	load "cap$n" --hosts "$n" --prefixes "$CAP_PREFIXES" --max --no-pull --duration "$CAP_DUR"
done
for n in $COUNTS; do
	load "int$n" --hosts "$n" --prefixes "$PREFIXES" --changed "$CHANGED" --duration "$DUR"
done
SIZE=$(pgtmp_psql "$WORK/pg" postgres -At -c "SELECT pg_total_relation_size('learnd.evidence')")
{
	echo "== Capacity: hosts pushing back to back (no pulls), $CAP_PREFIXES prefixes each, every prefix changed"
	printf '%-6s %10s %8s %8s %14s %12s\n' hosts rows/s pg_cpu client rows/pg_cpu_s push_p50_ms
	for n in $CAP_COUNTS; do
		printf '%-6s %10s %8s %8s %14s %12s\n' "$n" "$(kv "cap$n" rows_s)" "$(kv "cap$n" pg_cpu)" \
			"$(kv "cap$n" client_cpu)" "$(kv "cap$n" rows_per_pg_cpu_s)" "$(kv "cap$n" push_p50_ms)"
	done
	echo "== Interval 10 s: $PREFIXES active prefixes per host, $CHANGED of them changed per interval, $(kv "int${COUNTS%% *}" rows_per_prefix) rows per prefix"
	printf '%-6s %10s %10s %8s %8s %8s %12s %12s\n' hosts rows/s pulled/s pg_cpu pushes late push_p50_ms push_max_ms
	for n in $COUNTS; do
		printf '%-6s %10s %10s %8s %8s %8s %12s %12s\n' "$n" "$(kv "int$n" rows_s)" "$(kv "int$n" pulled_rows_s)" "$(kv "int$n" pg_cpu)" \
			"$(kv "int$n" pushes)" "$(kv "int$n" late)" "$(kv "int$n" push_p50_ms)" "$(kv "int$n" push_max_ms)"
	done
	echo "evidence table after the last run: $((SIZE / 1048576)) MB"
} | tee "$OUT/summary.txt"
