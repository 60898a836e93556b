#!/usr/bin/env bash
# Boot time of the appliance image under QEMU software emulation, against a floor booted in
# the same run: the same image with berth.service disabled, up to multi-user.target. Both
# are a first boot of a fresh copy (so berth's time includes loading the preloaded images).
# Prints one line: READY_SECONDS FLOOR_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=$(node -p "require('./package.json').version")
IMG=out/berth-$VERSION-amd64.img
[ -f "$IMG" ] || BERTH_OS_UNSIGNED=1 bash image-build/os-image.sh >&2
WORK=$(mktemp -d /var/tmp/berth-bootbench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
part_start() { sfdisk -J "$1" 2>/dev/null | node -e '
  const p = JSON.parse(require("fs").readFileSync(0, "utf8")).partitiontable.partitions.find((x) => x.name === process.argv[1]);
  console.log(p.start * 512);' "$2"; }
# boot DISK MARKER: seconds from QEMU start to the first console line starting with MARKER.
boot() {
  local log=$WORK/serial.log start
  : > "$log"
  cp /usr/share/OVMF/OVMF_VARS_4M.fd "$WORK/vars.fd"
  start=$(date +%s.%N)
  timeout 900 qemu-system-x86_64 -machine q35 -accel tcg -cpu max -m 2048 -smp 2 \
    -nographic -monitor none -serial "file:$log" -no-reboot \
    -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
    -drive if=pflash,format=raw,file="$WORK/vars.fd" \
    -drive file="$1",format=raw,if=virtio -nic user,model=virtio-net-pci,restrict=on &
  local qemu=$! t=""
  while kill -0 "$qemu" 2>/dev/null; do
    if grep -aq "$2" "$log"; then t=$(echo "$(date +%s.%N) - $start" | bc); break; fi
    sleep 0.2
  done
  kill "$qemu" 2>/dev/null; wait "$qemu" 2>/dev/null || true
  [ -n "$t" ] || { echo "os-boot bench: no '$2' on the console" >&2; tail -20 "$log" >&2; exit 1; }
  printf '%.1f' "$t"
}
cp --sparse=always "$IMG" "$WORK/berth.img" && truncate -s 10G "$WORK/berth.img"
cp --sparse=always "$IMG" "$WORK/floor.img" && truncate -s 10G "$WORK/floor.img"
# The floor: berth.service not enabled; a one-line unit says when multi-user.target is reached.
off=$(part_start "$WORK/floor.img" "berth-root_$VERSION")
printf '[Unit]\nAfter=multi-user.target\n[Service]\nType=oneshot\nExecStart=/bin/sh -c "echo floor: multi-user > /dev/console"\n[Install]\nWantedBy=multi-user.target\n' > "$WORK/floor.service"
debugfs -w -f - "$WORK/floor.img?offset=$off" >/dev/null 2>&1 <<EOF
rm /usr/lib/systemd/system/multi-user.target.wants/berth.service
write $WORK/floor.service /etc/systemd/system/bench-floor.service
sif /etc/systemd/system/bench-floor.service mode 0100644
symlink /etc/systemd/system/multi-user.target.wants/bench-floor.service /etc/systemd/system/bench-floor.service
EOF
ready=$(boot "$WORK/berth.img" 'berth: ready, ')
floor=$(boot "$WORK/floor.img" 'floor: multi-user')
echo "$ready $floor"
