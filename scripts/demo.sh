#!/usr/bin/env bash
# make demo: runs the freshly built sensor on the bundled capture and prints its events.
set -euo pipefail
build=${1:-build}
capture=tests/fixtures/demo.pcap
echo "demo: $build/tlsobs -r $capture"
echo
"$build/tlsobs" -r "$capture" | while IFS= read -r event; do
	if command -v jq >/dev/null; then
		printf '%s\n' "$event" | jq -C .
	else
		printf '%s\n' "$event"
	fi
done
