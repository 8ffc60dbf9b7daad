#!/usr/bin/env bash
# Trains a model whose store is at least twice this machine's memory, with
# the weights streamed from a disk store under an 8 GiB budget
# (docs/store.md, "Larger than RAM"), and reports:
#   - peak RSS against the budget, and the store's size;
#   - bytes read and written by gigarun per step (/proc/PID/io, sampled
#     every second, split at the steps' ends in metrics.jsonl);
#   - the store's read + write bandwidth during the updates against the
#     disk's sequential bandwidth, measured here with dd and direct I/O;
#   - each step's time split into the executor's kernels (which wait for
#     the pages they fault in) and the optimizer update (--profile);
#   - the compiler's prediction for the step (gigac --report on the host
#     target with the disk's measured bandwidth as its stream bandwidth).
#
#   bench/scale/larger-than-ram.sh [BIN_DIR]   (default: $GIGA_BIN_DIR or build/bin)
#   STEPS=3 STORE_DIR=/var/tmp/giga-store BUDGET=8G DEPTH=32 bench/scale/larger-than-ram.sh
#
# Then the same width at depth 2 (a store that fits in RAM) trains 5 steps
# with the RAM store, with its store in tmpfs within a budget it fits, and
# with a disk store under a budget it must stream within: the losses must
# match bit for bit, and the step times say what each costs.
#
# The default shape (depth 33, width 2816, 22 heads of 128, GPT-2's 50257
# tokens, 1024 positions) has 3.29 B parameters: 52.6 GB = 49.0 GiB of store
# at 16 bytes a parameter (fp32 weights, gradients, AdamW m and v), 2.1x
# 24 GiB. It is GPT-2's family scaled in width and depth as GPT-3's 2.7B is
# (width 2560, depth 32), with the width rounded to a multiple of 128 so
# that heads are 128 wide, and one layer more so that the store passes
# 48 GiB. Takes ~25 minutes on a 2-core machine with a 1 GB/s disk.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin_dir=${1:-${GIGA_BIN_DIR:-$root/build/bin}}
steps=${STEPS:-3}
budget=${BUDGET:-8G}
depth=${DEPTH:-33}
width=${WIDTH:-2816}
heads=${HEADS:-22}
store=${STORE_DIR:-/var/tmp/giga-larger-than-ram-store}
python=/usr/bin/python3

fail() { echo "larger-than-ram.sh: $*" >&2; exit 1; }
for tool in gigac gigarun gigatok; do
  [[ -x "$bin_dir/$tool" ]] || fail "$bin_dir/$tool is not built; run ninja -C build first"
done
[[ $steps =~ ^[1-9][0-9]*$ ]] || fail "STEPS must be a positive integer, got '$steps'"
[[ ! -e $store ]] || fail "$store exists; remove it or set STORE_DIR to a new directory"

work=$(mktemp -d "${TMPDIR:-/tmp}/giga-larger-than-ram.XXXXXX")
cleanup() { rm -rf "$work" "$store"; }
trap cleanup EXIT

model=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
memory_kib=$(awk '/^MemTotal/ {print $2}' /proc/meminfo)
store_parent=$(dirname "$store")
mkdir -p "$store_parent"
device=$(df --output=source "$store_parent" | tail -n 1)
echo "machine: $model, $(nproc) cores, $(awk -v k="$memory_kib" 'BEGIN {printf "%.1f GiB", k / 1048576}') memory"
echo "store: $store on $device ($(lsblk -dno MODEL,SIZE "/dev/$(lsblk -no PKNAME "$device" 2>/dev/null | head -n 1)" 2>/dev/null || echo "device unknown"))"

cat >"$work/model.json" <<JSON
{
  "name": "larger-than-ram",
  "model": {"vocab_size": 50257, "max_position_embeddings": 1024,
            "depth": $depth, "width": $width, "heads": $heads, "init_std": 0.02},
  "run": {"batch_size": 1, "sequence_length": 256, "num_steps": $steps,
          "learning_rate": 0.00003, "warmup_steps": $steps,
          "seed": 1337, "checkpoint_steps": $steps}
}
JSON

# The store's size from the artifact, and room for it.
"$bin_dir/gigac" compile "$work/model.json" --wafer host -o "$work/model.wafer"
params=$("$bin_dir/gigarun" inspect "$work/model.wafer" |
  sed -n 's/^parameters ([0-9,]* tensors, \([0-9,]*\) parameters.*/\1/p' | tr -d ,)
[[ $params =~ ^[0-9]+$ ]] || fail "cannot read the parameter count from gigarun inspect"
store_bytes=$((params * 16))
free_bytes=$(df --output=avail -B1 "$store_parent" | tail -n 1)
needed=$((store_bytes + (2 << 30))) # the store, the journal and dd's file
echo "model: $params parameters; store $(numfmt --to=iec "$store_bytes") ($(awk -v s="$store_bytes" -v k="$memory_kib" 'BEGIN {printf "%.2f", s / (k * 1024)}')x memory); $(numfmt --to=iec "$free_bytes") free in $store_parent"
((free_bytes >= needed)) ||
  fail "$store_parent has $(numfmt --to=iec "$free_bytes") free and the store needs $(numfmt --to=iec "$needed"); set STORE_DIR to a directory on a larger disk, or DEPTH to a smaller model"

# The disk's sequential bandwidth, with direct I/O so the page cache is
# out of it, on a 2 GiB file: the store's size would not fit beside it, and
# direct I/O does not get faster with size. Measured before the run and
# again after it, and the faster of each is the floor's: this VM's disk
# varies by 2x within an hour.
rate() { tail -n 1 "$1" | awk '{print $(NF-1) * ($NF == "GB/s" ? 1e9 : ($NF == "MB/s" ? 1e6 : 1))}'; }
gbs() { awk -v r="$1" 'BEGIN {printf "%.2f", r / 1e9}'; }
measure_disk() {
  dd if=/dev/zero of="$store_parent/giga-dd-probe" bs=16M count=128 oflag=direct 2>"$work/dd-write.txt"
  dd if="$store_parent/giga-dd-probe" of=/dev/null bs=16M iflag=direct 2>"$work/dd-read.txt"
  rm -f "$store_parent/giga-dd-probe"
  disk_write=$(rate "$work/dd-write.txt")
  disk_read=$(rate "$work/dd-read.txt")
  echo "disk, $1: sequential write $(gbs "$disk_write") GB/s, read $(gbs "$disk_read") GB/s (dd, direct I/O, 16 MiB blocks)"
}
measure_disk "before the run"

# The compiler's prediction on the host target streaming at the disk's rate.
"$python" - "$root/configs/wafers/host.json" "$work/host-disk.json" "$disk_read" <<'PY'
import json, sys
target = json.load(open(sys.argv[1]))
target["name"] = "host-disk"
target["memoryx_bytes_per_sec"] = float(sys.argv[3])
target["description"] = "host, weights streamed from this disk"
json.dump(target, open(sys.argv[2], "w"))
PY
"$bin_dir/gigac" compile "$work/model.json" --wafer "$work/host-disk.json" \
  --report -o "$work/predicted.wafer" >"$work/report.txt" 2>&1
predicted=$(sed -n 's/^estimated step *\([0-9.e+-]*\) s.*/\1/p' "$work/report.txt")

"$bin_dir/gigatok" fetch-corpus moby-dick --out "$work/moby" >/dev/null
train=("$bin_dir/gigarun" "$work/model.wafer" --data "$work/moby/train.bin"
  --steps "$steps" --store "$store" --memory-budget "$budget" --profile
  --out "$work/run")
echo "\$ ${train[*]}"
start=$(date +%s.%N)
"${train[@]}" >"$work/gigarun.log" 2>&1 &
pid=$!
# Once a second: time, bytes read and written, steps done.
while kill -0 "$pid" 2>/dev/null; do
  io=$(awk '/^read_bytes/ {r = $2} /^write_bytes/ {w = $2} END {print r, w}' "/proc/$pid/io" 2>/dev/null) || break
  done_steps=0
  [[ -f $work/run/metrics.jsonl ]] && done_steps=$(wc -l <"$work/run/metrics.jsonl")
  echo "$(date +%s.%N) $io $done_steps" >>"$work/io.txt"
  sleep 1
done
status=0
wait "$pid" || status=$?
cat "$work/gigarun.log"
((status == 0)) || fail "gigarun exited $status"
read_before=$disk_read write_before=$disk_write
measure_disk "after the run"
faster() { awk -v a="$1" -v b="$2" 'BEGIN {print (a > b ? a : b)}'; }
disk_read=$(faster "$disk_read" "$read_before")
disk_write=$(faster "$disk_write" "$write_before")

"$python" - "$work" "$start" "$store_bytes" "$disk_read" "$disk_write" "$predicted" "$params" <<'PY'
import json, sys
work, start = sys.argv[1], float(sys.argv[2])
store_bytes, disk_read, disk_write = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
predicted, params = float(sys.argv[6] or "nan"), int(sys.argv[7])
samples = []
for line in open(work + "/io.txt"):
    fields = line.split()
    if len(fields) == 4:
        samples.append((float(fields[0]), int(fields[1]), int(fields[2]), int(fields[3])))
log = open(work + "/gigarun.log").read()
records = [json.loads(l) for l in open(work + "/run/metrics.jsonl")]
# Per step: the I/O between the samples where the step count changed.
ends = {}
for t, r, w, n in samples:
    ends.setdefault(n, (t, r, w))
# The last step's line is written after its checkpoint's flush, as the
# process exits: its end is the last sample.
if samples and len(records) not in ends:
    ends[len(records)] = samples[-1][:3]
print("\nstep  seconds  read GB  written GB  (gigarun's own I/O: /proc/PID/io)")
for s in range(1, len(records) + 1):
    if s - 1 in ends and s in ends:
        t0, r0, w0 = ends[s - 1]
        t1, r1, w1 = ends[s]
        print("%4d  %7.1f  %7.1f  %10.1f" % (s, t1 - t0, (r1 - r0) / 1e9, (w1 - w0) / 1e9))
# The fastest 10 s of store traffic, against the disk.
best = 0.0
for i in range(len(samples)):
    for j in range(i + 1, len(samples)):
        if samples[j][0] - samples[i][0] >= 10:
            rate = (samples[j][1] - samples[i][1] + samples[j][2] - samples[i][2]) / (samples[j][0] - samples[i][0])
            best = max(best, rate)
            break
peak = [l for l in log.splitlines() if l.startswith("peak RSS")]
update = [l for l in log.splitlines() if "optimizer update" in l]
profile = [l for l in log.splitlines() if "--profile:" in l]
print("\npeak RSS: %s; store %.1f GB" % (peak[0].split(":", 1)[1].strip() if peak else "?", store_bytes / 1e9))
print("store traffic, best 10 s: %.2f GB/s read + write; the disk's faster: %.2f GB/s read, %.2f GB/s write (%.0f%% of their mean)"
      % (best / 1e9, disk_read / 1e9, disk_write / 1e9, 100 * best / ((disk_read + disk_write) / 2)))
# The update moves every array: reads weights, gradients, m, v (16 B a
# parameter) and writes weights, m, v (12 B); at the disk's rates that is
# its floor.
floor = params * 16 / disk_read + params * 12 / disk_write
print("update floor at the disk's faster rates: %.1f s (28 bytes a parameter)" % floor)
for line in profile + update:
    print(line.strip())
if update:
    seconds = float(update[0].split()[0]) / 1e3
    print("update: %.1f GB in %.1f s, %.2f GB/s: %.0f%% of the floor's rate"
          % (params * 28 / 1e9, seconds, params * 28 / 1e9 / seconds, 100 * floor / seconds))
measured = [r for r in records[1:]] or records
mean = sum(r["samples_per_sec"] ** -1 for r in measured) / len(measured)
print("step time: measured %.1f s (mean of steps %s); gigac --report predicts %.1f s for the "
      "forward and backward streaming at the read rate measured before the run, %.1f s with the update floor"
      % (mean, ", ".join(str(r["step"]) for r in measured), predicted, predicted + floor))
print("losses: " + ", ".join("%.6f" % r["loss"] for r in records))
PY

# Part 2: a model that fits in RAM, its store kept three ways: in RAM; in
# files in tmpfs (RAM too) within a budget it fits, as a disk store that
# fits stays mapped; and on the disk under a budget smaller than the store,
# so that its pages are dropped and written back every step.
rm -rf "$store" # room on the disk for part 2
sed -e "s/\"depth\": $depth/\"depth\": 2/" "$work/model.json" >"$work/small.json"
"$bin_dir/gigac" compile "$work/small.json" --wafer host -o "$work/small.wafer"
small=("$bin_dir/gigarun" "$work/small.wafer" --data "$work/moby/train.bin" --steps "${SMALL_STEPS:-5}")
small_budget=${SMALL_BUDGET:-4G}
shm=/dev/shm/giga-larger-than-ram-$$
variants=("ram:--memory-budget 16G" "disk:--store $store-small --memory-budget $small_budget")
shm_free=$(df --output=avail -B1 /dev/shm 2>/dev/null | tail -n 1 || echo 0)
if ((shm_free > (8 << 30))); then
  variants=("${variants[0]}" "tmpfs:--store $shm --memory-budget 16G" "${variants[1]}")
else
  echo "(no tmpfs row: /dev/shm has $(numfmt --to=iec "${shm_free:-0}") free, it needs 8 GiB)"
fi
trap 'cleanup; rm -rf "$shm"' EXIT
echo
for variant in "${variants[@]}"; do
  name=${variant%%:*}
  read -r -a flags <<<"${variant#*:}"
  echo "\$ ${small[*]} --out ${name^^} ${flags[*]}"
  "${small[@]}" --out "$work/small-$name" "${flags[@]}" >"$work/small-$name.log" 2>&1 ||
    fail "the $name run: $(tail -n 3 "$work/small-$name.log")"
  grep -h '^peak RSS' "$work/small-$name.log"
  rm -rf "$store-small" "$shm"
done
"$python" - "$work" "${variants[@]%%:*}" <<'PY'
import json, sys
work, names = sys.argv[1], sys.argv[2:]
runs = {n: [json.loads(l) for l in open("%s/small-%s/metrics.jsonl" % (work, n))] for n in names}
for key in ("loss", "grad_norm"):
    for n in names:
        print("%s, %-6s %s" % (key, n + ":", ", ".join(repr(r[key]) for r in runs[n])))
    print("%s bit for bit the same: %s" % (key, all(
        all(a[key] == b[key] for a, b in zip(runs["ram"], runs[n])) for n in names)))
def mean_seconds(records):
    later = records[1:]
    return sum(1 / r["samples_per_sec"] for r in later) / len(later)
base = mean_seconds(runs["ram"])
print("step time (mean of steps 2-%d):" % len(runs["ram"]))
for n in names:
    t = mean_seconds(runs[n])
    print("  %-6s %.2f s  %+.1f%%" % (n, t, 100 * (t / base - 1)))
PY
