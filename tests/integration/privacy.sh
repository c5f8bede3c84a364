#!/usr/bin/env bash
# Privacy: message content and AUTH credentials never appear in any event, log line or metric.
# The captures in tests/fixtures/privacy/ (scripts/make-privacy-fixtures.sh: Postfix + Cyrus SASL, swaks and
# Python's smtplib, everything in clear text) carry sentinel strings in AUTH PLAIN/LOGIN/CRAM-MD5 exchanges,
# the Subject and another header, the body, a MIME attachment and its name, BDAT chunks and the MAIL AUTH= /
# RCPT ORCPT= parameters. The test first proves the sentinels are on the wire (it cannot pass vacuously), then
# runs tlsobs on those captures, on every capture in tests/fixtures and in ../shared/corpus (when present),
# whole and picked up mid-session, with every output (events on stdout and in a file, -v -v on stderr,
# tlsobs.stats every second of packet time and at exit, the exit summary), and greps all of it for every
# sentinel as it is, in hex and in base64 at each alignment. --dump-streams is excluded: it writes the streams
# by design (README), and must hold the sentinels. Kafka carries the same events and is not run here.
# Run by ctest with TLSOBS and TLSOBS_SOURCE_DIR; exits 77 (skipped) without python3. See privacy.py.
set -euo pipefail
: "${TLSOBS:?TLSOBS must name the tlsobs binary}"
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
exec python3 "$(dirname "$0")/privacy.py" test
