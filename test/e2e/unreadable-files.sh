#!/usr/bin/env bash
# Files the user may not read: one line naming the file and the reason
# ("Permission denied"), exit 1, for gigac's config, gigarun's artifact and
# data, and gigatok's tokenizer files. As root (who reads everything) the
# tools run as nobody (setpriv).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
make_toy
as_user=()
if [[ $(id -u) -eq 0 ]]; then
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  chmod 755 "$work"
fi
cp "$(dirname "${BASH_SOURCE[0]}")/configs/data-parallel.json" "$work/config.json"
mkdir -p "$work/tokenizer"
touch "$work/tokenizer/encoder.json" "$work/tokenizer/vocab.bpe"
chmod 000 "$work/config.json" "$work/toy.wafer" "$work/train.bin" "$work/tokenizer"
chmod 644 "$work/val.bin"

# expect_denied NAME TOOL ARGS...: exit 1, one line "TOOL: error: ..." that
# says Permission denied.
expect_denied() {
  local name=$1 tool=$2
  shift 2
  "${as_user[@]}" "$@" >"$work/$name.out" 2>"$work/$name.err"
  local status=$?
  if [[ $status -ne 1 ]]; then
    fail "$name: exit $status, expected 1: $(cat "$work/$name.err")"
  elif [[ $(grep -c '' "$work/$name.err") -ne 1 ]] ||
       ! grep -q "^$tool: error: .*Permission denied" "$work/$name.err"; then
    fail "$name: not one '$tool: error: ... Permission denied' line: $(cat "$work/$name.err")"
  else
    echo "ok: $name: $(cat "$work/$name.err")"
  fi
}
expect_denied config gigac "$bin/gigac" compile "$work/config.json" -o "$work/x.wafer"
expect_denied artifact gigarun "$gigarun" inspect "$work/toy.wafer"
chmod 644 "$work/toy.wafer"
expect_denied data gigarun "$gigarun" "$work/toy.wafer" --data "$work/train.bin" \
  --out "$work/run"
[[ ! -e "$work/run" ]] || fail "a refused run created its --out"
GIGA_TOKENIZER_DIR="$work/tokenizer" "${as_user[@]}" "$bin/gigatok" encode \
  "$work/val.bin" >"$work/tok.out" 2>"$work/tok.err"
status=$?
first=$(head -n 1 "$work/tok.err")
[[ $status -eq 1 && $(grep -c '' "$work/tok.err") -eq 1 &&
   $first == "gigatok: error: cannot read GPT-2 tokenizer file "*"Permission denied"* ]] ||
  fail "gigatok: exit $status: $(cat "$work/tok.err")"
echo "ok: tokenizer: $first"
chmod -R 755 "$work/tokenizer"
finish
