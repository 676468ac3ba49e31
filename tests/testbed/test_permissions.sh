#!/bin/bash
# test_permissions: what learnd creates is root's alone, learnctl's write commands
# refuse a user who may not write, and learnd listens on no network port.
#   - a database nobody made first (mode 0666, in a 1777 directory, then in one of
#     root's): learnd exits 2 naming the directory, then the owner and mode, and
#     leaves it as it was;
#   - learnctl reads a database learnd left cleanly on a read-only mount (report,
#     status, metrics, export); with a -wal but no -shm there, exit 1 saying why;
#   - the database (and its -wal, -shm) is created 0600, the pin directory 0700,
#     every pinned object 0600 or stricter;
#   - learnctl status as nobody, learnd running: "cannot tell" (JSON: state
#     unknown), never "not running";
#   - learnctl pause, resume, pin and unpin as nobody fail with one line naming
#     the database and the cause, exit 1 (documented: runtime failure), also in
#     --json; the pins, the control table, the operator log and the ctl_map are
#     unchanged afterwards, and the same commands as root still work;
#   - learnd has no inet socket at all (no TCP/UDP/raw, listening or not), in its
#     network namespace (the host's); the check is made with traffic on a
#     topology, so the server and client namespaces are checked too.
set -euo pipefail
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init permissions
export LD_TOPO=tpm$$
PORT=5207
tb_need "$FG" "$LEARND" "$LC" "$LEARND_BUILD/tools/pathemu"
id nobody >/dev/null 2>&1 || tb_fail "no user nobody"
NOGROUP=$(id -gn nobody)
as_nobody() { setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups "$@"; }

printf 'one 10 100 1000 0 0\n' >"$WORK/t.paths"
tb_topo_up "$WORK/t.paths" none

# the work directory open to everyone, so that only the files' own modes protect them
chmod 755 "$WORK"
DB=$WORK/learnd.db
tb_conf "$WORK/learnd.conf" "$TOPO_CGROUP" "$DB" tick_ms=200 <<EOF
[prefix $TOPO_PREFIX4_one]
iw = 4..64
EOF
chmod 644 "$WORK/learnd.conf"

# a database another user made first, in a world-writable directory: refused
# (exit 2, naming owner and mode), left as it is, nothing made beside it; the
# same file in a directory of root's is still refused while nobody owns it
SHARED=$WORK/shared
mkdir "$SHARED"
chmod 1777 "$SHARED"
as_nobody sh -c "umask 0 && : >'$SHARED/learnd.db'"
sed "s|^db = .*|db = $SHARED/learnd.db|" "$WORK/learnd.conf" >"$WORK/shared.conf"
for conf in shared shared-own; do
	if [ $conf = shared-own ]; then
		mkdir "$WORK/own"
		mv "$SHARED/learnd.db" "$WORK/own/learnd.db"
		sed "s|^db = .*|db = $WORK/own/learnd.db|" "$WORK/learnd.conf" >"$WORK/$conf.conf"
		f=$WORK/own/learnd.db want="owned by uid [0-9]* (nobody) with mode 0666: another user's"
	else
		f=$SHARED/learnd.db want="its directory $SHARED is owned by uid 0 (root) with mode 1777: writable by other users"
	fi
	rc=0
	timeout 10 "$LEARND" --config "$WORK/$conf.conf" >"$WORK/$conf.log" 2>&1 || rc=$?
	[ $rc -eq 2 ] || tb_fail "learnd on nobody's 0666 database ($conf): exit $rc, want 2: $(cat "$WORK/$conf.log")"
	grep -q "database $f: $want" "$WORK/$conf.log" || tb_fail "learnd on nobody's database ($conf): $(cat "$WORK/$conf.log")"
	[ "$(stat -c '%U %a %s' "$f")" = "nobody 666 0" ] && [ -z "$(find "${f%/*}" -name 'learnd.db-*')" ] ||
		tb_fail "nobody's database was changed ($conf): $(ls -la "${f%/*}")"
	! grep -q 'attached to' "$WORK/$conf.log" || tb_fail "learnd attached on nobody's database"
done
echo "nobody's database: $(tail -n 1 "$WORK/shared-own.log")"

# a database learnd left cleanly (no -wal), on a read-only mount: learnctl reads it
# (SQLite alone would need to make a -shm there); with a -wal but no -shm it
# says why it cannot (exit 1)
mkdir "$WORK/rosrc" "$WORK/ro"
tb_mkdb "$WORK/rosrc/learnd.db"
mount --bind "$WORK/rosrc" "$WORK/ro"
tb_on_exit "umount '$WORK/ro' 2>/dev/null"
mount -o remount,ro,bind "$WORK/ro"
for cmd in report "report --json" status metrics export; do
	# shellcheck disable=SC2086 # cmd is split on purpose
	"$LC" --db "$WORK/ro/learnd.db" --pin-dir "$WORK/none" $cmd >"$WORK/ro.out" 2>&1 ||
		tb_fail "learnctl $cmd on a read-only mount: $(cat "$WORK/ro.out")"
done
grep -q "^database: *$WORK/ro/learnd.db, " <("$LC" --db "$WORK/ro/learnd.db" --pin-dir "$WORK/none" status) ||
	tb_fail "learnctl status on a read-only mount does not show the database"
umount "$WORK/ro"
python3 - "$WORK/writer.db" "$WORK/rosrc/learnd.db" <<'PY'
import shutil, sqlite3, sys
c = sqlite3.connect(sys.argv[2], isolation_level=None)
c.execute("PRAGMA wal_autocheckpoint = 0"); c.execute("INSERT INTO control(key, value) VALUES ('x', '1')")
for suffix in ("", "-wal"):
    shutil.copyfile(sys.argv[2] + suffix, sys.argv[1] + suffix)
c.close()
for suffix in ("", "-wal"):
    shutil.copyfile(sys.argv[1] + suffix, sys.argv[2] + suffix)
PY
rm -f "$WORK/rosrc/learnd.db-shm"
[ -s "$WORK/rosrc/learnd.db-wal" ] || tb_fail "no -wal to test with"
mount --bind "$WORK/rosrc" "$WORK/ro"
mount -o remount,ro,bind "$WORK/ro"
rc=0
"$LC" --db "$WORK/ro/learnd.db" --pin-dir "$WORK/none" report >/dev/null 2>"$WORK/ro.err" || rc=$?
[ $rc -eq 1 ] && grep -q "database $WORK/ro/learnd.db: a -wal but no -shm, in a directory this user cannot write ($WORK/ro: Read-only file system)" "$WORK/ro.err" ||
	tb_fail "learnctl report, -wal without -shm on a read-only mount: exit $rc: $(cat "$WORK/ro.err")"
umount "$WORK/ro"
echo "read-only mount: learnctl reads a cleanly stopped database; with a -wal alone: $(cat "$WORK/ro.err")"

(umask 000 && exec "$LEARND" --config "$WORK/learnd.conf" >"$WORK/learnd.log" 2>&1) &
LEARND_PID=$!
tb_track $LEARND_PID
tb_wait_attached "$WORK/learnd.log"

# modes, even with umask 000
for f in "$DB" "$DB-wal" "$DB-shm"; do
	[ -e "$f" ] || continue
	m=$(stat -c %a "$f")
	[ "$m" = 600 ] || tb_fail "$f created with mode $m, want 600"
done
m=$(stat -c %a "$PIN")
[ "$m" = 700 ] || tb_fail "pin directory $PIN has mode $m, want 700"
for f in "$PIN"/*; do
	m=$(stat -c %a "$f")
	[ $((8#$m & 8#077)) -eq 0 ] || tb_fail "pinned $f has mode $m: readable by others"
done
echo "modes: db $(stat -c %a "$DB"), wal $(stat -c %a "$DB-wal" 2>/dev/null || echo -), pin dir $(stat -c %a "$PIN"), pins $(stat -c %a "$PIN"/* | sort -u | tr '\n' ' ')"

snapshot() {
	sqlite3 -readonly "file:$DB?mode=ro" "SELECT * FROM pins; SELECT * FROM control; SELECT count(*) FROM operator_log;"
	bpftool -j map dump pinned "$PIN/ctl_map" | grep -o '"flags":[0-9]*'
}
before=$(snapshot)

# unprivileged write commands: one line, exit 1, nothing written
for cmd in "pause" "resume" "pin $TOPO_PREFIX4_one iw=20" "unpin $TOPO_PREFIX4_one"; do
	for json in "" "--json"; do
		rc=0
		# shellcheck disable=SC2086 # cmd is split on purpose
		as_nobody "$LC" -c "$WORK/learnd.conf" $json $cmd >"$WORK/out" 2>"$WORK/err" || rc=$?
		[ $rc -eq 1 ] || tb_fail "learnctl $json $cmd as nobody: exit $rc, want 1 ($(cat "$WORK/err" "$WORK/out"))"
		if [ -z "$json" ]; then
			[ "$(wc -l <"$WORK/err")" -eq 1 ] && [ ! -s "$WORK/out" ] ||
				tb_fail "learnctl $cmd as nobody: want one line on stderr, got: $(cat "$WORK/err" "$WORK/out")"
			grep -q "learnctl ${cmd%% *}: database $DB: Permission denied" "$WORK/err" ||
				tb_fail "learnctl $cmd as nobody: unclear message: $(cat "$WORK/err")"
		else
			grep -q '^{"error":"database .*Permission denied.*","status":1}$' "$WORK/out" ||
				tb_fail "learnctl --json $cmd as nobody: $(cat "$WORK/out")"
		fi
	done
done
echo "as nobody: $(cat "$WORK/err")"
# the directory closed as well: the same answer, not "no such database"
chmod 711 "$WORK"
rc=0
as_nobody "$LC" --db "$DB" --pin-dir "$PIN" pause 2>"$WORK/err" || rc=$?
[ $rc -eq 1 ] && grep -q "Permission denied" "$WORK/err" || tb_fail "pause as nobody, db not readable: exit $rc: $(cat "$WORK/err")"
chmod 755 "$WORK"
# the pin directory directly: status as nobody says it cannot read the maps, and does not crash
as_nobody "$LC" -c "$WORK/learnd.conf" status >"$WORK/out" 2>&1 || true
grep -q "ctl_map: Permission denied" "$WORK/out" || tb_fail "status as nobody: $(cat "$WORK/out")"
# learnd runs: a user who cannot read the maps cannot tell, and must not be told it is down
grep -q "^learnd: *cannot tell" "$WORK/out" && ! grep -q "not running" "$WORK/out" ||
	tb_fail "status as nobody, learnd running: $(grep '^learnd:' "$WORK/out")"
as_nobody "$LC" -c "$WORK/learnd.conf" --json status >"$WORK/out" 2>/dev/null || true # exit 1: no database
python3 -c 'import json,sys; d=json.load(sys.stdin)["learnd"]; assert d["state"] == "unknown" and d["alive"] is None, d' \
	<"$WORK/out" || tb_fail "status --json as nobody, learnd running: not state unknown: $(cat "$WORK/out")"
sleep 0.5 # a tick: learnd would have picked up a pause or a pin
[ "$(snapshot)" = "$before" ] || tb_fail "something was written by unprivileged commands: $(diff <(echo "$before") <(snapshot))"
kill -0 "$LEARND_PID" || tb_fail "learnd died"

# the same commands as root work (the failure above was the user, not the commands)
"$LC" -c "$WORK/learnd.conf" pin "$TOPO_PREFIX4_one" iw=20 >/dev/null || tb_fail "pin as root failed"
"$LC" -c "$WORK/learnd.conf" unpin "$TOPO_PREFIX4_one" >/dev/null || tb_fail "unpin as root failed"
"$LC" -c "$WORK/learnd.conf" pause >/dev/null || tb_fail "pause as root failed"
"$LC" -c "$WORK/learnd.conf" resume >/dev/null || tb_fail "resume as root failed"

# sockets: traffic through the data plane, then no inet socket of learnd anywhere
tb_start_server $PORT
ip netns exec "$TOPO_NS_one" "$FG" client --server "$TOPO_SRV4" --port $PORT --sizes 10k --count 20 \
	--concurrency 4 --timeout 10 --out "$WORK/flows.csv" 2>/dev/null
sleep 0.5
n=$(sqlite3 -readonly "file:$DB?mode=ro" "SELECT value FROM daemon WHERE key = 'records'")
[ "${n:-0}" -ge 20 ] || tb_fail "learnd saw ${n:-0} records of 20 flows: the data plane is not running"
listen_host=$(ss -Hltnup | grep "pid=$LEARND_PID," || true)
any_host=$(ss -Htuwanp | grep "pid=$LEARND_PID," || true)
[ -z "$listen_host" ] || tb_fail "learnd listens: $listen_host"
[ -z "$any_host" ] || tb_fail "learnd has inet sockets: $any_host"
for ns in "$TOPO_SRV_NS" "$TOPO_NS_one"; do
	s=$(ip netns exec "$ns" ss -Htuwanp | grep "pid=$LEARND_PID," || true)
	[ -z "$s" ] || tb_fail "learnd has sockets in $ns: $s"
done
# what it does have: bpf and sqlite file descriptors, no socket at all
socks=$(find "/proc/$LEARND_PID/fd" -lname 'socket:*' 2>/dev/null | wc -l)
echo "learnd: $n records, $socks sockets (none inet), no listener in the host, $TOPO_SRV_NS or $TOPO_NS_one"
[ "$socks" -eq 0 ] || tb_fail "learnd holds $socks sockets: $(ls -l "/proc/$LEARND_PID/fd" | grep socket)"
echo "PASS: $NAME"
