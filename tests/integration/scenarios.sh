#!/usr/bin/env bash
# Scenario test: per capture, per session, the STARTTLS result, the exact set of
# alerts and the key SMTP fields, against expectations written from facts (the
# fixtures' README, the lab corpus's truth files), plus history across files,
# midstream pickup, privacy and event-format invariants. See scenarios.py.
# Run by ctest with TLSOBS, TLSOBS_SOURCE_DIR; exits 77 (skipped) without python3.
set -euo pipefail
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
exec python3 "$(dirname "$0")/scenarios.py"
