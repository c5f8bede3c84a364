#!/usr/bin/env bash
# Policy audit trail across SIGHUP: a live sensor (on a veth in a network
# namespace of its own, no traffic needed) writes a tlsobs.policy event at start
# (policy_loaded: every partner added), at each reload (policy_reloaded: each
# partner added, removed or changed with its old and new settings) and for a
# reload that fails (reload_failed), each with the configuration file's path,
# SHA-256 (checked against hashlib), mtime and owner. See policy_audit.py.
# Exits 77 (skipped) without python3, root or ip netns.
set -euo pipefail
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
exec python3 "$(dirname "$0")/policy_audit.py"
