#!/usr/bin/env bash
# The one-way rule (parsers <- rules <- outputs <- sensor, and between sensor/'s rooms) holds for every include.
set -euo pipefail
exec python3 "$TLSOBS_SOURCE_DIR/scripts/check-layers.py" "$TLSOBS_SOURCE_DIR"
