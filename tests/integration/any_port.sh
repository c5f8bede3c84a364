#!/usr/bin/env bash
# SMTP on any port (--any-port, capture.any_port): nDPI finds SMTP off the configured
# ports, and such a session is reported exactly like the same capture moved to port 25
# (all but ports, ids and what depends on them); non-mail flows give no session unless
# --all-flows, and then one with nDPI's protocol and no SMTP. Needs tcprewrite and jq
# (skips, 77, without them).
set -euo pipefail
: "${TLSOBS:?}" "${TLSOBS_SOURCE_DIR:?}"
command -v jq >/dev/null && command -v tcprewrite >/dev/null || { echo "skip: jq or tcprewrite missing"; exit 77; }
fix="$TLSOBS_SOURCE_DIR/tests/fixtures"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

# The events with what a port changes left out: ports, ids, community id, timestamps of writing.
normalise() {
	jq -S -c 'del(.source.port, .destination.port, .network.community_id, .event.id, .event.created,
	              .tlsobs.session_id, .tlsobs.related_session_id, .network.application, .tlsobs.ndpi)
	          | select(.event.dataset != "tlsobs.stats")' "$1"
}

# move PCAP FROM TO: the capture with server port FROM rewritten to TO
move() { tcprewrite --infile="$1" --outfile="$4" --portmap="$2:$3" --fixcsum; }

same_as_port_25() { # NAME PCAP PORT [sensor options]
	local name=$1 pcap=$2 port=$3
	shift 3
	move "$pcap" "$port" 25 "$work/$name-25.pcap"
	"$TLSOBS" -q "$@" --any-port -r "$pcap" >"$work/$name-any.json"
	"$TLSOBS" -q "$@" -r "$work/$name-25.pcap" >"$work/$name-25.json"
	[ "$(grep -c '"dataset":"tlsobs.session"' "$work/$name-any.json")" -ge 1 ] &&
		diff <(sed -E "s/:$port([^0-9])/:25\1/g; s/\"port\":$port([^0-9])/\"port\":25\1/g" "$work/$name-any.json" |
			normalise /dev/stdin) <(normalise "$work/$name-25.json") >"$work/$name.diff"
}

check "plain SMTP on port 10025 is reported exactly like port 25" \
	'same_as_port_25 plain10025 "$fix/nonstd-port-10025-plain.pcap" 10025'
check "STARTTLS on 2525, when 2525 is not a configured port, is reported exactly like port 25" \
	'same_as_port_25 starttls2525 "$fix/nonstd-port-2525-starttls.pcap" 2525 --set smtp.ports=25'
move "$fix/starttls-tls12.pcap" 25 4025 "$work/tls12-4025.pcap"
check "a STARTTLS session with its certificate alert, moved to 4025, is reported as on port 25" \
	'same_as_port_25 tls12 "$work/tls12-4025.pcap" 4025 --ca-file "$fix/certs/ca.crt"'
move "$fix/mitm-mask.client-side.pcap" 25 2626 "$work/mask-2626.pcap"
check "a masked STARTTLS on 2626 raises starttls_capability_garbled as on port 25" \
	'same_as_port_25 mask "$work/mask-2626.pcap" 2626 && grep -q starttls_capability_garbled "$work/mask-any.json"'
check "the session says what nDPI found: network.application smtp, tlsobs.ndpi.protocol SMTP" \
	'[ "$(jq -r "select(.event.dataset==\"tlsobs.session\") | .network.application + \" \" + .tlsobs.ndpi.protocol" "$work/plain10025-any.json")" = "smtp SMTP" ]'

"$TLSOBS" -q -r "$fix/nonstd-port-10025-plain.pcap" >"$work/no-any.json"
check "without --any-port, port 10025 is not followed" '! grep -q tlsobs.session "$work/no-any.json"'
printf 'capture:\n  any_port: true\n' >"$work/any.yaml"
"$TLSOBS" -q -c "$work/any.yaml" -r "$fix/nonstd-port-10025-plain.pcap" >"$work/cfg.json"
check "capture.any_port: true in the configuration does the same" 'grep -q "\"dataset\":\"tlsobs.session\"" "$work/cfg.json"'

"$TLSOBS" --any-port -r "$fix/non-mail.pcap" >"$work/nonmail.json" 2>"$work/nonmail.err"
check "HTTP, TLS and DNS flows give no session" '! grep -q "\"dataset\":\"tlsobs.session\"" "$work/nonmail.json"'
check "the summary counts them as not mail" 'grep -q "3 other .* 3 not mail and not reported" "$work/nonmail.err"'
"$TLSOBS" -q --any-port --all-flows -r "$fix/non-mail.pcap" >"$work/all.json"
check "--all-flows reports them, with nDPI's protocol and no SMTP" \
	'[ "$(jq -r "select(.event.dataset==\"tlsobs.session\") | [.network.protocol, .tlsobs.ndpi.protocol, (.tlsobs.smtp == null)] | @tsv" "$work/all.json" | sort | tr "\t\n" ", ")" = "dns,DNS,true http,HTTP,true tls,TLS,true " ]'
check "nDPI risks that fire on every mail flow are not reported" \
	'! grep -q "Non Standard Port\|Not Carrying HTTPS\|Missing SNI" "$work"/*-any.json'
"$TLSOBS" -q -r "$fix/auth-cleartext.pcap" >"$work/auth.json"
check "a risk nDPI finds is on the session (AUTH in clear: Clear-Text Credentials)" \
	'grep -q "\"risks\":\[\"Clear-Text Credentials\"\]" "$work/auth.json"'
if python3 -c 'import jsonschema' 2>/dev/null; then
	check "all these events validate against docs/events.schema.json" \
		'python3 -c "
import json, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
bad = [e.message for f in sys.argv[2:] for l in open(f) for e in v.iter_errors(json.loads(l))]
print(*bad[:5], sep=chr(10)); sys.exit(1 if bad else 0)" "$TLSOBS_SOURCE_DIR/docs/events.schema.json" "$work"/*.json'
fi
for d in "$work"/*.diff; do [ -s "$d" ] && { echo "--- $d"; head -20 "$d"; }; done
[ "$fail" -eq 0 ] || exit 1
