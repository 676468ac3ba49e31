#!/bin/bash
# test_config_docs: docs/config.md's key tables, learnd.conf(5)'s key entries and
# packaging/learnd.conf's keys say what learnd's key table (learner/lib/config.c,
# printed by config_dump --keys) and the parameter table (learnd_vocab.h, --params) hold: the same keys per section (in the
# table's order in the docs), each with its default, range and reload behaviour.
#   test_config_docs.sh CONFIG_DUMP SOURCE_DIR
set -euo pipefail
DUMP=${1:?config_dump}
SRC=${2:?source dir}
keys=$(mktemp /tmp/test_config_docs.XXXXXX)
trap 'rm -f "$keys" "$keys.params"' EXIT
"$DUMP" --keys >"$keys"
"$DUMP" --params >"$keys.params"
[ "$(wc -l <"$keys")" -ge 10 ] || { echo "FAIL: config_dump --keys printed $(wc -l <"$keys") keys" >&2; exit 1; }
python3 - "$keys" "$keys.params" "$SRC/docs/config.md" "$SRC/man/learnd.conf.5" "$SRC/packaging/learnd.conf" <<'PY'
import re, sys
keys_f, params_f, md_f, man_f, pkg_f = sys.argv[1:]
fails = []
def fail(msg): fails.append(msg)

table = {}   # section -> [row]
for line in open(keys_f):
    sec, name, typ, dflt, lo, hi, pow2, reload, help_ = line.rstrip('\n').split('\t')
    table.setdefault(sec, []).append(dict(name=name, type=typ, default=dflt, min=lo, max=hi,
                                          pow2=pow2 == 'pow2', reload=reload, help=help_))

def notations(v):
    """The ways a doc may write the number v: 1073741824, 2^30, 10^7."""
    v = int(v)
    out = {str(v)}
    for base in (2, 10):
        e, x = 0, 1
        while x < v:
            x *= base; e += 1
        if x == v and e > 1:
            out.add('%d^%d' % (base, e))
    return out

def range_ok(text, k):
    return any(re.search(r'(?<![\d^])' + re.escape(a) + r'\.\.' + re.escape(b) + r'(?![\d^])', text)
               for a in notations(k['min']) for b in notations(k['max']))

# docs/config.md: one table per section, under "## `[SECTION]`"
md = open(md_f).read()
for sec, rows in table.items():
    m = re.search(r'^## `\[' + re.escape(sec) + r'\]`\n(.*?)(?=^## |\Z)', md, re.S | re.M)
    if not m:
        fail('docs/config.md: no "## `[%s]`" section' % sec); continue
    doc = []
    for line in m.group(1).split('\n'):
        cells = [c.strip() for c in line.strip().strip('|').split(' | ')]
        if line.startswith('| `') and len(cells) >= 5:
            doc.append(cells)
    names = [c[0].strip('`') for c in doc]
    if names != [k['name'] for k in rows]:
        fail('docs/config.md [%s]: keys %s, the code has %s' % (sec, names, [k['name'] for k in rows]))
    for c in doc:
        k = next((k for k in rows if k['name'] == c[0].strip('`')), None)
        if not k:
            continue
        where = 'docs/config.md: %s' % k['name']
        dflt, rng, reload = c[1].strip('`'), c[2], c[3]
        if k['default'] == '' and not dflt.startswith('–'):
            fail('%s: default "%s", the code has none' % (where, dflt))
        if k['default'] != '' and dflt != k['default']:
            fail('%s: default "%s", the code has "%s"' % (where, dflt, k['default']))
        if k['type'] == 'path' and 'absolute path' not in rng:
            fail('%s: range "%s", not an absolute path' % (where, rng))
        if k['type'] == 'bool' and rng != 'true/false':
            fail('%s: range "%s", not true/false' % (where, rng))
        if k['type'] == 'u32' and not range_ok(rng, k):
            fail('%s: range "%s", the code has %s..%s' % (where, rng, k['min'], k['max']))
        if k['pow2'] != ('power of two' in rng):
            fail('%s: "power of two" %s' % (where, 'missing' if k['pow2'] else 'not in the code'))
        want = 'next start' if k['reload'] == 'restart' else 'SIGHUP'
        if reload != want:
            fail('%s: reload "%s", the code has "%s"' % (where, reload, want))

# learnd.conf(5): one ".BI key " = ..."" entry per key, under ".SH [SECTION]"
man = open(man_f).read()
for sec, rows in table.items():
    m = re.search(r'^\.SH \[' + re.escape(sec) + r'\]\n(.*?)(?=^\.SH |\Z)', man, re.S | re.M)
    if not m:
        fail('learnd.conf.5: no ".SH [%s]"' % sec); continue
    entries = re.findall(r'^\.TP\n\.BI (\S+) " = [^"]*"\n(.*?)(?=^\.TP|\Z)', m.group(1), re.S | re.M)
    names = [e[0] for e in entries]
    if names != [k['name'] for k in rows]:
        fail('learnd.conf.5 [%s]: keys %s, the code has %s' % (sec, names, [k['name'] for k in rows]))
    for name, text in entries:
        k = next((k for k in rows if k['name'] == name), None)
        if not k:
            continue
        flat = re.sub(r'\s+', ' ', text.replace('\\-', '-'))
        where = 'learnd.conf.5: %s' % name
        if k['type'] == 'u32':
            if not range_ok(flat, k):
                fail('%s: no range %s..%s in "%s"' % (where, k['min'], k['max'], flat))
            if not re.search(r'default %s\b' % k['default'], flat):
                fail('%s: no "default %s"' % (where, k['default']))
        elif k['type'] == 'bool' and 'default ' + k['default'] not in flat:
            fail('%s: no "default %s"' % (where, k['default']))
        elif k['type'] == 'path' and k['default'] and k['default'] not in flat:
            fail('%s: default %s not given' % (where, k['default']))
        if (k['reload'] == 'restart') != ('next start' in flat):
            fail('%s: "next start" %s' % (where, 'missing' if k['reload'] == 'restart' else 'said, but SIGHUP takes it'))

# packaging/learnd.conf: every key once (in an order of its own); a commented one shows the default
sec, seen = None, {}
for line in open(pkg_f):
    h = re.match(r'^;?\[(\w+)', line)
    if h:
        sec = h.group(1); continue
    m = re.match(r'^(;?)(\w+) = (.*)$', line.rstrip('\n'))
    if m and sec in table:
        seen.setdefault(sec, []).append((m.group(2), m.group(1) == ';', m.group(3)))
for sec, rows in table.items():
    got = seen.get(sec, [])
    if sorted(g[0] for g in got) != sorted(k['name'] for k in rows):
        fail('packaging/learnd.conf [%s]: keys %s, the code has %s' % (sec, [g[0] for g in got], [k['name'] for k in rows]))
    for name, commented, value in got:
        k = next((k for k in rows if k['name'] == name), None)
        if k and commented and k['default'] and value != k['default']:
            fail('packaging/learnd.conf: ;%s = %s, the built-in default is %s' % (name, value, k['default']))

# [defaults] and [prefix CIDR]: the parameters, each with its kernel limits, in
# docs/config.md's "Keys:" line and the man page's list
params = [l.rstrip('\n').split('\t') for l in open(params_f)]
m = re.search(r'^## `\[defaults\]` and `\[prefix CIDR\]`\n(.*?)(?=^## |\Z)', md, re.S | re.M)
k = re.search(r'^Keys: (.*?)\n\n', m.group(1), re.S | re.M) if m else None
md_keys = re.findall(r'`(\w+)` \(([^)]*)\)', k.group(1)) if k else []
m = re.search(r'^\.SH \[defaults\] AND \[prefix CIDR\]\nKeys:\n(.*?)\nA value', man, re.S | re.M)
man_keys = re.findall(r'^\.B (\w+)\n\(([^)]*)\)', m.group(1), re.M) if m else []
for where, got in (('docs/config.md', md_keys), ('learnd.conf.5', man_keys)):
    if [g[0] for g in got] != [p[0] for p in params]:
        fail('%s [defaults]: keys %s, the code has %s' % (where, [g[0] for g in got], [p[0] for p in params]))
    for (name, text), (pname, lo, hi) in zip(got, params):
        if not range_ok(text, dict(min=lo, max=hi)):
            fail('%s: %s (%s), the kernel limits are %s..%s' % (where, name, text, lo, hi))

for f in fails:
    print('FAIL:', f, file=sys.stderr)
if fails:
    sys.exit(1)
print('PASS: test_config_docs (%d keys in %d sections, %d parameters)' % (sum(len(r) for r in table.values()), len(table), len(params)))
PY
