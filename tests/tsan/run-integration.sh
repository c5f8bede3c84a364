#!/usr/bin/env bash
# tests/tsan/run-integration.sh COMMAND [ARG...]: runs one test of the ThreadSanitizer leg (an integration
# script or a tests/tsan driver) with TSan reporting to files, and fails when any process it started wrote a
# report, even when the test itself passed (a script that expects tlsobs to exit non-zero would otherwise
# take TSan's exit code for the failure it expected). Exit 77 (skip) is passed through.
#
# TSAN_OPTIONS: halt_on_error=1 (the first race ends the process), the suppressions of tsan.supp (third-party
# races only, each with its reason), reports to $TLSOBS_TSAN_LOGS (default: a scratch directory) as
# tsan.<pid>. Options already in TSAN_OPTIONS are kept and win.
set -uo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
logs=${TLSOBS_TSAN_LOGS:-$(mktemp -d)}
mkdir -p "$logs"
# tlsobs may drop to another user (-u nobody) before a report is written.
chmod 1777 "$logs"
[ -n "${TLSOBS_TSAN_LOGS:-}" ] || trap 'rm -rf "$logs"' EXIT
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:log_path=$logs/tsan:suppressions=$here/tsan.supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

"$@"
status=$?

reports=$(find "$logs" -maxdepth 1 -name 'tsan.*' -size +0 2>/dev/null | sort)
if [ -n "$reports" ]; then
	for r in $reports; do
		echo "=== ThreadSanitizer report $r"
		cat "$r"
	done
	echo "FAIL: ThreadSanitizer reported $(wc -w <<<"$reports") time(s) (exit status of the test: $status)"
	exit 1
fi
exit "$status"
