#!/bin/sh
# Install the Debian 12 packages learnd needs to build, test and run its demo.
# Idempotent: only calls apt-get when something is missing. Needs root.
set -eu

# postgresql (a throwaway cluster, tools/pgtmp.sh) and libpq-dev: the fleet link
# systemd (systemd-analyze), man-db and bsdextrautils (man -l, col): tests/packaging
PKGS="build-essential cmake pkg-config clang llvm bpftool libbpf-dev libelf-dev
zlib1g-dev libsqlite3-dev sqlite3 libinih-dev nftables iproute2 iputils-ping
tcpdump python3 procps valgrind libclang-rt-14-dev
systemd man-db bsdextrautils
postgresql libpq-dev"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing; run as root to install them" >&2
	exit 2
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
