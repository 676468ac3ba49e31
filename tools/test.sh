#!/bin/bash
# The test suite, as CI runs it (README: "Tests").  Installs the Debian packages it
# needs, builds twice (release, and ASan+UBSan for user space), runs every test
# (unit tests; as root also the kernel and testbed tests), and checks that nothing
# was left behind: network namespaces, cgroups, bpffs pins, attached programs.
#
#   tools/test.sh            everything (root: kernel + testbed tests too)
#   tools/test.sh -R REGEX   only tests whose name matches, in both builds
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$SRC"
JOBS=$(nproc)
CTEST_ARGS=("$@")

"$SRC/tools/deps.sh"

build() { # dir, extra cmake args...
	local dir=$1
	shift
	cmake -S "$SRC" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	cmake --build "$dir" -j "$JOBS" -- --no-print-directory >/dev/null ||
		cmake --build "$dir" -j 1 # again, serially, so the error is readable
}

# What exists before, to tell what the suite left behind.
snapshot() {
	local cg
	cg=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	{
		ip netns list 2>/dev/null | awk '{ print "netns " $1 }'
		[ -n "$cg" ] && find "$cg" -mindepth 1 -maxdepth 1 -type d -printf 'cgroup %f\n'
		# (maps.debug and progs.debug are the kernel's own, made when bpffs is
		# mounted: learnd mounts it at /sys/fs/bpf if nothing is there)
		[ -d /sys/fs/bpf ] && find /sys/fs/bpf -mindepth 1 -maxdepth 1 ! -name maps.debug ! -name progs.debug \
			-printf 'pin %f\n'
		command -v bpftool >/dev/null && bpftool prog show 2>/dev/null | awk '/sock_ops/ { print "prog sock_ops " $NF }'
		ip -o link show 2>/dev/null | awk -F': ' '/tun|t-/ { print "link " $2 }'
	} | sort
}

echo "== build (release) and build-asan (AddressSanitizer + UBSan)"
build "$SRC/build"
build "$SRC/build-asan" -DLEARND_SANITIZE=ON

before=$(snapshot)
rc=0
echo "== tests (release build)"
ctest --test-dir "$SRC/build" --output-on-failure "${CTEST_ARGS[@]}" || rc=1
# Tests labelled "timing" (the emulator's accuracy, learnd's memory under a spray)
# run on the release build only: the sanitizers would be what they measure.
echo "== tests (sanitizer build)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir "$SRC/build-asan" --output-on-failure -LE timing "${CTEST_ARGS[@]}" || rc=1

# Fuzz targets (clang, libFuzzer + ASan + UBSan): a short run of each on its seed
# corpus, which holds every input that once found a bug (docs/fuzzing.md).
echo "== fuzz targets (build-fuzz, clang)"
if cmake -S "$SRC" -B "$SRC/build-fuzz" -DCMAKE_C_COMPILER=clang -DLEARND_FUZZ=ON >/dev/null &&
	cmake --build "$SRC/build-fuzz" -j "$JOBS" --target fuzz_config fuzz_cidr fuzz_record fuzz_learnctl -- --no-print-directory >/dev/null; then
	ctest --test-dir "$SRC/build-fuzz" --output-on-failure -L fuzz "${CTEST_ARGS[@]}" || rc=1
else
	echo "FAIL: the fuzz targets do not build" >&2
	rc=1
fi

# Valgrind on the user-space tests: the C unit tests (but test_model_sim, which
# takes minutes under it and runs under ASan above), then the script tests of
# learnd's and learnctl's command lines with every binary they start run under
# valgrind (a build directory of wrapper scripts, LEARND_BUILD for the scripts).
echo "== valgrind (memcheck, leaks are errors)"
vgdir=$(mktemp -d) # the tests' working directory, removed after
VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=97" # 97: a status no test expects
for t in test_model test_jsonw test_store test_control test_retention test_record_io; do
	exe=$SRC/build/tests/unit/$t
	[ -x "$exe" ] || { echo "FAIL: valgrind: $t is not built" >&2; rc=1; continue; }
	if ! (cd "$vgdir" && $VG "$exe" >/dev/null 2>"$vgdir/err"); then
		echo "FAIL: valgrind: $t" >&2
		tail -n 40 "$vgdir/err" >&2
		rc=1
	else
		echo "   $t: clean"
	fi
done
mkdir -p "$vgdir/build/learner" "$vgdir/build/tools/sim" "$vgdir/logs"
for b in learner/learnd learner/learnctl tools/sim/learnctl_mkdb; do
	printf '#!/bin/sh\nexec %s --log-file=%s/logs/%%p.log %s "$@"\n' "$VG" "$vgdir" "$SRC/build/$b" >"$vgdir/build/$b"
	chmod +x "$vgdir/build/$b"
done
for t in tests/unit/test_learnctl.sh tests/cli/test_learnd_config.sh; do
	if ! CONFIG_DUMP=$SRC/build/tests/cli/config_dump LEARND_BUILD=$vgdir/build LEARND_SRC=$SRC bash "$SRC/$t" >"$vgdir/out" 2>&1; then
		echo "FAIL: under valgrind: $t" >&2
		tail -n 20 "$vgdir/out" >&2
		rc=1
	fi
	reports=$(find "$vgdir/logs" -type f -size +0)
	if [ -n "$reports" ]; then
		echo "FAIL: valgrind reports in $t:" >&2
		# shellcheck disable=SC2086 # one file name per line, no spaces (mktemp)
		head -n 40 $reports >&2
		rc=1
	else
		echo "   $t (learnd, learnctl, learnctl_mkdb under valgrind): clean"
	fi
	rm -f "$vgdir"/logs/*
done
rm -rf "$vgdir"

after=$(snapshot)
left=$(comm -13 <(echo "$before") <(echo "$after"))
if [ -n "$left" ]; then
	echo "FAIL: the suite left these behind:" >&2
	echo "$left" >&2
	rc=1
else
	echo "== nothing left behind (namespaces, cgroups, pins, programs, links)"
fi
[ $rc -eq 0 ] && echo "== all tests passed" || echo "== SOME TESTS FAILED" >&2
exit $rc
