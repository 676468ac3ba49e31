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

# ---- the sparse-traffic machinery (tools/bench/sparse.sh, tools/bench/fleet.sh) ----
# They keep what to clean up in a file RUN, one line each: "pid N" (killed by pid,
# then waited for: learnd detaches on exit), "cg DIR" (removed), "pin DIR" (removed).
# Globals the functions read: B (build), FLOWGEN, RUN, BOUNDS, SEED, BLOCK, SIZES,
# PATHS (the paths file), PATH_NAME (the path of the calling loop), TOPO_* (topo.env).

# sp_cleanup_run TOPO...: what RUN lists, and the topologies named TOPO, taken down
sp_cleanup_run() {
	local what x n t
	[ -f "${RUN:-}" ] || return 0
	while read -r what x; do [ "$what" != pid ] || kill "$x" 2>/dev/null || true; done <"$RUN"
	while read -r what x; do # learnd detaches on exit: wait for it
		[ "$what" = pid ] || continue
		for n in $(seq 50); do kill -0 "$x" 2>/dev/null || break; sleep 0.1; done
		[ "$n" -lt 50 ] || kill -KILL "$x" 2>/dev/null || true
	done <"$RUN"
	for t in "$@"; do LD_TOPO=$t "$BENCH_SRC/tools/topo.sh" down >/dev/null 2>&1 || true; done
	while read -r what x; do
		case $what in
		cg) rmdir "$x" 2>/dev/null || echo "${0##*/}: could not remove cgroup $x" >&2 ;;
		pin) rm -rf "$x" ;;
		esac
	done <"$RUN"
	rm -f "$RUN"
}

# sp_start_learnd DIR CGROUP PIN [EXTRA]: learnd with BOUNDS on CGROUP; config, db,
# log in DIR; EXTRA is appended to its configuration (another section); its pid in
# SP_PID
sp_start_learnd() {
	local dir=$1 cg=$2 pin=$3 extra=${4:-}
	mkdir -p "$dir"
	printf '[learnd]\ncgroup = %s\ndb = %s\npin_dir = %s\n\n[defaults]\n%s\n%s' \
		"$cg" "$dir/learnd.db" "$pin" "$BOUNDS" "${extra:+$'\n'$extra$'\n'}" >"$dir/learnd.conf"
	echo "pin $pin" >>"$RUN"
	"$B/learner/learnd" --config "$dir/learnd.conf" >"$dir/learnd.log" 2>&1 &
	SP_PID=$!
	echo "pid $SP_PID" >>"$RUN"
	for _ in $(seq 100); do grep -q 'attached to' "$dir/learnd.log" && break; sleep 0.1; done
	grep -q 'attached to' "$dir/learnd.log" || { cat "$dir/learnd.log" >&2; exit 1; }
}

# sp_stop PID: stop a process of RUN (TERM, up to 5 s, then KILL), wait for it and
# take it off RUN
sp_stop() {
	kill "$1" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	sed -i "/^pid $1\$/d" "$RUN"
}

# sp_server CGROUP PORT LOG: a flowgen server (cubic) in the server namespace, in
# CGROUP (-: none), registered in RUN
sp_server() {
	sh -c 'cg=$1; shift; [ "$cg" = - ] || echo $$ >"$cg/cgroup.procs"; exec "$@"' sh "$1" \
		ip netns exec "$TOPO_SRV_NS" "$FLOWGEN" server --port "$2" --congestion cubic 2>"$3" &
	echo "pid $!" >>"$RUN"
}

# sp_wait_listen COUNT PORT...: until COUNT of the PORTs listen in the server namespace (5 s)
sp_wait_listen() {
	local count=$1 f="" p
	shift
	for p in "$@"; do f="$f${f:+ or }sport = :$p"; done
	for _ in $(seq 50); do
		[ "$(ip netns exec "$TOPO_SRV_NS" ss -Hltn "( $f )" | wc -l)" -ge "$count" ] && return 0
		sleep 0.1
	done
}

# sp_cgroup NAME: a cgroup of its own beside the topology's (registered in RUN)
sp_cgroup() {
	SP_CG=$(dirname "$TOPO_CGROUP")/$1
	mkdir "$SP_CG"
	echo "cg $SP_CG" >>"$RUN"
}

# sp_static_routes NS ADDR TABLE IW: answers from ADDR leave through TABLE, whose
# routes to every client prefix carry initcwnd IW
sp_static_routes() {
	local ns=$1 addr=$2 table=$3 iw=$4 name i
	ip -n "$ns" addr add "$addr/32" dev lo
	ip -n "$ns" rule add from "$addr" table "$table" pref "$table"
	for name in $TOPO_PATHS; do
		i=TOPO_INDEX_$name
		ip -n "$ns" route add "10.201.${!i}.0/24" dev "t-$name" src "$addr" table "$table" \
			congctl cubic initcwnd "$iw"
	done
	[[ $(ip -n "$ns" route show table "$table") == *"initcwnd $iw"* ]] ||
		{ echo "${0##*/}: initcwnd $iw not in table $table" >&2; exit 1; }
}

# sp_block DIR ARM ROUND ADDR PORT NS [CGROUP]: BLOCK connections (COUNT), one at a
# time (CONC), sizes SIZES (SZ) in the order of seed SEED and ROUND, from namespace
# NS (in CGROUP if given); rows appended to DIR/conns.PATH_NAME.csv as arm,round,...
sp_block() {
	local dir=$1 arm=$2 round=$3 addr=$4 port=$5 ns=$6 cg=${7:--} sizes=${SZ:-$SIZES} f
	f=$dir/blk.$PATH_NAME.$arm.$round.csv
	sh -c 'cg=$1; shift; [ "$cg" = - ] || echo $$ >"$cg/cgroup.procs"; exec "$@"' sh "$cg" \
		ip netns exec "$ns" "$FLOWGEN" client --server "$addr" --port "$port" \
		--sizes "$sizes" --order random --seed $((SEED * 10000 + round)) --count "${COUNT:-$BLOCK}" \
		--concurrency "${CONC:-1}" --timeout 30 --srv-retrans --path "$PATH_NAME" --out "$f" 2>>"$dir/flowgen.log" ||
		echo "${0##*/}: flowgen client failed ($PATH_NAME $arm $round)" >&2
	awk -v a="$arm" -v r="$round" 'NR > 1 { print a "," r "," $0 }' "$f" >>"$dir/conns.$PATH_NAME.csv"
	rm -f "$f"
}

# sp_merge_conns DIR: DIR/conns.csv from the paths' DIR/conns.*.csv
sp_merge_conns() {
	echo "arm,round,path,size,connect_us,fct_us,retrans,ok,err,id,start_us,rtt_us,min_rtt_us,srv_retrans,srv_segs" >"$1/conns.csv"
	cat "$1"/conns.*.csv >>"$1/conns.csv"
}

# sp_syn_loss_of NAME: the path's syn_loss column in PATHS (0 if none)
sp_syn_loss_of() {
	awk -v n="$1" '$1 == n { print ($6 == "" ? 0 : $6 + 0); f = 1 } END { if (!f) print 0 }' "$PATHS"
}
