#!/bin/bash
# test_flowgen_csv: flowgen client CSV correctness and failure handling, on loopback inside a
# private network namespace (no emulated path needed).
#  - N flows -> N rows, every row ok=1, sizes = `flowgen sizes` for the seed (by flow id),
#    the same seed gives the same sizes (random order, concurrency 4, and Pareto sizes);
#  - a closed port, an unreachable address, a black hole and a server that never answers
#    end as ok=0 rows with an error, within --timeout, never a hang;
#  - --duration stops on time; a client that never reads does not block the server;
#  - summarize counts the rows; the server exits 0 on SIGTERM.
set -euo pipefail
NAME=flowgen_csv
SRC=${LEARND_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LEARND_BUILD=${LEARND_BUILD:-$SRC/build}
FG=$LEARND_BUILD/tools/flowgen
NS=tfgc$$
WORK=$(mktemp -d /tmp/test_flowgen_csv.XXXXXX)
PIDS=""
SRV_PID=""
PORT=5201

cleanup() {
	local rc=$? p
	trap - EXIT
	for p in $SRV_PID $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $SRV_PID $PIDS; do wait "$p" 2>/dev/null || true; done
	ip netns delete "$NS" 2>/dev/null || true
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $NAME: $*" >&2; exit 1; }
check() { echo "ok: $*"; }
nsx() { ip netns exec "$NS" "$@"; }
rows() { tail -n +2 "$1" | wc -l; }
# sizes of a CSV, ordered by flow id (column 8)
sizes_by_id() { tail -n +2 "$1" | awk -F, '{ print $8, $2 }' | sort -n | awk '{ print $2 }'; }

[ "$(id -u)" -eq 0 ] || fail "needs root"
[ -x "$FG" ] || fail "flowgen not built ($FG)"

ip netns add "$NS"
ip -n "$NS" link set lo up
# a black hole: SYNs to 10.98.0.2 leave through a veth whose peer has no address (static
# neighbour entry, so no ARP failure either): never answered
ip -n "$NS" link add bh0 type veth peer name bh1
ip -n "$NS" addr add 10.98.0.1/24 dev bh0
ip -n "$NS" link set bh0 up
ip -n "$NS" link set bh1 up
ip -n "$NS" neigh replace 10.98.0.2 lladdr 02:00:00:00:98:02 dev bh0 nud permanent
nsx sysctl -q -w net.ipv4.tcp_no_metrics_save=1 >/dev/null

ip netns exec "$NS" "$FG" server --port $PORT 2>"$WORK/server.log" &
SRV_PID=$!
for _ in $(seq 100); do nsx ss -Hltn "sport = :$PORT" | grep -q . && break; sleep 0.05; done
nsx ss -Hltn "sport = :$PORT" | grep -q . || fail "server not listening"

# 1. N flows -> N rows, sizes follow the seed, all ok
N=40
nsx "$FG" client --server 127.0.0.1 --port $PORT --sizes 1k,10k,100k,250k --count $N \
	--seed 7 --concurrency 4 --path loA --out "$WORK/a.csv" 2>/dev/null
nsx "$FG" client --server ::1 --port $PORT --sizes 1k,10k,100k,250k --count $N \
	--seed 7 --concurrency 3 --path loB --out "$WORK/b.csv" 2>/dev/null
"$FG" sizes --sizes 1k,10k,100k,250k --count $N --seed 7 >"$WORK/expect.txt"
head -1 "$WORK/a.csv" | grep -q '^path,size,connect_us,fct_us,retrans,ok' || fail "bad header: $(head -1 "$WORK/a.csv")"
[ "$(rows "$WORK/a.csv")" -eq $N ] || fail "expected $N rows, got $(rows "$WORK/a.csv")"
[ "$(rows "$WORK/b.csv")" -eq $N ] || fail "expected $N rows (IPv6), got $(rows "$WORK/b.csv")"
check "$N flows -> $N rows (IPv4 and IPv6)"
diff <(sizes_by_id "$WORK/a.csv") "$WORK/expect.txt" >/dev/null || fail "sizes differ from 'flowgen sizes' for seed 7"
diff <(sizes_by_id "$WORK/a.csv") <(sizes_by_id "$WORK/b.csv") >/dev/null || fail "same seed, different sizes"
[ "$(sort -u "$WORK/expect.txt" | wc -l)" -eq 4 ] || fail "seed 7 did not draw all 4 sizes in $N flows"
"$FG" sizes --sizes 1k,10k,100k,250k --count $N --seed 8 | cmp -s - "$WORK/expect.txt" &&
	fail "seeds 7 and 8 gave the same sequence"
check "sizes match the seed's sequence; same seed -> same sizes; another seed -> other sizes"
awk -F, 'FNR > 1 && ($6 != 1 || $7 != "" || $4 <= 0 || $3 < 0 || $4 < $3) { bad = 1 } END { exit bad }' \
	"$WORK/a.csv" "$WORK/b.csv" || fail "a flow is not ok or has bad times"
[ "$(tail -n +2 "$WORK/a.csv" | cut -d, -f1 | sort -u)" = loA ] || fail "path label not in every row"
check "every row ok=1 with an empty err, fct >= connect >= 0, path label set"
"$FG" sizes --sizes 5k,6k,7k --order cycle --count 6 | tr '\n' ' ' | grep -qx '5000 6000 7000 5000 6000 7000 ' ||
	fail "--order cycle does not cycle"
"$FG" sizes --dist pareto:1k:1m:1.1 --count 500 --seed 3 >"$WORK/p1.txt"
"$FG" sizes --dist pareto:1k:1m:1.1 --count 500 --seed 3 | cmp -s - "$WORK/p1.txt" || fail "pareto not deterministic"
awk '$1 < 1000 || $1 > 1000000 { bad = 1 } END { exit bad }' "$WORK/p1.txt" || fail "pareto size out of bounds"
sort -n "$WORK/p1.txt" | awk '{ a[NR] = $1 } END { exit !(a[250] < 5000 && a[500] > 50000) }' ||
	fail "pareto:1k:1m:1.1 not heavy-tailed (median $(sort -n "$WORK/p1.txt" | sed -n 250p), max $(sort -n "$WORK/p1.txt" | tail -1))"
check "--order cycle cycles; bounded Pareto is deterministic, within bounds, heavy-tailed"

# 2. --srv-retrans fills the server columns
nsx "$FG" client --server 127.0.0.1 --port $PORT --sizes 100k --count 3 --srv-retrans \
	--out "$WORK/s.csv" 2>/dev/null
awk -F, 'NR > 1 && ($6 != 1 || $12 == "" || $13 < 1) { bad = 1 } END { exit bad }' "$WORK/s.csv" ||
	fail "--srv-retrans: server columns empty: $(cat "$WORK/s.csv")"
check "--srv-retrans fills srv_retrans, srv_segs"

# 3. failures are rows with ok=0 and an error, never a hang
expect_err() { # expect_err WHAT PATTERN MAX_SECONDS client-args...
	local what=$1 pat=$2 maxs=$3 t0 t1 out=$WORK/err.csv
	shift 3
	t0=$(date +%s.%N)
	timeout 60 ip netns exec "$NS" "$FG" client "$@" --count 2 --out "$out" 2>/dev/null ||
		fail "$what: client exited with status $? (expected 0 with error rows)"
	t1=$(date +%s.%N)
	[ "$(rows "$out")" -eq 2 ] || fail "$what: expected 2 rows, got $(rows "$out")"
	awk -F, -v p="$pat" 'NR > 1 && !($6 == 0 && $7 ~ p) { bad = 1 } END { exit bad }' "$out" ||
		fail "$what: expected ok=0 and err ~ /$pat/: $(tail -n +2 "$out" | head -1)"
	awk -v a="$t0" -v b="$t1" -v m="$maxs" 'BEGIN { exit !(b - a <= m) }' ||
		fail "$what: took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, more than $maxs s"
	check "$what -> ok=0, err $(tail -n +2 "$out" | head -1 | cut -d, -f7) ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s)"
}
expect_err "closed port" '^connect:ECONNREFUSED$' 5 --server 127.0.0.1 --port $((PORT + 1))
expect_err "unreachable address" '^connect:ENETUNREACH$' 5 --server 10.99.99.99 --port $PORT
expect_err "black hole, --timeout 1" '^timeout:connect$' 5 --server 10.98.0.2 --port $PORT --timeout 1
# a listener that never answers: the connection completes (backlog), the response never comes
ip netns exec "$NS" python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); time.sleep(120)' $((PORT + 2)) &
MUTE_PID=$!
PIDS="$PIDS $MUTE_PID"
for _ in $(seq 100); do nsx ss -Hltn "sport = :$((PORT + 2))" | grep -q . && break; sleep 0.05; done
expect_err "server that never answers, --timeout 1" '^timeout:recv 0/100000$' 5 \
	--server 127.0.0.1 --port $((PORT + 2)) --sizes 100k --timeout 1

# 4. a client that never reads does not block the server; --duration stops on time
ip netns exec "$NS" python3 -c '
import socket, struct, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
c.sendall(struct.pack(">Q", 1 << 30)); time.sleep(120)' $PORT &
SLOW_PID=$!
PIDS="$PIDS $SLOW_PID"
sleep 0.3
t0=$(date +%s.%N)
timeout 30 ip netns exec "$NS" "$FG" client --server 127.0.0.1 --port $PORT --sizes 10k,1m \
	--duration 1.5 --concurrency 2 --out "$WORK/d.csv" 2>/dev/null || fail "--duration run failed"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 1.4 && b - a <= 4) }' ||
	fail "--duration 1.5 took $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s"
n=$(rows "$WORK/d.csv")
[ "$n" -ge 10 ] || fail "--duration 1.5: only $n flows while a slow client holds a connection"
awk -F, 'NR > 1 && $6 != 1 { bad = 1 } END { exit bad }' "$WORK/d.csv" || fail "--duration: a flow failed"
check "--duration 1.5 ran $n flows in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s beside a client that never reads"
kill "$SLOW_PID" "$MUTE_PID" 2>/dev/null || true

# 5. summarize
"$FG" summarize "$WORK/a.csv" --by path --csv >"$WORK/sum.csv"
awk -F, 'NR == 2 { exit !($1 == "loA" && $2 == 40 && $3 == 40 && $4 == 0) } END { if (NR != 2) exit 1 }' \
	"$WORK/sum.csv" || fail "summarize: $(cat "$WORK/sum.csv")"
"$FG" summarize "$WORK/a.csv" --by size --size-range 10k:100k --csv | tail -n +2 | cut -d, -f1 |
	tr '\n' ' ' | grep -qx '10000 100000 ' || fail "summarize --by size --size-range"
check "summarize counts rows, groups by path and size"

# 6. SIGTERM: server exits 0
kill -TERM "$SRV_PID"
rc=0
wait "$SRV_PID" || rc=$?
SRV_PID=""
[ $rc -eq 0 ] || fail "server exit status $rc after SIGTERM"
check "server exits 0 on SIGTERM"
echo "PASS: $NAME"
