#!/usr/bin/env bash
# config_checks.sh: what -T and start-up check in a configuration, and the capture
# settings of the YAML file:
#  - a duplicate partner domain exits 2 naming file:line (under -T and at start);
#  - overlapping partner networks are a warning under -T (exit 0);
#  - kafka.properties are checked by librdkafka itself: a misspelled property exits 2
#    with file:line under -T and at start;
#  - capture.files / capture.interfaces, capture.filter and outputs are read from the
#    file, and -r/-i, -f and -o on the command line replace them;
#  - sensor.name is observer.name; detection.runbook_base makes rule.reference;
#  - -r DIR reads the captures by their magic and skips other files with one notice.
# Run by ctest with TLSOBS and TLSOBS_SOURCE_DIR; exits 77 without python3.
set -uo pipefail

: "${TLSOBS:?TLSOBS must name the tlsobs binary}"
SRC=${TLSOBS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX=$SRC/tests/fixtures
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
passed=0 failed=0

fail() {
	echo "    $*" >&2
	return 1
}
run() {
	out=$CASE/out err=$CASE/err rc=0
	timeout 300 "$TLSOBS" "$@" >"$out" 2>"$err" || rc=$?
}
expect_rc() { [ "$rc" -eq "$1" ] || fail "exit status $rc, expected $1; stderr: $(head -c 2000 "$err")"; }
expect_err() { grep -Eq -- "$1" "$err" || fail "stderr does not match /$1/: $(head -c 2000 "$err")"; }
# The values of a dotted field over the events of one dataset, one a line.
field() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
path, dataset, dotted = sys.argv[1:]
for line in open(path):
    e = json.loads(line)
    if e["event"]["dataset"] != dataset:
        continue
    for part in dotted.split("."):
        e = e.get(part) if isinstance(e, dict) else None
    print(json.dumps(e) if not isinstance(e, str) else e)
PY
}
t() {
	local name=$1
	shift
	CASE=$(mktemp -d "$W/case.XXXXXX")
	(
		set -eE
		"$@"
	)
	if [ $? -eq 0 ]; then
		echo "ok   $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		failed=$((failed + 1))
	fi
}

duplicate_partner_is_refused_with_its_line() {
	cat >"$CASE/dup.yaml" <<-'Y'
	policy:
	  partners:
	    - domain: bank.example
	      mode: enforced
	    - domain: other.example
	    - domain: Bank.Example.
	      mode: none
	Y
	run -T -c "$CASE/dup.yaml"
	expect_rc 2
	expect_err "^tlsobs: $CASE/dup.yaml:6: policy.partners\[2\].domain: bank.example is already partner \[0\]"
	run -c "$CASE/dup.yaml" -r "$FIX/smtp-plain.pcap"
	expect_rc 2
	expect_err "dup.yaml:6: policy.partners\[2\].domain"
}

overlapping_networks_are_a_warning() {
	cat >"$CASE/overlap.yaml" <<-'Y'
	policy:
	  partners:
	    - domain: bank.example
	      networks: [198.51.100.0/24]
	    - domain: other.example
	      networks: [198.51.100.128/25, 203.0.113.0/24]
	    - domain: third.example
	      networks: ["2001:db8::/32", "2001:db8:1::/48"]
	Y
	run -T -c "$CASE/overlap.yaml"
	expect_rc 0
	expect_err "^tlsobs: warning: policy.partners: network 198.51.100.0/24 of bank.example overlaps network 198.51.100.128/25 of other.example"
	expect_err "network 2001:db8::/32 of third.example overlaps network 2001:db8:1::/48 of third.example"
	[ "$(grep -c warning "$err")" -eq 2 ] || fail "want 2 warnings: $(cat "$err")"
	expect_err "^tlsobs: configuration OK$"
}

kafka_properties_are_checked_by_librdkafka() {
	printf 'kafka:\n  properties:\n    message.timeout.ms: 30000\n    linger.ms: 5\n' >"$CASE/good.yaml"
	run -T -c "$CASE/good.yaml"
	expect_rc 0
	printf 'kafka:\n  properties:\n    message.timeout.ms: 30000\n    lingr.ms: 5\n' >"$CASE/typo.yaml"
	run -T -c "$CASE/typo.yaml"
	expect_rc 2
	expect_err "^tlsobs: $CASE/typo.yaml:4: kafka.properties.lingr.ms: librdkafka refuses it: .*lingr.ms"
	run -c "$CASE/typo.yaml" -r "$FIX/smtp-plain.pcap"
	expect_rc 2
	expect_err "typo.yaml:4: kafka.properties.lingr.ms"
	run -T --set kafka.properties.message.timeout.ms=abc
	expect_rc 2
	expect_err "^tlsobs: --set: kafka.properties.message.timeout.ms: librdkafka refuses it"
}

capture_settings_come_from_the_file_and_the_command_line_wins() {
	cat >"$CASE/cap.yaml" <<-Y
	sensor:
	  name: span-a
	detection:
	  runbook_base: https://wiki.example/tlsobs/
	capture:
	  files: ["$FIX/smtp-plain.pcap", "$FIX/client-ignores-starttls.pcap"]
	  filter: "tcp port 25"
	outputs: ["json:$CASE/file.json"]
	Y
	run -c "$CASE/cap.yaml"
	expect_rc 0
	[ ! -s "$out" ] || fail "stdout not empty: outputs should replace json:-"
	[ "$(field "$CASE/file.json" tlsobs.session event.dataset | wc -l)" -eq 2 ] || fail "want 2 sessions"
	[ "$(field "$CASE/file.json" tlsobs.session observer.name | sort -u)" = span-a ] || fail "observer.name"
	field "$CASE/file.json" tlsobs.alert rule.reference | grep -qx 'https://wiki.example/tlsobs/[a-z_]*\.md' ||
		fail "rule.reference: $(field "$CASE/file.json" tlsobs.alert rule.reference)"
	# -r, -f and -o replace the file's files, filter and outputs.
	run -c "$CASE/cap.yaml" -r "$FIX/smtps-465.pcap" -f "tcp port 465" -o json:-
	expect_rc 0
	[ "$(field "$out" tlsobs.session destination.port)" = 465 ] || fail "-r/-f/-o: $(cat "$out" | head -c 300)"
	# The file's filter applies: port 25 only, so the SMTPS capture gives nothing.
	printf 'capture:\n  files: ["%s"]\n  filter: "tcp port 25"\n' "$FIX/smtps-465.pcap" >"$CASE/filter.yaml"
	run -c "$CASE/filter.yaml"
	expect_rc 0
	[ "$(field "$out" tlsobs.session event.dataset | wc -l)" -eq 0 ] || fail "capture.filter not applied"
	printf 'capture:\n  filter: "tcp port nonsense"\n' >"$CASE/badf.yaml"
	run -T -c "$CASE/badf.yaml"
	expect_rc 2
	printf 'capture:\n  interfaces: [lo]\n  files: [x.pcap]\n' >"$CASE/both.yaml"
	run -T -c "$CASE/both.yaml"
	expect_rc 2
	expect_err "both.yaml:3: capture.files: capture.interfaces and capture.files cannot be used together"
}

observer_name_defaults_to_the_host_name() {
	run -r "$FIX/smtp-plain.pcap"
	expect_rc 0
	[ "$(field "$out" tlsobs.session observer.name)" = "$(hostname)" ] || fail "observer.name"
	[ "$(field "$out" tlsobs.session observer.vendor)" = tlsobs ] || fail "observer.vendor"
	[ -n "$(field "$out" tlsobs.session ecs.version)" ] || fail "ecs.version"
}

a_directory_skips_files_that_are_not_captures_with_one_notice() {
	mkdir "$CASE/d"
	cp "$FIX/smtp-plain.pcap" "$CASE/d/a.pcap"
	cp "$FIX/smtps-465.pcap" "$CASE/d/b.cap"
	echo '{"not": "a capture"}' >"$CASE/d/events.json"
	printf 'pcap?' >"$CASE/d/notes.pcap"
	run -r "$CASE/d"
	expect_rc 0
	expect_err "^tlsobs: notice: -r $CASE/d: 2 files without a pcap or pcapng magic skipped"
	[ "$(grep -c notice "$err")" -eq 1 ] || fail "want one notice: $(cat "$err")"
	expect_err '^tlsobs: files: 2 read, 0 failed, 2 skipped \(not captures\)$'
	[ "$(field "$out" tlsobs.session event.dataset | wc -l)" -eq 2 ] || fail "want 2 sessions"
	# A directory of non-captures only is still an error.
	mkdir "$CASE/e"
	echo x >"$CASE/e/readme.txt"
	run -r "$CASE/e"
	expect_rc 1
	expect_err "^tlsobs: -r $CASE/e: directory holds no captures$"
	# A pcapng is recognised too.
	if command -v editcap >/dev/null; then
		mkdir "$CASE/ng"
		editcap -F pcapng "$FIX/smtp-plain.pcap" "$CASE/ng/x.ng" >/dev/null
		run -r "$CASE/ng"
		expect_rc 0
		[ "$(field "$out" tlsobs.session event.dataset | wc -l)" -eq 1 ] || fail "pcapng in a directory"
	fi
}

t "a duplicate partner domain exits 2 with file:line, under -T and at start" duplicate_partner_is_refused_with_its_line
t "overlapping partner networks are warnings under -T" overlapping_networks_are_a_warning
t "kafka.properties are checked by librdkafka: a misspelled one exits 2 with file:line" kafka_properties_are_checked_by_librdkafka
t "capture.files, capture.filter and outputs come from the file; -r, -f, -o replace them" capture_settings_come_from_the_file_and_the_command_line_wins
t "observer.name is the host name by default, with observer.vendor and ecs.version" observer_name_defaults_to_the_host_name
t "-r DIR reads captures by their magic and skips the rest with one notice" a_directory_skips_files_that_are_not_captures_with_one_notice

echo "config_checks.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
