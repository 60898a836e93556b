#!/usr/bin/env bash
# One unified kernel image for one OS version: systemd's stub with the kernel, the initrd,
# the command line that boots this version's own root slot (by partition label: both slots'
# filesystems carry the same label) and the version's os-release, which systemd-boot reads
# for its menu and for the order of versions. Built by trixie's ukify, run with Debian's
# python3 (its pefile), so the appliance carries no Python.
#   uki.sh UKIFY_TREE STUB KERNEL INITRD OS_RELEASE VERSION OUT
set -euo pipefail
ukify_tree=$1 stub=$2 kernel=$3 initrd=$4 os_release=$5 version=$6 out=$7
kver=$(basename "$kernel" | sed 's/^vmlinuz-//')
# panic=10: an initrd that cannot find its root reboots (and the boot counter moves on)
# instead of waiting at a shell.
cmdline="root=PARTLABEL=berth-root_$version rw quiet panic=10 console=tty0 console=ttyS0,115200"
/usr/bin/python3 "$ukify_tree/usr/bin/ukify" build --no-measure --efi-arch=x64 \
  --stub="$stub" --linux="$kernel" --initrd="$initrd" --uname="$kver" \
  --cmdline="$cmdline" --os-release="@$os_release" --output="$out" >/dev/null
