#!/bin/bash
# test_flowgen_args: bad arguments make flowgen (and sweep.sh) exit 2 with a one-line message
# that names the problem; --help exits 0 and documents every option. Opens no sockets to
# anywhere: every bad invocation is rejected before any traffic.
set -euo pipefail
NAME=flowgen_args
SRC=${LEARND_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LEARND_BUILD=${LEARND_BUILD:-$SRC/build}
FG=$LEARND_BUILD/tools/flowgen
WORK=$(mktemp -d /tmp/test_flowgen_args.XXXXXX)
cleanup() { local rc=$?; trap - EXIT; rm -rf "$WORK"; exit $rc; }
trap cleanup EXIT
fail() { echo "FAIL: $NAME: $*" >&2; exit 1; }
[ -x "$FG" ] || fail "flowgen not built ($FG)"

n=0
# bad WORD ARGS...: exit status 2, exactly one line on stderr containing WORD, nothing on stdout
bad() {
	local word=$1 rc=0 lines
	shift
	timeout 10 "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || rc=$?
	[ $rc -eq 2 ] || fail "'$*': exit status $rc, expected 2 (stderr: $(cat "$WORK/err"))"
	lines=$(wc -l <"$WORK/err")
	[ "$lines" -eq 1 ] || fail "'$*': $lines lines on stderr, expected 1: $(cat "$WORK/err")"
	grep -qF -- "$word" "$WORK/err" || fail "'$*': message does not name '$word': $(cat "$WORK/err")"
	[ ! -s "$WORK/out" ] || fail "'$*': wrote to stdout: $(head -c 200 "$WORK/out")"
	n=$((n + 1))
}
C=(client --server 127.0.0.1 --port 9)
bad "missing command" "$FG"
bad "unknown command 'serve'" "$FG" serve --port 1
bad "--port" "$FG" server
bad "--port" "$FG" server --port 0
bad "--port" "$FG" server --port 70000
bad "--port" "$FG" server --port abc
bad "--bind" "$FG" server --port 5000 --bind 300.1.1.1
bad "--idle-timeout" "$FG" server --port 5000 --idle-timeout -1
bad "unknown option '--frobnicate'" "$FG" server --port 5000 --frobnicate
bad "needs a value" "$FG" server --port
bad "unexpected argument 'extra'" "$FG" server --port 5000 extra
bad "--server is required" "$FG" client --port 5000
bad "--port is required" "$FG" client --server 127.0.0.1
bad "--server: bad address 'not an address'" "$FG" client --server "not an address" --port 5000
bad "--sizes: bad size '10q'" "$FG" "${C[@]}" --sizes 10k,10q
bad "--sizes: bad size '-5'" "$FG" "${C[@]}" --sizes -5
bad "--sizes: bad size '0'" "$FG" "${C[@]}" --sizes 0
bad "--sizes: empty list" "$FG" "${C[@]}" --sizes ,
bad "--dist: expected pareto:MIN:MAX:ALPHA" "$FG" "${C[@]}" --dist lognormal:1:2
bad "--dist: expected pareto:MIN:MAX:ALPHA" "$FG" "${C[@]}" --dist pareto:1k:2k
bad "MAX (1k) must be greater than MIN (2k)" "$FG" "${C[@]}" --dist pareto:2k:1k:1.2
bad "--dist: bad ALPHA 'x'" "$FG" "${C[@]}" --dist pareto:1k:2k:x
bad "--dist: bad ALPHA '0'" "$FG" "${C[@]}" --dist pareto:1k:2k:0
bad "--sizes and --dist exclude each other" "$FG" "${C[@]}" --sizes 1k --dist pareto:1k:2k:1
bad "--order" "$FG" "${C[@]}" --order shuffled
bad "--count" "$FG" "${C[@]}" --count 0
bad "--count" "$FG" "${C[@]}" --count 1.5
bad "--duration" "$FG" "${C[@]}" --duration 0
bad "--duration" "$FG" "${C[@]}" --duration soon
bad "--concurrency" "$FG" "${C[@]}" --concurrency 0
bad "--concurrency" "$FG" "${C[@]}" --concurrency 100000
bad "--rate" "$FG" "${C[@]}" --rate -3
bad "--seed" "$FG" "${C[@]}" --seed -1
bad "--path" "$FG" "${C[@]}" --path a,b
bad "--timeout" "$FG" "${C[@]}" --timeout 0
bad "--rcvbuf" "$FG" "${C[@]}" --rcvbuf lots
bad "--congestion" "$FG" "${C[@]}" --congestion ""
bad "different address families" "$FG" "${C[@]}" --bind ::1
bad "--bind: bad address" "$FG" "${C[@]}" --bind 1.2.3
bad "unknown option '--sizez'" "$FG" "${C[@]}" --sizez 10k
bad "an input file is required" "$FG" summarize
bad "--by: unknown key 'colour'" "$FG" summarize "$WORK/none.csv" --by colour
bad "--size-range" "$FG" summarize x.csv --size-range 5k
bad "--count is required" "$FG" sizes --sizes 1k
printf 'path,size\nx,1\n' >"$WORK/short.csv"
bad "missing column 'connect_us'" "$FG" summarize "$WORK/short.csv"
# sweep.sh rejects bad options before it needs root or builds anything
SW=$SRC/tools/sweep.sh
bad "--flows" bash "$SW" --flows 0
bad "--iw: bad value 'ten'" bash "$SW" --iw "0 ten"
bad "--seed" bash "$SW" --seed x
bad "unknown argument '--bogus'" bash "$SW" --bogus
bad "bad size '7z'" bash "$SW" --sizes 10k,7z
bad "--paths: cannot read" bash "$SW" --paths /nonexistent/paths
echo "ok: $n bad invocations -> exit 2 with a one-line message naming the problem"

# --help: exit 0, every option documented
"$FG" --help >"$WORK/help" || fail "--help exited $?"
for o in --port --bind --congestion --idle-timeout --server --sizes --order --dist --count \
	--duration --concurrency --rate --seed --path --out --no-header --rcvbuf --timeout \
	--srv-retrans --by --size-range --csv summarize sizes connect_us fct_us retrans ok err; do
	grep -qF -- "$o" "$WORK/help" || fail "--help does not mention $o"
done
"$FG" client --help | cmp -s - "$WORK/help" || fail "'client --help' differs from '--help'"
bash "$SW" --help | grep -qF -- "--iw" || fail "sweep.sh --help does not mention --iw"
echo "ok: --help exits 0 and documents every option"
echo "PASS: $NAME"
