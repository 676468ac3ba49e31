#!/bin/bash
# Intake throughput of the learner (issue 4, acceptance 6; docs/store.md,
# "Intake benchmark"): builds bench_intake and runs it on one core, without
# root.  Decoded close records go through ld_learner_record (learnd's code path)
# with a tick every TICK records, into a real SQLite store on a temporary file
# and with no store, for 1, 100 and 10,000 prefixes.
#
#   tools/bench/intake.sh [RECORDS [TICK [PREFIXES,...]]]   (5000000 100000 1,100,10000)
#   tools/bench/intake.sh --scale [KNOWN [ACTIVE,... [sqlite|null [TICKS]]]]
#       (1000000 10000,100000 sqlite 10): learner memory for KNOWN prefixes seen
#       once each, then the tick with ACTIVE of them busy (docs/benchmarks.md,
#       "Learner at scale")
#   Environment: LEARND_BUILD=DIR uses that build directory (default build/).
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${LEARND_BUILD:-$SRC/build}
if [[ ! -f $BUILD/CMakeCache.txt ]]; then
	cmake -S "$SRC" -B "$BUILD" >/dev/null
fi
make -C "$BUILD" --no-print-directory bench_intake >/dev/null
exec "$BUILD/tools/bench/bench_intake" "$@"
