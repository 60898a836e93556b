#!/usr/bin/env bash
# `npm run test:os-update`: the A/B OS update, end to end, on one disk file that keeps its
# writes across the guest's reboots (UEFI via OVMF, software emulation; a QEMU per boot).
#   1. boot v1 (the built image) and edit a recipe, write data;
#   2. install v2 from a test disk and reboot;
#   3. v2 runs, passes its health gate and is blessed, with the same data and the edit;
#   4. install v3, whose berth cannot start, so its health gate fails;
#   5. the machine falls back to v2 by itself and `berth os status` says why.
# v2 and v3 are made from the built update folder (make-version.sh); the machine does the
# rest itself (image-build/os/update-selftest, armed by the disk labelled BERTHUPDATE) and
# prints its steps on the serial console. Versions get 1 try here (3 by default); signature
# checks are off here (--no-verify: the test versions are not signed), checksums stay on.
# A guest kernel crash or QEMU crash (software emulation, about 1 run in 6) is not a berth
# failure: the run is made once more from a fresh copy, and the output says so.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=$(node -p "require('./package.json').version")
IMG=out/berth-$VERSION-amd64.img
UPD=out/os-update-$VERSION
LIMIT=${UPDATE_TIMEOUT:-1500}
[ -f "$IMG" ] && [ -d "$UPD" ] || BERTH_OS_UNSIGNED=1 bash image-build/os-image.sh
T0=$(date +%s)
say() { echo "os-update-test: [$(( $(date +%s) - T0 ))s] $*"; }
WORK=$(mktemp -d /var/tmp/berth-update.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
V1=$VERSION V2=$VERSION.2 V3=$VERSION.3
say "making $V2 (gzip) and $V3 (uncompressed, broken) from $UPD"
D=$WORK/disk-content
mkdir -p "$D"
bash test/os-update/make-version.sh "$UPD" "$V1" "$V2" "$D/v2dir"
bash test/os-update/make-version.sh "$UPD" "$V1" "$V3" "$D/v3dir" --broken --raw
echo "$V1" > "$D/v1" && echo "$V2" > "$D/v2" && echo "$V3" > "$D/v3"
mb=$(( $(du -sm "$D" | cut -f1) + 128 ))
mkfs.ext4 -q -L BERTHUPDATE -d "$D" "$WORK/test.img" "${mb}M" 2>/dev/null
rm -rf "$D"
DISK=$WORK/disk.img
LOG=$WORK/serial.log
. test/os-image/qemu-crash.sh
KEEP=out/os-update-serial.log
fail() {
  echo "os-update-test: FAIL: $*"; cp "$LOG" "$KEEP" 2>/dev/null
  tail -60 "$LOG" | tr -d '\r'; echo "os-update-test: the whole console is in $KEEP"; exit 1; }
# One run: the built image, fresh, through every version and reboot. Each boot is its own
# QEMU process (-no-reboot) on the same disk and firmware-variables files, appending to one
# console log: a guest reboot ends the process and the next boot starts cold, so QEMU's warm
# reset (which hung once in CI under emulation) is never used.
run_once() {
  cp /usr/share/OVMF/OVMF_VARS_4M.fd "$WORK/vars.fd"
  cp --sparse=always "$IMG" "$DISK" && truncate -s 10G "$DISK"
  : > "$LOG" && : > "$WORK/steps"
  say "booting $V1; load average $(cut -d' ' -f1-3 /proc/loadavg); limit ${LIMIT} s"
  start=$(date +%s)
  shown=0 boots=0 rc=0 ended=""
  while [ "$boots" -lt 8 ]; do
    boots=$((boots + 1))
    boot_qemu || break
    [ "$ended" = reset ] || break
  done
}
# One boot; returns non-zero when the run is over (a crash, a FAIL, the time limit).
boot_qemu() {
  local from left down_at=""
  from=$(wc -l < "$LOG") left=$(( LIMIT - ($(date +%s) - start) ))
  [ "$left" -gt 0 ] || { rc=124; return 1; }
  timeout "$left" qemu-system-x86_64 -machine q35 -accel tcg -cpu max -m 2048 -smp 2 -no-reboot \
    -nographic -monitor none -chardev "file,id=console,path=$LOG,append=on" -serial chardev:console \
    -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
    -drive if=pflash,format=raw,file="$WORK/vars.fd" \
    -drive file="$DISK",format=raw,if=virtio -drive file="$WORK/test.img",format=raw,if=virtio,readonly=on \
    -nic "user,model=virtio-net-pci,restrict=on" 2>> "$WORK/qemu.err" &
  qemu=$!
  while kill -0 "$qemu" 2>/dev/null; do
    now=$(wc -l < "$LOG")
    if [ "$now" -gt "$shown" ]; then
      # The agent's lines, berth's ready line and the health gate's verdict (journal lines carry a prefix).
      sed -n "$((shown + 1)),${now}p" "$LOG" | tr -d '\r' | grep -aoE '(^|\]: )(berth-update-test|berth-os|berth): .*' | sed 's/^\]: //' |
        sed "s/^/os-update-test: [$(( $(date +%s) - start ))s] /" | tee -a "$WORK/steps" || true
      shown=$now
    fi
    # A guest kernel crash under emulation: stop now (the run is made once more), before a
    # reboot it causes is counted as a try of the version on trial.
    if console_crashed "$LOG"; then sleep 3; kill "$qemu" 2>/dev/null; wait "$qemu" || rc=$?; return 1; fi
    grep -aq '^berth-update-test: FAIL' "$LOG" && { sleep 5; kill "$qemu" 2>/dev/null; fail "the machine says so (above)"; }
    if [ -z "$down_at" ] && [ -n "$(console_ended "$LOG" "$from")" ]; then down_at=$(date +%s); fi
    if [ -n "$down_at" ] && [ $(( $(date +%s) - down_at )) -ge "$QEMU_END_GRACE" ]; then
      say "QEMU did not end within ${QEMU_END_GRACE} s of the guest's last words ($(console_ended "$LOG" "$from")): stopped, as the button would (the emulator, not berth)"
      kill "$qemu" 2>/dev/null; break
    fi
    sleep 1
  done
  rc=0
  wait "$qemu" || rc=$?
  ended=$(console_ended "$LOG" "$from")
  [ -n "$down_at" ] && rc=0
  [ "$rc" -eq 0 ]
}

attempt=1
while :; do
  run_once
  crash=$(emulator_crash "$LOG" "$WORK/qemu.err" "$rc")
  [ -n "$crash" ] && [ "$attempt" -eq 1 ] || break
  cp "$LOG" out/os-update-serial-crashed.log 2>/dev/null || true
  say "RETRY: $crash; that is the emulator, not berth: the whole run once more from a fresh copy of the image (the crashed console is in out/os-update-serial-crashed.log)"
  attempt=2
done
[ -z "$crash" ] || fail "$crash (for the second time: the emulator, not berth, but the update could not be checked)"
total=$(( $(date +%s) - start ))
[ "$rc" -eq 0 ] || fail "QEMU ended with $rc (124: no power-off within ${LIMIT} s)"
[ "$ended" = off ] || fail "the machine did not power off at the end (${boots} boots, the last ended with '${ended:-nothing}')"
grep -aq '^berth-update-test: PASS' "$LOG" || fail "no PASS from the machine"
# Each step's time since QEMU started, as the console said it.
say "steps (seconds since QEMU started):"
grep -E 'berth-update-test: (booted|ready on|installing|installed .*rebooting|ok: .*blessed|ok: the recipe edit|PASS)|berth-os: ' "$WORK/steps" | sed 's/^os-update-test: /os-update-test:   /'
retried=""; [ "$attempt" -eq 1 ] || retried="; on the second run: the first one crashed in the emulator"
say "PASS in ${total} s of QEMU ($(( $(date +%s) - T0 )) s with making the versions$retried)"
