#!/usr/bin/env bash
# Data parallelism under mpirun (docs/scale-out.md), on this machine over
# loopback: 2 and 3 systems train what 1 trains on the same global batch
# (every window the same; losses, gradient norms and validation losses
# within 1e-6 relative over 20 steps, final weights and optimizer state
# within 1e-5 of each tensor's largest value); a checkpoint of 2 systems
# resumes on 1 and on 3 with the unbroken run's continuation; a killed rank
# or a rank without its data ends the job, non-zero, within 30 s; an
# artifact run on the wrong number of processes is one clear error.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
gigac="$bin/gigac"
config="$(dirname "${BASH_SOURCE[0]}")/configs/data-parallel.json"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Under ASan (scripts/test.sh --sanitize), Open MPI's plugins leak state they
# keep till exit from code they have unloaded, which no suppression can
# name; leaks of giga's own code are found by every other test.
[[ -z ${ASAN_OPTIONS:-} ]] || export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
# 3 ranks on a 2-core machine: allowed, and yielding while they wait.
mpirun=(mpirun --oversubscribe --mca mpi_yield_when_idle 1)

/usr/bin/python3 -c '
import numpy as np, sys
rng = np.random.default_rng(0)
rng.integers(0, 64, 20000).astype(np.uint16).tofile(sys.argv[1] + "/train.bin")
rng.integers(0, 64, 4000).astype(np.uint16).tofile(sys.argv[1] + "/val.bin")' \
  "$work" || fail "making the token files"
for n in 1 2 3; do
  "$gigac" compile "$config" --wafer host --systems "$n" -o "$work/s$n.wafer" ||
    fail "gigac --systems $n"
done
args=(--data "$work/train.bin" --val "$work/val.bin" --threads 1
      --precision fp32 --quiet)

# compare A B: metrics.jsonl and the checkpoint of step 20 of two runs.
compare() {
  /usr/bin/python3 - "$work/$1" "$work/$2" <<'PY' || fail "$1 and $2 differ"
import json, struct, sys
import numpy as np

def metrics(run):
    return [json.loads(line) for line in open(run + "/metrics.jsonl")]

def tensors(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    return {k: np.frombuffer(body[v["data_offsets"][0]:v["data_offsets"][1]],
                             np.float32)
            for k, v in header.items() if k != "__metadata__"}

a, b = metrics(sys.argv[1]), metrics(sys.argv[2])
assert [r["step"] for r in a] == [r["step"] for r in b] == list(range(1, 21))
worst = 0.0
for x, y in zip(a, b):
    assert x["batch_offsets"] == y["batch_offsets"], x["step"]
    for key in ("loss", "grad_norm", "val_loss"):
        assert (key in x) == (key in y), (x["step"], key)
        if key in x:
            worst = max(worst, abs(x[key] - y[key]) / abs(x[key]))
assert worst <= 1e-6, f"metrics differ by {worst:.3g} relative"

wa = tensors(sys.argv[1] + "/checkpoint-20.safetensors")
wb = tensors(sys.argv[2] + "/checkpoint-20.safetensors")
assert wa.keys() == wb.keys()
# The key bias's gradient is zero but for rounding (softmax ignores a
# constant per query), so AdamW moves it by rounding noise: its values
# depend on the order of every sum and are left out.
checked = [k for k in wa if not k.endswith("attn.k.bias")]
assert len(checked) > 80, len(checked)
weights = max(float(np.max(np.abs(wa[k] - wb[k])) / np.max(np.abs(wa[k])))
              for k in checked if np.max(np.abs(wa[k])) > 0)
assert weights <= 1e-5, f"checkpoints differ by {weights:.3g}"
print(f"ok: {sys.argv[2]} = {sys.argv[1]}: metrics within {worst:.2g}, "
      f"{len(checked)} tensors within {weights:.2g}")
PY
}

"$gigarun" "$work/s1.wafer" "${args[@]}" --out "$work/one" || fail "1 system"
for n in 2 3; do
  "${mpirun[@]}" -np "$n" "$gigarun" "$work/s$n.wafer" "${args[@]}" \
    --out "$work/ranks$n" || fail "$n systems"
  compare one "ranks$n"
done
ls "$work/ranks2" | grep -q rank && fail "ranks other than 0 wrote into --out"

# Stopped after step 13 on 2 systems (last checkpoint: step 10), resumed on
# 1 and on 3.
"${mpirun[@]}" -np 2 "$gigarun" "$work/s2.wafer" "${args[@]}" --out "$work/cut" \
  --debug-exit-after-step 13 || fail "the stopped 2-system run"
cp -r "$work/cut" "$work/cut3"
"$gigarun" "$work/s1.wafer" "${args[@]}" --out "$work/cut" --resume ||
  fail "resume on 1"
compare one cut
"${mpirun[@]}" -np 3 "$gigarun" "$work/s3.wafer" "${args[@]}" --out "$work/cut3" \
  --resume || fail "resume on 3"
compare one cut3

# The wrong number of processes: one line, nothing written.
expect_user_error alone "mpirun -np 2" \
  "$gigarun" "$work/s2.wafer" "${args[@]}" --out "$work/none"
"${mpirun[@]}" -np 2 "$gigarun" "$work/s1.wafer" "${args[@]}" \
  --out "$work/none" >"$work/np2.out" 2>"$work/np2.err"
[[ $? -ne 0 ]] || fail "1-system artifact on 2 processes exited 0"
grep -q "compiled for 1 system (run.num_systems) but mpirun started 2" \
  "$work/np2.err" || fail "no message for -np 2: $(cat "$work/np2.err")"
[[ ! -e "$work/none" ]] || fail "a refused run created its --out"

# Rank 1 cannot read its data: the job ends, naming the rank.
cat >"$work/other-data.sh" <<'SH'
#!/bin/bash
[[ $OMPI_COMM_WORLD_RANK == 1 ]] && set -- "${@/train.bin/missing.bin}"
exec "$@"
SH
chmod +x "$work/other-data.sh"
timeout 30 "${mpirun[@]}" -np 2 "$work/other-data.sh" "$gigarun" \
  "$work/s2.wafer" "${args[@]}" --out "$work/nodata" >"$work/nodata.out" \
  2>"$work/nodata.err"
status=$?
[[ $status -ne 0 && $status -ne 124 ]] || fail "a rank without data: exit $status"
grep -q "gigarun (rank 1 of 2): error: cannot open token file .*missing.bin" \
  "$work/nodata.err" || fail "no message naming rank 1: $(cat "$work/nodata.err")"

# A rank killed mid-run: mpirun ends the job within 30 s, non-zero.
"${mpirun[@]}" -np 2 "$gigarun" "$work/s2.wafer" "${args[@]}" --steps 100000000 \
  --checkpoint-steps 1 --out "$work/killed" >"$work/killed.out" 2>&1 &
job=$!
for _ in $(seq 100); do
  [[ -s "$work/killed/metrics.jsonl" ]] && break
  sleep 0.1
done
victim=$(pgrep -f -n "gigarun $work/s2.wafer")
[[ -n $victim ]] || fail "no rank to kill"
kill -9 "$victim"
start=$SECONDS
for _ in $(seq 300); do
  kill -0 "$job" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$job" 2>/dev/null; then
  fail "the job still runs 30 s after a rank was killed"
  pkill -9 -f "gigarun $work/s2.wafer"
fi
wait "$job"
status=$?
[[ $status -ne 0 ]] || fail "the job exited 0 after a rank was killed"
echo "ok: a killed rank ended the job in $((SECONDS - start)) s, exit $status"
# Checkpoints every step, so the kill lands near one: each one there is
# whole (the file ends where its header says).
/usr/bin/python3 - "$work"/killed/checkpoint-*.safetensors <<'PY' ||
import json, os, struct, sys
for path in sys.argv[1:]:
    if not os.path.exists(path):
        continue
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    end = max(v["data_offsets"][1] for k, v in header.items()
              if k != "__metadata__")
    assert len(data) == 8 + n + end, path
PY
  fail "a half-written checkpoint in $work/killed"
finish
