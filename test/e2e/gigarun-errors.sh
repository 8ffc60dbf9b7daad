#!/usr/bin/env bash
# Every bad input is one line on stderr naming the file or flag and the
# fix, exit status 1, and nothing half-written: no --out directory appears.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
make_toy
toy="$work/toy.wafer"
data=(--data "$work/train.bin")

run_error() { # NAME SUBSTRING ARGS... (with a fresh --out that must stay absent)
  local name=$1 want=$2
  shift 2
  expect_user_error "$name" "$want" "$gigarun" "$@" --out "$work/out-$name"
  [[ ! -e "$work/out-$name" ]] || fail "$name: created $work/out-$name"
}

# Artifacts.
run_error missing-artifact "$work/nope.wafer" "$work/nope.wafer" "${data[@]}"
head -c 100 "$toy" >"$work/truncated.wafer"
run_error truncated-artifact "truncated" "$work/truncated.wafer" "${data[@]}"
cp "$toy" "$work/corrupt.wafer"
printf '\xff' | dd of="$work/corrupt.wafer" bs=1 seek=200 conv=notrunc status=none
run_error corrupt-artifact "checksum" "$work/corrupt.wafer" "${data[@]}"
run_error not-an-artifact "bad magic" "$work/train.bin" "${data[@]}"
# A --data file truncated in place while training (numpy's tofile() does
# that) faulted with SIGBUS in the batch reader; now one clear line.
python3 -c 'import array, sys; open(sys.argv[1], "wb").write(array.array("H", list(range(32)) * 12500).tobytes())' "$work/shrinking.bin"
"$gigarun" "$toy" --data "$work/shrinking.bin" --steps 100000000 --checkpoint-steps 0 \
  --out "$work/shrinking" --quiet 2>"$work/shrinking.err" &
trainer=$!
# Truncate once it trains (a step in metrics.jsonl); give it 20 s to notice.
for _ in $(seq 200); do
  [[ -s $work/shrinking/metrics.jsonl ]] && break
  sleep 0.1
done
truncate -s 1000 "$work/shrinking.bin"
for _ in $(seq 200); do
  kill -0 "$trainer" 2>/dev/null || break
  sleep 0.1
done
kill "$trainer" 2>/dev/null
wait "$trainer"
status=$?
if [[ $status -ne 1 ]] || ! grep -q "shrinking.bin shrank while it was being read" "$work/shrinking.err"; then
  fail "data truncated while training: exit $status, $(cat "$work/shrinking.err")"
else
  echo "ok: data-truncated-while-training: $(cat "$work/shrinking.err")"
fi
run_error huge-tensor "params[0].shape: more than 2^56 elements" "$work/huge.wafer" "${data[@]}"
# An artifact of an older format (version 1 had no model FLOPs): recompile.
cp "$toy" "$work/old.wafer"
printf '\x01' | dd of="$work/old.wafer" bs=1 seek=8 conv=notrunc status=none
run_error old-artifact "recompile it with this gigac" "$work/old.wafer" "${data[@]}"
# A flag in the header (bytes 12..15), which no gigac writes.
cp "$toy" "$work/flagged.wafer"
printf '\x01' | dd of="$work/flagged.wafer" bs=1 seek=12 conv=notrunc status=none
run_error flagged-artifact "header flags 1" "$work/flagged.wafer" "${data[@]}"
# Payloads of a million nested CBOR arrays, of indefinite-length byte
# strings, or of arrays that claim 2^32 items, behind a valid header and
# checksum (found by the artifact fuzzer): they overflowed the stack of the
# recursive CBOR reader; now refused by depth.
for nesting in 81 5f 9affffffff; do
  python3 - "$toy" "$work/nested-$nesting.wafer" "$nesting" <<'PY'
import struct, sys
header = open(sys.argv[1], "rb").read(16)[:12]
payload = bytes.fromhex(sys.argv[3]) * 1000000 + b"\xf6"
digest = 14695981039346656037
for byte in payload:
    digest = ((digest ^ byte) * 1099511628211) % 2**64
open(sys.argv[2], "wb").write(header + struct.pack("<IQQ", 0, len(payload), digest) + payload)
PY
  run_error "nested-$nesting-artifact" "nested deeper than 64 levels" "$work/nested-$nesting.wafer" "${data[@]}"
done
: >"$work/empty.wafer"
run_error empty-artifact "empty.wafer" "$work/empty.wafer" "${data[@]}"

# Data.
run_error missing-data "$work/nope.bin" "$toy" --data "$work/nope.bin"
run_error bad-token "bad-token.bin" "$toy" --data "$work/bad-token.bin"
run_error short-data "short.bin" "$toy" --data "$work/short.bin"
run_error odd-data "odd.bin" "$toy" --data "$work/odd.bin"
run_error wrong-format "toy.wafer" "$toy" --data "$toy"
run_error bad-val "short.bin" "$toy" "${data[@]}" --val "$work/short.bin"
# A FIFO with no writer: refused at once, not a wait in open() (issue 15).
mkfifo "$work/fifo.bin"
expect_user_error fifo-data "not a regular file" \
  timeout 10 "$gigarun" "$toy" --data "$work/fifo.bin" --out "$work/out-fifo"
timeout 10 "$bin/gigatok" show "$work/fifo.bin" 2>"$work/gigatok-fifo.err"
status=$?
[[ $status -eq 1 ]] && grep -q "^gigatok: error: .*not a regular file" "$work/gigatok-fifo.err" ||
  fail "gigatok show FIFO: exit $status: $(cat "$work/gigatok-fifo.err")"
run_error directory-data "not a regular file" "$toy" --data "$work"

# Options.
run_error budget-garbage "--memory-budget" "$toy" "${data[@]}" --memory-budget lots
run_error budget-unit "--memory-budget" "$toy" "${data[@]}" --memory-budget 12Q
run_error budget-too-small "--store" "$toy" "${data[@]}" --memory-budget 1K
run_error steps-zero "--steps" "$toy" "${data[@]}" --steps 0
run_error steps-garbage "--steps" "$toy" "${data[@]}" --steps many
# Numbers CLI11 alone would wrap or saturate (issue 15): refused, not run.
run_error steps-overflow "'99999999999999999999' is not a whole number" \
  "$toy" "${data[@]}" --steps 99999999999999999999
run_error seed-negative "--seed: '-1' is not a whole number" "$toy" "${data[@]}" --seed -1
run_error eval-steps-negative "--eval-steps: '-2'" "$toy" "${data[@]}" --eval-steps -2
run_error budget-empty "--memory-budget '' is not a size" "$toy" "${data[@]}" --memory-budget ""
run_error unknown-flag "--frobnicate" "$toy" "${data[@]}" --frobnicate
run_error precision-garbage "--precision" "$toy" "${data[@]}" --precision fp16
# bf16 where oneDNN sees no bf16 arithmetic (held to AVX2 here, as on an AMD
# EPYC): refused before anything is written, naming the flag and the way out.
ONEDNN_MAX_CPU_ISA=AVX2 run_error precision-bf16-unsupported "--precision fp32 or auto" \
  "$toy" "${data[@]}" --precision bf16
run_error no-data "--data" "$toy"
run_error trace-out-of-range "--trace-step" "$toy" "${data[@]}" --steps 2 --trace-step 5
run_error debug-exit-out-of-range "--debug-exit-after-step" "$toy" "${data[@]}" --steps 2 --debug-exit-after-step 5
run_error resume-and-init "--init" "$toy" "${data[@]}" --resume --init "$work/x.safetensors"
run_error init-missing "x.safetensors" "$toy" "${data[@]}" --init "$work/x.safetensors"
run_error init-not-safetensors "not a safetensors" "$toy" "${data[@]}" --init "$work/train.bin"

# A checkpoint of another model for --init.
"$gigarun" "$work/wide.wafer" "${data[@]}" --steps 1 --out "$work/wide" --quiet || fail "wide run"
run_error init-other-model "another model" "$toy" "${data[@]}" --init "$work/wide/checkpoint-1.safetensors"

# An unwritable --out (a file is in the way; the tests may run as root).
: >"$work/afile"
expect_user_error unwritable-out "--out" "$gigarun" "$toy" "${data[@]}" --out "$work/afile/run"

# A NaN loss stops the run, names the step and keeps the last good checkpoint.
expect_user_error nan-loss "the loss is NaN" \
  "$gigarun" "$work/nan.wafer" "${data[@]}" --out "$work/nan"
grep -q "step 2" "$work/nan-loss.err" || fail "NaN message does not name step 2"
[[ -f "$work/nan/checkpoint-1.safetensors" ]] || fail "lost the good checkpoint"
[[ ! -e "$work/nan/checkpoint-2.safetensors" ]] || fail "checkpointed the NaN step"
[[ $(wc -l <"$work/nan/metrics.jsonl") -eq 1 ]] || fail "NaN step in metrics.jsonl"

# inspect on bad artifacts.
expect_user_error inspect-truncated "truncated" "$gigarun" inspect "$work/truncated.wafer"
expect_user_error inspect-corrupt "checksum" "$gigarun" inspect "$work/corrupt.wafer"
expect_user_error inspect-missing "nope.wafer" "$gigarun" inspect "$work/nope.wafer"
finish
