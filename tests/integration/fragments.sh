#!/usr/bin/env bash
# shellcheck disable=SC2016  # check() evals its condition later
# fragments.sh: IP fragment reassembly end to end. The project's own captures are cut into
# IPv4 and IPv6 fragments by scripts/fragment-capture.py (32 bytes of data each, so even
# the TCP header is split), in order, last first, shuffled and overlapping; tshark (when
# present) must see the same TCP segments in each, so the fixture is known good; then
# tlsobs, with default options, must give exactly the same events as for the plain
# capture (sessions, verdicts, alerts, TLS fields), all but the ids and the byte counts
# (fragments carry more headers on the wire). Last, a small fragment flood: 20,000 first
# fragments that never complete, before a fragmented session, with defrag.memcap=2mb: the
# session still comes out the same, the memcap is held (reported peak, and RSS under
# memcap + 32 MiB over the plain run, unchecked in sanitizer builds).
# Needs python3 and jq (exit 77 without them).
set -uo pipefail
: "${TLSOBS:?}"
SRC=${TLSOBS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX=$SRC/tests/fixtures
command -v python3 >/dev/null && command -v jq >/dev/null || { echo "skip: python3 or jq missing"; exit 77; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

normalise() {
	jq -S -c 'del(.event.id, .event.created, .tlsobs.session_id, .tlsobs.related_session_id,
	              .source.bytes, .destination.bytes, .network.bytes)
	          | select(.event.dataset != "tlsobs.stats")' "$1"
}
# The TCP segments as tshark reassembles them: stream, sequence, length, handshake, SMTP command.
segments() {
	tshark -r "$1" -Y tcp -T fields -e tcp.stream -e tcp.seq -e tcp.len -e tls.handshake.type \
		-e smtp.req.command 2>/dev/null
}

# fixture (IPv4 unless named), with its certificate alert or MITM alert where it has one
fixtures=(starttls-tls13 smtp-plain starttls-tls12 mitm-remove.client-side expired-cert ipv6-starttls)
for name in "${fixtures[@]}"; do
	plain=$FIX/$name.pcap
	"$TLSOBS" -q -r "$plain" >"$W/$name.json" 2>"$W/$name.err" || { cat "$W/$name.err"; fail=1; continue; }
	variants=(in shuffle)
	[[ $name == starttls-tls13 || $name == ipv6-starttls ]] && variants+=(reverse overlap)
	for variant in "${variants[@]}"; do
		out=$W/$name-$variant.pcap
		case $variant in
			overlap) args=(--overlap);;
			*) args=(--order "$variant");;
		esac
		python3 "$SRC/scripts/fragment-capture.py" "$plain" "$out" "${args[@]}" 2>/dev/null ||
			{ echo "FAIL fragment-capture.py on $name"; fail=1; continue; }
		if command -v tshark >/dev/null; then
			check "$name, fragments $variant: tshark reassembles the same TCP segments" \
				'diff <(segments "$plain") <(segments "$out") >/dev/null'
		fi
		"$TLSOBS" -r "$out" >"$W/$name-$variant.json" 2>"$W/$name-$variant.err"
		check "$name, fragments $variant: the same events as the plain capture" \
			'diff <(normalise "$W/$name.json") <(normalise "$W/$name-$variant.json") >"$W/$name-$variant.diff"'
		check "$name, fragments $variant: every datagram reassembled, nothing given up" \
			'grep -Eq "fragments: [0-9]+ in, [1-9][0-9]* datagrams reassembled, 0 timed out, 0 overlaps with conflicting bytes, 0 invalid; given up: 0 memcap, 0 too many fragments, 0 too large, 0 cut by the snap length" "$W/$name-$variant.err"'
	done
done
# ---- fragments inside tunnels: the inner datagram is reassembled under its tunnel
for mode in gre vxlan; do
	python3 "$SRC/scripts/wrap-capture.py" "$mode" "$W/starttls-tls13-shuffle.pcap" "$W/frag-$mode.pcap" 2>/dev/null ||
		{ echo "FAIL wrap-capture.py $mode"; fail=1; continue; }
	"$TLSOBS" -r "$W/frag-$mode.pcap" >"$W/frag-$mode.json" 2>"$W/frag-$mode.err"
	check "fragments inside $mode: the same events as the plain capture" \
		'diff <(normalise "$W/starttls-tls13.json") <(normalise "$W/frag-$mode.json" | jq -S -c "del(.tlsobs.tunnel)") >"$W/frag-$mode.diff"'
	check "fragments inside $mode: the session names the tunnel" \
		'[ "$(jq -r "select(.event.dataset == \"tlsobs.session\") | .tlsobs.tunnel.type" "$W/frag-$mode.json")" = "$mode" ]'
done
check "the session events are there at all" '[ "$(grep -c "\"dataset\":\"tlsobs.session\"" "$W/starttls-tls13-shuffle.json")" -eq 1 ]'

# ---- a small fragment flood
MEMCAP_MIB=2
python3 "$SRC/scripts/fragment-capture.py" "$FIX/starttls-tls13.pcap" "$W/flood.pcap" --order shuffle --flood 20000 2>/dev/null
rss() { # rss OUT -- command...: peak RSS in KiB into OUT (empty without /usr/bin/time)
	local out=$1
	shift 2
	if [[ -x /usr/bin/time ]]; then /usr/bin/time -f '%M' -o "$out" "$@"; else : >"$out"; "$@"; fi
}
rss "$W/rss-plain" -- "$TLSOBS" -r "$W/starttls-tls13-shuffle.pcap" --set "defrag.memcap=${MEMCAP_MIB}mb" \
	>/dev/null 2>&1
rss "$W/rss-flood" -- "$TLSOBS" -r "$W/flood.pcap" --set "defrag.memcap=${MEMCAP_MIB}mb" >"$W/flood.json" \
	2>"$W/flood.err"
stats() { jq -r "select(.event.dataset == \"tlsobs.stats\" and .tlsobs.stats.final) | .tlsobs.stats.defrag.$1" "$W/flood.json"; }
check "fragment flood: the real session comes out the same" \
	'diff <(normalise "$W/starttls-tls13.json") <(normalise "$W/flood.json") >"$W/flood.diff"'
check "fragment flood: datagrams given up at the memcap ($(stats gave_up.memcap))" '[ "$(stats gave_up.memcap)" -gt 0 ]'
check "fragment flood: reported peak $(stats memory_peak) within defrag.memcap" \
	'[ "$(stats memory_peak)" -le $((MEMCAP_MIB << 20)) ] && [ "$(stats memory_peak)" -gt $((MEMCAP_MIB << 19)) ]'
check "fragment flood: the summary says so" 'grep -q "given up: [1-9][0-9]* memcap" "$W/flood.err"'
sanitized=0
grep -qs '^TLSOBS_SANITIZE:BOOL=ON' "${TLSOBS_BUILD_DIR:-/nonexistent}/CMakeCache.txt" && sanitized=1
if [[ -s $W/rss-flood && -s $W/rss-plain && $sanitized -eq 0 ]]; then
	plain_kib=$(tail -n 1 "$W/rss-plain") flood_kib=$(tail -n 1 "$W/rss-flood")
	check "fragment flood: peak RSS ${flood_kib} KiB <= plain ${plain_kib} KiB + memcap + 32 MiB" \
		'[ "$flood_kib" -le $((plain_kib + (MEMCAP_MIB + 32) * 1024)) ]'
else
	echo "skip peak RSS (sanitizer build or no /usr/bin/time)"
fi
for d in "$W"/*.diff; do [ -s "$d" ] && { echo "--- $d"; head -20 "$d"; }; done
[ "$fail" -eq 0 ] || exit 1
