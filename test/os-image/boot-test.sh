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
LIMIT=${BOOT_TIMEOUT:-1200}
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

# The status page is reached through a port forwarded on the host's loopback only.
WEB_PORT=${BOOT_WEB_PORT:-18780}
WEB_OK=""
# Software emulation is slow, and slower still beside other busy processes: say how busy.
echo "boot-test: load average $(cut -d' ' -f1-3 /proc/loadavg) at the start; limit ${LIMIT} s"
start=$(date +%s.%N)
timeout "$LIMIT" qemu-system-x86_64 -machine q35 -accel tcg -cpu max -m 2048 -smp 2 \
  -nographic -monitor none -serial "file:$LOG" -no-reboot \
  -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
  -drive if=pflash,format=raw,file="$WORK/vars.fd" \
  -drive file="$WORK/disk.qcow2",format=qcow2,if=virtio -drive file="$WORK/test.img",format=raw,if=virtio -snapshot \
  -nic "user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:$WEB_PORT-:80" &
qemu=$!
# On failure the whole serial console is kept beside the image, and its end is printed.
KEEP=out/boot-serial.log
fail() {
  echo "boot-test: FAIL: $*"; echo "boot-test: load average $(cut -d' ' -f1-3 /proc/loadavg); the busiest processes:"
  ps -eo pcpu,etime,args --sort=-pcpu | head -6 | cut -c1-160 | sed 's/^/boot-test:   /'
  cp "$LOG" "$KEEP" 2>/dev/null; tail -80 "$LOG" | tr -d '\r'; echo "boot-test: the whole console is in $KEEP"; exit 1; }
ready_s=""
shown=0
beat=120
while kill -0 "$qemu" 2>/dev/null; do
  el=$(( $(date +%s) - ${start%.*} ))
  if [ "$el" -ge "$beat" ]; then
    echo "boot-test: [${el}s] still running; load average $(cut -d' ' -f1-3 /proc/loadavg)"
    beat=$((beat + 120))
  fi
  # Progress as it happens: berth's and the self-test's own lines, with the time since start.
  now=$(wc -l < "$LOG")
  if [ "$now" -gt "$shown" ]; then
    el=$(echo "$(date +%s) - ${start%.*}" | bc)
    sed -n "$((shown + 1)),${now}p" "$LOG" | tr -d '\r' | grep -aE '^(berth|berth-selftest|berth-firstboot|growroot)[:-]' | sed "s/^/boot-test: [${el}s] /" || true
    shown=$now
  fi
  if [ -z "$ready_s" ] && grep -q '^berth: ready, ' "$LOG" 2>/dev/null; then
    ready_s=$(echo "$(date +%s.%N) - $start" | bc)
  fi
  # After ready, until it answers (the self-test keeps the VM up for a minute or more).
  if [ -n "$ready_s" ] && [ -z "$WEB_OK" ] &&
    node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(5000) }).then((r) => r.text())
      .then((t) => process.exit(t.includes("<th scope=\"row\">samba</th>") ? 0 : 1), () => process.exit(1))' \
      "http://127.0.0.1:$WEB_PORT/"; then
    WEB_OK=$(( $(date +%s) - ${start%.*} ))
    echo "boot-test: [${WEB_OK}s] the status page answers through the forwarded port and lists samba"
  fi
  sleep 0.5
done
rc=0
wait "$qemu" || rc=$?
total=$(echo "$(date +%s.%N) - $start" | bc)
if [ "$rc" -ne 0 ]; then fail "QEMU ended with $rc (124: no poweroff within ${LIMIT}s)"; fi
grep -aq 'berth: ready, 2 apps running, 0 failed' "$LOG" || fail "no 'berth: ready, 2 apps running, 0 failed' line"
grep -aq 'berth-selftest: PASS' "$LOG" || fail "the self-test did not pass"
[ -n "$WEB_OK" ] || fail "the status page never answered on 127.0.0.1:$WEB_PORT (forwarded to the VM's port 80)"
echo "boot-test: PASS: QEMU start to 'berth: ready' ${ready_s%.*} s; powered off cleanly after ${total%.*} s"
