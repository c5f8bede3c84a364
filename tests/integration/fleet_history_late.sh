#!/usr/bin/env bash
# The shared history's late join (issue 20, detection.history.shared): a sensor whose brokers are out of reach
# when it starts runs on its local history, and merges the fleet's once they answer, without a restart.
# On librdkafka's mock cluster (tests/kafka/kafka_mock_cluster) in a network namespace of our own:
#   1. sensor A reads the first half of tls-blocked-then-plain (the handshake reset; its times moved to now, so
#      that a live retry falls within detection.cleartext_fallback_window) and shares it on the topic;
#   2. every broker goes down; sensor B starts capturing live (-i) with the same sharing: its start-up read
#      gives up after detection.history.startup_timeout and it runs on its local history;
#   3. the brokers come back: B's reader thread (tlsobs-history) sets its consumer up, reads the topic from the
#      beginning, and B's housekeeping merges A's records;
#   4. the clear-text retry (the second half) is replayed into B's interface: B raises cleartext_fallback naming
#      A's failed session; its stats say the reader connected after failed attempts and the start-up read was
#      incomplete; a SIGHUP while it retried changed nothing of that; SIGTERM ends it cleanly (the thread
#      stops with it).
# Needs root, iproute2 and tcpreplay; skips (77) otherwise. No traffic leaves the namespace.
set -uo pipefail
: "${TLSOBS:?}" "${TLSOBS_SOURCE_DIR:?}"
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root for a network namespace"; exit 77; }
for tool in ip tcpreplay editcap; do
	command -v $tool >/dev/null || { echo "skip: $tool missing"; exit 77; }
done
source "$TLSOBS_SOURCE_DIR/tests/kafka/kafka_lib.sh"

python3 - "$TLSOBS_SOURCE_DIR" "$work" <<'PY' || { echo "FAIL: could not split the capture"; exit 1; }
import os, sys
src, work = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "integration"))
from policy import pcap_split, pcap_client_ports
cap = os.path.join(src, "tests", "fixtures", "tls-blocked-then-plain.client-side.pcap")
ports = pcap_client_ports(cap)
assert len(ports) == 2, f"{cap}: {len(ports)} sessions"
for i, port in enumerate(ports, 1):
    assert pcap_split(cap, os.path.join(work, f"tb{i}.pcap"), port) > 0
PY
# A's failure moved to now (editcap -t: seconds added to every packet's time).
first=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(32); print(struct.unpack("<I", d[24:28])[0])' "$work/tb1.pcap")
editcap -t "$(($(date +%s) - first))" "$work/tb1.pcap" "$work/tb1-now.pcap" >/dev/null ||
	{ echo "FAIL: editcap"; exit 1; }

span_namespace tlsobs-fleet
in_ns() { ip netns exec "$NS" "$@"; }

# wait_for FILE REGEX SECONDS: until the sensor's stderr says it (or it ended); 0 when it did.
wait_for() {
	for _ in $(seq $(($3 * 10))); do
		grep -Eq "$2" "$1" && return 0
		kill -0 "$SENSOR_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
shared() { echo --set detection.history.shared=true --set kafka.topic_prefix=late.; }

mock_start ip netns exec "$NS"
K="kafka:$MOCK_BOOTSTRAP"
echo "== 1. A shares its failed handshake"
in_ns timeout 120 "$TLSOBS" -r "$work/tb1-now.pcap" -o "$K" -o "json:$work/A.json" --set "kafka.spool.dir=$work/spool-A" \
	--set sensor.name=span-a $(shared) --set detection.history.startup_timeout=10s 2>"$work/A.err"
status=$?
failed=$(q "$work/A.json" '[s["tlsobs"]["session_id"] for s in sessions if "tls_handshake_failed" in s["tlsobs"].get("alerts", [])]')
published_a=$(q "$work/A.json" 'stats["history_shared"]["published"]')
check "A exits 0 with a failed handshake ($failed) and published it ($published_a updates)" \
	'[ "$status" -eq 0 ] && [ "$failed" != "[]" ] && [ "$published_a" -gt 0 ]'

echo "== 2. brokers down: B starts on its local history"
mock_cmd "down all"
ip netns exec "$NS" "$TLSOBS" -i span0 -o "$K" -o "json:$work/B.json" --set "kafka.spool.dir=$work/spool-B" --set sensor.name=span-b \
	$(shared) --set detection.history.startup_timeout=2s --set kafka.shutdown_timeout_ms=20000 2>"$work/B.err" &
SENSOR_PID=$!
check "B's start-up read gives up and says it goes on with the local history" \
	'wait_for "$work/B.err" "late.history not read after [0-9]+ ms: .*retried in the background" 60'
check "its reader's set-up fails while the brokers are down, and is retried" \
	'wait_for "$work/B.err" "late.history: the reader could not set up its consumer: .*retried" 90'

# A reload (SIGHUP) while the reader retries: the feed is not re-created, its thread goes on.
kill -HUP "$SENSOR_PID"
sleep 1

echo "== 3. brokers back: B joins"
mock_cmd "up all"
check "B's reader connects (after failed attempts) and reads the topic to its end" \
	'wait_for "$work/B.err" "late.history: the brokers answer after [1-9][0-9]* failed attempts" 120 &&
	 wait_for "$work/B.err" "late.history read to its end, after the start: [1-9][0-9]* updates read" 60'

echo "== 4. the clear-text retry reaches B"
sleep 1
in_ns tcpreplay -q -i replay0 --topspeed "$work/tb2.pcap" >/dev/null 2>&1
for _ in $(seq 200); do
	grep -q '"cleartext_fallback"' "$work/B.json" 2>/dev/null && break
	sleep 0.1
done
sleep 0.5
kill -TERM "$SENSOR_PID"
wait "$SENSOR_PID"
status=$?
SENSOR_PID=
check "SIGTERM ends B cleanly, its reader thread with it (exit $status)" '[ "$status" -eq 0 ]'
check "B raises cleartext_fallback once, naming A's failed session" \
	'[ "$(q "$work/B.json" "[a[\"tlsobs\"][\"related_session_id\"] for a in alerts(\"cleartext_fallback\")]")" = "$failed" ]'
check "B's stats: start-up read incomplete, reader connected after failed attempts, A's updates merged" \
	'[ "$(q "$work/B.json" "stats[\"history_shared\"][\"startup\"][\"complete\"], stats[\"history_shared\"][\"consumer_connected\"], stats[\"history_shared\"][\"consumer_retries\"] > 0, stats[\"history_shared\"][\"merged\"] >= $published_a")" = "(False, True, True, True)" ]'
check "the exit summary says the reader connected, and the reload during the retries" \
	'grep -Eq "^tlsobs: shared history late.history: .*reader connected after [1-9][0-9]* failed attempts" "$work/B.err" &&
	 grep -q "^tlsobs: configuration reloaded 1 times" "$work/B.err"'
mock_stop

if [ "$fail" -ne 0 ]; then
	for f in "$work"/*.err; do echo "--- $f"; grep -v "^tlsobs: \(nDPI\|flows\|skipped\|decode\|files\)" "$f" | head -30; done
fi
exit "$fail"
