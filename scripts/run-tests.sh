#!/usr/bin/env bash
# Runs the whole suite through ctest and closes with one line: "N passed, N failed".
set -uo pipefail
build=${1:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$log" | tail -1)
failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
skipped=$(grep -c '\*\*\*Skipped\|Not Run' "$log" || true)
if [ -z "$total" ]; then
	echo "tests: 0 passed, 1 failed (ctest did not run)"
	exit 1
fi
echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
exit "$status"
