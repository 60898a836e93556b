#!/usr/bin/env bash
# Makes another OS version's update folder from a built one, for the update test: the same
# root filesystem with IMAGE_VERSION changed (debugfs, no mount), and a kernel image built
# for that version with the same tool as the image build (image-build/os/uki.sh), from the
# built UKI's own kernel and initrd. --broken adds a drop-in that keeps berth.service from
# starting, so that version's health gate fails. --raw leaves the root uncompressed.
#   make-version.sh FROM_DIR FROM_VERSION NEW_VERSION OUT_DIR [--broken] [--raw]
set -euo pipefail
from=$1 fromv=$2 v=$3 out=$4
shift 4
broken="" raw=""
for a in "$@"; do case $a in --broken) broken=1 ;; --raw) raw=1 ;; *) echo "make-version: unknown $a" >&2; exit 2 ;; esac; done
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${BERTH_IMAGE_CACHE:-$repo/image-build/cache}
work=$(mktemp -d /var/tmp/berth-mkver.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
gunzip -c "$from/berth_$fromv.root.raw.gz" > "$work/root.ext4"
debugfs -R 'cat /usr/lib/os-release' "$work/root.ext4" 2>/dev/null | sed '/^IMAGE_VERSION=/d' > "$work/os-release"
echo "IMAGE_VERSION=$v" >> "$work/os-release"
cmds=$work/debugfs.cmds
printf 'rm /usr/lib/os-release\nwrite %s /usr/lib/os-release\nsif /usr/lib/os-release mode 0100644\n' "$work/os-release" > "$cmds"
if [ -n "$broken" ]; then
  printf '[Service]\nExecStartPre=/bin/sh -c "echo berth: this build is broken on purpose, for the OS update test; exit 1"\n' > "$work/broken.conf"
  printf 'mkdir /etc/systemd/system/berth.service.d\nwrite %s /etc/systemd/system/berth.service.d/broken.conf\nsif /etc/systemd/system/berth.service.d/broken.conf mode 0100644\n' "$work/broken.conf" >> "$cmds"
fi
debugfs -w -f "$cmds" "$work/root.ext4" >/dev/null 2>&1
debugfs -R 'cat /usr/lib/os-release' "$work/root.ext4" 2>/dev/null | grep -qx "IMAGE_VERSION=$v" || { echo "make-version: could not set IMAGE_VERSION" >&2; exit 1; }
# The kernel and initrd from the built kernel image; the stub and ukify from the cached tree.
/usr/bin/python3 - "$from/berth_$fromv.efi" "$work" <<'PY'
import sys, pefile
pe = pefile.PE(sys.argv[1])
for s in pe.sections:
    name = s.Name.rstrip(b'\0').decode()
    if name in ('.linux', '.initrd'):
        open(f'{sys.argv[2]}/{name[1:]}', 'wb').write(s.get_data()[: s.Misc_VirtualSize])
PY
base=$(ls "$cache"/trixie-base-*.tar | head -1)
tar -C "$work" -xf "$base" ./usr/lib/systemd/boot/efi/linuxx64.efi.stub
mkdir -p "$work/ukify" && dpkg-deb -x "$(ls "$cache"/trixie-ukify-*.deb | head -1)" "$work/ukify"
mv "$work/linux" "$work/vmlinuz-test"
bash "$repo/image-build/os/uki.sh" "$work/ukify" "$work/usr/lib/systemd/boot/efi/linuxx64.efi.stub" "$work/vmlinuz-test" "$work/initrd" "$work/os-release" "$v" "$out/berth_$v.efi" 2>/dev/null
if [ -n "$raw" ]; then mv "$work/root.ext4" "$out/berth_$v.root.raw"; else gzip -1 -c "$work/root.ext4" > "$out/berth_$v.root.raw.gz"; fi
(cd "$out" && sha256sum berth_* > SHA256SUMS)
