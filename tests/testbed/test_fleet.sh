#!/bin/bash
# test_fleet: what one host learned, another host's first connection gets.
# A throwaway PostgreSQL (tools/pgtmp.sh) and learnd "hosts", each with its own
# cgroup, network namespace, database and pins, sharing it through [fleet]:
#   - host a's 127.0.0.0/24 runs at iw 40 (fixed in its config, so that the
#     value is known; the fleet path is the real one: a's model rows and values
#     in force pushed, pulled by b, checked, merged, imported within b's bounds);
#   - host b has never seen 127.0.0.0/24 (discovered prefixes, iw 4..128): the
#     fleet's prefix is in its table and map before its first connection, which
#     gets iw 40;
#   - b's pin (learnctl pin iw=14) wins over the fleet;
#   - host c (role of its own, iw 4..20) gets 20: the fleet's value within its bounds;
#   - row-level security: b's role can neither change, add nor delete a's rows.
set -euo pipefail
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init fleet
tb_need "$LEARND" "$LC"
# shellcheck source=tests/testbed/fleet_lib.sh
. "$SRC/tests/testbed/fleet_lib.sh"

fl_pg_up
fl_role host_a pw-a a
fl_role host_b pw-b b
fl_role host_c pw-c c

fl_host a host_a <<'CONF'
[defaults]
iw = 4..128
[prefix 127.0.0.0/24]
iw = 40
CONF
fl_start a
got=$(fl_iws a 20)
echo "  host a: $got"
case " $got " in *" 40 "*) ;; *) tb_fail "host a's connections did not run at iw 40: $got" ;; esac
a_iw() { fl_sql "SELECT iw FROM learnd.in_force WHERE host = 'a' AND prefix = '127.0.0.0/24'"; }
for _ in $(seq 100); do [ "$(a_iw)" = 40 ] && break; sleep 0.1; done
[ "$(a_iw)" = 40 ] || tb_fail "a's iw 40 for 127.0.0.0/24 not in the fleet: $(fl_sql "SELECT * FROM learnd.in_force")"
nrows=$(fl_sql "SELECT count(*) FROM learnd.evidence WHERE host = 'a' AND prefix = '127.0.0.0/24'")
echo "  ok: a pushed 127.0.0.0/24 (iw 40 in force, $nrows evidence rows)"

# fl_wait_prefix NAME: the fleet's prefix in NAME's table (its database records it
# at the tick's commit; the map is written right after), with no connection yet
fl_wait_prefix() {
	local q="SELECT count(*) FROM prefixes WHERE cidr = '127.0.0.0/24'"
	for _ in $(seq 100); do [ "$(sqlite3 "$WORK/$1.db" "$q" 2>/dev/null)" = 1 ] && break; sleep 0.1; done
	[ "$(sqlite3 "$WORK/$1.db" "$q" 2>/dev/null)" = 1 ] ||
		tb_fail "host $1 did not install 127.0.0.0/24 from the fleet: $(tail -n 5 "$WORK/learnd-$1.log")"
	sleep 0.3
	[ "$(sqlite3 "$WORK/$1.db" "SELECT conns_total FROM prefixes WHERE cidr = '127.0.0.0/24'")" = 0 ] ||
		tb_fail "host $1 had connections to 127.0.0.0/24 before its first"
}

# b: never saw the prefix
fl_host b host_b <<'CONF'
[defaults]
iw = 4..128
CONF
fl_start b
fl_wait_prefix b
first=$(fl_iws b 1)
[ "$first" = 40 ] || tb_fail "host b's first connection to the fleet's prefix got iw $first, want a's 40"
echo "  ok: host b's first connection: iw $first (the fleet's)"
echo "  host b's next five: $(fl_iws b 5)"

# b's pin wins
CTLB=("$LC" -c "$WORK/b.conf")
"${CTLB[@]}" pin 127.0.0.0/24 iw=14 >/dev/null
got=""
for _ in $(seq 30); do
	got=$(fl_iws b 3 1000)
	[ "$got" = "14 14 14" ] && break
	sleep 0.1
done
[ "$got" = "14 14 14" ] || tb_fail "host b's pin iw=14 did not win over the fleet: $got"
echo "  ok: host b's pin: iw 14"

# c: narrower bounds than the fleet's value
fl_host c host_c <<'CONF'
[defaults]
iw = 4..20
CONF
fl_start c
fl_wait_prefix c
first=$(fl_iws c 1)
[ "$first" = 20 ] || tb_fail "host c (iw 4..20): first connection got iw $first, want 20"
echo "  ok: host c's first connection: iw $first (the fleet's 40 within c's 4..20)"

# row-level security: b's role cannot touch a's rows
as_b() { PGPASSFILE=$PGPASS "$PGTMP_BIN/psql" -X -At -d "$(fl_conninfo host_b)" -c "$1" 2>&1 || true; }
before=$(fl_sql "SELECT sum(n) FROM learnd.evidence WHERE host = 'a'")
out=$(as_b "UPDATE learnd.evidence SET n = 1e9 WHERE host = 'a'")
[ "$out" = "UPDATE 0" ] || tb_fail "b's role updating a's rows: $out"
out=$(as_b "INSERT INTO learnd.evidence (host, prefix, kind, param, key, n) VALUES ('a', '10.9.9.0/24', 3, 0, 40, 1e6)")
echo "$out" | grep -q "row-level security" || tb_fail "b's role adding rows as a: $out"
out=$(as_b "DELETE FROM learnd.in_force WHERE host = 'a'")
[ "$out" = "DELETE 0" ] || tb_fail "b's role deleting a's rows: $out"
[ "$(fl_sql "SELECT sum(n) FROM learnd.evidence WHERE host = 'a'")" = "$before" ] || tb_fail "a's rows changed"
echo "  ok: b's role can neither update, add nor delete a's rows"

# the link in the daemon table: connected, rows both ways; no password anywhere
st=$(sqlite3 "$WORK/b.db" "SELECT group_concat(key || '=' || value, ' ') FROM daemon WHERE key LIKE 'fleet_%'")
echo "  host b: $st"
echo "$st" | grep -q "fleet_state=2" || tb_fail "host b's link not connected: $st"
echo "$st" | grep -Eq "fleet_rows_pulled=[1-9]" || tb_fail "host b pulled nothing: $st"
out=$("$LC" -c "$WORK/b.conf" status)
echo "$out" | grep -q "^fleet:      connected as host b; last push .* ago, last pull .* ago" ||
	tb_fail "learnctl status does not show b's link: $out"
m=$("$LC" -c "$WORK/b.conf" metrics --no-prefixes)
echo "$m" | grep -qx "learnd_fleet_connected 1" ||
	tb_fail "learnctl metrics: no learnd_fleet_connected 1"
! echo "$out" | grep -q "pw-" || tb_fail "a password in learnctl status"
echo "  ok: learnctl status and metrics show b's link"
! grep -q "pw-" "$WORK"/learnd-*.log "$WORK"/*.db || tb_fail "a password in a log or database"
echo "PASS: $NAME"
