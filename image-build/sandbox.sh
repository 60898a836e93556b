#!/usr/bin/env bash
# README's first command. Brings up a sandboxed berth appliance on this machine, even
# where systemd is not PID 1: a private systemd user manager in its own mount namespace
# runs berth's supervisor (units/berth.service) and the sample apps as real podman
# containers. Everything lives under $BERTH_SANDBOX (default /var/tmp/berth-sandbox);
# the host's own services and /etc are not touched.
#
#   sandbox.sh [up]        install what is missing, build, start, show berth status
#   sandbox.sh berth ARGS  run the berth CLI inside the sandbox (e.g. berth status)
#   sandbox.sh down        stop the sandbox's apps and manager (data is kept)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SB=${BERTH_SANDBOX:-/var/tmp/berth-sandbox}
PIDFILE=$SB/manager.pid

sandbox_env() {
  export XDG_RUNTIME_DIR=$SB/run XDG_CONFIG_HOME=$SB/config HOME=$SB
  export CONTAINERS_CONF=$SB/containers.conf DBUS_SESSION_BUS_ADDRESS=unix:path=$SB/run/bus
  export BERTH_USER=1 BERTH_RECIPES_DIR=$SB/recipes BERTH_DATA_DIR=$SB/data
  export BERTH_UNIT_DIR=$SB/config/systemd/user BERTH_ALLOWED_ROOTS=$SB/srv BERTH_SOCKET=$SB/run/berth/control.sock
  # The sandbox announces its services on loopback only; name your LAN interface to go further.
  export BERTH_ADVERTISE_INTERFACES=${BERTH_ADVERTISE_INTERFACES:-lo}
}
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
in_ns() { sandbox_env; nsenter -t "$(cat "$PIDFILE")" -m -- "$@"; }
berth() { in_ns node "$REPO/dist/cli/main.js" "$@"; }

up() {
  bash "$REPO/image-build/install-deps.sh"
  (cd "$REPO" && npm run --silent build && bash image-build/build-images.sh busybox)
  mkdir -p "$SB"/{config/systemd/user,data,recipes,srv}
  # podman settings for hosts like these (no systemd as PID 1, cgroups in hybrid mode).
  cat > "$SB/containers.conf" <<'CONF'
[containers]
default_ulimits = []
log_driver = "k8s-file"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  [ -n "$(ls -A "$SB/recipes")" ] || cp "$REPO"/recipes/*.yaml "$SB/recipes/"
  sed "s#^ExecStart=/usr/bin/node #ExecStart=$(command -v node) #; s#/usr/lib/berth/#$REPO/#" \
    "$REPO/units/berth.service" > "$SB/config/systemd/user/berth.service"
  if ! running; then
    rm -rf "$SB/run" && mkdir -m 700 "$SB/run"
    sandbox_env
    [ -d /run/systemd ] || mkdir -p /run/systemd
    setsid unshare -m --propagation private sh -c \
      'mount -t tmpfs -o mode=0755 tmpfs /run/systemd && mkdir -p /run/systemd/system && exec /lib/systemd/systemd --user' \
      > "$SB/manager.log" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
    for _ in $(seq 1 100); do in_ns systemctl --user show-environment >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  in_ns systemctl --user daemon-reload
  echo "berth: starting the supervisor (first apply of $(ls "$SB/recipes" | wc -l) recipes)..."
  in_ns systemctl --user start berth.service
  berth status
  cat <<MSG

The sandboxed appliance is up. Try:
  curl http://127.0.0.1:8080/          # the hello-web app
  curl http://127.0.0.1:8090/          # the host-status app (host network)
  edit $SB/recipes/*.yaml               # berth applies changes by itself
  bash image-build/sandbox.sh berth status | logs APP | plan | ...
  bash image-build/sandbox.sh down      # stop it (data in $SB/data stays)
MSG
}

down() {
  running || { echo "berth: the sandbox is not running"; return 0; }
  kill -TERM "$(cat "$PIDFILE")"
  for _ in $(seq 1 300); do running || break; sleep 0.1; done
  rm -f "$PIDFILE"
  echo "berth: sandbox stopped; data kept in $SB/data"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  berth) shift; running || { echo "berth: the sandbox is not running; start it with: bash image-build/sandbox.sh" >&2; exit 1; }; berth "$@" ;;
  *) echo "usage: sandbox.sh [up | down | berth ARGS...]" >&2; exit 2 ;;
esac
