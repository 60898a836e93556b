# Shared by the Debian-based image definitions: a minimal Debian root filesystem with the
# given packages, trimmed of what a container never uses. Sourced, not run.
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
DEBIAN_MIRROR=${BERTH_DEBIAN_MIRROR:-http://deb.debian.org/debian}

debian_rootfs() {
  local root=$1 include=$2
  debootstrap --variant=minbase --include="$include" "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" >/dev/null
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/* \
    "$root"/var/log/*.log "$root"/var/cache/debconf/*-old
}
