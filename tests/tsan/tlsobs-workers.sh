#!/usr/bin/env bash
# tests/tsan/tlsobs-workers.sh ARG...: build-tsan's tlsobs ($TLSOBS_TSAN_BINARY) with --workers
# $TLSOBS_TSAN_WORKERS put before the arguments, so that an integration script written for one worker runs its
# captures through the worker threads of issue 17 under TSan (tests/tsan/CMakeLists.txt, the "@wN" tests).
# exec: the script's pid is tlsobs's (the tests signal it and read /proc/PID/task). The commands that read
# no capture (--version, --help, --list-settings) go through unchanged.
set -u
: "${TLSOBS_TSAN_BINARY:?}" "${TLSOBS_TSAN_WORKERS:?}"
for a in "$@"; do
	case $a in -V | --version | -h | --help | --list-settings) exec "$TLSOBS_TSAN_BINARY" "$@" ;; esac
done
exec "$TLSOBS_TSAN_BINARY" --workers "$TLSOBS_TSAN_WORKERS" "$@"
