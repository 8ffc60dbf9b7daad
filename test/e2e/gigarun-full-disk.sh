#!/usr/bin/env bash
# A disk store on a filesystem that fills up (issue 15: a SIGBUS in
# WeightStore::accumulateGrad, the store's files were sparse). The store
# reserves its blocks when it opens: a filesystem too small for it is one
# error naming the directory, with no file left behind; a filesystem that
# fills up after the store opened cannot fail the store's writes. Needs to
# mount a small tmpfs (root); skipped (exit 77) where it cannot.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
make_toy
disk=$work/disk
mkdir -p "$disk"
if ! mount -t tmpfs -o size=16k tmpfs "$disk" 2>/dev/null; then
  echo "skip: cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN)"
  exit 77
fi
trap 'umount "$disk" 2>/dev/null' EXIT
args=(--data "$work/train.bin" --quiet)

# Too small for the store: one line, nothing left in the store directory,
# no --out created.
expect_user_error too-small "of disk in $disk/store" \
  "$gigarun" "$work/toy.wafer" "${args[@]}" --out "$work/small" --store "$disk/store"
[[ -z $(ls -A "$disk/store" 2>/dev/null) ]] ||
  fail "a refused store left files: $(ls -A "$disk/store")"
[[ ! -e "$work/small" ]] || fail "a refused run created its --out"

# Room for the store: it opens, then a file takes every block left, and
# training (every gradient and update written into the store) still ends
# well.
umount "$disk"
mount -t tmpfs -o size=8m tmpfs "$disk" || fail "remount"
"$gigarun" "$work/toy.wafer" "${args[@]}" --steps 400 --out "$work/filled" \
  --store "$disk/store" >"$work/filled.log" 2>&1 &
job=$!
for _ in $(seq 200); do
  [[ -s "$disk/store/grads.f32" ]] && break
  sleep 0.05
done
dd if=/dev/zero of="$disk/fill" bs=64k 2>/dev/null
[[ $(df --output=avail -B1 "$disk" | tail -n 1) -lt 65536 ]] ||
  fail "the filesystem did not fill up"
wait "$job"
status=$?
[[ $status -eq 0 ]] || fail "training on a full disk exited $status: $(cat "$work/filled.log")"
# The store is the run's checkpoint (docs/store.md): its journal needs no
# new block either.
"$gigarun" export "$work/filled" --format giga --artifact "$work/toy.wafer" \
  -o "$work/final.safetensors" >"$work/export.log" 2>&1 &&
  grep -q "at step 400" "$work/export.log" ||
  fail "no final checkpoint: $(cat "$work/export.log")"
[[ $(wc -l <"$work/filled/metrics.jsonl") -eq 400 ]] || fail "metrics.jsonl lines"
echo "ok: trained 400 steps with the store's filesystem full"
finish
