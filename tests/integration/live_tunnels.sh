#!/usr/bin/env bash
# Live capture of VLAN stacks and tunnels: the default capture filter runs in the kernel here, where libpcap reads
# the outermost VLAN tag from the packet's metadata when the interface strips it, unlike in a file. Fixtures
# wrapped by scripts/wrap-capture.py (QinQ, four tags, VXLAN, ERSPAN III, Geneve over IPv6 inside) are replayed
# into a veth pair inside a network namespace of our own and captured on the peer with default options; every
# session the same files give offline must come out, with its VLAN ids or tunnel.
# Needs root, iproute2, tcpreplay, python3 and jq; skips (77) otherwise. No traffic leaves the namespace.
set -euo pipefail
: "${TLSOBS:?}" "${TLSOBS_SOURCE_DIR:?}"
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root for a network namespace"; exit 77; }
for tool in ip tcpreplay python3 jq; do
	command -v $tool >/dev/null || { echo "skip: $tool missing"; exit 77; }
done

ns=tlsobs-tun-$$
work=$(mktemp -d)
cleanup() {
	[ -n "${sensor:-}" ] && kill "$sensor" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns" 2>/dev/null || { echo "skip: cannot create a network namespace here"; exit 77; }
ip -n "$ns" link add replay0 type veth peer name span0
# Room for the outer headers around full-size inner frames, as on a real mirror link.
ip -n "$ns" link set replay0 mtu 9000
ip -n "$ns" link set span0 mtu 9000
ip -n "$ns" link set replay0 up
ip -n "$ns" link set span0 up

fixtures="$TLSOBS_SOURCE_DIR/tests/fixtures"
# One fixture per wrapping, each with its own inner 5-tuples (the flow key ignores VLANs and tunnels).
cases="qinq:demo vlan4:smtp-plain vxlan:starttls-tls13 erspan3:mitm-mask.client-side geneve:ipv6-starttls"
for c in $cases; do
	mode=${c%%:*} input=${c#*:}
	python3 "$TLSOBS_SOURCE_DIR/scripts/wrap-capture.py" "$mode" "$fixtures/$input.pcap" "$work/$mode.pcap"
	"$TLSOBS" -q -r "$work/$mode.pcap" >"$work/$mode-offline.json"
done

ip netns exec "$ns" "$TLSOBS" -i span0 -o "json:$work/events.json" 2>"$work/stderr" &
sensor=$!
sleep 1
for c in $cases; do
	ip netns exec "$ns" tcpreplay -q -i replay0 --topspeed "$work/${c%%:*}.pcap" >/dev/null
done
sleep 1
kill -TERM "$sensor"
status=0
wait "$sensor" || status=$?
sensor=
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
check "SIGTERM ends the live sensor cleanly (exit $status)" '[ "$status" -eq 0 ]'
sessions() { jq -c 'select(.event.dataset == "tlsobs.session")
                    | [.source.ip, .source.port, .destination.port, .network.vlan.id, .network.inner.vlan.id,
                       .tlsobs.tunnel.type, .tlsobs.tunnel.vni, .tlsobs.tunnel.session_id]' "$@" | sort; }
sessions "$work"/*-offline.json >"$work/offline.txt"
sessions "$work/events.json" >"$work/live.txt"
check "offline, the wrapped fixtures give sessions" '[ "$(wc -l <"$work/offline.txt")" -ge 5 ]'
check "live, the same sessions with the same VLAN ids and tunnels as offline" 'diff "$work/offline.txt" "$work/live.txt"'
check "QinQ: outer VLAN 100, inner 200" 'grep -q "\"100\",\"200\",null" "$work/live.txt"'
check "four tags: outer VLAN 100, inner 400" 'grep -q "\"100\",\"400\",null" "$work/live.txt"'
check "VXLAN, ERSPAN III and Geneve are named with their ids" \
	'grep -q "\"vxlan\",4242,null" "$work/live.txt" && grep -q "\"erspan_iii\",null,77" "$work/live.txt" &&
	 grep -q "\"geneve\",1234,null" "$work/live.txt"'
check "no decode anomaly" 'grep -q "decode anomalies: 0" "$work/stderr"'
packets=0
for c in $cases; do
	n=$("$TLSOBS" -r "$work/${c%%:*}.pcap" -o json:/dev/null 2>&1 | sed -n 's/^tlsobs: \([0-9]*\) packets.*/\1/p')
	packets=$((packets + n))
done
check "every replayed packet passed the kernel filter ($packets)" 'grep -q "^tlsobs: $packets packets" "$work/stderr"'
[ "$fail" -eq 0 ] || { cat "$work/stderr" "$work/offline.txt" "$work/live.txt"; exit 1; }
