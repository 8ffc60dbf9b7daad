#!/usr/bin/env bash
# Ctrl-C, kill and hang-up keep a run's progress: the step under way
# finishes, a checkpoint is written, gigarun says where and how to resume
# and exits 128 + the signal; the resumed run continues exactly as an
# unbroken one, and removes what a killed writer left behind.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
make_toy
toy="$work/toy.wafer"
# A run far longer than the test: only a signal ends it. The unbroken
# reference stops at step `ref` with the same schedule.
args=(--data "$work/train.bin" --steps 1000000)

# interrupt NAME SIGNAL STATUS: start a run, signal it once it has trained
# a few steps, expect exit STATUS, a checkpoint at its last step and a
# message naming both; sets last_step.
interrupt() {
  local name=$1 signal=$2 want=$3 out="$work/$1"
  "$gigarun" "$toy" "${args[@]}" --out "$out" >"$work/$name.log" 2>"$work/$name.err" &
  local pid=$!
  for _ in $(seq 200); do
    [[ -f $out/metrics.jsonl && $(wc -l <"$out/metrics.jsonl") -ge 5 ]] && break
    sleep 0.05
  done
  kill "-$signal" "$pid"
  local status=0
  timeout 30 tail --pid="$pid" -f /dev/null || fail "$name: still running 30 s after SIG$signal"
  wait "$pid" || status=$?
  local last
  last=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["step"])' \
    "$out/metrics.jsonl")
  [[ $status -eq $want ]] || fail "$name: exit status $status after SIG$signal, expected $want"
  [[ -f $out/checkpoint-$last.safetensors ]] || fail "$name: no checkpoint at its last step $last"
  grep -q "stopped by SIG$signal after step $last; checkpoint $out/checkpoint-$last.safetensors; continue with the same command and --resume" \
    "$work/$name.log" || fail "$name: no resume message: $(tail -2 "$work/$name.log")"
  grep -q "interrupted: finishing this step" "$work/$name.err" ||
    fail "$name: nothing said when the signal came: $(cat "$work/$name.err")"
  compgen -G "$out/*.tmp.*" >/dev/null && fail "$name: left a temporary file: $(ls "$out")"
  last_step=$last
  echo "ok: $name: SIG$signal after step $last, exit $status"
}

# Two runs into one --out: the second is refused while the first trains.
"$gigarun" "$toy" "${args[@]}" --out "$work/busy" >"$work/busy.log" 2>&1 &
busy=$!
# (a checkpoint first, so that --resume gets as far as the lock)
for _ in $(seq 400); do
  compgen -G "$work/busy/checkpoint-*.safetensors" >/dev/null && break
  sleep 0.05
done
expect_user_error busy-out "is in use by another gigarun" \
  "$gigarun" "$toy" "${args[@]}" --out "$work/busy" --resume
kill -INT "$busy"
wait "$busy"
[[ $? -eq 130 ]] || fail "the first run of busy did not stop with 130"

interrupt term TERM 143
interrupt hup HUP 129
interrupt int INT 130

# Resumed to step last_step + 5, against an unbroken run to that step.
ref=$((last_step + 5))
# A kill -9 during a checkpoint write leaves checkpoint-N.safetensors.tmp.PID;
# the next run in that directory removes it (its writer is gone).
true & dead=$!
wait "$dead"
echo partial >"$work/int/checkpoint-$ref.safetensors.tmp.$dead"
"$gigarun" "$toy" "${args[@]}" --out "$work/int" --resume \
  --debug-exit-after-step "$ref" >"$work/resume.log" 2>&1 || fail "resume after SIGINT"
grep -q "removed 1 temporary file(s) that a killed run left in $work/int" "$work/resume.log" ||
  fail "the stale temporary was not reported: $(head -3 "$work/resume.log")"
[[ ! -e "$work/int/checkpoint-$ref.safetensors.tmp.$dead" ]] || fail "the stale temporary is still there"
"$gigarun" "$toy" "${args[@]}" --out "$work/whole" --quiet \
  --debug-exit-after-step "$ref" || fail "unbroken run"
for key in loss grad_norm; do
  diff <(column "$work/whole/metrics.jsonl" $key) \
       <(column "$work/int/metrics.jsonl" $key) >/dev/null ||
    fail "the run resumed after SIGINT differs from an unbroken one in $key"
done
[[ $(wc -l <"$work/int/metrics.jsonl") -eq $ref ]] || fail "resumed metrics: not $ref lines"
finish
