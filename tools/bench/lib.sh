# tools/bench/lib.sh: what the benchmark scripts (tools/bench/*.sh) and tools/demo.sh
# share.  Sourced, never run:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# It sources tests/testbed/lib.sh, the testbed's harness, for its tb_ helpers
# (tb_conf writes a learnd configuration); the bench_ functions are a benchmark's
# own: its options and usage, root, its build, learnd started and waited for.
# shellcheck shell=bash disable=SC2034 # variables for the scripts that source this file

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NAME=${0##*/} # for tb_fail and tb_cleanup's messages
TOPO=$BENCH_SRC/tools/topo.sh
# shellcheck source=tests/testbed/lib.sh
. "$BENCH_SRC/tests/testbed/lib.sh"

# bench_usage: the script's header comment (the lines after #! up to the first
# line that is not a comment), without the "# "
bench_usage() { awk 'NR == 1 { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' "$0"; }

# bench_die MESSAGE: "SCRIPT: MESSAGE" on stderr, exit 2 (a usage error)
bench_die() {
	echo "${0##*/}: $*" >&2
	exit 2
}

# bench_options SPEC ARGS...: parse the script's options.  SPEC is a list of
# "x:VAR" (option -x sets VAR to its value) and "x=VAR" (flag -x sets VAR to 1).
# -h prints the usage and exits 0; an unknown option or a missing value prints
# the usage on stderr and exits 2; so does an argument that is not an option.
bench_options() {
	local spec=$1 letters=h s o
	local -A opt
	shift
	for s in $spec; do
		opt[${s:0:1}]=$s
		letters+=${s:0:1}
		[ "${s:1:1}" = = ] || letters+=:
	done
	OPTIND=1
	while getopts "$letters" o; do
		case $o in
		h) bench_usage; exit 0 ;;
		\?) bench_usage >&2; exit 2 ;;
		*)
			s=${opt[$o]}
			if [ "${s:1:1}" = = ]; then printf -v "${s:2}" 1; else printf -v "${s:2}" %s "$OPTARG"; fi
			;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -eq 0 ] || bench_die "unexpected argument '$1'"
}

# bench_whole MIN WHAT VALUE...: each VALUE a whole number >= MIN, else bench_die
# "WHAT must be whole numbers >= MIN, got 'VALUE'"
bench_whole() {
	local min=$1 what=$2 v
	shift 2
	for v in "$@"; do
		[[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge "$min" ] || bench_die "$what must be whole numbers >= $min, got '$v'"
	done
}

# bench_need_root [WHY]: exit 2 unless root
bench_need_root() {
	[ "$(id -u)" -eq 0 ] || bench_die "needs root${1:+ ($1)}"
}

# bench_build TARGET...: B, the build directory.  With LEARND_BUILD in the
# environment, that build as it is; without, the dependencies (tools/deps.sh)
# and a release build of the TARGETs in build/.  Exports LEARND_BUILD=B.
bench_build() {
	B=${LEARND_BUILD:-$BENCH_SRC/build}
	if [ -z "${LEARND_BUILD:-}" ]; then
		"$BENCH_SRC/tools/deps.sh"
		cmake -S "$BENCH_SRC" -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
		cmake --build "$B" -j "$(nproc)" --target "$@" >/dev/null
	fi
	export LEARND_BUILD=$B
}

# bench_start_learnd CONF LOG: learnd (of build B) --config CONF in the background,
# output to LOG, its pid in BENCH_PID (registered: tb_track); waits (10 s) until
# it has attached, else shows LOG and exits 1
bench_start_learnd() {
	"$B/learner/learnd" --config "$1" >"$2" 2>&1 &
	BENCH_PID=$!
	tb_track "$BENCH_PID"
	for _ in $(seq 100); do grep -q 'attached to' "$2" && return 0; sleep 0.1; done
	cat "$2" >&2
	exit 1
}

# bench_cleanup: on exit, and on SIGINT or SIGTERM, tb_init's cleanup without a work
# directory: the processes registered with tb_track (killed by pid, latest first),
# the tb_on_exit hooks, the topology of tb_topo_up, the pin directory PIN
bench_cleanup() {
	trap tb_cleanup EXIT
	trap 'exit 130' INT TERM
}
