# Sourced by the QEMU stages (test/os-image/boot-test.sh, test/os-update/run.sh). Under
# software emulation (TCG) a guest kernel sometimes oopses or panics, or QEMU itself dies,
# for no fault of berth (about 1 run in 6 of the update test). Such a run is told apart from
# a berth failure by the console and QEMU's own exit, and the stage boots once more (saying
# so); every assertion stays, and a second crash fails the stage.
#
# A kernel message on the serial console: "[   12.345678] Oops: ..." and the like.
QEMU_CRASH_RE='\] (Kernel panic - not syncing|BUG: (kernel NULL pointer|unable to handle)|Oops: |general protection fault|invalid opcode: |kernel BUG at |Internal error: )'

# emulator_crash CONSOLE_LOG QEMU_STDERR EXIT_CODE: says what crashed, or nothing.
emulator_crash() {
  local line
  line=$(tr -d '\r' < "$1" | grep -aEm1 "$QEMU_CRASH_RE" || true)
  if [ -n "$line" ]; then echo "the guest kernel crashed: ${line#*\] }"; return; fi
  line=$(grep -aEm1 'fatal|Assertion|core dumped|Segmentation fault' "$2" 2>/dev/null || true)
  if [ -n "$line" ]; then echo "QEMU crashed: $line"; return; fi
  # timeout(1) exits 124 when the limit is reached, 128+N when QEMU died of signal N.
  if [ "$3" -gt 128 ]; then echo "QEMU died of signal $(( $3 - 128 ))"; fi
}

# console_crashed CONSOLE_LOG: true once the console shows a guest kernel crash (the stage
# then stops that QEMU at once instead of waiting for its time limit).
console_crashed() { tr -d '\r' < "$1" | grep -aqE "$QEMU_CRASH_RE"; }

# console_ended CONSOLE_LOG [FROM_LINE]: "reset" once the guest kernel has said it restarts,
# "off" once it has said it powers down (in the lines after FROM_LINE), nothing before. By
# then the guest has synced and unmounted everything: what is left is QEMU's part.
console_ended() {
  tail -n +"$(( ${2:-0} + 1 ))" "$1" | tr -d '\r' | grep -aoE '\] reboot: (Restarting system|Power down)' |
    tail -1 | sed -e 's/.*Restarting system$/reset/' -e 's/.*Power down$/off/'
}
# Under software emulation QEMU now and then does not carry out the guest's last reset or
# power-off and hangs with the console silent (seen once in CI, after "reboot: Restarting
# system", until the stage's time limit). A stage that sees the guest's last words and no
# QEMU exit within this many seconds stops QEMU itself, as the reset or power button would.
QEMU_END_GRACE=${QEMU_END_GRACE:-60}
