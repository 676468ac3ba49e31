#!/bin/bash
# Ring-buffer drops at the highest connection rate this machine sustains, with
# learnd itself reading the ring (docs/benchmarks.md, "Intake"): learnd with its
# default sampling (sample_rate 1, record_budget 64) on a cgroup of its own; in a network
# namespace of its own, a flowgen server and closed-loop flowgen clients on
# loopback, every socket in that cgroup (so each connection is seen from both
# ends: two records).  Prints connections per second, the data plane's records
# and drops, and what learnd took in.
#
#   sudo tools/bench/drops.sh [-d SECONDS] [-c CONCURRENCY] [-s SAMPLE_RATE] [-b BUDGET]
#     -d  traffic time (default 20)      -c  flows in flight (default 16)
#     -s  learnd's sample_rate (default 1, learnd's default)
#     -b  learnd's record_budget (default: learnd's default, 64; 0: every connection)
#   Environment: LEARND_BUILD=DIR uses that build as it is (no deps, no build step).
set -euo pipefail
# shellcheck source=tools/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DUR=20 CONC=16 RATE=1 BUDGET=
bench_options "d:DUR c:CONC s:RATE b:BUDGET" "$@"
bench_whole 1 "-d, -c and -s" "$DUR" "$CONC" "$RATE"
[[ -z $BUDGET || $BUDGET =~ ^(0|[1-9][0-9]*)$ ]] || bench_die "-b must be a whole number, got '$BUDGET'"
bench_need_root
bench_build learnd learnctl flowgen
tb_init drops bench_drops
PORT=5501

tb_sandbox "learnd-bench-drops-$$" "lbdrops$$"
tb_conf "$WORK/learnd.conf" "$CG" "$WORK/learnd.db" sample_rate="$RATE" "${BUDGET:+record_budget=$BUDGET}" <<EOF
[defaults]
iw = 4..64
EOF
tb_start_learnd "$WORK/learnd.conf" "$WORK/learnd.log"
# in the cgroup (joined first: ip netns exec mounts a sysfs of the namespace's
# own, without the cgroup mount) and the namespace
# shellcheck disable=SC2016 # expanded by the inner sh
# and exec'ed, so that a background one's $! is the program (run it in a subshell
# in the foreground)
inside() { exec sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec ip netns exec "$@"' sh "$CG" "$NS" "$@"; }
inside "$FG" server --port $PORT --bind 127.0.0.1 2>"$WORK/server.log" &
tb_track $!
for _ in $(seq 100); do ip netns exec "$NS" ss -Hltn "sport = :$PORT" | grep -q . && break; sleep 0.05; done

counters() { "$LC" -c "$WORK/learnd.conf" status --json; }
before=$(counters)
(inside "$FG" client --server 127.0.0.1 --port $PORT --sizes 100 --duration "$DUR" --concurrency "$CONC" \
	--timeout 5 --out "$WORK/flows.csv" 2>"$WORK/client.log") || tb_fail "flowgen client: $(tail -3 "$WORK/client.log")"
sleep 2 # learnd's next poll and tick
after=$(counters)
flows=$(awk -F, 'NR > 1 && $6 == 1' "$WORK/flows.csv" | wc -l)
errs=$(awk -F, 'NR > 1 && $6 != 1' "$WORK/flows.csv" | wc -l)
python3 - "$before" "$after" "$flows" "$errs" "$DUR" "$CONC" "$RATE" "$(nproc)" <<'EOF'
import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
flows, errs, dur, conc, rate, cpus = (int(x) for x in sys.argv[3:])
budget = a["config"].get("record_budget")
d = {k: a["dataplane"]["counters"][k] - b["dataplane"]["counters"][k] for k in a["dataplane"]["counters"]}
took = a["database"]["records"] - b["database"]["records"]
print(f"{cpus} CPUs, loopback, 100-byte flows, {conc} in flight, {dur} s, sample_rate {rate}, record_budget {budget}")
print(f"{'conn/s':>8} {'flows':>8} {'errors':>6} {'records':>9} {'rb drops':>9} {'learnd took':>12} {'rec/s':>8}")
print(f"{flows / dur:8.0f} {flows:8d} {errs:6d} {d['records']:9d} {d['ringbuf_drops']:9d} {took:12d} {d['records'] / dur:8.0f}")
EOF
