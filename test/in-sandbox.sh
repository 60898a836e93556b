#!/bin/sh
# Runs a command in a private mount namespace where /run/systemd is an empty tmpfs with
# a system/ directory, so a systemd user manager starts on a machine where systemd is not
# PID 1. Everything inside (manager, podman, berth, tests) shares the namespace, so podman
# sees the network-namespace mounts of the containers it made. The host is not changed.
set -eu
if [ "${BERTH_SANDBOX_NS:-}" = 1 ]; then exec "$@"; fi
[ -d /run/systemd ] || mkdir -p /run/systemd
exec unshare -m --propagation private env BERTH_SANDBOX_NS=1 \
  sh -c 'mount -t tmpfs -o mode=0755 tmpfs /run/systemd && mkdir -p /run/systemd/system && exec "$@"' sh "$@"
