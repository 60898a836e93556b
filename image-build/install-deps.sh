#!/usr/bin/env bash
# Installs what berth and its tests need on a Debian machine: Node.js ≥ 20, podman with
# runc, the systemd/D-Bus pieces for a user manager, image-building and LAN-test tools,
# then the project's npm dependencies. Safe to run again; installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  podman runc iptables uidmap conmon netavark aardvark-dns  # containers (runc: see image-build/README.md)
  dbus-user-session systemd                                 # a systemd user manager on a session bus
  busybox-static debootstrap                                # local images without a registry
  smbclient samba-common-bin python3-zeroconf avahi-daemon  # real Samba and mDNS peers for the LAN tests
  podman-compose iproute2 python3                           # benchmark reference, network namespaces
  qemu-system-x86 qemu-utils ovmf fdisk dosfstools mtools zstd bc  # the appliance image and its boot test
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if ! command -v node >/dev/null || [ "$(node_major)" -lt 20 ]; then missing+=(nodejs npm); fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "berth: these Debian packages are missing: ${missing[*]}; run this script as root (sudo)." >&2
    exit 1
  fi
  echo "berth: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$(node_major)" -lt 20 ]; then
  echo "berth: Node.js $(node --version 2>/dev/null || echo '(none)') is too old; berth needs Node.js 20 or newer" >&2
  echo "       (Debian 13 ships it; on Debian 12 install nodejs 20 from backports or NodeSource)." >&2
  exit 1
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
