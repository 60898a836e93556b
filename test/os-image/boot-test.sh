#!/usr/bin/env bash
# `npm run test:os-image`: boots the appliance image in QEMU (UEFI via OVMF, software
# emulation, -snapshot so the image is not changed) with a small disk labelled BERTHTEST
# attached, which arms the image's self-test (image-build/os/selftest). Passes when the
# serial console shows berth's ready line, the self-test's PASS, and the VM powers off.
# The VM's network is QEMU's user-mode network with restrict=on: it reaches nothing outside.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=$(node -p "require('./package.json').version")
IMG=${BERTH_IMG:-out/berth-$VERSION-amd64.img}
LIMIT=${BOOT_TIMEOUT:-600}
[ -f "$IMG" ] || bash image-build/os-image.sh
WORK=$(mktemp -d /var/tmp/berth-boot.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
LOG=$WORK/serial.log
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$WORK/vars.fd"
truncate -s 16M "$WORK/test.img" && mkfs.vfat -n BERTHTEST "$WORK/test.img" >/dev/null
# A disk larger than the image, as the disk it is flashed to is: the root must grow into it.
# The overlay (and -snapshot) keep the image itself unchanged.
qemu-img create -q -f qcow2 -b "$(realpath "$IMG")" -F raw "$WORK/disk.qcow2" 8G
: > "$LOG"

start=$(date +%s.%N)
timeout "$LIMIT" qemu-system-x86_64 -machine q35 -accel tcg -cpu max -m 2048 -smp 2 \
  -nographic -monitor none -serial "file:$LOG" -no-reboot \
  -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
  -drive if=pflash,format=raw,file="$WORK/vars.fd" \
  -drive file="$WORK/disk.qcow2",format=qcow2,if=virtio -drive file="$WORK/test.img",format=raw,if=virtio -snapshot \
  -nic user,model=virtio-net-pci,restrict=on &
qemu=$!
ready_s=""
while kill -0 "$qemu" 2>/dev/null; do
  if [ -z "$ready_s" ] && grep -q '^berth: ready, ' "$LOG" 2>/dev/null; then
    ready_s=$(echo "$(date +%s.%N) - $start" | bc)
    echo "boot-test: $(grep -m1 -a '^berth: ready, ' "$LOG" | tr -d '\r') after ${ready_s%.*} s"
  fi
  sleep 0.5
done
wait "$qemu"; rc=$?
total=$(echo "$(date +%s.%N) - $start" | bc)
grep -a 'berth-selftest:' "$LOG" | tr -d '\r' | sed 's/^/boot-test: /'
if [ "$rc" -ne 0 ]; then echo "boot-test: FAIL: QEMU ended with $rc (124: no poweroff within ${LIMIT}s)"; tail -40 "$LOG"; exit 1; fi
grep -aq 'berth: ready, 2 apps running, 0 failed' "$LOG" || { echo "boot-test: FAIL: no 'berth: ready, 2 apps running, 0 failed' line"; tail -40 "$LOG"; exit 1; }
grep -aq 'berth-selftest: PASS' "$LOG" || { echo "boot-test: FAIL: the self-test did not pass"; tail -60 "$LOG"; exit 1; }
echo "boot-test: PASS: QEMU start to 'berth: ready' ${ready_s%.*} s; powered off cleanly after ${total%.*} s"
