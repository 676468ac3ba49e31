# tests/testbed/fleet_lib.sh: what the fleet tests share (sourced after lib.sh and
# tb_init).  A throwaway PostgreSQL (tools/pgtmp.sh) and "hosts": each its own
# cgroup, network namespace (loopback), reading server, pin dir, database and
# learnd with a [fleet] section.
#
#   fl_pg_up [--tcp]            cluster in $PGD ($WORK/pg), stopped and removed at exit;
#                               PGPASS, the passfile the hosts' conninfo names
#   fl_role ROLE PASSWORD HOST  a host role (pgtmp.sh role), its password in PGPASS
#   fl_host NAME ROLE [KEY=VALUE...] <<SECTIONS
#                               host NAME: sandbox, server on FL_PORT, config
#                               $WORK/NAME.conf ([learnd] tick_ms=100 + KEY=VALUEs,
#                               SECTIONS, then [fleet] conninfo/host/interval_s=1
#                               unless SECTIONS has one)
#   fl_start NAME               learnd for NAME (pid in FL_PID[NAME]), attached
#   fl_stop NAME [SIGNAL]
#   fl_iws NAME N [SIZE]        the IWs of N new connections from NAME's cgroup,
#                               each sending SIZE bytes (default 150000)
#   fl_sql SQL                  psql as postgres on the fleet database, -At
# shellcheck shell=bash disable=SC2034

. "$SRC/tools/pgtmp.sh"
FL_PORT=5411
declare -A FL_PID FL_CG FL_NS

fl_pg_up() {
	PGD=$WORK/pg
	chmod 711 "$WORK" # the postgres user reaches its directory
	tb_on_exit "pgtmp_stop '$PGD'"
	pgtmp_start "$PGD" "${1:-}" >/dev/null || tb_fail "throwaway PostgreSQL did not start"
	PGPASS=$WORK/pgpass
	: >"$PGPASS"
	chmod 600 "$PGPASS"
}

fl_role() {
	pgtmp_role "$PGD" "$1" "$2" "$3" || tb_fail "role $1"
	echo "*:*:*:$1:$2" >>"$PGPASS"
}

fl_sql() { pgtmp_psql "$PGD" postgres -At -c "$1"; }

fl_conninfo() { echo "host=$PGD port=$(cat "$PGD/port") dbname=fleet user=$1 passfile=$PGPASS"; }

fl_host() {
	local name=$1 role=$2 cg2 sections
	shift 2
	cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$cg2" ] || tb_fail "no cgroup v2 mount"
	FL_CG[$name]=$cg2/fleet_test_${name}_$$
	FL_NS[$name]=fl${name}$$
	mkdir "${FL_CG[$name]}"
	tb_on_exit "rmdir '${FL_CG[$name]}'"
	ip netns add "${FL_NS[$name]}"
	tb_on_exit "ip netns del '${FL_NS[$name]}'"
	# (mss 1448 as on a real path: 150 KB is then more than an IW of 10 can carry)
	ip -n "${FL_NS[$name]}" link set lo mtu 1500 up
	ip netns exec "${FL_NS[$name]}" sysctl -q -w net.ipv4.tcp_no_metrics_save=1
	ip netns exec "${FL_NS[$name]}" python3 "$SRC/tests/testbed/fleet_probe.py" server $FL_PORT &
	tb_track $!
	for _ in $(seq 50); do
		ip netns exec "${FL_NS[$name]}" ss -Hltn "sport = :$FL_PORT" | grep -q . && break
		sleep 0.1
	done
	sections=$(cat)
	PIN=/sys/fs/bpf/learnd-test-$$-$name
	tb_on_exit "rm -rf '$PIN'"
	tb_conf "$WORK/$name.conf" "${FL_CG[$name]}" "$WORK/$name.db" tick_ms=100 "$@" <<-EOF
	$sections
	EOF
	if ! grep -q '^\[fleet\]' "$WORK/$name.conf"; then
		printf '[fleet]\nconninfo = %s\nhost = %s\ninterval_s = 1\n' "$(fl_conninfo "$role")" "$name" >>"$WORK/$name.conf"
	fi
	PIN=""
}

fl_start() {
	local name=$1
	"$LEARND" --config "$WORK/$name.conf" "${@:2}" >>"$WORK/learnd-$name.log" 2>&1 &
	FL_PID[$name]=$!
	tb_track "${FL_PID[$name]}"
	tb_wait_attached "$WORK/learnd-$name.log" "learnd $name did not attach: $(tail -n 5 "$WORK/learnd-$name.log")"
}

fl_stop() {
	local name=$1
	kill -"${2:-TERM}" "${FL_PID[$name]}"
	wait "${FL_PID[$name]}" 2>/dev/null || true
	tb_untrack "${FL_PID[$name]}"
}

fl_iws() {
	sh -c 'echo $$ > "$1/cgroup.procs" && exec ip netns exec "$2" python3 "$3" client "$4" "$5" "$6"' \
		sh "${FL_CG[$1]}" "${FL_NS[$1]}" "$SRC/tests/testbed/fleet_probe.py" $FL_PORT "$2" "${3:-150000}"
}

# fl_wait SECONDS DESCRIPTION CMD...: until CMD succeeds (every 0.1 s), else fail
fl_wait() {
	local t=$1 what=$2 i
	shift 2
	for ((i = 0; i < t * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	tb_fail "$what: not within $t s"
}

# fl_watch_start NAME: sample learnctl status --json of NAME every 0.1 s into
# $WORK/watch-NAME (heartbeat age, last tick age); fl_watch_stop NAME prints the
# largest of each, in seconds: "HEARTBEAT TICK"
fl_watch_start() {
	local name=$1
	(
		while :; do
			"$LC" -c "$WORK/$name.conf" status --json 2>/dev/null |
				python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["learnd"]["heartbeat_age_s"], d["database"]["last_tick_age_s"])' \
					2>/dev/null || true
			sleep 0.1
		done
	) >"$WORK/watch-$name" &
	FL_WATCH=$!
	tb_track $FL_WATCH
}
fl_watch_stop() {
	kill "$FL_WATCH" 2>/dev/null || true
	wait "$FL_WATCH" 2>/dev/null || true
	tb_untrack "$FL_WATCH"
	awk 'NF == 2 && $1 != "None" && $2 != "None" { n++; if ($1 > h) h = $1; if ($2 > t) t = $2 }
	     END { if (!n) print "none none"; else printf "%.2f %.2f\n", h, t }' "$WORK/watch-$1"
}

# fl_one_line NAME SECONDS WHAT REGEX: after SECONDS, NAME's log holds exactly one
# "fleet: " line and it matches REGEX (a refused link says so once, clearly); the
# line in FL_LINE
fl_one_line() {
	local n
	sleep "$2"
	n=$(grep -c "fleet: " "$WORK/learnd-$1.log" || true)
	FL_LINE=$(grep "fleet: " "$WORK/learnd-$1.log" || true)
	[ "$n" = 1 ] || tb_fail "$3: $n fleet lines in $2 s, want one: $FL_LINE"
	echo "$FL_LINE" | grep -q "$4" || tb_fail "$3: unclear line: $FL_LINE"
}

# fl_daemon NAME KEY: a value of NAME's daemon table
fl_daemon() { sqlite3 "$WORK/$1.db" "SELECT value FROM daemon WHERE key = '$2'" 2>/dev/null; }

# fl_host_a: host a (role host_a) with 127.0.0.0/24 fixed at iw 40, 20 connections
# run, its value in the fleet (in_force) before this returns
fl_host_a() {
	local got
	fl_host a host_a <<-'CONF'
	[defaults]
	iw = 4..128
	[prefix 127.0.0.0/24]
	iw = 40
	CONF
	fl_start a
	got=$(fl_iws a 20)
	case " $got " in *" 40 "*) ;; *) tb_fail "host a's connections did not run at iw 40: $got" ;; esac
	for _ in $(seq 100); do [ "$(fl_a_iw)" = 40 ] && break; sleep 0.1; done
	[ "$(fl_a_iw)" = 40 ] || tb_fail "a's iw 40 for 127.0.0.0/24 not in the fleet: $(fl_sql "SELECT * FROM learnd.in_force")"
}
fl_a_iw() { fl_sql "SELECT iw FROM learnd.in_force WHERE host = 'a' AND prefix = '127.0.0.0/24'"; }
