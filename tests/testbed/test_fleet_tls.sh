#!/bin/bash
# test_fleet_tls: the fleet link over TLS, through conninfo alone.  A throwaway
# PostgreSQL on 127.0.0.1 (a free port) that takes TCP connections only with TLS
# (hostssl), its certificate signed by a CA this test makes (openssl):
#   - learnd with sslmode=verify-full and that CA connects (pg_stat_ssl shows its
#     session encrypted) and pushes;
#   - learnd with another CA is refused: one clear line about the certificate,
#     and it runs on.
set -euo pipefail
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init fleet_tls
tb_need "$LEARND" "$LC"
command -v openssl >/dev/null || tb_fail "needs openssl"
# shellcheck source=tests/testbed/fleet_lib.sh
. "$SRC/tests/testbed/fleet_lib.sh"

fl_pg_up --tcp
fl_role host_a pw-a a
fl_role host_w pw-w w
TLS=$WORK/tls
mkdir "$TLS"
mkca() { # mkca NAME: a self-signed CA in $TLS/NAME.crt, .key
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=learnd test $1" \
		-keyout "$TLS/$1.key" -out "$TLS/$1.crt" 2>/dev/null
}
mkca ca
mkca other
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>/dev/null
printf 'subjectAltName = DNS:localhost, IP:127.0.0.1\n' >"$TLS/san.ext"
openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" -CAcreateserial -days 2 \
	-extfile "$TLS/san.ext" -out "$TLS/server.crt" 2>/dev/null
pgtmp_ssl "$PGD" "$TLS/server.crt" "$TLS/server.key" || tb_fail "TLS not enabled"
PORT_TCP=$(cat "$PGD/tcp_port")
tcp_conninfo() { # ROLE CA
	echo "host=localhost hostaddr=127.0.0.1 port=$PORT_TCP dbname=fleet user=$1 passfile=$PGPASS sslmode=verify-full sslrootcert=$TLS/$2.crt"
}

fl_host a host_a <<CONF
[prefix 127.0.0.0/24]
iw = 40
[fleet]
conninfo = $(tcp_conninfo host_a ca)
host = a
interval_s = 1
CONF
fl_start a
fl_iws a 5 >/dev/null
for _ in $(seq 100); do
	[ "$(fl_sql "SELECT iw FROM learnd.in_force WHERE host = 'a'")" = 40 ] && break
	sleep 0.1
done
[ "$(fl_sql "SELECT iw FROM learnd.in_force WHERE host = 'a'")" = 40 ] ||
	tb_fail "a did not push over TLS: $(grep 'fleet: ' "$WORK/learnd-a.log")"
ssl=$(fl_sql "SELECT s.ssl, s.version FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'host_a'")
echo "$ssl" | grep -q '^t|TLS' || tb_fail "a's session is not encrypted: '$ssl'"
echo "  ok: verify-full with the test's CA: connected and pushed ($ssl)"

fl_host w host_w <<CONF
[fleet]
conninfo = $(tcp_conninfo host_w other)
host = w
interval_s = 1
CONF
fl_start w
fl_one_line w 3 "another CA" "fleet: refused: .*certificate verify failed"
kill -0 "${FL_PID[w]}" || tb_fail "learnd w died"
echo "  ok: another CA: $(echo "$FL_LINE" | cut -c1-150)"
echo "PASS: $NAME"
