#!/usr/bin/env bash
# Live packet fanout (issue 17): N packet sockets per interface opened through capture_open's fanout option
# (tests/integration/fanout_probe.c, no sensor; N = 2, and 3 for a modulo that is no power of two) on two veth
# ends, sharing the traffic of 76 crafted connections on the first (fanout_traffic.py: varied IPv4 and IPv6
# pairs, 802.1Q, QinQ, VXLAN with one outer pair for all, fragmented segments), each connection's two
# directions arriving on the two paths the kernel runs the program on (incoming and outgoing). Checks: one
# group per interface, the same in every capture, a different one per interface; every socket receives
# packets; no connection, and no fragment's address pair, is split across sockets; the kernel reassembled the
# IPv4 fragments (PACKET_FANOUT_FLAG_DEFRAG) and not the IPv6 ones; every packet is on the socket its contract
# hash modulo N names (the kernel takes the program's value modulo the group size, sockets in join order);
# the kernel counters summed over the sockets count every packet. A link that is not Ethernet is refused.
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
ip -n "$ns" link add replay1 type veth peer name span1
for dev in replay0 span0 replay1 span1; do
	ip -n "$ns" link set $dev mtu 9000
	ip -n "$ns" link set $dev up
done

fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
field() { sed -n "s/^$1 .*$2 \([0-9]*\).*/\1/p" "$work/out" | head -1; }

for n in 2 3; do
	rm -f "$work/ready"
	ip netns exec "$ns" "$probe" span0,span1 $n 4 "$work/ready" >"$work/out" 2>"$work/err" &
	pid=$!
	for _ in $(seq 50); do [ -e "$work/ready" ] && break; sleep 0.1; done
	[ -e "$work/ready" ] || { cat "$work/err"; echo "FAIL N=$n: the probe did not open its sockets"; exit 1; }
	ip netns exec "$ns" python3 "$TLSOBS_SOURCE_DIR/tests/integration/fanout_traffic.py" replay0 span0
	status=0
	wait "$pid" || status=$?
	pid=
	sed "s/^/N=$n: /" "$work/out"
	check "N=$n: the probe ran to the end (exit $status)" '[ "$status" -eq 0 ]'
	g0=$(sed -n 's/^group 0 //p' "$work/out") g1=$(sed -n 's/^group 1 //p' "$work/out")
	check "N=$n: one group per interface, the same in every capture, two interfaces two groups ($g0 / $g1)" \
		'[ "$(echo $g0 | tr " " "\n" | sort -u | wc -l)" -eq 1 ] && [ "$(echo $g1 | tr " " "\n" | sort -u | wc -l)" -eq 1 ] && [ "${g0%% *}" != "${g1%% *}" ] && [ "${g0%% *}" -ge 0 ]'
	total=0 empty=0
	for i in $(seq 0 $((n - 1))); do
		p=$(field "socket $i" packets)
		total=$((total + ${p:-0}))
		[ "${p:-0}" -gt 0 ] || empty=$((empty + 1))
	done
	check "N=$n: every socket receives packets ($empty without)" '[ "$empty" -eq 0 ]'
	conns=$(field connections total) both=$(field connections both_ways) split=$(field connections split)
	check "N=$n: every crafted connection was seen, both ways ($conns, $both both ways)" \
		'[ "${conns:-0}" -ge 76 ] && [ "${both:-0}" -ge 76 ]'
	check "N=$n: no connection is split across the sockets ($split split)" '[ "${split:-1}" -eq 0 ]'
	frags=$(field fragments seen) pairs_split=$(field fragments pairs_split)
	check "N=$n: the kernel reassembled the IPv4 fragments, not the IPv6 ones ($frags fragments seen)" \
		'[ "${frags:-0}" -eq 2 ]'
	check "N=$n: IPv6 fragments go with their connection ($pairs_split pairs split)" '[ "${pairs_split:-1}" -eq 0 ]'
	wrong=$(field placement wrong_socket)
	check "N=$n: every IP packet is on socket (contract hash % $n) in join order ($wrong elsewhere)" \
		'[ "${wrong:-1}" -eq 0 ]'
	received=$(field kernel received)
	check "N=$n: the kernel counters summed over the sockets count every packet ($received received, $total read)" \
		'[ "${received:-0}" -eq "$total" ]'
done

# `any` is Linux cooked capture, not Ethernet.
status=0
ip netns exec "$ns" "$probe" any 2 1 "$work/ready-any" >"$work/out" 2>"$work/err" || status=$?
check "a link that is not Ethernet is refused with a reason (exit $status: $(cat "$work/err"))" \
	'[ "$status" -eq 1 ] && grep -q "need an Ethernet interface" "$work/err"'
[ "$fail" -eq 0 ] || { cat "$work/err"; exit 1; }
