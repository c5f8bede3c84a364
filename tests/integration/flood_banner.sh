#!/usr/bin/env bash
# shellcheck disable=SC2016  # check() evals its condition later, as in flood.sh
# flood_banner.sh: bench/flood.sh's connection floods at CI scale. Real fixture sessions
# mixed in (half during the flood, half after it) with:
#   banner:   8,000 completed connections from random sources over 4 s of packet time, each
#             given its 220 banner and then left idle, under a 16 MiB flow.memcap: an idle
#             flow must be small (charged bytes per flow held <= 128 MiB / 100,000, the
#             issue's target of 100,000 idle connections in the default memcap), so every
#             connection is held at once;
#   source:   3,000 such connections from one address, and
#   source24: from one /24, under a 2 MiB memcap: the per-source budget evicts them
#             (tlsobs.stats flows.evicted_by counts a per-source reason).
# In every case each real session's events equal those of the same packets without the
# flood (bench/flood_events.py compare, flood connections left out), and peak RSS stays
# under memcap + 64 MiB (not checked in sanitizer builds: their shadow memory is not
# ours). The generator (bench/synflood.c) is compiled here with cc -lpcap.
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

TARGET_BYTES=$((128 * 1048576 / 100000))   # 1342: 100,000 idle flows in the default 128 MiB
fixtures=(smtp-plain starttls-tls12 mitm-mask.client-side starttls-tls13 mitm-refuse.client-side tls10-rsa)
files=()
for f in "${fixtures[@]}"; do files+=("$FIX/$f.pcap"); done
alone=()
for f in "${fixtures[@]}"; do
	"$TLSOBS" -q -r "$FIX/$f.pcap" -o "json:$W/alone-$f.json" >/dev/null 2>&1 \
		|| { echo "FAIL tlsobs on $f alone"; exit 1; }
	alone+=("$W/alone-$f.json")
done
sanitized=0
grep -qs '^TLSOBS_SANITIZE:BOOL=ON' "${TLSOBS_BUILD_DIR:-/nonexistent}/CMakeCache.txt" && sanitized=1

fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

# run NAME MEMCAP_MIB SYNFLOOD_ARGS...: the flood capture and its reference, the sensor on both;
# sets status, rss (KiB or empty), held, peak, evicted, refused, by (flows.evicted_by as k=v,...).
run() {
	local name=$1 mib=$2
	shift 2
	"$W/synflood" "$@" -t 20 -s 2 -o "$W/$name.pcap" -b "$W/$name-real.pcap" "${files[@]}" >"$W/$name.gen" 2>"$W/$name.plan" \
		|| { cat "$W/$name.plan"; echo "FAIL synflood could not write the $name capture"; exit 1; }
	# 16k buckets (128 KiB, charged to the memcap) so that a small memcap is allowed.
	local opts=(--set "flow.memcap=${mib}mb" --set flow.hash_size=16384)
	"$TLSOBS" -r "$W/$name-real.pcap" -o "json:$W/$name-ref.json" "${opts[@]}" >/dev/null 2>"$W/$name-ref.err" \
		|| { cat "$W/$name-ref.err"; echo "FAIL tlsobs on the real sessions alone"; exit 1; }
	rss=
	if [[ -x /usr/bin/time ]]; then
		/usr/bin/time -f '%M' -o "$W/$name.rss" "$TLSOBS" -r "$W/$name.pcap" -o "json:$W/$name.json" "${opts[@]}" \
			>/dev/null 2>"$W/$name.err"
		status=$?
		rss=$(tail -n 1 "$W/$name.rss")
	else
		"$TLSOBS" -r "$W/$name.pcap" -o "json:$W/$name.json" "${opts[@]}" >/dev/null 2>"$W/$name.err"
		status=$?
	fi
	read -r held peak evicted refused _ _ by < <(python3 "$SRC/bench/flood_events.py" stats "$W/$name.json" "$W/$name.err")
	echo "-- $name: $(head -n 1 "$W/$name.gen"); memcap ${mib} MiB: held ${held} at once, charged peak ${peak} bytes," \
		"${evicted} evicted (by reason: ${by}), ${refused} refused, peak RSS ${rss:-?} KiB"
	check "[$name] tlsobs reads the flood capture (exit $status)" '[ "$status" -eq 0 ]'
	if python3 "$SRC/bench/flood_events.py" compare "$W/$name-ref.json" "$W/$name.json" "${alone[@]}" >"$W/$name.cmp"; then
		check "[$name] each real session's events equal those without the flood: $(sed -n 2p "$W/$name.cmp")" true
	else
		check "[$name] each real session's events equal those without the flood" false
		cat "$W/$name.cmp"
	fi
	if [[ -n $rss && $sanitized -eq 0 ]]; then
		check "[$name] peak RSS $((rss / 1024)) MiB <= memcap + 64 MiB" '[ "$rss" -le $(((mib + 64) * 1024)) ]'
	else
		echo "skip [$name] peak RSS (sanitizer build or no /usr/bin/time)"
	fi
}

# per_source_evictions BY: evictions under a per-source reason (address, prefix, budget) in flows.evicted_by.
per_source_evictions() {
	tr ',' '\n' <<<"$1" | awk -F= '$1 ~ /source|budget|prefix|address/ {n += $2} END {print n + 0}'
}

conns=8000
run banner 16 -r $((conns / 4)) -d 4 -e
check "[banner] every idle connection held at once (${held} >= $conns)" '[ "$held" != - ] && [ "$held" -ge $conns ]'
check "[banner] charged bytes per flow held $((${peak/-/0} / (${held/-/0} + 1))) <= $TARGET_BYTES" \
	'[ "$peak" != - ] && [ "$held" != - ] && [ "$held" -gt 0 ] && [ $((peak / held)) -le $TARGET_BYTES ]'
check "[banner] no flow refused (${refused})" '[ "$refused" = 0 ]'

run source 2 -r 750 -d 4 -e -P 192.0.2.66
n=$(per_source_evictions "$by")
check "[source] the per-source budget evicted the address's flows ($n; flows.evicted_by: $by)" '[ "$n" -gt 0 ]'

run source24 2 -r 750 -d 4 -e -P 192.0.2.0/24
n=$(per_source_evictions "$by")
check "[source24] the per-source budget evicted the /24's flows ($n; flows.evicted_by: $by)" '[ "$n" -gt 0 ]'

[ "$fail" -eq 0 ] || { for f in "$W"/*.err; do echo "== $f"; grep '^tlsobs: flows' "$f"; done; exit 1; }
