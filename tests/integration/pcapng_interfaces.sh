#!/usr/bin/env bash
# shellcheck disable=SC2016  # check() evals its condition later
# pcapng_interfaces.sh: pcapng files with several interfaces, which libpcap's reader refuses
# when their link types or snapshot lengths differ ("an interface has a type ... different
# from the type of the first interface"). scripts/pcapng-interfaces.py writes one from our
# fixtures: span0 Ethernet (snap 65535, microseconds), span1 Ethernet (snap 9000,
# nanoseconds), span2 Linux cooked SLL (snap 262144), span3 raw IP; tshark must read all
# four. tlsobs must read the file whole (exit 0), every session the same as its fixture's
# plain capture (all but ids; SLL and raw frames differ in length, so no byte counts there) with
# observer.ingress.interface.name naming its interface. Also: mergecap -I none output
# (several unnamed interfaces) and a multi-interface file cut short (exit 1, the sessions
# before the cut still reported). Needs python3 and jq (exit 77 without them).
set -uo pipefail
: "${TLSOBS:?}"
SRC=${TLSOBS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX=$SRC/tests/fixtures
command -v python3 >/dev/null && command -v jq >/dev/null || { echo "skip: python3 or jq missing"; exit 77; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

# normalise FILE [jq filter]: events without ids, observer and (for SLL) byte counts, stats dropped
normalise() {
	jq -S -c "select(.event.dataset != \"tlsobs.stats\") | del(.event.id, .event.created, .tlsobs.session_id,
	          .tlsobs.related_session_id, .observer) ${2:-}" "$1"
}
nobytes='| del(.source.bytes, .destination.bytes, .network.bytes)'

fixtures=(starttls-tls13 smtp-plain ipv6-starttls mitm-remove.client-side)
specs=("span0:ether:65535:6:$FIX/starttls-tls13.pcap" "span1:ether:9000:9:$FIX/smtp-plain.pcap"
	"span2:sll:262144:6:$FIX/ipv6-starttls.pcap" "span3:raw:65535:6:$FIX/mitm-remove.client-side.pcap")
python3 "$SRC/scripts/pcapng-interfaces.py" "$W/multi.pcapng" "${specs[@]}" ||
	{ echo "FAIL pcapng-interfaces.py"; exit 1; }
if command -v tshark >/dev/null; then
	check "tshark reads the four interfaces" \
		'[ "$(tshark -r "$W/multi.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort -u | tr "\n" " ")" = "span0 span1 span2 span3 " ]'
fi
"$TLSOBS" -r "$W/multi.pcapng" >"$W/multi.json" 2>"$W/multi.err"
rc=$?
check "tlsobs reads the whole file (exit 0, no error)" '[ $rc -eq 0 ] && ! grep -q "ends early" "$W/multi.err"'
check "four sessions" '[ "$(grep -c "\"dataset\":\"tlsobs.session\"" "$W/multi.json")" -eq 4 ]'
for n in 0 1 2 3; do
	name=${fixtures[$n]}
	"$TLSOBS" -q -r "$FIX/$name.pcap" >"$W/$name.json"
	filter=''
	[[ $n -ge 2 ]] && filter=$nobytes
	jq -c "select(.observer.ingress.interface.name == \"span$n\")" "$W/multi.json" >"$W/span$n.json"
	check "span$n: the events of $name, the same as its plain capture" \
		'[ -s "$W/span$n.json" ] && diff <(normalise "$W/$name.json" "$filter") <(normalise "$W/span$n.json" "$filter") >"$W/span$n.diff"'
done
check "every session and alert names its interface" \
	'[ "$(jq -r "select(.event.dataset != \"tlsobs.stats\") | .observer.ingress.interface.name // \"none\"" "$W/multi.json" | grep -c none)" -eq 0 ]'
check "the plain captures name no interface" '! grep -q "\"ingress\"" "$W/starttls-tls13.json"'

if command -v mergecap >/dev/null; then
	mergecap -I none -w "$W/merged.pcapng" "$FIX/starttls-tls13.pcap" "$FIX/smtp-plain.pcap"
	"$TLSOBS" -q -r "$W/merged.pcapng" >"$W/merged.json" 2>"$W/merged.err"
	rc=$?
	check "mergecap -I none (two unnamed interfaces): both sessions, as plain" \
		'[ $rc -eq 0 ] && diff <(cat "$W/starttls-tls13.json" "$W/smtp-plain.json" | normalise /dev/stdin | sort) <(normalise "$W/merged.json" | sort) >"$W/merged.diff"'
fi

# Cut inside the last packet block: exit 1, the sessions before the cut still come out.
size=$(stat -c %s "$W/multi.pcapng")
head -c $((size - 10)) "$W/multi.pcapng" >"$W/cut.pcapng"
"$TLSOBS" -q -r "$W/cut.pcapng" >"$W/cut.json" 2>"$W/cut.err"
rc=$?
check "a multi-interface file cut short: exit 1, 'capture ends early'" '[ $rc -eq 1 ] && grep -q "capture ends early: .*truncated pcapng block" "$W/cut.err"'
check "and the sessions before the cut are still reported" \
	'[ "$(grep -c "\"dataset\":\"tlsobs.session\"" "$W/cut.json")" -eq 4 ]'

# -f is compiled for each interface's link type and applied to its packets: port 1 keeps every session out.
"$TLSOBS" -q -r "$W/multi.pcapng" -f 'tcp port 1' >"$W/f1.json" 2>&1
check "-f is applied to every interface's packets" '! grep -q "\"dataset\":\"tlsobs.session\"" "$W/f1.json"'
for d in "$W"/*.diff; do [ -s "$d" ] && { echo "--- $d"; head -20 "$d"; }; done
[ "$fail" -eq 0 ] || exit 1
