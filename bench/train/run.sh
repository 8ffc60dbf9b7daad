#!/usr/bin/env bash
# Training speed of the GPT-2 124M shape (12 layers, width 768, 12 heads,
# vocab 50257, 1024 positions, B=8, T=256) on this CPU: compiles it for the
# host wafer, trains STEPS steps on Moby Dick and reports the median ms/step,
# tokens/s and MFU of the steps after the first WARMUP (from metrics.jsonl),
# with the commands and the machine they ran on.
#
#   bench/train/run.sh [BIN_DIR]   (default: $GIGA_BIN_DIR or build/bin)
#   WARMUP=3 MEASURED=10 THREADS=1 bench/train/run.sh   (THREADS: gigarun --threads)
#
# One step took ~21 s on one thread of an Intel Xeon with AVX-512 (2026-11-22),
# so the default 13 steps take ~5 minutes (plus the final checkpoint, ~1.5 GB,
# written to a temp dir); expect about twice that on an AVX2-only CPU.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin_dir=${1:-${GIGA_BIN_DIR:-$root/build/bin}}
warmup=${WARMUP:-3}
measured=${MEASURED:-10}
threads=${THREADS:-1}
for tool in gigac gigarun gigatok; do
  [[ -x "$bin_dir/$tool" ]] ||
    { echo "run.sh: $bin_dir/$tool is not built; build the $tool target first" >&2; exit 1; }
done
[[ $warmup =~ ^[0-9]+$ && $measured =~ ^[1-9][0-9]*$ ]] ||
  { echo "run.sh: WARMUP must be >= 0 and MEASURED >= 1" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/giga-bench-train.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$bin_dir/gigatok" fetch-corpus moby-dick --out "$work/moby" >/dev/null

# warmup_steps 0 and a constant schedule do not matter for speed; the
# numbers are the shape's.
cat >"$work/gpt2-124m.json" <<JSON
{
  "name": "gpt2-124m-bench",
  "model": {"vocab_size": 50257, "max_position_embeddings": 1024,
            "depth": 12, "width": 768, "heads": 12, "init_std": 0.02},
  "run": {"batch_size": 8, "sequence_length": 256,
          "num_steps": $((warmup + measured)), "learning_rate": 0.0006,
          "seed": 1337}
}
JSON

model=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
memory=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
echo "machine: $model, $(nproc) cores available, $memory memory"

compile=("$bin_dir/gigac" compile "$work/gpt2-124m.json" --wafer host
         -o "$work/gpt2-124m.wafer")
train=("$bin_dir/gigarun" "$work/gpt2-124m.wafer" --data "$work/moby/train.bin"
       --steps $((warmup + measured)) --threads "$threads" --out "$work/run")
echo "\$ ${compile[*]}"
"${compile[@]}"
echo "\$ ${train[*]}"
start=$(date +%s)
"${train[@]}" > "$work/gigarun.log"
# gigarun's own peak for this machine's ISA (docs/gigarun.md, MFU).
grep -o 'MFU assumes .*FLOP)' "$work/gigarun.log" || true
echo "trained $((warmup + measured)) steps in $(($(date +%s) - start)) s"

python3 - "$work/run/metrics.jsonl" "$warmup" "$measured" <<'PY'
import json, statistics, sys
path, warmup, measured = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
records = [json.loads(line) for line in open(path)]
steps = records[warmup:warmup + measured]
if len(steps) != measured:
    sys.exit(f"run.sh: {path} has {len(records)} steps, expected {warmup + measured}")
tokens = statistics.median(r["tokens_per_sec"] for r in steps)
# samples_per_sec is batch_size (8) / the step's wall time.
ms = statistics.median(8 * 1000.0 / r["samples_per_sec"] for r in steps)
mfu = statistics.median(r["mfu"] for r in steps)
print(f"steps {warmup + 1}..{warmup + measured} (after {warmup} warmup):")
print(f"  median ms/step  {ms:.0f}")
print(f"  median tokens/s {tokens:.1f}")
print(f"  median MFU      {100 * mfu:.1f}%")
print(f"  final loss      {records[-1]['loss']:.4f}")
PY
