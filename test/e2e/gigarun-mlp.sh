#!/usr/bin/env bash
# The runtime has no GPT-specific path: mlp.mlir, a residual MLP written by
# hand in the giga dialect (no attention, no layernorm, no config), compiles
# with gigac and trains with gigarun, and its loss falls from log(32) to
# well below half of it. The toy tokens follow t -> (5t + 3) mod 32 (with a
# restart every 97 tokens), which a per-token MLP can learn. ~2 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
make_toy
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# mlp.mlir's own schedule (20 steps at 1e-2, decaying to 1e-3) is for a
# quick compile check; train it with a longer, faster one. Only the run
# attribute changes; the model is the file's.
steps=60
run="giga.run = {learning_rate = 3.0e-2 : f64, num_steps = $steps : i64, warmup_steps = 0 : i64}"
sed -E "s/giga\.run = \{[^}]*\}/$run/" "$here/mlp.mlir" >"$work/mlp.mlir"
grep -qF "$run" "$work/mlp.mlir" ||
  { fail "mlp.mlir has no giga.run = {...} attribute to replace"; finish; }
"$bin/gigac" compile "$work/mlp.mlir" -o "$work/mlp.wafer" >"$work/gigac.log" 2>&1 ||
  { fail "gigac: $(tail -5 "$work/gigac.log")"; finish; }
"$gigarun" inspect "$work/mlp.wafer" >"$work/inspect.txt" || fail "inspect"
grep -qE "^  train_step\(tokens i32 \[[0-9]+, [0-9]+\] in \[0, 32\)" "$work/inspect.txt" ||
  fail "inspect: not the vocabulary-32 MLP (no train_step taking ids below 32)"

"$gigarun" "$work/mlp.wafer" --data "$work/train.bin" --val "$work/val.bin" \
  --eval-interval 20 --eval-steps 4 --out "$work/run" >"$work/train.log" 2>&1 ||
  { fail "train: $(tail -3 "$work/train.log")"; finish; }
grep -E 'Step=(1|20|40|60),|Eval' "$work/train.log"
python3 - "$work/run/metrics.jsonl" "$steps" <<'PY' || fail "the MLP's loss did not fall"
import json, math, sys
records = [json.loads(line) for line in open(sys.argv[1])]
assert len(records) == int(sys.argv[2]), f"{len(records)} steps"
first, last = records[0]["loss"], records[-1]["loss"]
# Untrained, the logits are ~0: the loss is log(32) = 3.466.
assert abs(first - math.log(32)) < 0.05, f"first loss {first}, expected ~log(32)"
assert last < 0.5 * first and last < math.log(32) - 1.0, f"loss {first} -> {last}"
val = records[-1].get("val_loss")
assert val is not None and val < 0.5 * math.log(32), f"val_loss {val}"
print(f"loss {first:.4f} -> {last:.4f}, val_loss {val:.4f}")
PY
finish
