#!/usr/bin/env bash
# The fresh-root stage of `npm test`: does image-build/install-deps.sh, on a fresh Debian 12,
# bring everything berth, its images and its tests use? A package installed by hand on the
# developers' machines (podman's catatonit once) keeps their tests green; here it cannot.
#
# 1. A Debian 12 minbase root (debootstrap), cached.
# 2. install-deps.sh run inside it (chroot, in a private mount namespace), exactly as a
#    person runs it: Debian's packages without Recommends, Node.js 20 where Debian's is
#    older, the npm dependencies. The result is cached, keyed by the package list and the
#    installer, so it is rebuilt when either changes.
# 3. Inside it, with its own Node.js: `berth doctor --root /` (berth's own needs, for the
#    shipped recipes), and every program and file in test/fresh-root/tools.txt.
#
# Env: BERTH_CACHE_DIR (default /var/cache/berth-build), BERTH_DEBIAN_MIRROR,
# BERTH_HOST_PACKAGES (another package list, e.g. an older one, to check it instead).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
CACHE=${BERTH_CACHE_DIR:-/var/cache/berth-build}/fresh-root
MIRROR=${BERTH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
LIST=${BERTH_HOST_PACKAGES:-$REPO/image-build/host-packages.txt}
T0=$(date +%s)
say() { echo "fresh-root: [$(($(date +%s) - T0))s] $*"; }
mkdir -p "$CACHE"

# Runs a command chrooted into $1 with /proc, /dev and DNS, in a private mount namespace
# (nothing stays mounted on the host).
in_root() {
  local root=$1
  shift
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  unshare -m --propagation private sh -c '
    r=$1; shift
    mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" && mount -t tmpfs tmpfs "$r/tmp"
    exec chroot "$r" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin \
      HOME=/root LANG=C.UTF-8 NODE_EXTRA_CA_CERTS=/etc/host-ca.crt "$@"' sh "$root" "$@"
}

# 1. The minbase root.
BASE=$CACHE/bookworm-minbase.tar
if [ ! -f "$BASE" ]; then
  say "debootstrap bookworm minbase (not cached yet)"
  t=$(mktemp -d /var/tmp/berth-fresh.XXXXXX)
  debootstrap --variant=minbase bookworm "$t" "$MIRROR" >/dev/null
  rm -rf "$t"/var/lib/apt/lists/* "$t"/var/cache/apt/archives/*.deb
  tar -C "$t" --numeric-owner -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
  rm -rf "$t"
fi

# 2. install-deps.sh inside it, cached by what it installs.
key=$( (cat "$LIST" image-build/install-deps.sh package-lock.json; echo v1) | sha256sum | cut -c1-16)
ROOT=$CACHE/root-$key
if [ ! -f "$ROOT/.complete" ]; then
  say "installing the host package list into a fresh Debian 12 root (not cached yet)"
  rm -rf "$ROOT" "$ROOT.tmp"
  mkdir -p "$ROOT.tmp"
  tar -C "$ROOT.tmp" --numeric-owner -xpf "$BASE"
  printf '#!/bin/sh\nexit 101\n' > "$ROOT.tmp/usr/sbin/policy-rc.d" && chmod 755 "$ROOT.tmp/usr/sbin/policy-rc.d"
  # This machine's way to the npm registry (its CA bundle), as a person's network would be.
  cp /etc/ssl/certs/ca-certificates.crt "$ROOT.tmp/etc/host-ca.crt"
  echo "cafile=/etc/host-ca.crt" > "$ROOT.tmp/etc/npmrc"
  mkdir -p "$ROOT.tmp/root/berth/image-build"
  cp package.json package-lock.json "$ROOT.tmp/root/berth/"
  cp image-build/install-deps.sh "$ROOT.tmp/root/berth/image-build/"
  cp "$LIST" "$ROOT.tmp/root/berth/image-build/host-packages.txt"
  if ! in_root "$ROOT.tmp" /bin/bash -c 'cd /root/berth && bash image-build/install-deps.sh' > "$CACHE/install-$key.log" 2>&1; then
    tail -n 30 "$CACHE/install-$key.log" >&2
    echo "fresh-root: FAIL: install-deps.sh failed on a fresh Debian 12 (log: $CACHE/install-$key.log)" >&2
    exit 1
  fi
  rm -rf "$ROOT.tmp"/var/cache/apt/archives/*.deb
  touch "$ROOT.tmp/.complete" && mv "$ROOT.tmp" "$ROOT"
  # Older roots are of no use any more.
  find "$CACHE" -maxdepth 1 -name 'root-*' ! -name "root-$key" -exec rm -rf {} +
  say "installed ($(du -sh "$ROOT" | cut -f1))"
else
  say "reusing the fresh root for this package list ($(basename "$ROOT"))"
fi

# 3. Checks, with the root's own Node.js and the berth built here.
rm -rf "$ROOT/root/berth/dist" "$ROOT/root/berth/recipes"
cp -a dist recipes "$ROOT/root/berth/"
fail=0
say "berth doctor --root / inside it:"
if ! in_root "$ROOT" node /root/berth/dist/cli/main.js doctor --root / --recipes /root/berth/recipes; then
  fail=1
fi
missing=()
while read -r path _; do
  case "$path" in '' | '#'*) continue ;; esac
  [ -e "$ROOT$path" ] || missing+=("$path")
done < test/fresh-root/tools.txt
if [ "${#missing[@]}" -gt 0 ]; then
  for m in "${missing[@]}"; do
    echo "fresh-root: missing $m ($(grep -F "$m " test/fresh-root/tools.txt | sed 's/^[^ ]* *//'))"
  done
  fail=1
fi
if [ "$fail" -ne 0 ]; then
  echo "fresh-root: FAIL: a fresh Debian 12 after install-deps.sh lacks what berth or its tests use; add the package to image-build/host-packages.txt" >&2
  exit 1
fi
say "ok: a fresh Debian 12 after install-deps.sh has all berth, its images and its tests use"
