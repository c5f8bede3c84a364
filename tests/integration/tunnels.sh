#!/usr/bin/env bash
# VLAN stacks, MPLS and tunnels: our own recorded captures wrapped by scripts/wrap-capture.py in QinQ, three and
# four VLAN tags, MPLS (IP and an Ethernet pseudowire), GRE (IP and Ethernet), ERSPAN II and III, VXLAN (over IPv4
# and IPv6) and Geneve give, with default options only, exactly the sessions, verdicts, alerts and TLS fields of
# the plain capture (frame byte counts, ids and the new encapsulation fields left out), and those new fields say
# how each was wrapped. The default capture filter lets every wrapped packet through. Each wrapped capture is
# first checked with tshark when it is installed (same SMTP/TLS packets as the plain one), so the fixture is known
# good; the alerts fixture is checked by tlsobs only. Needs python3 and jq (skips, 77, without them).
set -euo pipefail
: "${TLSOBS:?}" "${TLSOBS_SOURCE_DIR:?}"
command -v jq >/dev/null && command -v python3 >/dev/null || { echo "skip: jq or python3 missing"; exit 77; }
fix="$TLSOBS_SOURCE_DIR/tests/fixtures"
wrap="$TLSOBS_SOURCE_DIR/scripts/wrap-capture.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

# What a wrapping may change: frame byte counts, ids, times of writing, and the encapsulation fields themselves.
normalise() {
	jq -S -c 'del(.event.id, .event.created, .tlsobs.session_id, .tlsobs.related_session_id,
	              .network.bytes, .source.bytes, .destination.bytes,
	              .network.vlan, .network.inner, .tlsobs.tunnel)
	          | select(.event.dataset != "tlsobs.stats")' "$1"
}

# Session and alert events' encapsulation fields, one line per distinct value.
encap_of() {
	jq -c 'select(.event.dataset == "tlsobs.session" or .event.dataset == "tlsobs.alert")
	       | [.event.dataset, .network.vlan.id, .network.inner.vlan.id, .tlsobs.tunnel]' "$1" | sort -u
}

# tshark's count of SMTP and TLS packets, with the decode-as the pseudowire needs (no standard says a CW follows).
tshark_count() {
	tshark -n -r "$1" -d mpls.label==3000,pwethcw -Y 'smtp or tls' 2>/dev/null | wc -l
}

modes="qinq vlan3 vlan4 mpls mpls-pw gre gre-teb erspan2 erspan3 vxlan vxlan6 geneve"
inputs="demo ipv6-starttls mitm-remove.client-side"
for input in $inputs; do
	"$TLSOBS" -r "$fix/$input.pcap" >"$work/$input.json" 2>"$work/$input.err"
	normalise "$work/$input.json" >"$work/$input.norm"
	check "$input: the plain capture gives sessions" 'grep -q tlsobs.session "$work/$input.norm"'
	check "$input: the plain capture has no encapsulation fields" \
		'[ "$(encap_of "$work/$input.json" | jq -c ".[1:]" | sort -u)" = "[null,null,null]" ]'
	plain_packets=$(sed -n 's/^tlsobs: \([0-9]*\) packets.*/\1/p' "$work/$input.err")
	# tshark is slow: the known-good check runs on the first two inputs (IPv4 and IPv6 inside).
	use_tshark=false
	if command -v tshark >/dev/null && [ "$input" != mitm-remove.client-side ]; then
		use_tshark=true
		plain_tshark=$(tshark_count "$fix/$input.pcap")
	fi
	for mode in $modes; do
		w="$work/$input-$mode"
		python3 "$wrap" "$mode" "$fix/$input.pcap" "$w.pcap"
		if $use_tshark; then
			check "$input/$mode: tshark reads the wrapped capture as the plain one" \
				'[ "$(tshark_count "$w.pcap")" = "$plain_tshark" ]'
		fi
		"$TLSOBS" -r "$w.pcap" >"$w.json" 2>"$w.err"
		check "$input/$mode: the default filter lets every packet through, none an anomaly" \
			'grep -q "^tlsobs: $plain_packets packets" "$w.err" && grep -q "decode anomalies: 0" "$w.err"'
		normalise "$w.json" >"$w.norm"
		check "$input/$mode: the same sessions, verdicts, alerts and TLS fields as the plain capture" \
			'diff "$work/$input.norm" "$w.norm" >"$w.diff"'
	done
	# check evals its condition: what it reads goes through globals, not positional parameters.
	expect() { # MODE JQ-EXPRESSION over the [dataset, vlan, inner vlan, tunnel] lines
		emode=$1 eexpr=$2
		check "$input/$1: $2" \
			'[ -n "$(encap_of "$work/$input-$emode.json")" ] &&
			 encap_of "$work/$input-$emode.json" | jq "$eexpr" | sort -u | { read -r v && [ "$v" = true ] && ! read -r _; }'
	}
	expect qinq '.[1] == "100" and .[2] == "200" and .[3] == null'
	expect vlan3 '.[1] == "100" and .[2] == "300" and .[3] == null'
	expect vlan4 '.[1] == "100" and .[2] == "400" and .[3] == null'
	# Only the session event carries tlsobs.tunnel; alerts carry the VLAN fields (none here).
	tunnel() { # MODE JQ-EXPRESSION over tlsobs.tunnel of the session events
		tmode=$1 texpr=$2
		check "$input/$1: tlsobs.tunnel $2" \
			'jq "select(.event.dataset == \"tlsobs.session\") | .tlsobs.tunnel | $texpr" "$work/$input-$tmode.json" |
			 sort -u | { read -r v && [ "$v" = true ] && ! read -r _; }'
	}
	outer4='.source.ip == "192.0.2.1" and .destination.ip == "192.0.2.2" and .depth == 1'
	tunnel mpls '. == {"type": "mpls", "mpls": {"labels": [1000, 2000]}}'
	tunnel mpls-pw '. == {"type": "mpls", "mpls": {"labels": [3000]}}'
	tunnel gre ".type == \"gre\" and .key == 7 and $outer4"
	tunnel gre-teb ".type == \"gre\" and .key == 8 and $outer4"
	tunnel erspan2 ".type == \"erspan_ii\" and .session_id == 42 and $outer4"
	tunnel erspan3 ".type == \"erspan_iii\" and .session_id == 77 and $outer4"
	tunnel vxlan ".type == \"vxlan\" and .vni == 4242 and $outer4"
	tunnel vxlan6 '.type == "vxlan" and .vni == 4243 and .source.ip == "2001:db8:ffff::1" and .destination.ip == "2001:db8:ffff::2"'
	tunnel geneve ".type == \"geneve\" and .vni == 1234 and $outer4"
done

# capture.vxlan_ports and capture.geneve_ports: other ports are decoded only when configured.
python3 "$wrap" --port 8472 vxlan "$fix/demo.pcap" "$work/vxlan-8472.pcap"
"$TLSOBS" -q -r "$work/vxlan-8472.pcap" -f udp >"$work/8472-default.json"
check "VXLAN on 8472 is not decoded by default" '! grep -q tlsobs.session "$work/8472-default.json"'
"$TLSOBS" -q --set capture.vxlan_ports=8472 -r "$work/vxlan-8472.pcap" >"$work/8472.json"
normalise "$work/8472.json" >"$work/8472.norm"
check "capture.vxlan_ports=8472 decodes it, with the default filter built for that port" \
	'diff "$work/demo.norm" "$work/8472.norm" >/dev/null'
python3 "$wrap" --port 4789 geneve "$fix/demo.pcap" "$work/geneve-4789.pcap"
"$TLSOBS" -q --set capture.vxlan_ports=1 --set capture.geneve_ports=4789 -r "$work/geneve-4789.pcap" >"$work/g.json"
check "capture.geneve_ports moves Geneve to another port" 'diff "$work/demo.norm" <(normalise "$work/g.json") >/dev/null'

"$TLSOBS" -T -v >"$work/t.out" 2>&1
check "-T -v prints the default capture filter with its VLAN levels and tunnel ports" \
	'grep -q "capture filter (default, Ethernet):.*vlan and ((.*udp dst port 4789.*udp dst port 6081" "$work/t.out"'
"$TLSOBS" -T -v -f "tcp port 25" >"$work/f.out" 2>&1
check "-T -v with -f prints that filter" 'grep -q "capture filter (-f): tcp port 25" "$work/f.out"'

# The new fields against docs/events.schema.json (when python3-jsonschema is there).
if python3 -c 'import jsonschema' 2>/dev/null; then
	check "every event of every wrapped capture validates against the schema" \
		'python3 - "$TLSOBS_SOURCE_DIR/docs/events.schema.json" "$work"/*-*.json <<"PY"
import json, sys
from jsonschema import Draft202012Validator, FormatChecker
validator = Draft202012Validator(json.load(open(sys.argv[1])), format_checker=FormatChecker())
bad = 0
for path in sys.argv[2:]:
    for line in open(path):
        for error in validator.iter_errors(json.loads(line)):
            print("%s: %s" % (path, error.message))
            bad += 1
sys.exit(1 if bad else 0)
PY'
fi

exit $fail
