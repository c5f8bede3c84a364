#!/usr/bin/env bash
# Classic pcap files read in blocks (sensor/capture/pcap_file.c) with the BSD loopback link type (DLT_NULL:
# a 4-byte address family in the byte order of the machine that wrote the file, AF_INET6 30 as macOS writes
# it): the capture filter must admit their packets as it does when libpcap reads the file. A filter
# compiled on a dead pcap handle takes the family in network order and admitted none (issue 17's block
# reader lost every session of such a file). The IPv6 STARTTLS fixture, rewritten to DLT_NULL in both byte
# orders, must give the sessions and alerts of the Ethernet original.
set -euo pipefail
: "${TLSOBS:?}" "${TLSOBS_SOURCE_DIR:?}"
command -v jq >/dev/null || { echo "skip: jq missing"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

# to_null IN OUT ORDER: the Ethernet capture IN as a DLT_NULL file in byte order ORDER (< or >)
to_null() {
	python3 - "$1" "$2" "$3" <<'EOF'
import struct, sys
src, dst, order = sys.argv[1], sys.argv[2], sys.argv[3]
b = open(src, 'rb').read()
assert struct.unpack('<I', b[:4])[0] == 0xa1b2c3d4 and struct.unpack('<I', b[20:24])[0] == 1
out = [struct.pack(order + 'IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 0)]
at = 24
while at + 16 <= len(b):
    sec, usec, incl, orig = struct.unpack('<IIII', b[at:at + 16])
    frame = b[at + 16:at + 16 + incl]
    at += 16 + incl
    etype = struct.unpack('>H', frame[12:14])[0]
    family = {0x0800: 2, 0x86dd: 30}.get(etype)
    if family is None:
        continue
    payload = struct.pack(order + 'I', family) + frame[14:]
    out.append(struct.pack(order + 'IIII', sec, usec, len(payload), orig - 14 + 4) + payload)
open(dst, 'wb').write(b''.join(out))
EOF
}

# The events with what the link layer (frame bytes: 4 bytes of family for 14 of Ethernet) and the run change
# left out.
events() {
	"$TLSOBS" -q -r "$1" -o "json:$2" >/dev/null 2>&1 || echo "tlsobs exited $? on $1"
	jq -S -c 'select(.event.dataset != "tlsobs.stats")
	          | del(.event.id, .event.created, .tlsobs.session_id, .tlsobs.related_session_id,
	                .observer, .tlsobs.capture, .source.bytes, .destination.bytes, .network.bytes)' "$2" | sort
}

fixture="$TLSOBS_SOURCE_DIR/tests/fixtures/ipv6-starttls.pcap"
events "$fixture" "$work/ether.json" >"$work/ether"
sessions=$(grep -c '"tlsobs.session"' "$work/ether" || true)
check "the Ethernet original gives sessions ($sessions)" '[ "$sessions" -gt 0 ]'
for order in '<' '>'; do
	name=$([ "$order" = '<' ] && echo little-endian || echo big-endian)
	to_null "$fixture" "$work/null-$name.pcap" "$order"
	events "$work/null-$name.pcap" "$work/null-$name.json" >"$work/null-$name"
	got=$(grep -c '"tlsobs.session"' "$work/null-$name" || true)
	check "DLT_NULL, $name: the same sessions ($got of $sessions)" '[ "$got" = "$sessions" ]'
	check "DLT_NULL, $name: the same events" 'cmp -s "$work/ether" "$work/null-$name"'
done
exit $fail
