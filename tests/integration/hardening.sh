#!/usr/bin/env bash
# Hardening of the built binary (issue 13), read back with readelf: full RELRO (BIND_NOW and a GNU_RELRO
# segment), a position-independent executable, a non-executable stack, the stack protector
# (__stack_chk_fail) and, in optimised builds without sanitizers, _FORTIFY_SOURCE (a __*_chk symbol).
# The build's own choices come from its CMakeCache.txt (TLSOBS_BUILD_DIR): a Debug or sanitizer build has no
# fortify, a build with -DTLSOBS_HARDEN=OFF is skipped (77).
set -euo pipefail
: "${TLSOBS:?TLSOBS must name the tlsobs binary}"
command -v readelf >/dev/null || { echo "skip: readelf missing"; exit 77; }
cache=${TLSOBS_BUILD_DIR:-$(dirname "$TLSOBS")}/CMakeCache.txt
setting() { sed -n "s/^$1:[A-Z]*=//p" "$cache" 2>/dev/null; }
if [ "$(setting TLSOBS_HARDEN)" = OFF ]; then
	echo "skip: built with -DTLSOBS_HARDEN=OFF"
	exit 77
fi
build_type=$(setting CMAKE_BUILD_TYPE)
sanitize=$(setting TLSOBS_SANITIZE)

fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
dynamic=$(readelf -dW "$TLSOBS")
segments=$(readelf -lW "$TLSOBS")
symbols=$(readelf --dyn-syms -W "$TLSOBS")

check "BIND_NOW (-z now): $(grep -Eo 'Flags: .*' <<<"$dynamic" | head -1)" \
	'grep -Eq "\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW" <<<"$dynamic"'
check "a GNU_RELRO segment (-z relro)" 'grep -q GNU_RELRO <<<"$segments"'
check "a position-independent executable ($(readelf -hW "$TLSOBS" | sed -n 's/^ *Type: *//p'))" \
	'readelf -hW "$TLSOBS" | grep -q "Type: *DYN" && grep -Eq "FLAGS_1.*PIE" <<<"$dynamic"'
check "a non-executable stack" 'grep -E "GNU_STACK" <<<"$segments" | grep -qv "RWE"'
check "the stack protector: __stack_chk_fail is linked" 'grep -q "__stack_chk_fail" <<<"$symbols"'
if [ "$build_type" = Debug ] || [ "$sanitize" = ON ]; then
	echo "skip _FORTIFY_SOURCE: not in a $build_type${sanitize:+ (sanitize $sanitize)} build (needs optimisation, no ASan)"
else
	chk=$(grep -Eo '__[a-z_]+_chk' <<<"$symbols" | grep -v __stack_chk | sort -u | tr '\n' ' ')
	check "_FORTIFY_SOURCE: checked libc calls are linked ($chk)" '[ -n "$chk" ]'
fi
exit $fail
