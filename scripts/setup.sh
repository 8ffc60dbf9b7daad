#!/usr/bin/env bash
# Installs what is missing (Debian bookworm, as root), then configures and
# builds giga into build/. Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake g++ ninja-build ccache git
  libmlir-19-dev mlir-19-tools llvm-19-dev llvm-19-tools
  libdnnl-dev libcli11-dev nlohmann-json3-dev libgtest-dev
  python3 python3-torch
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
# npm fetches the tokenizer and corpora. A machine may already have Node.js
# from elsewhere (whose npm conflicts with Debian's), so look for the command.
command -v npm > /dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: error: installing packages needs root; run as root or install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [[ ! -f build/build.ninja ]]; then
  cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release
fi
ninja -C build
