#!/usr/bin/env bash
# Fair coverage, coverage for every domain, TLS-RPT (RFC 8460) and read-only reports beside a
# writing sensor, on the fixture captures through a configured sensor. See reports.py. Run by
# ctest with TLSOBS, TLSOBS_SOURCE_DIR; exits 77 (skipped) without python3.
set -euo pipefail
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
exec python3 "$(dirname "$0")/reports.py"
