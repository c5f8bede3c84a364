#!/usr/bin/env bash
# Kafka output, b: every broker down for 10 s in the middle of a live capture loses and duplicates nothing.
# The sensor captures (-i) in a network namespace of our own while fixtures are replayed into a veth pair for
# ~30 s; the mock cluster runs in the same namespace (its loopback). Once events flow, all brokers go down for
# 10 s, then the replay goes on for 6 s more; the sensor is stopped with SIGTERM; kcat's read-back must equal
# the JSON output exactly.
# Needs root and iproute2; skips (77) otherwise. No traffic leaves the namespace.
set -uo pipefail
: "${TLSOBS:?}" "${TLSOBS_SOURCE_DIR:?}"
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root for a network namespace"; exit 77; }
for tool in ip tcpreplay tcprewrite mergecap; do
	command -v $tool >/dev/null || { echo "skip: $tool missing"; exit 77; }
done
source "$TLSOBS_SOURCE_DIR/tests/kafka/kafka_lib.sh"

span_namespace tlsobs-kafka

# Replaying one capture again would only look like retransmissions of the same flows; so each round replays a
# copy with its addresses remapped (tcprewrite --seed): new flows, new sessions, closed as they go.
fixtures=(starttls-tls13 starttls-tls12 smtp-plain mitm-mask.client-side tls12-resumed submission-auth-587 expired-cert)
(cd "$TLSOBS_SOURCE_DIR/tests/fixtures" && mergecap -F pcap -a -w "$work/round.pcap" "${fixtures[@]/%/.pcap}")
for i in $(seq 1 40); do
	tcprewrite --seed="$i" --fixcsum --infile="$work/round.pcap" --outfile="$work/round-$i.pcap"
done
replay_loop() { # one remapped round after the other until told to stop
	for i in $(seq 1 40); do
		[ -e "$work/stop" ] && break
		ip netns exec "$NS" tcpreplay -q -i replay0 --pps 150 "$work/round-$i.pcap" >/dev/null 2>&1
	done
}
mock_start ip netns exec "$NS"
ip netns exec "$NS" "$TLSOBS" -i span0 -o "kafka:$MOCK_BOOTSTRAP" -o "json:$work/events.json" \
	--set "kafka.spool.dir=$work/spool" --set kafka.shutdown_timeout_ms=20000 2>"$work/sensor.err" &
SENSOR_PID=$!
sleep 1
replay_loop &
replayer=$!
start=$SECONDS
for _ in $(seq 200); do # the outage starts once events flow (sessions are reported as they close)
	[ -s "$work/events.json" ] && break
	sleep 0.1
done
sleep 2
before=$(wc -l <"$work/events.json")
mock_cmd "down all"
sleep 10
during=$(wc -l <"$work/events.json")
mock_cmd "up all"
sleep 6
touch "$work/stop"
wait "$replayer"
sleep 2
kill -TERM "$SENSOR_PID"
timeout 60 tail --pid="$SENSOR_PID" -f /dev/null
wait "$SENSOR_PID"
status=$?
SENSOR_PID=
events=$(wc -l <"$work/events.json")
echo "   $before events before the outage, $((during - before)) during it, $events in all ($((SECONDS - start)) s)"

check "the sensor ends cleanly on SIGTERM (exit $status)" '[ "$status" -eq 0 ]'
check "events were captured before, during and after the outage" \
	'[ "$before" -gt 0 ] && [ "$during" -gt "$before" ] && [ "$events" -gt "$during" ]'
check "kafka read-back equals the JSON output: 0 lost, 0 duplicated" \
	'ip netns exec "$NS" python3 "$TLSOBS_SOURCE_DIR/tests/kafka/check_topics.py" "$MOCK_BOOTSTRAP" "$work/events.json"'
check "the summary counts every event as delivered" '[ "$(summary_sum "$work/sensor.err" delivered)" -eq "$events" ]'
check "the summary reconciles per topic" 'summary_reconciles "$work/sensor.err"'
mock_stop
[ "$fail" -eq 0 ] || { tail -n 30 "$work/sensor.err"; exit 1; }
