#!/bin/bash
# tools/pgtmp.sh: a throwaway PostgreSQL cluster for tests and benchmarks.
# Never touches the machine's own cluster: everything lives in DIR.
#
#   pgtmp.sh start DIR [--tcp]     initdb into DIR/data as the postgres user, socket in DIR,
#                                  no TCP listener (--tcp: 127.0.0.1 on a free port too);
#                                  creates the database "fleet", owned by the role
#                                  "learnd_owner" (login, no password), the group role
#                                  "learnd_host" and applies schema/fleet/*.sql as the owner.
#                                  Prints the admin conninfo (user postgres) on stdout.
#   pgtmp.sh stop DIR              pg_ctl -m fast stop, then rm -rf DIR (safe when never
#                                  started, half started or already stopped)
#   pgtmp.sh kill DIR              pg_ctl -m immediate stop (DIR kept: start it again with
#                                  pgtmp.sh restart DIR)
#   pgtmp.sh restart DIR           start the stopped cluster in DIR again (same port)
#   pgtmp.sh role DIR ROLE PASSWORD [HOST]
#                                  a login role in learnd_host that may write the rows of
#                                  fleet host HOST (default ROLE): learnd.hosts(host, role)
#   pgtmp.sh ssl DIR CERT KEY     serve TLS with CERT/KEY; TCP connections must use it
#   pgtmp.sh conninfo DIR [ROLE]   the conninfo of ROLE (default postgres) over the socket
#   pgtmp.sh psql DIR [ROLE] [psql args...]
#                                  psql as ROLE (default postgres) on the database "fleet"
#
# Sourced (". tools/pgtmp.sh"), it defines the same as functions pgtmp_start, pgtmp_stop,
# pgtmp_kill, pgtmp_restart, pgtmp_role, pgtmp_conninfo, pgtmp_psql and runs nothing.
# The conninfo names DIR as host (the socket directory) and the port in DIR/port; with
# --tcp, DIR/tcp_port holds the same port for host=127.0.0.1 (DIR/server.crt etc. are
# the test's business: pgtmp_ssl DIR CERT KEY turns ssl on with those files).
# Passwords are written to no file here: the caller puts them into a passfile.

PGTMP_BIN=${PGTMP_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
PGTMP_SRC=${PGTMP_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

pgtmp_die() { echo "pgtmp.sh: $*" >&2; return 1; }

# as the postgres user, in a directory it can read (initdb refuses root)
pgtmp_as() { (cd / && runuser -u postgres -- "$@"); }

pgtmp_free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 30000))
		if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q . && [ ! -e "/tmp/.s.PGSQL.$p" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

pgtmp_conninfo() {
	local dir=$1 role=${2:-postgres} db=${3:-fleet}
	echo "host=$dir port=$(cat "$dir/port") dbname=$db user=$role connect_timeout=5"
}

# psql on DB as ROLE; PGHOST/PGPORT point at DIR too, so nothing can fall back to
# the machine's own cluster
pgtmp_psql_db() {
	local dir=$1 role=$2 db=$3
	shift 3
	PGHOST=$dir PGPORT=$(cat "$dir/port") "$PGTMP_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
		-d "$(pgtmp_conninfo "$dir" "$role" "$db")" "$@"
}

pgtmp_psql() {
	local dir=$1 role=${2:-postgres}
	shift 2 2>/dev/null || shift
	pgtmp_psql_db "$dir" "$role" fleet "$@"
}

pgtmp_pgctl_start() {
	local dir=$1
	pgtmp_as "$PGTMP_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
		{ tail -n 20 "$dir/server.log" >&2; pgtmp_die "cannot start the cluster in $dir"; }
}

pgtmp_start() {
	local dir=$1 tcp=${2:-} port listen=""
	[ -n "$dir" ] || { pgtmp_die "start: no DIR"; return 1; }
	[ -x "$PGTMP_BIN/initdb" ] || { pgtmp_die "no PostgreSQL server (tools/deps.sh installs it)"; return 1; }
	mkdir -p "$dir" && chown postgres: "$dir" && chmod 755 "$dir" || return 1
	pgtmp_as test -x "$dir" ||
		{ pgtmp_die "$dir: the postgres user cannot reach it (chmod o+x its parents)"; return 1; }
	port=$(pgtmp_free_port) || { pgtmp_die "no free port"; return 1; }
	echo "$port" >"$dir/port"
	pgtmp_as "$PGTMP_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; pgtmp_die "initdb failed in $dir"; return 1; }
	[ "$tcp" = --tcp ] && listen=127.0.0.1 && echo "$port" >"$dir/tcp_port"
	# unix socket in DIR only; local connections by password (scram) except postgres
	# and the owner, which the tests use to administer (trust, socket only)
	cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '$listen'
port = $port
unix_socket_directories = '$dir'
fsync = off
full_page_writes = off
max_connections = 200
shared_buffers = 128MB
log_line_prefix = '%m [%p] %u '
password_encryption = scram-sha-256
EOF
	cat >"$dir/data/pg_hba.conf" <<EOF
local all postgres trust
local all learnd_owner trust
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
EOF
	chown postgres: "$dir/data/pg_hba.conf"
	pgtmp_pgctl_start "$dir" || return 1
	pgtmp_psql_db "$dir" postgres postgres -c "CREATE ROLE learnd_owner LOGIN" \
		-c "CREATE ROLE learnd_host NOLOGIN" -c "CREATE DATABASE fleet OWNER learnd_owner" >/dev/null || return 1
	pgtmp_psql "$dir" learnd_owner -c "CREATE SCHEMA learnd" >/dev/null || return 1
	pgtmp_schema "$dir" || return 1
	pgtmp_conninfo "$dir"
}

# apply schema/fleet/NNN_*.sql not yet applied, as the owner (learnd does the same
# when it connects as the schema's owner)
pgtmp_schema() {
	local dir=$1 f v have
	have=$(pgtmp_psql "$dir" learnd_owner -At -c "SELECT coalesce(max(version), 0) FROM learnd.schema_version" 2>/dev/null || echo 0)
	for f in "$PGTMP_SRC"/schema/fleet/[0-9][0-9][0-9]_*.sql; do
		v=$((10#$(basename "$f" | cut -c1-3)))
		[ "$v" -gt "$have" ] || continue
		pgtmp_psql "$dir" learnd_owner -1 -c "SET search_path = learnd" -f "$f" >/dev/null || return 1
	done
}

pgtmp_role() {
	local dir=$1 role=$2 pw=$3 host=${4:-$2}
	[ -n "$role" ] && [ -n "$pw" ] || { pgtmp_die "role: DIR ROLE PASSWORD [HOST]"; return 1; }
	pgtmp_psql "$dir" postgres -v role="$role" -v pw="$pw" -v host="$host" >/dev/null <<'EOF'
CREATE ROLE :"role" LOGIN PASSWORD :'pw' IN ROLE learnd_host;
INSERT INTO learnd.hosts (host, role) VALUES (:'host', :'role');
EOF
}

# pgtmp_ssl DIR CERT KEY: serve TLS with these files (copied into the data
# directory); TCP connections then must use it (hostssl)
pgtmp_ssl() {
	local dir=$1
	install -o postgres -m 600 "$2" "$dir/data/server.crt" &&
		install -o postgres -m 600 "$3" "$dir/data/server.key" &&
		printf "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n" >>"$dir/data/postgresql.conf" &&
		sed -i 's/^host all all/hostssl all all/' "$dir/data/pg_hba.conf" &&
		pgtmp_as "$PGTMP_BIN/pg_ctl" -D "$dir/data" -w reload >/dev/null
}

pgtmp_kill() {
	local dir=$1
	[ -f "$dir/data/postmaster.pid" ] || return 0
	pgtmp_as "$PGTMP_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

pgtmp_restart() { pgtmp_pgctl_start "$1"; }

pgtmp_stop() {
	local dir=$1
	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	if [ -f "$dir/data/postmaster.pid" ]; then
		pgtmp_as "$PGTMP_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			pgtmp_as "$PGTMP_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	cmd=${1:-}
	shift || true
	case $cmd in
	start | stop | kill | restart | role | conninfo | psql | ssl | schema) "pgtmp_$cmd" "$@" ;;
	*)
		sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' >&2
		exit 2
		;;
	esac
fi
