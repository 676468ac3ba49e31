#!/bin/bash
# Build the libFuzzer targets (tests/fuzz) with clang in build-fuzz and run each
# for SECONDS (default 60), one process each, at nice 10.  Prints every target's
# exec count, coverage and result; exits 1 if any target found a crash.
#
#   tools/fuzz.sh [SECONDS]
#
# New corpus inputs are kept in build-fuzz/tests/fuzz/long/TARGET/corpus (so a
# later run resumes from them) and crash files next to it; the seed corpus in
# tests/fuzz/corpus is only read.  The seed corpus holds the inputs of known,
# unfixed bugs (tests/fuzz/crashes), which stop a run at once; to fuzz past them,
# LEARND_FUZZ_SKIP=msg,line,header turns off fuzz_config's checks for them.
# LEARND_FUZZ_BUILD overrides the build directory.
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECS=${1:-60}
[[ $SECS =~ ^[1-9][0-9]*$ ]] || { echo "usage: tools/fuzz.sh [SECONDS] (whole seconds > 0, got '$SECS')" >&2; exit 2; }
BUILD=${LEARND_FUZZ_BUILD:-$SRC/build-fuzz}
TARGETS=(fuzz_config fuzz_cidr fuzz_record fuzz_learnctl)

command -v clang >/dev/null || { echo "fuzz.sh: clang not found (tools/deps.sh)" >&2; exit 2; }
echo "== configure and build $BUILD (clang, LEARND_FUZZ=ON)"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_C_COMPILER=clang -DLEARND_FUZZ=ON >/dev/null
nice -n 10 cmake --build "$BUILD" -j 2 --target "${TARGETS[@]}" -- --no-print-directory >/dev/null ||
	cmake --build "$BUILD" -j 1 --target "${TARGETS[@]}"

rc=0
summary=()
for t in "${TARGETS[@]}"; do
	out=$BUILD/tests/fuzz/long/$t
	mkdir -p "$out/corpus"
	rm -f "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*
	args=(-max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
	      -artifact_prefix="$out/")
	[ -f "$SRC/tests/fuzz/${t#fuzz_}.dict" ] && args+=(-dict="$SRC/tests/fuzz/${t#fuzz_}.dict")
	echo "== $t: ${SECS}s (log: $out/log)"
	set +e
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		nice -n 10 "$BUILD/tests/fuzz/$t" "${args[@]}" "$out/corpus" "$SRC/tests/fuzz/corpus/$t" >"$out/log" 2>&1
	status=$?
	set -e
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log")
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$out/log" | tail -1 || true)
	corp=$(grep -o 'corp: [0-9]*/[0-9]*[A-Za-z]*' "$out/log" | tail -1 || true)
	crash=$(ls "$out" | grep -E '^(crash|leak|timeout|oom)-' || true)
	if [ "$status" -ne 0 ] || [ -n "$crash" ]; then
		rc=1
		result="FAILED (exit $status) ${crash:+$out/$crash}"
		grep -E "^fuzz_[a-z]+:|ERROR:|SUMMARY:| in [^ ]+ $SRC/" "$out/log" | head -12 || true
	else
		result=ok
	fi
	summary+=("$(printf '%-12s %12s execs  %-18s %-16s %s' "$t" "${execs:-?}" "${cov:-cov: ?}" "${corp:-}" "$result")")
done
echo "== summary (${SECS}s per target)"
printf '%s\n' "${summary[@]}"
exit $rc
