#!/usr/bin/env bash
# `npm run test:os-image`: boots a copy of the appliance image in QEMU (UEFI via OVMF,
# software emulation) with a small disk labelled BERTHTEST attached, which arms the image's
# self-test (image-build/os/selftest). Before the boot, the copy's BERTH partition gets what
# a person would put there: an SSH key, a host name, a time zone, a password, one good and
# one broken recipe. Passes when the serial console shows berth's ready line and the
# self-test's PASS, SSH with that key logs in and password login is refused, the status
# page answers, and REPORT.txt on the partition says what was taken and what was not.
# The VM's network is QEMU's user-mode network with restrict=on: it reaches nothing outside;
# its SSH and web ports are forwarded to the host's loopback only. The BERTH partition's
# udev event is held back 35 s, so the import is tested with the device appearing late. A
# guest kernel crash or QEMU crash (software emulation) is not a berth failure: that boot is
# retried once from a fresh copy, and the output says so (test/os-image/qemu-crash.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=$(node -p "require('./package.json').version")
IMG=${BERTH_IMG:-out/berth-$VERSION-amd64.img}
LIMIT=${BOOT_TIMEOUT:-1200}
[ -f "$IMG" ] || BERTH_OS_UNSIGNED=1 bash image-build/os-image.sh
WORK=$(mktemp -d /var/tmp/berth-boot.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
LOG=$WORK/serial.log
. test/os-image/qemu-crash.sh
# A copy, on a disk larger than the image as the disk it is flashed to is: the root must grow.
DISK=$WORK/disk.img
fresh_disk() {
  cp /usr/share/OVMF/OVMF_VARS_4M.fd "$WORK/vars.fd"
  rm -f "$WORK/test.img" && truncate -s 16M "$WORK/test.img" && mkfs.vfat -n BERTHTEST "$WORK/test.img" >/dev/null
  cp --sparse=always "$IMG" "$DISK" && truncate -s 8G "$DISK"
  # Two SATA disks (QEMU's AHCI: SMART, and removable): a blank one the self-test makes a
  # data disk, and one with a partition table berth has no business with (its I/O counters
  # must not move).
  rm -f "$WORK/data.img" "$WORK/idle.img" && truncate -s 2G "$WORK/data.img" && truncate -s 1G "$WORK/idle.img"
  echo 'label: gpt' | sfdisk --quiet "$WORK/idle.img"
}
fresh_disk
part_offset() { sfdisk -J "$DISK" 2>/dev/null | node -e '
  const p = JSON.parse(require("fs").readFileSync(0, "utf8")).partitiontable.partitions.find((x) => x.name === process.argv[1]);
  console.log(p.start * 512);' "$1"; }
ROOT_OFF=$(part_offset "berth-root_$VERSION")
SET=$DISK@@$(part_offset berth-settings)
export MTOOLS_SKIP_CHECK=1

# The image as flashed: no SSH host keys (each machine makes its own), no root password.
if debugfs -R 'ls /etc/ssh' "$DISK?offset=$ROOT_OFF" 2>/dev/null | grep -q ssh_host_; then
  echo "boot-test: FAIL: the image ships SSH host keys in /etc/ssh"; exit 1; fi
debugfs -R 'cat /etc/shadow' "$DISK?offset=$ROOT_OFF" 2>/dev/null | grep -q '^root:\*:' ||
  { echo "boot-test: FAIL: root has a password in the image"; exit 1; }
mdir -b -i "$SET" ::/berth | grep -q 'berth/authorized_keys' ||
  { echo "boot-test: FAIL: no berth/authorized_keys example on the BERTH partition"; exit 1; }
# An image built without a signing key (the tests' BERTH_OS_UNSIGNED=1) carries no keyring
# at all: systemd's own (distributions' keys) must not pass for berth's.
if [ ! -e "$(dirname "$IMG")/os-update-$VERSION/SHA256SUMS.gpg" ] &&
  debugfs -R 'stat /usr/lib/systemd/import-pubring.gpg' "$DISK?offset=$ROOT_OFF" 2>/dev/null | grep -q '^Inode:'; then
  echo "boot-test: FAIL: an unsigned image carries /usr/lib/systemd/import-pubring.gpg"; exit 1; fi
echo "boot-test: the image has no SSH host keys, no root password and, unsigned, no update keyring; its BERTH partition has the examples"

# What a person puts on the BERTH partition before the first boot.
PASSWORD='boot test password'
ssh-keygen -q -t ed25519 -N '' -C boot-test -f "$WORK/id"
mkdir -p "$WORK/berth/recipes"
cp "$WORK/id.pub" "$WORK/berth/authorized_keys"
echo nas-test > "$WORK/berth/hostname"
echo Europe/Berlin > "$WORK/berth/timezone"
printf '# mine\r\n%s\r\n' "$PASSWORD" > "$WORK/berth/password"
printf 'name: whoami\nimage: localhost/berth/samba:12\nentrypoint: [sleep, infinity]\nnetwork: none\ninit: true\nstop_timeout: 2s\n' > "$WORK/berth/recipes/whoami.yaml"
printf 'name: broken\nimage: localhost/berth/samba:12\nports:\n  - "99999:80"\n' > "$WORK/berth/recipes/broken.yaml"
# The BERTH partition's udev event is held back 35 s, longer than any wait for a device: the
# import must not hang on udev's /dev/disk/by-partlabel link (on a busy host that link once
# came so late that nothing was imported and the SSH key never reached the machine).
printf 'ACTION=="add", SUBSYSTEM=="block", ENV{ID_PART_ENTRY_NAME}=="berth-settings", PROGRAM="/bin/sleep 35"\n' > "$WORK/late.rules"
printf 'mkdir /etc/udev/rules.d\nwrite %s /etc/udev/rules.d/99-boot-test-late-settings.rules\nsif /etc/udev/rules.d/99-boot-test-late-settings.rules mode 0100644\n' "$WORK/late.rules" > "$WORK/late.cmds"
person_settings() {
  debugfs -w -f "$WORK/late.cmds" "$DISK?offset=$ROOT_OFF" >/dev/null 2>&1
  debugfs -R 'cat /etc/udev/rules.d/99-boot-test-late-settings.rules' "$DISK?offset=$ROOT_OFF" 2>/dev/null | grep -q 'sleep 35' ||
    { echo "boot-test: FAIL: could not add the udev rule that makes the BERTH partition appear late"; exit 1; }
  mcopy -o -s -i "$SET" "$WORK/berth" ::/
}
person_settings
echo "boot-test: the BERTH partition's udev event is held back 35 s (the import must not wait for it)"

# On failure the whole serial console is kept beside the image, and its end is printed.
KEEP=out/boot-serial.log
fail() {
  echo "boot-test: FAIL: $*"; echo "boot-test: load average $(cut -d' ' -f1-3 /proc/loadavg); the busiest processes:"
  ps -eo pcpu,etime,args --sort=-pcpu | head -6 | cut -c1-160 | sed 's/^/boot-test:   /'
  cp "$LOG" "$KEEP" 2>/dev/null; tail -80 "$LOG" | tr -d '\r'; echo "boot-test: the whole console is in $KEEP"; exit 1; }
# The status page is reached through a port forwarded on the host's loopback only.
WEB_PORT=${BOOT_WEB_PORT:-18780}
SSH_PORT=${BOOT_SSH_PORT:-18722}
SSH_OPTS=(-p "$SSH_PORT" -o LogLevel=ERROR -o UserKnownHostsFile="$WORK/known_hosts" -o StrictHostKeyChecking=accept-new -o BatchMode=yes -o ConnectTimeout=20)
boot_once() {
  WEB_OK="" SSH_OK="" SSH_TRY=0
  rm -f "$WORK/known_hosts"
  : > "$LOG"
  # Software emulation is slow, and slower still beside other busy processes: say how busy.
  echo "boot-test: load average $(cut -d' ' -f1-3 /proc/loadavg) at the start; limit ${LIMIT} s"
  start=$(date +%s.%N)
  timeout "$LIMIT" qemu-system-x86_64 -machine q35 -accel tcg -cpu max -m 2048 -smp 2 \
    -nographic -monitor none -serial "file:$LOG" -no-reboot \
    -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
    -drive if=pflash,format=raw,file="$WORK/vars.fd" \
    -drive file="$DISK",format=raw,if=virtio -drive file="$WORK/test.img",format=raw,if=virtio \
    -drive if=none,id=bdata,file="$WORK/data.img",format=raw -device ide-hd,drive=bdata,bus=ide.1,serial=BERTHDATA \
    -drive if=none,id=bidle,file="$WORK/idle.img",format=raw -device ide-hd,drive=bidle,bus=ide.2,serial=BERTHIDLE \
    -nic "user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:$WEB_PORT-:80,hostfwd=tcp:127.0.0.1:$SSH_PORT-:22" 2> "$WORK/qemu.err" &
  qemu=$!
  ready_s="" down_at=""
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
        .then((t) => process.exit(t.includes("<th scope=\"row\">samba</th>") && t.includes("nas-test") ? 0 : 1), () => process.exit(1))' \
        "http://127.0.0.1:$WEB_PORT/"; then
      WEB_OK=$(( $(date +%s) - ${start%.*} ))
      echo "boot-test: [${WEB_OK}s] the status page answers through the forwarded port and lists samba"
    fi
    # SSH with the key from the partition, every 10 s after ready until it logs in; the
    # self-test keeps the machine up until this login says it is done.
    if [ -n "$ready_s" ] && [ -z "$SSH_OK" ] && [ "$(date +%s)" -ge "$SSH_TRY" ]; then
      SSH_TRY=$(( $(date +%s) + 10 ))
      if ssh "${SSH_OPTS[@]}" -i "$WORK/id" root@127.0.0.1 \
        'hostname; readlink /etc/localtime; getent shadow root | cut -c6-8; berth status; touch /run/berth-selftest-host-done' \
        > "$WORK/ssh.out" 2>&1; then
        SSH_OK=$(( $(date +%s) - ${start%.*} ))
        echo "boot-test: [${SSH_OK}s] SSH with the partition's key logged in:"; sed 's/^/boot-test:   | /' "$WORK/ssh.out"
        # The password is set, but password login over SSH stays off: only publickey is offered.
        ssh "${SSH_OPTS[@]}" -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive \
          root@127.0.0.1 true > "$WORK/ssh-pw.out" 2>&1 || true
        echo "boot-test: password login: $(tail -1 "$WORK/ssh-pw.out")"
      fi
    fi
    # A guest kernel crash under emulation: stop this boot now (it is booted once more).
    if console_crashed "$LOG"; then sleep 3; kill "$qemu" 2>/dev/null; fi
    if [ -z "$down_at" ] && [ -n "$(console_ended "$LOG")" ]; then down_at=$(date +%s); fi
    if [ -n "$down_at" ] && [ $(( $(date +%s) - down_at )) -ge "$QEMU_END_GRACE" ]; then
      echo "boot-test: QEMU did not end within ${QEMU_END_GRACE} s of the guest's power-off: stopped, as the button would (the emulator, not berth)"
      kill "$qemu" 2>/dev/null; break
    fi
    sleep 0.5
  done
  rc=0
  wait "$qemu" || rc=$?
  [ -z "$down_at" ] || rc=0
}

attempt=1
while :; do
  boot_once
  crash=$(emulator_crash "$LOG" "$WORK/qemu.err" "$rc")
  [ -n "$crash" ] && [ "$attempt" -eq 1 ] || break
  cp "$LOG" out/boot-serial-crashed.log 2>/dev/null || true
  echo "boot-test: RETRY: $crash; that is the emulator, not berth: booting once more from a fresh copy of the image (the crashed console is in out/boot-serial-crashed.log)"
  attempt=2
  fresh_disk && person_settings
done
[ -z "$crash" ] || fail "$crash (for the second time: the emulator, not berth, but the boot could not be checked)"
total=$(echo "$(date +%s.%N) - $start" | bc)
if [ "$rc" -ne 0 ]; then fail "QEMU ended with $rc (124: no poweroff within ${LIMIT}s)"; fi
grep -aq 'berth: ready, 3 apps running, 0 failed' "$LOG" || fail "no 'berth: ready, 3 apps running, 0 failed' line (samba, minidlna and whoami from the BERTH partition)"
grep -aq 'berth-selftest: PASS' "$LOG" || fail "the self-test did not pass"
[ -n "$WEB_OK" ] || fail "the status page never answered on 127.0.0.1:$WEB_PORT (forwarded to the VM's port 80)"
[ -n "$SSH_OK" ] || fail "SSH with the key from berth/authorized_keys never logged in on 127.0.0.1:$SSH_PORT: $(tail -3 "$WORK/ssh.out" 2>/dev/null)"
sed -n 1p "$WORK/ssh.out" | grep -qx nas-test || fail "the host name from berth/hostname was not taken"
sed -n 2p "$WORK/ssh.out" | grep -qx /usr/share/zoneinfo/Europe/Berlin || fail "the time zone from berth/timezone was not taken"
sed -n 3p "$WORK/ssh.out" | grep -qxF '$y$' || fail "root's password from berth/password was not set (yescrypt)"
grep -q 'Permission denied (publickey)' "$WORK/ssh-pw.out" || fail "SSH did not refuse password login: $(cat "$WORK/ssh-pw.out")"
# What the machine wrote back on the partition.
mtype -i "$SET" ::/berth/REPORT.txt | tr -d '\r' > "$WORK/REPORT.txt" || fail "no berth/REPORT.txt on the BERTH partition"
sed 's/^/boot-test: REPORT.txt | /' "$WORK/REPORT.txt"
for want in 'berth/recipes/whoami.yaml: imported as /etc/berth/recipes/whoami.yaml' 'berth/recipes/broken.yaml:4: ' \
  'nas-test.local' 'ssh root@nas-test.local' 'the plain-text password was erased'; do
  grep -qF "$want" "$WORK/REPORT.txt" || fail "REPORT.txt does not say: $want"
done
grep -qE '^  Addresses: .*10\.0\.2\.15' "$WORK/REPORT.txt" || fail "REPORT.txt does not give the address 10.0.2.15"
grep -qE '^  whoami +running' "$WORK/REPORT.txt" || fail "REPORT.txt does not list whoami running"
if mtype -i "$SET" ::/berth/password | grep -qF "$PASSWORD"; then fail "the plain-text password is still on the partition"; fi
echo "boot-test: SSH logs in with the partition's key after ${SSH_OK} s, password login is refused; REPORT.txt says what was taken"
retried=""; [ "$attempt" -eq 1 ] || retried=" (on the second boot: the first one crashed in the emulator)"
echo "boot-test: PASS: QEMU start to 'berth: ready' ${ready_s%.*} s; powered off cleanly after ${total%.*} s$retried"
