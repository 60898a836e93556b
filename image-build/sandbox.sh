#!/usr/bin/env bash
# README's first command: installs what is missing, builds berth, and runs berth's main
# job on the shipped recipes in a sandbox that leaves the host's own services alone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash image-build/install-deps.sh
npm run --silent build

SANDBOX=${BERTH_SANDBOX:-/var/tmp/berth-sandbox}
mkdir -p "$SANDBOX/units" "$SANDBOX/data"
berth() { node dist/cli/main.js --recipes recipes --data-dir "$SANDBOX/data" --unit-dir "$SANDBOX/units" "$@"; }

echo "== berth validate recipes/"
berth validate recipes
for f in recipes/*.yaml; do
  app=$(basename "$f" .yaml)
  berth render "$f" > "$SANDBOX/units/berth-$app.service"
  echo "== wrote $SANDBOX/units/berth-$app.service"
done
systemd-analyze verify --man=no "$SANDBOX"/units/*.service
echo "== systemd-analyze verify: all units accepted"
