#!/usr/bin/env bash
# gigarun trains the hand-built toy artifact: log lines, metrics.jsonl,
# evaluation, checkpoints; the loss falls; llm.c shards train the same.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
make_toy

"$gigarun" "$work/toy.wafer" --data "$work/train.bin" --val "$work/val.bin" \
  --out "$work/run" --steps 12 --eval-interval 4 --eval-steps 2 \
  --checkpoint-steps 5 >"$work/train.log" 2>"$work/train.err"
status=$?
[[ $status -eq 0 ]] || fail "training exited $status: $(cat "$work/train.err")"
cat "$work/train.log"

steps=$(grep -c '^| Step=' "$work/train.log")
[[ $steps -eq 12 ]] || fail "$steps step lines, expected 12"
grep -qE '^\| Step=1, Loss=[0-9.]+, Rate=[0-9.]+ samples/sec, GlobalRate=[0-9.]+ samples/sec, LR=[-0-9.e+]+, GradNorm=[0-9.]+, Tokens/s=[0-9]+, MFU=[0-9.]+%$' \
  "$work/train.log" || fail "step line not in gigaGPT's form"
evals=$(grep -c '^| Eval Step=' "$work/train.log")
[[ $evals -eq 3 ]] || fail "$evals eval lines, expected 3 (steps 4, 8, 12)"
grep -q 'FLOP/cycle' "$work/train.log" || fail "no MFU assumption line"
[[ ! -s "$work/train.err" ]] || fail "stderr not empty: $(cat "$work/train.err")"
# Not a terminal: no progress bar.
if grep -q $'\r' "$work/train.log"; then fail "progress bar drawn into a file"; fi

[[ $(wc -l <"$work/run/metrics.jsonl") -eq 12 ]] || fail "metrics.jsonl lines"
python3 - "$work/run/metrics.jsonl" <<'PY' || fail "metrics.jsonl content"
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
assert [r["step"] for r in records] == list(range(1, 13))
for r in records:
    for key in ("loss", "lr", "grad_norm", "tokens_per_sec", "samples_per_sec", "mfu"):
        assert isinstance(r[key], (int, float)), key
    assert len(r["batch_offsets"]) == 4, r["batch_offsets"]
assert [r["step"] for r in records if "val_loss" in r] == [4, 8, 12]
assert records[-1]["loss"] < records[0]["loss"], "loss did not fall"
PY
for step in 5 10 12; do
  [[ -f "$work/run/checkpoint-$step.safetensors" ]] || fail "no checkpoint-$step"
done
[[ $(ls "$work/run" | grep -c tmp) -eq 0 ]] || fail "temporary files left"

# The same tokens as an llm.c shard give the same run.
"$gigarun" "$work/toy.wafer" --data "$work/train-llmc.bin" --out "$work/llmc" \
  --steps 3 --quiet >"$work/llmc.log" 2>&1 || fail "llm.c shard: $(cat "$work/llmc.log")"
[[ ! -s "$work/llmc.log" ]] || fail "--quiet printed: $(cat "$work/llmc.log")"
"$gigarun" "$work/toy.wafer" --data "$work/train.bin" --out "$work/raw" \
  --steps 3 --quiet || fail "raw run"
[[ "$(column "$work/llmc/metrics.jsonl" loss)" == "$(column "$work/raw/metrics.jsonl" loss)" ]] ||
  fail "llm.c shard and raw file train differently"

# Defaults from the config: num_steps 10, out runs/<stem>.
(cd "$work" && "$gigarun" toy.wafer --data train.bin --quiet) || fail "defaults run"
[[ $(wc -l <"$work/runs/toy/metrics.jsonl") -eq 10 ]] || fail "default steps/out"

# A disk store under a memory budget trains the same losses. The budget
# covers the whole process (~10 MiB here, ~55 under ASan), so the toy store
# fits whole; gigarun-memory-budget.sh trains a store larger than its budget.
"$gigarun" "$work/toy.wafer" --data "$work/train.bin" --out "$work/disk" \
  --steps 3 --store "$work/store" --memory-budget 128M --quiet || fail "disk store run"
[[ "$(column "$work/disk/metrics.jsonl" loss)" == "$(column "$work/raw/metrics.jsonl" loss)" ]] ||
  fail "disk store and RAM store train differently"

# --trace-step writes the step's tensors.
"$gigarun" "$work/toy.wafer" --data "$work/train.bin" --out "$work/trace" \
  --steps 2 --trace-step 2 --quiet || fail "trace run"
python3 - "$work/trace/trace-step-2.safetensors" <<'PY' || fail "trace content"
import json, struct, sys
data = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n])
assert header["tokens"]["shape"] == [4, 8] and header["tokens"]["dtype"] == "I32"
assert header["logits"]["shape"] == [2, 8, 32]
assert header["loss"]["shape"] == []
for name in ("grad.wte", "grad.h.0.w", "grad.h.1.w", "grad.head", "grad.head_bias"):
    assert name in header, name
PY

# --profile: the table after the run, its shares summing to the step.
"$gigarun" "$work/toy.wafer" --data "$work/train.bin" --out "$work/profile" \
  --steps 3 --profile >"$work/profile.log" || fail "profile run"
python3 - "$work/profile.log" <<'PY' || fail "profile table: $(cat "$work/profile.log")"
import re, sys
log = open(sys.argv[1]).read()
head = re.search(r"--profile: ([0-9.]+) ms a step over 2 step\(s\)", log)
assert head, "no --profile header over steps 2..3"
table = log.split("op (all kernels)\n")[1].split("  ms/step")[0]
rows = [re.match(r"\s+([0-9.]+)\s+([0-9.]+)%\s+(\d+)\s+(.+)", l) for l in table.splitlines()]
assert all(rows), table
ops = {r.group(4): float(r.group(1)) for r in rows}
for op in ("matmul", "optimizer update (store)", "stream-out"):
    assert op in ops, (op, sorted(ops))
share = sum(float(r.group(2)) for r in rows)
assert 99.0 <= share <= 101.0, share
PY
finish
