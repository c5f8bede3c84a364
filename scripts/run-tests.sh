#!/usr/bin/env bash
# Runs the whole suite through ctest in each build given (the plain build, the ASan+UBSan one,
# the ThreadSanitizer leg of build-tsan) and closes with one line: "tests: N passed, N failed,
# N skipped", summed over the builds, after each build's time.
set -uo pipefail
[ $# -gt 0 ] || set -- build
passed=0 failed=0 skipped=0 status=0 times=()
for build in "$@"; do
	log=$(mktemp)
	echo "=== ctest in $build"
	start=$(date +%s)
	ctest --test-dir "$build" --output-on-failure -j "$(nproc)" 2>&1 | tee "$log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
	times+=("$build $(($(date +%s) - start)) s")
	summary=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1)
	if [ -z "$summary" ]; then
		echo "ctest did not run in $build"
		failed=$((failed + 1))
		status=1
	else
		total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary")
		f=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$summary")
		s=$(grep -cE '\*\*\*Skipped|\(Not Run\)' "$log" || true)
		passed=$((passed + total - f - s))
		failed=$((failed + f))
		skipped=$((skipped + s))
	fi
	rm -f "$log"
done
printf -v took '%s, ' "${times[@]}"
echo "time: ${took%, }"
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
