#!/usr/bin/env bash
# Stop a run mid-way as a kill would (--debug-exit-after-step 7, checkpoints
# every 3 steps: no final checkpoint), resume it, and compare with an
# uninterrupted run: every loss, gradient norm, learning rate, window and
# validation loss is the same, bit for bit.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
make_toy
args=(--data "$work/train.bin" --val "$work/val.bin" --steps 12
      --checkpoint-steps 3 --eval-interval 4 --eval-steps 2 --quiet)

"$gigarun" "$work/toy.wafer" "${args[@]}" --out "$work/whole" || fail "uninterrupted run"

"$gigarun" "$work/toy.wafer" "${args[@]}" --out "$work/killed" \
  --debug-exit-after-step 7 || fail "the stopped run exited $?"
[[ $(wc -l <"$work/killed/metrics.jsonl") -eq 7 ]] || fail "killed run metrics"
[[ -f "$work/killed/checkpoint-6.safetensors" ]] || fail "no checkpoint-6"
[[ ! -e "$work/killed/checkpoint-12.safetensors" ]] || fail "a final checkpoint"

"$gigarun" "$work/toy.wafer" "${args[@]}" --out "$work/killed" --resume \
  >"$work/resume.log" 2>&1 || fail "resume: $(cat "$work/resume.log")"

for key in step loss lr grad_norm batch_offsets val_loss; do
  if ! diff <(column "$work/whole/metrics.jsonl" $key) \
            <(column "$work/killed/metrics.jsonl" $key) >"$work/diff-$key"; then
    fail "resumed run differs in $key: $(head -5 "$work/diff-$key")"
  fi
done
echo "losses: $(column "$work/killed/metrics.jsonl" loss | tr '\n' ' ')"

# A checkpoint records its matmul precision; resuming in another warns (the
# run goes on, but not bit for bit). Needs a CPU with bf16 for the other one.
"$gigarun" "$work/toy.wafer" "${args[@]}" --out "$work/fp32" --precision fp32 \
  --debug-exit-after-step 4 || fail "fp32 run"
if "$gigarun" "$work/toy.wafer" "${args[@]}" --out "$work/fp32" --resume \
     --precision bf16 >"$work/bf16.log" 2>&1; then
  grep -q "was trained with fp32 matmuls, this run uses bf16" "$work/bf16.log" ||
    fail "no warning when resuming fp32 in bf16: $(cat "$work/bf16.log")"
elif grep -q -- "--precision bf16 needs a CPU" "$work/bf16.log"; then
  echo "skip: the precision warning (this CPU has no bf16 arithmetic)"
else
  fail "resume in bf16: $(cat "$work/bf16.log")"
fi
"$gigarun" "$work/toy.wafer" "${args[@]}" --out "$work/killed" --resume \
  --precision auto >"$work/same.log" 2>&1 || true
if grep -q "matmuls, this run uses" "$work/same.log"; then
  fail "a warning though the precision is the same: $(cat "$work/same.log")"
fi

# --resume with a checkpoint of another model or another program.
expect_user_error resume-other-model "another model" \
  "$gigarun" "$work/wide.wafer" "${args[@]}" --out "$work/killed" --resume
expect_user_error resume-other-artifact "another artifact" \
  "$gigarun" "$work/remicro.wafer" "${args[@]}" --out "$work/killed" --resume
expect_user_error resume-nothing "no checkpoint" \
  "$gigarun" "$work/toy.wafer" "${args[@]}" --out "$work/empty" --resume
[[ ! -e "$work/empty" ]] || fail "--resume without a run created its --out"
expect_user_error fresh-over-run "--resume" \
  "$gigarun" "$work/toy.wafer" "${args[@]}" --out "$work/whole"

# A newest checkpoint cut short (a full disk): the message says to remove
# it and names the one before, and doing so resumes; metrics are untouched.
cp -r "$work/whole" "$work/cut"
by_step() { (cd "$work/cut" && ls checkpoint-*.safetensors | sort -t- -k2 -n); }
newest=$work/cut/$(by_step | tail -1)
previous=$work/cut/$(by_step | tail -2 | head -1)
truncate -s 100 "$newest"
lines=$(wc -l <"$work/cut/metrics.jsonl")
expect_user_error resume-truncated "remove it (rm $newest) to resume from $previous, the one before" \
  "$gigarun" "$work/toy.wafer" "${args[@]}" --out "$work/cut" --resume
[[ $(wc -l <"$work/cut/metrics.jsonl") -eq $lines ]] || fail "a failed --resume changed metrics.jsonl"
rm "$newest"
"$gigarun" "$work/toy.wafer" "${args[@]}" --out "$work/cut" --resume --quiet ||
  fail "resume from the checkpoint before the truncated one"

# A newest checkpoint whose metadata names a step before 1: refused, naming
# the file, and metrics.jsonl keeps every line.
cp -r "$work/whole" "$work/badstep"
newest=$work/badstep/checkpoint-12.safetensors
/usr/bin/python3 - "$newest" <<'PY' || fail "rewriting the checkpoint's step"
import json, struct, sys
data = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
giga = json.loads(header["__metadata__"]["giga"])
giga["step"] = -7
header["__metadata__"]["giga"] = json.dumps(giga)
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(text)) + text + data[8 + n:])
PY
lines=$(wc -l <"$work/badstep/metrics.jsonl")
expect_user_error resume-bad-step "$newest: its metadata says step -7"   "$gigarun" "$work/toy.wafer" "${args[@]}" --out "$work/badstep" --resume
[[ $(wc -l <"$work/badstep/metrics.jsonl") -eq $lines ]] ||
  fail "a refused --resume truncated metrics.jsonl"
finish
