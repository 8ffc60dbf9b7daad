#!/usr/bin/env bash
# gigarun sample as a user runs it: a generation artifact of gpt-tiny, the
# checkpoint of a short training run, ids in and ids out (its vocabulary is
# not GPT-2's), the store on disk, --logits, several samples, seeds; and
# every kind of bad input, one clear line each. (test/parity checks the
# numbers against PyTorch.)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
make_toy
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tiny=$repo/configs/gpt-tiny.json # vocabulary 64, context 8
"$bin/gigac" compile "$tiny" -o "$work/tiny.wafer" >/dev/null 2>&1 &&
  "$bin/gigac" compile "$tiny" --task generate -o "$work/gen.wafer" >/dev/null 2>&1 &&
  "$bin/gigac" compile "$tiny" --task generate --batch 2 -o "$work/gen2.wafer" >/dev/null 2>&1 ||
  { fail "gigac compile"; finish; }
"$gigarun" "$work/tiny.wafer" --data "$work/train.bin" --steps 5 --out "$work/run" --quiet ||
  { fail "training the checkpoint"; finish; }

# inspect says what a generation artifact is: its shape and its state.
"$gigarun" inspect "$work/gen.wafer" >"$work/inspect.txt" || fail "inspect"
grep -q '^generate   batch 1, prefill chunk 8, context 8 tokens; KV cache' "$work/inspect.txt" ||
  fail "inspect has no generate line: $(sed -n 6p "$work/inspect.txt")"
[[ $(grep -c ' state$' "$work/inspect.txt") -eq 2 ]] || fail "inspect does not mark the two caches as state"
grep -q '^optimizer' "$work/inspect.txt" && fail "inspect prints an optimizer for a generation artifact"

# ids: the prompt then 12 new ones, past the context (8): the window slides.
sample=("$gigarun" sample "$work/gen.wafer" --checkpoint "$work/run" --prompt-tokens 3,10,17)
"${sample[@]}" --max-new-tokens 12 --seed 5 >"$work/a.out" 2>"$work/a.err" ||
  fail "sample: $(cat "$work/a.err")"
python3 - "$work/a.out" "$work/a.err" <<'PY' || fail "sample output"
import re, sys
out, err = open(sys.argv[1]).read(), open(sys.argv[2]).read()
ids = [int(x) for x in out.split("\n---------------\n")[0].split(",")]
assert ids[:3] == [3, 10, 17] and len(ids) == 15, ids
assert all(0 <= i < 64 for i in ids), ids
summary = re.search(r"12 tokens in .* window slid (\d+) times", err)
assert summary and int(summary[1]) > 0, err
PY
"${sample[@]}" --max-new-tokens 12 --seed 5 >"$work/b.out" 2>/dev/null
cmp -s "$work/a.out" "$work/b.out" || fail "the same seed gave another sample"
"${sample[@]}" --max-new-tokens 12 --seed 5 --store "$work/store" >"$work/c.out" 2>/dev/null ||
  fail "sample --store"
cmp -s "$work/a.out" "$work/c.out" || fail "a disk store gave another sample than RAM"
[[ ! -e $work/store/weights.f32 ]] || fail "the disk store's files were left behind"

# Greedy is the argmax of the logits it writes: [steps, batch, vocab] f32.
"${sample[@]}" --max-new-tokens 6 --temperature 0 --logits "$work/logits.f32" \
  >"$work/greedy.out" 2>/dev/null || fail "sample --logits"
python3 - "$work/greedy.out" "$work/logits.f32" <<'PY' || fail "greedy is not the argmax"
import array, sys
ids = [int(x) for x in open(sys.argv[1]).read().split("\n---")[0].split(",")][3:]
logits = array.array("f", open(sys.argv[2], "rb").read())
assert len(logits) == 6 * 64, len(logits)
rows = [logits[i * 64:(i + 1) * 64] for i in range(6)]
assert ids == [max(range(64), key=lambda v: (row[v], -v)) for row in rows], ids
PY

# Three samples from a batch-2 artifact: two rounds, three printed.
"$gigarun" sample "$work/gen2.wafer" --checkpoint "$work/run" --prompt-tokens 1,2 \
  --max-new-tokens 4 --num-samples 3 >"$work/three.out" 2>/dev/null || fail "--num-samples 3"
[[ $(grep -c -- '^---------------$' "$work/three.out") -eq 3 ]] ||
  fail "--num-samples 3 printed $(grep -c -- '^---------------$' "$work/three.out") samples"

# Bad input: one line, exit 1.
wider=$work/wider.json
python3 - "$tiny" "$wider" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["model"]["width"] = 24
json.dump(config, open(sys.argv[2], "w"))
PY
"$bin/gigac" compile "$wider" -o "$work/wider.wafer" >/dev/null 2>&1 &&
  "$gigarun" "$work/wider.wafer" --data "$work/train.bin" --steps 1 --out "$work/wider" --quiet ||
  fail "training the wider model"
expect_user_error training-artifact "compile one with gigac compile CONFIG --task generate" \
  "$gigarun" sample "$work/tiny.wafer" --checkpoint "$work/run" --prompt-tokens 1
expect_user_error other-config "has shape [64, 24], but the model's is [64, 16]" \
  "$gigarun" sample "$work/gen.wafer" --checkpoint "$work/wider" --prompt-tokens 1
expect_user_error text-prompt-small-vocabulary "give the prompt as ids with --prompt-tokens" \
  "$gigarun" sample "$work/gen.wafer" --checkpoint "$work/run" --prompt "Call me Ishmael."
expect_user_error id-outside-vocabulary "'64' is not a token id from 0 to 63" \
  "${sample[@]/3,10,17/1,64}"
expect_user_error id-not-a-number "'x' is not a token id" \
  "$gigarun" sample "$work/gen.wafer" --checkpoint "$work/run" --prompt-tokens 1,x
expect_user_error empty-id "'' is not a token id" \
  "$gigarun" sample "$work/gen.wafer" --checkpoint "$work/run" --prompt-tokens 1,,2
expect_user_error top-p-zero "--top-p" "${sample[@]}" --top-p 0
expect_user_error negative-temperature "--temperature" "${sample[@]}" --temperature -1
expect_user_error missing-checkpoint "cannot open checkpoint" \
  "$gigarun" sample "$work/gen.wafer" --checkpoint "$work/nothing.safetensors" --prompt-tokens 1
expect_user_error missing-artifact "$work/nothing.wafer" \
  "$gigarun" sample "$work/nothing.wafer" --checkpoint "$work/run" --prompt-tokens 1
expect_user_error logits-device "not a regular file" "${sample[@]}" --logits /dev/null
finish
