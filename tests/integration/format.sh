#!/usr/bin/env bash
# Every C file of the product, tests and benchmarks is formatted by .clang-format (`make format` fixes it).
# The layout clang-format produces changes between its major versions: this checks with Debian 12's (14).
set -euo pipefail
cd "$TLSOBS_SOURCE_DIR"
command -v clang-format >/dev/null || { echo "clang-format missing (scripts/deps.sh installs it)"; exit 1; }
major=$(clang-format --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p')
if [[ $major != 14 ]]; then
	echo "SKIP: clang-format $major formats differently from Debian 12's 14, which the tree follows"
	exit 77
fi
mapfile -t files < <(find parsers rules outputs sensor tests bench -name '*.[ch]' -not -path '*/corpus/*' | sort)
if ! clang-format --dry-run -Werror "${files[@]}" 2>/tmp/format.$$; then
	grep -o '^[^:]*\.[ch]' /tmp/format.$$ | sort -u | sed 's/^/not formatted: /'
	rm -f /tmp/format.$$
	echo "format: run 'make format'"
	exit 1
fi
rm -f /tmp/format.$$
echo "format: ${#files[@]} files follow .clang-format"
