#!/usr/bin/env bash
# Schema test: every event tlsobs writes for every capture we have (tests/fixtures,
# and the lab and public corpora when present) validates against
# docs/events.schema.json, with the cross-event contract on top: unique event.id,
# Community ID checked against an independent computation, ECS categorisation.
# See schema.py. Run by ctest with TLSOBS, TLSOBS_SOURCE_DIR; exits 77 (skipped)
# without python3 or its jsonschema module.
set -euo pipefail
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
python3 -c 'import jsonschema' 2>/dev/null || { echo "python3-jsonschema missing: skipped"; exit 77; }
exec python3 "$(dirname "$0")/schema.py"
