#!/usr/bin/env bash
# giga against PyTorch on this machine, side by side in one invocation: the
# same GPT training step (bench/train/torch_baseline.py writes it as nanoGPT
# does), the same data (Moby Dick), the same thread count, run one after the
# other, never at once. PyTorch runs at its best settings here: OpenBLAS's
# OpenMP build (fetched with apt-get download + dpkg -x into the cache if it
# is not installed; Debian's default libblas3 is the reference BLAS), glibc
# malloc told not to map and trim the big buffers every step, and bf16
# autocast too where the CPU has bf16 (against gigarun --precision bf16).
#
#   bench/train/compare.sh [BIN_DIR]          (default: $GIGA_BIN_DIR or build/bin)
#   THREADS=2 WARMUP=2 MEASURED=5 SHAPES="124m small" bench/train/compare.sh
#   GIGAC_FLAGS="--loss-chunk 0" bench/train/compare.sh   (extra gigac flags)
#   ROUNDS=3 bench/train/compare.sh   (giga and PyTorch alternate 3 times; a
#       shared host's speed drifts over minutes, so one round can favour
#       either side: the table takes each system's median over the rounds
#       and lists every round's ratio)
#
# Shapes: 124m = GPT-2 124M (12 layers, width 768, 12 heads, vocab 50257),
# B 8, T 256; small = depth 4, width 128, 4 heads, vocab 50257, B 12, T 64.
# It prints the machine, every command, and per shape ms/step, tokens/s and
# peak RSS of each (medians of the MEASURED steps after WARMUP), then the
# ratios, at each precision: fp32, and bf16 too where the CPU has it
# (gigarun --precision bf16 against PyTorch's bf16 autocast). The 124M shape
# takes ~15 s a step per system on a 2-core AVX2 machine, so the default run
# takes ~5 minutes (~9 with the bf16 rows).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin_dir=${1:-${GIGA_BIN_DIR:-$root/build/bin}}
threads=${THREADS:-$(nproc)}
warmup=${WARMUP:-2}
measured=${MEASURED:-5}
shapes=${SHAPES:-124m small}
rounds=${ROUNDS:-1}
cache=${GIGA_BENCH_CACHE:-$root/build/bench-cache}

fail() { echo "compare.sh: $*" >&2; exit 1; }
for tool in gigac gigarun gigatok; do
  [[ -x "$bin_dir/$tool" ]] || fail "$bin_dir/$tool is not built; run scripts/test.sh or ninja -C build first"
done
[[ $threads =~ ^[1-9][0-9]*$ && $warmup =~ ^[0-9]+$ && $measured =~ ^[1-9][0-9]*$ &&
   $rounds =~ ^[1-9][0-9]*$ ]] ||
  fail "THREADS, MEASURED and ROUNDS must be >= 1, WARMUP >= 0"
source "$root/bench/peer.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/giga-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$bin_dir/gigatok" fetch-corpus moby-dick --out "$work/moby" >/dev/null
data=$work/moby/train.bin

print_machine "threads $threads; steps: $warmup warmup + $measured measured; rounds $rounds"

# name depth width heads vocab batch seq
shape_args() {
  case $1 in
    124m) echo "12 768 12 50257 8 256" ;;
    small) echo "4 128 4 50257 12 64" ;;
    *) fail "unknown shape '$1' in SHAPES (use 124m and/or small)" ;;
  esac
}

run_giga() { # shape precision depth width heads vocab batch seq
  local name=$1 precision=$2 depth=$3 width=$4 heads=$5 vocab=$6 batch=$7 seq=$8
  local tag=$name-$precision-r$round
  cat >"$work/$name.json" <<JSON
{
  "name": "compare-$name",
  "model": {"vocab_size": $vocab, "max_position_embeddings": 1024,
            "depth": $depth, "width": $width, "heads": $heads, "init_std": 0.02},
  "run": {"batch_size": $batch, "sequence_length": $seq,
          "num_steps": $((warmup + measured)), "learning_rate": 0.0006,
          "seed": 1337}
}
JSON
  # shellcheck disable=SC2086 # GIGAC_FLAGS is a list of flags
  local compile=("$bin_dir/gigac" compile "$work/$name.json" --wafer host ${GIGAC_FLAGS:-} -o "$work/$name.wafer")
  local train=("$bin_dir/gigarun" "$work/$name.wafer" --data "$data" --steps $((warmup + measured))
               --threads "$threads" --precision "$precision" --checkpoint-steps 0 --out "$work/run-$tag")
  if [[ ! -e $work/$name.wafer ]]; then # one artifact serves both precisions
    echo "\$ ${compile[*]}"
    "${compile[@]}" >/dev/null
  fi
  echo "\$ ${train[*]}"
  "${train[@]}" >"$work/giga-$tag.log" 2>&1 || { cat "$work/giga-$tag.log" >&2; fail "gigarun failed"; }
  "$python" - "$work/run-$tag/metrics.jsonl" "$work/giga-$tag.log" "$warmup" "$batch" "$seq" \
    >"$work/giga-$tag.result" <<'PY'
import json, re, statistics, sys
metrics, log, warmup, batch, seq = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
steps = [json.loads(line) for line in open(metrics)][warmup:]
ms = statistics.median(batch * 1000.0 / r["samples_per_sec"] for r in steps)
rss = re.search(r"peak RSS: (\d+) MiB", open(log).read())
print(json.dumps({"median_ms": ms, "tokens_per_step": batch * seq,
                  "peak_rss_mib": int(rss.group(1)) if rss else None,
                  "final_loss": steps[-1]["loss"]}))
PY
}

run_torch() { # shape precision depth width heads vocab batch seq
  local name=$1 precision=$2 depth=$3 width=$4 heads=$5 vocab=$6 batch=$7 seq=$8
  local env=("${peer_env[@]}")
  local command=("$python" "$root/bench/train/torch_baseline.py" --threads "$threads"
                 --data "$data" --warmup "$warmup" --measured "$measured" --precision "$precision"
                 --depth "$depth" --width "$width" --heads "$heads" --vocab "$vocab"
                 --batch "$batch" --seq "$seq" --json "$work/torch-$name-$precision-r$round.json")
  echo "\$ ${env[*]} ${command[*]}"
  local log=$work/torch-$name-$precision-r$round.log
  env "${env[@]}" "${command[@]}" >"$log" 2>&1 || { cat "$log" >&2; fail "torch_baseline.py failed"; }
  grep -q 'openblas-openmp' "$log" || fail "PyTorch did not load OpenMP OpenBLAS (see $log)"
}

for round in $(seq "$rounds"); do
  for shape in $shapes; do
    read -r depth width heads vocab batch seq <<<"$(shape_args "$shape")"
    echo
    echo "== round $round of $rounds, $shape: depth $depth, width $width, $heads heads, vocab $vocab, B $batch, T $seq"
    for precision in fp32 $([[ $bf16 == yes ]] && echo bf16); do
      run_giga "$shape" "$precision" "$depth" "$width" "$heads" "$vocab" "$batch" "$seq"
      run_torch "$shape" "$precision" "$depth" "$width" "$heads" "$vocab" "$batch" "$seq"
    done
  done
done

echo
"$python" - "$work" "$shapes" "$threads" "$rounds" <<'PY'
import json, os, statistics, sys
work, shapes, threads, rounds = sys.argv[1], sys.argv[2].split(), sys.argv[3], int(sys.argv[4])

def load(shape, precision):
    """Per round: (giga ms, PyTorch ms), and the rows' other columns."""
    pairs, giga_runs, torch_runs = [], [], []
    for r in range(1, rounds + 1):
        path = os.path.join(work, f"giga-{shape}-{precision}-r{r}.result")
        if not os.path.exists(path):
            return None
        giga_runs.append(json.load(open(path)))
        torch_runs.append(json.load(open(os.path.join(
            work, f"torch-{shape}-{precision}-r{r}.json")))[0])
        pairs.append((giga_runs[-1]["median_ms"], torch_runs[-1]["median_ms"]))
    return pairs, giga_runs, torch_runs

print("| shape | system | ms/step | tokens/s | peak RSS | final loss | giga's speed-up |")
print("|---|---|---:|---:|---:|---:|---:|")
fastest = {}  # shape -> (giga's, PyTorch's) fastest ms/step, whichever precision
notes = []
for shape in shapes:
    for precision in ("fp32", "bf16"):
        loaded = load(shape, precision)
        if loaded is None:
            continue
        pairs, giga_runs, torch_runs = loaded
        giga_ms = statistics.median(g for g, _ in pairs)
        torch_ms = statistics.median(t for _, t in pairs)
        tokens = giga_runs[0]["tokens_per_step"]
        rows = [(f"giga {precision}", giga_ms, max(r["peak_rss_mib"] for r in giga_runs),
                 giga_runs[0]["final_loss"], ""),
                (f"PyTorch {precision}", torch_ms,
                 max(r["peak_rss_bytes"] for r in torch_runs) / 2**20,
                 torch_runs[0]["steps"][-1]["loss"], f"{torch_ms / giga_ms:.2f}x")]
        g, t = fastest.get(shape, (float("inf"), float("inf")))
        fastest[shape] = (min(g, giga_ms), min(t, torch_ms))
        for system, ms, rss, loss, ratio in rows:
            print(f"| {shape} | {system} | {ms:,.0f} | {tokens * 1000.0 / ms:,.1f} | "
                  f"{rss:,.0f} MiB | {loss:.4f} | {ratio} |")
        if rounds > 1:
            notes.append(f"{shape} {precision}, per round: "
                         + " ".join(f"{t / g:.2f}x" for g, t in pairs))
print(f"\n{threads} threads each; ms/step = median of the measured steps"
      + (f", then the median over {rounds} rounds (giga and PyTorch alternate"
         " within each round)" if rounds > 1 else "")
      + "; speed-up = PyTorch ms/step / giga ms/step at the same precision"
      " (above 1: giga is faster).")
for note in notes:
    print(note)
for shape, (g, t) in fastest.items():
    print(f"{shape}: giga's fastest against PyTorch's fastest: {t / g:.2f}x")
PY
