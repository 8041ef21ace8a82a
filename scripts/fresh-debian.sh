#!/usr/bin/env bash
# Run the README's two set-up commands on a FRESH Debian 12 (root): a minimal bookworm tree
# made with debootstrap, holding nothing but Debian's base system and a copy of this checkout.
# This is what a newcomer's machine has, so what the commands forget to install fails here
# even where this machine happens to have it (another Python, preinstalled packages).
#
#   bash scripts/fresh-debian.sh [install|test|both]   (default: both)
#
# Exit 0 when the commands pass, 1 when one fails, 3 when no Debian tree could be made (no
# mirror reachable, no debootstrap): the check could not run, which says nothing of podwall.
# The tree lives in a temporary directory and is removed at the end, also on failure; kernel
# tests run inside it as they do on a machine (the proc, sys and dev mounts are the host's).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-both}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" = 0 ] || { echo "fresh-debian: needs root (debootstrap, chroot)" >&2; exit 3; }
if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get install -y -qq debootstrap >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null 2>&1; } \
    || { echo "fresh-debian: cannot install debootstrap" >&2; exit 3; }
fi

root=$(mktemp -d /tmp/pw-fresh-debian.XXXXXX)
cleanup() {
  # One lazy recursive unmount of the tree (it is bind-mounted onto itself) takes every mount
  # below it; then the files go.
  mountpoint -q "$root" 2>/dev/null && umount -R -l "$root"
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT

echo "fresh-debian: debootstrap bookworm (minbase) into $root"
if ! debootstrap --variant=minbase bookworm "$root" "$mirror" > "$root.log" 2>&1; then
  tail -5 "$root.log" >&2; rm -f "$root.log"
  echo "fresh-debian: could not make a Debian tree: the check did not run" >&2
  exit 3
fi
rm -f "$root.log"
mkdir -p "$root/src"
git ls-files -z | xargs -0 tar -c | tar -x -C "$root/src"   # the checkout as committed files
cp /etc/resolv.conf "$root/etc/resolv.conf"
# What every installed Debian has and debootstrap does not write (chromedriver is reached at
# "localhost").
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
# This machine's CA bundle, for a TLS-inspecting proxy between us and PyPI (if any).
cp /etc/ssl/certs/ca-certificates.crt "$root/root/host-ca.crt" 2>/dev/null || true
# The tree is bind-mounted onto itself so that its / is a mount point, as on a machine
# (`ip netns exec` makes / a slave mount and fails on a plain directory); /dev recursively
# for /dev/pts and /dev/shm (Chromium needs shared memory).
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/run"

in_tree() {
  local env=(PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 CI="${CI:-}")
  [ -s "$root/root/host-ca.crt" ] && env+=(PIP_CERT=/root/host-ca.crt)
  chroot "$root" /usr/bin/env -i "${env[@]}" /bin/bash -c "cd /src && $1"
}
status=0
if [ "$what" != test ]; then
  cmd=$(grep -m1 '^bash scripts/install.sh' README.md)
  echo "fresh-debian: README set-up command 1: $cmd"
  if ! in_tree "$cmd" > "$root/install.log" 2>&1; then
    tail -40 "$root/install.log" >&2
    echo "fresh-debian: set-up command 1 FAILED" >&2
    status=1
  fi
fi
if [ "$what" != install ] && [ "$status" = 0 ]; then
  cmd=$(grep -m1 '^bash scripts/test.sh' README.md)
  echo "fresh-debian: README set-up command 2: $cmd"
  in_tree "$cmd" || { echo "fresh-debian: set-up command 2 FAILED" >&2; status=1; }
fi
[ "$status" = 0 ] && echo "fresh-debian: both README commands pass on a fresh Debian 12"
exit "$status"
