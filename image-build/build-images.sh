#!/usr/bin/env bash
# `npm run images`: builds every local image under image-build/images/ that is missing
# or whose definition changed (a label records the definition's hash), with podman
# import of a root filesystem, since no registry is reachable. Usage: build-images.sh [NAME…]
set -euo pipefail
cd "$(dirname "$0")"
PODMAN=${PODMAN:-podman}
names=("$@")
[ ${#names[@]} -gt 0 ] || names=($(ls images | grep -v '^lib-' | sed -n 's/\.sh$//p'))

for name in "${names[@]}"; do
  def="images/$name.sh"
  [ -f "$def" ] || { echo "build-images: no image definition $def" >&2; exit 2; }
  unset IMAGE TAGS PACKAGES CHANGES; TAGS=(); source "$def"
  hash=$(cat "$def" images/lib-*.sh | sha256sum | cut -c1-16)
  have=$($PODMAN image inspect --format '{{index .Labels "berth.build-hash"}}' "$IMAGE" 2>/dev/null || true)
  if [ "$have" = "$hash" ]; then
    for t in "${TAGS[@]}"; do $PODMAN tag "$IMAGE" "$t"; done
    echo "build-images: $IMAGE is up to date"; continue
  fi
  start=$(date +%s)
  for p in "${PACKAGES[@]:-}"; do
    [ -z "$p" ] || dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || {
      echo "build-images: $IMAGE needs the Debian package $p on the build host (apt-get install $p)" >&2; exit 1; }
  done
  root=$(mktemp -d /var/tmp/berth-image.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  build_rootfs "$root"
  args=()
  for c in "${CHANGES[@]}" "LABEL berth.build-hash=$hash"; do args+=(--change "$c"); done
  tar -C "$root" --numeric-owner -c . | $PODMAN import "${args[@]}" - "$IMAGE" >/dev/null
  for t in "${TAGS[@]}"; do $PODMAN tag "$IMAGE" "$t"; done
  rm -rf "$root"; trap - EXIT
  echo "build-images: built $IMAGE in $(( $(date +%s) - start ))s"
done
