#!/usr/bin/env bash
# A training run's --store is its own checkpoint (docs/store.md): killed in
# the middle of an update at several points, each run resumed from the store
# ends with the curve of an unbroken run, bit for bit; a store written when
# the machine went down, another model's store, a store used by a new run,
# and a run resumed without its store are refused; the store exports to a
# checkpoint file that evaluates as the run's own. ~10 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
make_toy

train=("$gigarun" "$work/toy.wafer" --data "$work/train.bin" --steps 10 --quiet
  --memory-budget 256M --checkpoint-steps 4)
"${train[@]}" --out "$work/ram" || fail "the unbroken run in RAM"

# The same curve (loss and grad_norm of every step, as written), and steps
# 1..10 once each.
same_curve() {
  local run=$1 what=$2
  for key in step loss grad_norm lr; do
    if [[ "$(column "$run/metrics.jsonl" $key)" != "$(column "$work/ram/metrics.jsonl" $key)" ]]; then
      fail "$what: metrics.jsonl's $key differs from the unbroken run's"
      return
    fi
  done
  echo "ok: $what: the curve of the unbroken run"
}

"${train[@]}" --out "$work/disk" --store "$work/disk-store" || fail "store run"
same_curve "$work/disk" "a persistent store"
[[ -f "$work/disk-store/store.json" && -f "$work/disk-store/weights.f32" ]] ||
  fail "the store's files are gone after the run"
ls "$work/disk" | grep -q 'checkpoint-.*safetensors' &&
  fail "a run in a persistent store wrote checkpoint files"

# SIGKILL after the N-th chunk's update, before the journal marks it done:
# in the first update, in the middle, at a checkpoint step's, and late. The
# toy's update has a few chunks a tensor, so these land in several steps.
kill_and_resume() {
  local n=$1 run=$2 store=$3 where=$4
  GIGA_DEBUG_KILL_IN_UPDATE=$n "${train[@]}" --out "$run" --store "$store" \
    >"$run.log" 2>&1
  status=$?
  if [[ $status -ne 137 ]]; then
    fail "kill after chunk $n$where: exit $status, expected 137 (SIGKILL; the run has fewer chunks?)"
    return
  fi
  "${train[@]}" --out "$run" --store "$store" --resume >>"$run.log" 2>&1 ||
    fail "resume after a kill after chunk $n$where: $(tail -1 "$run.log")"
  same_curve "$run" "killed after chunk $n$where, resumed"
}
for n in 1 4 9 23 31 40; do
  kill_and_resume $n "$work/kill-$n" "$work/kill-$n-store" ""
done
# tmpfs cannot zero a range, so there the update zeroes each chunk's
# gradients right behind it, which a resumed update must not need again.
if shm=$(mktemp -d /dev/shm/giga-e2e.XXXXXX 2>/dev/null); then
  trap 'rm -rf "$shm"' EXIT
  for n in 4 23; do
    kill_and_resume $n "$work/shm-kill-$n" "$shm/kill-$n-store" " in tmpfs"
  done
  rm -rf "$shm"
else
  fail "no /dev/shm to put a tmpfs store in"
fi

# A store whose machine went down while it was being written (its journal
# says it changed in another boot since its last flush; GIGA_DEBUG_BOOT_ID
# stands in for the boot) is refused, and left as it was.
GIGA_DEBUG_BOOT_ID=first GIGA_DEBUG_KILL_IN_UPDATE=30 "${train[@]}" \
  --out "$work/boot" --store "$work/boot-store" >/dev/null 2>&1
before=$(cat "$work/boot-store/"*.f32 | sha256sum)
GIGA_DEBUG_BOOT_ID=second expect_user_error went-down "when the machine went down" \
  "${train[@]}" --out "$work/boot" --store "$work/boot-store" --resume
[[ "$(cat "$work/boot-store/"*.f32 | sha256sum)" == "$before" ]] ||
  fail "the refused store was changed"

# After a flush (the checkpoint at step 8), the same is no problem: a run
# stopped after step 8 resumes in another boot.
GIGA_DEBUG_BOOT_ID=first "${train[@]}" --out "$work/flushed" \
  --store "$work/flushed-store" --debug-exit-after-step 8 || fail "run to step 8"
GIGA_DEBUG_BOOT_ID=second "${train[@]}" --out "$work/flushed" \
  --store "$work/flushed-store" --resume || fail "resume of a flushed store"
same_curve "$work/flushed" "stopped after a checkpoint step, resumed"

# Refusals, each one line, naming the way out.
expect_user_error no-store "resume it with --store" \
  "${train[@]}" --out "$work/disk" --resume
expect_user_error other-store "keeps its state in the store" \
  "${train[@]}" --out "$work/disk" --store "$work/kill-1-store" --resume
expect_user_error store-in-use-by-a-run "holds the state of the run in" \
  "${train[@]}" --out "$work/new" --store "$work/disk-store"
"$gigarun" "$work/toy.wafer" --data "$work/train.bin" --steps 2 --quiet \
  --out "$work/sgd-like" --store "$work/other-model-store" >/dev/null ||
  fail "a second store"
# Another model: the store of a run of another artifact, under its name.
python3 - "$work/other-model-store/store.json" <<'PY' || fail "cannot edit store.json"
import json, sys
manifest = json.load(open(sys.argv[1]))
manifest["layout"] = "0123456789abcdef"
json.dump(manifest, open(sys.argv[1], "w"))
PY
expect_user_error other-model "holds the state of another model" \
  "${train[@]}" --out "$work/other" --store "$work/other-model-store"

# Export: the store's step as a checkpoint file, evaluated as the RAM run's
# own final checkpoint.
"$gigarun" export "$work/disk" --format giga --artifact "$work/toy.wafer" \
  -o "$work/exported.safetensors" >/dev/null || fail "export of the store"
eval_of() {
  "$gigarun" eval "$work/toy.wafer" --checkpoint "$1" --data "$work/val.bin" --json
}
[[ "$(eval_of "$work/exported.safetensors")" == "$(eval_of "$work/ram")" ]] ||
  fail "the exported store evaluates otherwise than the RAM run's checkpoint"
expect_user_error export-no-artifact "pass --artifact" \
  "$gigarun" export "$work/disk" --format giga -o "$work/x.safetensors"
expect_user_error export-not-a-store "is not a store" \
  "$gigarun" export "$work/ram" --format giga --artifact "$work/toy.wafer" \
  -o "$work/x.safetensors"
[[ ! -e "$work/x.safetensors" ]] || fail "a refused export wrote a file"
expect_user_error eval-of-a-store-run "not in checkpoint files" \
  "$gigarun" eval "$work/toy.wafer" --checkpoint "$work/disk" --data "$work/val.bin"

finish
