# Helpers for the gigarun end-to-end tests (sourced).
#   GIGA_BIN_DIR  where gigarun (and gigac) are
#   E2E_MAKE_TOY  the giga-e2e-make-toy helper
#   E2E_WORK_DIR  a scratch folder for this test (emptied first)
set -uo pipefail

bin=${GIGA_BIN_DIR:?set GIGA_BIN_DIR}
gigarun="$bin/gigarun"
work=${E2E_WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/giga-e2e.XXXXXX")}
rm -rf "$work"
mkdir -p "$work"
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

finish() {
  if [[ $failures -gt 0 ]]; then
    echo "$failures check(s) failed; files in $work" >&2
    exit 1
  fi
  echo "all checks passed"
  exit 0
}

make_toy() {
  "${E2E_MAKE_TOY:?set E2E_MAKE_TOY}" "$work" || {
    echo "cannot make the toy inputs" >&2
    exit 1
  }
}

# expect_user_error NAME SUBSTRING CMD... : CMD exits 1 with exactly one
# line on stderr, "gigarun: error: ...", containing SUBSTRING.
expect_user_error() {
  local name=$1 want=$2
  shift 2
  "$@" >"$work/$name.out" 2>"$work/$name.err"
  local status=$?
  local lines
  lines=$(wc -l <"$work/$name.err")
  if [[ $status -ne 1 ]]; then
    fail "$name: exit status $status, expected 1 (stderr: $(cat "$work/$name.err"))"
  elif [[ $lines -ne 1 ]]; then
    fail "$name: $lines lines on stderr, expected 1: $(cat "$work/$name.err")"
  elif ! grep -q '^gigarun: error: ' "$work/$name.err"; then
    fail "$name: stderr does not start with 'gigarun: error: ': $(cat "$work/$name.err")"
  elif ! grep -qF -- "$want" "$work/$name.err"; then
    fail "$name: stderr lacks '$want': $(cat "$work/$name.err")"
  else
    echo "ok: $name: $(cat "$work/$name.err")"
  fi
}

# The column `key` of a metrics.jsonl, one value per line, as written.
column() {
  python3 -c '
import json, sys
for line in open(sys.argv[1]):
    record = json.loads(line)
    print(repr(record.get(sys.argv[2])))' "$1" "$2"
}
