# kafka_lib.sh: shared by the Kafka integration tests (sourced, not run).
#
# The cluster is tests/kafka/kafka_mock_cluster: librdkafka's wire-protocol mock on loopback, which tlsobs and
# kcat reach over TCP like any cluster. Its stdin is a fifo held open on fd 7 so that commands can be sent
# while it runs; every command is answered with one line.
#
#   mock_start [ip netns exec NS]   starts it (optionally inside a namespace), sets MOCK_BOOTSTRAP
#   mock_cmd "down all"             sends a command, waits for its "ok"
#   mock_stop                       ends it
#   free_port                       a loopback port nobody listens on
#   check_topics ...                tests/kafka/check_topics.py (read back with kcat, compare)
#   span_namespace PREFIX           a network namespace (NS) for a live sensor beside the cluster: lo up, and
#                                   the veth pair replay0 -> span0 to replay captures into
: "${TLSOBS:?}" "${TLSOBS_SOURCE_DIR:?}"
KAFKA_MOCK_CLUSTER=${KAFKA_MOCK_CLUSTER:-${TLSOBS_BUILD_DIR:-$(dirname "$TLSOBS")}/tests/kafka_mock_cluster}
command -v kcat >/dev/null || { echo "skip: kcat missing"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
[ -x "$KAFKA_MOCK_CLUSTER" ] || { echo "FAIL: no mock cluster at $KAFKA_MOCK_CLUSTER (build target kafka_mock_cluster)"; exit 1; }

work=$(mktemp -d)
MOCK_PID=
fail=0

kafka_cleanup() {
	[ -n "${SENSOR_PID:-}" ] && kill -KILL "$SENSOR_PID" 2>/dev/null
	[ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null
	exec 7>&- 2>/dev/null
	[ -n "${NS:-}" ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$work"
	return 0
}
trap kafka_cleanup EXIT

check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

span_namespace() {
	NS=$1-$$
	ip netns add "$NS" 2>/dev/null || { NS=; echo "skip: cannot create a network namespace here"; exit 77; }
	ip -n "$NS" link set lo up
	# librdkafka resolves with AI_ADDRCONFIG, which wants one non-loopback address configured: a test address on lo.
	ip -n "$NS" addr add 192.0.2.1/32 dev lo
	ip -n "$NS" link add replay0 type veth peer name span0
	ip -n "$NS" link set replay0 up
	ip -n "$NS" link set span0 up
}

mock_start() {
	rm -f "$work/mock.in"
	mkfifo "$work/mock.in"
	: >"$work/mock.out"
	"$@" "$KAFKA_MOCK_CLUSTER" -b 3 <"$work/mock.in" >"$work/mock.out" 2>>"$work/mock.err" &
	MOCK_PID=$!
	exec 7>"$work/mock.in"
	MOCK_LINES=1
	for _ in $(seq 100); do
		[ -s "$work/mock.out" ] && break
		sleep 0.1
	done
	MOCK_BOOTSTRAP=$(head -n 1 "$work/mock.out")
	[ -n "$MOCK_BOOTSTRAP" ] || { echo "FAIL: the mock cluster did not start"; cat "$work/mock.err"; exit 1; }
}

mock_cmd() {
	echo "$1" >&7
	MOCK_LINES=$((MOCK_LINES + 1))
	for _ in $(seq 100); do
		[ "$(wc -l <"$work/mock.out")" -ge "$MOCK_LINES" ] && break
		sleep 0.05
	done
	[ "$(sed -n "${MOCK_LINES}p" "$work/mock.out")" = ok ] || { echo "FAIL: mock: $1: $(tail -n 1 "$work/mock.out")"; fail=1; }
}

mock_stop() {
	[ -n "$MOCK_PID" ] || return 0
	echo quit >&7 2>/dev/null
	exec 7>&-
	for _ in $(seq 50); do kill -0 "$MOCK_PID" 2>/dev/null || break; sleep 0.1; done
	kill "$MOCK_PID" 2>/dev/null
	wait "$MOCK_PID" 2>/dev/null
	MOCK_PID=
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

check_topics() { python3 "$TLSOBS_SOURCE_DIR/tests/kafka/check_topics.py" "$@"; }

# q FILE EXPR: evaluates a python expression over the events of a JSON output (`ev`: the list; `alerts(rule)`,
# `sessions`, `stats`: the last tlsobs.stats event's tlsobs.stats) and prints it.
q() {
	python3 - "$1" "$2" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ds = lambda e: e.get("event", {}).get("dataset")
alerts = lambda rule: [e for e in ev if ds(e) == "tlsobs.alert" and e["rule"]["name"] == rule]
sessions = [e for e in ev if ds(e) == "tlsobs.session"]
st = [e for e in ev if ds(e) == "tlsobs.stats"]
stats = st[-1]["tlsobs"]["stats"] if st else {}
print(eval(sys.argv[2]))
PY
}

# The number in "tlsobs: kafka <topic>: ... N <what>" summed over the topics of a summary.
summary_sum() {
	grep -o "^tlsobs: kafka [^ ]*: .*" "$1" | grep -v "kafka spool" | grep -o "[0-9]* $2" | awk '{n += $1} END {print n + 0}'
}

# Every topic line of a summary satisfies produced = delivered + spooled + dropped + in flight.
summary_reconciles() {
	grep "^tlsobs: kafka [^ ]*: [0-9]* produced" "$1" | awk '{
		for (i = 1; i <= NF; i++) v[$(i + 1)] = $i
		if (v["produced,"] != v["delivered,"] + v["spooled,"] + v["dropped,"] + v["in"]) bad = 1
		n++
	} END { exit (n == 5 && !bad) ? 0 : 1 }' # one line per topic: session, alert, certificate, stats, policy
}

# An empty capture file (pcap global header only): the sensor starts, serves its spool, and ends.
empty_pcap() {
	python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))' >"$1"
}
