#!/usr/bin/env bash
# gigarun inspect prints the toy artifact readably.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
make_toy
"$gigarun" inspect "$work/toy.wafer" >"$work/inspect.txt" 2>"$work/inspect.err" ||
  fail "inspect failed: $(cat "$work/inspect.err")"
cat "$work/inspect.txt"
expect() {
  grep -qE -- "$1" "$work/inspect.txt" || fail "inspect output lacks /$1/"
}
expect '^model: +.*vocab_size=32'
expect '^batch +4 samples = micro-batch 2 x 2 accumulation steps'
expect '^optimizer +adamw'
expect '^parameters \(4 tensors, 672 parameters'
expect '^  h\.\*\.w +h +2 +\[8, 8\] +64 +128 +normal'
expect '^  total +672$'
expect '^buffers \(26, arena [0-9,]+ bytes'
expect 'h\.saved_x .*f32 +\[2, 8, 8\] +2 '
expect '^  \[1\] h\.fwd: forward, 2 layers of group h; stream-in 1, stream-out 0, carry 1, 3 ops'
expect '^  \[4\] h\.bwd: backward, 2 layers of group h, reverse; stream-in 1, stream-out 1'
expect '^      ops: copy, matmul, add$'
expect '^      stream-out: h\.\*\.w$'
expect '^      placement: 100 PEs'
expect '^entry points \(2\)'
expect '^  train_step\(tokens i32 \[[0-9]+, [0-9]+\] in \[0, 32\), targets .*\) -> loss f32 \[\]$'
expect '^  eval_step\(.*\) -> loss f32 \[\], logits f32 '
expect '^report$'
expect '^  note: hand-built$'
finish
