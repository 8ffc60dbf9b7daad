#!/usr/bin/env bash
# Parity of giga against the PyTorch oracle for one config:
#   run_parity.sh CONFIG.json
# makes a token file and initial weights, compiles CONFIG with gigac, trains
# PARITY_STEPS (10) steps with gigarun tracing step 1, and runs
# `gpt_reference.py compare` (loss, every gradient, the trajectory, and the
# logits when the head is not fused with the loss).
#
# Environment:
#   GIGA_BIN_DIR     where gigac and gigarun are (default: <repo>/build/bin)
#   GIGA_PYTHON      a Python with torch and numpy (default: /usr/bin/python3)
#   PARITY_WORK_DIR  where to keep the files (default: a new temporary folder)
#   PARITY_TOL       per-tensor relative tolerance (default: 1e-4)
#   PARITY_TRAJECTORY_TOL  the trajectory's (default: PARITY_TOL)
#   PARITY_STEPS     trajectory length (default: 10)
#   PARITY_LOSS_CHUNK  gigac --loss-chunk (default: gigac's). With 0 the head
#                    and loss stay apart and the trace's logits are compared;
#                    otherwise the fused loss leaves none, and there must be
#                    none.
#   PARITY_PRECISION gigarun --precision, fp32 (default) or bf16; bf16 holds
#                    the oracle's matmuls to bf16 operands too, and reports
#                    skip (77) on a CPU without bf16 arithmetic.
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
tol=${PARITY_TOL:-1e-4}
trajectory_tol=${PARITY_TRAJECTORY_TOL:-$tol}
steps=${PARITY_STEPS:-10}
precision=${PARITY_PRECISION:-fp32}
reference="$here/gpt_reference.py"

if ! "$python" -c 'import torch, numpy' 2>/dev/null; then
  echo "parity: SKIP: $python cannot import torch and numpy (install python3-torch)" >&2
  exit 77
fi
for tool in gigac gigarun; do
  if [[ ! -x "$bin/$tool" ]]; then
    echo "parity: $bin/$tool not found; build it or set GIGA_BIN_DIR" >&2
    exit 1
  fi
done

work=${PARITY_WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/giga-parity.XXXXXX")}
mkdir -p "$work"
work=$(realpath "$work")
rm -rf "$work/run"
echo "parity: $(basename "$config") in $work"

# Run a step quietly into a log; on failure show the log and stop.
step() {
  local log="$work/$1.log"
  shift
  if ! "$@" >"$log" 2>&1; then
    echo "parity: FAILED: $*" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

step data "$python" "$reference" make-data "$config" "$work/train.bin" --tokens 20000 --seed 1234
step init "$python" "$reference" make-init "$config" "$work/init.safetensors"
chunk_flags=()
logits_flag=(--no-logits)
if [[ -n ${PARITY_LOSS_CHUNK:-} ]]; then
  chunk_flags=(--loss-chunk "$PARITY_LOSS_CHUNK")
  [[ $PARITY_LOSS_CHUNK == 0 ]] && logits_flag=()
fi
step gigac "$bin/gigac" compile "$config" "${chunk_flags[@]}" -o "$work/step.wafer"
if ! "$bin/gigarun" "$work/step.wafer" --data "$work/train.bin" --steps "$steps" \
  --out "$work/run" --init "$work/init.safetensors" --trace-step 1 --quiet \
  --precision "$precision" >"$work/gigarun.log" 2>&1; then
  # gigarun refuses bf16 where oneDNN sees no bf16 arithmetic (so a capped
  # ONEDNN_MAX_CPU_ISA counts too): a skip, not a pass and not a failure.
  if grep -q -- '--precision bf16 needs a CPU' "$work/gigarun.log"; then
    echo "parity: SKIP: $(cat "$work/gigarun.log")" >&2
    exit 77
  fi
  echo "parity: FAILED: gigarun (log $work/gigarun.log)" >&2
  tail -n 40 "$work/gigarun.log" >&2
  exit 1
fi

"$python" "$reference" compare "$config" "$work/init.safetensors" "$work/train.bin" \
  "$work/run" --tol "$tol" --trajectory-tol "$trajectory_tol" --steps "$steps" --precision "$precision" "${logits_flag[@]}" | tee "$work/compare.log"
status=${PIPESTATUS[0]}
# gigarun eval of the last checkpoint over every window of another file,
# whose windows do not fill the last micro-batch and which ends in a tail
# shorter than a window, against the oracle's loss in float64 (fp32 only:
# bf16 products round differently from the oracle's float64 forward).
if [[ $status -eq 0 && $precision == fp32 ]]; then
  step eval-data "$python" "$reference" make-data "$config" "$work/eval.bin" --tokens 3003 --seed 99
  step eval "$bin/gigarun" eval "$work/step.wafer" --checkpoint "$work/run" \
    --data "$work/eval.bin" --precision fp32 --json
  cp "$work/eval.log" "$work/eval.json"
  "$python" "$reference" eval "$config" "$work/run/checkpoint-$steps.safetensors" \
    "$work/eval.bin" --giga "$work/eval.json" | tee -a "$work/compare.log"
  status=${PIPESTATUS[0]}
fi
[[ $status -eq 0 ]] || echo "parity: FAILED, files kept in $work" >&2
exit "$status"
