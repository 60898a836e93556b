# The LAN media image: Samba (smbd for file sharing, nmbd for NetBIOS names so TV boxes
# and old Windows find the server by name, wsdd for Windows 10/11 Explorer's "Network",
# started together by /usr/local/bin/berth-samba) and MiniDLNA (DLNA/UPnP for smart TVs).
# One Debian base for both: it is tagged as the samba and as the minidlna image, which
# share its layers, and each recipe names its program as the entrypoint. The appliance
# image preloads it once instead of two Debian bases.
IMAGE=localhost/berth/samba:12
TAGS=(localhost/berth/minidlna:12)
PACKAGES=(debootstrap)
CHANGES=('CMD ["/bin/bash"]')

build_rootfs() {
  local root=$1
  source images/lib-debian.sh
  debian_rootfs "$root" samba,samba-common-bin,smbclient,wsdd,passwd,minidlna
  cat > "$root/usr/local/bin/berth-samba" <<'SH'
#!/bin/bash
# Runs nmbd, wsdd and smbd; when one of them ends, the container ends and systemd
# restarts it. SAMBA_USER and SAMBA_PASSWORD (optional) create a user with that password.
set -eu
mkdir -p /run/samba /var/lib/samba/private /var/cache/samba /var/log/samba
if [ -n "${SAMBA_USER:-}" ] && [ -n "${SAMBA_PASSWORD:-}" ]; then
  id "$SAMBA_USER" >/dev/null 2>&1 || useradd --no-create-home --shell /usr/sbin/nologin "$SAMBA_USER"
  printf '%s\n%s\n' "$SAMBA_PASSWORD" "$SAMBA_PASSWORD" | smbpasswd -s -a "$SAMBA_USER" >/dev/null
fi
name=$(testparm -s --parameter-name='netbios name' 2>/dev/null || hostname)
trap 'kill -TERM $(jobs -p) 2>/dev/null; wait' TERM INT
nmbd --foreground --no-process-group --debug-stdout &
if [ "${WSDD:-yes}" = yes ]; then wsdd --shortlog --hostname "$name" & fi
smbd --foreground --no-process-group --debug-stdout &
wait -n
exit $?
SH
  chmod 755 "$root/usr/local/bin/berth-samba"
}
