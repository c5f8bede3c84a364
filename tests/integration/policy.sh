#!/usr/bin/env bash
# Partner policy, persistence, reports and SIGHUP reload: a relaxed partner's alerts
# at severity 1 and the tlsobs.policy event when the relaxation ends, the severity
# raise of an enforced partner, cross-session history and the certificate inventory
# kept across restarts through state_db, `tlsobs report coverage|certificates`
# against what the sessions showed, and (root, ip netns, tcpreplay) a live sensor
# reloading its configuration on SIGHUP without losing a session in flight.
# See policy.py. Run by ctest with TLSOBS, TLSOBS_SOURCE_DIR; exits 77 (skipped)
# without python3. The live case alone is skipped without root or tcpreplay.
set -euo pipefail
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
exec python3 "$(dirname "$0")/policy.py"
