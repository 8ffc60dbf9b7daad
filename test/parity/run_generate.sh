#!/usr/bin/env bash
# Generation parity of giga against the PyTorch oracle for one config:
#   run_generate.sh CONFIG.json
# compiles CONFIG with gigac --task generate, samples from random weights
# with gigarun sample (fp32), and checks with `gpt_reference.py generate`
# every step's logits against a full forward pass without a cache over the
# last `context` tokens (so prefill, decode and the sliding window), then:
#   - greedy, one sample: 50 tokens, each the reference's argmax;
#   - sampled, a batch of 2: the logits of the tokens it drew, and the same
#     text again from the same seed.
#
# Environment:
#   GIGA_BIN_DIR, GIGA_PYTHON, PARITY_WORK_DIR as run_parity.sh's
#   GEN_CONTEXT  gigac --context (default: the config's sequence length)
#   GEN_CHUNK    gigac --prefill-chunk (default: 3)
#   GEN_PROMPT   the prompt's ids (default: 5 ids)
# Exits 0 on parity, 1 on a mismatch or a failing tool, 77 (skip) when the
# Python lacks torch.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 CONFIG.json" >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
config=$(realpath "$1")
bin=${GIGA_BIN_DIR:-$repo/build/bin}
python=${GIGA_PYTHON:-/usr/bin/python3}
reference="$here/gpt_reference.py"
chunk=${GEN_CHUNK:-3}
prompt=${GEN_PROMPT:-5,1,4,1,5}

if ! "$python" -c 'import torch, numpy' 2>/dev/null; then
  echo "generate: SKIP: $python cannot import torch and numpy (install python3-torch)" >&2
  exit 77
fi
context=${GEN_CONTEXT:-$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"]["sequence_length"])' "$config")}
work=${PARITY_WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/giga-generate.XXXXXX")}
mkdir -p "$work"
work=$(realpath "$work")
echo "generate: $(basename "$config"), context $context, prefill chunk $chunk, in $work"

step() {
  local log="$work/$1.log"
  shift
  if ! "$@" >"$log" 2>&1; then
    echo "generate: FAILED: $*" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}
sample() { # NAME GEN.wafer FLAGS...
  local name=$1 artifact=$2
  shift 2
  if ! "$bin/gigarun" sample "$artifact" --checkpoint "$work/weights.safetensors" \
    --prompt-tokens "$prompt" --precision fp32 --logits "$work/$name.logits" "$@" \
    >"$work/$name.out" 2>"$work/$name.err"; then
    echo "generate: FAILED: gigarun sample $*" >&2
    cat "$work/$name.err" >&2
    exit 1
  fi
}
check() { # NAME [--greedy]
  "$python" "$reference" generate "$config" "$work/weights.safetensors" \
    "$work/$1.out" "$work/$1.logits" --prompt "$prompt" --context "$context" "${@:2}"
}

step weights "$python" "$reference" make-init "$config" "$work/weights.safetensors" --scale 0.3
step gigac-1 "$bin/gigac" compile "$config" --task generate --context "$context" \
  --prefill-chunk "$chunk" -o "$work/gen1.wafer"
step gigac-2 "$bin/gigac" compile "$config" --task generate --context "$context" \
  --prefill-chunk "$chunk" --batch 2 -o "$work/gen2.wafer"

status=0
sample greedy "$work/gen1.wafer" --temperature 0 --max-new-tokens 50
check greedy --greedy || status=1
sample sampled "$work/gen2.wafer" --temperature 0.9 --top-k 20 --num-samples 2 \
  --max-new-tokens 30 --seed 11
check sampled || status=1
sample again "$work/gen2.wafer" --temperature 0.9 --top-k 20 --num-samples 2 \
  --max-new-tokens 30 --seed 11
if cmp -s "$work/sampled.out" "$work/again.out"; then
  echo "generate: the same seed gave the same samples: ok"
else
  echo "generate: FAIL: the same seed gave other samples ($work/sampled.out, $work/again.out)"
  status=1
fi
[[ $status -eq 0 ]] || echo "generate: FAILED, files kept in $work" >&2
exit "$status"
