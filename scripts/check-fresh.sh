#!/usr/bin/env bash
# Proves the README's two commands on a fresh Debian bookworm system.
#
#   scripts/check-fresh.sh [--root DIR] [--keep] [--log FILE]
#
# Builds a clean bookworm root with debootstrap (from Debian's packages, with
# nothing added), copies this working tree (tracked and untracked files, not
# ignored ones such as build/) and ../shared into it, and inside a chroot runs
# `scripts/demo.sh` and then `scripts/test.sh` exactly as the README gives
# them, as root, with a clean environment. Prints each command's wall time and
# exit status, and exits non-zero if either failed.
#
#   --root DIR   where to build the root (default /var/tmp/giga-fresh; it is
#                deleted first, and afterwards unless --keep)
#   --keep       leave the root in place afterwards, to look around in it
#   --log FILE   the full output of both commands (default DIR.log)
#
# Needs root, about 8 GB of disk and 30-40 minutes on 2 cores; downloaded
# .debs are cached in /var/cache/giga-fresh so a second run fetches less (the
# root itself is always new). Not part of .ci/run: run it before resolving any
# change to dependencies, and record its summary in docs/setup.md.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$PWD

root=/var/tmp/giga-fresh
keep=0
log=""
while (($#)); do
  case "$1" in
    --root) root=${2:?--root needs a directory}; shift 2 ;;
    --keep) keep=1; shift ;;
    --log) log=${2:?--log needs a file}; shift 2 ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-fresh.sh: error: unknown argument '$1'; see --help" >&2; exit 2 ;;
  esac
done
log=${log:-$root.log}
root=$(realpath -m "$root")

die() {
  echo "check-fresh.sh: error: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "debootstrap and chroot need root; run as root"
[[ -d ../shared ]] || die "$(realpath -m ../shared) is missing; the README's commands read ../shared beside the checkout"
case "$root" in
  / | /bin* | /boot* | /dev* | /etc* | /home | /lib* | /proc* | /root | /sbin* | /sys* | /usr* | /var | /work) die "--root $root is a system directory; pick a scratch directory" ;;
esac
if ! command -v debootstrap > /dev/null; then
  echo "== installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap ||
    die "cannot install debootstrap; apt-get update, then run again"
fi
free_kb=$(df -Pk "$(dirname "$root")" | awk 'NR == 2 { print $4 }')
((free_kb > 8 * 1024 * 1024)) || die "$(dirname "$root") has $((free_kb / 1024)) MiB free; the fresh root needs about 8 GiB (pick another place with --root)"

mounts=()
cleanup() {
  local status=$?
  local mount
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    mount=${mounts[i]}
    umount -R "$mount" 2> /dev/null || umount -lR "$mount" 2> /dev/null ||
      echo "check-fresh.sh: warning: could not unmount $mount" >&2
  done
  if ((keep == 0)) && [[ -e "$root/.giga-fresh-root" ]] && ! findmnt -R "$root" > /dev/null 2>&1; then
    rm -rf --one-file-system "$root"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if findmnt -R "$root" > /dev/null 2>&1; then
  die "something is still mounted under $root (an earlier run?); umount -R it first"
fi
# Only a root this script made is ever deleted (it carries a marker).
if [[ -e "$root" && -n "$(ls -A "$root" 2> /dev/null)" && ! -e "$root/.giga-fresh-root" ]]; then
  keep=1
  die "$root exists and was not made by check-fresh.sh; remove it yourself or pick another --root"
fi
rm -rf --one-file-system "$root"
mkdir -p "$root" /var/cache/giga-fresh
touch "$root/.giga-fresh-root"

mirror=http://deb.debian.org/debian
echo "== debootstrap bookworm $root ($mirror)"
started=$SECONDS
debootstrap --cache-dir=/var/cache/giga-fresh bookworm "$root" "$mirror" > "$root.debootstrap.log" 2>&1 ||
  die "debootstrap failed; see $root.debootstrap.log"
rm -f "$root.debootstrap.log"
bootstrap_seconds=$((SECONDS - started))
cat > "$root/etc/apt/sources.list" << EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The network's trust, not the project's: where this machine reaches the npm
# registry through a TLS-intercepting egress, its CA sits here, and a fresh
# machine on the same network has it too. ca-certificates (which setup.sh
# installs) adds it to the system store that Debian's Node.js reads.
if compgen -G "/usr/local/share/ca-certificates/*.crt" > /dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi

echo "== copying the working tree and ../shared into $root/giga"
mkdir -p "$root/giga/main" "$root/giga/shared"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' file; do [[ -e "$file" ]] && printf '%s\0' "$file"; done |
  tar --null -T - -cf - | tar -xf - -C "$root/giga/main"
cp -a ../shared/. "$root/giga/shared/"

for target in proc sys dev; do
  mkdir -p "$root/$target"
done
mount -t proc proc "$root/proc" && mounts+=("$root/proc")
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys" && mounts+=("$root/sys")
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev" && mounts+=("$root/dev")

# run_in_root NAME COMMAND: runs COMMAND as the README gives it, from the
# checkout, with only the environment a fresh root login would have.
declare -A seconds status
run_in_root() {
  local name=$1 command=$2
  echo "== [fresh root] $command"
  local start=$SECONDS
  set +e
  chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash \
    TERM=dumb LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -c "cd /giga/main && $command" >> "$log" 2>&1
  status[$name]=$?
  set -e
  seconds[$name]=$((SECONDS - start))
  echo "   exit ${status[$name]} after ${seconds[$name]} s"
}

: > "$log"
run_in_root demo scripts/demo.sh
run_in_root test scripts/test.sh

summary=$(grep -E '^[0-9]+% tests passed|tests failed out of' "$log" | tail -n 1 || true)
echo
echo "check-fresh: $(date -u +%Y-%m-%d), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
echo "  debootstrap bookworm    ${bootstrap_seconds} s"
echo "  scripts/demo.sh         exit ${status[demo]}, ${seconds[demo]} s"
echo "  scripts/test.sh         exit ${status[test]}, ${seconds[test]} s${summary:+ ($summary)}"
echo "  log: $log"
((status[demo] == 0 && status[test] == 0)) || die "a README command failed in the fresh root; see $log"
