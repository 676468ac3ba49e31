#!/bin/bash
# test_fleet_faults: the fleet's PostgreSQL away, locked or refusing, and a host
# writing garbage, change nothing for local learning.  Hosts as in test_fleet.sh
# (a: 127.0.0.0/24 at iw 40; b: learns, interval_s 2, timeout_ms 2000):
#   - PostgreSQL down when b starts (one log line), started later: b has the
#     fleet's prefix within two intervals;
#   - PostgreSQL stopped hard (pg_ctl -m immediate) mid-run: b's ticks and
#     heartbeat stay fresh, its values stay, its connections meanwhile reach the
#     fleet after the restart (push of what was missed);
#   - the fleet's tables locked 12 s (six times the statement timeout): no stall,
#     and the pushes go through after;
#   - a wrong password: one clear log line, learnd runs;
#   - rows written by another role with impossible content (NaN, negative and
#     absurd counts, values beyond the ABI, an unknown kind, a /0 with a million
#     connections): never applied, counted as rejected.
set -euo pipefail
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init fleet_faults
tb_need "$LEARND" "$LC"
# shellcheck source=tests/testbed/fleet_lib.sh
. "$SRC/tests/testbed/fleet_lib.sh"

fl_pg_up
fl_role host_a pw-a a
fl_role host_b pw-b b
fl_role host_x pw-x x
fl_role host_d pw-d d

fl_host_a

has_prefix() { [ "$(sqlite3 "$WORK/b.db" "SELECT count(*) FROM prefixes WHERE cidr = '127.0.0.0/24'" 2>/dev/null)" = 1 ]; }

# 1. down at b's start, started later: caught up within two intervals (4 s)
pgtmp_kill "$PGD"
fl_host b host_b <<CONF
[defaults]
iw = 4..128
[fleet]
conninfo = $(fl_conninfo host_b)
host = b
interval_s = 2
timeout_ms = 2000
CONF
fl_start b
sleep 3.5
! has_prefix || tb_fail "b has the fleet's prefix with PostgreSQL down"
n=$(grep -c "fleet: " "$WORK/learnd-b.log" || true)
[ "$n" = 1 ] || tb_fail "PostgreSQL down: $n fleet log lines in 3.5 s, want one: $(grep 'fleet: ' "$WORK/learnd-b.log")"
echo "  ok: PostgreSQL down at b's start: one line: $(grep 'fleet: ' "$WORK/learnd-b.log" | cut -c1-160)"
pgtmp_restart "$PGD"
t0=$(date +%s%N)
for _ in $(seq 100); do has_prefix && break; sleep 0.1; done
has_prefix || tb_fail "b did not catch up after PostgreSQL came back: $(fl_sql "SELECT host, prefix, updated FROM learnd.in_force") / $(sqlite3 "$WORK/b.db" "SELECT * FROM daemon")"
dt=$((($(date +%s%N) - t0) / 1000000))
[ $dt -le 4000 ] || tb_fail "b caught up $dt ms after PostgreSQL came back, more than two intervals (4 s)"
sleep 0.3
first=$(fl_iws b 1)
[ "$first" = 40 ] || tb_fail "b's first connection after catching up: iw $first, want 40"
echo "  ok: PostgreSQL started later: b caught up in $dt ms (interval 2 s); its first connection iw $first"

# 2. stopped hard mid-run
b_conns_pg() { fl_sql "SELECT conns_total FROM learnd.in_force WHERE host = 'b' AND prefix = '127.0.0.0/24'" 2>/dev/null; }
b_conns() { sqlite3 "$WORK/b.db" "SELECT conns_total FROM prefixes WHERE cidr = '127.0.0.0/24'"; }
fl_iws b 5 >/dev/null
for _ in $(seq 100); do [ "$(b_conns_pg)" = "$(b_conns)" ] && break; sleep 0.1; done
fl_watch_start b
pgtmp_kill "$PGD"
during=$(fl_iws b 10)
sleep 2
[ "$during" = "40 40 40 40 40 40 40 40 40 40" ] || echo "  (b's IWs while PostgreSQL was down: $during)"
case " $during " in *" 40 "*) ;; *) tb_fail "b's values not kept with PostgreSQL down: $during" ;; esac
missed=$(b_conns)
pgtmp_restart "$PGD"
for _ in $(seq 100); do [ "$(b_conns_pg 2>/dev/null)" = "$missed" ] && break; sleep 0.1; done
[ "$(b_conns_pg)" = "$missed" ] || tb_fail "b's connections while PostgreSQL was down never reached it: $(b_conns_pg) of $missed"
read -r hb tk < <(fl_watch_stop b)
tb_check "PostgreSQL stopped hard: heartbeat age at most $hb s, last tick at most $tk s (tick 0.1 s)" \
	'hb != "none" && hb + 0 < 1 && tk + 0 < 1' -v hb="$hb" -v tk="$tk"
echo "  ok: after the restart b pushed what it missed ($missed connections in the fleet)"
grep -q "fleet: connected" <(tail -n 5 "$WORK/learnd-b.log") || grep -c "fleet: connected" "$WORK/learnd-b.log" | grep -q 2 ||
	tb_fail "b did not log its reconnect"

# 3. tables locked 12 s
fl_watch_start b
PGHOST=$PGD "$PGTMP_BIN/psql" -X -q -d "$(pgtmp_conninfo "$PGD" postgres)" \
	-c "BEGIN; LOCK TABLE learnd.evidence, learnd.in_force IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(12); COMMIT;" \
	>/dev/null 2>&1 &
LOCKER=$!
tb_track $LOCKER
sleep 0.5
t0=$(date +%s%N)
during=$(fl_iws b 10)
dt=$((($(date +%s%N) - t0) / 1000000))
missed=$(sqlite3 "$WORK/b.db" "SELECT conns_total FROM prefixes WHERE cidr = '127.0.0.0/24'")
wait $LOCKER || true
tb_untrack $LOCKER
for _ in $(seq 100); do [ "$(b_conns_pg)" = "$(b_conns)" ] && break; sleep 0.1; done
[ "$(b_conns_pg)" = "$(b_conns)" ] || tb_fail "b's pushes did not go through after the lock: $(b_conns_pg) of $(b_conns)"
read -r hb tk < <(fl_watch_stop b)
tb_check "tables locked 12 s: heartbeat age at most $hb s, last tick at most $tk s, 10 connections in $dt ms" \
	'hb != "none" && hb + 0 < 1 && tk + 0 < 1' -v hb="$hb" -v tk="$tk"
case " $during " in *" 40 "*) ;; *) tb_fail "b's values not kept during the lock: $during" ;; esac
echo "  ok: after the lock b's pushes went through ($missed connections)"

# 4. a wrong password: one clear line, learnd runs
printf '*:*:*:host_d:not-the-password\n' >"$WORK/pgpass-d"
chmod 600 "$WORK/pgpass-d"
fl_host d host_d <<CONF
[fleet]
conninfo = host=$PGD port=$(cat "$PGD/port") dbname=fleet user=host_d passfile=$WORK/pgpass-d
host = d
interval_s = 1
CONF
fl_start d
fl_one_line d 4 "wrong password" 'fleet: refused.*password authentication failed for user "host_d"'
kill -0 "${FL_PID[d]}" || tb_fail "learnd d died on a wrong password"
age=$(("$(date +%s%N)" - "$(fl_daemon d last_tick_ns)"))
[ $age -lt 1000000000 ] || tb_fail "learnd d does not tick with a wrong password (last tick $age ns ago)"
! grep -q "not-the-password" "$WORK/learnd-d.log" || tb_fail "the password in the log"
echo "  ok: wrong password: $(echo "$FL_LINE" | cut -c1-150)"
fl_stop d

# 5. hostile rows from another role (its own host, x: row-level security lets it)
as_x() { PGPASSFILE=$PGPASS "$PGTMP_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$(fl_conninfo host_x)" -c "$1"; }
as_x "INSERT INTO learnd.host_state (host) VALUES ('x');
INSERT INTO learnd.evidence (host, prefix, kind, param, key, n, sum_raw) VALUES
  ('x', '127.0.0.0/24', 2, 0, 128, 1, 0), ('x', '127.0.0.0/24', 3, 0, 128, 'NaN', 0),
  ('x', '10.66.1.0/24', 3, 0, 40, -5, 0),
  ('x', '10.66.2.0/24', 3, 0, 40, 1e12, 0),
  ('x', '10.66.3.0/24', 3, 0, 40, 'Infinity', 0),
  ('x', '10.66.4.0/24', 42, 0, 40, 1, 0),
  ('x', '10.66.5.0/24', 3, 0, 5000, 1, 0),
  ('x', '0.0.0.0/0', 7, 0, 0, 1000000, 0);
INSERT INTO learnd.in_force (host, prefix, iw, conns_total) VALUES
  ('x', '10.66.6.0/24', 5000, 10), ('x', '0.0.0.0/0', 80, 1000000), ('x', '10.66.7.0/24', 40, -1);" ||
	tb_fail "host x could not write its own rows"
rej0=$(fl_daemon b fleet_rows_rejected)
for _ in $(seq 60); do [ "$(fl_daemon b fleet_rows_rejected)" -ge $((rej0 + 9)) ] && break; sleep 0.1; done
rej=$(($(fl_daemon b fleet_rows_rejected) - rej0))
[ $rej -ge 9 ] || tb_fail "b rejected $rej of host x's 10 impossible rows"
[ "$(sqlite3 "$WORK/b.db" "SELECT count(*) FROM prefixes WHERE cidr LIKE '10.66.%'")" = 0 ] ||
	tb_fail "b installed a prefix from host x's impossible rows: $(sqlite3 "$WORK/b.db" "SELECT cidr FROM prefixes WHERE cidr LIKE '10.66.%'")"
[ "$(sqlite3 "$WORK/b.db" "SELECT count(*) FROM prefixes WHERE cidr = '0.0.0.0/0' AND origin != 'default'")" = 0 ] ||
	tb_fail "b took host x's /0"
got=$(fl_iws b 3)
case " $got " in *" 128 "*) tb_fail "b's connections got host x's iw 128: $got" ;; esac
grep -q "fleet: rows of host x rejected" "$WORK/learnd-b.log" || tb_fail "b did not log host x's rejected rows"
echo "  ok: host x's impossible rows: $rej rejected, none applied ($(grep 'fleet: rows of host x' "$WORK/learnd-b.log" | cut -c1-140))"
echo "PASS: $NAME"
