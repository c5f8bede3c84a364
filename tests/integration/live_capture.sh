#!/usr/bin/env bash
# Live capture (-i): replays real fixtures into a veth pair inside a network
# namespace of our own, captures on the peer end, stops with SIGTERM, and checks
# that the sessions came out, with the kernel's counters in the summary. Then the same with --workers 2 (issue
# 17): two packet sockets on the interface, both receive traffic, and the sessions are the one worker's, none split.
# Needs root and iproute2; skips (77) otherwise. No traffic leaves the namespace.
set -euo pipefail
: "${TLSOBS:?}" "${TLSOBS_SOURCE_DIR:?}"
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root for a network namespace"; exit 77; }
command -v ip >/dev/null && command -v tcpreplay >/dev/null || { echo "skip: ip or tcpreplay missing"; exit 77; }

ns=tlsobs-live-$$
work=$(mktemp -d)
cleanup() {
	[ -n "${sensor:-}" ] && kill "$sensor" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns" 2>/dev/null || { echo "skip: cannot create a network namespace here"; exit 77; }
ip -n "$ns" link add replay0 type veth peer name span0
ip -n "$ns" link set replay0 up
ip -n "$ns" link set span0 up

fixtures="$TLSOBS_SOURCE_DIR/tests/fixtures"

# replay_and_stop: the three fixtures through the veth, then SIGTERM to $sensor; its exit code in $status.
replay_and_stop() {
	for f in starttls-tls13 mitm-mask.client-side smtp-plain; do
		ip netns exec "$ns" tcpreplay -q -i replay0 --topspeed "$fixtures/$f.pcap" >/dev/null
	done
	sleep 1
	kill -TERM "$sensor"
	status=0
	wait "$sensor" || status=$?
	sensor=
}

ip netns exec "$ns" "$TLSOBS" -i span0 -o "json:$work/events.json" 2>"$work/stderr" &
sensor=$!
sleep 1
replay_and_stop
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
check "SIGTERM ends the live sensor cleanly (exit $status)" '[ "$status" -eq 0 ]'
sessions=$(grep -c '"dataset":"tlsobs.session"' "$work/events.json" || true)
check "three replayed sessions are reported (got $sessions)" '[ "$sessions" -eq 3 ]'
check "open sessions end with close_reason shutdown or fin" \
	'! grep -o "\"close_reason\":\"[a-z_]*\"" "$work/events.json" | grep -vq "fin\|shutdown\|rst"'
check "the masked capability is alerted in live mode" 'grep -q "\"name\":\"starttls_capability_garbled\"" "$work/events.json"'
check "every session and alert names the capture interface (observer.ingress.interface.name span0)" \
	'[ "$(grep -c "\"dataset\":\"tlsobs.\(session\|alert\)\"" "$work/events.json")" -eq "$(grep -c "\"ingress\":{\"interface\":{\"name\":\"span0\"}}" "$work/events.json")" ]'
check "the summary carries the kernel capture counters" 'grep -q "capture: [0-9]* received, [0-9]* dropped by the kernel" "$work/stderr"'

# ---- --workers 2 (issue 17): a packet socket per worker in one fanout group, no session split ----
if ! "$TLSOBS" --help 2>&1 | grep -q -- "--workers" || ! command -v jq >/dev/null; then
	echo "skip --workers 2: this build has no --workers (issue 17's worker threads are not merged yet), or jq is missing"
	[ "$fail" -eq 0 ] || { cat "$work/stderr"; exit 1; }
	exit 0
fi
ip netns exec "$ns" "$TLSOBS" -i span0 --workers 2 -o "json:$work/workers.json" 2>"$work/workers.stderr" &
sensor=$!
sleep 1
# The packet sockets of the sensor (inodes of its fds) and the interface each is bound to (/proc/net/packet).
span0=$(ip netns exec "$ns" cat /sys/class/net/span0/ifindex)
inodes=$(ls -l /proc/$sensor/fd 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' | sort)
packet_sockets=$(awk -v ifx="$span0" 'NR > 1 && $5 == ifx { print $9 }' /proc/$sensor/net/packet | sort | comm -12 - <(echo "$inodes") | wc -l)
replay_and_stop
check "--workers 2: SIGTERM ends the live sensor cleanly (exit $status)" '[ "$status" -eq 0 ]'
check "--workers 2: two packet sockets on span0, one per worker ($packet_sockets)" '[ "$packet_sockets" -eq 2 ]'
per_worker=$(grep '"dataset":"tlsobs.stats"' "$work/workers.json" | tail -1 | jq -c '[.tlsobs.stats.workers[].packets]' 2>/dev/null || true)
check "--workers 2: both workers' sockets received traffic (packets per worker $per_worker)" \
	'echo "$per_worker" | jq -e "length == 2 and all(. > 0)" >/dev/null 2>&1'
# Session ids and times differ between runs; what a split would change (counts, endpoints, close) does not.
sessions() { jq -c 'select(.event.dataset == "tlsobs.session") | [.source.ip, .source.port, .destination.port,
                    .tlsobs.flow.close_reason, .source.packets, .destination.packets, .tlsobs.flow.gaps,
                    .tlsobs.alerts]' "$1" | sort; }
check "--workers 2: the same three sessions as one worker, none split ($(sessions "$work/workers.json" | wc -l))" \
	'[ "$(sessions "$work/workers.json" | wc -l)" -eq 3 ] && diff <(sessions "$work/events.json") <(sessions "$work/workers.json") >&2'
received=$(grep '"dataset":"tlsobs.stats"' "$work/workers.json" | tail -1 | jq '.tlsobs.stats.capture.received' 2>/dev/null || true)
# The kernel's count may exceed what the workers took by a packet or two (seen once, in the TSan leg: 75
# received for the 74 replayed; a packet that reached a socket before its capture filter was installed is
# counted, and libpcap discards it); one socket's count alone would be far below the sum (21 and 53 there).
check "--workers 2: the kernel counters are summed over both sockets ($received received, packets per worker $per_worker)" \
	'grep -q "capture: $received received, [0-9]* dropped by the kernel" "$work/workers.stderr" &&
	 taken=$(echo "$per_worker" | jq "add") && [ "$received" -ge "$taken" ] && [ "$received" -le $((taken + 8)) ]'
[ "$fail" -eq 0 ] || { cat "$work/stderr" "$work/workers.stderr"; exit 1; }
