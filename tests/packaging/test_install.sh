#!/bin/bash
# Installation and packaging (issue 8):
#  1. cmake --install into a DESTDIR: exactly the expected files, with the right
#     modes; the unit's paths match the prefix; systemd-analyze verify on it;
#     the example configuration is accepted by the installed learnd.
#  2. man pages render with man -l without warnings, and mention every option
#     of learnd --help, learnctl --help and each learnctl COMMAND --help, every
#     learnctl command and every key of docs/config.md.
#  3. (root) cpack -G DEB; dpkg -i; learnd --version, learnctl --help,
#     systemd-analyze verify on the installed unit; dpkg --purge; nothing left.
# The package is purged on every exit path; a learnd package installed before
# the test is never touched (the test fails instead).
set -euo pipefail

BUILD=${LEARND_BUILD:?set by ctest}
SRC=${LEARND_SRC:?set by ctest}
PREFIX=${LEARND_PREFIX:-/usr}
SBINDIR=${LEARND_SBINDIR:-sbin}
BINDIR=${LEARND_BINDIR:-bin}
MANDIR=${LEARND_MANDIR:-share/man}

TMP=$(mktemp -d /tmp/learnd_pkg.XXXXXX)
DEB_INSTALLED=0
PASSED=0

cleanup() {
	local rc=$?
	if [ "$DEB_INSTALLED" = 1 ]; then
		echo "cleanup: dpkg --purge learnd" >&2
		dpkg --purge learnd >/dev/null 2>&1 || echo "cleanup: dpkg --purge learnd FAILED" >&2
	fi
	rm -rf "$TMP"
	if [ "$PASSED" != 1 ]; then
		echo "FAIL: test_install.sh did not reach its end (rc $rc)" >&2
		exit 1
	fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# ---- 1. cmake --install into a DESTDIR ----
DEST=$TMP/root
DESTDIR=$DEST cmake --install "$BUILD" >"$TMP/install.log" 2>&1 || {
	cat "$TMP/install.log" >&2
	fail "cmake --install"
}
if [ "$PREFIX" = /usr ]; then ETC=/etc; else ETC=$PREFIX/etc; fi
UNIT=$PREFIX/lib/systemd/system/learnd.service
CONF=$ETC/learnd/learnd.conf
declare -A want=(
	["$PREFIX/$SBINDIR/learnd"]=755
	["$PREFIX/$BINDIR/learnctl"]=755
	["$UNIT"]=644
	["$CONF"]=644
	["$PREFIX/$MANDIR/man8/learnd.8"]=644
	["$PREFIX/$MANDIR/man8/learnctl.8"]=644
	["$PREFIX/$MANDIR/man5/learnd.conf.5"]=644
)
for f in "${!want[@]}"; do
	[ -f "$DEST$f" ] || fail "not installed: $f"
	mode=$(stat -c %a "$DEST$f")
	[ "$mode" = "${want[$f]}" ] || fail "$f: mode $mode, expected ${want[$f]}"
done
# and nothing else
while IFS= read -r f; do
	[ -n "${want[${f#"$DEST"}]:-}" ] || fail "unexpected file installed: ${f#"$DEST"}"
done < <(find "$DEST" -type f -o -type l)
echo "ok: cmake --install: ${#want[@]} files, modes, nothing else (prefix $PREFIX)"

"$DEST$PREFIX/$SBINDIR/learnd" --version | grep -qx "learnd [0-9.]*" || fail "installed learnd --version"
"$DEST$PREFIX/$BINDIR/learnctl" --version >/dev/null || fail "installed learnctl --version"

# the unit starts this prefix's learnd with this prefix's configuration
grep -qx "ExecStart=$PREFIX/$SBINDIR/learnd --config $CONF" "$DEST$UNIT" ||
	fail "unit ExecStart: $(grep ExecStart= "$DEST$UNIT")"
for k in Type=notify Restart=on-failure StateDirectory=learnd 'ExecReload=/bin/kill -HUP $MAINPID' \
	'CapabilityBoundingSet=CAP_BPF CAP_NET_ADMIN CAP_PERFMON'; do
	grep -qxF "$k" "$DEST$UNIT" || fail "unit: no line '$k'"
done
echo "ok: unit paths and directives"

# systemd-analyze verify: the unit as installed, with ExecStart pointing into
# the DESTDIR (the binary must exist and be executable) and man pages found
# there (Documentation=man:...).  Any output (unknown keys, ...) is a failure.
verify_unit() { # unit file, MANPATH
	local out rc=0
	out=$(MANPATH=$2 SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$1" 2>&1) || rc=$?
	[ "$rc" = 0 ] && [ -z "$out" ] || fail "systemd-analyze verify $1 (rc $rc): $out"
}
HAVE_ANALYZE=0
if command -v systemd-analyze >/dev/null; then
	HAVE_ANALYZE=1
	mkdir -p "$TMP/unit"
	sed "s#^ExecStart=/#ExecStart=$DEST/#" "$DEST$UNIT" >"$TMP/unit/learnd.service"
	verify_unit "$TMP/unit/learnd.service" "$DEST$PREFIX/$MANDIR"
	echo "ok: systemd-analyze verify (DESTDIR unit)"
else
	echo "SKIP: systemd-analyze not found (apt-get install systemd; tools/deps.sh): unit not verified"
fi

# The example configuration parses: learnd gets past the configuration and
# stops at the (absent) cgroup, exit 2 with that message and no FILE:LINE.
check_conf() { # file, what
	local out rc=0
	out=$("$DEST$PREFIX/$SBINDIR/learnd" --config "$1" --cgroup /nonexistent/learnd-pkg-test 2>&1) || rc=$?
	[ "$rc" = 2 ] && grep -q "cgroup /nonexistent/learnd-pkg-test: No such file" <<<"$out" ||
		fail "$2 refused (rc $rc): $out"
	! grep -q "learnd.conf[^ ]*:[0-9]" <<<"$out" || fail "$2: $out"
}
check_conf "$DEST$CONF" "example configuration"
grep -q "^cgroup = /" "$DEST$CONF" || fail "example configuration sets no cgroup"
# every commented-out key too, when uncommented
sed -E 's/^;([a-z_0-9]+ = )/\1/; s/^;(\[(prefix |fleet\]))/\1/' "$DEST$CONF" >"$TMP/uncommented.conf"
cmp -s "$DEST$CONF" "$TMP/uncommented.conf" && fail "no commented keys found in the example"
check_conf "$TMP/uncommented.conf" "example configuration with every key uncommented"
echo "ok: example configuration accepted (as shipped and with every key uncommented)"

# ---- 2. man pages ----
command -v man >/dev/null || fail "man not found (apt-get install man-db; tools/deps.sh)"
render() { # page -> text; groff warnings are failures
	local out err
	err=$TMP/man.err
	out=$(LC_ALL=C MANWIDTH=200 MAN_KEEP_FORMATTING=0 man -l --warnings=w "$1" 2>"$err" | col -b) ||
		fail "man -l $1"
	[ ! -s "$err" ] || fail "man -l $1: $(cat "$err")"
	printf '%s\n' "$out"
}
M8=$DEST$PREFIX/$MANDIR/man8
M5=$DEST$PREFIX/$MANDIR/man5
render "$M8/learnd.8" >"$TMP/learnd.txt"
render "$M8/learnctl.8" >"$TMP/learnctl.txt"
render "$M5/learnd.conf.5" >"$TMP/learnd.conf.txt"

# options of a --help text: --long and -s at the start of an option line
help_opts() {
	grep -E '^ +-' | grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z-]*' | tr -d ' ,' | sort -u
}
has_word() { # file, word: as a word of its own (not inside --observe-only for -o ...)
	grep -qE -- "(^|[^a-zA-Z0-9_-])$(sed 's/[.[\*^$]/\\&/g' <<<"$2")([^a-zA-Z0-9_-]|$)" "$1"
}
n=0
for opt in $("$BUILD/learner/learnd" --help | help_opts); do
	has_word "$TMP/learnd.txt" "$opt" || fail "learnd(8) does not mention $opt (learnd --help does)"
	n=$((n + 1))
done
[ "$n" -ge 8 ] || fail "only $n options found in learnd --help"
CTL=$BUILD/learner/learnctl
cmds=$("$CTL" --help | awk '/^COMMANDS/ { on = 1; next } /^[A-Z]/ { on = 0 } on && NF { print $1 }')
[ "$(wc -w <<<"$cmds")" -ge 10 ] || fail "learnctl --help lists only: $cmds"
m=0
for opt in $( ("$CTL" --help; for c in $cmds; do "$CTL" help "$c"; done) | help_opts); do
	has_word "$TMP/learnctl.txt" "$opt" || fail "learnctl(8) does not mention $opt (learnctl --help does)"
	m=$((m + 1))
done
for c in $cmds; do
	grep -qE "^ +$c( |$)" "$TMP/learnctl.txt" || fail "learnctl(8) has no entry for the command $c"
done
# learnd.conf(5): every key of docs/config.md's tables, and metrics_file
keys=$(grep -oE '^\| `[a-z_0-9]+`' "$SRC/docs/config.md" | tr -d '|` ' | sort -u)
[ "$(wc -w <<<"$keys")" -ge 14 ] || fail "docs/config.md: keys not found: $keys"
for k in $keys metrics_file iw rwnd syn_rto_ms base_rtt_us; do
	grep -qE "^ +$k = " "$TMP/learnd.conf.txt" || has_word "$TMP/learnd.conf.txt" "$k" ||
		fail "learnd.conf(5) does not describe '$k' (docs/config.md does)"
	grep -qE "^;?$k = " "$DEST$CONF" || fail "the example configuration does not show '$k'"
done
echo "ok: man pages render; $n learnd options, $m learnctl options, $(wc -w <<<"$cmds") commands, $(wc -w <<<"$keys") config keys documented"

# ---- 3. the Debian package ----
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the .deb part needs root (dpkg -i)"
	PASSED=1
	echo "PASS (without the .deb part)"
	exit 0
fi
if dpkg-query -W -f='${Status}' learnd 2>/dev/null | grep -q installed; then
	fail "a learnd package is installed already: not touching it (dpkg --purge learnd first)"
fi
cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$TMP/pkg" >"$TMP/cpack.log" 2>&1 || {
	cat "$TMP/cpack.log" >&2
	fail "cpack -G DEB"
}
rm -rf "$TMP/pkg/_CPack_Packages"
DEB=$(find "$TMP/pkg" -maxdepth 1 -name 'learnd_*.deb')
[ -n "$DEB" ] && [ "$(wc -l <<<"$DEB")" = 1 ] || fail "cpack made no single learnd_*.deb: $(ls "$TMP/pkg")"
deps=$(dpkg-deb -f "$DEB" Depends)
for lib in libbpf1 libc6 libinih1 libsqlite3-0; do
	grep -q "$lib" <<<"$deps" || fail "Depends lacks $lib: $deps"
done
dpkg-deb -e "$DEB" "$TMP/ctl"
grep -qx /etc/learnd/learnd.conf "$TMP/ctl/conffiles" || fail "learnd.conf is not a conffile"
# the package's files are the /usr install's
dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort >"$TMP/deb.files"
printf '%s\n' /usr/sbin/learnd /usr/bin/learnctl /usr/lib/systemd/system/learnd.service /etc/learnd/learnd.conf \
	/usr/share/man/man8/learnd.8 /usr/share/man/man8/learnctl.8 /usr/share/man/man5/learnd.conf.5 |
	sort >"$TMP/deb.want"
diff -u "$TMP/deb.want" "$TMP/deb.files" >&2 || fail "the .deb's files differ from the expected list"
echo "ok: $(basename "$DEB"): Depends: $deps"

DEB_INSTALLED=1 # from here on, cleanup purges
dpkg -i "$DEB" >"$TMP/dpkg.log" 2>&1 || {
	cat "$TMP/dpkg.log" >&2
	fail "dpkg -i"
}
/usr/sbin/learnd --version | grep -qx "learnd [0-9.]*" || fail "learnd --version after dpkg -i"
/usr/bin/learnctl --help | grep -q "^  learnctl - " || fail "learnctl --help after dpkg -i"
man -w learnd.conf >/dev/null 2>&1 || echo "note: man -w learnd.conf does not find the page (mandb not run)"
if [ "$HAVE_ANALYZE" = 1 ]; then
	verify_unit /usr/lib/systemd/system/learnd.service ""
	echo "ok: systemd-analyze verify (installed unit)"
fi
[ ! -e /etc/systemd/system/multi-user.target.wants/learnd.service ] || fail "the package enabled the unit"
dpkg -L learnd >"$TMP/dpkg.L"
dpkg --purge learnd >"$TMP/dpkg.log" 2>&1 || {
	cat "$TMP/dpkg.log" >&2
	fail "dpkg --purge"
}
DEB_INSTALLED=0
left=""
while IFS= read -r f; do
	[ -e "$f" ] || continue
	[ -d "$f" ] && [ "$(ls -A "$f")" ] && continue # a shared directory (/usr/bin, ...)
	left="$left $f"
done <"$TMP/dpkg.L"
[ -z "$left" ] || fail "left after dpkg --purge:$left"
[ ! -e /etc/learnd ] && [ ! -e /var/lib/learnd ] || fail "/etc/learnd or /var/lib/learnd left after purge"
! dpkg-query -W learnd >/dev/null 2>&1 || fail "dpkg still knows learnd after purge"
echo "ok: dpkg -i, learnd --version, learnctl --help, dpkg --purge: nothing left ($(wc -l <"$TMP/dpkg.L") paths checked)"

PASSED=1
echo PASS
