#!/usr/bin/env bash
# make fuzz SECONDS=N: runs every libFuzzer harness for N seconds on a copy of its
# committed corpus (new inputs stay in the work dir; promote the useful ones by hand).
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
top=$(cd "$(dirname "$0")/.." && pwd)
work=${FUZZ_WORK:-/var/tmp/tlsobs-fuzz}
status=0
# Leaks inside libraries we cannot fix are listed there, each with its reason.
export LSAN_OPTIONS="suppressions=$top/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
for harness in "$build"/tests/fuzz/fuzz_*; do
	[ -x "$harness" ] || continue
	name=$(basename "$harness"); name=${name#fuzz_}
	mkdir -p "$work/$name"
	cp -n "$top/tests/fuzz/corpus/$name"/* "$work/$name/" 2>/dev/null || true
	echo "fuzz: $name for ${seconds}s"
	if ! (cd "$work" && "$harness" -max_total_time="$seconds" -print_final_stats=1 "$work/$name" 2>"$work/$name.log"); then
		echo "fuzz: $name FOUND A CRASH: see $work/$name.log and $work/crash-*"
		status=1
	fi
	grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$work/$name.log" | sed "s/^/fuzz: $name /"
done
exit $status
