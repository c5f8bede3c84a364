#!/usr/bin/env bash
# Kafka output against a real-protocol cluster (librdkafka's mock, tests/kafka/kafka_mock_cluster) on loopback:
#   a. every event of the JSON output arrives once in its topic, whole, with its key (and CloudEvents headers)
#   c. an outage longer than message.timeout.ms: events are spooled, replayed after recovery, none lost
#   d. a full spool drops exactly the oldest events, counted; the rest are delivered by the next run
#   e. events spooled by a process killed with SIGKILL are delivered after a restart
#   f. the exit code is non-zero exactly when something was dropped; produced = delivered + spooled + dropped
#      + in flight per topic in every summary
# The live outage in the middle of a capture (b) is kafka_live_outage.sh (needs root).
set -uo pipefail
source "$TLSOBS_SOURCE_DIR/tests/kafka/kafka_lib.sh"

fixtures="$work/fixtures" # every capture of tests/fixtures, as one directory for -r
mkdir -p "$fixtures"
ln -s "$TLSOBS_SOURCE_DIR"/tests/fixtures/*.pcap "$fixtures/"
empty_pcap "$work/empty.pcap"

# run_sensor NAME ARGS...: tlsobs with a timeout; stderr in $work/NAME.err, exit status in $status
run_sensor() {
	local name=$1
	shift
	timeout 120 "$TLSOBS" "$@" 2>"$work/$name.err"
	status=$?
}

echo "== a. every event arrives once in its topic, with its key"
mock_start
run_sensor a -r "$fixtures" -o "kafka:$MOCK_BOOTSTRAP" -o "json:$work/a.json" --set "kafka.spool.dir=$work/spool-a" \
	--set kafka.cloudevents=true
events=$(wc -l <"$work/a.json")
check "the sensor exits 0 when all was delivered (exit $status)" '[ "$status" -eq 0 ]'
check "the fixtures give many events ($events)" '[ "$events" -ge 100 ]'
check "kafka read-back equals the JSON output: none missing, none duplicated, keys right, CloudEvents headers" \
	'check_topics "$MOCK_BOOTSTRAP" --require-headers "$work/a.json"'
check "the summary counts every event as delivered" \
	'[ "$(summary_sum "$work/a.err" delivered)" -eq "$events" ] && [ "$(summary_sum "$work/a.err" produced)" -eq "$events" ]'
check "the summary reconciles per topic" 'summary_reconciles "$work/a.err"'
mock_stop

echo "== c. brokers down longer than message.timeout.ms: spooled, then replayed"
mock_start
mock_cmd "down all"
timeout 120 "$TLSOBS" -r "$fixtures" -o "kafka:$MOCK_BOOTSTRAP" -o "json:$work/c.json" --set "kafka.spool.dir=$work/spool-c" \
	--set kafka.properties.message.timeout.ms=3000 --set kafka.shutdown_timeout_ms=60000 2>"$work/c.err" &
SENSOR_PID=$!
sleep 8
mock_cmd "up all"
wait "$SENSOR_PID"
status=$?
SENSOR_PID=
failed=$(grep -o "[0-9]* failed deliveries" "$work/c.err" | awk '{n += $1} END {print n + 0}')
replayed=$(grep -o "[0-9]* replayed" "$work/c.err" | awk '{n += $1} END {print n + 0}')
check "the sensor exits 0: nothing was lost (exit $status)" '[ "$status" -eq 0 ]'
check "deliveries failed during the outage and went to the spool ($failed)" '[ "$failed" -gt 0 ]'
check "spooled events were replayed after recovery ($replayed)" '[ "$replayed" -gt 0 ]'
check "the spool is empty at the end" '[ "$(summary_sum "$work/c.err" spooled)" -eq 0 ]'
check "kafka read-back equals the JSON output: 0 lost" 'check_topics "$MOCK_BOOTSTRAP" "$work/c.json"'
check "the summary reconciles per topic" 'summary_reconciles "$work/c.err"'
mock_stop

echo "== d. a full spool drops exactly the oldest events; the next run delivers the rest"
nobody=$(free_port)
run_sensor d1 -r "$fixtures" -o "kafka:127.0.0.1:$nobody" -o "json:$work/d1.json" --set "kafka.spool.dir=$work/spool-d" \
	--set kafka.spool.max_bytes=40000 --set kafka.properties.message.timeout.ms=1000 --set kafka.shutdown_timeout_ms=3000
dropped=$(summary_sum "$work/d1.err" dropped)
spooled=$(summary_sum "$work/d1.err" spooled)
events=$(wc -l <"$work/d1.json")
check "events were dropped ($dropped) and some kept in the spool ($spooled)" '[ "$dropped" -gt 0 ] && [ "$spooled" -gt 0 ]'
check "every event is either spooled or dropped ($spooled + $dropped = $events)" '[ $((spooled + dropped)) -eq "$events" ]'
check "the exit code is 1 when events were dropped (exit $status)" '[ "$status" -eq 1 ]'
check "the summary reconciles per topic" 'summary_reconciles "$work/d1.err"'
mock_start
run_sensor d2 -r "$work/empty.pcap" -o "kafka:$MOCK_BOOTSTRAP" -o "json:$work/d2.json" --set "kafka.spool.dir=$work/spool-d" \
	--set kafka.spool.max_bytes=40000
check "the next run delivers the spool and exits 0 (exit $status)" '[ "$status" -eq 0 ]'
check "what arrived is the newest events of each topic, exactly $dropped fewer" \
	'check_topics "$MOCK_BOOTSTRAP" --dropped "$dropped" --first "$work/d1.json" "$work/d2.json"'
check "the next run counts the spooled events as recovered and delivered" \
	'grep -q "$spooled recovered from a previous run" "$work/d2.err" && [ "$(summary_sum "$work/d2.err" spooled)" -eq 0 ]'
check "the summary reconciles per topic" 'summary_reconciles "$work/d2.err"'
mock_stop

echo "== e. events in the spool survive SIGKILL"
nobody=$(free_port)
"$TLSOBS" -r "$fixtures" -o "kafka:127.0.0.1:$nobody" -o "json:$work/e1.json" --set "kafka.spool.dir=$work/spool-e" \
	--set kafka.properties.message.timeout.ms=1000 --set kafka.shutdown_timeout_ms=60000 2>"$work/e1.err" &
SENSOR_PID=$!
sleep 4 # read, failed after 1 s, spooled; the next replay attempt would only come 5 s after the failures
kill -KILL "$SENSOR_PID"
wait "$SENSOR_PID" 2>/dev/null
SENSOR_PID=
segments=$(ls "$work/spool-e" | grep -c '\.seg$')
check "the killed sensor left events in spool segments ($segments files)" '[ "$segments" -gt 0 ]'
mock_start
run_sensor e2 -r "$work/empty.pcap" -o "kafka:$MOCK_BOOTSTRAP" -o "json:$work/e2.json" --set "kafka.spool.dir=$work/spool-e"
check "the restarted sensor exits 0 (exit $status)" '[ "$status" -eq 0 ]'
check "every event of the killed run arrives, once" 'check_topics "$MOCK_BOOTSTRAP" "$work/e1.json" "$work/e2.json"'
check "the spool directory holds no segment afterwards" '[ "$(ls "$work/spool-e" | grep -c "\.seg")" -eq 0 ]'
mock_stop

echo "== f. settings"
run_sensor f1 -r "$work/empty.pcap" -o "kafka:127.0.0.1:1" --set "kafka.spool.dir=$work/spool-f" \
	--set kafka.properties.enable.idempotence=false
check "enable.idempotence=false is refused with a message (exit $status)" \
	'[ "$status" -eq 2 ] && grep -q "enable.idempotence" "$work/f1.err"'
touch "$work/file"
run_sensor f2 -r "$work/empty.pcap" -o "kafka:127.0.0.1:1" --set "kafka.spool.dir=$work/file/spool"
check "an unusable spool directory is refused with a message (exit $status)" \
	'[ "$status" -eq 2 ] && grep -q "kafka.spool.dir" "$work/f2.err"'

[ "$fail" -eq 0 ] || { tail -n 20 "$work"/*.err; exit 1; }
