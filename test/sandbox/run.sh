#!/usr/bin/env bash
# The sandbox stage of `npm test`: README's first command, run as README gives it.
# It must come up with every shipped enabled app answering from this host (the web apps
# over HTTP, Samba by share list and NetBIOS name), and `sandbox.sh down` must leave no
# process, network namespace, link or container behind. Traffic goes only to the
# sandbox's own namespace, on the link sandbox.sh made.
# It is a sandbox of its own: its own directory (made fresh, with the shipped recipes),
# network namespace, link and podman store, so a sandbox a person started with README's
# first command, and the recipes they edited there, are neither used nor torn down.
set -uo pipefail
cd "$(dirname "$0")/../.."
export BERTH_SANDBOX=${BERTH_SANDBOX_TEST:-/var/tmp/berth-sandbox-test}
export BERTH_SANDBOX_NETNS=berth-sandbox-test BERTH_SANDBOX_LINK=bsbt
SB=$BERTH_SANDBOX
T0=$(date +%s)
say() { echo "sandbox-test: [$(($(date +%s) - T0))s] $*"; }
fail() { echo "sandbox-test: FAIL: $*" >&2; bash image-build/sandbox.sh down >/dev/null 2>&1; exit 1; }
# Bounded retries: $1 tries, 1 s apart.
retry() { local n=$1; shift; for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 1; done; return 1; }

# A sandbox a person runs (README's first command, in its default place), if any: it must
# run on as it was, with their recipes, whatever this test does.
theirs=/var/tmp/berth-sandbox
their_state() {
  local pid apps
  pid=$(cat "$theirs/manager.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null || return 0
  apps=$(BERTH_SANDBOX=$theirs BERTH_SANDBOX_NETNS=berth-sandbox BERTH_SANDBOX_LINK=bsb \
    bash image-build/sandbox.sh berth status --json 2>/dev/null | node -e '
      const apps = JSON.parse(require("fs").readFileSync(0, "utf8"));
      console.log(apps.map((a) => `${a.app} ${a.state} ${a.restarts}`).join(", "));')
  printf 'manager %s, recipes %s, apps: %s' "$pid" \
    "$(cat "$theirs"/recipes/*.yaml 2>/dev/null | sha256sum | cut -c1-16)" "${apps:-no answer}"
}
[ "$SB" != "$theirs" ] || { echo "sandbox-test: BERTH_SANDBOX_TEST must not be $theirs, README's sandbox" >&2; exit 2; }
before=$(their_state)
[ -z "$before" ] || say "a sandbox runs in $theirs ($before): it is left alone"

# A run that was cut short is stopped first; then the directory starts fresh.
bash image-build/sandbox.sh down >/dev/null 2>&1
rm -rf "$SB" || fail "cannot remove $SB left by an earlier run"
out=$(bash image-build/sandbox.sh 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/  | /'
[ "$rc" -eq 0 ] || fail "bash image-build/sandbox.sh exited $rc"
ip=$(printf '%s\n' "$out" | sed -n 's/^The sandboxed appliance is up at \([0-9.]*\):.*/\1/p')
[ -n "$ip" ] || fail "sandbox.sh did not say where the appliance is"
bcast=${ip%.*}.255
say "up at $ip"

get() { node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(3000) }).then(async (r) => {
  if (!r.ok) process.exit(1); process.stdout.write(await r.text()); }).catch(() => process.exit(1))' "$1"; }
check_get() { local body; body=$(get "$1") && printf '%s' "$body" | grep -q "$2"; }
retry 10 check_get "http://$ip:8080/" 'berth' || fail "hello-web does not answer at http://$ip:8080/"
say "hello-web answers at http://$ip:8080/"
retry 10 check_get "http://$ip:8090/" 'berth-sandbox is up' || fail "host-status does not answer at http://$ip:8090/"
say "host-status answers at http://$ip:8090/"
retry 10 check_get "http://$ip/" '<th scope="row">hello-web</th>' || fail "the status page does not list hello-web at http://$ip/"
say "the status page at http://$ip/ lists hello-web"
retry 20 sh -c "smbclient -L //$ip -N 2>/dev/null | grep -q 'media'" || fail "smbclient -L //$ip -N does not list the media share"
say "smbclient -L //$ip -N lists the media share"
retry 30 sh -c "nmblookup -B $bcast berth-sandbox 2>/dev/null | grep -q '^$ip '" || fail "nmblookup -B $bcast berth-sandbox does not answer with $ip"
say "nmblookup -B $bcast berth-sandbox answers $ip"

pid=$(cat "$SB/manager.pid")
bash image-build/sandbox.sh down || fail "sandbox.sh down failed"
left=()
kill -0 "$pid" 2>/dev/null && left+=("the manager (pid $pid)")
ip netns list | awk '{print $1}' | grep -qxF "$BERTH_SANDBOX_NETNS" && left+=("network namespace $BERTH_SANDBOX_NETNS")
ip link show "$BERTH_SANDBOX_LINK-host" >/dev/null 2>&1 && left+=("link $BERTH_SANDBOX_LINK-host")
# Processes whose command line names the sandbox (the manager, conmon, berth), given a
# few seconds to finish exiting. The pattern is read from a file, so grep does not find itself.
pattern=$(mktemp)
printf '%s\n' "$SB" > "$pattern"
sandbox_procs() {
  local f
  for f in $(grep -lsFf "$pattern" /proc/[0-9]*/cmdline 2>/dev/null); do
    tr '\0' ' ' < "$f" 2>/dev/null | cut -c1-80
  done | sort -u | paste -sd';'
}
no_procs() { [ -z "$(sandbox_procs)" ]; }
retry 10 no_procs || true
procs=$(sandbox_procs)
[ -z "$procs" ] || left+=("processes: $procs")
rm -f "$pattern"
ctrs=$(CONTAINERS_CONF=$SB/containers.conf CONTAINERS_STORAGE_CONF=$SB/storage.conf podman ps -a --format '{{.Names}}' \
  --filter name='^berth-(hello-web|host-status|samba|minidlna|jellyfin)$' 2>/dev/null)
[ -z "$ctrs" ] || left+=("containers: $ctrs")
[ "${#left[@]}" -eq 0 ] || fail "left behind after down: ${left[*]}"
say "down left nothing behind"
after=$(their_state)
[ "$after" = "$before" ] || fail "the sandbox in $theirs was changed: before: '${before:-not running}', after: '${after:-not running}'"
say "ok"
