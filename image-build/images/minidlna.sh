# MiniDLNA: a DLNA/UPnP media server that TV boxes list under "Media servers" (found by
# SSDP multicast). minidlna.conf comes from the recipe.
IMAGE=localhost/berth/minidlna:12
PACKAGES=(debootstrap)
CHANGES=('ENTRYPOINT ["/usr/sbin/minidlnad", "-S"]' 'CMD ["-f", "/etc/minidlna.conf"]')

build_rootfs() {
  local root=$1
  source images/lib-debian.sh
  debian_rootfs "$root" minidlna
}
