#!/usr/bin/env bash
# Text generation at batch 1, giga against PyTorch on this machine, side by
# side in one invocation: the same random weights (gpt_reference.py
# make-init), the same prompt, greedy decoding, the same thread count, run
# one after the other, never at once. giga runs gigarun sample over a
# generation artifact (prefill + decode over a KV cache); PyTorch runs
# bench/generate/torch_generate.py, its own KV cache, at its best settings
# (bench/peer.sh: OpenMP OpenBLAS, malloc tuning; bf16 weights cast once).
# In fp32 both must produce the same tokens (checked); the table gives
# tokens/s, the share of the machine's roofline, peak RSS and the ratios.
#
#   bench/generate/compare.sh [BIN_DIR]     (default: $GIGA_BIN_DIR or build/bin)
#   THREADS=2 ROUNDS=3 SHAPE=124m PROMPT=64 NEW_TOKENS=200 CONTEXT=1024
#   PRECISIONS="fp32 bf16" bench/generate/compare.sh
#
# Shapes: 124m = GPT-2 124M (12 layers, width 768, 12 heads, vocab 50257, 1024
# positions); small = depth 4, width 128, 4 heads, vocab 50257 (a quick run).
# PRECISIONS defaults to fp32, plus bf16 where the CPU has bf16 arithmetic.
#
# The roofline: a decode step reads every weight once (the tied head reads
# wte; of wpe one row) and the KV cache up to its position; at batch 1 that
# is all it does, so tokens/s can be at most the machine's read bandwidth
# over those bytes. The bandwidth is measured here, with the same threads:
# the best of 5 sums of 1 GiB of fp32 by a C loop and by torch, whichever
# is faster, and a copy for reference. Weights count 4 bytes in fp32 and 2 in bf16 (giga
# multiplies the store's bf16 copies; PyTorch the weights cast to bf16); the
# cache counts 4 bytes an element (giga keeps it fp32).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin_dir=${1:-${GIGA_BIN_DIR:-$root/build/bin}}
threads=${THREADS:-$(nproc)}
rounds=${ROUNDS:-1}
shape=${SHAPE:-124m}
prompt_length=${PROMPT:-64}
new_tokens=${NEW_TOKENS:-200}
context=${CONTEXT:-1024}
cache=${GIGA_BENCH_CACHE:-$root/build/bench-cache}

fail() { echo "compare.sh: $*" >&2; exit 1; }
for tool in gigac gigarun; do
  [[ -x "$bin_dir/$tool" ]] || fail "$bin_dir/$tool is not built; run scripts/test.sh or ninja -C build first"
done
for value in "$threads" "$rounds" "$prompt_length" "$new_tokens" "$context"; do
  [[ $value =~ ^[1-9][0-9]*$ ]] || fail "THREADS, ROUNDS, PROMPT, NEW_TOKENS and CONTEXT must be >= 1, not '$value'"
done
((prompt_length + new_tokens <= context && context <= 1024)) ||
  fail "PROMPT + NEW_TOKENS ($((prompt_length + new_tokens))) must fit in CONTEXT ($context), at most 1024"
case $shape in
  124m) read -r depth width heads <<<"12 768 12" ;;
  small) read -r depth width heads <<<"4 128 4" ;;
  *) fail "unknown SHAPE '$shape' (use 124m or small)" ;;
esac
source "$root/bench/peer.sh"
precisions=${PRECISIONS:-fp32 $([[ $bf16 == yes ]] && echo bf16)}
for precision in $precisions; do
  [[ $precision == fp32 || ($precision == bf16 && $bf16 == yes) ]] ||
    fail "PRECISIONS: '$precision' is not fp32, or bf16 on a CPU with bf16 arithmetic"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/giga-generate.XXXXXX")
trap 'rm -rf "$work"' EXIT
print_machine "threads $threads; $shape, batch 1, prompt $prompt_length, $new_tokens new tokens, greedy, context $context; rounds $rounds"

cat >"$work/model.json" <<JSON
{
  "name": "generate-$shape",
  "model": {"vocab_size": 50257, "max_position_embeddings": 1024,
            "depth": $depth, "width": $width, "heads": $heads, "init_std": 0.02},
  "run": {"batch_size": 1, "sequence_length": $context, "num_steps": 1,
          "learning_rate": 0.0006, "seed": 1337}
}
JSON
prompt=$("$python" -c 'import random, sys; random.seed(7); print(",".join(str(random.randrange(50257)) for _ in range(int(sys.argv[1]))))' "$prompt_length")
run() { echo "\$ $*"; "$@"; }
# Random weights of std 1/sqrt(width) keep each layer's gain near 1: at the
# parity tests' 0.3 a 12-layer model amplifies fp32 rounding to 1e-3 of the
# logits (PyTorch's fp32 against float64 as much as giga's), and greedy
# tokens would part on rounding alone.
scale=$("$python" -c "print(1 / $width ** 0.5)")
run "$python" "$root/test/parity/gpt_reference.py" make-init "$work/model.json" "$work/weights.safetensors" --scale "$scale" >/dev/null
run "$bin_dir/gigac" compile "$work/model.json" --task generate --context "$context" -o "$work/gen.wafer" >/dev/null

# The read bandwidth: a threaded sum over 1 GiB, compiled here for this CPU,
# and torch's sum; the faster counts (the stricter roofline).
cat >"$work/read.c" <<'C'
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  size_t n = (size_t)1 << 28; /* 1 GiB of float */
  float *x = malloc(n * sizeof *x);
  for (size_t i = 0; i < n; ++i) x[i] = 1.0f;
  double best = 1e30, sum = 0;
  for (int r = 0; r < 5; ++r) {
    double start = omp_get_wtime();
    float s = 0;
#pragma omp parallel for simd reduction(+ : s)
    for (size_t i = 0; i < n; ++i) s += x[i];
    double t = omp_get_wtime() - start;
    best = t < best ? t : best;
    sum += s;
  }
  printf("%.0f %g\n", n * sizeof *x / best, sum);
  return 0;
}
C
gcc -O3 -march=native -fopenmp "$work/read.c" -o "$work/read" ||
  fail "cannot compile the bandwidth probe (gcc with OpenMP)"
loop_read=$(OMP_NUM_THREADS=$threads "$work/read" | cut -d' ' -f1)
"$python" - "$work/bandwidth.json" "$threads" "$loop_read" <<'PY'
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[2]))
x = torch.ones(1 << 28)  # 1 GiB of fp32
y = torch.empty_like(x)
def best(f):
    times = []
    for _ in range(5):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)
loop = float(sys.argv[3])
torch_read = x.numel() * 4 / best(lambda: x.sum())
copy = 2 * x.numel() * 4 / best(lambda: y.copy_(x))
json.dump({"read": max(loop, torch_read), "copy": copy}, open(sys.argv[1], "w"))
print(f"memory bandwidth, {sys.argv[2]} threads: read {loop / 1e9:.1f} GB/s (a C loop), "
      f"{torch_read / 1e9:.1f} GB/s (torch.sum); copy {copy / 1e9:.1f} GB/s (bytes read + written)")
PY

for round in $(seq "$rounds"); do
  echo
  echo "== round $round of $rounds"
  for precision in $precisions; do
    tag=$precision-r$round
    echo "\$ gigarun sample $work/gen.wafer --checkpoint $work/weights.safetensors --prompt-tokens <$prompt_length ids> --max-new-tokens $new_tokens --temperature 0 --threads $threads --precision $precision"
    "$bin_dir/gigarun" sample "$work/gen.wafer" --checkpoint "$work/weights.safetensors" \
      --prompt-tokens "$prompt" --max-new-tokens "$new_tokens" --temperature 0 \
      --threads "$threads" --precision "$precision" >"$work/giga-$tag.out" 2>"$work/giga-$tag.err" ||
      { cat "$work/giga-$tag.err" >&2; fail "gigarun sample failed"; }
    tail -n 1 "$work/giga-$tag.err"
    echo "\$ ${peer_env[*]} $python bench/generate/torch_generate.py --prompt <$prompt_length ids> --new-tokens $new_tokens --threads $threads --precision $precision"
    env "${peer_env[@]}" "$python" "$root/bench/generate/torch_generate.py" --config "$work/model.json" \
      --weights "$work/weights.safetensors" --prompt "$prompt" --new-tokens "$new_tokens" \
      --threads "$threads" --precision "$precision" --context "$context" --json "$work/torch-$tag.json" \
      >"$work/torch-$tag.out" 2>"$work/torch-$tag.err" ||
      { cat "$work/torch-$tag.err" >&2; fail "torch_generate.py failed"; }
    tail -n 1 "$work/torch-$tag.err"
    grep -q 'openblas-openmp' "$work/torch-$tag.err" ||
      fail "PyTorch did not load OpenMP OpenBLAS (see $work/torch-$tag.err)"
  done
done

echo
"$python" - "$work" "$precisions" "$rounds" "$prompt_length" "$new_tokens" "$depth" "$width" "$threads" <<'PY'
import json, os, re, statistics, sys
work, precisions, rounds = sys.argv[1], sys.argv[2].split(), int(sys.argv[3])
prompt, new, depth, width, threads = map(int, sys.argv[4:])
vocab = 50257
bandwidth = json.load(open(os.path.join(work, "bandwidth.json")))
# Elements a decode step reads: every block weight, the tied head (wte), one
# wpe row, ln_f; and the cache, at the average position of the decode steps.
block = 12 * width * width + 13 * width
weights = depth * block + vocab * width + width + 2 * width
average_position = prompt + (new - 1) / 2
cache_bytes = 2 * depth * average_position * width * 4

def giga(tag):
    err = open(os.path.join(work, f"giga-{tag}.err")).read()
    m = re.search(r"\(([0-9.]+) tokens/s", err)
    ids = open(os.path.join(work, f"giga-{tag}.out")).read().split("\n---")[0].split(",")[prompt:]
    return float(m[1]), [int(i) for i in ids]

def torch_run(tag):
    r = json.load(open(os.path.join(work, f"torch-{tag}.json")))
    ids = open(os.path.join(work, f"torch-{tag}.out")).read().strip().split(",")
    return r["tokens_per_sec"], [int(i) for i in ids]

print("| precision | system | tokens/s | roofline | of roofline | greedy tokens as PyTorch's | giga's speed-up |")
print("|---|---|---:|---:|---:|---:|---:|")
failed = []
for precision in precisions:
    element = 2 if precision == "bf16" else 4
    roofline = bandwidth["read"] / (weights * element + cache_bytes)
    g_rates, t_rates, agree = [], [], []
    for r in range(1, rounds + 1):
        tag = f"{precision}-r{r}"
        g, g_ids = giga(tag)
        t, t_ids = torch_run(tag)
        g_rates.append(g)
        t_rates.append(t)
        same = next((i for i, (a, b) in enumerate(zip(g_ids, t_ids)) if a != b), len(t_ids))
        agree.append(same)
        if precision == "fp32" and same < min(20, new):
            failed.append(f"fp32 round {r}: giga and PyTorch disagree at new token {same}")
    g, t = statistics.median(g_rates), statistics.median(t_rates)
    print(f"| {precision} | giga | {g:.1f} | {roofline:.1f} | {100 * g / roofline:.0f}% | "
          f"{min(agree)} of {new} | {g / t:.2f}x |")
    print(f"| {precision} | PyTorch | {t:.1f} | {roofline:.1f} | {100 * t / roofline:.0f}% | | |")
    if rounds > 1:
        print(f"|  | per round | " + " ".join(f"{a / b:.2f}x" for a, b in zip(g_rates, t_rates)) + " | | | | |")
print(f"\n{threads} threads each; tokens/s = new tokens / the time from before the prompt's forward to the last "
      f"token (prefill included, loading excluded), median over {rounds} round(s); roofline = read bandwidth "
      f"{bandwidth['read'] / 1e9:.1f} GB/s / ({weights / 1e6:.1f} M weights x 4 or 2 bytes + "
      f"{cache_bytes / 1e6:.1f} MB of cache) per token; speed-up = giga tokens/s / PyTorch tokens/s.")
if failed:
    sys.exit("compare.sh: " + "; ".join(failed))
PY
