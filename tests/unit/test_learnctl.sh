#!/bin/bash
# test_learnctl: learnctl against a database made by the store's own code
# (tools/sim/learnctl_mkdb.c calls ld_store_open/put_* as learnd does).
#   1. report text (80 columns), --json (parsed), --csv (parsed), --sort/--prefix/--limit,
#      and the numbers: IW in force, bounds, FCT estimate, conns_1h and retrans_rate
#      equal to the view v_prefix_summary's
#   2. show (text and JSON: values tried, slots, decisions with quotes intact, sampled records)
#   3. status --json, metrics (Prometheus text), export (CSV/JSON, ranges, -o), plot (SVG);
#      --json before the command: export in JSON, metrics and plot refused in JSON
#   4. pin/unpin/pause/resume recorded in pins, control, operator_log; shown by report
#   5. bad input: exit 2, one line on stderr, nothing on stdout (text mode), the
#      database unchanged (checksum of the file and its WAL)
#   6. --help of learnctl and of every command; every option a help page lists is
#      accepted by that command
# No root needed (no pins are read: --pin-dir points at an empty directory).
set -euo pipefail
NAME=learnctl
SRC=${LEARND_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LEARND_BUILD=${LEARND_BUILD:-$SRC/build}
LC=$LEARND_BUILD/learner/learnctl
MKDB=$LEARND_BUILD/tools/sim/learnctl_mkdb
WORK=$(mktemp -d /tmp/test_learnctl.XXXXXX)
DB=$WORK/learnd.db

cleanup() {
	local rc=$?
	trap - EXIT
	rm -rf "$WORK"
	[ $rc -eq 0 ] || echo "FAIL: $NAME (status $rc)" >&2
	exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $NAME: $*" >&2; exit 1; }
ok() { echo "  ok: $*"; }
for b in "$LC" "$MKDB"; do [ -x "$b" ] || fail "not built: $b"; done

"$MKDB" "$DB" 5 >/dev/null 2>&1 || fail "learnctl_mkdb failed"
mkdir "$WORK/pins"
cat >"$WORK/learnd.conf" <<EOF
[learnd]
db = $DB
pin_dir = $WORK/pins

[defaults]
iw = 4..64

[prefix 192.0.2.0/24]
rwnd = 10..100
syn_rto_ms = 200..3000

[prefix 2001:db8:1::/48]
iw = 20
EOF
L=("$LC" -c "$WORK/learnd.conf")
py() { python3 -c "$@"; }

# ---- 1. report ----
"${L[@]}" report >"$WORK/report.txt"
[ "$(wc -l <"$WORK/report.txt")" -eq 6 ] || fail "report: want header + 5 rows: $(cat "$WORK/report.txt")"
py 'import sys; assert all(len(l.rstrip("\n")) <= 80 for l in open(sys.argv[1], encoding="utf-8"))' "$WORK/report.txt" ||
	fail "report: a line is wider than 80 columns"
grep -Eq '^192\.0\.2\.0/24 +conf .* 20 +-N +300 .*-33%' "$WORK/report.txt" || fail "report: 192.0.2.0/24 row: $(grep 192.0.2 "$WORK/report.txt")"
grep -Eq '^2001:db8:1::/48 +disc .* 20F ' "$WORK/report.txt" || fail "report: the v6 prefix (iw fixed: 20F) is missing"
ok "report text: 5 rows, <= 80 columns, IW 20, FCT -33%"

# conns_1h counts 5-minute buckets younger than an hour: a wall-clock bucket edge
# between the report and the view changes it (330 vs 360), so the view is read
# before and after the report and the pair is retaken if the two differ.
view() { sqlite3 -json "$DB" "SELECT cidr, conns_1h, retrans_rate, conns_total FROM v_prefix_summary"; }
for _ in 1 2 3; do
	view >"$WORK/view.json"
	"${L[@]}" report --json >"$WORK/report.json"
	[ "$(view)" = "$(cat "$WORK/view.json")" ] && break
done
python3 -m json.tool "$WORK/report.json" >/dev/null || fail "report --json is not JSON"
py '
import json, sys
rows = {r["prefix"]: r for r in json.load(open(sys.argv[1]))}
view = {r["cidr"]: r for r in json.load(open(sys.argv[2]))}
assert len(rows) == 5, rows.keys()
r = rows["192.0.2.0/24"]
assert r["origin"] == "configured" and r["iw"] == 20 and r["iw_min"] == 4 and r["iw_max"] == 64, r
assert r["rwnd_min"] == 10 and r["rwnd_max"] == 100 and r["syn_rto_ms"] == 300, r
assert abs(r["fct_change"] + 1/3) < 1e-6 and r["fct_change_lo"] < r["fct_change"] < r["fct_change_hi"], r
assert abs(r["probe_share"] - 0.1) < 1e-3 and r["iw_pinned"] == 0, r
for p, v in view.items():
    got = rows[p]
    # report computes these itself (fast path); they must equal the view
    assert got["conns_1h"] == v["conns_1h"], (p, got["conns_1h"], v["conns_1h"])
    assert abs(got["retrans_rate"] - v["retrans_rate"]) < 1e-12, p
    assert got["conns_total"] == v["conns_total"], p
' "$WORK/report.json" "$WORK/view.json" || fail "report --json content"
ok "report --json parses; values, bounds, FCT estimate; conns_1h/retrans_rate equal the view"

"${L[@]}" report --csv >"$WORK/report.csv"
py '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 5 and rows[0]["prefix"] and "fct_change_lo" in rows[0], rows[:1]
assert {r["prefix"] for r in rows} >= {"192.0.2.0/24", "2001:db8:1::/48", "::/0"}
' "$WORK/report.csv" || fail "report --csv"
ok "report --csv parses (header + 5 rows)"

[ "$("${L[@]}" report --prefix 10.0.0.0/8 --csv | tail -n +2 | cut -d, -f1 | tr '\n' ' ')" = "10.0.0.0/24 10.0.1.0/24 " ] ||
	fail "report --prefix 10.0.0.0/8"
[ "$("${L[@]}" report --limit 2 --csv | wc -l)" -eq 3 ] || fail "report --limit 2"
[ "$("${L[@]}" report --sort conns --limit 1 --csv | tail -1 | cut -d, -f1)" = "10.0.1.0/24" ] || fail "report --sort conns"
"${L[@]}" report --sort gain --wide >/dev/null || fail "report --sort gain --wide"
ok "report --prefix (containment), --limit, --sort"

# ---- 2. show ----
"${L[@]}" show 192.0.2.0/24 >"$WORK/show.txt"
grep -q 'fct_change *-33.3%' "$WORK/show.txt" || fail "show: no FCT estimate"
grep -Eq '^  iw +10 +240 +0 +300 ' "$WORK/show.txt" || fail "show: value 10 row: $(cat "$WORK/show.txt")"
grep -q 'iw 10->20: cost "0.67" vs 1.00' "$WORK/show.txt" || fail "show: decision reason"
# per parameter, from the model state of a server (tools/sim/mkdb.c)
grep -Eq '^  iw +learned +sends more than 10 segments in 100% of connections' "$WORK/show.txt" ||
	fail "show: iw status: $(cat "$WORK/show.txt")"
grep -Eq '^  rwnd +no effect here +receives more than 10 segments \(~14 KB\) in only 0.0% of connections' "$WORK/show.txt" ||
	fail "show: rwnd status"
grep -Eq '^  base_rtt_us +default +not configured' "$WORK/show.txt" || fail "show: base_rtt_us status"
"${L[@]}" show 192.0.2.0/24 --json | py '
import json, sys
d = json.load(sys.stdin)
assert d["prefix"] == "192.0.2.0/24" and d["summary"]["origin"] == "configured"
assert [(v["value"], v["mean_ms"]) for v in d["values"]] == [(10, 300), (20, 200), (40, 150)], d["values"]
assert all(v["ci95_ms"] > 0 for v in d["values"])
assert [s["iw"] for s in d["slots"]] == [20, 40] and abs(d["slots"][0]["share"] - 0.9) < 1e-3
assert d["parameters"]["rwnd"]["status"] == "no effect here" and d["parameters"]["iw"]["status"] == "learned", d["parameters"]
assert d["decisions"][0]["reason"] == "evidence" and "\"0.67\"" in d["decisions"][0]["why"]
assert d["decisions"][1]["old_value"] is None and d["pin"] is None
assert abs(d["estimate"]["fct_change"] + 1/3) < 1e-6
# the raw sample mkdb wrote: what benchmarks read instead of the samples table
assert [(r["slot"], r["iw"], r["handshake_us"], r["bytes_acked"]) for r in d["samples"]] == [(0, 20, 41000, 200000)], d["samples"]
' || fail "show --json content"
grep -Eq '^sampled close records' "$WORK/show.txt" || fail "show: no sampled records"
[ "$("${L[@]}" show 192.0.2.0/24 --decisions 1 --json | py 'import json,sys; print(len(json.load(sys.stdin)["decisions"]))')" = 1 ] ||
	fail "show --decisions 1"
ok "show: values with intervals, slots, decisions, sampled records (text and JSON)"

# ---- 3. status, metrics, export, plot ----
"${L[@]}" status --json | py '
import json, sys
d = json.load(sys.stdin)
assert d["learnd"]["state"] == "absent" and d["dataplane"]["link"] is None
db = d["database"]
assert db["prefixes"] == 5 and db["schema_version"] == 1 and db["paused"] is False and db["decisions"] == 10, db
assert d["config"]["defaults"]["iw"] == {"min": 4, "max": 64} and len(d["config"]["prefixes"]) == 2
' || fail "status --json"
"${L[@]}" status | grep -q '^ *5 prefixes, 0 pins, 10 decisions' || fail "status text"
ok "status: database, config, no data plane (text and JSON)"

"${L[@]}" metrics >"$WORK/metrics.txt"
py '
import re, sys
names = set()
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("# HELP ") or line.startswith("# TYPE "):
        names.add(line.split()[2]); continue
    m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\})? (-?[0-9.e+-]+|NaN)", line)
    assert m, "bad line: " + line
    assert m.group(1) in names, "no HELP/TYPE for " + line
text = open(sys.argv[1]).read()
assert "learnd_up 0" in text and "learnd_prefixes 5" in text and "learnd_decisions_total 10" in text
assert re.search(r"learnd_prefix_fct_change_ratio\{prefix=\"192.0.2.0/24\",origin=\"configured\"\} -0.333", text)
' "$WORK/metrics.txt" || fail "metrics is not valid Prometheus text or lacks series"
"${L[@]}" metrics --no-prefixes | grep -q learnd_prefix_ && fail "metrics --no-prefixes still has per-prefix series"
ok "metrics: valid exposition format, counters, per-prefix gauges"

[ "$("${L[@]}" export | wc -l)" -eq $((1 + 5 * 24 * 3)) ] || fail "export: want 360 rows + header"
[ "$("${L[@]}" export --prefix 192.0.2.0/24 --from -1h | wc -l)" -le $((1 + 13 * 3)) ] || fail "export --from -1h"
"${L[@]}" export --prefix 192.0.2.0/24 -o "$WORK/agg.csv" 2>/dev/null
py '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 72 and {r["cidr"] for r in rows} == {"192.0.2.0/24"}
assert sorted({float(r["mean_cost"]) for r in rows}) == [150, 200, 300]
' "$WORK/agg.csv" || fail "export -o"
"${L[@]}" export --what decisions --format json | py '
import json, sys
d = json.load(sys.stdin)
assert len(d) == 10 and {x["reason"] for x in d} == {"init", "evidence"}
' || fail "export --what decisions --format json"
[ "$("${L[@]}" export --from 2000-01-01 --to 2000-01-02 | wc -l)" -eq 1 ] || fail "export of an empty range"
ok "export: CSV and JSON, prefix and time range, -o"

# -o writes as "> FILE" would: through a symbolic link (the link stays a link),
# into a device or FIFO (it stays one: /dev/null must never become a file); a
# new file has the umask's mode, a replaced one keeps its mode
ln -s agg.csv "$WORK/link.csv"
"${L[@]}" export --prefix 192.0.2.0/24 -o "$WORK/link.csv" 2>/dev/null
[ -L "$WORK/link.csv" ] && [ "$(readlink "$WORK/link.csv")" = agg.csv ] || fail "export -o LINK replaced the link"
[ "$(wc -l <"$WORK/agg.csv")" -eq 73 ] || fail "export -o LINK did not write through the link"
mkfifo "$WORK/fifo"
wc -l <"$WORK/fifo" >"$WORK/fifo.n" &
"${L[@]}" export --prefix 192.0.2.0/24 -o "$WORK/fifo" 2>/dev/null
wait $!
[ -p "$WORK/fifo" ] && [ "$(cat "$WORK/fifo.n")" -eq 73 ] || fail "export -o FIFO: not written through, or no FIFO any more"
if [ "$(id -u)" -eq 0 ]; then
	mknod "$WORK/null" c 1 3
	"${L[@]}" export -o "$WORK/null" 2>/dev/null
	"${L[@]}" plot 192.0.2.0/24 -o "$WORK/null" 2>/dev/null
	[ -c "$WORK/null" ] || fail "export/plot -o DEVICE turned the device into $(stat -c %F "$WORK/null")"
fi
(umask 027 && "${L[@]}" export -o "$WORK/new.csv" 2>/dev/null && "${L[@]}" plot 192.0.2.0/24 -o "$WORK/new.svg" 2>/dev/null)
[ "$(stat -c %a "$WORK/new.csv") $(stat -c %a "$WORK/new.svg")" = "640 640" ] ||
	fail "export/plot -o NEW: mode $(stat -c %a "$WORK/new.csv") $(stat -c %a "$WORK/new.svg"), want the umask's 640"
chmod 0604 "$WORK/new.csv"
"${L[@]}" export -o "$WORK/new.csv" 2>/dev/null
[ "$(stat -c %a "$WORK/new.csv")" = 604 ] || fail "export -o EXISTING: mode $(stat -c %a "$WORK/new.csv"), want its 604"
rc=0
"${L[@]}" export -o "$WORK" 2>"$WORK/err" || rc=$?
[ $rc -eq 2 ] && grep -q "cannot write $WORK: Is a directory" "$WORK/err" || fail "export -o DIR: exit $rc: $(cat "$WORK/err")"
ok "export/plot -o: through a link, a FIFO and a device as > would; umask for a new file, the mode kept"

# plot: one section per parameter learned (here iw: rwnd and syn_rto_ms have
# bounds but no history), its value panel one point per value tried with its n,
# the value in force (20) and the kernel's (10) marked, the decisions with their
# reasons; the time panel from the buckets (24 of them) or, with one bucket,
# from the raw samples
"$MKDB" "$WORK/one.db" 3 1 >/dev/null 2>&1 || fail "learnctl_mkdb (one bucket) failed"
plot_check() { # SVG N_PER_VALUE TIME_PANEL_CLASS POINTS_IN_TIME_PANEL
	py '
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
svg, n, tclass, tpoints = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
root = ET.parse(svg).getroot()
secs = root.findall(".//s:g[@class=\"param\"]", ns)
assert [g.get("data-param") for g in secs] == ["iw"], [g.get("data-param") for g in secs]
sec = secs[0]
vals = sec.findall(".//s:g[@class=\"values\"]/s:g", ns)
tried = [v for v in vals if "untried" not in v.get("class").split()]
assert [v.get("data-value") for v in tried] == ["10", "20", "40"], [v.get("data-value") for v in tried]
for v in tried:
    assert v.find("s:circle", ns) is not None and v.find("s:title", ns) is not None, v.get("data-value")
    assert v.find("s:text[@class=\"n\"]", ns).text == "n=%d" % n, (v.get("data-value"), v.find("s:text[@class=\"n\"]", ns).text)
    assert "mean connection time" in v.find("s:title", ns).text
force = [v.get("data-value") for v in vals if "in-force" in v.get("class").split()]
kern = [v.get("data-value") for v in vals if "kernel-default" in v.get("class").split()]
assert force == ["20"] and kern == ["10"], (force, kern)
ch = sec.find(".//s:g[@class=\"chosen\"]", ns)
marks = ch.findall(".//s:g[@data-label=\"iw chosen\"]/s:circle/s:title", ns)
assert len(marks) == 2 and "iw 10 -> 20 (evidence): cost" in marks[1].text and "\"0.67\"" in marks[1].text, [m.text for m in marks]
tp = sec.findall(".//s:g[@class=\"%s\"]/s:g[@class=\"series\"]/s:circle" % tclass, ns)
assert len(tp) == tpoints, (tclass, len(tp))
' "$@"
}
"${L[@]}" plot 192.0.2.0/24 -o "$WORK/learn.svg" 2>/dev/null
plot_check "$WORK/learn.svg" 240 "time buckets" 72 || fail "plot, 24 buckets: $WORK/learn.svg"
"$LC" --db "$WORK/one.db" --pin-dir "$WORK/pins" plot 192.0.2.0/24 -o "$WORK/one.svg" 2>/dev/null
plot_check "$WORK/one.svg" 10 "time samples" 1 || fail "plot, one bucket"
# a value none of whose connections established (SYN RTO 200: 3 connections) has
# its n and no mean; the kernel's 1000 ms, never tried, has its place marked
cp "$WORK/one.db" "$WORK/failed.db"
sqlite3 "$WORK/failed.db" "INSERT INTO aggregates SELECT 1, 'syn_rto_ms', v, (SELECT max(bucket_ns) FROM aggregates),
	n, f, c, c * c / n * 1.01, 40 * (n - f), 0, 70, 7000 FROM (SELECT 200 AS v, 3 AS n, 3 AS f, 0.0 AS c
	UNION ALL SELECT 300, 7, 0, 700.0)"
"$LC" --db "$WORK/failed.db" --pin-dir "$WORK/pins" plot 192.0.2.0/24 --param syn_rto_ms -o "$WORK/failed.svg" 2>/dev/null
py '
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
vals = ET.parse(sys.argv[1]).getroot().findall(".//s:g[@data-param=\"syn_rto_ms\"]//s:g[@class=\"values\"]/s:g", ns)
got = [(v.get("data-value"), v.get("class"), v.find(".//s:text[@class=\"n\"]", ns)) for v in vals]
assert [(d, c, n is not None and n.text) for d, c, n in got] == [("200", "value failed", "n=3"),
    ("300", "value in-force", "n=7"), ("1000", "value untried kernel-default", False)], got
assert vals[0].find("s:circle", ns) is None and vals[1].find("s:circle", ns) is not None
' "$WORK/failed.svg" || fail "plot: a value that never established, the kernel default untried"
"${L[@]}" plot 192.0.2.0/24 --from -30m -o "$WORK/recent.svg" 2>/dev/null
py '
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
n = {t.text for t in ET.parse(sys.argv[1]).getroot().findall(".//s:g[@class=\"values\"]//s:text[@class=\"n\"]", ns)}
assert n in ({"n=60"}, {"n=70"}), n   # the buckets that start in the last 30 minutes
' "$WORK/recent.svg" || fail "plot --from -30m"
"${L[@]}" plot 192.0.2.0/24 --param iw -o "$WORK/iw.svg" 2>/dev/null
cmp -s <(grep -v '^<text x="80" y="42"' "$WORK/learn.svg") <(grep -v '^<text x="80" y="42"' "$WORK/iw.svg") ||
	fail "plot --param iw differs from the plot of every learned parameter (iw only here)"
rc=0
"${L[@]}" plot 192.0.2.0/24 --param rwnd -o "$WORK/rwnd.svg" 2>"$WORK/err" || rc=$?
[ $rc -eq 2 ] && grep -q "nothing to plot for 192.0.2.0/24 rwnd" "$WORK/err" && [ ! -e "$WORK/rwnd.svg" ] ||
	fail "plot --param rwnd without history: want exit 2 and no file (got $rc: $(cat "$WORK/err"))"
ok "plot: value panel (a point and n per value tried, in force and kernel default marked), decisions, time panel from buckets or raw samples"

# --json before the command means JSON there too: export gives it, metrics and
# plot (Prometheus text, SVG) refuse it with a JSON error, not CSV or nothing
"$LC" -c "$WORK/learnd.conf" --json export --what decisions | py '
import json, sys
assert len(json.load(sys.stdin)) == 10
' || fail "learnctl --json export: not JSON"
for cmd in "--json metrics" "metrics --json" "--json plot 192.0.2.0/24 -o $WORK/j.svg"; do
	rc=0
	# shellcheck disable=SC2086 # cmd is split on purpose
	"$LC" -c "$WORK/learnd.conf" $cmd >"$WORK/out" 2>/dev/null || rc=$?
	[ $rc -eq 2 ] || fail "learnctl $cmd: exit $rc, want 2"
	py 'import json,sys; d=json.load(sys.stdin); assert d["status"] == 2 and "--json does not apply" in d["error"]' \
		<"$WORK/out" || fail "learnctl $cmd: no JSON refusal: $(cat "$WORK/out")"
done
[ ! -e "$WORK/j.svg" ] || fail "learnctl --json plot wrote a file"
ok "--json: export in JSON, metrics and plot refused with a JSON error"

# ---- 4. operator controls ----
"${L[@]}" pin 192.0.2.0/24 iw=32 syn_rto_ms=250 >/dev/null
"${L[@]}" pin 192.0.2.0/24 rwnd=40 >/dev/null
[ "$(sqlite3 "$DB" "SELECT iw, rwnd, syn_rto_ms, base_rtt_us IS NULL FROM pins WHERE cidr = '192.0.2.0/24'")" = "32|40|250|1" ] ||
	fail "pins row after two pins"
# report and show give the values in force and each pin's state.  learnd has not
# run since: every pin is pending (slot 0 has iw 20, rwnd 0, syn_rto_ms 300)
grep -Eq '^192\.0\.2\.0/24 .* 20p +-p +300p ' <("${L[@]}" report) || fail "report, pending pins: $("${L[@]}" report | grep 192.0.2)"
"${L[@]}" show 192.0.2.0/24 | grep -q '^pinned by .* iw=32 (pending: learnd applies it at its next tick; 20 in force) rwnd=40 (pending: .*; 0 in force) syn_rto_ms=250 (pending: .*; 300 in force)$' ||
	fail "show, pending pins: $("${L[@]}" show 192.0.2.0/24 | grep pinned)"
# then learnd put iw 32 in force, and a reload narrowed rwnd to 10..30 (learnd
# ignores the pin rwnd=40 and logs it): what is in force, the ignored pin as such
in_db() { sqlite3 "$DB" "$1"; }
in_db "UPDATE slots SET iw = 32 WHERE slot = 0 AND prefix_id = (SELECT id FROM prefixes WHERE cidr = '192.0.2.0/24');
       UPDATE prefixes SET rwnd_max = 30 WHERE cidr = '192.0.2.0/24'"
grep -Eq '^192\.0\.2\.0/24 .* 32P +-! +300p ' <("${L[@]}" report) || fail "report, ignored pin: $("${L[@]}" report | grep 192.0.2)"
"${L[@]}" report --wide | grep -Eq '^192\.0\.2\.0/24 .* 32P \(4\.\.64\) +-! \(10\.\.30\) ' ||
	fail "report --wide, ignored pin: $("${L[@]}" report --wide | grep 192.0.2)"
"${L[@]}" report --json | py '
import json, sys
r = {r["prefix"]: r for r in json.load(sys.stdin)}["192.0.2.0/24"]
assert (r["iw"], r["iw_pinned"], r["iw_pin"], r["iw_pin_state"]) == (32, 1, 32, "in force"), r
assert (r["rwnd"], r["rwnd_pinned"], r["rwnd_pin"]) == (0, 0, 40), r
assert r["rwnd_pin_state"] == "ignored: outside bounds 10..30", r
assert (r["syn_rto_ms"], r["syn_rto_ms_pinned"], r["syn_rto_ms_pin"]) == (300, 0, 250), r
assert r["syn_rto_ms_pin_state"].startswith("pending"), r
assert r["base_rtt_us_pin"] is None and r["base_rtt_us_pin_state"] is None, r
' || fail "report --json: pin states"
"${L[@]}" show 192.0.2.0/24 | grep -q '^pinned by .* iw=32 (in force) rwnd=40 (ignored: outside bounds 10\.\.30; 0 in force) syn_rto_ms=250 (pending' ||
	fail "show, ignored pin: $("${L[@]}" show 192.0.2.0/24 | grep pinned)"
"${L[@]}" show --json 192.0.2.0/24 | py '
import json, sys
s = json.load(sys.stdin)["pin"]["state"]
assert s == {"iw": "in force", "rwnd": "ignored: outside bounds 10..30", "syn_rto_ms": s["syn_rto_ms"]}, s
assert s["syn_rto_ms"].startswith("pending"), s
' || fail "show --json: pin states"
# a pin of an evicted prefix: learnd applies none
in_db "UPDATE prefixes SET evicted_ns = 1700000000000000000 WHERE cidr = '192.0.2.0/24'"
"${L[@]}" show 192.0.2.0/24 | grep -q '^pinned by .* iw=32 (ignored: the prefix was evicted from the policy map (max_prefixes); 32 in force)' ||
	fail "show, evicted prefix's pin: $("${L[@]}" show 192.0.2.0/24 | grep pinned)"
in_db "UPDATE slots SET iw = 20 WHERE slot = 0 AND prefix_id = (SELECT id FROM prefixes WHERE cidr = '192.0.2.0/24');
       UPDATE prefixes SET rwnd_max = 100, evicted_ns = NULL WHERE cidr = '192.0.2.0/24'"
"${L[@]}" unpin 192.0.2.0/24 iw >/dev/null
[ "$(sqlite3 "$DB" "SELECT iw IS NULL, rwnd FROM pins")" = "1|40" ] || fail "unpin of one parameter"
"${L[@]}" unpin 192.0.2.0/24 >/dev/null
[ "$(sqlite3 "$DB" "SELECT count(*) FROM pins")" = 0 ] || fail "unpin of all"
"${L[@]}" pause >/dev/null
[ "$(sqlite3 "$DB" "SELECT value FROM control WHERE key = 'paused'")" = 1 ] || fail "pause: control"
"${L[@]}" status --json | py 'import json,sys; assert json.load(sys.stdin)["database"]["paused"] is True' || fail "status after pause"
"${L[@]}" resume >/dev/null
[ "$(sqlite3 "$DB" "SELECT value FROM control WHERE key = 'paused'")" = 0 ] || fail "resume: control"
[ "$(sqlite3 "$DB" "SELECT group_concat(action, ' ') FROM (SELECT action FROM operator_log ORDER BY rowid)")" = \
  "pin pin unpin unpin pause resume" ] || fail "operator_log: $(sqlite3 "$DB" 'SELECT * FROM operator_log')"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM operator_log WHERE who = '' OR ts_ns < 1600000000000000000")" = 0 ] ||
	fail "operator_log rows without who or a wall-clock time"
ok "pin (merging), unpin (one, all), pause, resume: pins, control, operator_log; report/show: pins in force, pending, ignored"

# ---- 5. bad input: exit 2, one line, nothing written ----
sum() { { cat "$DB"; cat "$DB-wal" 2>/dev/null || true; } | md5sum; }
bad() { # bad WHAT-THE-MESSAGE-SAYS ARGS...
	local want=$1 before rc=0
	shift
	before=$(sum)
	"$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	[ $rc -eq 2 ] || fail "'$*': exit $rc, want 2"
	[ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "'$*': want one line on stderr: $(cat "$WORK/err")"
	grep -q -- "$want" "$WORK/err" || fail "'$*': message lacks '$want': $(cat "$WORK/err")"
	[ ! -s "$WORK/out" ] || fail "'$*': wrote to stdout: $(cat "$WORK/out")"
	[ "$before" = "$(sum)" ] || fail "'$*': the database changed"
}
bad "unknown prefix 203.0.113.0/24" "${L[@]}" show 203.0.113.0/24
bad "unknown prefix 203.0.113.0/24" "${L[@]}" export --prefix 203.0.113.0/24
bad "unknown prefix" "${L[@]}" plot 203.0.113.0/24 -o "$WORK/x.svg"
bad "host bits set (did you mean 10.0.0.0/8?)" "${L[@]}" show 10.0.0.1/8
bad "'banana' is not an IPv4 or IPv6 address" "${L[@]}" pin banana iw=5
bad "prefix length must be 0..32" "${L[@]}" report --prefix 10.0.0.0/33
bad "malformed prefix" "${L[@]}" unpin 300.1.2.0/24
bad "iw must be 0 (kernel default) or 4..64" "${L[@]}" pin 10.0.0.0/24 iw=65
bad "iw is fixed at 20" "${L[@]}" pin 2001:db8:1::/48 iw=32
bad "unknown prefix 203.0.113.0/24: learnd has no such prefix" "${L[@]}" pin 203.0.113.0/24 iw=8
bad "syn_rto_ms is not managed for 10.0.0.0/24" "${L[@]}" pin 10.0.0.0/24 syn_rto_ms=300
bad "rwnd must be 0 (kernel default) or 10..100" "${L[@]}" pin 192.0.2.0/24 iw=8 rwnd=5
bad "unknown parameter 'cwnd'" "${L[@]}" pin 192.0.2.0/24 cwnd=5
bad "must be a whole number" "${L[@]}" pin 192.0.2.0/24 iw=-1
bad "is not pinned" "${L[@]}" unpin 192.0.2.0/24
bad "unknown option '--bogus'" "${L[@]}" report --bogus
bad "unknown command 'frobnicate'" "${L[@]}" frobnicate
bad "expected epoch seconds" "${L[@]}" export --from yesterday
bad "expected epoch seconds" "${L[@]}" export --from "1013-11-23 12:02:4" # fuzz_learnctl: overflowed
bad "expected epoch seconds" "${L[@]}" plot 192.0.2.0/24 -o "$WORK/p.svg" --to 2101-01-01
[ ! -e "$WORK/x.svg" ] || fail "plot left a file behind"
ok "unknown/malformed prefixes, pins out of bounds, bad options: exit 2, one line, nothing written"

# databases that cannot be used: missing, not SQLite, truncated, newer schema, a damaged page
cp "$DB" "$WORK/newer.db"
sqlite3 "$WORK/newer.db" "PRAGMA user_version = 99"
head -c 65536 /dev/urandom >"$WORK/garbage.db"
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
head -c 20480 "$DB" >"$WORK/truncated.db"
# one damaged page, of a table report does not read: found all the same
cp "$DB" "$WORK/damaged.db"
root=$(sqlite3 "$DB" "SELECT rootpage FROM sqlite_schema WHERE name = 'operator_log'")
psize=$(sqlite3 "$DB" "PRAGMA page_size")
head -c "$psize" /dev/urandom | dd of="$WORK/damaged.db" bs="$psize" seek=$((root - 1)) conv=notrunc 2>/dev/null
# another program's SQLite file: refused as learnd refuses it
sqlite3 "$WORK/foreign.db" "CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes VALUES (1, 'x')"
for case in "missing:No such file" "garbage:corrupt or not a learnd database" \
	    "truncated:corrupt or not a learnd database" "newer:schema version 99, newer than this learnctl knows" \
	    "damaged:is corrupt (quick_check: " "foreign:not a learnd database (another program's"; do
	f=$WORK/${case%%:*}.db
	[ "${case%%:*}" = missing ] && f=$WORK/none.db
	for cmd in "report" "report --json" "show 192.0.2.0/24" "status" "metrics" "export" \
		   "pin 192.0.2.0/24 iw=8" "unpin 192.0.2.0/24" "pause" "resume"; do
		before=$( (md5sum <"$f") 2>/dev/null || echo none)
		rc=0
		# shellcheck disable=SC2086 # cmd is split on purpose
		"$LC" -c "$WORK/learnd.conf" --db "$f" $cmd >"$WORK/out" 2>"$WORK/err" || rc=$?
		[ $rc -eq 2 ] || fail "${case%%:*} database, '$cmd': exit $rc, want 2"
		[ "$(wc -l <"$WORK/err")" -eq 1 ] && grep -q "${case#*:}" "$WORK/err" ||
			fail "${case%%:*} database, '$cmd': message: $(cat "$WORK/err")"
		[ "$before" = "$( (md5sum <"$f") 2>/dev/null || echo none)" ] || fail "${case%%:*} database, '$cmd': file changed"
		case $cmd in
		*--json) py 'import json,sys; d=json.load(sys.stdin); assert d["status"] == 2 and d["error"]' <"$WORK/out" ||
			fail "'$cmd': no JSON error object" ;;
		status) ;; # prints what it can before the error
		*) [ ! -s "$WORK/out" ] || fail "${case%%:*} database, '$cmd': wrote to stdout" ;;
		esac
	done
done
[ ! -e "$WORK/none.db" ] || fail "a missing database was created"
ok "missing, garbage, truncated, newer-schema, damaged, foreign databases: exit 2 with a message, files untouched"

# ---- 6. help ----
"$LC" --help | grep -q '^  report ' || fail "learnctl --help lists no commands"
for cmd in report show status pin unpin pause resume metrics export plot; do
	"$LC" "$cmd" --help >"$WORK/help" || fail "$cmd --help: exit status"
	"$LC" help "$cmd" | cmp -s - "$WORK/help" || fail "'help $cmd' differs from '$cmd --help'"
	grep -q "^  learnctl $cmd" "$WORK/help" || fail "$cmd --help: no synopsis"
	# every option the page lists must be accepted by the command
	for opt in $(grep -oE -- '--[a-z][a-z-]+' "$WORK/help" | sort -u); do
		rc=0
		# in $WORK: "--output x" writes a file x
		(cd "$WORK" && "$LC" -c "$WORK/learnd.conf" "$cmd" "$opt" x) >/dev/null 2>"$WORK/err" </dev/null || rc=$?
		grep -q "unknown option" "$WORK/err" && fail "$cmd --help lists $opt, which $cmd rejects"
		true
	done
done
ok "--help for learnctl and every command; every listed option is accepted"
echo "PASS: $NAME"
