#!/usr/bin/env bash
# Scale: 1,000,000 prefixes in the policy map: write time, memory, lookup cost in the
# program's run time.  Root; builds if needed.
#   sudo tools/bench/scale.sh [bench_scale options: -n PREFIXES -s STATS_SECS -c CLIENTS -S SERVERS]
set -euo pipefail
exec "$(dirname "$0")/run_bench.sh" bench_scale scale "$@"
