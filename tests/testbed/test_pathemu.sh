#!/bin/bash
# shellcheck disable=SC2154 # TOPO_* variables come from the sourced topo.env
# test_pathemu.sh — the link emulator (tools/pathemu) and the topology script
# (tools/topo.sh) do what they claim, measured with numbers:
#   1. handshake RTT at 60 ms configured RTT within ±1 ms (median of 10, v4 and v6)
#   2. bulk goodput at 20 Mbit/s within ±5% of 20 × 1448/1500; cubic really used
#   3. measured loss at 5% within binomial ±4 sigma, per direction; SYN-only loss drops
#      SYN and SYN-ACK (v4, v6) and nothing else
#   4. queue limit respected (drop-tail counter rises, max queue never above limit);
#      a rate and queue change with packets queued neither crashes nor reorders
#   5. a parameter change while running (RTT 20 -> 100 ms) is in effect when set returns
#   6. teardown leaves nothing, also after kill -9 of a pathemu and after a failed up
# Needs root. Env: LEARND_BUILD (build dir), LEARND_SRC (source tree).
set -euo pipefail
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init pathemu
export LD_TOPO=tpe$$
STATE=/run/learnd-topo/$LD_TOPO
H=$SRC/tests/testbed/pathemu_probe.py
tb_need "$LEARND_BUILD/tools/pathemu"
command -v python3 >/dev/null || tb_fail "python3 not found"
# the topology of the half-failed up at the end
tb_on_exit 'LD_TOPO=${LD_TOPO}f "$TOPO" down >/dev/null 2>&1'

# path name, rtt_ms, rate_mbit, queue_pkts, loss, syn_loss
cat >"$WORK/test.paths" <<'EOF'
# test_pathemu.sh paths
rtt 60 0 1000 0 0
bulk 20 20 100 0 0
loss 2 0 1000 0.05 0
queue 10 10 5 0 0
chg 20 0 1000 0 0
EOF

echo "== up (LD_TOPO=$LD_TOPO)"
t0=$(date +%s.%N)
tb_topo_up "$WORK/test.paths" none
echo "  up took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s; paths: $TOPO_PATHS"
if ! { [ "$TOPO_SRV_NS" = "$LD_TOPO-srv" ] && [ "$TOPO_ADDR4_loss" = 10.201.3.2 ] &&
	[ "$TOPO_ADDR6_loss" = fd00:201:3::2 ] && [ "$TOPO_PREFIX6_queue" = fd00:201:4::/48 ] &&
	[ -d "$TOPO_CGROUP" ]; }; then
	tb_fail "topo.env does not describe the topology"
fi

tb_probe_server 5001
grep -qx "$SRV_PID" "$TOPO_CGROUP/cgroup.procs" || tb_fail "topo.sh exec srv did not put the server into $TOPO_CGROUP"
echo "  ok: server pid $SRV_PID runs in $TOPO_CGROUP"

echo "== 1. handshake RTT at 60 ms"
for a in "$TOPO_SRV4" "$TOPO_SRV6"; do
	read -r med lo hi < <("$TOPO" exec rtt -- python3 "$H" hs "$a" 5001 10)
	echo "  $a: connect() median $med ms (min $lo, max $hi) over 10"
	tb_check "handshake RTT $med ms within 60 ± 1 ms" "m >= 59 && m <= 61" -v m="$med"
done

echo "== 2. bulk goodput at 20 Mbit/s"
"$TOPO" exec bulk -- python3 "$H" bulk "$TOPO_SRV4" 5001 10000000 1000000 >"$WORK/bulk.out" &
bulk_pid=$!
sleep 1.5
ip netns exec "$TOPO_SRV_NS" ss -tin 'sport = :5001' >"$WORK/ss.out"
wait $bulk_pid
read -r got mbit <"$WORK/bulk.out"
exp=$(awk 'BEGIN { printf "%.3f", 20 * 1448 / 1500 }')
echo "  received $got B; goodput after the first MB $mbit Mbit/s (expected $exp)"
tb_check "10 MB received" "g == 10000000" -v g="$got"
tb_check "goodput $mbit within ±5% of $exp Mbit/s" "m >= e * 0.95 && m <= e * 1.05" -v m="$mbit" -v e="$exp"
grep -q cubic "$WORK/ss.out" || { cat "$WORK/ss.out"; tb_fail "server connection does not use cubic"; }
echo "  ok: ss -ti shows $(grep -o 'cubic' "$WORK/ss.out" | head -1) on the server side"

echo "== 3. random loss 5%"
"$TOPO" stats loss >"$WORK/loss0.stats" # up's pings crossed this path too: use deltas
ping_out=$("$TOPO" exec loss -- ping -n -q -i 0.001 -W 1 -c 4000 "$TOPO_SRV4" || true)
tx=$(sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\1/p' <<<"$ping_out")
rx=$(sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\2/p' <<<"$ping_out")
"$TOPO" stats loss >"$WORK/loss1.stats"
delta() { # delta KEY: counter increase during the ping run
	awk -F= -v k="$1" 'FNR == NR && $1 == k { a = $2 } FNR != NR && $1 == k { print $2 - a }' \
		"$WORK/loss0.stats" "$WORK/loss1.stats"
}
for d in a2b b2a; do
	n=$(delta ${d}_rx_pkts)
	k=$(delta ${d}_drop_loss)
	echo "  $d: $k of $n packets dropped ($(awk -v k="$k" -v n="$n" 'BEGIN { printf "%.4f", k / n }'))"
	tb_check "$d loss within 0.05 ± 4 sigma (n=$n)" \
		"n >= 3000 && (k - n * 0.05)^2 <= 16 * n * 0.05 * 0.95" -v n="$n" -v k="$k"
	eval "drop_$d=\$k"
done
echo "  ping: $tx sent, $rx received"
# a ping is lost exactly when its request (a2b) or its reply (b2a) was dropped
tb_check "ping losses ($((tx - rx))) = pathemu drops ($((drop_a2b + drop_b2a)))" \
	"t - r == a + b" -v t="$tx" -v r="$rx" -v a="$drop_a2b" -v b="$drop_b2a"

echo "== 3b. SYN-only loss drops SYN (a2b) and SYN-ACK (b2a), v4 and v6, nothing else"
syn_stat() { "$TOPO" stats loss | awk -F= -v k="$1" '$1 == k { print $2 }'; }
for d in b2a a2b; do
	"$TOPO" set loss loss=0 syn_loss=0 "${d}_syn_loss=1"
	s0=$(syn_stat ${d}_drop_syn)
	res=""
	for a in "$TOPO_SRV4" "$TOPO_SRV6"; do
		res="$res $("$TOPO" exec loss -- python3 "$H" try "$a" 5001 0.5)"
	done
	pings=$("$TOPO" exec loss -- ping -n -q -i 0.01 -c 20 -W 1 "$TOPO_SRV4" | sed -nE 's/.* ([0-9]+) received.*/\1/p')
	s1=$(syn_stat ${d}_drop_syn)
	echo "  ${d}_syn_loss=1: connects v4, v6:$res; ${d}_drop_syn +$((s1 - s0)); pings 20 sent, $pings received"
	tb_check "${d}_syn_loss=1 stops v4 and v6 handshakes and counts the drops" \
		"r == \" timeout timeout\" && n >= 2" -v r="$res" -v n="$((s1 - s0))"
	tb_check "${d}_syn_loss=1 leaves other packets alone" "p == 20" -v p="$pings"
done
"$TOPO" set loss syn_loss=0
read -r ok < <("$TOPO" exec loss -- python3 "$H" try "$TOPO_SRV6" 5001 1)
tb_check "handshakes work again with syn_loss=0 ($ok)" "o == \"ok\"" -v o="$ok"

echo "== 4. queue limit (10 Mbit/s, queue 5)"
q_addr=$TOPO_ADDR4_queue
"$TOPO" exec queue -- python3 "$H" udprecv 6000 1 "$WORK/ready1" >"$WORK/udp1.out" &
recv_pid=$!
for _ in $(seq 100); do [ -e "$WORK/ready1" ] && break; sleep 0.02; done
"$TOPO" exec srv -- python3 "$H" udpburst "$q_addr" 6000 200 1400
wait $recv_pid
read -r got inorder <"$WORK/udp1.out"
"$TOPO" stats queue >"$WORK/q.stats"
qd=$(awk -F= '$1 == "b2a_drop_queue" { print $2 }' "$WORK/q.stats")
qmax=$(awk -F= '$1 == "b2a_max_queue" { print $2 }' "$WORK/q.stats")
qfwd=$(awk -F= '$1 == "b2a_fwd_pkts" { print $2 }' "$WORK/q.stats")
echo "  burst of 200: received $got, pathemu dropped $qd (queue), forwarded $qfwd, max queue $qmax"
tb_check "queue drops rose" "d > 100" -v d="$qd"
tb_check "max queue $qmax never above the limit 5, and reached it" "q == 5" -v q="$qmax"
tb_check "every datagram is either received or dropped by the queue" "g + d == 200" -v g="$got" -v d="$qd"
# change rate and queue limit while 150 packets wait: no crash, no reordering
"$TOPO" set queue queue_pkts=300 rate_mbit=2
"$TOPO" exec queue -- python3 "$H" udprecv 6001 1 "$WORK/ready2" >"$WORK/udp2.out" &
recv_pid=$!
for _ in $(seq 100); do [ -e "$WORK/ready2" ] && break; sleep 0.02; done
"$TOPO" exec srv -- python3 "$H" udpburst "$q_addr" 6001 150 1400
"$TOPO" set queue rate_mbit=50 queue_pkts=2 # the burst needs 860 ms at 2 Mbit/s
wait $recv_pid
read -r got inorder <"$WORK/udp2.out"
"$TOPO" stats queue >"$WORK/q2.stats"
qd2=$(awk -F= '$1 == "b2a_drop_queue" { print $2 }' "$WORK/q2.stats")
qnow=$(awk -F= '$1 == "b2a_queue_at_change" { print $2 }' "$WORK/q2.stats")
echo "  150 queued, then rate 2 -> 50 Mbit/s and queue 300 -> 2 with $qnow still waiting:" \
	"received $got, in order: $inorder, new queue drops $((qd2 - qd))"
tb_check "packets queued before the change were all delivered, in order" \
	"g == 150 && o == 1 && d == 0" -v g="$got" -v o="$inorder" -v d="$((qd2 - qd))"
tb_check "the change happened with packets still waiting ($qnow)" "q > 2" -v q="$qnow"

echo "== 5. parameter change while running (RTT 20 -> 100 ms)"
"$TOPO" exec chg -- ping -n -D -i 0.01 -c 120 "$TOPO_SRV4" >"$WORK/ping5.out" &
ping_pid=$!
sleep 0.5
ts0=$(date +%s.%N)
"$TOPO" set chg rtt_ms=100
ts1=$(date +%s.%N)
wait $ping_pid || true
# ping -D prints the wall-clock time of each reply; sent = reply time - rtt.
# Pings sent before set started (minus one old RTT) must show the old RTT, every ping sent
# after set returned the new one: never the old value, median within 1 ms, and (with other
# load on the machine) at least 90% within 1 ms.
awk -v s0="$ts0" -v s1="$ts1" '
	/time=/ { t = substr($1, 2, length($1) - 2); r = $0; sub(/.*time=/, "", r); sub(/ ms.*/, "", r); r = r + 0
		sent = t - r / 1000
		if (sent < s0 - 0.025) { b[++nb] = r; if (r < 19 || r > 21) { ob++; print "  before: " $0 > "/dev/stderr" } }
		if (sent > s1) { a[++na] = r; if (r < 99 || r > 101) { oa++; print "  after: " $0 > "/dev/stderr" }; if (r < 90) old++ }
		if (sent >= s0 && r > 99 && !eff) eff = sent - s0 }
	function med(x, n,   i, j, v) { for (i = 2; i <= n; i++) { v = x[i]; for (j = i - 1; j >= 1 && x[j] > v; j--) x[j + 1] = x[j]; x[j + 1] = v }
		return n ? (n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2) : -1 }
	END { printf "%d %d %.3f %d %d %d %.3f %.1f\n", nb, ob + 0, med(b, nb), na, oa + 0, old + 0, med(a, na), eff * 1000 }' \
	"$WORK/ping5.out" >"$WORK/ping5.sum"
read -r nb ob medb na oa old meda eff <"$WORK/ping5.sum"
set_ms=$(awk -v a="$ts0" -v b="$ts1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
echo "  set took $set_ms ms; first new-RTT ping sent $eff ms after set started"
echo "  $nb pings before: median $medb ms, $ob off 20 ± 1; $na pings after: median $meda ms, $oa off 100 ± 1, $old with the old RTT"
tb_check "pings before the change: median RTT $medb within 20 ± 1 ms, >= 90% within" \
	"nb >= 20 && m >= 19 && m <= 21 && ob <= nb / 10" -v nb="$nb" -v m="$medb" -v ob="$ob"
tb_check "no ping sent after set returned had the old RTT" "na >= 20 && o == 0" -v na="$na" -v o="$old"
tb_check "pings after the change: median RTT $meda within 100 ± 1 ms, >= 90% within" \
	"m >= 99 && m <= 101 && oa <= na / 10" -v na="$na" -v m="$meda" -v oa="$oa"
tb_check "set returned within one (new) RTT: $set_ms ms" "s < 100" -v s="$set_ms"

echo "== emulator timing over all paths"
for name in rtt bulk loss queue; do "$TOPO" stats "$name"; done >"$WORK/all.stats"
read -r fwd late lmax < <(awk -F= '$1 ~ /_fwd_pkts$/ { f += $2 } $1 ~ /_late_1ms$/ { l += $2 }
	$1 ~ /_late_max_us$/ && $2 > m { m = $2 } END { print f, l, m }' "$WORK/all.stats")
echo "  $late of $fwd packets left more than 1 ms after their due time (latest: $lmax us late)"
tb_check "at most 1% of packets left more than 1 ms late" "l <= f / 100" -v l="$late" -v f="$fwd"

echo "== 6. teardown"
pids=$(cat "$STATE"/*.pid)
devs_before=$(ip -n "$TOPO_NS_chg" -o link show t0 | wc -l)
chg_pid=$(cat "$STATE/chg.pid")
kill -9 "$chg_pid"
for _ in $(seq 50); do [ -d "/proc/$chg_pid" ] || break; sleep 0.02; done
gone=1
ip -n "$TOPO_NS_chg" link show t0 >/dev/null 2>&1 && gone=0
ip -n "$TOPO_SRV_NS" link show t-chg >/dev/null 2>&1 && gone=0
tb_check "TUN devices of a pathemu killed with -9 vanished (before: $devs_before)" "g == 1" -v g="$gone"
if "$TOPO" status >"$WORK/status.out" 2>&1; then
	tb_fail "status does not report the dead pathemu"
fi
grep -q 'chg.*NOT RUNNING' "$WORK/status.out" || { cat "$WORK/status.out"; tb_fail "status does not name the dead path"; }
echo "  ok: status reports path chg not running"
"$TOPO" down
"$TOPO" down # idempotent
tb_untrack "$SRV_PID" # down killed it
left=""
for ns in srv $TOPO_PATHS; do [ -e "/run/netns/$LD_TOPO-$ns" ] && left="$left ns:$LD_TOPO-$ns"; done
[ -d "$TOPO_CGROUP" ] && left="$left cgroup:$TOPO_CGROUP"
[ -d "$STATE" ] && left="$left state:$STATE"
for p in $pids; do # exited = gone or a zombie waiting for init to reap it
	st=$(sed -E 's/^.*\) ([A-Z]).*$/\1/' "/proc/$p/stat" 2>/dev/null || echo gone)
	[ "$st" = gone ] || [ "$st" = Z ] || [ "$st" = X ] || left="$left pid:$p($st)"
done
ip -o link show | grep -q ': t-\(rtt\|bulk\|loss\|queue\|chg\)[@:]' && left="$left tun-in-root-ns"
tb_check "down left nothing${left:+ (left:$left)}" "l == 0" -v l="${#left}"

# a half-failed up (pathemu dies at start) tears down what it made
mkdir -p "$WORK/fake/tools"
printf '#!/bin/sh\necho "fake pathemu fails" >&2\nexit 1\n' >"$WORK/fake/tools/pathemu"
chmod +x "$WORK/fake/tools/pathemu"
if LD_TOPO=${LD_TOPO}f LEARND_BUILD=$WORK/fake "$TOPO" up "$WORK/test.paths" 2>"$WORK/fail.err"; then
	tb_fail "up with a failing pathemu succeeded"
fi
echo "  up with a failing pathemu: $(head -n 1 "$WORK/fail.err")"
left=""
for ns in srv $TOPO_PATHS; do [ -e "/run/netns/${LD_TOPO}f-$ns" ] && left="$left ns:${LD_TOPO}f-$ns"; done
[ -d "${TOPO_CGROUP%/*}/${LD_TOPO}f-srv" ] && left="$left cgroup"
[ -d "/run/learnd-topo/${LD_TOPO}f" ] && left="$left state"
tb_check "a failed up left nothing${left:+ (left:$left)}" "l == 0" -v l="${#left}"

echo "PASS: $NAME"
