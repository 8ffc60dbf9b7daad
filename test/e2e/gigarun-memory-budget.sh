#!/usr/bin/env bash
# --memory-budget bounds the whole process: a model whose store (27.3 M
# parameters x 16 bytes of AdamW state = 417 MiB) is three times the budget
# trains with --store DIR within 128 MiB of peak RSS (VmHWM), with the same
# losses as in RAM; without --store the budget is refused. ~15 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
make_toy
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
budget_mib=128
# Wide and short (depth 8, width 512, vocab 4096, B 2, T 32): the store is
# large and a step cheap. The toy tokens (< 32) fit the vocabulary.
"$bin/gigac" compile "$repo/test/e2e/configs/memory-budget.json" --wafer host \
  -o "$work/model.wafer" >"$work/gigac.log" 2>&1 ||
  { fail "gigac: $(tail -5 "$work/gigac.log")"; finish; }
data=(--data "$work/train.bin" --steps 3)

# "peak RSS: N MiB (...)" from a run's log.
peak_mib() {
  sed -n 's/^peak RSS: \([0-9]*\) MiB (.*/\1/p' "$1"
}

# The control: in RAM the process peaks far above the budget.
"$gigarun" "$work/model.wafer" "${data[@]}" --out "$work/ram" >"$work/ram.log" 2>&1 ||
  fail "RAM run: $(tail -3 "$work/ram.log")"
ram_peak=$(peak_mib "$work/ram.log")
echo "RAM store: peak RSS ${ram_peak:-?} MiB"
[[ -n $ram_peak && $ram_peak -gt $((3 * budget_mib)) ]] ||
  fail "the RAM run peaked at '${ram_peak}' MiB, not above 3 x $budget_mib MiB: the store does not exceed the budget, so this test proves nothing"

# The store on disk within the budget.
"$gigarun" "$work/model.wafer" "${data[@]}" --out "$work/disk" --store "$work/store" \
  --memory-budget ${budget_mib}M >"$work/disk.log" 2>&1 ||
  fail "disk run under --memory-budget ${budget_mib}M: $(tail -3 "$work/disk.log")"
cat "$work/disk.log"
disk_peak=$(peak_mib "$work/disk.log")
grep -q "^peak RSS: [0-9]* MiB (budget $budget_mib MiB)$" "$work/disk.log" ||
  fail "no 'peak RSS: N MiB (budget $budget_mib MiB)' line"
[[ -n $disk_peak && $disk_peak -le $budget_mib ]] ||
  fail "peak RSS ${disk_peak:-?} MiB exceeds --memory-budget $budget_mib MiB"
[[ "$(column "$work/disk/metrics.jsonl" loss)" == "$(column "$work/ram/metrics.jsonl" loss)" ]] ||
  fail "the budgeted disk store trains other losses than RAM"
[[ $(wc -l <"$work/disk/metrics.jsonl") -eq 3 ]] || fail "the disk run did not train 3 steps"

# Refusals, each before --out is made.
expect_user_error ram-store "pass --store DIR" \
  "$gigarun" "$work/model.wafer" "${data[@]}" --out "$work/no1" --memory-budget ${budget_mib}M
# The store alone (417 MiB) fits 430M; with the rest of the process it does not.
expect_user_error ram-store-and-process "the rest of the process holds" \
  "$gigarun" "$work/model.wafer" "${data[@]}" --out "$work/no2" --memory-budget 430M
expect_user_error disk-budget-too-small "raise --memory-budget to at least" \
  "$gigarun" "$work/model.wafer" "${data[@]}" --out "$work/no3" --store "$work/store3" \
  --memory-budget 40M
for out in no1 no2 no3; do
  [[ ! -e "$work/$out" ]] || fail "a refused run left --out $out behind"
done
finish
