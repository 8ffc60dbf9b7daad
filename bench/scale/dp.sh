#!/usr/bin/env bash
# Data parallelism on this machine (docs/scale-out.md), in one invocation:
#  1. tokens/s of the GPT-2 124M step (B 8, T 256, fp32, Moby Dick) on one
#     process with 2 threads against 2 processes (mpirun -np 2, 2 systems
#     of 4 samples each) with 1 thread each, one after the other;
#  2. the store's collectives over loopback (giga_comm_bench: reduce-scatter
#     and all-gather of a 64 MiB tensor) against a memory copy;
#  3. the cost model's step time and scaling efficiency for 1-64 systems of
#     a wafer target (gigac compile --systems N --report), at the target's
#     stated interconnect bandwidth.
#
#   bench/scale/dp.sh [BIN_DIR]       (default: $GIGA_BIN_DIR or build/bin)
#   WARMUP=2 MEASURED=5 MODEL=configs/gpt-70b.json WAFER=wse3 bench/scale/dp.sh
# (MODEL's batch must split over 64 systems: gpt-175b's 1472 = 64 x 23).
#
# Part 1 takes ~4 minutes on a 2-core machine.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin_dir=${1:-${GIGA_BIN_DIR:-$root/build/bin}}
warmup=${WARMUP:-2}
measured=${MEASURED:-5}
model=${MODEL:-$root/configs/gpt-175b.json}
wafer=${WAFER:-wse2}
python=/usr/bin/python3

fail() { echo "dp.sh: $*" >&2; exit 1; }
for tool in gigac gigarun gigatok giga_comm_bench; do
  [[ -x "$bin_dir/$tool" ]] || fail "$bin_dir/$tool is not built; run ninja -C build first"
done
command -v mpirun >/dev/null || fail "no mpirun; apt-get install openmpi-bin"
[[ $warmup =~ ^[0-9]+$ && $measured =~ ^[1-9][0-9]*$ ]] ||
  fail "WARMUP must be >= 0 and MEASURED >= 1"
[[ -f $model ]] || fail "MODEL $model does not exist"
# Open MPI refuses root unless told; as root here, this is the machine's owner.
[[ $(id -u) -ne 0 ]] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

work=$(mktemp -d "${TMPDIR:-/tmp}/giga-dp.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$bin_dir/gigatok" fetch-corpus moby-dick --out "$work/moby" >/dev/null

model_name=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
echo "machine: $model_name, $(nproc) CPUs available," \
  "$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ); giga $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'); $(mpirun --version | head -n 1)"

# --- 1. one process x 2 threads against 2 processes x 1 thread ------------
steps=$((warmup + measured))
cat >"$work/124m.json" <<JSON
{
  "name": "dp-124m",
  "model": {"vocab_size": 50257, "max_position_embeddings": 1024,
            "depth": 12, "width": 768, "heads": 12, "init_std": 0.02},
  "run": {"batch_size": 8, "sequence_length": 256, "num_steps": $steps,
          "learning_rate": 0.0006, "seed": 1337}
}
JSON
train() { # name systems threads
  local name=$1 systems=$2 threads=$3
  local compile=("$bin_dir/gigac" compile "$work/124m.json" --wafer host --systems "$systems" -o "$work/$name.wafer")
  local run=("$bin_dir/gigarun" "$work/$name.wafer" --data "$work/moby/train.bin" --steps "$steps"
             --threads "$threads" --precision fp32 --checkpoint-steps 0 --out "$work/run-$name")
  [[ $systems -eq 1 ]] || run=(mpirun -np "$systems" --bind-to core "${run[@]}")
  echo "\$ ${compile[*]}"
  "${compile[@]}" >/dev/null
  echo "\$ ${run[*]}"
  "${run[@]}" >"$work/$name.log" 2>&1 || { cat "$work/$name.log" >&2; fail "$name failed"; }
}
echo
echo "== 1. GPT-2 124M, B 8, T 256, fp32: $warmup warm-up + $measured measured steps"
train one 1 2
train two 2 1
"$python" - "$work" "$warmup" <<'PY'
import json, re, statistics, sys
work, warmup = sys.argv[1], int(sys.argv[2])
rows = {}
for name, label in (("one", "1 process x 2 threads"), ("two", "2 processes x 1 thread")):
    steps = [json.loads(l) for l in open(f"{work}/run-{name}/metrics.jsonl")][warmup:]
    rate = statistics.median(r["tokens_per_sec"] for r in steps)
    rss = re.search(r"peak RSS: (\d+) MiB", open(f"{work}/{name}.log").read())
    rows[name] = rate
    print(f"{label:24s} {rate:8.1f} tokens/s  {8 * 256 / rate * 1e3:8.0f} ms/step  "
          f"peak RSS {rss.group(1) if rss else '?'} MiB (per process)  final loss {steps[-1]['loss']:.4f}")
print(f"2 processes / 1 process: {rows['two'] / rows['one']:.2f}x tokens/s")
PY

# --- 2. the collectives ----------------------------------------------------
echo
echo "== 2. collectives over loopback, 2 ranks"
echo "\$ mpirun -np 2 $bin_dir/giga_comm_bench --mib 64 --reps 5"
mpirun -np 2 --bind-to core "$bin_dir/giga_comm_bench" --mib 64 --reps 5

# --- 3. the cost model -----------------------------------------------------
echo
echo "== 3. cost model: $(basename "$model") on $wafer, gigac compile --systems N --report"
for n in 1 2 4 8 16 32 64; do
  if ! "$bin_dir/gigac" compile "$model" --wafer "$wafer" --systems "$n" --report \
       >"$work/report-$n.txt" 2>"$work/report-$n.err"; then
    echo "N=$n: $(cat "$work/report-$n.err")"
    continue
  fi
done
"$python" - "$work" <<'PY'
import os, re, sys
work = sys.argv[1]
base = None
print(f"{'systems':>7} {'step s':>10} {'collectives':>12} {'coll s':>10} {'step+coll s':>12} {'efficiency':>10} {'hidden':>7}")
for n in (1, 2, 4, 8, 16, 32, 64):
    path = f"{work}/report-{n}.txt"
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        continue
    text = open(path).read()
    step = float(re.search(r"estimated step\s+([0-9.e+-]+) s", text).group(1))
    coll = re.search(r"moves (\S+ \S+) a step in collectives \(([0-9.e+-]+) s at the target's (\S+) = ([0-9.]+ [KMGTP]?B)/s", text)
    seconds = float(coll.group(2)) if coll else 0.0
    if base is None:
        base = step
    if coll:
        stated = f"{coll.group(3)} = {coll.group(4)}/s"
    print(f"{n:7d} {step:10.4g} {coll.group(1) if coll else '-':>12} {seconds:10.4g} "
          f"{step + seconds:12.4g} {base / (n * (step + seconds)):10.0%} "
          f"{base / (n * max(step, seconds)):7.0%}")
print(f"interconnect: {stated}; efficiency = the 1-system step / (N x the "
      "N-system step) on the same global batch, with the collectives after "
      "compute (as giga's runtime runs them today) and hidden behind it")
PY
