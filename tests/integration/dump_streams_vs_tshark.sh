#!/usr/bin/env bash
# Reassembly oracle test: our --dump-streams equals tshark's follow,tcp,raw for every stream.
set -euo pipefail
command -v tshark >/dev/null || { echo "tshark missing: run scripts/deps.sh"; exit 1; }
exec python3 "$(dirname "$0")/dump_streams_vs_tshark.py"
