#!/usr/bin/env bash
# `npm run os-image`: the flashable appliance, out/berth-<version>-amd64.img and .img.zst.
# A raw GPT disk: an EFI system partition with systemd-boot, the BERTH settings partition
# (FAT, Microsoft basic data, so every OS shows it: keys, name and recipes at flash time),
# and an ext4 root (LABEL=berth-root), last so that it can grow into the rest of the disk,
# from Debian 13 "trixie" packages with berth, its unit, the shipped recipes and their
# local images preloaded as archives. Built without mounting anything (this host cannot
# mount vfat): mkfs.ext4 -d fills the root, mtools the ESP, sfdisk the partition table.
# The debootstrap tree is cached in image-build/cache, keyed by its package list.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
VERSION=$(node -p "require('./package.json').version")
OUT=${BERTH_OUT:-$REPO/out}
CACHE=${BERTH_IMAGE_CACHE:-$REPO/image-build/cache}
SUITE=trixie
MIRROR=${BERTH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ESP_MB=256
SETTINGS_MB=64
# The smallest disk berth needs (said in README and on the console of a smaller one).
MIN_DISK_GB=4
IMG=$OUT/berth-$VERSION-amd64.img
T0=$(date +%s)
say() { echo "os-image: [$(( $(date +%s) - T0 ))s] $*"; }

for tool in debootstrap mkfs.ext4 mkfs.vfat mcopy mmd sfdisk zstd podman; do
  command -v "$tool" >/dev/null || { echo "os-image: $tool is missing (bash image-build/install-deps.sh --os-image installs it)" >&2; exit 1; }
done
mkdir -p "$CACHE" "$OUT"

# 1. The Debian tree, cached by what goes into it.
packages=$(grep -v '^#' image-build/os-packages.txt | paste -sd, -)
key=$(printf '%s\n%s\n%s\n' "$SUITE" "$packages" v1 | sha256sum | cut -c1-16)
BASE=$CACHE/$SUITE-base-$key.tar
if [ ! -f "$BASE" ]; then
  say "debootstrap $SUITE (not cached yet)"
  tree=$(mktemp -d /var/tmp/berth-deboot.XXXXXX)
  debootstrap --variant=minbase --include="$packages" "$SUITE" "$tree" "$MIRROR" >/dev/null
  chroot "$tree" apt-get clean
  rm -rf "$tree"/var/lib/apt/lists/* "$tree"/usr/share/doc/* "$tree"/usr/share/man/* "$tree"/usr/share/locale/*
  tar -C "$tree" --numeric-owner -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
  rm -rf "$tree"
else
  say "reusing the cached $SUITE tree $(basename "$BASE")"
fi

WORK=$(mktemp -d /var/tmp/berth-os.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
R=$WORK/root
mkdir -p "$R"
tar -C "$R" --numeric-owner -xpf "$BASE"

# 2. berth itself: built JavaScript and production dependencies only.
say "installing berth $VERSION"
npm run --silent build
mkdir -p "$R/usr/lib/berth"
mkdir -p "$R/usr/lib/berth/recipes"
cp -a dist package.json package-lock.json "$R/usr/lib/berth/"
# The catalog (berth search, berth add) is read from beside the built code.
cp -a recipes/catalog "$R/usr/lib/berth/recipes/"
(cd "$R/usr/lib/berth" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
chmod 755 "$R/usr/lib/berth/dist/cli/main.js"
ln -sf ../lib/berth/dist/cli/main.js "$R/usr/bin/berth"
install -m 644 units/berth.service "$R/etc/systemd/system/berth.service"
install -m 644 units/berth-update.timer units/berth-update.service "$R/etc/systemd/system/"
mkdir -p "$R/etc/systemd/system/timers.target.wants"
ln -sf /etc/systemd/system/berth-update.timer "$R/etc/systemd/system/timers.target.wants/berth-update.timer"
install -D -m 644 image-build/os/berth-growroot.service "$R/etc/systemd/system/berth-growroot.service"
install -D -m 755 image-build/os/growroot "$R/usr/lib/berth/image/growroot"
sed -i "s/@MIN_DISK_GB@/$MIN_DISK_GB/" "$R/usr/lib/berth/image/growroot"
install -D -m 644 image-build/os/berth-selftest.service "$R/etc/systemd/system/berth-selftest.service"
install -D -m 755 image-build/os/selftest "$R/usr/lib/berth/image/selftest"
install -m 644 units/berth-settings.service units/berth-settings-report.service "$R/etc/systemd/system/"
install -m 644 image-build/os/berth-ssh-keygen.service "$R/etc/systemd/system/"
wants=$R/etc/systemd/system/multi-user.target.wants
mkdir -p "$wants" "$R/etc/systemd/system/ssh.service.wants"
for u in berth.service berth-growroot.service berth-selftest.service berth-settings.service berth-settings-report.service; do
  ln -sf "/etc/systemd/system/$u" "$wants/$u"
done
ln -sf /usr/lib/systemd/system/ssh.service "$wants/ssh.service"
ln -sf /etc/systemd/system/berth-ssh-keygen.service "$R/etc/systemd/system/ssh.service.wants/berth-ssh-keygen.service"
ln -sf /usr/lib/systemd/system/systemd-networkd.service "$wants/systemd-networkd.service"
ln -sf /usr/lib/systemd/system/systemd-resolved.service "$wants/systemd-resolved.service"

# 3. Recipes: all shipped ones as examples, samba and minidlna active; their images preloaded.
say "recipes and preloaded images"
mkdir -p "$R/etc/berth/recipes" "$R/usr/share/berth/recipes" "$R/var/lib/berth/images" "$R/srv/media"
cp recipes/*.yaml recipes/recipe.schema.json "$R/usr/share/berth/recipes/"
cp recipes/samba.yaml recipes/minidlna.yaml recipes/recipe.schema.json "$R/etc/berth/recipes/"
cp README.md "$R/usr/share/berth/README.md"
# The BERTH partition's berth/ folder as shipped, to copy back if it is lost.
cp -r image-build/settings/berth "$R/usr/share/berth/settings"
bash image-build/build-images.sh media >/dev/null
podman save --quiet --multi-image-archive -o "$R/var/lib/berth/images/apps.tar" localhost/berth/samba:12 localhost/berth/minidlna:12

# 4. The system: network, names, first boot, console.
say "system configuration"
echo berth > "$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tberth\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$R/etc/hosts"
printf 'LABEL=berth-root\t/\text4\tdefaults,errors=remount-ro\t0\t1\n' > "$R/etc/fstab"
# The settings partition: nothing on it runs (noexec), only root reads it, and a machine
# whose partition is gone or damaged still boots (nofail); fsck.vfat mends it after a power cut;
# quiet: berth's whole-file writes set a mode, which FAT cannot keep.
printf 'PARTLABEL=berth-settings\t/boot/berth\tvfat\tnofail,noexec,nosuid,nodev,umask=0077,quiet,flush,x-systemd.device-timeout=20s\t0\t2\n' >> "$R/etc/fstab"
mkdir -p "$R/boot/berth"
# SSH: keys only unless the person says otherwise; host keys are made at first boot.
install -D -m 644 image-build/os/sshd-berth.conf "$R/etc/ssh/sshd_config.d/20-berth.conf"
rm -f "$R"/etc/ssh/ssh_host_*
install -D -m 644 image-build/os/20-wired.network "$R/etc/systemd/network/20-wired.network"
install -D -m 644 image-build/os/resolved-berth.conf "$R/etc/systemd/resolved.conf.d/berth.conf"
install -m 644 image-build/os/issue "$R/etc/issue"
# No well-known password: root is locked until berth sets one (from the BERTH partition, or
# a one-time password shown on the console; berth settings import does both).
chroot "$R" usermod -p '*' root
rm -f "$R/etc/machine-id" && : > "$R/etc/machine-id" # generated at first boot

# The kernel and initrd are booted from the ESP; the appliance is updated by a new image,
# so the root keeps no second copy (47 MB of already-compressed data).
kernel=$(ls "$R"/boot/vmlinuz-* | sort -V | tail -1)
initrd=$(ls "$R"/boot/initrd.img-* | sort -V | tail -1)
mv "$kernel" "$initrd" "$WORK/"
kernel=$WORK/$(basename "$kernel")
initrd=$WORK/$(basename "$initrd")

# 5. The root filesystem, with room to spare; it grows to the whole disk at first boot.
used_mb=$(( $(du -sm "$R" | cut -f1) ))
root_mb=$(( used_mb + used_mb / 4 + 512 ))
say "root filesystem: ${used_mb} MB used, ${root_mb} MB"
mkfs.ext4 -q -L berth-root -d "$R" "$WORK/root.ext4" "${root_mb}M"

# 6. The EFI system partition: systemd-boot, the kernel and the initrd.
say "EFI system partition"
mkfs.vfat -C -n BERTH-ESP "$WORK/esp.img" $(( ESP_MB * 1024 )) >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$WORK/esp.img" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries
mcopy -i "$WORK/esp.img" "$R/usr/lib/systemd/boot/efi/systemd-bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$WORK/esp.img" "$kernel" ::/vmlinuz
mcopy -i "$WORK/esp.img" "$initrd" ::/initrd.img
printf 'default berth.conf\ntimeout 0\n' > "$WORK/loader.conf"
# The last console= is /dev/console; berth writes its ready line to every active console.
printf 'title berth %s\nlinux /vmlinuz\ninitrd /initrd.img\noptions root=LABEL=berth-root rw quiet console=tty0 console=ttyS0,115200\n' "$VERSION" > "$WORK/berth.conf"
mcopy -i "$WORK/esp.img" "$WORK/loader.conf" ::/loader/loader.conf
mcopy -i "$WORK/esp.img" "$WORK/berth.conf" ::/loader/entries/berth.conf

# 7. The settings partition: the berth/ folder with its README and commented examples.
say "settings partition"
mkfs.vfat -C -n BERTH "$WORK/settings.img" $(( SETTINGS_MB * 1024 )) >/dev/null
mcopy -s -i "$WORK/settings.img" image-build/settings/berth ::/
# The disk: GPT with the three partitions, on a sparse file.
say "disk image"
esp_sectors=$(( ESP_MB * 2048 ))
settings_sectors=$(( SETTINGS_MB * 2048 ))
root_sectors=$(( root_mb * 2048 ))
total_mb=$(( 1 + ESP_MB + SETTINGS_MB + root_mb + 1 ))
rm -f "$IMG"
truncate -s "${total_mb}M" "$IMG"
sfdisk --quiet "$IMG" <<EOF
label: gpt
start=2048, size=$esp_sectors, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
start=$(( 2048 + esp_sectors )), size=$settings_sectors, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="berth-settings"
start=$(( 2048 + esp_sectors + settings_sectors )), size=$root_sectors, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root"
EOF
dd if="$WORK/esp.img" of="$IMG" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$WORK/settings.img" of="$IMG" bs=1M seek=$(( 1 + ESP_MB )) conv=notrunc,sparse status=none
dd if="$WORK/root.ext4" of="$IMG" bs=1M seek=$(( 1 + ESP_MB + SETTINGS_MB )) conv=notrunc,sparse status=none

say "compressing"
zstd -q -f -T0 -10 "$IMG" -o "$IMG.zst"
say "done: $IMG ($(( $(stat -c %s "$IMG") / 1048576 )) MiB raw), $IMG.zst ($(( $(stat -c %s "$IMG.zst") / 1048576 )) MiB) in $(( $(date +%s) - T0 )) s"
