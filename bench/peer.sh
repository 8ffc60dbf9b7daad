# What every side-by-side bench (bench/*/compare.sh) shares, sourced after
# root and cache are set: the machine line, and the PyTorch peer at its best
# settings: OpenBLAS's OpenMP build (Debian's default libblas3 is the
# reference BLAS; apt-get download + dpkg -x into the cache if it is not
# installed) and glibc malloc told not to map and trim big buffers on every
# call. `fail` must be defined.
python=/usr/bin/python3
"$python" -c 'import torch, numpy' 2>/dev/null ||
  fail "$python has no torch or numpy; apt-get install python3-torch python3-numpy"

openblas=/usr/lib/x86_64-linux-gnu/openblas-openmp
if [[ ! -e $openblas/libblas.so.3 ]]; then
  openblas=$cache/openblas-openmp/usr/lib/x86_64-linux-gnu/openblas-openmp
  if [[ ! -e $openblas/libblas.so.3 ]]; then
    mkdir -p "$cache/debs"
    (cd "$cache/debs" && apt-get download libopenblas0-openmp >/dev/null 2>&1) ||
      fail "cannot download libopenblas0-openmp (apt-get download); install it (apt-get install libopenblas0-openmp) or set GIGA_BENCH_CACHE to a folder holding it"
    dpkg -x "$cache"/debs/libopenblas0-openmp_*.deb "$cache/openblas-openmp"
  fi
fi
# Not `ldconfig -p | grep -q`: grep's early exit fails the pipe (pipefail).
[[ $(ldconfig -p) == *'libgfortran.so.5 '* ]] ||
  fail "OpenBLAS needs libgfortran5; apt-get install libgfortran5"
peer_env=(LD_LIBRARY_PATH="$openblas" MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000)

bf16=no
grep -q -w -E 'avx512_bf16|amx_bf16' /proc/cpuinfo && bf16=yes

# print_machine DETAILS: the machine, the date and giga's commit, then DETAILS.
print_machine() {
  local model flags memory
  model=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
  flags=$(grep -o -w -E 'avx2|fma|avx512f|avx512_bf16|amx_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')
  memory=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
  echo "machine: $model, $(nproc) CPUs available, $memory memory; ISA: $flags; bf16: $bf16"
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ); giga $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'); $1"
  echo "PyTorch BLAS: $openblas/libblas.so.3"
}
