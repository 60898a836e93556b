#!/usr/bin/env bash
# README's first command. Brings up a sandboxed berth appliance on this machine, even
# where systemd is not PID 1: a private systemd user manager in its own mount and network
# namespaces runs berth's supervisor (units/berth.service) and the sample apps as real
# podman containers. The appliance sits on a veth link from this host, in the first
# documentation range (RFC 5737) that no route of this host uses, so its Samba, DLNA and
# web apps never take this host's ports and the host's own networks are not shadowed.
# Everything lives under $BERTH_SANDBOX (default /var/tmp/berth-sandbox), containers in
# a podman store of its own there (images are read from the host's store); the host's own
# services and /etc are not touched. Another sandbox (npm test's) sets BERTH_SANDBOX,
# BERTH_SANDBOX_NETNS and BERTH_SANDBOX_LINK, so neither tears the other down.
#
#   sandbox.sh [up]        install what is missing, build, start, show berth status
#   sandbox.sh berth ARGS  run the berth CLI inside the sandbox (e.g. berth status)
#   sandbox.sh down        stop the sandbox's apps and manager (data is kept)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SB=${BERTH_SANDBOX:-/var/tmp/berth-sandbox}
PIDFILE=$SB/manager.pid
NETNS=${BERTH_SANDBOX_NETNS:-berth-sandbox}
# The veth pair: HOST_IF on this host, APP_IF in the namespace (interface names: 15 bytes).
LINK=${BERTH_SANDBOX_LINK:-bsb}
HOST_IF=$LINK-host APP_IF=$LINK-app
[ "${#APP_IF}" -le 15 ] && [ "${#HOST_IF}" -le 15 ] || { echo "berth: BERTH_SANDBOX_LINK=$LINK is too long for an interface name" >&2; exit 2; }
netns_exists() { ip netns list | awk '{print $1}' | grep -qxF "$NETNS"; }

# The /24 for the link: one that overlaps nothing this host routes (or the one in use).
pick_subnet() {
  local used; used=$(ip -4 route show | awk '{print $1}')
  for net in 198.51.100 203.0.113 192.0.2; do
    if ip -4 addr show dev "$HOST_IF" 2>/dev/null | grep -q "inet $net\."; then echo "$net"; return; fi
    echo "$used" | grep -q "^$net\." || { echo "$net"; return; }
  done
  echo "berth: no free documentation range (198.51.100/24, 203.0.113/24, 192.0.2/24) for the sandbox link" >&2
  return 1
}
NET=$(pick_subnet)
APP_IP=$NET.1
HOST_IP=$NET.254
BCAST=$NET.255

sandbox_env() {
  export XDG_RUNTIME_DIR=$SB/run XDG_CONFIG_HOME=$SB/config HOME=$SB
  export CONTAINERS_CONF=$SB/containers.conf CONTAINERS_STORAGE_CONF=$SB/storage.conf
  export DBUS_SESSION_BUS_ADDRESS=unix:path=$SB/run/bus
  export BERTH_USER=1 BERTH_RECIPES_DIR=$SB/recipes BERTH_DATA_DIR=$SB/data
  export BERTH_UNIT_DIR=$SB/config/systemd/user BERTH_ALLOWED_ROOTS=$SB/srv BERTH_SOCKET=$SB/run/berth/control.sock
  # The appliance announces its services on its link to this host only.
  export BERTH_ADVERTISE_INTERFACES=${BERTH_ADVERTISE_INTERFACES:-$APP_IF} BERTH_HOSTNAME=${BERTH_HOSTNAME:-berth-sandbox}
  # The status page on port 80 of the sandbox's own network namespace, as on the appliance.
  export BERTH_WEB=80
}
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
in_ns() { sandbox_env; nsenter -t "$(cat "$PIDFILE")" -m -n -- "$@"; }

net_up() {
  netns_exists && return 0
  ip netns add "$NETNS"
  ip link add "$HOST_IF" type veth peer name "$APP_IF" netns "$NETNS"
  ip addr add "$HOST_IP/24" dev "$HOST_IF" && ip link set "$HOST_IF" up
  ip netns exec "$NETNS" sh -c "ip link set lo up && ip addr add $APP_IP/24 brd $BCAST dev $APP_IF \
    && ip link set $APP_IF up && ip route add default via $HOST_IP dev $APP_IF"
}
berth() { in_ns node "$REPO/dist/cli/main.js" "$@"; }

# The manager's own cgroup, named after its namespace (see image-build/own-cgroup.sh).
OWN_CGROUP=$REPO/image-build/own-cgroup.sh

# The sandbox's own podman store: its containers (named berth-APP, started with --replace)
# never meet another sandbox's or the tests', and images come read-only from the host's store.
podman_store() {
  local graphroot driver
  graphroot=$(podman info --format '{{.Store.GraphRoot}}')
  driver=$(podman info --format '{{.Store.GraphDriverName}}')
  { cat "$REPO/image-build/containers-host.conf"
    printf '\n[network]\nnetwork_backend = "netavark"\nnetwork_config_dir = "%s"\n' "$SB/networks"
  } > "$SB/containers.conf"
  printf '[storage]\ndriver = "%s"\ngraphroot = "%s"\nrunroot = "%s"\n\n[storage.options]\nadditionalimagestores = ["%s"]\n' \
    "$driver" "$SB/storage" "$SB/run/storage" "$graphroot" > "$SB/storage.conf"
}

up() {
  bash "$REPO/image-build/install-deps.sh"
  (cd "$REPO" && npm run --silent build && bash image-build/build-images.sh)
  mkdir -p "$SB"/{config/systemd/user,data,recipes,srv/media}
  podman_store
  # The shipped recipes, with the media root moved into the sandbox. A recipe the user has
  # not edited (equal to the pristine copy in .shipped/) follows the shipped version.
  mkdir -p "$SB/.shipped"
  for f in "$REPO"/recipes/*.yaml "$REPO"/recipes/recipe.schema.json; do
    name=$(basename "$f")
    fresh=$(sed "s#/srv/media#$SB/srv/media#g" "$f")
    if [ ! -e "$SB/recipes/$name" ] || cmp -s "$SB/recipes/$name" "$SB/.shipped/$name"; then
      printf '%s\n' "$fresh" > "$SB/recipes/$name"
    fi
    printf '%s\n' "$fresh" > "$SB/.shipped/$name"
  done
  [ -e "$SB/srv/media/README.txt" ] || echo "A sample file shared by the sandboxed berth appliance." > "$SB/srv/media/README.txt"
  sed "s#^ExecStart=/usr/bin/node #ExecStart=$(command -v node) #; s#/usr/lib/berth/#$REPO/#; s#^\[Service\]#[Service]\nEnvironment=BERTH_WEB=80#" \
    "$REPO/units/berth.service" > "$SB/config/systemd/user/berth.service"
  if ! running; then
    rm -rf "$SB/run" && mkdir -m 700 "$SB/run"
    sandbox_env
    net_up
    [ -d /run/systemd ] || mkdir -p /run/systemd
    setsid nsenter --net=/run/netns/$NETNS unshare -m --propagation private sh "$OWN_CGROUP" "$NETNS" join sh -c '
      mount -t tmpfs -o mode=0755 tmpfs /run/systemd && mkdir -p /run/systemd/system && exec /lib/systemd/systemd --user' \
      > "$SB/manager.log" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
    for _ in $(seq 1 100); do in_ns systemctl --user show-environment >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  in_ns systemctl --user daemon-reload
  echo "berth: starting the supervisor (first apply of $(ls "$SB"/recipes/*.yaml | wc -l) recipes)..."
  in_ns systemctl --user start berth.service
  if ! wait_apps "${BERTH_SANDBOX_WAIT:-120}"; then
    berth status || true
    echo
    berth doctor 2>&1 | grep -v '^ok ' || true
    cat <<MSG >&2

berth: the sandboxed appliance at $APP_IP is NOT up: $NOT_READY (see above; 'berth status APP'
shows an app's last output lines). Fix the cause, then run this command again; or stop it with
  bash image-build/sandbox.sh down
MSG
    return 1
  fi
  berth status
  berth doctor >/dev/null 2>&1 || { echo; berth doctor | grep -v '^ok ' || true; }
  cat <<MSG

The sandboxed appliance is up at $APP_IP: every enabled app is running. Try:
  http://$APP_IP/                           # berth's status page, in a browser on this machine
  curl http://$APP_IP:8080/                 # hello-web (bridge network, published port)
  curl http://$APP_IP:8090/                 # host-status (host network)
  smbclient -L //$APP_IP -N                 # the Samba share of $SB/srv/media
  nmblookup -B $BCAST berth-sandbox    # its NetBIOS name
  bash image-build/sandbox.sh berth lan     # what the appliance sees on its LAN
  edit $SB/recipes/*.yaml                   # berth applies changes by itself
  bash image-build/sandbox.sh berth status | logs APP | plan | ...
  bash image-build/sandbox.sh down          # stop it (data in $SB/data stays)
MSG
}

# Waits (at most $1 seconds) until every enabled app is active, and
# healthy where it has a health check, and no recipe is invalid. Sets NOT_READY to what is still missing.
wait_apps() {
  local end=$(($(date +%s) + $1)) json
  NOT_READY="the supervisor did not answer"
  while [ "$(date +%s)" -lt "$end" ]; do
    if json=$(berth status --json 2>/dev/null); then
      NOT_READY=$(printf '%s' "$json" | node -e '
        const apps = JSON.parse(require("fs").readFileSync(0, "utf8"));
        const ready = (a) => a.state === "active" && (a.health === undefined || a.health === "healthy");
        const bad = apps.filter((a) => a.errors.length > 0 || (a.enabled && !ready(a)));
        const why = (a) => a.errors.length > 0 ? "has a recipe error"
          : `is ${a.state === "active" ? a.health : a.subState || a.state}`;
        if (bad.length) console.log(bad.map((a) => `${a.app} ${why(a)}`).join(", "));')
      [ -z "$NOT_READY" ] && return 0
    fi
    sleep 2
  done
  return 1
}

down() {
  running || { echo "berth: the sandbox is not running"; return 0; }
  # The manager stops every app (each gets its stop_timeout) and then exits.
  kill -TERM "$(cat "$PIDFILE")"
  for _ in $(seq 1 900); do running || break; sleep 0.1; done
  if running; then
    echo "berth: the sandbox's manager did not stop within 90 s; removing its apps' containers and killing it" >&2
    in_ns sh -c 'podman ps -aq --filter label=berth.app | xargs -r podman rm --force --time=0' >/dev/null 2>&1 || true
    kill -KILL "$(cat "$PIDFILE")" 2>/dev/null || true
    for _ in $(seq 1 50); do running || break; sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  unshare -m --propagation private sh "$OWN_CGROUP" "$NETNS" remove || true
  ip netns del "$NETNS" 2>/dev/null || true
  ip link del "$HOST_IF" 2>/dev/null || true
  echo "berth: sandbox stopped; data kept in $SB/data"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  berth) shift; running || { echo "berth: the sandbox is not running; start it with: bash image-build/sandbox.sh" >&2; exit 1; }; berth "$@" ;;
  *) echo "usage: sandbox.sh [up | down | berth ARGS...]" >&2; exit 2 ;;
esac
