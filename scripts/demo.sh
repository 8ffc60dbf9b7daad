#!/usr/bin/env bash
# The main job on an embedded default: build giga, then compile the tiny
# GPT's training step and print its IR.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== gigac compile configs/gpt-tiny.json --emit=giga"
build/bin/gigac compile configs/gpt-tiny.json --emit=giga
