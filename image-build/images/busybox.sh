# A tiny image: Debian's static busybox with its applets as symlinks.
# Serves as the base of the sample web apps (busybox httpd) and of the tests.
IMAGE=localhost/berth/busybox:1.35.0
PACKAGES=(busybox-static)
# PATH as every registry image sets it (podman run supplies one when it is missing; kube play does not).
CHANGES=('ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["/bin/sh"]' 'WORKDIR /')

build_rootfs() {
  local root=$1
  mkdir -p "$root"/{bin,etc,tmp,www,root,var/www}
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
  chmod 1777 "$root/tmp"
}
