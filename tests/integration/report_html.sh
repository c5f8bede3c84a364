#!/usr/bin/env bash
# `tlsobs report html` end to end: a week of fixture captures through configured
# sensors into one state_db, hostile rows added, the page checked as a file (self-
# contained, escaped, numbers equal to the database and the session events) and in
# headless Chromium (every chart drew, no console error, no request; screenshots in
# $TLSOBS_BUILD_DIR/report-html/), then --since and the exit codes. See
# report_html.py. Exits 77 (skipped) without python3 or when Chromium cannot run.
set -euo pipefail
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
exec python3 "$(dirname "$0")/report_html.py"
