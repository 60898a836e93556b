#!/usr/bin/env bash
# The whole suite after type-check, lint and build (npm test): vitest (unit, golden,
# integration on a real systemd manager and podman, the TV-box LAN test) inside the
# sandbox namespace, then the appliance image's boot test in QEMU. Ends with one line
# "N passed, N failed" counting both.
set -uo pipefail
cd "$(dirname "$0")/.."
report=$(mktemp /tmp/berth-vitest.XXXXXX.json)
bash test/in-sandbox.sh npx vitest run --reporter=default --reporter=json --outputFile="$report"
vitest_rc=$?
read -r passed failed < <(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0));' "$report" 2>/dev/null || echo "0 1")
rm -f "$report"
if [ "${BERTH_SKIP_OS_IMAGE:-}" = 1 ]; then
  echo "(the appliance image boot test was skipped: BERTH_SKIP_OS_IMAGE=1)"
elif npm run --silent test:os-image; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$vitest_rc" -eq 0 ] && [ "$failed" -eq 0 ]
