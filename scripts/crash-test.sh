#!/usr/bin/env bash
# Kills training with SIGKILL at random moments and resumes it, again and
# again, then checks that nothing was lost (docs/reliability.md):
#  - the resumed run's metrics.jsonl is the unbroken run's, bit for bit
#    (loss, grad_norm, lr, batch_offsets, val_loss of every step);
#  - every checkpoint left is whole and its weights are the unbroken run's;
#  - no temporary file is left behind once the run finishes.
#
#   scripts/crash-test.sh [KILLS] [BIN_DIR]   (default: 20 kills, build/bin)
#   SEED=N scripts/crash-test.sh              (the kill times' seed; default: the clock)
#
# The model (gpt-tiny's shape, 300 steps) checkpoints every 4 steps and
# evaluates every 6, so the kills land during steps, checkpoint writes and
# evaluations alike. Takes about a minute.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kills=${1:-20}
bin=${2:-$root/build/bin}
seed=${SEED:-$(date +%s)}
fail() { echo "crash-test: FAIL: $*" >&2; exit 1; }
[[ $kills =~ ^[1-9][0-9]*$ ]] || fail "KILLS must be a positive number, not '$kills'"
for tool in gigac gigarun; do
  [[ -x $bin/$tool ]] || fail "$bin/$tool is not built; run ninja -C build first"
done
work=$(mktemp -d "${TMPDIR:-/tmp}/giga-crash.XXXXXX")
trap 'rm -rf "$work"' EXIT
RANDOM=$seed

/usr/bin/python3 -c '
import numpy as np, sys
rng = np.random.default_rng(1)
rng.integers(0, 64, 50000).astype(np.uint16).tofile(sys.argv[1] + "/train.bin")
rng.integers(0, 64, 5000).astype(np.uint16).tofile(sys.argv[1] + "/val.bin")' "$work"
"$bin/gigac" compile "$root/configs/gpt-tiny.json" --wafer host -o "$work/step.wafer"
args=(--data "$work/train.bin" --val "$work/val.bin" --steps 300 --checkpoint-steps 4
      --eval-interval 6 --eval-steps 4 --threads 1 --precision fp32 --quiet)

start=$(date +%s%N)
"$bin/gigarun" "$work/step.wafer" "${args[@]}" --out "$work/whole"
whole_ms=$((($(date +%s%N) - start) / 1000000))
echo "crash-test: the unbroken run took $whole_ms ms; killing another $kills times (SEED=$seed)"

out=$work/killed
landed=0 finished=0
for kill in $(seq "$kills"); do
  resume=()
  [[ -d $out ]] && resume=(--resume)
  "$bin/gigarun" "$work/step.wafer" "${args[@]}" --out "$out" "${resume[@]}" &
  job=$!
  # Anywhere in the first 40% of a whole run: each life trains a little,
  # starting up included.
  delay_ms=$((RANDOM % (whole_ms * 2 / 5 + 1)))
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if kill -9 "$job" 2>/dev/null; then
    landed=$((landed + 1))
  fi
  wait "$job" 2>/dev/null || true
  steps=$(wc -l <"$out/metrics.jsonl" 2>/dev/null || echo 0)
  echo "kill $kill after $delay_ms ms: $steps steps in metrics.jsonl"
  if [[ $steps -ge 300 ]]; then
    finished=$((finished + 1))
    rm -rf "$out" # it got to the end before the kill: start a new one
  fi
done
resume=()
[[ -d $out ]] && resume=(--resume)
"$bin/gigarun" "$work/step.wafer" "${args[@]}" --out "$out" "${resume[@]}" ||
  fail "the last resume failed"
echo "crash-test: $landed kills landed on a running gigarun ($finished runs finished first)"

leftovers=$(find "$out" -name '*.tmp*')
[[ -z $leftovers ]] || fail "temporary files left behind: $leftovers"
/usr/bin/python3 - "$work/whole" "$out" <<'PY' || fail "the killed run differs from the unbroken one"
import glob, json, os, struct, sys
whole, killed = sys.argv[1], sys.argv[2]

def records(run):
    return [json.loads(line) for line in open(run + "/metrics.jsonl")]

keys = ("step", "loss", "grad_norm", "lr", "batch_offsets", "val_loss")
a, b = records(whole), records(killed)
assert len(a) == len(b) == 300, (len(a), len(b))
for x, y in zip(a, b):
    for key in keys:
        assert x.get(key) == y.get(key), (x["step"], key, x.get(key), y.get(key))

def weights(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    end = max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
    assert len(data) == 8 + n + end, f"{path} is cut short"
    body = data[8 + n:]
    return {k: body[v["data_offsets"][0]:v["data_offsets"][1]]
            for k, v in header.items() if k != "__metadata__"}

checked = 0
for path in sorted(glob.glob(killed + "/checkpoint-*.safetensors")):
    mine = weights(path)
    theirs = os.path.join(whole, os.path.basename(path))
    assert mine == weights(theirs), f"{path} differs from {theirs}"
    checked += 1
print(f"crash-test: 300 steps identical to the unbroken run; {checked} checkpoints whole and identical")
PY
echo "crash-test: passed"
