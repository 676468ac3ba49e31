#!/bin/bash
# test_docs_tracker: README.md, docs/ and man/ describe the product, not the
# tracker: no "issue N", "issue #N", "issue 16's", "the issue's" in them.
set -euo pipefail
NAME=docs_tracker
SRC=${LEARND_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
hits=$(grep -rnIiE "\bissues? ?#?[0-9]+|\bthe issue'?s\b" "$SRC/README.md" "$SRC/docs" "$SRC/man" || true)
if [ -n "$hits" ]; then
	echo "FAIL: $NAME: tracker references in the docs:" >&2
	echo "$hits" >&2
	exit 1
fi
echo "PASS: $NAME"
