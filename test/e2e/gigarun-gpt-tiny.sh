#!/usr/bin/env bash
# The real thing: gigac compiles configs/gpt-tiny.json, gigarun inspects
# it and trains it with evaluation, a simulated kill
# (--debug-exit-after-step) and a bit-exact resume.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
make_toy
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
"$bin/gigac" compile "$repo/configs/gpt-tiny.json" -o "$work/tiny.wafer" \
  >"$work/gigac.log" 2>&1 || { fail "gigac: $(tail -5 "$work/gigac.log")"; finish; }
if [[ "$(head -c 7 "$work/tiny.wafer")" != "GIGAWFR" ]]; then
  fail "gigac compile did not write a step.wafer artifact (it starts with: $(head -c 40 "$work/tiny.wafer"))"
  finish
fi
"$gigarun" inspect "$work/tiny.wafer" >"$work/inspect.txt" || fail "inspect"
grep -q '^parameters' "$work/inspect.txt" || fail "inspect output"
# MFU's numerator is the compiler's: PaLM's 6*N*tokens + 12*depth*T*width*tokens
# for this config, counted from the IR (the runtime knows no depth or width).
python3 - "$work/inspect.txt" "$repo/configs/gpt-tiny.json" <<'PY' || fail "model FLOPs per step"
import json, re, sys
text, config = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
n = int(re.search(r"^parameters \(\d+ tensors, ([\d,]+) parameters", text, re.M)[1].replace(",", ""))
flops = int(re.search(r"model FLOPs per step (\d+)", text)[1])
m, r = config["model"], config["run"]
tokens = r["batch_size"] * r["sequence_length"]
want = 6 * n * tokens + 12 * m["depth"] * r["sequence_length"] * m["width"] * tokens
assert flops == want, (flops, want)
PY

# The toy data has vocabulary 32 < 64: fine for tiny.
args=(--data "$work/train.bin" --val "$work/val.bin" --steps 20
      --checkpoint-steps 5 --eval-interval 10 --eval-steps 2)
"$gigarun" "$work/tiny.wafer" "${args[@]}" --out "$work/whole" \
  >"$work/whole.log" 2>&1 || fail "train: $(tail -3 "$work/whole.log")"
cat "$work/whole.log"
python3 - "$work/whole/metrics.jsonl" <<'PY' || fail "loss did not fall"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) == 20 and r[-1]["loss"] < r[0]["loss"], (r[0]["loss"], r[-1]["loss"])
PY
"$gigarun" "$work/tiny.wafer" "${args[@]}" --out "$work/killed" --quiet \
  --debug-exit-after-step 12 || fail "stopped run"
"$gigarun" "$work/tiny.wafer" "${args[@]}" --out "$work/killed" --resume --quiet ||
  fail "resume"
for key in loss grad_norm val_loss; do
  diff <(column "$work/whole/metrics.jsonl" $key) \
       <(column "$work/killed/metrics.jsonl" $key) >/dev/null ||
    fail "resumed tiny run differs in $key"
done
"$gigarun" "$work/tiny.wafer" --data "$work/train.bin" --steps 1 --trace-step 1 \
  --out "$work/trace" --quiet || fail "trace"
[[ -f "$work/trace/trace-step-1.safetensors" ]] || fail "no trace"

# gigarun eval: every window of val.bin; a run directory means its newest
# checkpoint. (test/parity checks the number against PyTorch.)
"$gigarun" eval "$work/tiny.wafer" --checkpoint "$work/whole" --data "$work/val.bin" \
  --json >"$work/eval-dir.json" 2>"$work/eval.err" || fail "eval: $(cat "$work/eval.err")"
"$gigarun" eval "$work/tiny.wafer" --checkpoint "$work/whole/checkpoint-20.safetensors" \
  --data "$work/val.bin" --json >"$work/eval-file.json" || fail "eval of a file"
cmp -s "$work/eval-dir.json" "$work/eval-file.json" ||
  fail "eval of the run dir is not its newest checkpoint's"
"$gigarun" eval "$work/tiny.wafer" --checkpoint "$work/whole" --data "$work/val.bin" \
  --json --store "$work/eval-store" >"$work/eval-store.json" || fail "eval --store"
cmp -s "$work/eval-dir.json" "$work/eval-store.json" ||
  fail "eval with a disk store gives another loss than in RAM"
"$gigarun" eval "$work/tiny.wafer" --checkpoint "$work/whole/checkpoint-5.safetensors" \
  --data "$work/val.bin" >"$work/eval-5.txt" || fail "eval of checkpoint 5"
cat "$work/eval-5.txt"
python3 - "$work/eval-dir.json" "$work/eval-5.txt" "$work/val.bin" <<'PY' || fail "eval numbers"
import json, math, os, re, sys
r = json.load(open(sys.argv[1]))
tokens = os.path.getsize(sys.argv[3]) // 2
T = 8  # gpt-tiny's sequence_length
assert r["windows"] == (tokens - 1) // T and r["predictions"] == r["windows"] * T, r
assert math.isclose(r["perplexity"], math.exp(r["loss"]), rel_tol=1e-6), r
early = float(re.search(r"loss ([0-9.]+), perplexity", open(sys.argv[2]).read())[1])
assert r["loss"] < early, ("training did not lower the eval loss", early, r["loss"])
PY
expect_user_error eval-other-model "--checkpoint" \
  "$gigarun" eval "$work/toy.wafer" --checkpoint "$work/whole" --data "$work/val.bin"
expect_user_error eval-no-checkpoints "no checkpoint-N.safetensors" \
  "$gigarun" eval "$work/tiny.wafer" --checkpoint "$work" --data "$work/val.bin"
expect_user_error eval-no-data "--data is required" \
  "$gigarun" eval "$work/tiny.wafer" --checkpoint "$work/whole"
expect_user_error eval-missing-data "nowhere.bin" \
  "$gigarun" eval "$work/tiny.wafer" --checkpoint "$work/whole" --data "$work/nowhere.bin"
finish
