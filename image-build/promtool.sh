#!/usr/bin/env bash
# Prints the path of a promtool (Prometheus' own checker) for the /metrics tests, without
# installing a Prometheus server: Debian's package is downloaded once into the build cache and
# unpacked there (Debian 12 ships promtool inside `prometheus`, Debian 13 in `promtool`).
# A promtool already on the machine is used as it is.
set -euo pipefail
if command -v promtool >/dev/null; then command -v promtool; exit 0; fi
CACHE=${BERTH_CACHE:-/var/cache/berth-build}
pkg=prometheus
[ "$(. /etc/os-release; echo "${VERSION_ID:-}")" = 12 ] || pkg=promtool
dir=$CACHE/promtool-$pkg
if [ ! -x "$dir/usr/bin/promtool" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && { apt-get download -qq -o APT::Sandbox::User=root "$pkg" 2>/dev/null ||
    { apt-get update -qq && apt-get download -qq -o APT::Sandbox::User=root "$pkg"; }; }) >&2
  mkdir -p "$tmp/x" && dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/x"
  rm -rf "$dir" && mkdir -p "$CACHE" && mv "$tmp/x" "$dir"
fi
echo "$dir/usr/bin/promtool"
