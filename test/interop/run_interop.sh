#!/usr/bin/env bash
# GPT-2 weights in Hugging Face's and llm.c's layouts (docs/interop.md):
#   run_interop.sh CONFIG.json
# makes random weights in each layout with gpt2_layouts.py (a reference
# GPT-2 in Hugging Face's layout, and llm.c's order), then checks that
#   - gigarun sample and eval on each file give the reference's logits and
#     loss (1e-5 relative; bf16 and f16 files against the reference on the
#     same rounded weights);
#   - training from --init has the reference's loss at step 1;
#   - export writes the checkpoint's weights exactly, and importing the
#     exports gives bit-identical losses and logits;
#   - bad files are one error line naming the tensor and both shapes, and
#     nothing is written.
# Environment: GIGA_BIN_DIR, GIGA_PYTHON, E2E_WORK_DIR. Exit 77: no torch.
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=$(realpath "$1")
python=${GIGA_PYTHON:-/usr/bin/python3}
layouts="$here/gpt2_layouts.py"
if ! "$python" -c 'import torch, numpy' 2>/dev/null; then
  echo "interop: SKIP: $python cannot import torch and numpy (install python3-torch)" >&2
  exit 77
fi
prompt=3,1,4,1,5
loss_of() { "$python" -c 'import json, sys; print(repr(json.load(open(sys.argv[1]))["loss"]))' "$1"; }
# variant OUT KEY VALUE: the config with model.KEY = VALUE (JSON).
variant() {
  "$python" -c 'import json, sys; c = json.load(open(sys.argv[1])); c["model"][sys.argv[3]] = json.loads(sys.argv[4]); json.dump(c, open(sys.argv[2], "w"))' \
    "$config" "$1" "$2" "$3"
}

must() { # NAME CMD...: CMD succeeds, else its output is shown
  local name=$1
  shift
  "$@" >"$work/$name.log" 2>&1 || { fail "$name: $* ($(tail -n 5 "$work/$name.log"))"; return 1; }
}
check() { # CMD... of gpt2_layouts.py: prints its verdicts
  "$python" "$layouts" "$@" || fail "gpt2_layouts.py $1 ${3:-}"
}

must make "$python" "$layouts" make "$config" "$work" || finish
must gigac-train "$bin/gigac" compile "$config" -o "$work/train.wafer" || finish
must gigac-gen "$bin/gigac" compile "$config" --task generate --prefill-chunk 3 \
  -o "$work/gen.wafer" || finish

sample() { # FILE LOGITS OUT [FLAGS...]
  local file=$1 logits=$2 out=$3
  shift 3
  "$gigarun" sample "$work/gen.wafer" --checkpoint "$file" --prompt-tokens "$prompt" \
    --temperature 0 --max-new-tokens 6 --precision fp32 --logits "$logits" "$@" \
    >"$out" 2>"$out.err" || fail "sample $file: $(cat "$out.err")"
}
evaluate() { # FILE JSON
  "$gigarun" eval "$work/train.wafer" --checkpoint "$1" --data "$work/tokens.bin" \
    --precision fp32 --json >"$2" 2>"$2.err" || fail "eval $1: $(cat "$2.err")"
}

# Each layout, detected from the file.
for file in hf-f32/model.safetensors hf-prefixed.safetensors hf-bf16.safetensors \
  hf-f16.safetensors llmc-v3.bin llmc-v5.bin; do
  name=${file//\//-}
  sample "$work/$file" "$work/$name.logits" "$work/$name.out"
  check logits "$config" "$work/$file" "$work/$name.out" "$work/$name.logits" --prompt "$prompt"
  evaluate "$work/$file" "$work/$name.loss"
  check loss "$config" "$work/$file" "$work/tokens.bin" "$work/$name.loss"
done

# Fine-tuning from an import continues from its weights.
"$gigarun" "$work/train.wafer" --init "$work/hf-f32/model.safetensors" --data "$work/tokens.bin" \
  --steps 3 --trace-step 1 --precision fp32 --out "$work/tuned" --quiet ||
  fail "training from --init hf"
check step1 "$config" "$work/hf-f32/model.safetensors" "$work/tuned"
"$gigarun" "$work/train.wafer" --init "$work/llmc-v3.bin" --init-format llmc \
  --data "$work/tokens.bin" --steps 1 --trace-step 1 --precision fp32 --out "$work/tuned-llmc" \
  --quiet || fail "training from --init llmc"
check step1 "$config" "$work/llmc-v3.bin" "$work/tuned-llmc"

# Export, and back: the same weights bit for bit, so the same numbers.
checkpoint=$(ls "$work"/tuned/checkpoint-*.safetensors | tail -n 1)
must export-hf "$gigarun" export "$work/tuned" --format hf -o "$work/exported-hf"
must export-llmc "$gigarun" export "$work/tuned" --format llmc -o "$work/exported.bin"
check exported "$checkpoint" "$work/exported-hf" "$work/exported.bin"
evaluate "$checkpoint" "$work/giga.loss"
sample "$checkpoint" "$work/giga.logits" "$work/giga.out"
for file in exported-hf/model.safetensors exported.bin; do
  name=${file//\//-}
  evaluate "$work/$file" "$work/$name.loss"
  sample "$work/$file" "$work/$name.logits" "$work/$name.out"
  if cmp -s "$work/giga.logits" "$work/$name.logits" &&
    [[ $(loss_of "$work/giga.loss") == $(loss_of "$work/$name.loss") ]]; then
    echo "ok: round trip through $file: bit-identical loss and logits"
  else
    fail "round trip through $file: loss $(loss_of "$work/$name.loss"), giga's $(loss_of "$work/giga.loss")"
  fi
done
# The exported Hugging Face file in the reference gives giga's logits.
check logits "$config" "$work/exported-hf/model.safetensors" "$work/giga.out" "$work/giga.logits" \
  --prompt "$prompt"
must export-bf16 "$gigarun" export "$checkpoint" --format llmc --dtype bf16 -o "$work/exported-v5.bin"
must export-hf-bf16 "$gigarun" export "$checkpoint" --format hf --dtype bf16 -o "$work/exported-hf-bf16"
check exported "$checkpoint" "$work/exported-hf-bf16" "$work/exported-v5.bin" --dtype bf16
must export-hf-f16 "$gigarun" export "$checkpoint" --format hf --dtype f16 -o "$work/exported-hf-f16"
check exported "$checkpoint" "$work/exported-hf-f16" - --dtype f16
sample "$work/exported-v5.bin" "$work/v5.logits" "$work/v5.out"
check logits "$config" "$work/exported-v5.bin" "$work/v5.out" "$work/v5.logits" --prompt "$prompt"

# Bad files: one line naming the tensor and both shapes; no --out made.
variant "$work/wide.json" width 48
must gigac-wide "$bin/gigac" compile "$work/wide.json" -o "$work/wide.wafer"
init_error() { # NAME SUBSTRING FILE [FLAGS...]
  local name=$1 want=$2 file=$3
  shift 3
  expect_user_error "$name" "$want" "$gigarun" "${WAFER:-$work/train.wafer}" --init "$file" \
    --data "$work/tokens.bin" --out "$work/out-$name" "$@"
  [[ ! -e "$work/out-$name" ]] || fail "$name: created $work/out-$name"
}
WAFER=$work/wide.wafer init_error hf-shape \
  "tensor wte.weight has shape [100, 32], but the compiled model needs [100, 48]" \
  "$work/hf-f32/model.safetensors"
WAFER=$work/wide.wafer init_error llmc-shape \
  "holds wte.weight as [100, 32], but the compiled model's is [100, 48]" "$work/llmc-v3.bin"
init_error hf-untied "lm_head.weight that differs from wte.weight" "$work/hf-untied.safetensors"
init_error hf-extra "has tensor h.0.mlp.gate.weight, which GPT-2 does not have" \
  "$work/hf-extra.safetensors"
head -c 5000 "$work/llmc-v3.bin" >"$work/llmc-short.bin"
init_error llmc-truncated "(truncated?)" "$work/llmc-short.bin"
cp "$work/llmc-v3.bin" "$work/llmc-v9.bin"
printf '\x09' | dd of="$work/llmc-v9.bin" bs=1 seek=4 conv=notrunc status=none
init_error llmc-version "has version 9; giga reads versions 3 (fp32) and 5 (bf16)" \
  "$work/llmc-v9.bin"
init_error wrong-format "does not start with llm.c's magic number" \
  "$work/hf-f32/model.safetensors" --init-format llmc
variant "$work/heads.json" heads 8
must gigac-heads "$bin/gigac" compile "$work/heads.json" -o "$work/heads.wafer"
WAFER=$work/heads.wafer init_error llmc-heads "has 4 heads, the compiled model 8" "$work/llmc-v3.bin"
WAFER=$work/heads.wafer init_error hf-heads "says n_head 4, the compiled model has 8 heads" \
  "$work/hf-f32/model.safetensors"
# Export refuses what the target cannot hold, and leaves no file.
variant "$work/exact.json" gelu '"exact"'
must gigac-exact "$bin/gigac" compile "$work/exact.json" -o "$work/exact.wafer"
must train-exact "$gigarun" "$work/exact.wafer" --data "$work/tokens.bin" --steps 1 \
  --out "$work/exact" --quiet
expect_user_error export-gelu "llm.c computes GELU tanh" \
  "$gigarun" export "$work/exact" --format llmc -o "$work/exact.bin"
[[ ! -e "$work/exact.bin" ]] || fail "export-gelu wrote $work/exact.bin"
expect_user_error export-f16 "--dtype f16: llm.c's checkpoints are fp32" \
  "$gigarun" export "$work/tuned" --format llmc --dtype f16 -o "$work/f16.bin"
finish
