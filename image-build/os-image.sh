#!/usr/bin/env bash
# `npm run os-image`: the flashable appliance, out/berth-<version>-amd64.img and .img.zst,
# and the same version as an OS update, out/os-update-<version>/ (README, "Update the OS").
# A raw GPT disk: an EFI system partition with systemd-boot and one unified kernel image
# (UKI) per version; the BERTH settings partition (FAT, Microsoft basic data, so every OS
# shows it: keys, name and recipes at flash time); two root slots of a fixed size, A
# holding this version (partition label berth-root_<version>) and B empty (_empty, where
# systemd-sysupdate writes the next version); and /var (berth-var), last so that it grows
# into the rest of the disk at first boot: app data, recipes, the image store, root's home.
# From Debian 13 "trixie" packages with berth, its units, the shipped recipes and their
# local images already in podman's store. Built without mounting anything (this host cannot
# mount vfat): mkfs.ext4 -d fills root and /var, mtools the ESP, sfdisk the partition table.
# The debootstrap tree is cached in image-build/cache, keyed by its package list.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
VERSION=${BERTH_OS_VERSION:-$(node -p "require('./package.json').version")}
OUT=${BERTH_OUT:-$REPO/out}
CACHE=${BERTH_IMAGE_CACHE:-$REPO/image-build/cache}
SUITE=trixie
MIRROR=${BERTH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ESP_MB=256
SETTINGS_MB=64
# Each root slot has this size for the appliance's whole life (the partition table is never
# rewritten by an update): this version's root uses about a third of it.
SLOT_MB=2048
# The smallest disk berth needs (said in README and on the console of a smaller one).
MIN_DISK_GB=8
IMG=$OUT/berth-$VERSION-amd64.img
# A version sysupdate takes, with no '+' (systemd-boot's counter), that fits a GPT name.
[[ "$VERSION" =~ ^[0-9][0-9A-Za-z._-]{0,24}$ ]] || { echo "os-image: '$VERSION' cannot be an OS version: digits first, then letters, digits, '.', '_' or '-', 25 characters at most" >&2; exit 1; }
# Updates are signed unless the builder says otherwise: an image without a key takes only
# update folders checked against SHA256SUMS (berth os status says "unsigned updates").
if [ -z "${BERTH_OS_SIGNING_KEY:-}" ] && [ "${BERTH_OS_UNSIGNED:-}" != 1 ]; then
  echo "os-image: no signing key: set BERTH_OS_SIGNING_KEY=<gpg key id> to sign updates, or BERTH_OS_UNSIGNED=1 to build an image whose updates are not signed (tests)" >&2
  exit 1
fi
if [ -n "${BERTH_OS_SIGNING_KEY:-}" ] && [ "${BERTH_OS_UNSIGNED:-}" = 1 ]; then
  echo "os-image: BERTH_OS_SIGNING_KEY and BERTH_OS_UNSIGNED=1 contradict each other; give one" >&2
  exit 1
fi
T0=$(date +%s)
say() { echo "os-image: [$(( $(date +%s) - T0 ))s] $*"; }

for tool in debootstrap mkfs.ext4 mkfs.vfat mcopy mmd sfdisk zstd gzip podman python3; do
  command -v "$tool" >/dev/null || { echo "os-image: $tool is missing (bash image-build/install-deps.sh --os-image installs it)" >&2; exit 1; }
done
mkdir -p "$CACHE" "$OUT"

# 1. The Debian tree, cached by what goes into it.
packages=$(grep -v '^#' image-build/os-packages.txt | paste -sd, -)
key=$(printf '%s\n%s\n%s\n' "$SUITE" "$packages" v2 | sha256sum | cut -c1-16)
BASE=$CACHE/$SUITE-base-$key.tar
UKIFY_DEB=$CACHE/$SUITE-ukify-$key.deb
if [ ! -f "$BASE" ] || [ ! -f "$UKIFY_DEB" ]; then
  say "debootstrap $SUITE (not cached yet)"
  tree=$(mktemp -d /var/tmp/berth-deboot.XXXXXX)
  debootstrap --variant=minbase --include="$packages" "$SUITE" "$tree" "$MIRROR" >/dev/null
  # ukify builds the unified kernel images on the host; it is not installed in the tree
  # (it would bring Python into the appliance), only its package is kept beside it.
  chroot "$tree" sh -c 'cd /tmp && apt-get download -qq -o APT::Sandbox::User=root systemd-ukify' && mv "$tree"/tmp/systemd-ukify_*.deb "$UKIFY_DEB"
  chroot "$tree" apt-get clean
  rm -rf "$tree"/var/lib/apt/lists/* "$tree"/usr/share/doc/* "$tree"/usr/share/man/* "$tree"/usr/share/locale/*
  tar -C "$tree" --numeric-owner -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
  # Trees of earlier package lists are not used again.
  find "$CACHE" -maxdepth 1 -name "$SUITE-*" ! -name "$(basename "$BASE")" ! -name "$(basename "$UKIFY_DEB")" -delete
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
# berth's own units come with each version, in /usr, enabled there too: /etc/systemd/system
# then holds only what berth writes for the apps (and a person's own changes), which is what
# an OS update carries into the next version.
U=$R/usr/lib/systemd/system
install -m 644 units/berth.service units/berth-update.timer units/berth-update.service \
  units/berth-settings.service units/berth-settings-report.service "$U/"
install -m 644 image-build/os/berth-growroot.service image-build/os/berth-selftest.service \
  image-build/os/berth-update-selftest.service image-build/os/berth-ssh-keygen.service \
  image-build/os/berth-fsck-var.service "$U/"
mkdir -p "$U/var.mount.requires" && ln -sf ../berth-fsck-var.service "$U/var.mount.requires/"
# The health gate of a new OS version (boot counting): see the unit.
install -m 644 image-build/os/berth-boot-healthy.service "$U/"
install -D -m 755 image-build/os/growroot "$R/usr/lib/berth/image/growroot"
sed -i "s/@MIN_DISK_GB@/$MIN_DISK_GB/" "$R/usr/lib/berth/image/growroot"
install -m 755 image-build/os/selftest image-build/os/selftest-disks image-build/os/update-selftest \
  image-build/os/boot-healthy image-build/os/mount-settings "$R/usr/lib/berth/image/"
# The BERTH partition is found in the boot disk's own table (see mount-settings), not in fstab.
for u in berth-settings.service berth-settings-report.service; do
  install -D -m 644 image-build/os/settings-partition.conf "$U/$u.d/10-partition.conf"
done
mkdir -p "$U/multi-user.target.wants" "$U/timers.target.wants" "$U/ssh.service.wants" "$U/boot-complete.target.requires"
for u in berth.service berth-growroot.service berth-selftest.service berth-update-selftest.service berth-settings.service berth-settings-report.service; do
  ln -sf "../$u" "$U/multi-user.target.wants/$u"
done
ln -sf ../berth-update.timer "$U/timers.target.wants/berth-update.timer"
ln -sf ../berth-ssh-keygen.service "$U/ssh.service.wants/berth-ssh-keygen.service"
ln -sf ../berth-boot-healthy.service "$U/boot-complete.target.requires/berth-boot-healthy.service"
wants=$R/etc/systemd/system/multi-user.target.wants
mkdir -p "$wants"
ln -sf /usr/lib/systemd/system/ssh.service "$wants/ssh.service"
ln -sf /usr/lib/systemd/system/systemd-networkd.service "$wants/systemd-networkd.service"
ln -sf /usr/lib/systemd/system/systemd-resolved.service "$wants/systemd-resolved.service"
# smartd (enabled by its package) would ask every disk every 30 minutes, also those that hold
# nothing of berth's: berth's supervisor reads SMART itself (-n standby), only from the disks
# that hold berth's data, so idle disks can sleep.
rm -f "$wants/smartmontools.service" "$R/etc/systemd/system/smartd.service"

# 3. Recipes: all shipped ones as examples, samba and minidlna active; their images in the store.
say "recipes and preloaded images"
mkdir -p "$R/etc/berth/recipes" "$R/usr/share/berth/recipes" "$R/var/lib/berth/images" "$R/srv/media"
cp recipes/*.yaml recipes/recipe.schema.json "$R/usr/share/berth/recipes/"
cp recipes/samba.yaml recipes/minidlna.yaml recipes/recipe.schema.json "$R/etc/berth/recipes/"
cp README.md "$R/usr/share/berth/README.md"
# The BERTH partition's berth/ folder as shipped, to copy back if it is lost.
cp -r image-build/settings/berth "$R/usr/share/berth/settings"
bash image-build/build-images.sh media >/dev/null
# Their images go straight into podman's store on /var (a store of its own, made here by
# the host's podman): the first boot starts the apps without loading an archive, which
# under software emulation took about a minute. What podman keeps beside the images (its
# container database, the network backend's name) is the host's and is left out.
podman save --quiet --multi-image-archive -o "$WORK/apps.tar" localhost/berth/samba:12 localhost/berth/minidlna:12
STORE=$R/var/lib/containers/storage
podman --root "$STORE" --runroot "$WORK/podman-run" --storage-driver overlay load --quiet -i "$WORK/apps.tar" >/dev/null 2>"$WORK/podman-load.err" ||
  { cat "$WORK/podman-load.err" >&2; exit 1; }
rm -rf "$STORE/libpod" "$STORE/defaultNetworkBackend" "$STORE/tmp" "$STORE/mounts" "$WORK/apps.tar" "$WORK/podman-run"

# 4. The system: network, names, first boot, console.
say "system configuration"
echo berth > "$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tberth\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$R/etc/hosts"
# The root comes from the kernel command line (each version names its own slot), so fstab
# has no line for it. /var holds everything that outlives an OS version; the ESP (/efi) is
# where the versions' kernel images and boot counters live (sysupdate and bless-boot use it).
{
  # systemd must never unmount /var under running apps because udev lost its device for a
  # moment (first boot's growroot rewrites the partition table while /var is mounted): the
  # mount is not bound to the device, and pass 0 because berth-fsck-var.service checks it
  # (the fsck@ instance a pass number makes is bound to the device, and /var requires it).
  printf 'PARTLABEL=berth-var\t/var\text4\tdefaults,x-systemd.device-bound=false\t0\t0\n'
  # The bind mount of /var/srv shows in mountinfo as a mount of /var's device, so it needs the
  # same option, or udev losing that device for a moment stops /srv and every app using it.
  printf '/var/srv\t/srv\tnone\tbind,x-systemd.device-bound=false\t0\t0\n'
  printf 'PARTLABEL=esp\t/efi\tvfat\tumask=0077,nofail,x-systemd.automount,x-systemd.idle-timeout=1min\t0\t2\n'
  # The settings partition has no line: berth-settings.service mounts it (mount-settings).
} > "$R/etc/fstab"
# The version's own fstab, so that an update carries only the lines a person added.
install -D -m 644 "$R/etc/fstab" "$R/usr/lib/berth/fstab"
mkdir -p "$R/boot/berth" "$R/efi"
# SSH: keys only unless the person says otherwise; host keys are made at first boot.
install -D -m 644 image-build/os/sshd-berth.conf "$R/etc/ssh/sshd_config.d/20-berth.conf"
rm -f "$R"/etc/ssh/ssh_host_*
# berth's default network lives in /usr (it comes with each version); /etc/systemd/network
# holds only a person's own files, and those are carried into the next version.
install -D -m 644 image-build/os/20-wired.network "$R/usr/lib/systemd/network/20-berth-wired.network"
install -D -m 644 image-build/os/resolved-berth.conf "$R/etc/systemd/resolved.conf.d/berth.conf"
install -m 644 image-build/os/issue "$R/etc/issue"
# No well-known password: root is locked until berth sets one (from the BERTH partition, or
# a one-time password shown on the console; berth settings import does both).
chroot "$R" usermod -p '*' root
rm -f "$R/etc/machine-id" && : > "$R/etc/machine-id" # generated at first boot
# Versions and slots: sysupdate and sd-boot read IMAGE_ID and IMAGE_VERSION.
printf 'IMAGE_ID=berth\nIMAGE_VERSION=%s\n' "$VERSION" >> "$R/usr/lib/os-release"
# sysupdate's transfer definitions (berth os update writes the ones it runs from the same
# renderer; these are for systemd-sysupdate by hand and say what the image does).
mkdir -p "$R/usr/lib/berth/sysupdate.d"
node dist/cli/main.js os definitions --out "$R/usr/lib/berth/sysupdate.d" >/dev/null
if [ -n "${BERTH_OS_UPDATE_URL:-}" ]; then
  echo "$BERTH_OS_UPDATE_URL" > "$R/usr/lib/berth/os-update-url"
fi
# A signing key: its public half goes into the image; SHA256SUMS is signed with it below.
if [ -n "${BERTH_OS_SIGNING_KEY:-}" ]; then
  gpg --batch --export "$BERTH_OS_SIGNING_KEY" > "$R/usr/lib/systemd/import-pubring.gpg"
  [ -s "$R/usr/lib/systemd/import-pubring.gpg" ] || { echo "os-image: gpg has no public key $BERTH_OS_SIGNING_KEY" >&2; exit 1; }
else
  # systemd's own keyring (distributions' image keys) would otherwise pass for berth's key.
  rm -f "$R/usr/lib/systemd/import-pubring.gpg"
  say "no signing key (BERTH_OS_UNSIGNED=1): this image takes unsigned updates from folders only"
fi

# What outlives an OS version moves to /var, which is its own partition: recipes
# (/etc/berth), root's home (authorized_keys), /srv, and everything already in /var (the
# preloaded archives, the image store to come, app data). dpkg's database describes this
# version's packages, so it stays in the root slot.
mv "$R/var/lib/dpkg" "$R/usr/lib/sysimage-dpkg" 2>/dev/null || { mkdir -p "$R/usr/lib"; mv "$R/var/lib/dpkg" "$R/usr/lib/sysimage-dpkg"; }
ln -s /usr/lib/sysimage-dpkg "$R/var/lib/dpkg"
mv "$R/etc/berth" "$R/var/lib/berth/etc" && ln -s /var/lib/berth/etc "$R/etc/berth"
mv "$R/root" "$R/var/roothome" && ln -s var/roothome "$R/root"
# The media share and other data under /srv: /var/srv, bind-mounted on /srv (fstab), not a
# symlink, so that /srv/<label> is a path systemd takes for a data disk's mount unit and for
# RequiresMountsFor= (both refuse or do not follow a symlink in the path).
mv "$R/srv" "$R/var/srv" && mkdir -m 755 "$R/srv"
V=$WORK/var
mv "$R/var" "$V" && mkdir -m 755 "$R/var"

# The kernel and initrd go into one unified kernel image per version; the root keeps no
# second copy (47 MB of already-compressed data).
kernel=$(ls "$R"/boot/vmlinuz-* | sort -V | tail -1)
initrd=$(ls "$R"/boot/initrd.img-* | sort -V | tail -1)
mv "$kernel" "$initrd" "$WORK/"
kernel=$WORK/$(basename "$kernel")
initrd=$WORK/$(basename "$initrd")
say "unified kernel image berth_$VERSION.efi"
mkdir -p "$WORK/ukify" && dpkg-deb -x "$UKIFY_DEB" "$WORK/ukify"
UKI=$WORK/berth_$VERSION.efi
STUB=$R/usr/lib/systemd/boot/efi/linuxx64.efi.stub
bash image-build/os/uki.sh "$WORK/ukify" "$STUB" "$kernel" "$initrd" "$R/usr/lib/os-release" "$VERSION" "$UKI"

# 5. The root slot's filesystem: this version's files, with room for a few more; the slot
# around it is SLOT_MB. /var: its factory contents, grown to fill the disk at first boot.
used_mb=$(( $(du -sm "$R" | cut -f1) ))
root_mb=$(( used_mb + used_mb / 4 + 256 ))
if [ "$root_mb" -gt "$SLOT_MB" ]; then echo "os-image: the root needs $root_mb MB, more than a slot's $SLOT_MB MB" >&2; exit 1; fi
say "root filesystem: ${used_mb} MB used, ${root_mb} MB in a ${SLOT_MB} MB slot"
mkfs.ext4 -q -L berth-root -d "$R" "$WORK/root.ext4" "${root_mb}M"
var_used=$(( $(du -sm "$V" | cut -f1) ))
var_mb=$(( var_used + 512 ))
say "/var: ${var_used} MB used, ${var_mb} MB"
mkfs.ext4 -q -L berth-var -d "$V" "$WORK/var.ext4" "${var_mb}M"

# 6. The EFI system partition: systemd-boot and this version's kernel image. No counter on
# the factory image's entry (it is good by definition); loader.conf names no default, so
# systemd-boot boots the newest version that still has tries, and skips a failed one.
say "EFI system partition"
mkfs.vfat -C -n BERTH-ESP "$WORK/esp.img" $(( ESP_MB * 1024 )) >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$WORK/esp.img" ::/EFI ::/EFI/BOOT ::/EFI/Linux ::/loader
mcopy -i "$WORK/esp.img" "$R/usr/lib/systemd/boot/efi/systemd-bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$WORK/esp.img" "$UKI" "::/EFI/Linux/berth_$VERSION.efi"
printf 'timeout 0\neditor no\n' > "$WORK/loader.conf"
mcopy -i "$WORK/esp.img" "$WORK/loader.conf" ::/loader/loader.conf

# 7. The settings partition: the berth/ folder with its README and commented examples.
say "settings partition"
mkfs.vfat -C -n BERTH "$WORK/settings.img" $(( SETTINGS_MB * 1024 )) >/dev/null
mcopy -s -i "$WORK/settings.img" image-build/settings/berth ::/
# The disk: GPT with ESP, BERTH, root A, root B (empty: no bytes in the sparse file and
# none in the compressed one) and /var, on a sparse file. The root slots have sd's root
# type (systemd-sysupdate's MatchPartitionType=root); /var is a plain Linux partition.
say "disk image"
esp_sectors=$(( ESP_MB * 2048 ))
settings_sectors=$(( SETTINGS_MB * 2048 ))
slot_sectors=$(( SLOT_MB * 2048 ))
var_sectors=$(( var_mb * 2048 ))
a_start=$(( 2048 + esp_sectors + settings_sectors ))
b_start=$(( a_start + slot_sectors ))
var_start=$(( b_start + slot_sectors ))
total_mb=$(( 1 + ESP_MB + SETTINGS_MB + 2 * SLOT_MB + var_mb + 1 ))
rm -f "$IMG"
truncate -s "${total_mb}M" "$IMG"
ROOT_TYPE=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709
sfdisk --quiet "$IMG" <<EOF
label: gpt
start=2048, size=$esp_sectors, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
start=$(( 2048 + esp_sectors )), size=$settings_sectors, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="berth-settings"
start=$a_start, size=$slot_sectors, type=$ROOT_TYPE, name="berth-root_$VERSION"
start=$b_start, size=$slot_sectors, type=$ROOT_TYPE, name="_empty"
start=$var_start, size=$var_sectors, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="berth-var"
EOF
dd if="$WORK/esp.img" of="$IMG" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$WORK/settings.img" of="$IMG" bs=1M seek=$(( 1 + ESP_MB )) conv=notrunc,sparse status=none
dd if="$WORK/root.ext4" of="$IMG" bs=512 seek=$a_start conv=notrunc,sparse status=none
dd if="$WORK/var.ext4" of="$IMG" bs=512 seek=$var_start conv=notrunc,sparse status=none

# 8. The same version as an update: the root filesystem (gzip: trixie's sysupdate reads
# gzip and xz, not zstd), the kernel image, SHA256SUMS and, with a key, its signature.
UPD=$OUT/os-update-$VERSION
say "update payload $UPD"
rm -rf "$UPD" && mkdir -p "$UPD"
gzip -c -6 "$WORK/root.ext4" > "$UPD/berth_$VERSION.root.raw.gz"
cp "$UKI" "$UPD/berth_$VERSION.efi"
(cd "$UPD" && sha256sum berth_* > SHA256SUMS)
if [ -n "${BERTH_OS_SIGNING_KEY:-}" ]; then
  gpg --batch --yes --local-user "$BERTH_OS_SIGNING_KEY" --detach-sign --output "$UPD/SHA256SUMS.gpg" "$UPD/SHA256SUMS"
fi

say "compressing the disk image"
zstd -q -f -T0 -10 "$IMG" -o "$IMG.zst"
mb() { echo $(( $(stat -c %s "$1") / 1048576 )); }
say "done: $IMG ($(mb "$IMG") MiB raw), $IMG.zst ($(mb "$IMG.zst") MiB); update $(basename "$UPD") ($(( $(du -sm "$UPD" | cut -f1) )) MiB) in $(( $(date +%s) - T0 )) s"
