#!/usr/bin/env bash
# security.seccomp: true (issue 13): the allow-list changes nothing the sensor does, only what it could do.
#   a. every fixture, with the state database, --dump-streams and a JSON output: the same events (run ids
#      and event.created aside; tlsobs.stats only by count, as they carry timings), the same dumps, exit 0;
#   b. Kafka (the mock cluster on loopback): every event arrives, and an outage spools and replays them all;
#   c. live, as root in a network namespace of our own (prefix tsc-): -u nobody, Kafka in the namespace,
#      a SIGHUP reload, SIGTERM: every thread runs under the filter (Seccomp: 2), events come out, exit 0.
# A syscall off the list kills the process (SIGSYS): any of these would then fail on its exit status.
set -uo pipefail
source "$TLSOBS_SOURCE_DIR/tests/kafka/kafka_lib.sh"
command -v jq >/dev/null || { echo "skip: jq missing"; exit 77; }
cache=${TLSOBS_BUILD_DIR:-$(dirname "$TLSOBS")}/CMakeCache.txt
if grep -q '^TLSOBS_SANITIZE:BOOL=ON' "$cache" 2>/dev/null; then
	# LeakSanitizer stops the world with ptrace at exit: a filtered process may not, by design.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fi
fixtures="$work/fixtures"
mkdir -p "$fixtures"
ln -s "$TLSOBS_SOURCE_DIR"/tests/fixtures/*.pcap "$fixtures/"

# norm FILE: events without what differs between runs (the run's nonce in ids, event.created), stats left out
norm() {
	local nonce
	nonce=$(grep -o '"session_id":"S[0-9A-Z]\{8\}' "$1" | head -1 | cut -c15-)
	sed "s/${nonce:-NONE}/RUN/g" "$1" | jq -cS 'select(.event.dataset != "tlsobs.stats") | del(.event.created)'
}

echo "== a. the fixtures with and without the filter"
for mode in false true; do
	mkdir -p "$work/$mode/dump"
	timeout 300 "$TLSOBS" -r "$fixtures" --set security.seccomp=$mode --set "state_db=$work/$mode/state.db" \
		--dump-streams "$work/$mode/dump" -o "json:$work/$mode/out.json" 2>"$work/$mode.err"
	echo $? >"$work/$mode.rc"
done
check "with the filter: exit 0, not killed ($(cat "$work/true.rc"); without: $(cat "$work/false.rc"))" \
	'[ "$(cat "$work/true.rc")" -eq 0 ] && [ "$(cat "$work/false.rc")" -eq 0 ]'
check "the same events ($(norm "$work/true/out.json" | wc -l) besides stats)" \
	'[ "$(norm "$work/true/out.json" | wc -l)" -ge 100 ] && diff <(norm "$work/false/out.json") <(norm "$work/true/out.json") >/dev/null'
check "as many tlsobs.stats events" \
	'[ "$(grep -c tlsobs.stats "$work/true/out.json")" -eq "$(grep -c tlsobs.stats "$work/false/out.json")" ]'
check "the same stream dumps ($(find "$work/true/dump" -type f | wc -l) files)" \
	'[ "$(find "$work/true/dump" -type f | wc -l)" -gt 0 ] && diff -r "$work/false/dump" "$work/true/dump" >/dev/null'
check "the state database was written under the filter" 'grep -q "flush errors 0" "$work/true.err" && grep -Eq "[1-9][0-9]* saved" "$work/true.err"'

echo "== b. Kafka under the filter"
mock_start
timeout 120 "$TLSOBS" -r "$fixtures" -o "kafka:$MOCK_BOOTSTRAP" -o "json:$work/b.json" --set security.seccomp=true \
	--set "kafka.spool.dir=$work/spool-b" 2>"$work/b.err"
status=$?
check "exit 0 (exit $status)" '[ "$status" -eq 0 ]'
check "kafka read-back equals the JSON output" 'check_topics "$MOCK_BOOTSTRAP" "$work/b.json"'
mock_stop
mock_start
mock_cmd "down all"
timeout 120 "$TLSOBS" -r "$fixtures" -o "kafka:$MOCK_BOOTSTRAP" -o "json:$work/c.json" --set security.seccomp=true \
	--set "kafka.spool.dir=$work/spool-c" --set kafka.properties.message.timeout.ms=3000 \
	--set kafka.shutdown_timeout_ms=60000 2>"$work/c.err" &
SENSOR_PID=$!
sleep 8
mock_cmd "up all"
wait "$SENSOR_PID"
status=$?
SENSOR_PID=
replayed=$(grep -o "[0-9]* replayed" "$work/c.err" | awk '{n += $1} END {print n + 0}')
check "an outage: spooled and replayed under the filter ($replayed replayed), exit $status" \
	'[ "$status" -eq 0 ] && [ "$replayed" -gt 0 ]'
check "... and nothing lost" 'check_topics "$MOCK_BOOTSTRAP" "$work/c.json"'
mock_stop

echo "== c. live, -u nobody, Kafka, SIGHUP"
if [ "$(id -u)" -ne 0 ] || ! command -v tcpreplay >/dev/null || ! command -v ip >/dev/null; then
	echo "skip c: needs root, ip and tcpreplay"
elif ! ip netns add "tsc-$$" 2>/dev/null; then
	echo "skip c: cannot create a network namespace here"
else
	NS=tsc-$$
	ip -n "$NS" link set lo up
	ip -n "$NS" addr add 192.0.2.1/32 dev lo # librdkafka's AI_ADDRCONFIG wants one non-loopback address
	ip -n "$NS" link add tsc-rep0 type veth peer name tsc-span0
	ip -n "$NS" link set tsc-rep0 up
	ip -n "$NS" link set tsc-span0 up
	mock_start ip netns exec "$NS"
	chmod 755 "$work"
	printf 'security:\n  seccomp: true\nstats:\n  interval: 1s\nmetrics:\n  listen: 127.0.0.1:9273\n' >"$work/live.yaml"
	chmod 600 "$work/live.yaml"
	ip netns exec "$NS" "$TLSOBS" -i tsc-span0 -u nobody -c "$work/live.yaml" -o "kafka:$MOCK_BOOTSTRAP" \
		-o "json:$work/live.json" --set "kafka.spool.dir=$work/spool-live" 2>"$work/live.err" &
	SENSOR_PID=$!
	for _ in $(seq 100); do
		grep -q "^Seccomp:[[:space:]]*2" "/proc/$SENSOR_PID/status" 2>/dev/null && break
		sleep 0.1
	done
	for f in smtp-plain starttls-tls12 auth-cleartext; do
		ip netns exec "$NS" tcpreplay -q -i tsc-rep0 --topspeed "$TLSOBS_SOURCE_DIR/tests/fixtures/$f.pcap" >/dev/null 2>&1
	done
	sleep 1.5
	kill -HUP "$SENSOR_PID"
	sleep 1.5
	# The metrics thread serves under the filter too (it was started before it, and is bound by it).
	ip netns exec "$NS" python3 -c 'import urllib.request, sys
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9273/metrics", timeout=5).read().decode())' \
		>"$work/metrics.txt" 2>>"$work/live.err"
	threads=0 filtered=0
	for t in /proc/$SENSOR_PID/task/*; do
		threads=$((threads + 1))
		grep -q "^Seccomp:[[:space:]]*2" "$t/status" 2>/dev/null && filtered=$((filtered + 1))
	done
	kill -TERM "$SENSOR_PID"
	wait "$SENSOR_PID"
	status=$?
	SENSOR_PID=
	check "every thread under the filter ($filtered of $threads)" '[ "$threads" -gt 1 ] && [ "$filtered" -eq "$threads" ]'
	check "SIGTERM ends it with exit 0 (exit $status)" '[ "$status" -eq 0 ]'
	check "the 3 replayed sessions are reported ($(grep -c '"dataset":"tlsobs.session"' "$work/live.json"))" \
		'[ "$(grep -c "\"dataset\":\"tlsobs.session\"" "$work/live.json")" -eq 3 ]'
	check "SIGHUP reloaded the 0600 configuration after the drop" 'grep -q "configuration reloaded" "$work/live.err"'
	check "/metrics answered under the filter, with the reload counted" \
		'grep -q "^tlsobs_config_reloads_total{result=\"success\"} 1" "$work/metrics.txt"'
	check "the events reached Kafka" \
		'ip netns exec "$NS" python3 "$TLSOBS_SOURCE_DIR/tests/kafka/check_topics.py" "$MOCK_BOOTSTRAP" "$work/live.json"'
	mock_stop
fi
[ "$fail" -eq 0 ] || { for f in "$work"/*.err; do echo "--- $f"; tail -5 "$f"; done; }
exit "$fail"
