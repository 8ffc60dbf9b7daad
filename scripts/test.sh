#!/usr/bin/env bash
# Installs what is missing, builds, fetches the pinned test data, and runs
# every test suite (lit and GoogleTest) through ctest.
#
#   scripts/test.sh              the README's test command (CI runs it)
#   scripts/test.sh --sanitize   the same tests on an ASan + UBSan build in
#                                build-sanitize/ (docs/reliability.md); not
#                                part of CI: it costs a second full build
#                                and runs the tests ~3x slower
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=0
case "${1:-}" in
  "") ;;
  --sanitize) sanitize=1 ;;
  *) echo "test.sh: error: unknown argument '$1' (only --sanitize)" >&2; exit 2 ;;
esac
scripts/setup.sh
if [[ -x scripts/fetch-npm.sh ]]; then
  scripts/fetch-npm.sh all > /dev/null
fi
if ((sanitize)); then
  flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  if [[ ! -f build-sanitize/build.ninja ]]; then
    mkdir -p build-sanitize
    cmake -G Ninja -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
      -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" \
      > build-sanitize/configure.log 2>&1 ||
      { cat build-sanitize/configure.log >&2; rm -f build-sanitize/build.ninja; exit 1; }
  fi
  ninja -C build-sanitize
  # Leaks are reported too; the suppressions name only other libraries'.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$PWD/test/sanitize/lsan.supp:print_suppressions=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  cd build-sanitize
  # Not here: the memory-budget test (it bounds the RSS, which ASan's shadow
  # memory and quarantine inflate several times) and the real-text training
  # (5 minutes in the plain build, past its timeout under ASan).
  ctest --output-on-failure --timeout 1800 -j2 \
    -E '^(e2e-gigarun-memory-budget|e2e-gigarun-text)$'
  exit
fi
cd build
ctest --output-on-failure --timeout 900 -j2
