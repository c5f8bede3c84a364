#!/usr/bin/env bash
# TLS oracle test: every handshake in our events equals tshark's dissection of the same stream.
set -euo pipefail
command -v tshark >/dev/null || { echo "tshark missing: run scripts/deps.sh"; exit 1; }
command -v openssl >/dev/null || { echo "openssl missing: run scripts/deps.sh"; exit 1; }
exec python3 "$(dirname "$0")/tls_vs_tshark.py"
