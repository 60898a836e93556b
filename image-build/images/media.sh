# Samba for the LAN: smbd (file sharing), nmbd (NetBIOS names, so TV boxes and old
# Windows find the server by name) and wsdd (Windows 10/11 Explorer's "Network" view),
# started together by /usr/local/bin/berth-samba. smb.conf comes from the recipe.
IMAGE=localhost/berth/samba:12
PACKAGES=(debootstrap)
CHANGES=('ENTRYPOINT ["/usr/local/bin/berth-samba"]' 'CMD []')

build_rootfs() {
  local root=$1
  source images/lib-debian.sh
  debian_rootfs "$root" samba,samba-common-bin,smbclient,wsdd,passwd
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
