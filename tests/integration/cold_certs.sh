#!/usr/bin/env bash
# bench/cold_certs.py (the cold capture of bench/throughput.sh --cold): on fixtures cut into 50-byte TCP
# segments, so that each Certificate message spans many packets, every certificate of every chain becomes new
# while tlsobs's verdicts, subjects and chain lengths stay as they were. See cold_certs.py.
# Run by ctest with TLSOBS and TLSOBS_SOURCE_DIR; exits 77 (skipped) without python3.
set -euo pipefail
: "${TLSOBS:?TLSOBS must name the tlsobs binary}"
: "${TLSOBS_SOURCE_DIR:?TLSOBS_SOURCE_DIR must name the source tree}"
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$(dirname "$0")/cold_certs.py" "$TLSOBS_SOURCE_DIR" "$TLSOBS" "$work"
