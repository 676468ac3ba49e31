#!/bin/bash
# topo.sh — emulated-path topology for the learnd testbed (see docs/testbed.md).
#
#   topo.sh up PATHFILE                 build the topology, wait until every path forwards
#   topo.sh down                        remove everything of the topology (idempotent)
#   topo.sh set NAME key=value...       change a running path (effective when set returns)
#   topo.sh exec srv|NAME [--] CMD...   run CMD in a namespace (srv: inside the topology cgroup)
#   topo.sh status                      what is up, with pathemu counters
#   topo.sh stats NAME                  refresh and print one path's raw pathemu counters
#
# Environment: LD_TOPO (name prefix, default ldt), LEARND_BUILD (build dir, default
# tools/../build; pathemu is $LEARND_BUILD/tools/pathemu), LD_TOPO_SEED (loss PRNG base
# seed, default 1; path i gets seed LD_TOPO_SEED+i), LD_TOPO_NICE (nice value of the
# pathemu processes, default -10: timing precision under CPU load).
set -euo pipefail

PROG=topo.sh
TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LEARND_BUILD=${LEARND_BUILD:-$TOOLS_DIR/../build}
PATHEMU=$LEARND_BUILD/tools/pathemu
P=${LD_TOPO:-ldt}
SEED=${LD_TOPO_SEED:-1}
NICE=${LD_TOPO_NICE:--10}
STATE_ROOT=/run/learnd-topo
STATE=$STATE_ROOT/$P
SRV_NS=$P-srv
SRV4=10.200.0.1
SRV6=fd00:200::1
PARAM_KEYS="delay_ms rate_mbit queue_pkts loss syn_loss"

die() { echo "$PROG: $*" >&2; exit 1; }
usage_err() { echo "$PROG: $*" >&2; exit 2; }
log() { echo "$PROG: $*" >&2; }

usage() {
	awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
}

need_root() {
	[ "$EUID" -eq 0 ] || die "must run as root (it creates network namespaces, TUN devices and a cgroup)"
}

check_prefix() {
	[[ $P =~ ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,31}$ ]] ||
		usage_err "LD_TOPO '$P': use 1..32 characters [a-zA-Z0-9_.-]"
}

# cgroup v2 mount point: /sys/fs/cgroup/unified on hybrid hosts, /sys/fs/cgroup on pure v2
cgroot() {
	local r
	r=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$r" ] || die "no cgroup2 mount in /proc/mounts"
	echo "$r"
}

is_num() { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]; }
is_int() { [[ $1 =~ ^[0-9]+$ ]]; }
is_prob() { is_num "$1" && awk -v v="$1" 'BEGIN { exit !(v >= 0 && v <= 1) }'; }
half() { awk -v v="$1" 'BEGIN { printf "%.6g\n", v / 2 }'; }

# value of key in a key=value file
kv_get() {
	local key=$1 file=$2 line
	[ -r "$file" ] || return 1
	while IFS= read -r line; do
		if [[ $line == "$key="* ]]; then
			echo "${line#*=}"
			return 0
		fi
	done <"$file"
	return 1
}

# Parse a path file; prints "i name rtt rate queue loss syn_loss" lines.
parse_paths() {
	local file=$1 lineno=0 i=0 line name rtt rate queue loss syn extra
	local -A seen=()
	[ -r "$file" ] || usage_err "cannot read path file '$file'"
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		line=${line%%#*}
		[[ $line =~ ^[[:space:]]*$ ]] && continue
		read -r name rtt rate queue loss syn extra <<<"$line"
		local where="$file:$lineno"
		{ [ -n "${syn:-}" ] && [ -z "${extra:-}" ]; } ||
			usage_err "$where: expected 'name rtt_ms rate_mbit queue_pkts loss syn_loss', got '$line'"
		[[ $name =~ ^[a-z0-9]{1,8}$ ]] || usage_err "$where: bad name '$name' (use [a-z0-9]{1,8})"
		[ "$name" != srv ] || usage_err "$where: 'srv' is reserved for the server namespace"
		[ -z "${seen[$name]:-}" ] || usage_err "$where: duplicate path name '$name'"
		seen[$name]=1
		is_num "$rtt" || usage_err "$where: bad rtt_ms '$rtt'"
		is_num "$rate" || usage_err "$where: bad rate_mbit '$rate' (0 = unlimited)"
		is_int "$queue" || usage_err "$where: bad queue_pkts '$queue'"
		is_prob "$loss" || usage_err "$where: bad loss '$loss' (a probability 0..1)"
		is_prob "$syn" || usage_err "$where: bad syn_loss '$syn' (a probability 0..1)"
		i=$((i + 1))
		[ $i -le 254 ] || usage_err "$where: at most 254 paths"
		echo "$i $name $rtt $rate $queue $loss $syn"
	done <"$file"
	[ $i -gt 0 ] || usage_err "$file: no paths"
}

# "i name rtt ..." lines of the running topology
state_paths() {
	[ -r "$STATE/paths.parsed" ] || die "topology '$P' is not up (no $STATE/paths.parsed)"
	cat "$STATE/paths.parsed"
}

path_index() {
	local want=$1 i name rest
	while read -r i name rest; do
		if [ "$name" = "$want" ]; then
			echo "$i"
			return 0
		fi
	done < <(state_paths)
	return 1
}

pid_of_path() {
	local name=$1 pid
	pid=$(cat "$STATE/$name.pid" 2>/dev/null || true)
	[ -n "$pid" ] || pid=$(cat "$STATE/$name.launch_pid" 2>/dev/null || true)
	echo "$pid"
}

is_pathemu() {
	[ -n "$1" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = pathemu ]
}

# ip netns exec NS sysctl -w k=v...
ns_sysctl() {
	local ns=$1
	shift
	ip netns exec "$ns" sysctl -q -w "$@" >/dev/null
}

mk_ns() {
	local ns=$1
	echo "$ns" >>"$STATE/namespaces"
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ns_sysctl "$ns" net.ipv4.tcp_no_metrics_save=1 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
}

# Ask pathemu for fresh stats (SIGUSR1) and wait until the file shows them.
refresh_stats() {
	local name=$1 pid old new n=0 f=$STATE/$1.stats
	pid=$(pid_of_path "$name")
	is_pathemu "$pid" || return 1
	old=$(kv_get seq "$f" || echo -1)
	kill -USR1 "$pid" 2>/dev/null || return 1
	while [ $n -lt 200 ]; do
		new=$(kv_get seq "$f" || echo -1)
		[ "$new" != "$old" ] && return 0
		sleep 0.005
		n=$((n + 1))
	done
	return 1
}

write_env() {
	local cg=$1 i name rtt rest names=""
	local tmp=$STATE/topo.env.tmp
	{
		echo "# learnd testbed topology '$P' (tools/topo.sh); source this file"
		echo "TOPO_NAME=$P"
		echo "TOPO_STATE=$STATE"
		echo "TOPO_SRV_NS=$SRV_NS"
		echo "TOPO_CGROUP=$cg"
		echo "TOPO_SRV4=$SRV4"
		echo "TOPO_SRV6=$SRV6"
		while read -r i name rtt rest; do
			names="$names${names:+ }$name"
			echo "TOPO_NS_$name=$P-$name"
			echo "TOPO_INDEX_$name=$i"
			echo "TOPO_DEV_$name=t-$name"
			echo "TOPO_ADDR4_$name=10.201.$i.2"
			echo "TOPO_ADDR6_$name=fd00:201:$i::2"
			echo "TOPO_PREFIX4_$name=10.201.$i.0/24"
			echo "TOPO_PREFIX6_$name=fd00:201:$i::/48"
			echo "TOPO_RTT_$name=$rtt"
		done < <(state_paths)
		echo "TOPO_PATHS=\"$names\""
	} >"$tmp"
	mv "$tmp" "$STATE/topo.env"
}

# ------------------------------------------------------------------ down

# running (not gone, not a zombie)
pid_alive() {
	local st
	st=$(sed -E 's/^.*\) ([A-Z]).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

kill_pids() { # kill_pids WHAT PID... : TERM, wait up to 2 s, then KILL
	local what=$1 pid n alive
	shift
	[ $# -gt 0 ] || return 0
	for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
	for n in $(seq 40); do
		alive=""
		for pid in "$@"; do
			pid_alive "$pid" && alive="$alive $pid"
		done
		[ -z "$alive" ] && return 0
		sleep 0.05
	done
	log "killing $what with SIGKILL:$alive"
	for pid in $alive; do kill -KILL "$pid" 2>/dev/null || true; done
}

do_down() {
	local pids="" pid f ns cg nslist=() procs n
	# 1. pathemu processes, by recorded pid (only if that pid is still a pathemu)
	for f in "$STATE"/*.pid "$STATE"/*.launch_pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f" 2>/dev/null || true)
		if is_pathemu "$pid" && [[ " $pids " != *" $pid "* ]]; then
			pids="$pids $pid"
		fi
	done
	# shellcheck disable=SC2086
	kill_pids pathemu $pids

	# 2. processes left in the topology cgroup, then the cgroup
	cg=$(cat "$STATE/cgroup" 2>/dev/null || echo "$(cgroot)/$SRV_NS")
	if [ -d "$cg" ]; then
		for n in 1 2 3; do
			procs=$(cat "$cg/cgroup.procs" 2>/dev/null || true)
			# shellcheck disable=SC2086
			[ -n "$procs" ] && kill_pids "processes in $cg" $procs
			rmdir "$cg" 2>/dev/null && break
			sleep 0.2
		done
		[ ! -d "$cg" ] || log "could not remove cgroup $cg"
	fi

	# 3. namespaces: those recorded by up, the server namespace, the path namespaces
	if [ -r "$STATE/namespaces" ]; then
		mapfile -t nslist <"$STATE/namespaces"
	fi
	nslist+=("$SRV_NS")
	if [ -r "$STATE/paths.parsed" ]; then
		while read -r _ ns _; do nslist+=("$P-$ns"); done <"$STATE/paths.parsed"
	fi
	local -A done_ns=()
	for ns in "${nslist[@]}"; do
		{ [ -n "$ns" ] && [ -z "${done_ns[$ns]:-}" ]; } || continue
		done_ns[$ns]=1
		[ -e "/run/netns/$ns" ] || continue
		# processes still running in our namespace (clients started with topo.sh exec)
		procs=$(ip netns pids "$ns" 2>/dev/null || true)
		# shellcheck disable=SC2086
		[ -n "$procs" ] && kill_pids "processes in namespace $ns" $procs
		ip netns delete "$ns" 2>/dev/null || log "could not delete namespace $ns"
	done

	# 4. state
	rm -rf "$STATE"
	rmdir "$STATE_ROOT" 2>/dev/null || true
}

cmd_down() {
	need_root
	[ $# -eq 0 ] || usage_err "down takes no arguments"
	do_down
}

# -------------------------------------------------------------------- up

up_failed() {
	local rc=$?
	trap - EXIT
	if [ $rc -ne 0 ]; then
		log "up failed (status $rc); tearing down topology '$P'"
		do_down || true
	fi
	exit $rc
}

cmd_up() {
	need_root
	[ $# -eq 1 ] || usage_err "usage: topo.sh up PATHFILE"
	local file=$1 parsed cg i name rtt rate queue loss syn ns pid n
	[ -x "$PATHEMU" ] || die "pathemu not found at $PATHEMU (build it: cmake --build build --target pathemu, or set LEARND_BUILD)"
	is_int "$SEED" || usage_err "LD_TOPO_SEED '$SEED': not a non-negative integer"
	[[ $NICE =~ ^-?[0-9]+$ ]] || usage_err "LD_TOPO_NICE '$NICE': not an integer"
	parsed=$(parse_paths "$file") || exit $?
	if [ -e "$STATE" ] || [ -e "/run/netns/$SRV_NS" ]; then
		die "topology '$P' is already up (or left over); run 'LD_TOPO=$P $0 down' first"
	fi
	command -v ping >/dev/null || die "ping not found (apt-get install iputils-ping)"

	mkdir -p "$STATE"
	trap up_failed EXIT
	trap 'exit 130' INT TERM HUP # run the EXIT trap (teardown) when interrupted
	cp "$file" "$STATE/paths"
	echo "$parsed" >"$STATE/paths.parsed"
	: >"$STATE/namespaces"

	# server namespace and cgroup
	mk_ns "$SRV_NS"
	ns_sysctl "$SRV_NS" net.ipv4.tcp_wmem="4096 1048576 33554432"
	ip -n "$SRV_NS" addr add "$SRV4/32" dev lo
	ip -n "$SRV_NS" addr add "$SRV6/128" dev lo nodad
	cg=$(cgroot)/$SRV_NS
	echo "$cg" >"$STATE/cgroup"
	mkdir "$cg"

	# one client namespace and one pathemu per path
	while read -r -u 3 i name rtt rate queue loss syn; do
		ns=$P-$name
		mk_ns "$ns"
		ns_sysctl "$ns" net.ipv4.tcp_rmem="4096 524288 33554432"
		cat >"$STATE/$name.params" <<-EOF
			# path $name: rtt $rtt ms, the same both ways (a2b: client to server)
			delay_ms=$(half "$rtt")
			rate_mbit=$rate
			queue_pkts=$queue
			loss=$loss
			syn_loss=$syn
		EOF
		nice -n "$NICE" setsid "$PATHEMU" --ns-a "$ns" --dev-a t0 --ns-b "$SRV_NS" --dev-b "t-$name" \
			--params "$STATE/$name.params" --seed $((SEED + i)) \
			--stats "$STATE/$name.stats" --pidfile "$STATE/$name.pid" \
			</dev/null >>"$STATE/$name.log" 2>&1 &
		echo $! >"$STATE/$name.launch_pid"
	done 3<<<"$parsed"

	# wait for every pathemu to create its devices (it writes its pidfile then)
	while read -r -u 3 i name rest; do
		for n in $(seq 100); do
			[ -s "$STATE/$name.pid" ] && break
			pid=$(cat "$STATE/$name.launch_pid")
			if ! is_pathemu "$pid"; then
				sleep 0.05
				[ -s "$STATE/$name.pid" ] && break
				die "pathemu for path '$name' exited: $(tail -n 3 "$STATE/$name.log" | tr '\n' ' ')"
			fi
			sleep 0.05
		done
		[ -s "$STATE/$name.pid" ] || die "pathemu for path '$name' did not start within 5 s"
	done 3<<<"$parsed"

	# addresses and routes (congctl cubic: the host default is bbr)
	while read -r -u 3 i name rest; do
		ns=$P-$name
		ip -n "$ns" link set t0 mtu 1500 up
		ip -n "$ns" addr add "10.201.$i.2/24" dev t0
		ip -n "$ns" addr add "fd00:201:$i::2/48" dev t0 nodad
		ip -n "$ns" route add default dev t0 congctl cubic
		ip -n "$ns" -6 route add default dev t0 congctl cubic
		ip -n "$SRV_NS" link set "t-$name" mtu 1500 up
		ip -n "$SRV_NS" route add "10.201.$i.0/24" dev "t-$name" src "$SRV4" congctl cubic
		ip -n "$SRV_NS" -6 route add "fd00:201:$i::/48" dev "t-$name" src "$SRV6" congctl cubic
	done 3<<<"$parsed"

	write_env "$cg"

	# every path must forward, v4 and v6 (retries: lossy paths drop pings too)
	# (ping -c 1 -w: one echo request every 0.1 s until the first reply or the deadline)
	local w a
	while read -r -u 3 i name rtt rest; do
		w=$(awk -v r="$rtt" 'BEGIN { printf "%d\n", 10 + 3 * r / 1000 }')
		for a in "10.201.$i.2" "fd00:201:$i::2"; do
			ip netns exec "$SRV_NS" ping -n -q -c 1 -i 0.1 -w "$w" "$a" >/dev/null 2>&1 ||
				die "path '$name' does not forward: no ping reply from $a within $w s"
		done
	done 3<<<"$parsed"

	trap - EXIT INT TERM HUP
	local names
	names=$(awk '{ printf "%s%s", sep, $2; sep = " " }' <<<"$parsed")
	echo "$PROG: topology '$P' up: server $SRV_NS ($SRV4, $SRV6), paths: $names; env: $STATE/topo.env"
}

# ------------------------------------------------------------------- set

# Sets REPLY to the value of key in a key=value file (no subshell: set is timed).
kv_reply() {
	local key=$1 file=$2 line
	REPLY=""
	[ -r "$file" ] || return 1
	while IFS= read -r line; do
		if [[ $line == "$key="* ]]; then
			REPLY=${line#*=}
			return 0
		fi
	done <"$file"
	return 1
}

# set must take effect fast: everything up to the SIGHUP is bash builtins (no forks)
# except flock.
cmd_set() {
	need_root
	[ $# -ge 2 ] || usage_err "usage: topo.sh set NAME key=value... (keys: [a2b_|b2a_]{$PARAM_KEYS}, rtt_ms)"
	local name=$1 pid="" comm="" f kv key val base found=0 i n rest line lkey lbase gen old_gen
	local rtt_new="" nap kdir ldir
	local -a old=() keep=() add=()
	shift
	[ -r "$STATE/paths.parsed" ] || die "topology '$P' is not up"
	while read -r i n rest; do
		if [ "$n" = "$name" ]; then found=1; fi
	done <"$STATE/paths.parsed"
	[ $found -eq 1 ] || usage_err "no path '$name' in topology '$P'"
	read -r pid <"$STATE/$name.pid" 2>/dev/null || true
	if [ -n "$pid" ]; then read -r comm <"/proc/$pid/comm" 2>/dev/null || true; fi
	[ "$comm" = pathemu ] || die "pathemu of path '$name' is not running (pid '$pid')"
	f=$STATE/$name.params
	exec 8>"$STATE/$name.lock"
	flock 8
	mapfile -t old <"$f"
	keep=("${old[@]}")
	for kv in "$@"; do
		[[ $kv == *=* ]] || usage_err "'$kv': expected key=value"
		key=${kv%%=*}
		val=${kv#*=}
		is_num "$val" || usage_err "'$kv': '$val' is not a non-negative number"
		base=${key#a2b_}
		base=${base#b2a_}
		kdir=both
		[[ $key == a2b_* ]] && kdir=a2b
		[[ $key == b2a_* ]] && kdir=b2a
		if [ "$key" = rtt_ms ]; then
			base=delay_ms
			rtt_new=$val
		elif [[ " $PARAM_KEYS " != *" $base "* ]]; then
			usage_err "unknown key '$key' (keys: [a2b_|b2a_]{$PARAM_KEYS}, rtt_ms)"
		elif [ "$key" = delay_ms ]; then
			rtt_new="2*$val"
		fi
		# drop the lines this key overrides: a key without prefix overrides both
		# directions, a prefixed one its direction; delay_ms and rtt_ms are one parameter
		local -a next=()
		for line in "${keep[@]}"; do
			lkey=${line%%=*}
			lkey=${lkey//[[:space:]]/}
			lbase=${lkey#a2b_}
			lbase=${lbase#b2a_}
			[ "$lbase" = rtt_ms ] && lbase=delay_ms
			ldir=both
			[[ $lkey == a2b_* ]] && ldir=a2b
			[[ $lkey == b2a_* ]] && ldir=b2a
			if [[ $line != *=* ]] || [ "$lbase" != "$base" ]; then
				next+=("$line")
			elif [ "$kdir" != both ] && [ "$ldir" != "$kdir" ]; then
				next+=("$line")
			fi
		done
		keep=("${next[@]}")
		add+=("$key=$val")
	done
	printf '%s\n' "${keep[@]}" "${add[@]}" >"$f"
	kv_reply params_gen "$STATE/$name.stats" || true
	old_gen=$REPLY
	kill -HUP "$pid"
	exec {nap}<> <(:) # read -t on this fd = a sleep without forking
	gen=$old_gen
	for n in $(seq 400); do
		kv_reply params_gen "$STATE/$name.stats" || true
		gen=$REPLY
		[ "$gen" != "$old_gen" ] && break
		read -r -t 0.005 -u "$nap" _ || true
	done
	if [ "$gen" = "$old_gen" ]; then
		printf '%s\n' "${old[@]}" >"$f"
		die "pathemu of path '$name' did not confirm the change within 2 s"
	fi
	kv_reply params_ok "$STATE/$name.stats" || true
	if [ "$REPLY" != 1 ]; then
		kv_reply params_error "$STATE/$name.stats" || true
		printf '%s\n' "${old[@]}" >"$f"
		usage_err "pathemu rejected the change (kept the old parameters): $REPLY"
	fi
	if [ -n "$rtt_new" ] && [ -r "$STATE/topo.env" ]; then
		rtt_new=$(awk "BEGIN { printf \"%.6g\", $rtt_new }")
		sed -i "s/^TOPO_RTT_$name=.*/TOPO_RTT_$name=$rtt_new/" "$STATE/topo.env"
	fi
}

# ------------------------------------------------------------------ exec

cmd_exec() {
	need_root
	[ $# -ge 1 ] || usage_err "usage: topo.sh exec srv|NAME -- CMD..."
	local where=$1 cg
	shift
	[ "${1:-}" = "--" ] && shift
	[ $# -ge 1 ] || usage_err "usage: topo.sh exec srv|NAME -- CMD..."
	[ -d "$STATE" ] || die "topology '$P' is not up"
	if [ "$where" = srv ]; then
		cg=$(cat "$STATE/cgroup")
		[ -d "$cg" ] || die "cgroup $cg is missing"
		echo "$BASHPID" >"$cg/cgroup.procs"
		exec ip netns exec "$SRV_NS" "$@"
	fi
	path_index "$where" >/dev/null || usage_err "no path '$where' in topology '$P' (use srv or one of: $(awk '{printf "%s ", $2}' "$STATE/paths.parsed"))"
	exec ip netns exec "$P-$where" "$@"
}

# ---------------------------------------------------------------- status

cmd_status() {
	[ $# -eq 0 ] || usage_err "status takes no arguments"
	if [ ! -d "$STATE" ]; then
		echo "topology '$P': down"
		return 1
	fi
	need_root
	local i name rtt rate queue loss syn pid rc=0 f d
	echo "topology '$P': server $SRV_NS ($SRV4, $SRV6), cgroup $(cat "$STATE/cgroup" 2>/dev/null)"
	[ -e "/run/netns/$SRV_NS" ] || { echo "  server namespace $SRV_NS: MISSING"; rc=1; }
	while read -r i name rtt rate queue loss syn; do
		pid=$(pid_of_path "$name")
		f=$STATE/$name.stats
		if is_pathemu "$pid" && refresh_stats "$name"; then
			echo "path $name (#$i, ns $P-$name, 10.201.$i.2 fd00:201:$i::2): pathemu pid $pid running"
		else
			echo "path $name (#$i, ns $P-$name): pathemu NOT RUNNING (last counters below)"
			rc=1
		fi
		[ -r "$f" ] || continue
		for d in a2b b2a; do
			printf '  %s: delay %s ms rate %s Mbit/s queue %s loss %s syn_loss %s | rx %s fwd %s (%s B) drop queue %s loss %s syn %s other %s | queue now %s max %s | late>1ms %s\n' \
				"$d" "$(kv_get ${d}_delay_ms "$f")" "$(kv_get ${d}_rate_mbit "$f")" \
				"$(kv_get ${d}_queue_pkts "$f")" "$(kv_get ${d}_loss "$f")" \
				"$(kv_get ${d}_syn_loss "$f")" "$(kv_get ${d}_rx_pkts "$f")" \
				"$(kv_get ${d}_fwd_pkts "$f")" "$(kv_get ${d}_fwd_bytes "$f")" \
				"$(kv_get ${d}_drop_queue "$f")" "$(kv_get ${d}_drop_loss "$f")" \
				"$(kv_get ${d}_drop_syn "$f")" "$(kv_get ${d}_drop_other "$f")" \
				"$(kv_get ${d}_queue_now "$f")" "$(kv_get ${d}_max_queue "$f")" \
				"$(kv_get ${d}_late_1ms "$f")"
		done
	done < <(state_paths)
	return $rc
}

cmd_stats() {
	need_root
	[ $# -eq 1 ] || usage_err "usage: topo.sh stats NAME"
	path_index "$1" >/dev/null || usage_err "no path '$1' in topology '$P'"
	refresh_stats "$1" || log "pathemu of path '$1' is not running; showing its last counters"
	cat "$STATE/$1.stats"
}

# ------------------------------------------------------------------ main

[ $# -ge 1 ] || { usage >&2; exit 2; }
check_prefix
cmd=$1
shift
case $cmd in
up) cmd_up "$@" ;;
down) cmd_down "$@" ;;
set) cmd_set "$@" ;;
exec) cmd_exec "$@" ;;
status) cmd_status "$@" ;;
stats) cmd_stats "$@" ;;
-h | --help | help) usage ;;
*) usage_err "unknown command '$cmd' (up, down, set, exec, status, stats)" ;;
esac
