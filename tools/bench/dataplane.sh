#!/usr/bin/env bash
# Data-plane overhead: conn/s with learnd's program attached and without, alternating
# in one run, and the program's run time per invocation.  Root; builds if needed.
#   sudo tools/bench/dataplane.sh [bench_dataplane options: -r ROUNDS -t SECS -s STATS_SECS -c CLIENTS -S SERVERS]
# bench_dataplane makes its own cgroup and network namespace and removes them; this
# script removes its cgroup too if the benchmark itself was killed.
set -euo pipefail
exec "$(dirname "$0")/run_bench.sh" bench_dataplane dataplane "$@"
