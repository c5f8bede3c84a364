#!/usr/bin/env bash
# shellcheck disable=SC2016  # check() evals its condition later, as in live_capture.sh
# flood.sh: bench/flood.sh at CI scale. 50,000 spoofed SYNs to port 25 over 5 s of
# packet time, real fixture sessions mixed in (half during the flood, half after it),
# and a flow.memcap small enough that the flood fills it: emergency mode must be
# entered and left again, no flow refused, and the real sessions' events must equal
# those of the same packets without the flood (volatile fields dropped). Peak RSS
# stays under memcap + 64 MiB (not checked in sanitizer builds: their shadow memory
# is not ours). The generator (bench/synflood.c) is compiled here with cc -lpcap.
#
# Run by ctest with TLSOBS, TLSOBS_SOURCE_DIR and TLSOBS_BUILD_DIR set; exits 77
# (skipped) without python3, cc or the libpcap headers.
set -uo pipefail

: "${TLSOBS:?TLSOBS must name the tlsobs binary}"
SRC=${TLSOBS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX=$SRC/tests/fixtures
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
command -v cc >/dev/null || { echo "cc missing: skipped"; exit 77; }

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cc -O2 -o "$W/synflood" "$SRC/bench/synflood.c" -lpcap 2>"$W/cc.err" \
	|| { cat "$W/cc.err"; echo "cannot compile bench/synflood.c (libpcap-dev?): skipped"; exit 77; }

SYNS=50000
MEMCAP_MIB=2
fixtures=(smtp-plain starttls-tls12 mitm-mask.client-side starttls-tls13 mitm-refuse.client-side tls10-rsa)
files=()
for f in "${fixtures[@]}"; do files+=("$FIX/$f.pcap"); done
"$W/synflood" -n "$SYNS" -d 5 -t 30 -s 2 -o "$W/flood.pcap" -b "$W/real.pcap" "${files[@]}" >"$W/gen" 2>"$W/plan" \
	|| { cat "$W/plan"; echo "FAIL synflood could not write the capture"; exit 1; }

# 16k buckets (128 KiB, charged to the memcap) leave room for about 4,000 flows in 2 MiB.
opts=(--set "flow.memcap=${MEMCAP_MIB}mb" --set flow.hash_size=16384)
"$TLSOBS" -r "$W/real.pcap" -o "json:$W/ref.json" "${opts[@]}" >/dev/null 2>"$W/ref.err" \
	|| { cat "$W/ref.err"; echo "FAIL tlsobs on the real sessions alone"; exit 1; }
if [[ -x /usr/bin/time ]]; then
	/usr/bin/time -f '%M' -o "$W/rss" "$TLSOBS" -r "$W/flood.pcap" -o "json:$W/flood.json" "${opts[@]}" \
		>/dev/null 2>"$W/flood.err"
	status=$?
else
	"$TLSOBS" -r "$W/flood.pcap" -o "json:$W/flood.json" "${opts[@]}" >/dev/null 2>"$W/flood.err"
	status=$?
fi

fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
flows=$(grep '^tlsobs: flows:' "$W/flood.err")
field() { sed -n "s/$1/\1/p" <<<"$flows"; }
created=$(field '^tlsobs: flows: \([0-9]*\) created.*')
evicted=$(field '.* \([0-9]*\) evicted.*')
refused=$(field '.* \([0-9]*\) refused.*')
entered=$(field '.*entered \([0-9]*\) left.*')
left=$(field '.* left \([0-9]*\)$')
sessions=$(grep -c '"dataset":"tlsobs.session"' "$W/ref.json")
by_reason=$(grep '^tlsobs: flows evicted by reason:' "$W/flood.err")
reason() { sed -n "s/.* $1 \([0-9]*\).*/\1/p" <<<"$by_reason"; }
reasons_sum=0
for r in closed half_open silent server_only client_spoke session source_budget; do
	reasons_sum=$((reasons_sum + $(reason "$r")))
done

check "tlsobs reads the flood capture (exit $status)" '[ "$status" -eq 0 ]'
check "every SYN and real session made a flow (created ${created:-?} >= $SYNS + $sessions)" \
	'[ "${created:-0}" -ge $((SYNS + sessions)) ]'
check "the flood filled the ${MEMCAP_MIB} MiB memcap: half-open flows evicted (${evicted:-?})" '[ "${evicted:-0}" -gt 0 ]'
check "no flow refused: a half-open one can always be evicted (${refused:-?})" '[ "${refused:-1}" -eq 0 ]'
check "evictions by reason add up to the evicted ($reasons_sum = ${evicted:-?})" '[ "$reasons_sum" = "${evicted:-x}" ]'
check "the SYN flood's half-open flows went, no session (half_open $(reason half_open), session $(reason session))" \
	'[ "$(reason half_open)" -gt 0 ] && [ "$(reason session)" -eq 0 ]'
check "emergency mode entered (${entered:-?}) and left (${left:-?}) at least once" \
	'[ "${entered:-0}" -ge 1 ] && [ "${left:-0}" -ge 1 ]'
check "the capture ends out of emergency mode (entered = left)" '[ "${entered:-0}" = "${left:-x}" ]'
check "the $sessions real sessions are reported alone" '[ "$sessions" -eq ${#fixtures[@]} ]'
if python3 "$SRC/bench/flood_events.py" compare "$W/ref.json" "$W/flood.json" >"$W/cmp"; then
	check "the real sessions' events are the same with the flood: $(head -n 1 "$W/cmp")" true
else
	check "the real sessions' events are the same with the flood" false
	cat "$W/cmp"
fi
sanitized=0
grep -qs '^TLSOBS_SANITIZE:BOOL=ON' "${TLSOBS_BUILD_DIR:-/nonexistent}/CMakeCache.txt" && sanitized=1
if [[ -s $W/rss && $sanitized -eq 0 ]]; then
	rss=$(tail -n 1 "$W/rss")
	check "peak RSS $((rss / 1024)) MiB <= memcap + 64 MiB" '[ "$rss" -le $(((MEMCAP_MIB + 64) * 1024)) ]'
else
	echo "skip peak RSS (sanitizer build or no /usr/bin/time)"
fi
[ "$fail" -eq 0 ] || { cat "$W/plan" "$W/gen" "$W/flood.err"; exit 1; }
