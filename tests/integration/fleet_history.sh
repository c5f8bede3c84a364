#!/usr/bin/env bash
# The history shared by a fleet of sensors (issue 20, detection.history.shared) through the compacted topic
# <prefix>history on a real-protocol cluster (librdkafka's mock, tests/kafka/kafka_mock_cluster) on loopback.
# Two recorded captures of two sessions each are cut into their TCP sessions (tests/integration/policy.py's
# pcap splitter): tls-blocked-then-plain (a handshake reset, then the client's clear-text retry) and
# stripped-then-clean (STARTTLS offered and used, then the capability stripped). Sensor A gets the first
# halves, sensor B (another sensor.name) the second:
#   a. B raises cleartext_fallback naming A's failed session and starttls_capability_removed naming A's
#      upgraded one; A raises neither; every event says its observer.name; the topic holds both sensors'
#      updates under server:port keys; B read the topic at start and says how long it took
#   b. control: the same halves without sharing raise neither; sharing without a kafka: output is refused
#   c. restart: B started again (no state_db) reads the history back from the topic, own records included
#   d. brokers down while A shares: its updates are spooled (capture does not wait), delivered after
#      recovery, nothing dropped; B merges each of them once and raises cleartext_fallback once
#   e. undecodable documents on the topic are counted errors, never a crash
set -uo pipefail
source "$TLSOBS_SOURCE_DIR/tests/kafka/kafka_lib.sh"

python3 - "$TLSOBS_SOURCE_DIR" "$work" <<'PY' || { echo "FAIL: could not split the captures"; exit 1; }
import os, sys
src, work = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "integration"))
from policy import pcap_split, pcap_client_ports
fix = os.path.join(src, "tests", "fixtures")
for name, cap in (("tb", "tls-blocked-then-plain.client-side.pcap"), ("sc", "stripped-then-clean.client-side.pcap")):
    ports = pcap_client_ports(os.path.join(fix, cap))
    assert len(ports) == 2, f"{cap}: {len(ports)} sessions"
    for i, port in enumerate(ports, 1):
        assert pcap_split(os.path.join(fix, cap), os.path.join(work, f"{name}{i}.pcap"), port) > 0
PY


# sensor NAME ARGS...: tlsobs with a timeout, events in $work/NAME.json, stderr in $work/NAME.err, $status
sensor() {
	local name=$1
	shift
	timeout 120 "$TLSOBS" -o "json:$work/$name.json" --set "kafka.spool.dir=$work/spool-$name" "$@" 2>"$work/$name.err"
	status=$?
}
shared() { echo --set detection.history.shared=true --set detection.history.startup_timeout=10s; }

echo "== a. two sensors share their history"
mock_start
K="kafka:$MOCK_BOOTSTRAP"
# Each capture on its own topics (kafka.topic_prefix): both talk to the same server, whose STARTTLS offer in
# one would otherwise explain the other's alert.
tb() { echo --set kafka.topic_prefix=tb.; }
sc() { echo --set kafka.topic_prefix=sc.; }
sensor A -r "$work/tb1.pcap" -o "$K" --set sensor.name=span-a $(shared) $(tb)
check "A exits 0 (exit $status)" '[ "$status" -eq 0 ]'
sensor B -r "$work/tb2.pcap" -o "$K" --set sensor.name=span-b $(shared) $(tb)
check "B exits 0 (exit $status)" '[ "$status" -eq 0 ]'
sensor A2 -r "$work/sc1.pcap" -o "$K" --set sensor.name=span-a $(shared) $(sc)
sensor B2 -r "$work/sc2.pcap" -o "$K" --set sensor.name=span-b $(shared) $(sc)
failed=$(q "$work/A.json" '[s["tlsobs"]["session_id"] for s in sessions if "tls_handshake_failed" in s["tlsobs"].get("alerts", [])]')
upgraded=$(q "$work/A2.json" '[s["tlsobs"]["session_id"] for s in sessions if s["tlsobs"]["smtp"]["starttls"]["result"] == "upgraded"]')
check "A: a failed handshake ($failed), an upgraded session ($upgraded)" \
	'[ "$(echo "$failed$upgraded" | tr -cd , | wc -c)" -eq 0 ] && [ "$failed" != "[]" ] && [ "$upgraded" != "[]" ]'
check "B raises cleartext_fallback once, naming A's failed session" \
	'[ "$(q "$work/B.json" "[a[\"tlsobs\"][\"related_session_id\"] for a in alerts(\"cleartext_fallback\")]")" = "$failed" ]'
check "B raises starttls_capability_removed once, naming A's upgraded session" \
	'[ "$(q "$work/B2.json" "[a[\"tlsobs\"][\"related_session_id\"] for a in alerts(\"starttls_capability_removed\")]")" = "$upgraded" ]'
check "A raises neither" \
	'[ "$(q "$work/A.json" "len(alerts(\"cleartext_fallback\") + alerts(\"starttls_capability_removed\"))")" -eq 0 ] &&
	 [ "$(q "$work/A2.json" "len(alerts(\"cleartext_fallback\") + alerts(\"starttls_capability_removed\"))")" -eq 0 ]'
check "every event of A says observer.name span-a, of B span-b" \
	'[ "$(q "$work/A.json" "sorted({e[\"observer\"][\"name\"] for e in ev})")" = "['"'"'span-a'"'"']" ] &&
	 [ "$(q "$work/B.json" "sorted({e[\"observer\"][\"name\"] for e in ev})")" = "['"'"'span-b'"'"']" ]'
kcat -b "$MOCK_BOOTSTRAP" -C -t tb.history -e -q -f '%k\t%s\n' >"$work/history.tsv" 2>"$work/kcat.err"
check "the topic holds both sensors' updates, keyed server:port [client]" \
	'grep -q "\"observer\":\"span-a\"" "$work/history.tsv" && grep -q "\"observer\":\"span-b\"" "$work/history.tsv" &&
	 awk -F"\t" "\$1 !~ /^[0-9.]+:25( [0-9.]+)?\$/ {bad = 1} END {exit bad || NR == 0}" "$work/history.tsv"'
published_a=$(q "$work/A.json" 'stats["history_shared"]["published"]')
check "B merged what A published ($published_a) at start and says how long it waited" \
	'[ "$(q "$work/B.json" "stats[\"history_shared\"][\"startup\"][\"read\"]")" -eq "$published_a" ] &&
	 [ "$(q "$work/B.json" "stats[\"history_shared\"][\"startup\"][\"complete\"]")" = True ] &&
	 grep -Eq "tb.history read to its end in [0-9]+ ms: $published_a updates" "$work/B.err"'
check "the summary counts the history topic as delivered" \
	'grep -Eq "^tlsobs: kafka tb.history: ([0-9]+) produced, \1 delivered, 0 spooled, 0 dropped" "$work/B.err"'

echo "== c. B restarted reads the history back"
sensor B3 -r "$work/tb2.pcap" -o "$K" --set sensor.name=span-b $(shared) $(tb)
check "B restarted raises cleartext_fallback again, naming A's failed session" \
	'[ "$(q "$work/B3.json" "[a[\"tlsobs\"][\"related_session_id\"] for a in alerts(\"cleartext_fallback\")]")" = "$failed" ]'
check "its start-up read took its own earlier records too (nothing ignored as an echo)" \
	'[ "$(q "$work/B3.json" "stats[\"history_shared\"][\"ignored_own\"]")" -eq 0 ] &&
	 [ "$(q "$work/B3.json" "stats[\"history_shared\"][\"startup\"][\"read\"]")" -gt "$published_a" ]'

echo "== e. undecodable documents on the topic are counted, never a crash"
printf 'not json\n{"v":9}\n{"v":1,"kind":"server"' | kcat -b "$MOCK_BOOTSTRAP" -P -t tb.history -k junk 2>/dev/null
sensor E -r "$work/tb2.pcap" -o "$K" --set sensor.name=span-e $(shared) $(tb)
check "E exits 0 and counts 3 errors (exit $status)" \
	'[ "$status" -eq 0 ] && [ "$(q "$work/E.json" "stats[\"history_shared\"][\"errors\"]")" -eq 3 ]'
check "E still raises cleartext_fallback from A's records" '[ "$(q "$work/E.json" "len(alerts(\"cleartext_fallback\"))")" -eq 1 ]'
mock_stop

echo "== b. control: the same halves without sharing"
mock_start
K="kafka:$MOCK_BOOTSTRAP"
sensor cA -r "$work/tb1.pcap" -o "$K" --set sensor.name=span-a
sensor cB -r "$work/tb2.pcap" -o "$K" --set sensor.name=span-b
sensor cA2 -r "$work/sc1.pcap" -o "$K" --set sensor.name=span-a
sensor cB2 -r "$work/sc2.pcap" -o "$K" --set sensor.name=span-b
check "B raises neither cleartext_fallback nor starttls_capability_removed" \
	'[ "$(q "$work/cB.json" "len(alerts(\"cleartext_fallback\"))")" -eq 0 ] &&
	 [ "$(q "$work/cB2.json" "len(alerts(\"starttls_capability_removed\"))")" -eq 0 ]'
check "no history topic was written" '! grep -Eq "shared history|kafka [a-z.]*history" "$work/cA.err" "$work/cB.err" "$work/cA2.err" "$work/cB2.err"'
timeout 20 "$TLSOBS" -r "$work/tb1.pcap" -o json:/dev/null --set detection.history.shared=true 2>"$work/nokafka.err"
status=$?
check "sharing without a kafka: output is a configuration error (exit $status)" \
	'[ "$status" -eq 2 ] && grep -q "detection.history.shared: needs a kafka: output" "$work/nokafka.err"'
mock_stop

echo "== d. brokers down while sharing: spooled, delivered after recovery, merged once"
mock_start
K="kafka:$MOCK_BOOTSTRAP"
mock_cmd "down all"
timeout 180 "$TLSOBS" -r "$work/tb1.pcap" -o "$K" -o "json:$work/dA.json" --set "kafka.spool.dir=$work/spool-dA" \
	--set sensor.name=span-a $(shared) --set detection.history.startup_timeout=3s \
	--set kafka.properties.message.timeout.ms=3000 --set kafka.shutdown_timeout_ms=90000 2>"$work/dA.err" &
SENSOR_PID=$!
for _ in $(seq 600); do
	grep -q "delivery failed" "$work/dA.err" && break
	kill -0 "$SENSOR_PID" 2>/dev/null || break
	sleep 0.1
done
sleep 1
mock_cmd "up all"
wait "$SENSOR_PID"
status=$?
SENSOR_PID=
check "A exits 0: nothing was lost (exit $status)" '[ "$status" -eq 0 ]'
check "A finished its capture while the brokers were down (its sessions are in the JSON output)" \
	'[ "$(q "$work/dA.json" "len(sessions)")" -eq 1 ]'
check "the history updates failed, were spooled and replayed, none dropped or left" \
	'grep -Eq "^tlsobs: kafka tlsobs.history: 2 produced, 2 delivered, 0 spooled, 0 dropped, 0 in flight \([1-9][0-9]* failed deliveries, [1-9][0-9]* replayed\)" "$work/dA.err"'
sensor dB -r "$work/tb2.pcap" -o "$K" --set sensor.name=span-b $(shared)
check "B merges each of A's two updates once and raises cleartext_fallback once" \
	'[ "$(q "$work/dB.json" "stats[\"history_shared\"][\"received\"], stats[\"history_shared\"][\"merged\"], len(alerts(\"cleartext_fallback\"))")" = "(2, 2, 1)" ]'
mock_stop

if [ "$fail" -ne 0 ]; then
	for f in "$work"/*.err; do echo "--- $f"; grep -v "^tlsobs: \(kafka\|nDPI\|flows\|skipped\|decode\|files\)" "$f" | head -20; done
fi
exit "$fail"
