# tests/testbed/lib.sh: what the testbed scripts share.  Sourced, never run:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   tb_init NAME [WORKNAME]     variables, work directory, cleanup trap, root check
#
# Variables after tb_init: NAME, SRC, LEARND_BUILD (exported, for topo.sh), FG,
# LEARND, LC (learnctl), TOPO, WORK (/tmp/WORKNAME.XXXXXX, WORKNAME defaults to
# test_NAME), PIN (/sys/fs/bpf/learnd-test-PID; a script may set its own).
#
# Cleanup (on every exit) kills the processes the script registered, by pid (and
# only those: see tb_track), runs the script's own tb_on_exit hooks, takes the
# topology down if tb_topo_up was called, removes the namespace and cgroup of
# tb_sandbox, the pin directory and the work directory.  On failure it shows the
# tail of the learnd logs ($WORK/learnd*.log, without debug lines).
# shellcheck shell=bash disable=SC2034 # variables for the scripts that source this file

TB_PIDS=()     # registered processes, in start order
TB_HOOKS=()    # tb_on_exit commands
TB_TOPO=""     # set once tb_topo_up has started (topo.sh down is idempotent)
TB_NS="" TB_CG=""

tb_init() {
	NAME=$1
	SRC=${LEARND_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
	export LEARND_BUILD=${LEARND_BUILD:-$SRC/build}
	FG=$LEARND_BUILD/tools/flowgen
	LEARND=$LEARND_BUILD/learner/learnd
	LC=$LEARND_BUILD/learner/learnctl
	TOPO=$SRC/tools/topo.sh
	PIN=/sys/fs/bpf/learnd-test-$$
	WORK=$(mktemp -d "/tmp/${2:-test_$NAME}.XXXXXX")
	trap tb_cleanup EXIT
	[ "$(id -u)" -eq 0 ] || tb_fail "needs root"
}

tb_fail() { echo "FAIL: $NAME: $*" >&2; exit 1; }

# tb_check DESCRIPTION AWK-CONDITION [AWK-ARGS...]: "  ok: DESCRIPTION" if the awk
# condition holds (on the variables passed with -v), else tb_fail DESCRIPTION
tb_check() {
	local desc=$1 cond=$2
	shift 2
	if awk "$@" "BEGIN { exit !($cond) }"; then echo "  ok: $desc"; else tb_fail "$desc"; fi
}

# tb_need FILE...: each one built (executable)
tb_need() {
	local b
	for b in "$@"; do [ -x "$b" ] || tb_fail "not built: $b"; done
}

# the pid registry: cleanup kills (SIGTERM) and waits for these, latest first.
# A script that stops a registered process itself calls tb_untrack after the wait,
# so that cleanup never signals a pid that may have been reused.
tb_track() { TB_PIDS+=("$@"); }
tb_untrack() {
	local keep=() p q
	for p in "${TB_PIDS[@]}"; do
		for q in "$@"; do [ "$p" = "$q" ] && continue 2; done
		keep+=("$p")
	done
	TB_PIDS=("${keep[@]}")
}
# tb_on_exit CMD...: run CMD at cleanup, after the processes are gone
tb_on_exit() { TB_HOOKS+=("$*"); }

tb_cleanup() {
	local rc=$? i h
	trap - EXIT
	for ((i = ${#TB_PIDS[@]} - 1; i >= 0; i--)); do
		kill "${TB_PIDS[i]}" 2>/dev/null || true
		kill -CONT "${TB_PIDS[i]}" 2>/dev/null || true # a stopped one must see the TERM
		wait "${TB_PIDS[i]}" 2>/dev/null || true
	done
	for h in "${TB_HOOKS[@]}"; do eval "$h" || true; done
	if [ -n "$TB_TOPO" ]; then
		"$TOPO" down >/dev/null 2>&1 || echo "cleanup: topo.sh down failed for $LD_TOPO" >&2
	fi
	[ -z "${PIN:-}" ] || rm -rf "$PIN" 2>/dev/null || echo "cleanup: cannot remove $PIN" >&2
	[ -z "$TB_CG" ] || rmdir "$TB_CG" 2>/dev/null || true
	[ -z "$TB_NS" ] || ip netns del "$TB_NS" 2>/dev/null || true
	if [ $rc -ne 0 ] && [ -n "${WORK:-}" ]; then
		# (|| true: with no learnd log yet grep fails, and set -e would skip the rest)
		{ echo "--- learnd log:"; grep -v ' debug: ' "$WORK"/learnd*.log 2>/dev/null | tail -n 30; } >&2 || true
	fi
	[ -z "${WORK:-}" ] || rm -rf "$WORK"
	[ $rc -eq 0 ] || echo "FAIL: ${NAME:-?} (status $rc)" >&2
	exit $rc
}

# tb_topo_up PATHFILE [metrics|rmem|none]: the topology of PATHFILE (LD_TOPO must be
# exported), its topo.env sourced (TOPO_*).  Sysctls: "metrics" (default) sets
# tcp_no_metrics_save=1 in the server's and every path's namespace, so that one
# flow's cwnd does not carry over to the next; "rmem" also opens the clients'
# receive buffers (the client must not be the limit: a 50 KB answer in one window).
tb_topo_up() {
	local p v clients=()
	TB_TOPO=1
	"$TOPO" up "$1" >/dev/null
	# shellcheck disable=SC1090,SC2154 # topo.env defines TOPO_*
	. "/run/learnd-topo/$LD_TOPO/topo.env"
	[ "${2:-metrics}" != none ] || return 0
	for p in $TOPO_PATHS; do v=TOPO_NS_$p; clients+=("${!v}"); done
	for v in "$TOPO_SRV_NS" "${clients[@]}"; do
		ip netns exec "$v" sysctl -q -w net.ipv4.tcp_no_metrics_save=1 >/dev/null
	done
	[ "${2:-metrics}" = rmem ] || return 0
	for v in "${clients[@]}"; do
		ip netns exec "$v" sysctl -q -w net.ipv4.tcp_rmem="4096 524288 33554432" >/dev/null
	done
}

# tb_sandbox CGNAME NS: for tests without a topology: a cgroup CG (under the cgroup
# v2 mount, CG2) and a network namespace NS with loopback up (no metrics saved)
tb_sandbox() {
	CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$CG2" ] || tb_fail "no cgroup v2 mount"
	CG=$CG2/$1 NS=$2
	mkdir "$CG"
	TB_CG=$CG
	TB_NS=$NS
	ip netns add "$NS"
	ip -n "$NS" link set lo up
	ip netns exec "$NS" sysctl -q -w net.ipv4.tcp_no_metrics_save=1
}

# tb_conf FILE CGROUP DB [KEY=VALUE...] <<SECTIONS: a learnd configuration in FILE:
# [learnd] with cgroup = CGROUP, db = DB, pin_dir = $PIN and each KEY = VALUE (an
# empty argument is skipped), then the sections read from stdin.  Also for the
# benchmarks (tools/bench/lib.sh).
tb_conf() {
	local file=$1 kv
	{
		printf '[learnd]\ncgroup = %s\ndb = %s\npin_dir = %s\n' "$2" "$3" "$PIN"
		shift 3
		for kv in "$@"; do [ -z "$kv" ] || printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"; done
		echo
		cat
	} >"$file"
}

# tb_loopback PORT CGNAME NS IW [KEY=VALUE...]: the setting of the tests on
# loopback: learnd and learnctl built; tb_sandbox CGNAME NS; $WORK/learnd.conf
# (tb_conf: cgroup CG, database DB = $WORK/learnd.db, the KEY = VALUEs) with
# 127.0.0.0/8 at `iw = IW`; CTL, learnctl on that configuration; tb_listener on
# PORT (the variable, for tb_probe_iws)
tb_loopback() {
	local iw=$4
	PORT=$1
	tb_need "$LEARND" "$LC"
	tb_sandbox "$2" "$3"
	shift 4
	DB=$WORK/learnd.db
	tb_conf "$WORK/learnd.conf" "$CG" "$DB" "$@" <<-EOF
	[prefix 127.0.0.0/8]
	iw = $iw
	EOF
	CTL=("$LC" -c "$WORK/learnd.conf")
	tb_listener "$PORT"
}

# tb_mkdb DB: the database learnd keeps, empty, made by the store's own code as
# learnd makes it (tools/sim/learnctl_mkdb)
tb_mkdb() {
	tb_need "$LEARND_BUILD/tools/sim/learnctl_mkdb"
	"$LEARND_BUILD/tools/sim/learnctl_mkdb" "$1" 0 >/dev/null 2>"$WORK/mkdb.err" ||
		tb_fail "learnctl_mkdb: $(cat "$WORK/mkdb.err")"
}

# tb_wait_attached LOG [MESSAGE]: wait (5 s) until the learnd writing LOG says
# 'attached to'; fail with MESSAGE (default "learnd did not attach"), or with the
# log itself if MESSAGE is "-log"
tb_wait_attached() {
	local why=${2:-learnd did not attach}
	for _ in $(seq 100); do grep -q 'attached to' "$1" && return 0; sleep 0.05; done
	[ "$why" != -log ] || why="learnd did not attach: $(cat "$1")"
	tb_fail "$why"
}

# tb_start_learnd [-m MESSAGE] CONF LOG [LEARND-ARGS...]: learnd --config CONF in
# the background (LEARND_PID, registered), output to LOG, attached (tb_wait_attached
# LOG MESSAGE)
tb_start_learnd() {
	local why=""
	[ "$1" != -m ] || { why=$2; shift 2; }
	local conf=$1 log=$2
	shift 2
	"$LEARND" --config "$conf" "$@" >"$log" 2>&1 &
	LEARND_PID=$!
	tb_track "$LEARND_PID"
	tb_wait_attached "$log" "$why"
}

# tb_stop_learnd [SIGNAL]: kill -SIGNAL (default KILL) learnd and wait; the exit
# status goes to LEARND_RC (a signal's is 128 + n)
tb_stop_learnd() {
	LEARND_RC=0
	kill -"${1:-KILL}" "$LEARND_PID"
	wait "$LEARND_PID" 2>/dev/null || LEARND_RC=$?
	tb_untrack "$LEARND_PID"
	LEARND_PID=""
}

# tb_start_server PORT [FLOWGEN-SERVER-ARGS...]: flowgen server in the topology's
# server namespace and cgroup (SRV_PID, registered; stderr to $WORK/server.log),
# waits (5 s) until it listens
tb_start_server() {
	local port=$1
	shift
	"$TOPO" exec srv -- "$FG" server --port "$port" "$@" 2>"$WORK/server.log" &
	SRV_PID=$!
	tb_track "$SRV_PID"
	tb_wait_listen "$port"
}
# tb_probe_server PORT: tests/testbed/pathemu_probe.py srv PORT, the same way
tb_probe_server() {
	"$TOPO" exec srv -- python3 "$SRC/tests/testbed/pathemu_probe.py" srv "$1" &
	SRV_PID=$!
	tb_track "$SRV_PID"
	tb_wait_listen "$1"
}
# tb_wait_listen PORT: wait (5 s) until something listens on PORT in the server namespace
tb_wait_listen() {
	for _ in $(seq 100); do
		ip netns exec "$TOPO_SRV_NS" ss -Hltn "sport = :$1" | grep -q . && break
		sleep 0.05
	done
}

# tb_listener PORT: a listener on 127.0.0.1:PORT in tb_sandbox's namespace that
# accepts and closes (SRV_PID, registered; not in the cgroup), waits (5 s) for it
tb_listener() {
	ip netns exec "$NS" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
while True:
    c, _ = s.accept(); c.close()
' "$1" &
	SRV_PID=$!
	tb_track "$SRV_PID"
	for _ in $(seq 50); do ip netns exec "$NS" ss -Hltn "sport = :$1" | grep -q . && break; sleep 0.1; done
}

# tb_probe_iws [N]: the IWs (snd_cwnd right after connect, tests/testbed/cwnd_probe.py)
# of N (default 3) new connections to tb_listener's PORT from a process inside CG,
# on one line
tb_probe_iws() {
	# join the cgroup first: `ip netns exec` mounts its own /sys, without the cgroup tree
	sh -c 'echo $$ > "$1/cgroup.procs" && exec ip netns exec "$2" python3 "$3" "$4" "$5"' \
		sh "$CG" "$NS" "$SRC/tests/testbed/cwnd_probe.py" "$PORT" "${1:-3}"
}
# tb_iw: the IW of 3 new connections from inside CG; all must agree
tb_iw() {
	local out
	out=$(tb_probe_iws 3) || tb_fail "probe failed"
	# shellcheck disable=SC2086 # split on purpose
	set -- $out
	[ "$1" = "$2" ] && [ "$2" = "$3" ] || tb_fail "connections disagree: $out"
	echo "$1"
}
# tb_expect_iw WHAT IW: new connections from inside CG get IW
tb_expect_iw() {
	local got
	got=$(tb_iw)
	[ "$got" = "$2" ] || tb_fail "$1: new connections got IW $got, want $2"
	echo "  ok: $1: IW $got"
}

# tb_wait_prefix DB CIDR: wait (5 s) until learnd has recorded CIDR in DB
tb_wait_prefix() {
	for _ in $(seq 50); do
		[ "$(sqlite3 "$1" "SELECT count(*) FROM prefixes WHERE cidr = '$2'" 2>/dev/null)" = 1 ] && break
		sleep 0.1
	done
}

# tb_fct_median CSV: the median FCT (ms, whole) of the flows in a flowgen CSV
tb_fct_median() {
	tail -n +2 "$1" | awk -F, '{ print $4 }' | sort -n | awk '{ f[NR] = $1 } END { printf "%d\n", f[int((NR + 1) / 2)] / 1000 }'
}
