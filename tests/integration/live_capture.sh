#!/usr/bin/env bash
# Live capture (-i): replays real fixtures into a veth pair inside a network
# namespace of our own, captures on the peer end, stops with SIGTERM, and checks
# that the sessions came out, with the kernel's counters in the summary.
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
ip netns exec "$ns" "$TLSOBS" -i span0 -o "json:$work/events.json" 2>"$work/stderr" &
sensor=$!
sleep 1
for f in starttls-tls13 mitm-mask.client-side smtp-plain; do
	ip netns exec "$ns" tcpreplay -q -i replay0 --topspeed "$fixtures/$f.pcap" >/dev/null
done
sleep 1
kill -TERM "$sensor"
status=0
wait "$sensor" || status=$?
sensor=
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
[ "$fail" -eq 0 ] || { cat "$work/stderr"; exit 1; }
