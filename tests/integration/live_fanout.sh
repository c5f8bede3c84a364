#!/usr/bin/env bash
# Live packet fanout (issue 17): two packet sockets opened through capture_open's fanout option on one veth
# end (tests/integration/fanout_probe.c, no sensor) share the traffic of ~75 crafted connections
# (fanout_traffic.py: varied IPv4 and IPv6 pairs, 802.1Q, QinQ, VXLAN with one outer pair, fragmented
# segments), each connection's two directions arriving on the two paths the kernel runs the program on
# (incoming and outgoing). Checks: both sockets receive packets; no connection, and no fragment's address
# pair, is split across sockets; the kernel reassembled the IPv4 fragments (PACKET_FANOUT_FLAG_DEFRAG) and
# not the IPv6 ones; every packet is on the socket its contract hash modulo 2 names (the kernel takes the
# program's return value modulo the group size, sockets in join order); the kernel counters summed over the sockets account for every packet.
# Needs root, iproute2 and python3; skips (77) otherwise. No traffic leaves the namespace.
set -euo pipefail
: "${TLSOBS_SOURCE_DIR:?}" "${TLSOBS_BUILD_DIR:?}"
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root for a network namespace"; exit 77; }
for tool in ip python3; do
	command -v $tool >/dev/null || { echo "skip: $tool missing"; exit 77; }
done
probe="$TLSOBS_BUILD_DIR/tests/fanout_probe"
[ -x "$probe" ] || { echo "FAIL fanout_probe not built ($probe)"; exit 1; }

ns=tlsobs-fan-$$
work=$(mktemp -d)
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns" 2>/dev/null || { echo "skip: cannot create a network namespace here"; exit 77; }
ip -n "$ns" link add replay0 type veth peer name span0
for dev in replay0 span0; do
	ip -n "$ns" link set $dev mtu 9000
	ip -n "$ns" link set $dev up
done

ip netns exec "$ns" "$probe" span0 2 4 "$work/ready" >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 50); do [ -e "$work/ready" ] && break; sleep 0.1; done
[ -e "$work/ready" ] || { cat "$work/err"; echo "FAIL the probe did not open its sockets"; exit 1; }
ip netns exec "$ns" python3 "$TLSOBS_SOURCE_DIR/tests/integration/fanout_traffic.py" replay0 span0
status=0
wait "$pid" || status=$?
pid=
cat "$work/out"
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
field() { sed -n "s/^$1 .*$2 \([0-9]*\).*/\1/p" "$work/out" | head -1; }
check "the probe ran to the end (exit $status)" '[ "$status" -eq 0 ]'
p0=$(field "socket 0" packets) p1=$(field "socket 1" packets)
check "both sockets receive packets ($p0 and $p1)" '[ "${p0:-0}" -gt 0 ] && [ "${p1:-0}" -gt 0 ]'
conns=$(field connections total) both=$(field connections both_ways) split=$(field connections split)
check "every crafted connection was seen, both ways ($conns, $both both ways)" \
	'[ "${conns:-0}" -ge 76 ] && [ "${both:-0}" -ge 76 ]'
check "no connection is split across the sockets ($split split)" '[ "${split:-1}" -eq 0 ]'
frags=$(field fragments seen) pairs_split=$(field fragments pairs_split)
check "the kernel reassembled the IPv4 fragments, not the IPv6 ones ($frags fragments seen)" \
	'[ "${frags:-0}" -eq 2 ]'
check "IPv6 fragments go with their connection ($pairs_split pairs split)" '[ "${pairs_split:-1}" -eq 0 ]'
wrong=$(field placement wrong_socket)
check "every IP packet is on socket (contract hash % 2) in join order ($wrong elsewhere)" '[ "${wrong:-1}" -eq 0 ]'
received=$(field kernel received)
total=$((${p0:-0} + ${p1:-0}))
check "the kernel counters summed over both sockets count every packet ($received received, $total read)" \
	'[ "${received:-0}" -eq "$total" ]'
[ "$fail" -eq 0 ] || { cat "$work/err"; exit 1; }
