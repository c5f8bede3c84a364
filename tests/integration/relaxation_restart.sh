#!/usr/bin/env bash
# relaxation_ended across a restart (issue 16): a partner relaxation that ends
# while the sensor is stopped is reported at the next start, once, when the runs
# share a state_db; never again at later starts; not at all without a state_db.
# See relaxation_restart.py. Run by ctest with TLSOBS, TLSOBS_SOURCE_DIR; exits
# 77 (skipped) without python3.
set -euo pipefail
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
exec python3 "$(dirname "$0")/relaxation_restart.py"
