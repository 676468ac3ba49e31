#!/usr/bin/env bash
# run_bench.sh BINARY NAME [ARGS...]: build BINARY (tools/bench) in $BUILD_DIR (default
# build/) if needed, run it, and whatever happens remove the cgroup it made
# (<cgroup2 mount>/learnd-bench-NAME-<pid>, and the cgroups it made inside).  Used by dataplane.sh and scale.sh.
set -euo pipefail
bin=$1 name=$2
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}

if [[ $(id -u) != 0 ]]; then
	echo "$bin: needs root (BPF, cgroups, network namespaces)" >&2
	exit 77
fi
if [[ ! -f $build/Makefile ]]; then
	cmake -S "$root" -B "$build" >/dev/null
fi
make -C "$build" -j2 "$bin" >/dev/null

cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
pid=
rm_cgroup() {
	local d=$cg2/learnd-bench-$name-$1
	[[ -n $cg2 && -d $d ]] || return 0
	rmdir "$d"/*/ 2>/dev/null || true
	rmdir "$d" 2>/dev/null || true
}
cleanup() {
	if [[ -n $pid ]]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		rm_cgroup "$pid"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# $bin on $(uname -n): kernel $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# command: tools/bench/$name.sh $*"
"$build/tools/bench/$bin" "$@" &
pid=$!
rc=0
wait "$pid" || rc=$?
pid_done=$pid
pid=
rm_cgroup "$pid_done"
exit "$rc"
