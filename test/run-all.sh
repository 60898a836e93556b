#!/usr/bin/env bash
# The whole suite after type-check, lint and build (npm test): vitest (unit, golden,
# integration on a real systemd manager and podman, the TV-box LAN test) inside the
# sandbox namespace; then four stages that each count as one test: the fresh-root check
# (install-deps.sh on a fresh Debian 12), README's first command (the sandbox), and the
# appliance image's boot test and OS update test in QEMU (the image is built before vitest).
# Ends with one line "N passed, N failed" counting all.
# BERTH_SKIP_FRESH_ROOT=1, BERTH_SKIP_SANDBOX=1, BERTH_SKIP_OS_IMAGE=1 (both QEMU stages)
# skip a stage (and say so).
set -uo pipefail
cd "$(dirname "$0")/.."
# The appliance image is built first: its cached Debian 13 tree also gives the Quadlet
# export test podman 5.4's own Quadlet generator. The boot stage below boots this image.
image_rc=0
if [ "${BERTH_SKIP_OS_IMAGE:-}" != 1 ]; then BERTH_OS_UNSIGNED=1 bash image-build/os-image.sh || image_rc=1; fi
report=$(mktemp /tmp/berth-vitest.XXXXXX.json)
bash test/in-sandbox.sh npx vitest run --reporter=default --reporter=json --outputFile="$report"
vitest_rc=$?
read -r passed failed < <(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  // A file whose set-up failed runs no test: it counts as one failure, not as none.
  const brokenFiles = r.testResults.filter((f) => f.status === "failed" && f.assertionResults.every((t) => t.status !== "failed")).length;
  console.log(r.numPassedTests, r.numFailedTests + brokenFiles);' "$report" 2>/dev/null || echo "0 1")
rm -f "$report"

stage() {
  local skip=$1 name=$2
  shift 2
  if [ "${!skip:-}" = 1 ]; then
    echo "(the $name stage was skipped: $skip=1)"
  elif "$@"; then
    passed=$((passed + 1))
  else
    echo "FAILED: the $name stage" >&2
    failed=$((failed + 1))
  fi
}
stage BERTH_SKIP_FRESH_ROOT fresh-root bash test/fresh-root/run.sh
stage BERTH_SKIP_SANDBOX sandbox bash test/sandbox/run.sh
boot() { [ "$image_rc" -eq 0 ] || { echo "the appliance image did not build" >&2; return 1; }; bash test/os-image/boot-test.sh; }
stage BERTH_SKIP_OS_IMAGE 'appliance image boot' boot
os_update() { [ "$image_rc" -eq 0 ] || { echo "the appliance image did not build" >&2; return 1; }; bash test/os-update/run.sh; }
stage BERTH_SKIP_OS_IMAGE 'OS update (A/B, rollback)' os_update
echo "$passed passed, $failed failed"
[ "$vitest_rc" -eq 0 ] && [ "$failed" -eq 0 ]
