#!/bin/bash
# test_learnd_config_reload: what the model would refuse is refused as a whole
# configuration, at start and on SIGHUP, and learnd goes on with the old one.
#   - probe_pct above the model's limit for a probe's share (31, 50: they were
#     accepted; every model learnd made was then refused, left uninitialised,
#     and learnd crashed at its first decision) exits 2 with FILE:LINE;
#   - SIGHUP from probe_pct 5 to 40: "FILE:LINE: probe_pct = 40", "not
#     reloaded", never "configuration reloaded"; learnd keeps deciding (new
#     connections) and stays alive;
#   - SIGHUP with a new max_prefixes: reloaded, that key named as taken at the
#     next start;
#   - SIGHUP with the config path replaced by a directory: refused, old one kept.
# Own cgroup, pin dir and namespace; loopback traffic inside the namespace.
set -euo pipefail
# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_init learnd_config_reload test_ld_cfgreload
tb_loopback 5302 learnd_cfgtest_$$ ldcfg$$ 4..64 tick_ms=100 heartbeat_ttl_ms=60000 probe_pct=5
CONF=$WORK/learnd.conf

for pct in 31 50; do
	sed "s/^probe_pct = .*/probe_pct = $pct/" "$CONF" >"$WORK/bad.conf"
	line=$(grep -n '^probe_pct' "$WORK/bad.conf" | cut -d: -f1)
	rc=0
	timeout 10 "$LEARND" --config "$WORK/bad.conf" >"$WORK/bad.log" 2>&1 || rc=$?
	[ $rc -eq 2 ] || tb_fail "probe_pct = $pct: exit $rc, want 2 ($(tail -3 "$WORK/bad.log"))"
	grep -qF "bad.conf:$line: probe_pct = $pct: expected a whole number from 1 to 30" "$WORK/bad.log" ||
		tb_fail "probe_pct = $pct: $(cat "$WORK/bad.log")"
	[ ! -e "$PIN" ] || tb_fail "probe_pct = $pct: pins left behind"
	echo "  ok: probe_pct = $pct refused at start (exit 2, file:line)"
done

tb_start_learnd "$CONF" "$WORK/learnd.log" -v
tb_probe_iws 20 >/dev/null || tb_fail "probe failed"
sed -i 's/^probe_pct = .*/probe_pct = 40/' "$CONF"
line=$(grep -n '^probe_pct' "$CONF" | cut -d: -f1)
kill -HUP "$LEARND_PID"
for _ in $(seq 50); do grep -q 'not reloaded' "$WORK/learnd.log" && break; sleep 0.05; done
grep -qF "learnd.conf:$line: probe_pct = 40: expected a whole number from 1 to 30" "$WORK/learnd.log" ||
	tb_fail "SIGHUP to probe_pct 40: no file:line message"
grep -q 'configuration not reloaded' "$WORK/learnd.log" || tb_fail "SIGHUP to probe_pct 40: not refused"
grep -q 'configuration reloaded' "$WORK/learnd.log" && tb_fail "SIGHUP to probe_pct 40: reloaded"
grep -q 'model configuration refused\|no model' "$WORK/learnd.log" && tb_fail "a prefix's model was refused"
# decisions go on, on the models of the old configuration
for _ in 1 2 3; do tb_probe_iws 20 >/dev/null || tb_fail "probe failed"; sleep 0.2; done
kill -0 "$LEARND_PID" 2>/dev/null || tb_fail "learnd died after the refused reload"
echo "  ok: SIGHUP to probe_pct 40 refused as a whole, learnd alive after 60 more connections"

# a key taken only at the next start: the reload goes through, that key keeps
# its old value and is named (the key table says which keys these are)
sed -i 's/^probe_pct = .*/probe_pct = 5/' "$CONF"
sed -i 's/^tick_ms = 100$/tick_ms = 100\nmax_prefixes = 1024/' "$CONF"
kill -HUP "$LEARND_PID"
for _ in $(seq 50); do grep -q 'configuration reloaded' "$WORK/learnd.log" && break; sleep 0.05; done
grep -q 'configuration reloaded' "$WORK/learnd.log" || tb_fail "SIGHUP to probe_pct 5, max_prefixes 1024: not reloaded"
grep -q 'max_prefixes: changes take effect at the next start' "$WORK/learnd.log" ||
	tb_fail "SIGHUP with a new max_prefixes: not named as taken at the next start"
echo "  ok: SIGHUP with a new max_prefixes reloaded, max_prefixes named as taken at the next start"

# the config path now a directory: refused, the old one stays
mv "$CONF" "$WORK/learnd.conf.file"
mkdir "$CONF"
n=$(grep -c 'not reloaded' "$WORK/learnd.log")
kill -HUP "$LEARND_PID"
for _ in $(seq 50); do [ "$(grep -c 'not reloaded' "$WORK/learnd.log")" -gt "$n" ] && break; sleep 0.05; done
grep -qF "$CONF: cannot read: Is a directory" "$WORK/learnd.log" || tb_fail "SIGHUP, config a directory: $(tail -3 "$WORK/learnd.log")"
[ "$(grep -c 'not reloaded' "$WORK/learnd.log")" -gt "$n" ] || tb_fail "SIGHUP, config a directory: not refused"
tb_probe_iws 5 >/dev/null || tb_fail "probe failed"
kill -0 "$LEARND_PID" 2>/dev/null || tb_fail "learnd died after the config became a directory"
echo "  ok: SIGHUP with the config a directory refused, learnd alive"
tb_stop_learnd TERM
[ "$LEARND_RC" -eq 0 ] || tb_fail "learnd exited $LEARND_RC on SIGTERM"
grep -q 'SEGV\|Segmentation\|ERROR: AddressSanitizer\|runtime error' "$WORK/learnd.log" && tb_fail "learnd: $(grep -m1 'SEGV\|Sanitizer\|runtime error' "$WORK/learnd.log")"
echo "PASS: $NAME"
